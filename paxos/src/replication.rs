//! Replication (phase 2 under a stable leader): batching and pipelining, the acceptor's
//! accept, the detection of chosen slots, commit notices, catch-up of lagging learners, and
//! gap detection. The rules, each with the section it comes from, are tabled in the crate
//! root; the per-follower window is in [`crate::progress`].
//!
//! The leader streams to each follower from its `next_slot`; slots the follower should
//! already know to be chosen go as `Learn`, the rest as `Accept`, skipping slots it has
//! acknowledged at this ballot.
//!
//! Cumulative acknowledgements. An acceptor answers only once everything it holds is
//! durable, and an `Accepted` (or `Learned`) without a gap report says it holds every slot
//! up to the message's last one, accepted at this ballot or known chosen (with a gap report
//! at slot g, every slot below g). So one answer acknowledges everything up to there, as
//! Raft's success does up to its index: a lost answer costs nothing once a later one
//! arrives (`handle_accepted`, `Progress::on_answer`).
//!
//! Gap detection. The heartbeat rule alone notices a lost message only after a heartbeat
//! interval, and since learners apply slots in order, everything behind the lost slot waits
//! that long. Raft notices within one round trip: the next AppendEntries fails the
//! consistency check and the follower rejects it with a hint. The same information exists in
//! Paxos, so for fairness with Raft it is used the same way: an acceptor that receives an
//! `Accept` or `Learn` whose first slot lies beyond a slot it lacks (above its chosen prefix,
//! no value accepted at the message's ballot, not known chosen) reports the first such slot
//! in its answer (`missing_from`, computed by `PaxosNode::first_missing`). The leader
//! (`PaxosNode::rewind_to_gap`) then does what Raft does on a rejection: it rewinds
//! `next_slot` to the missing slot, drops the window's messages at or after it, probes with
//! one message and resends at once. Resends stay bounded under duplication and reordering: a
//! report counts only if it answers a message still in the window (a duplicate answer, or one
//! to a message sent before the last rewind, finds nothing there), only if the slot is not
//! already acknowledged by that follower or known to be chosen by it, and only if it lies
//! above every slot the leader already rewound to for that follower at this ballot. So each
//! missing slot causes at most one early resend per follower and ballot; a resend that is
//! itself lost is recovered by the heartbeat rule, as before.

use crate::durable::Record;
use crate::msg::{Accept, Accepted, Heartbeat, HeartbeatReply, Learn, Learned, Message};
use crate::node::{PaxosNode, RoleState};
use crate::progress::ProgressState;
use replog::{Command, Epoch, LogIndex, Nanos, NodeId};

impl PaxosNode {
    /// A client command takes the next slot; the leader's acceptor accepts it at the
    /// leader's ballot (the write is issued when the batch is released).
    /// Reference: Paxos Made Simple §3 ("the leader ... assigns it the next command number").
    pub(crate) fn leader_append(&mut self, cmd: Command) {
        let slot = self.log.last_slot() + 1;
        let l = self.leader_state();
        let ballot = l.ballot;
        l.acks.push_back(0);
        self.log.accept(slot, ballot, cmd);
    }

    /// After a proposal: release the held proposals now (`batch_delay_ns == 0`, or a full
    /// batch is waiting), else make sure a deadline will release them. Otherwise commands
    /// go out at once, and batches form only from commands that arrive while a follower's
    /// window is full. Reference: the shared batching knobs (as Raft's `release_or_hold`).
    pub(crate) fn release_or_hold(&mut self, now_ns: Nanos) {
        let last = self.log.last_slot();
        let (max_batch, delay_ns) = (self.cfg.max_batch_entries as u64, self.cfg.batch_delay_ns);
        let l = self.leader_state();
        let held = last - l.released_upto;
        if delay_ns == 0 || held >= max_batch {
            self.release_batch(now_ns);
        } else if l.batch_deadline_ns.is_none() {
            l.batch_deadline_ns = Some(now_ns + delay_ns);
        }
    }

    /// Makes every held proposal sendable: the leader's acceptor accepts them (the write runs
    /// in parallel with the sends) and each follower's window takes what it can.
    /// Reference: Raft §10.2.1 (the leader's parallel write), applied alike to Paxos.
    pub(crate) fn release_batch(&mut self, now_ns: Nanos) {
        let last = self.log.last_slot();
        let l = self.leader_state();
        l.batch_deadline_ns = None;
        let (first, ballot) = (l.released_upto + 1, l.ballot);
        if first > last {
            return;
        }
        l.released_upto = last;
        let cmds = self.log.cmds(first, last);
        let seq = self.persist(vec![Record::Accepted {
            ballot,
            first_slot: first,
            cmds,
        }]);
        self.leader_state().own_accepts.push_back((seq, last));
        if self.cfg.bugs.ack_before_quorum {
            // Deliberately unsafe: "chosen" before any acceptor but the leader has it.
            for slot in first..=last {
                self.log.mark_chosen(slot);
            }
            self.advance_and_apply();
        }
        for peer in self.peers.clone() {
            self.send_accepts(peer, now_ns);
        }
    }

    /// Fills `peer`'s window: `Learn` for slots below the leader's chosen prefix that the
    /// follower may lack, `Accept` for released slots it has not acknowledged, at most
    /// `max_batch_entries` slots per message and `max_inflight_msgs` messages outstanding
    /// (one while probing). Reference: Paxos Made Simple §2.2 phase 2(a), §2.3, §3; the
    /// shared batching and pipelining knobs (as Raft's `send_append_entries`).
    pub(crate) fn send_accepts(&mut self, peer: NodeId, now_ns: Nanos) {
        let max_batch = self.cfg.max_batch_entries.max(1) as u64;
        let chosen = self.log.chosen_upto();
        let compacted = self.log.snapshot_upto();
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        loop {
            let p = &l.progress[peer.index()];
            if p.is_paused() {
                return;
            }
            let mut first = p.first_unsent();
            if first <= compacted {
                // The values are gone: the follower gets the snapshot instead.
                self.send_snapshot_chunk(peer, now_ns);
                return;
            }
            let msg = if first <= chosen {
                let last = chosen.min(first + max_batch - 1);
                Message::Learn(Learn {
                    ballot: l.ballot,
                    first_slot: first,
                    cmds: self.log.cmds(first, last),
                })
            } else {
                while first <= l.released_upto && l.acked(peer, first) {
                    first += 1;
                }
                if first > l.released_upto {
                    l.progress[peer.index()].next_slot = first;
                    return;
                }
                let last = l.released_upto.min(first + max_batch - 1);
                Message::Accept(Accept {
                    ballot: l.ballot,
                    first_slot: first,
                    cmds: self.log.cmds(first, last),
                    chosen_upto: chosen,
                })
            };
            let (first, last) = match &msg {
                Message::Learn(m) => (m.first_slot, m.first_slot + m.cmds.len() as u64 - 1),
                Message::Accept(m) => (m.first_slot, m.first_slot + m.cmds.len() as u64 - 1),
                _ => unreachable!(),
            };
            l.progress[peer.index()].on_sent(first, last, now_ns);
            self.actions.push(replog::Action::Send {
                to: peer,
                msg,
                after: None,
            });
        }
    }

    /// Every heartbeat interval: the quorum check (with `check_quorum`), then tell each
    /// follower the leader is alive and how far the log is chosen, resend what may have been
    /// lost (`recover_lost`), and write a chosen mark if one is due.
    /// Reference: Howard & Mortier §3 (heartbeats); Raft thesis §6.2, applied alike.
    pub(crate) fn heartbeat(&mut self, now_ns: Nanos) {
        let heartbeat_interval_ns = self.cfg.heartbeat_interval_ns;
        if self.cfg.check_quorum && !self.quorum_recently_active(now_ns) {
            let ballot = self.leader_state().ballot;
            tracing::debug!(node = %self.id, %ballot, "quorum check failed: stepping down");
            self.become_follower(now_ns, ballot);
            return;
        }
        let chosen = self.log.chosen_upto();
        let l = self.leader_state();
        l.heartbeat_deadline_ns = now_ns + heartbeat_interval_ns;
        l.heartbeat_upto = chosen;
        let ballot = l.ballot;
        for peer in self.peers.clone() {
            self.recover_lost(peer, now_ns, chosen);
            self.send(
                peer,
                Message::Heartbeat(Heartbeat {
                    ballot,
                    chosen_upto: chosen,
                }),
                None,
            );
            self.send_accepts(peer, now_ns);
        }
        self.flush_chosen_mark();
        self.renew_lease(now_ns);
    }

    /// Once per heartbeat, what the leader resends to `peer` in case messages were lost, as
    /// Raft's leader does at its heartbeat: an outstanding probe goes out again (Raft
    /// unpauses its probe every heartbeat), and so does a reported gap that no answer has
    /// shown filled (its resend may have been lost; an acceptor keeps taking later slots
    /// meanwhile, so the leader keeps streaming rather than probing); a window whose oldest
    /// message went unanswered for a whole interval is presumed lost and restarts from the
    /// last acknowledged slot, whole if the follower is answering (heard within the minimum
    /// timeout), else as a probe. `ablation.paxos_probe_after_stall` restores the rule from
    /// before it was shared with Raft: nothing is resent before the window stalls, and then
    /// one message at a time from the follower's chosen prefix.
    /// Reference: Raft §5.3 and its heartbeat (Figure 2, leaders), applied alike; the shared
    /// `heartbeat_interval_ns`.
    fn recover_lost(&mut self, peer: NodeId, now_ns: Nanos, chosen: LogIndex) {
        let interval_ns = self.cfg.heartbeat_interval_ns;
        let answer_window_ns = self.cfg.election_timeout_min_ns;
        let probe_after_stall = self.cfg.ablation.paxos_probe_after_stall;
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        let unfilled_gap = l.progress[peer.index()]
            .unfilled_gap()
            .filter(|&gap| !l.acked(peer, gap));
        let p = &mut l.progress[peer.index()];
        let stalled = p.window_stalled(now_ns, interval_ns);
        let answering = p.last_heard_ns + answer_window_ns > now_ns;
        match p.state {
            _ if probe_after_stall => {
                if stalled {
                    p.become_probe(p.chosen_upto.min(chosen) + 1);
                }
            }
            ProgressState::Probe => p.resend_probe(),
            ProgressState::Replicate if stalled && answering => p.reset_window(),
            ProgressState::Replicate if stalled => p.become_probe(p.match_slot + 1),
            ProgressState::Replicate => {
                if let Some(gap) = unfilled_gap {
                    p.rewind_to_gap(gap);
                }
            }
        }
    }

    /// A request from the leader of `ballot` (at least our promise): it is alive, so a
    /// follower restarts its failure detector (and a pre-candidate gives up its round and
    /// follows, as a Raft candidate does on an AppendEntries of its term).
    /// Reference: Howard & Mortier §3.
    pub(crate) fn follow_leader(&mut self, now_ns: Nanos, ballot: Epoch, from: NodeId) {
        if matches!(self.role, RoleState::PreCandidate(_)) {
            self.become_follower(now_ns, ballot);
        }
        if matches!(self.role, RoleState::Follower) {
            self.leader_hint = Some(ballot.owner.unwrap_or(from));
            self.leader_heard_ns = Some(now_ns);
            self.reset_suspicion_timer(now_ns);
        }
    }

    /// Phase 2(b), the acceptor: accept the values (a ballot below the promise never gets
    /// here: `reject_stale` in `step` turns it down), which raises the promise to the
    /// ballot; apply the commit notice, persist, and answer once durable.
    /// Reference: Paxos Made Simple §2.2 phase 2(b), §2.5.
    pub(crate) fn handle_accept(&mut self, now_ns: Nanos, from: NodeId, m: Accept) {
        debug_assert!(m.ballot >= self.promised, "stale accepts are rejected in step");
        debug_assert!(!m.cmds.is_empty(), "empty accepts are dropped in step");
        let raises_promise = m.ballot > self.promised;
        self.set_promised(m.ballot);
        self.follow_leader(now_ns, m.ballot, from);
        let last_slot = m.first_slot + m.cmds.len() as u64 - 1;
        let mut changed: Option<(usize, usize)> = None;
        for (i, cmd) in m.cmds.iter().enumerate() {
            let slot = m.first_slot + i as u64;
            if !self.log.holds(slot, m.ballot, cmd) {
                changed = Some((changed.map_or(i, |(first, _)| first), i));
            }
            // Invariant (in `SlotLog::accept`): never below the promise, never a different
            // value in a slot known chosen.
            self.log.accept(slot, m.ballot, cmd.clone());
        }
        self.apply_notice(m.ballot, m.chosen_upto);
        // The prefix moves first, so that the write below records it too.
        self.advance_and_apply();
        self.persist_changes(m.ballot, m.first_slot, &m.cmds, changed, raises_promise, false);
        let after = self.durability_barrier();
        let chosen_upto = self.durable_chosen_upto();
        let missing_from = self.first_missing(m.ballot, m.first_slot);
        self.send(
            from,
            Message::Accepted(Accepted {
                ballot: m.ballot,
                first_slot: m.first_slot,
                last_slot,
                chosen_upto,
                missing_from,
            }),
            after,
        );
    }

    /// Writes what an `Accept` (or, with `learned`, a `Learn`) changed: the values of the
    /// slots `first_slot + a ..= first_slot + b` when `changed` is `Some((a, b))`, else the
    /// raised promise alone, else nothing. A value the node already holds is not written
    /// again (as Raft's follower appends only "new entries not already in the log", Figure 2,
    /// AppendEntries rule 4), so a resent message costs no write; its answer still waits for
    /// whatever is being written. Reference: Paxos Made Simple §2.5 (persist before
    /// answering), Raft Figure 2, applied alike.
    fn persist_changes(
        &mut self,
        ballot: Epoch,
        first_slot: LogIndex,
        cmds: &[Command],
        changed: Option<(usize, usize)>,
        raises_promise: bool,
        learned: bool,
    ) {
        let record = match changed {
            Some((a, b)) => {
                let (first_slot, cmds) = (first_slot + a as u64, cmds[a..=b].to_vec());
                if learned {
                    Record::Learned {
                        ballot,
                        first_slot,
                        cmds,
                    }
                } else {
                    Record::Accepted {
                        ballot,
                        first_slot,
                        cmds,
                    }
                }
            }
            None if raises_promise => Record::Promised { ballot },
            None => return,
        };
        self.persist(vec![record]);
    }

    /// Gap detection at the acceptor: the first slot above the durably recorded chosen
    /// prefix and below `before` (the first slot of the message being answered) that holds
    /// no value accepted at `ballot`. Such a slot means an earlier `Accept` or `Learn` of
    /// this leader was lost or is late: the counterpart of a failed consistency check in
    /// Raft's AppendEntries. The answer also says the acceptor holds every slot below the
    /// one reported, and the leader counts on that (cumulative acknowledgement), so the scan
    /// relies only on what the answer's durability barrier covers: values accepted at
    /// `ballot` and the recorded chosen prefix, not chosen flags still only in memory. The
    /// scan covers only the slots the leader has in flight beyond the commit notice.
    /// Reference: Raft §5.3; exists for fairness with Raft.
    fn first_missing(&self, ballot: Epoch, before: LogIndex) -> Option<LogIndex> {
        let mut slot = self.durable_chosen_upto() + 1;
        while slot < before {
            match self.log.get(slot) {
                Some(e) if e.ballot == ballot => slot += 1,
                _ => return Some(slot),
            }
        }
        None
    }

    /// The learner side of a commit notice "every slot up to `upto` is chosen" from the
    /// leader of `ballot`: a slot is marked chosen only if the value here was accepted at that
    /// very ballot (a leader proposes one value per slot per ballot, so it is the chosen
    /// one); the scan stops at the first slot that does not qualify, which the leader will
    /// send with `Learn`. Reference: Paxos Made Simple §2.3.
    fn apply_notice(&mut self, ballot: Epoch, upto: LogIndex) {
        let mut slot = self.log.chosen_upto() + 1;
        while slot <= upto {
            match self.log.get(slot) {
                Some(e) if e.chosen => {}
                Some(e) if e.ballot == ballot => self.log.mark_chosen(slot),
                _ => break,
            }
            slot += 1;
        }
    }

    /// Extends the chosen prefix, drops the leader's bookkeeping for the newly chosen slots,
    /// and commits them in order. Invariant: the chosen prefix never shrinks.
    /// Reference: Paxos Made Simple §3 (commands are executed in order of their numbers).
    pub(crate) fn advance_and_apply(&mut self) {
        let before = self.log.chosen_upto();
        if self.log.advance_chosen() {
            let chosen = self.log.chosen_upto();
            assert!(chosen > before, "the chosen prefix shrank");
            if let RoleState::Leader(l) = &mut self.role {
                while l.acks_base <= chosen {
                    l.acks
                        .pop_front()
                        .expect("acks cover every unchosen proposed slot");
                    l.acks_base += 1;
                }
            }
        }
        self.apply_chosen();
    }

    /// The leader learns that `node` accepted slots `first..=last` at its ballot; a slot is
    /// chosen once a majority (the leader's own durable accept included) has accepted it.
    /// Reference: Paxos Made Simple §2.2 ("a value is chosen when a single proposal with
    /// that value has been accepted by a majority of the acceptors").
    pub(crate) fn record_acks(&mut self, node: NodeId, first: LogIndex, last: LogIndex) {
        let majority = self.majority();
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        let end = l.acks_base + l.acks.len() as u64; // exclusive
        for slot in first.max(l.acks_base)..=last.min(end.saturating_sub(1)) {
            let acks = &mut l.acks[(slot - l.acks_base) as usize];
            *acks |= Self::bit(node);
            if acks.count_ones() as usize >= majority && !self.log.is_chosen(slot) {
                self.log.mark_chosen(slot);
            }
        }
    }

    /// Phase 2(b) answers at the leader: count the acceptance (cumulatively: everything the
    /// follower now holds up to its gap or the message's last slot), extend the chosen
    /// prefix, act on a reported gap, and refill the window. Reference: Paxos Made Simple
    /// §2.2; Raft §5.3 (acknowledgements up to an index), applied alike.
    pub(crate) fn handle_accepted(&mut self, now_ns: Nanos, from: NodeId, m: Accepted) {
        let Some(in_window) =
            self.answer_window(now_ns, from, m.ballot, m.last_slot, m.chosen_upto, m.missing_from)
        else {
            return;
        };
        self.record_acks(from, m.first_slot, m.last_slot);
        self.advance_and_apply();
        if in_window && let Some(missing) = m.missing_from {
            self.rewind_to_gap(from, missing);
        }
        self.send_accepts(from, now_ns);
    }

    /// Catch-up answers at the leader: note what the follower now holds, act on a reported
    /// gap and refill the window. Reference: Paxos Made Simple §2.3.
    pub(crate) fn handle_learned(&mut self, now_ns: Nanos, from: NodeId, m: Learned) {
        let Some(in_window) =
            self.answer_window(now_ns, from, m.ballot, m.last_slot, m.chosen_upto, m.missing_from)
        else {
            return;
        };
        self.advance_and_apply();
        if in_window && let Some(missing) = m.missing_from {
            self.rewind_to_gap(from, missing);
        }
        self.send_accepts(from, now_ns);
    }

    /// What an answer of this leader's ballot tells about its sender: the follower holds
    /// every slot up to `missing_from - 1`, or up to `last_slot` without a gap (cumulative
    /// acknowledgement; `ablation.paxos_per_message_acks` ignores this, as before
    /// acknowledgements were cumulative), and knows the log chosen up to `chosen_upto`. The
    /// view of the follower only grows; the newly held slots count as acceptances at this
    /// ballot; the window frees the message answered (identified by its last slot; a
    /// duplicate or stale answer frees nothing of its own) and everything up to what the
    /// follower holds. Returns `None` if the answer is for another ballot, otherwise whether
    /// it answered a message in the window. Reference: Raft §5.3 (matchIndex), as Raft's
    /// `handle_append_entries_response` frees its window.
    fn answer_window(
        &mut self,
        now_ns: Nanos,
        from: NodeId,
        ballot: Epoch,
        last_slot: LogIndex,
        chosen_upto: LogIndex,
        missing_from: Option<LogIndex>,
    ) -> Option<bool> {
        let cumulative = !self.cfg.ablation.paxos_per_message_acks;
        let RoleState::Leader(l) = &mut self.role else {
            return None;
        };
        if ballot != l.ballot {
            return None;
        }
        let held_upto = cumulative.then(|| missing_from.map_or(last_slot, |gap| gap - 1));
        let p = &mut l.progress[from.index()];
        let answered = p.on_answer(last_slot, chosen_upto, held_upto, now_ns);
        let held = p.match_slot;
        if cumulative && held > answered.match_before {
            self.record_acks(from, answered.match_before + 1, held);
        }
        Some(answered.in_window)
    }

    /// Gap detection at the leader: `peer`, answering a message in its window, reports that
    /// it lacks `missing`, so an earlier message was lost (or overtaken). As Raft's leader does
    /// on a rejected AppendEntries, rewind to the missing slot, drop the window's messages
    /// at or after it (their answers are now stale) and probe from there; the caller's
    /// `send_accepts` resends at once. Ignored if the follower has meanwhile acknowledged the
    /// slot at this ballot or reported holding it (the report was overtaken), and if the
    /// leader already rewound to this slot or a later one for this follower: answers are
    /// identified only by their last slot, so a late answer to a message sent before the
    /// rewind can look like an answer to the resend, and it must not rewind again. A slot
    /// once acknowledged stays accepted (acceptors answer only once durable), so a real new
    /// gap always lies above every earlier one; if a resend is itself lost, the heartbeat
    /// rule recovers it.
    /// Reference: Raft §5.3 (consistency check, "decrement nextIndex and retry"); exists
    /// for fairness with Raft.
    fn rewind_to_gap(&mut self, peer: NodeId, missing: LogIndex) {
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        let p = &l.progress[peer.index()];
        if missing <= p.gap_rewound || missing <= p.match_slot || l.acked(peer, missing) {
            return;
        }
        l.progress[peer.index()].rewind_to_gap(missing);
    }

    /// A follower answered a heartbeat. If it knows less to be chosen than the heartbeat
    /// announced and nothing is in flight to it, it lacks values: rewind to catch it up.
    /// Reference: Paxos Made Simple §2.3 (learners that missed a value learn it later).
    pub(crate) fn handle_heartbeat_reply(&mut self, now_ns: Nanos, from: NodeId, m: HeartbeatReply) {
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        if m.ballot != l.ballot {
            return;
        }
        let announced = l.heartbeat_upto;
        l.progress[from.index()].on_heartbeat_reply(m.chosen_upto, announced, now_ns);
        self.send_accepts(from, now_ns);
    }

    /// The leader's own accepts became durable: its acceptor counts toward their quorums.
    /// Reference: Raft §10.2.1 (the leader counts only what it has fsynced), applied alike.
    pub(crate) fn on_own_accepts_durable(&mut self, _now: Nanos) {
        let durable = self.durable_seq;
        let id = self.id;
        let l = self.leader_state();
        let mut last = None;
        while let Some(&(seq, slot)) = l.own_accepts.front()
            && seq <= durable
        {
            last = Some(slot);
            l.own_accepts.pop_front();
        }
        if let Some(last) = last {
            let first = l.self_acked_upto + 1;
            l.self_acked_upto = last;
            self.record_acks(id, first, last);
            self.advance_and_apply();
        }
    }

    /// The acceptor and learner receive a heartbeat with a commit notice (one below the
    /// promise never gets here: `reject_stale` in `step` turns it down, as its sender has
    /// been preempted). A heartbeat of a higher ballot raises the promise to it, durably, as
    /// an accept would (and as Raft's AppendEntries of a higher term raises the term): its
    /// leader has completed phase 1, so lower ballots are finished. The reply, like every
    /// reply, waits for what it reports to be durable.
    /// Reference: Howard & Mortier §3 (heartbeats); Paxos Made Simple §2.2, §2.3.
    pub(crate) fn handle_heartbeat(&mut self, now_ns: Nanos, from: NodeId, m: Heartbeat) {
        debug_assert!(m.ballot >= self.promised, "stale heartbeats are rejected in step");
        if m.ballot > self.promised {
            self.set_promised(m.ballot);
            self.persist(vec![Record::Promised { ballot: m.ballot }]);
        }
        self.follow_leader(now_ns, m.ballot, from);
        self.apply_notice(m.ballot, m.chosen_upto);
        self.advance_and_apply();
        self.flush_chosen_mark();
        let chosen_upto = self.durable_chosen_upto();
        let after = self.durability_barrier();
        self.send(
            from,
            Message::HeartbeatReply(HeartbeatReply {
                ballot: m.ballot,
                chosen_upto,
            }),
            after,
        );
    }

    /// Catch-up: the leader sends values it knows to be chosen. The learner stores them as
    /// chosen and raises its promise to the leader's ballot (see [`Record::Learned`] for
    /// why), and answers once they are durable, like every other reply (the leader takes
    /// the answer as a cumulative acknowledgement). One below the promise never gets here:
    /// `reject_stale` in `step` turns it down. Reference: Paxos Made Simple §2.3, §2.5.
    pub(crate) fn handle_learn(&mut self, now_ns: Nanos, from: NodeId, m: Learn) {
        debug_assert!(m.ballot >= self.promised, "stale learns are rejected in step");
        debug_assert!(!m.cmds.is_empty(), "empty learns are dropped in step");
        let raises_promise = m.ballot > self.promised;
        self.set_promised(m.ballot);
        self.follow_leader(now_ns, m.ballot, from);
        let last_slot = m.first_slot + m.cmds.len() as u64 - 1;
        let mut changed: Option<(usize, usize)> = None;
        for (i, cmd) in m.cmds.iter().enumerate() {
            let slot = m.first_slot + i as u64;
            if !self.log.holds_chosen(slot, cmd) {
                changed = Some((changed.map_or(i, |(first, _)| first), i));
            }
            self.log.learn(slot, cmd.clone());
        }
        self.log.advance_chosen();
        self.persist_changes(m.ballot, m.first_slot, &m.cmds, changed, raises_promise, true);
        // Catch-up is rare: record the chosen prefix now, so the answer can report all of it.
        self.flush_chosen_mark();
        self.advance_and_apply();
        let after = self.durability_barrier();
        let chosen_upto = self.durable_chosen_upto();
        let missing_from = self.first_missing(m.ballot, m.first_slot);
        self.send(
            from,
            Message::Learned(Learned {
                ballot: m.ballot,
                last_slot,
                chosen_upto,
                missing_from,
            }),
            after,
        );
    }
}
