//! Reads without the log: the bookkeeping `read_path = "read_index"` and `"lease"` share, for
//! both protocols. The protocol-specific part (what the read index is, which messages carry a
//! round) is in `raft/src/read.rs` and `paxos/src/read.rs`; the lease arithmetic is
//! [`crate::lease`].
//!
//! A read is registered with the leader ([`ReplicatedLog::read`](crate::ReplicatedLog::read)),
//! which gives it a [`ReadId`] and notes the read index: the point of the log the answer must
//! reflect. Later the node emits [`Action::ReadReady`](crate::Action::ReadReady) ("reads up to
//! this id may be answered once applied through this index") or
//! [`Action::ReadAborted`](crate::Action::ReadAborted) ("this node lost leadership; reads up
//! to this id must go elsewhere"), and the host answers from its state machine.
//!
//! | rule | where |
//! | --- | --- |
//! | a read is confirmed by a round *sent after it was registered* and acknowledged by a majority at the leader's epoch | [`LeaderReads::on_ack`] |
//! | concurrent reads share one round; reads that arrive while a round is out wait for the next | [`LeaderReads::round_to_send`] |
//! | a round unanswered for a heartbeat interval is presumed lost and replaced | [`LeaderReads::round_to_send`] |
//! | with a lease held, a read is ready at once (and so is every read registered before it) | [`LeaderReads::register`] |
//! | a leader that steps down aborts every read it has not answered | [`ReadState::on_step_down`] |
//!
//! Reference: Raft thesis §6.4 (ReadIndex, batching), §6.4.1 (leases).

use crate::config::{ProtocolConfig, ReadPath};
use crate::lease::{FollowerPromise, LeaderLease};
use crate::quorum;
use crate::types::{LogIndex, Nanos, NodeId};
use std::collections::VecDeque;

/// A read registered with a node, numbered 1, 2, 3, ... per boot.
pub type ReadId = u64;

/// Reads with ids up to `upto` may be answered once the state machine has applied through
/// `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadReady {
    pub upto: ReadId,
    pub index: LogIndex,
}

/// One confirmation round: messages that ask every follower "am I still your leader?".
#[derive(Clone, Debug)]
struct Round {
    id: u64,
    sent_ns: Nanos,
    /// Followers that acknowledged it at the leader's epoch.
    acks: Vec<NodeId>,
    /// The last read registered before it was sent, with its read index.
    covers: Option<(ReadId, LogIndex)>,
}

/// A leader's reads: those waiting for a round, the round in flight, and the lease.
#[derive(Clone, Debug)]
pub struct LeaderReads {
    path: ReadPath,
    majority: usize,
    lease: LeaderLease,
    /// No read index is below this: the end of what the new leader inherited, which holds
    /// every write any earlier leader completed (set by the protocol, see `floor_index`).
    floor_index: LogIndex,
    /// Reads no round sent so far covers: (id, read index), in id order.
    waiting: VecDeque<(ReadId, LogIndex)>,
    round: Option<Round>,
    next_round: u64,
}

impl LeaderReads {
    /// A leader elected at `now_ns` in a cluster of `members` voters, whose reads must see
    /// at least index `floor_index`: the last entry (slot) it inherited, which it will commit
    /// at its own epoch. Reference: Raft thesis §6.4, step 1 (a new leader's commit index is
    /// known current only once an entry of its own term is committed).
    pub fn new(cfg: &ProtocolConfig, members: usize, now_ns: Nanos, floor_index: LogIndex) -> Self {
        LeaderReads {
            path: cfg.read_path,
            majority: quorum::majority(members),
            lease: LeaderLease::new(cfg, now_ns),
            floor_index,
            waiting: VecDeque::new(),
            round: None,
            next_round: 1,
        }
    }

    /// Registers read `id` at the leader's commit point `commit_index`; its read index is
    /// that, or the floor if higher. Under a held lease it is ready at once, together with
    /// every read registered before it; otherwise it waits for a round.
    /// Reference: Raft thesis §6.4, steps 1 and 2; §6.4.1.
    pub fn register(&mut self, now_ns: Nanos, id: ReadId, commit_index: LogIndex) -> Option<ReadReady> {
        let index = commit_index.max(self.floor_index);
        if self.path == ReadPath::Lease && self.lease.holds(now_ns) {
            self.waiting.clear();
            if let Some(r) = &mut self.round {
                r.covers = None;
            }
            return Some(ReadReady { upto: id, index });
        }
        self.waiting.push_back((id, index));
        None
    }

    /// The id of a round to send now, if one is needed: reads are waiting and no round is
    /// out, or the one out has gone unanswered for `retry_ns` (presumed lost; the new one
    /// covers its reads too). A single-node cluster needs no messages: see
    /// [`confirm_alone`](Self::confirm_alone).
    pub fn round_to_send(&mut self, now_ns: Nanos, retry_ns: Nanos) -> Option<u64> {
        let out = self.round.as_ref();
        let unanswered = out.is_some_and(|r| r.covers.is_some() && now_ns >= r.sent_ns + retry_ns);
        let fresh = !self.waiting.is_empty() && out.is_none_or(|r| now_ns >= r.sent_ns + retry_ns);
        (unanswered || fresh).then(|| self.start_round(now_ns))
    }

    /// Starts a round now whatever is waiting (a lease renewal), covering every read
    /// registered so far, and returns its id.
    pub fn start_round(&mut self, now_ns: Nanos) -> u64 {
        let id = self.next_round;
        self.next_round += 1;
        let older = self.round.take().and_then(|r| r.covers);
        let covers = self.waiting.back().copied().or(older);
        self.waiting.clear();
        self.round = Some(Round {
            id,
            sent_ns: now_ns,
            acks: Vec::new(),
            covers,
        });
        id
    }

    /// In a cluster of one, the leader alone is a majority: the round just started is
    /// confirmed without messages.
    pub fn confirm_alone(&mut self) -> Option<ReadReady> {
        if self.majority > 1 {
            return None;
        }
        self.confirm()
    }

    /// `from` acknowledged round `round` at the leader's epoch. Once a majority (the leader
    /// counts itself) has, the leader was still leader when it sent the round: the reads the
    /// round covers are ready, and a lease runs from the send.
    pub fn on_ack(&mut self, from: NodeId, round: u64) -> Option<ReadReady> {
        let r = self.round.as_mut().filter(|r| r.id == round)?;
        if !r.acks.contains(&from) {
            r.acks.push(from);
        }
        if r.acks.len() + 1 < self.majority {
            return None;
        }
        self.confirm()
    }

    fn confirm(&mut self) -> Option<ReadReady> {
        let r = self.round.take()?;
        self.lease.on_round_confirmed(r.sent_ns);
        r.covers.map(|(upto, index)| ReadReady { upto, index })
    }

    /// Whether a lease read could be served at `now_ns`.
    pub fn lease_holds(&self, now_ns: Nanos) -> bool {
        self.path == ReadPath::Lease && self.lease.holds(now_ns)
    }
}

/// Everything about reads a node keeps, whatever its role.
#[derive(Clone, Debug)]
pub struct ReadState {
    path: ReadPath,
    /// The last read id handed out in this boot.
    last_read: ReadId,
    /// Reads handed out and not yet ready or aborted: the highest such id.
    outstanding_upto: Option<ReadId>,
    /// The follower's half of a lease (kept only with `read_path = "lease"`).
    promise: FollowerPromise,
    started: bool,
    /// The leader's half; None on followers and candidates.
    pub leader: Option<LeaderReads>,
}

impl ReadState {
    /// A node that just booted.
    pub fn new(cfg: &ProtocolConfig) -> Self {
        ReadState {
            path: cfg.read_path,
            last_read: 0,
            outstanding_upto: None,
            promise: FollowerPromise::default(),
            started: false,
            leader: None,
        }
    }

    /// Which read path the node runs.
    pub fn path(&self) -> ReadPath {
        self.path
    }

    /// Called with every `now` the node is given: the first one starts the promise a booting
    /// node keeps (see [`FollowerPromise::on_boot`]).
    pub fn observe(&mut self, cfg: &ProtocolConfig, now_ns: Nanos) {
        if !self.started {
            self.started = true;
            if self.path == ReadPath::Lease {
                self.promise.on_boot(cfg, now_ns);
            }
        }
    }

    /// The node heard from its leader at `now_ns` and will acknowledge it.
    pub fn on_leader_heard(&mut self, cfg: &ProtocolConfig, now_ns: Nanos) {
        if self.path == ReadPath::Lease {
            self.promise.on_leader_heard(cfg, now_ns);
        }
    }

    /// Whether the node must refuse to help elect another leader now (lease path only).
    pub fn promise_binds(&self, now_ns: Nanos) -> bool {
        self.path == ReadPath::Lease && self.promise.binds(now_ns)
    }

    /// The node became leader at `now_ns`; its reads must see at least `floor_index`.
    pub fn on_become_leader(
        &mut self,
        cfg: &ProtocolConfig,
        members: usize,
        now_ns: Nanos,
        floor_index: LogIndex,
    ) {
        self.leader = Some(LeaderReads::new(cfg, members, now_ns, floor_index));
    }

    /// The node stopped leading: the highest read id it must abort, if any.
    pub fn on_step_down(&mut self) -> Option<ReadId> {
        self.leader = None;
        self.outstanding_upto.take()
    }

    /// A new read id, for a read registered now.
    pub fn next_id(&mut self) -> ReadId {
        self.last_read += 1;
        self.outstanding_upto = Some(self.last_read);
        self.last_read
    }

    /// Reads up to `ready.upto` are ready: none of them is outstanding any more.
    pub fn on_ready(&mut self, ready: ReadReady) {
        if self.outstanding_upto.is_some_and(|u| u <= ready.upto) {
            self.outstanding_upto = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn leader(path: ReadPath, members: usize) -> LeaderReads {
        let cfg = ProtocolConfig {
            read_path: path,
            ..ProtocolConfig::default()
        };
        LeaderReads::new(&cfg, members, 0, 0)
    }

    /// Reference: Raft thesis §6.4, step 1.
    #[test]
    fn a_new_leaders_read_index_is_at_least_what_it_inherited() {
        let cfg = ProtocolConfig {
            read_path: ReadPath::ReadIndex,
            ..ProtocolConfig::default()
        };
        let mut l = LeaderReads::new(&cfg, 3, 0, 9);
        l.register(0, 1, 4);
        let round = l.round_to_send(0, 50 * MS).unwrap();
        assert_eq!(l.on_ack(NodeId(1), round), Some(ReadReady { upto: 1, index: 9 }));
    }

    /// Reference: Raft thesis §6.4, steps 2 and 3.
    #[test]
    fn a_read_is_ready_only_once_a_majority_acknowledged_a_round_sent_after_it() {
        let mut l = leader(ReadPath::ReadIndex, 3);
        assert_eq!(l.register(0, 1, 5), None);
        let round = l.round_to_send(0, 50 * MS).expect("a round for the read");
        assert_eq!(l.on_ack(NodeId(1), round), Some(ReadReady { upto: 1, index: 5 }));
    }

    #[test]
    fn reads_that_arrive_while_a_round_is_out_share_the_next_one() {
        let mut l = leader(ReadPath::ReadIndex, 5);
        l.register(0, 1, 5);
        let first = l.round_to_send(0, 50 * MS).unwrap();
        l.register(1, 2, 6);
        l.register(2, 3, 7);
        assert_eq!(l.round_to_send(2, 50 * MS), None, "one round at a time");
        l.on_ack(NodeId(1), first);
        assert_eq!(l.on_ack(NodeId(2), first), Some(ReadReady { upto: 1, index: 5 }));
        let second = l.round_to_send(3, 50 * MS).unwrap();
        l.on_ack(NodeId(3), second);
        assert_eq!(l.on_ack(NodeId(4), second), Some(ReadReady { upto: 3, index: 7 }));
    }

    #[test]
    fn an_acknowledgement_of_an_abandoned_round_confirms_nothing() {
        let mut l = leader(ReadPath::ReadIndex, 3);
        l.register(0, 1, 5);
        let lost = l.round_to_send(0, 50 * MS).unwrap();
        let retry = l
            .round_to_send(50 * MS, 50 * MS)
            .expect("presumed lost after an interval");
        assert_eq!(l.on_ack(NodeId(1), lost), None);
        assert_eq!(l.on_ack(NodeId(1), retry), Some(ReadReady { upto: 1, index: 5 }));
    }

    #[test]
    fn the_same_follower_acknowledging_twice_is_not_a_majority() {
        let mut l = leader(ReadPath::ReadIndex, 5);
        l.register(0, 1, 5);
        let round = l.round_to_send(0, 50 * MS).unwrap();
        l.on_ack(NodeId(1), round);
        assert_eq!(l.on_ack(NodeId(1), round), None);
    }

    #[test]
    fn under_a_held_lease_a_read_and_those_before_it_are_ready_at_once() {
        let mut l = leader(ReadPath::Lease, 3);
        l.register(0, 1, 5);
        assert_eq!(l.register(10 * MS, 2, 5), None, "a new leader holds no lease");
        let t = 200 * MS;
        let round = l.start_round(t);
        l.on_ack(NodeId(2), round);
        assert!(l.lease_holds(t + MS));
        assert_eq!(l.register(t + MS, 3, 6), Some(ReadReady { upto: 3, index: 6 }));
        assert_eq!(l.round_to_send(t + MS, 50 * MS), None, "nothing left waiting");
    }

    #[test]
    fn a_single_node_confirms_its_own_round() {
        let mut l = leader(ReadPath::ReadIndex, 1);
        l.register(0, 1, 2);
        l.round_to_send(0, 50 * MS).unwrap();
        assert_eq!(l.confirm_alone(), Some(ReadReady { upto: 1, index: 2 }));
    }
}
