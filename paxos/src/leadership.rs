//! Leadership (phase 1): the failure detector, phase 1 for every slot at once, the
//! acceptor's promise, adoption of the values promises report, hole filling, and preemption;
//! leader stickiness (a pre-prepare round, and the leader's quorum check), the counterparts
//! of Raft's PreVote and CheckQuorum. The rules, each with the section it comes from, are
//! tabled in the crate root.
//!
//! Unlike Raft (§5.4.1), any node may become leader, however far behind its log is: phase 1
//! brings it every accepted value it lacks. That is the difference the workbench studies.

use crate::durable::Record;
use crate::msg::{Message, PROMISE_MAX_SLOTS, PrePromise, Prepare, Promise, PromisedSlot};
use crate::node::{
    CandidateState, LeaderState, MAX_NODE_ID, PaxosNode, PreCandidateState, Report, RoleState,
};
use replog::rng::RngExt;
use replog::{Command, Epoch, LogIndex, Nanos, NodeId};
use std::collections::{BTreeMap, BTreeSet};

impl Report {
    /// Folds another acceptor's report for the same slot into this one: a value known chosen
    /// wins, then the highest ballot. Reference: Paxos Made Simple §2.2 ("v is the value of
    /// the highest-numbered proposal among the responses").
    fn merge(&mut self, slot: LogIndex, other: Report) {
        if self.chosen {
            assert!(
                !other.chosen || other.cmd == self.cmd,
                "agreement violated at slot {slot}: promises report {:?} and {:?} both chosen",
                self.cmd,
                other.cmd
            );
            return;
        }
        if other.chosen || other.ballot > self.ballot {
            *self = other;
        } else if other.ballot == self.ballot {
            assert!(
                other.cmd == self.cmd,
                "slot {slot}: two values accepted at ballot {:?}",
                self.ballot
            );
        }
    }
}

impl PaxosNode {
    /// Draws a fresh randomized suspicion timeout in `[election_timeout_min_ns,
    /// election_timeout_max_ns]`, from the node's seed; equal bounds give a fixed timeout
    /// (and make duelling possible). Drawn at boot, on each change of role and for each new
    /// candidacy, and kept while the node follows one leader: the timer policy Raft's
    /// `randomize_election_timeout` follows too.
    /// Reference: Paxos Made Simple §2.4 (randomness or timeouts elect a distinguished
    /// proposer); Raft §5.2 draws its election timeout the same way.
    pub(crate) fn randomize_suspicion_timeout(&mut self) {
        let (min_ns, max_ns) = (self.cfg.election_timeout_min_ns, self.cfg.election_timeout_max_ns);
        self.suspicion_timeout_ns = self.rng.random_range(min_ns..=max_ns.max(min_ns));
    }

    /// Restarts the failure detector: suspect the leader if nothing arrives from it for the
    /// drawn timeout. Called on hearing from the current leader, on promising a new ballot,
    /// on starting a (pre-)candidacy, and as the backoff after preemption.
    /// (`ablation.paxos_redraw_timeout_on_reset` redraws here every time, as before the
    /// timer policy was shared.) Reference: Howard & Mortier, "Paxos vs Raft" §3 (leader
    /// failure detection).
    pub(crate) fn reset_suspicion_timer(&mut self, now_ns: Nanos) {
        if self.cfg.ablation.paxos_redraw_timeout_on_reset {
            self.randomize_suspicion_timeout();
        }
        self.suspicion_deadline_ns = now_ns + self.suspicion_timeout_ns;
    }

    /// The failure detector suspects the leader (or a candidacy timed out): with `pre_vote`
    /// a pre-prepare round first, else phase 1 at once. Reference: Howard & Mortier §3;
    /// Raft thesis §9.6 (PreVote, of which the pre-prepare round is the counterpart).
    pub(crate) fn on_suspicion_timeout(&mut self, now_ns: Nanos) {
        if self.cfg.pre_vote {
            self.start_pre_prepare(now_ns);
        } else {
            self.start_phase1(now_ns);
        }
    }

    /// Asks every acceptor whether it would promise the ballot phase 1 would use now,
    /// without promising anything or writing anything: a node that cannot succeed (cut off
    /// from the leader alone, or unable to reach a majority) then never raises the
    /// acceptors' promises and never preempts a working leader. The counterpart of Raft's
    /// PreVote. Reference: Raft thesis §9.6, applied alike to multi-Paxos.
    pub(crate) fn start_pre_prepare(&mut self, now_ns: Nanos) {
        let round = self.promised.round.max(self.max_round_seen) + 1;
        let ballot = Epoch::ballot(round, self.id);
        self.role = RoleState::PreCandidate(PreCandidateState {
            ballot,
            granted_by: Self::bit(self.id),
        });
        self.leader_hint = None;
        self.randomize_suspicion_timeout();
        self.reset_suspicion_timer(now_ns);
        let from_slot = self.log.chosen_upto() + 1;
        tracing::debug!(node = %self.id, %ballot, "pre-candidate: pre-prepare");
        for peer in self.peers.clone() {
            self.send(peer, Message::PrePrepare(Prepare { ballot, from_slot }), None);
        }
        self.check_pre_prepare_quorum(now_ns);
    }

    /// Pre-prepare, the acceptor: would it promise `m.ballot` now? Yes if the ballot is above
    /// its promise and it has not heard from a live leader within the minimum timeout (a
    /// leader is alive to itself). Changes nothing and needs no write. Unlike Raft's
    /// PreVote there is no log condition: any node may lead multi-Paxos (phase 1 brings it
    /// what it lacks). Reference: Raft thesis §9.6, applied alike.
    pub(crate) fn handle_pre_prepare(&mut self, now_ns: Nanos, from: NodeId, m: Prepare) {
        let leader_alive =
            matches!(self.role, RoleState::Leader(_)) || self.heard_from_leader_recently(now_ns);
        let granted = !leader_alive && m.ballot > self.promised;
        let answer = PrePromise {
            ballot: m.ballot,
            granted,
            promised: self.promised,
        };
        self.send(from, Message::PrePromise(answer), None);
    }

    /// A pre-candidate counts a grant for the ballot it asked about; refusals leave it
    /// waiting for its timeout. Reference: Raft thesis §9.6, applied alike.
    pub(crate) fn handle_pre_promise(&mut self, now_ns: Nanos, from: NodeId, m: PrePromise) {
        let RoleState::PreCandidate(p) = &mut self.role else {
            return;
        };
        if m.granted && m.ballot == p.ballot {
            p.granted_by |= Self::bit(from);
            self.check_pre_prepare_quorum(now_ns);
        }
    }

    /// A majority (this node included) would promise: phase 1 starts for real.
    /// Reference: Raft thesis §9.6, applied alike.
    fn check_pre_prepare_quorum(&mut self, now_ns: Nanos) {
        if let RoleState::PreCandidate(p) = &self.role
            && p.granted_by.count_ones() as usize >= self.majority()
        {
            self.start_phase1(now_ns);
        }
    }

    /// Phase 1(a): choose a ballot higher than any seen, promise it to ourselves (durably,
    /// before any prepare leaves, so a restart can never reuse it), and send a prepare for
    /// every slot from the first unchosen one. The failure detector calls this when it
    /// suspects the leader, and a candidate calls it again when its phase 1 times out.
    /// Public so that tests and explorers can start a candidacy at a chosen moment.
    /// Reference: Paxos Made Simple §2.2 phase 1(a), §3 ("phase 1 for infinitely many
    /// instances"); Howard & Mortier §3.
    pub fn start_phase1(&mut self, now_ns: Nanos) {
        let round = self.promised.round.max(self.max_round_seen) + 1;
        let ballot = Epoch::ballot(round, self.id);
        self.set_promised(ballot);
        let promise_seq = self.persist(vec![Record::Promised { ballot }]);
        let from_slot = self.log.chosen_upto() + 1;
        self.role = RoleState::Candidate(CandidateState {
            ballot,
            from_slot,
            promise_seq,
            promised_by: 0,
            parts_received: vec![BTreeSet::new(); MAX_NODE_ID as usize],
            reports: BTreeMap::new(),
            peer_chosen: vec![None; MAX_NODE_ID as usize],
        });
        self.leader_hint = None;
        self.leader_heard_ns = None;
        self.randomize_suspicion_timeout();
        self.reset_suspicion_timer(now_ns);
        tracing::debug!(node = %self.id, %ballot, from_slot, "candidate: phase 1");
        for peer in self.peers.clone() {
            self.send(
                peer,
                Message::Prepare(Prepare { ballot, from_slot }),
                Some(promise_seq),
            );
        }
        self.on_own_promise_durable(now_ns);
    }

    /// Phase 1(b), the acceptor: promise a ballot at least as high as any promised before
    /// (durably, before answering), reporting every value accepted from `from_slot` on and
    /// which of them are known chosen, in parts of at most [`PROMISE_MAX_SLOTS`] values.
    /// (A lower ballot never gets here: `reject_stale` in `step` turns it down.) A promise to
    /// a new ballot restarts the failure detector: someone is taking over (a pre-candidate
    /// gives up its own round for it, as Raft's does on granting a vote).
    /// Reference: Paxos Made Simple §2.2 phase 1(b), §3.
    pub(crate) fn handle_prepare(&mut self, now_ns: Nanos, from: NodeId, m: Prepare) {
        debug_assert!(m.ballot >= self.promised, "stale prepares are rejected in step");
        if m.ballot > self.promised {
            self.set_promised(m.ballot);
            self.persist(vec![Record::Promised { ballot: m.ballot }]);
            if matches!(self.role, RoleState::PreCandidate(_)) {
                self.become_follower(now_ns, m.ballot);
            } else {
                self.leader_hint = None;
                self.leader_heard_ns = None;
                self.reset_suspicion_timer(now_ns);
            }
        }
        let chosen_upto = self.log.chosen_upto();
        let durable_chosen_upto = self.durable_chosen_upto();
        let accepted: Vec<PromisedSlot> = self
            .log
            .entries_from(m.from_slot)
            .map(|(slot, e)| PromisedSlot {
                slot,
                ballot: e.ballot,
                chosen: e.chosen || slot <= chosen_upto,
                cmd: e.cmd.clone(),
            })
            .collect();
        let after = self.durability_barrier();
        let parts = accepted.len().div_ceil(PROMISE_MAX_SLOTS).max(1);
        let mut accepted = accepted.into_iter();
        for part in 1..=parts {
            let promise = Promise {
                ballot: m.ballot,
                chosen_upto: durable_chosen_upto,
                accepted: accepted.by_ref().take(PROMISE_MAX_SLOTS).collect(),
                part: part as u32,
                parts: parts as u32,
                // The snapshot, when there is one to report, travels in the first part.
                snapshot: if part > 1 || self.cfg.bugs.paxos_promise_without_snapshot {
                    None
                } else {
                    self.promised_snapshot(m.from_slot)
                },
            };
            self.send(from, Message::Promise(promise), after);
        }
    }

    /// The candidate's own promise became durable: it counts toward the quorum, so that a
    /// crash can never make this node reuse its ballot. Reference: Paxos Made Simple §2.5.
    pub(crate) fn on_own_promise_durable(&mut self, now_ns: Nanos) {
        let durable = self.durable_seq;
        let id = self.id;
        if let RoleState::Candidate(c) = &mut self.role
            && c.promise_seq <= durable
        {
            c.promised_by |= Self::bit(id);
        }
        self.check_phase1_quorum(now_ns);
    }

    /// A part of a promise for the current candidacy: adopt the acceptor's snapshot if it
    /// reports one, fold its reports in (the adoption rule, `Report::merge`); once every
    /// part of the acceptor's promise is in, it counts, and a majority completes phase 1.
    /// Reference: Paxos Made Simple §2.2 phase 2(a).
    pub(crate) fn handle_promise(&mut self, now_ns: Nanos, from: NodeId, mut m: Promise) {
        let current = matches!(&self.role, RoleState::Candidate(c)
            if m.ballot == c.ballot
                && m.part >= 1
                && m.part <= m.parts
                && !c.parts_received[from.index()].contains(&m.part));
        if current && let Some(s) = m.snapshot.take() {
            self.adopt_promised_snapshot(s);
        }
        let RoleState::Candidate(c) = &mut self.role else {
            return;
        };
        let received = &mut c.parts_received[from.index()];
        if m.ballot != c.ballot || m.part == 0 || m.part > m.parts || !received.insert(m.part) {
            return; // stale, malformed or duplicate
        }
        if received.len() == m.parts as usize {
            c.promised_by |= Self::bit(from);
        }
        c.peer_chosen[from.index()] = Some(m.chosen_upto);
        for p in m.accepted {
            let report = Report {
                ballot: p.ballot,
                chosen: p.chosen,
                cmd: p.cmd,
            };
            match c.reports.get_mut(&p.slot) {
                Some(r) => r.merge(p.slot, report),
                None => {
                    c.reports.insert(p.slot, report);
                }
            }
        }
        self.check_phase1_quorum(now_ns);
    }

    /// Phase 1 completes once a majority (the candidate's own durable promise included)
    /// promised. Reference: Paxos Made Simple §2.2 phase 2(a).
    fn check_phase1_quorum(&mut self, now_ns: Nanos) {
        let majority = self.majority();
        if let RoleState::Candidate(c) = &self.role
            && c.promised_by.count_ones() as usize >= majority
        {
            self.become_leader(now_ns);
        }
    }

    /// Phase 1 is complete: a majority promised. For every slot from the first unchosen one
    /// to the highest any promise reported, propose at the new ballot the value known chosen,
    /// else the value of the highest ballot reported, else a no-op (a hole no acceptor of
    /// the quorum accepted anything in, so nothing can have been chosen there). New commands
    /// go after all of them. Reference: Paxos Made Simple §2.2 phase 2(a), §3 (no-ops for the
    /// gaps); Howard & Mortier §3.
    ///
    /// `bugs.paxos_ignore_promised_values` skips the adoption: every slot not already known
    /// chosen here gets a no-op (deliberately unsafe, for showing the checker catches it).
    pub(crate) fn become_leader(&mut self, now_ns: Nanos) {
        let RoleState::Candidate(mut c) = std::mem::replace(&mut self.role, RoleState::Follower) else {
            unreachable!("only a candidate completes phase 1");
        };
        let ballot = c.ballot;
        // The candidate's own acceptor promised too: its values count like any other report.
        let chosen_upto = self.log.chosen_upto();
        for (slot, e) in self.log.entries_from(c.from_slot) {
            let report = Report {
                ballot: e.ballot,
                chosen: e.chosen || slot <= chosen_upto,
                cmd: e.cmd.clone(),
            };
            match c.reports.get_mut(&slot) {
                Some(r) => r.merge(slot, report),
                None => {
                    c.reports.insert(slot, report);
                }
            }
        }
        let first = chosen_upto + 1;
        let last = c
            .reports
            .last_key_value()
            .map_or(0, |(&s, _)| s)
            .max(self.log.last_slot());
        let ignore_reports = self.cfg.bugs.paxos_ignore_promised_values;
        for slot in first..=last {
            if self.log.is_chosen(slot) {
                continue;
            }
            match c.reports.remove(&slot) {
                Some(r) if !ignore_reports && r.chosen => self.log.learn(slot, r.cmd),
                Some(r) if !ignore_reports => self.log.accept(slot, ballot, r.cmd),
                _ => self.log.accept(slot, ballot, Command::Noop),
            }
        }
        self.log.advance_chosen();
        // The leader's acceptor accepts its own proposals; the write runs in parallel with
        // sending them, and the leader counts itself once it is durable.
        let own_accept = (first <= last).then(|| {
            let cmds = self.log.cmds(first, last);
            let seq = self.persist(vec![Record::Accepted {
                ballot,
                first_slot: first,
                cmds,
            }]);
            (seq, last)
        });
        let leader = LeaderState::new(
            ballot,
            now_ns,
            &self.log,
            first - 1,
            own_accept,
            &self.peers,
            &c.peer_chosen,
            self.cfg.max_inflight_msgs.max(1),
        );
        self.role = RoleState::Leader(Box::new(leader));
        self.leader_hint = Some(self.id);
        tracing::debug!(node = %self.id, %ballot, first, last, "leader: phase 1 complete");
        self.advance_and_apply();
        self.start_leader_reads(now_ns, last);
        self.on_own_accepts_durable(now_ns);
        self.heartbeat(now_ns);
    }

    /// Every message reveals a ballot; a proposer that sees one above its own has been
    /// preempted and steps down. Reference: Paxos Made Simple §2.2 (a proposer abandons a
    /// proposal once some proposer has begun a higher-numbered one).
    pub(crate) fn observe_ballot(&mut self, now_ns: Nanos, ballot: Epoch) {
        self.max_round_seen = self.max_round_seen.max(ballot.round);
        if let Some(own) = self.own_ballot()
            && ballot > own
        {
            self.become_follower(now_ns, ballot);
        }
    }

    /// A preempted (pre-)candidate or leader becomes a follower and backs off for a freshly
    /// drawn randomized timeout before it may try again (fixed when the timeout range is a
    /// point, which lets two proposers duel forever). A leader that fails its quorum check
    /// steps down the same way, `seen` being its own ballot. Reference: Paxos Made Simple
    /// §2.4 (progress needs a distinguished proposer; FLP says it cannot be guaranteed).
    pub(crate) fn become_follower(&mut self, now_ns: Nanos, seen: Epoch) {
        let was = match self.role {
            RoleState::Leader(_) => "leader",
            RoleState::Candidate(_) => "candidate",
            RoleState::PreCandidate(_) => "pre-candidate",
            RoleState::Follower => return,
        };
        self.role = RoleState::Follower;
        self.leader_hint = None;
        self.leader_heard_ns = None;
        self.randomize_suspicion_timeout();
        self.reset_suspicion_timer(now_ns);
        self.abort_reads();
        tracing::debug!(node = %self.id, was, %seen, "following");
    }

    /// The leader's quorum check (with `check_quorum`): whether a majority, this node
    /// included, answered within the minimum timeout. The counterpart of Raft's CheckQuorum.
    /// Reference: Raft thesis §6.2, applied alike.
    pub(crate) fn quorum_recently_active(&self, now_ns: Nanos) -> bool {
        let RoleState::Leader(l) = &self.role else {
            return false;
        };
        let window_ns = self.cfg.election_timeout_min_ns;
        let active = 1 + self
            .peers
            .iter()
            .filter(|p| l.progress[p.index()].last_heard_ns + window_ns > now_ns)
            .count();
        active >= self.majority()
    }

    /// Whether this node heard from the leader it follows within the minimum timeout.
    pub(crate) fn heard_from_leader_recently(&self, now_ns: Nanos) -> bool {
        self.leader_heard_ns
            .is_some_and(|heard_ns| heard_ns + self.cfg.election_timeout_min_ns > now_ns)
    }

    /// The followers' half of the quorum check (as Raft's CheckQuorum, as etcd): while a
    /// leader is known alive, requests to elect another are ignored, so a node cut off from
    /// the leader alone cannot preempt it. Reference: Raft thesis §6.2, §4.2.3, applied alike.
    pub(crate) fn in_lease(&self, now_ns: Nanos) -> bool {
        self.cfg.check_quorum
            && (matches!(self.role, RoleState::Leader(_))
                || (self.leader_hint.is_some() && self.heard_from_leader_recently(now_ns)))
    }
}
