//! Replication: phase 2 per slot under a stable leader, with batching and pipelining, the
//! detection of chosen slots, commit notices, and catch-up of lagging learners.
//!
//! | rule | function | source |
//! | --- | --- | --- |
//! | a command gets the next slot; batches wait at most `batch_delay_ns` | `PaxosNode::propose_as_leader`, `PaxosNode::release` | Paxos Made Simple §3; shared knobs |
//! | at most `max_batch_entries` slots per accept, `max_inflight_msgs` per follower | `PaxosNode::send_to` | shared knobs (same meaning as Raft's) |
//! | accept unless a higher ballot was promised; persist before answering | `PaxosNode::on_accept` | Paxos Made Simple §2.2 phase 2(b) |
//! | a slot is chosen once a majority accepted it at one ballot | `PaxosNode::record_acks` | Paxos Made Simple §2.2 |
//! | the leader counts its own accept only once durable | `PaxosNode::on_own_accepts_durable` | Raft §10.2.1 applied to Paxos (same optimisation for both) |
//! | a commit notice marks chosen only values accepted at the notice's ballot | `PaxosNode::apply_notice` | Paxos Made Simple §2.3 (learning a chosen value) |
//! | a learner missing chosen values gets them from the leader | `PaxosNode::send_to` (`Learn`), `PaxosNode::on_learn` | Paxos Made Simple §2.3 |
//! | gap detection: the acceptor reports its first missing slot (the counterpart of Raft's consistency-check rejection) | `PaxosNode::first_missing`, `PaxosNode::on_gap` | fairness with Raft (`raft/src/replication.rs`, `handle_append_entries_response`) |
//! | unacknowledged messages are resent after a heartbeat interval | `PaxosNode::heartbeat` | the network loses messages |
//!
//! Flow control per follower (`Progress`): the leader streams from `next_slot`; slots the
//! follower should already know to be chosen go as `Learn`, the rest as `Accept`, skipping
//! slots it has acknowledged at this ballot. Each message in the window is identified by its
//! last slot. The network may lose, duplicate and reorder messages, so the window is a bound,
//! not a ledger: when its oldest message has gone unacknowledged for a heartbeat interval,
//! the leader presumes it lost, empties the window, rewinds `next_slot` to the first slot the
//! follower may lack, and probes with one message until an answer arrives. (In Paxos later
//! accepts succeed without earlier ones, so "no acknowledgement at all" would miss a single
//! lost accept; the oldest message's age does not.)
//!
//! Gap detection. The heartbeat rule alone notices a lost message only after a heartbeat
//! interval, and since learners apply slots in order, everything behind the lost slot waits
//! that long. Raft notices within one round trip: the next AppendEntries fails the
//! consistency check and the follower rejects it with a hint. The same information exists in
//! Paxos, so for fairness with Raft it is used the same way: an acceptor that receives an
//! `Accept` or `Learn` whose first slot lies beyond a slot it lacks (above its chosen prefix,
//! no value accepted at the message's ballot, not known chosen) reports the first such slot
//! in its answer (`missing_from`, computed by `PaxosNode::first_missing`). The leader
//! (`PaxosNode::on_gap`) then does what Raft does on a rejection: it rewinds `next_slot` to
//! the missing slot, drops the window's messages at or after it, probes with one message and
//! resends at once. Resends stay bounded under duplication and reordering: a report counts
//! only if it answers a message still in the window (a duplicate answer, or one to a message
//! sent before the last rewind, finds nothing there), only if the slot is not already
//! acknowledged by that follower or known to be chosen by it, and only if it lies above
//! every slot the leader already rewound to for that follower at this ballot. So each
//! missing slot causes at most one early resend per follower and ballot; a resend that is
//! itself lost is recovered by the heartbeat rule, as before.

use crate::durable::Record;
use crate::msg::{Accept, Accepted, Heartbeat, HeartbeatReply, Learn, Learned, Message, Nack};
use crate::node::{PaxosNode, RoleState};
use crate::paxos_log::SlotLog;
use replog::{Command, Epoch, LogIndex, Nanos, NodeId, PersistSeq};
use std::collections::VecDeque;

/// What the leader knows about one follower.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    /// The next slot to send.
    pub(crate) next_slot: LogIndex,
    /// Last slot and send time of each unacknowledged `Accept` or `Learn`, oldest first.
    pub(crate) inflight: VecDeque<(LogIndex, Nanos)>,
    /// After a window reset: one message at a time until the follower answers.
    pub(crate) probe: bool,
    /// The follower's chosen prefix, as its latest answer reported it.
    pub(crate) chosen_upto: LogIndex,
    /// Gap detection: the highest missing slot this follower reported that the leader
    /// rewound to (0: none at this ballot). Reports at or below it are not acted on again.
    pub(crate) gap_rewound: LogIndex,
}

/// A leader's state: its ballot, timers, and phase 2 bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct Leadership {
    pub(crate) ballot: Epoch,
    pub(crate) heartbeat_deadline: Nanos,
    /// The chosen prefix announced by the latest heartbeat.
    pub(crate) heartbeat_upto: LogIndex,
    /// When held proposals must go out (batching).
    pub(crate) batch_deadline: Option<Nanos>,
    /// Slots up to here are persisted-issued and may be sent; later ones wait for a batch.
    pub(crate) released_upto: LogIndex,
    /// The leader's own accept records not yet durable: (seq, last slot), in order.
    pub(crate) own_accepts: VecDeque<(PersistSeq, LogIndex)>,
    /// The leader's own acceptor has durably accepted every slot up to here.
    pub(crate) self_acked_upto: LogIndex,
    /// `acks[i]`: the acceptors (bitmask) that accepted slot `acks_base + i` at `ballot`.
    /// Covers the slots from the first unchosen one to the last proposed.
    pub(crate) acks_base: LogIndex,
    pub(crate) acks: VecDeque<u64>,
    /// Per follower, by node id.
    pub(crate) progress: Vec<Progress>,
}

impl Leadership {
    /// The state of a leader that just completed phase 1 at `ballot`. Followers that
    /// promised start from their reported chosen prefix; the others are probed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        ballot: Epoch,
        now: Nanos,
        log: &SlotLog,
        self_acked_upto: LogIndex,
        own_accept: Option<(PersistSeq, LogIndex)>,
        peers: &[NodeId],
        peer_chosen: &[Option<LogIndex>],
    ) -> Self {
        let chosen = log.chosen_upto();
        let mut progress = vec![
            Progress {
                next_slot: chosen + 1,
                inflight: VecDeque::new(),
                probe: true,
                chosen_upto: chosen,
                gap_rewound: 0,
            };
            peer_chosen.len()
        ];
        for &p in peers {
            if let Some(c) = peer_chosen[p.index()] {
                let pr = &mut progress[p.index()];
                pr.chosen_upto = c;
                pr.next_slot = c.min(chosen) + 1;
                pr.probe = false;
            }
        }
        Leadership {
            ballot,
            heartbeat_deadline: now,
            heartbeat_upto: chosen,
            batch_deadline: None,
            released_upto: log.last_slot(),
            own_accepts: own_accept.into_iter().collect(),
            self_acked_upto,
            acks_base: chosen + 1,
            acks: std::iter::repeat_n(0, (log.last_slot() - chosen) as usize).collect(),
            progress,
        }
    }

    fn acked(&self, peer: NodeId, slot: LogIndex) -> bool {
        slot >= self.acks_base
            && self
                .acks
                .get((slot - self.acks_base) as usize)
                .is_some_and(|a| a & PaxosNode::bit(peer) != 0)
    }
}

impl PaxosNode {
    fn leadership(&mut self) -> &mut Leadership {
        match &mut self.role {
            RoleState::Leader(l) => l,
            _ => unreachable!("{}: leader bookkeeping on a non-leader", self.id),
        }
    }

    /// A client command takes the next slot. With `batch_delay_ns > 0` it may wait until a
    /// batch fills or the delay passes; otherwise it goes out at once (and batches form only
    /// from commands that arrive while a follower's window is full).
    /// Reference: Paxos Made Simple §3; the shared batching knobs.
    pub(crate) fn propose_as_leader(&mut self, now: Nanos, cmd: Command) {
        let slot = self.log.last_slot() + 1;
        let (max_batch, delay) = (self.cfg.max_batch_entries as u64, self.cfg.batch_delay_ns);
        let l = self.leadership();
        let ballot = l.ballot;
        l.acks.push_back(0);
        let held = slot - l.released_upto;
        let release_now = delay == 0 || held >= max_batch;
        if !release_now && l.batch_deadline.is_none() {
            l.batch_deadline = Some(now + delay);
        }
        self.log.accept(slot, ballot, cmd);
        if release_now {
            self.release(now);
        }
    }

    /// Makes every held proposal sendable: the leader's acceptor accepts them (the write runs
    /// in parallel with the sends) and each follower's window takes what it can.
    pub(crate) fn release(&mut self, now: Nanos) {
        let last = self.log.last_slot();
        let l = self.leadership();
        l.batch_deadline = None;
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
        self.leadership().own_accepts.push_back((seq, last));
        if self.cfg.bugs.ack_before_quorum {
            // Deliberately unsafe: "chosen" before any acceptor but the leader has it.
            for slot in first..=last {
                self.log.mark_chosen(slot);
            }
            self.advance_and_apply();
        }
        for peer in self.peers.clone() {
            self.send_to(now, peer);
        }
    }

    /// Fills `peer`'s window: `Learn` for slots below the leader's chosen prefix that the
    /// follower may lack, `Accept` for released slots it has not acknowledged, at most
    /// `max_batch_entries` slots per message and `max_inflight_msgs` messages outstanding
    /// (one while probing).
    pub(crate) fn send_to(&mut self, now: Nanos, peer: NodeId) {
        let max_batch = self.cfg.max_batch_entries.max(1) as u64;
        let max_inflight = self.cfg.max_inflight_msgs.max(1);
        let chosen = self.log.chosen_upto();
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        loop {
            let p = &l.progress[peer.index()];
            let window = if p.probe { 1 } else { max_inflight };
            if p.inflight.len() >= window {
                return;
            }
            let mut first = p.next_slot.max(p.chosen_upto.min(chosen) + 1);
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
            let last = match &msg {
                Message::Learn(m) => m.first_slot + m.cmds.len() as u64 - 1,
                Message::Accept(m) => m.first_slot + m.cmds.len() as u64 - 1,
                _ => unreachable!(),
            };
            let p = &mut l.progress[peer.index()];
            p.inflight.push_back((last, now));
            p.next_slot = last + 1;
            self.actions.push(replog::Action::Send {
                to: peer,
                msg,
                after: None,
            });
        }
    }

    /// The leader's timers: release a held batch, send heartbeats.
    pub(crate) fn on_leader_tick(&mut self, now: Nanos) {
        let l = self.leadership();
        if l.batch_deadline.is_some_and(|d| d <= now) {
            self.release(now);
        }
        if self.leadership().heartbeat_deadline <= now {
            self.heartbeat(now);
        }
    }

    /// Every heartbeat interval: tell each follower the leader is alive and how far the log
    /// is chosen; reset a window whose oldest message went unanswered for a whole interval
    /// (presumed lost) and refill it; write a chosen mark if one is due.
    /// Reference: Howard & Mortier §3 (heartbeats), the shared `heartbeat_interval_ns`.
    pub(crate) fn heartbeat(&mut self, now: Nanos) {
        let interval = self.cfg.heartbeat_interval_ns;
        let chosen = self.log.chosen_upto();
        let l = self.leadership();
        l.heartbeat_deadline = now + interval;
        l.heartbeat_upto = chosen;
        let ballot = l.ballot;
        for peer in self.peers.clone() {
            let p = &mut self.leadership().progress[peer.index()];
            if p.inflight
                .front()
                .is_some_and(|&(_, sent)| sent + interval <= now)
            {
                p.inflight.clear();
                p.probe = true;
                p.next_slot = p.chosen_upto.min(chosen) + 1;
            }
            self.send(
                peer,
                Message::Heartbeat(Heartbeat {
                    ballot,
                    chosen_upto: chosen,
                }),
                None,
            );
            self.send_to(now, peer);
        }
        self.flush_chosen_mark();
    }

    /// A message from the leader of `ballot` (at least our promise): it is alive.
    fn follow(&mut self, now: Nanos, ballot: Epoch, from: NodeId) {
        if matches!(self.role, RoleState::Follower) {
            self.leader_hint = Some(ballot.owner.unwrap_or(from));
            self.reset_suspicion(now);
        }
    }

    /// Turns down a request whose ballot is below our promise.
    fn nack(&mut self, to: NodeId, ballot: Epoch) {
        let promised = self.promised;
        self.send(to, Message::Nack(Nack { ballot, promised }), None);
    }

    /// Phase 2(b), the acceptor: accept the values unless a higher ballot was promised
    /// (accepting raises the promise to the ballot), apply the commit notice, persist, and
    /// answer once durable. Reference: Paxos Made Simple §2.2 phase 2(b).
    pub(crate) fn on_accept(&mut self, now: Nanos, from: NodeId, m: Accept) {
        if m.ballot < self.promised {
            self.nack(from, m.ballot);
            return;
        }
        self.set_promised(m.ballot);
        self.follow(now, m.ballot, from);
        if m.cmds.is_empty() {
            return;
        }
        let last_slot = m.first_slot + m.cmds.len() as u64 - 1;
        for (i, cmd) in m.cmds.iter().enumerate() {
            // Invariant (in `SlotLog::accept`): never below the promise, never a different
            // value in a slot known chosen.
            self.log.accept(m.first_slot + i as u64, m.ballot, cmd.clone());
        }
        self.apply_notice(m.ballot, m.chosen_upto);
        self.persist(vec![Record::Accepted {
            ballot: m.ballot,
            first_slot: m.first_slot,
            cmds: m.cmds,
        }]);
        self.advance_and_apply();
        let after = self.reply_after();
        let chosen_upto = self.log.chosen_upto();
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

    /// Gap detection at the acceptor: the first slot above the chosen prefix and below
    /// `before` (the first slot of the message being answered) that holds no value accepted
    /// at `ballot` and is not known chosen. Such a slot means an earlier `Accept` or `Learn`
    /// of this leader was lost or is late: the counterpart of a failed consistency check in
    /// Raft's AppendEntries. The scan covers only the slots the leader has in flight beyond
    /// the commit notice. Reference: Raft §5.3; exists for fairness with Raft.
    fn first_missing(&self, ballot: Epoch, before: LogIndex) -> Option<LogIndex> {
        let mut slot = self.log.chosen_upto() + 1;
        while slot < before {
            match self.log.get(slot) {
                Some(e) if e.chosen || e.ballot == ballot => slot += 1,
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

    /// Phase 2(b) answers at the leader.
    pub(crate) fn on_accepted(&mut self, now: Nanos, from: NodeId, m: Accepted) {
        let Some(in_window) = self.answer_window(from, m.ballot, m.last_slot, m.chosen_upto) else {
            return;
        };
        self.record_acks(from, m.first_slot, m.last_slot);
        self.advance_and_apply();
        if in_window && let Some(missing) = m.missing_from {
            self.on_gap(from, missing);
        }
        self.send_to(now, from);
    }

    /// Catch-up answers at the leader.
    pub(crate) fn on_learned(&mut self, now: Nanos, from: NodeId, m: Learned) {
        let Some(in_window) = self.answer_window(from, m.ballot, m.last_slot, m.chosen_upto) else {
            return;
        };
        if in_window && let Some(missing) = m.missing_from {
            self.on_gap(from, missing);
        }
        self.send_to(now, from);
    }

    /// Frees the window slot of the message an answer refers to (identified by its last
    /// slot; a duplicate or stale answer frees nothing) and notes the follower's chosen
    /// prefix. Returns `None` if the answer is for another ballot, otherwise whether it
    /// answered a message in the window.
    fn answer_window(
        &mut self,
        from: NodeId,
        ballot: Epoch,
        last_slot: LogIndex,
        chosen_upto: LogIndex,
    ) -> Option<bool> {
        let RoleState::Leader(l) = &mut self.role else {
            return None;
        };
        if ballot != l.ballot {
            return None;
        }
        let p = &mut l.progress[from.index()];
        p.chosen_upto = chosen_upto;
        p.probe = false;
        let found = p.inflight.iter().position(|&(s, _)| s == last_slot);
        if let Some(i) = found {
            p.inflight.remove(i);
        }
        Some(found.is_some())
    }

    /// Gap detection at the leader: `peer`, answering a message in its window, reports that
    /// it lacks `missing`, so an earlier message was lost (or overtaken). As Raft's leader does
    /// on a rejected AppendEntries, rewind to the missing slot, drop the window's messages
    /// at or after it (their answers are now stale) and probe from there; the caller's
    /// `send_to` resends at once. Ignored if the follower has meanwhile acknowledged the
    /// slot at this ballot or reported it chosen (the report was overtaken), and if the
    /// leader already rewound to this slot or a later one for this follower: answers are
    /// identified only by their last slot, so a late answer to a message sent before the
    /// rewind can look like an answer to the resend, and it must not rewind again. A slot
    /// once acknowledged stays accepted (acceptors answer only once durable), so a real new
    /// gap always lies above every earlier one; if a resend is itself lost, the heartbeat
    /// rule recovers it.
    /// Reference: Raft §5.3 (consistency check, "decrement nextIndex and retry"); exists
    /// for fairness with Raft.
    fn on_gap(&mut self, peer: NodeId, missing: LogIndex) {
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        let p = &l.progress[peer.index()];
        if missing <= p.gap_rewound || missing <= p.chosen_upto || l.acked(peer, missing) {
            return;
        }
        let p = &mut l.progress[peer.index()];
        p.gap_rewound = missing;
        p.inflight.retain(|&(last, _)| last < missing);
        p.next_slot = missing;
        p.probe = true;
    }

    /// A follower answered a heartbeat. If it knows less to be chosen than the heartbeat
    /// announced and nothing is in flight to it, it lacks values: rewind to catch it up.
    pub(crate) fn on_heartbeat_reply(&mut self, now: Nanos, from: NodeId, m: HeartbeatReply) {
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        if m.ballot != l.ballot {
            return;
        }
        let announced = l.heartbeat_upto;
        let p = &mut l.progress[from.index()];
        p.chosen_upto = m.chosen_upto;
        p.probe = false;
        if m.chosen_upto < announced && p.inflight.is_empty() {
            p.next_slot = p.next_slot.min(m.chosen_upto + 1);
        }
        self.send_to(now, from);
    }

    /// The leader's own accepts became durable: its acceptor counts toward their quorums.
    pub(crate) fn on_own_accepts_durable(&mut self, _now: Nanos) {
        let durable = self.durable_seq;
        let id = self.id;
        let l = self.leadership();
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

    /// The learner receives a heartbeat with a commit notice. A heartbeat below the promise
    /// is turned down (its sender has been preempted).
    pub(crate) fn on_heartbeat(&mut self, now: Nanos, from: NodeId, m: Heartbeat) {
        if m.ballot < self.promised {
            self.nack(from, m.ballot);
            return;
        }
        self.follow(now, m.ballot, from);
        self.apply_notice(m.ballot, m.chosen_upto);
        self.advance_and_apply();
        self.flush_chosen_mark();
        let chosen_upto = self.log.chosen_upto();
        self.send(
            from,
            Message::HeartbeatReply(HeartbeatReply {
                ballot: m.ballot,
                chosen_upto,
            }),
            None,
        );
    }

    /// Catch-up: the leader sends values it knows to be chosen. The learner stores them as
    /// chosen and raises its promise to the leader's ballot (see [`Record::Learned`] for
    /// why). Reference: Paxos Made Simple §2.3.
    pub(crate) fn on_learn(&mut self, now: Nanos, from: NodeId, m: Learn) {
        if m.ballot < self.promised {
            self.nack(from, m.ballot);
            return;
        }
        self.set_promised(m.ballot);
        self.follow(now, m.ballot, from);
        if m.cmds.is_empty() {
            return;
        }
        let last_slot = m.first_slot + m.cmds.len() as u64 - 1;
        for (i, cmd) in m.cmds.iter().enumerate() {
            self.log.learn(m.first_slot + i as u64, cmd.clone());
        }
        self.log.advance_chosen();
        self.persist(vec![Record::Learned {
            ballot: m.ballot,
            first_slot: m.first_slot,
            cmds: m.cmds,
        }]);
        self.advance_and_apply();
        let chosen_upto = self.log.chosen_upto();
        let missing_from = self.first_missing(m.ballot, m.first_slot);
        self.send(
            from,
            Message::Learned(Learned {
                ballot: m.ballot,
                last_slot,
                chosen_upto,
                missing_from,
            }),
            None,
        );
    }
}
