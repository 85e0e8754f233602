//! [`NodeHost`]: the one executor of a protocol's [`Action`]s, shared by the simulator, the
//! live node, the test cluster and the benchmarks.
//!
//! A protocol says what must happen; a host makes it happen in the right order. The rules a
//! host enforces are the [`ReplicatedLog`] contract's, written here once:
//!
//! | rule | where |
//! | --- | --- |
//! | persists are numbered 1, 2, 3, ... per boot, each higher than the last | [`NodeHost::carry_out`] (`Persist`) |
//! | a `Send { after: Some(seq) }` leaves only once persist `seq` is durable (durability before acknowledgement, Raft Figure 2 "updated on stable storage before responding", Paxos Made Simple §2.5) | [`NodeHost::carry_out`] (`Send`), [`NodeHost::persisted`] |
//! | a send never waits on a persist that was not issued | [`NodeHost::carry_out`] (`Send`) |
//! | held sends leave in the order the protocol asked, before anything the `persisted` call produced | [`NodeHost::persisted`] |
//! | a change of role, epoch or leader hint is reported once | [`NodeHost::status_change`] |
//!
//! What a backend does with each effect (append to a WAL or to memory, put a message on a
//! socket or in an event queue, apply a command to the state machine) is its [`HostIo`].
//! Checks of the cluster as a whole (agreement, commit order, one leader per epoch) are the
//! [`crate::invariants`]' business.

use crate::command::Command;
use crate::config::ProtocolConfig;
use crate::log::{Action, NotLeader, ReplicatedLog, Status};
use crate::types::{LogIndex, Nanos, NodeId, PersistSeq};

/// What a backend does with a protocol's effects.
pub trait HostIo<L: ReplicatedLog> {
    /// Append `records` to stable storage. The backend later reports durability through
    /// [`NodeHost::persisted`].
    fn persist(&mut self, seq: PersistSeq, records: Vec<L::Record>);
    /// Put `msg` for `to` on the network now: any persist it waited for is durable.
    fn send(&mut self, to: NodeId, msg: L::Message);
    /// Apply the command committed at `index` (in index order, once per index per boot).
    fn commit(&mut self, index: LogIndex, cmd: Command);
}

/// A protocol node and the state its executor keeps: the persists issued and confirmed, and
/// the sends held until their persist is durable.
pub struct NodeHost<L: ReplicatedLog> {
    node: L,
    /// Highest persist issued in this boot.
    issued_seq: PersistSeq,
    /// Highest persist storage confirmed durable in this boot.
    durable_seq: PersistSeq,
    /// Sends waiting for a persist, in the order the protocol asked for them.
    held: Vec<(PersistSeq, NodeId, L::Message)>,
    /// The status last reported by [`status_change`](Self::status_change).
    reported: Option<Status>,
    /// Reused between calls, so carrying out actions allocates nothing.
    actions: Vec<Action<L::Message, L::Record>>,
}

impl<L: ReplicatedLog> NodeHost<L> {
    /// Boots the node from `recovered` records. Its first actions wait for
    /// [`carry_out`](Self::carry_out).
    pub fn boot(
        id: NodeId,
        members: &[NodeId],
        cfg: &ProtocolConfig,
        recovered: Vec<L::Record>,
        seed: u64,
    ) -> Self {
        Self::new(L::boot(id, members, cfg, recovered, seed))
    }

    /// Hosts a node booted elsewhere.
    pub fn new(node: L) -> Self {
        NodeHost {
            node,
            issued_seq: 0,
            durable_seq: 0,
            held: Vec::new(),
            reported: None,
            actions: Vec::new(),
        }
    }

    /// The protocol node.
    pub fn node(&self) -> &L {
        &self.node
    }

    /// The protocol node, for test hooks; call [`carry_out`](Self::carry_out) afterwards.
    pub fn node_mut(&mut self) -> &mut L {
        &mut self.node
    }

    /// What the node says about itself now.
    pub fn status(&self) -> Status {
        self.node.status()
    }

    /// When the node next needs [`tick`](Self::tick).
    pub fn next_deadline(&self) -> Option<Nanos> {
        self.node.next_deadline()
    }

    /// Highest persist confirmed durable in this boot.
    pub fn durable_seq(&self) -> PersistSeq {
        self.durable_seq
    }

    /// Sends waiting for their persist.
    pub fn held_sends(&self) -> usize {
        self.held.len()
    }

    /// A client's proposal. Unlike the other inputs, its effects wait for
    /// [`carry_out`](Self::carry_out): the caller first notes whom to answer, since the
    /// command may commit among those very effects.
    pub fn propose(&mut self, now: Nanos, cmd: Command) -> Result<(), NotLeader> {
        self.node.propose(now, cmd)
    }

    /// A message from a peer.
    pub fn step(&mut self, now: Nanos, from: NodeId, msg: L::Message, io: &mut impl HostIo<L>) {
        self.node.step(now, from, msg);
        self.carry_out(io);
    }

    /// Fires the node's timers due at `now`.
    pub fn tick(&mut self, now: Nanos, io: &mut impl HostIo<L>) {
        self.node.tick(now);
        self.carry_out(io);
    }

    /// Storage confirms every persist up to `upto`: the node is told, the sends that waited
    /// for it leave (in the order they were asked for), then the node's new effects follow.
    pub fn persisted(&mut self, now: Nanos, upto: PersistSeq, io: &mut impl HostIo<L>) {
        self.durable_seq = self.durable_seq.max(upto);
        self.node.persisted(now, upto);
        let durable = self.durable_seq;
        if self.held.iter().any(|&(seq, _, _)| seq <= durable) {
            let mut still_held = Vec::with_capacity(self.held.len());
            for (seq, to, msg) in self.held.drain(..) {
                if seq <= durable {
                    io.send(to, msg);
                } else {
                    still_held.push((seq, to, msg));
                }
            }
            self.held = still_held;
        }
        self.carry_out(io);
    }

    /// Carries out everything the node has asked for, in order.
    pub fn carry_out(&mut self, io: &mut impl HostIo<L>) {
        let mut actions = std::mem::take(&mut self.actions);
        self.node.take_actions(&mut actions);
        for action in actions.drain(..) {
            match action {
                Action::Persist { seq, records } => {
                    assert!(
                        seq > self.issued_seq,
                        "{:?}: persist seq {seq} not increasing (last {})",
                        self.node.status().id,
                        self.issued_seq
                    );
                    self.issued_seq = seq;
                    io.persist(seq, records);
                }
                Action::Send { to, msg, after } => match after {
                    Some(seq) if seq > self.durable_seq => {
                        assert!(
                            seq <= self.issued_seq,
                            "{:?}: a send waits on persist {seq}, which was never issued",
                            self.node.status().id
                        );
                        self.held.push((seq, to, msg));
                    }
                    _ => io.send(to, msg),
                },
                Action::Commit { index, cmd } => io.commit(index, cmd),
            }
        }
        self.actions = actions;
    }

    /// The node's status if its role, epoch or leader hint changed since the last call (the
    /// first call after boot always reports).
    pub fn status_change(&mut self) -> Option<Status> {
        let status = self.node.status();
        let changed = self.reported.is_none_or(|before| status.differs_from(&before));
        self.reported = Some(status);
        changed.then_some(status)
    }

    /// The status last reported by [`status_change`](Self::status_change).
    pub fn reported_status(&self) -> Option<Status> {
        self.reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Op;
    use crate::log::Role;
    use crate::types::Epoch;
    use crate::wire::WireSize;
    use serde::{Deserialize, Serialize};

    /// A node that replays a script of actions, one batch per call.
    struct Scripted {
        id: NodeId,
        script: Vec<Vec<Action<Msg, u8>>>,
        persisted: Vec<PersistSeq>,
        role: Role,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Msg(u8);
    impl WireSize for Msg {
        fn wire_size(&self) -> usize {
            1
        }
    }

    impl ReplicatedLog for Scripted {
        type Message = Msg;
        type Record = u8;
        const NAME: &'static str = "scripted";
        fn boot(id: NodeId, _: &[NodeId], _: &ProtocolConfig, _: Vec<u8>, _: u64) -> Self {
            Scripted {
                id,
                script: Vec::new(),
                persisted: Vec::new(),
                role: Role::Follower,
            }
        }
        fn propose(&mut self, _: Nanos, _: Command) -> Result<(), NotLeader> {
            Ok(())
        }
        fn step(&mut self, _: Nanos, _: NodeId, _: Msg) {}
        fn tick(&mut self, _: Nanos) {}
        fn next_deadline(&self) -> Option<Nanos> {
            None
        }
        fn take_actions(&mut self, out: &mut Vec<Action<Msg, u8>>) {
            if !self.script.is_empty() {
                out.extend(self.script.remove(0));
            }
        }
        fn persisted(&mut self, _: Nanos, upto: PersistSeq) {
            self.persisted.push(upto);
        }
        fn status(&self) -> Status {
            Status {
                id: self.id,
                role: self.role,
                leader_hint: None,
                epoch: Epoch::term(1),
                commit_index: 0,
                last_index: 0,
            }
        }
    }

    /// Records what the host asked of the backend.
    #[derive(Default)]
    struct Log(Vec<String>);
    impl HostIo<Scripted> for Log {
        fn persist(&mut self, seq: PersistSeq, records: Vec<u8>) {
            self.0.push(format!("persist {seq} {records:?}"));
        }
        fn send(&mut self, to: NodeId, msg: Msg) {
            self.0.push(format!("send {to} {}", msg.0));
        }
        fn commit(&mut self, index: LogIndex, _: Command) {
            self.0.push(format!("commit {index}"));
        }
    }

    fn host(script: Vec<Vec<Action<Msg, u8>>>) -> NodeHost<Scripted> {
        let mut node = Scripted::boot(NodeId(0), &[], &ProtocolConfig::default(), Vec::new(), 0);
        node.script = script;
        NodeHost::new(node)
    }

    fn send(to: u32, m: u8, after: Option<PersistSeq>) -> Action<Msg, u8> {
        Action::Send {
            to: NodeId(to),
            msg: Msg(m),
            after,
        }
    }

    /// Reference: Raft Figure 2 ("updated on stable storage before responding to RPCs");
    /// Paxos Made Simple §2.5.
    #[test]
    fn a_send_waiting_on_a_persist_leaves_only_once_it_is_durable() {
        let mut h = host(vec![vec![
            Action::Persist {
                seq: 1,
                records: vec![7],
            },
            send(1, 10, Some(1)),
            send(2, 11, None),
        ]]);
        let mut io = Log::default();
        h.carry_out(&mut io);
        assert_eq!(io.0, ["persist 1 [7]", "send n2 11"], "the promise is held");
        h.persisted(5, 1, &mut io);
        assert_eq!(io.0[2..], ["send n1 10"]);
        assert_eq!(h.node().persisted, [1]);
    }

    #[test]
    fn held_sends_leave_in_order_and_before_the_effects_of_the_confirmation() {
        let mut h = host(vec![
            vec![
                Action::Persist {
                    seq: 1,
                    records: vec![],
                },
                send(1, 1, Some(1)),
                Action::Persist {
                    seq: 2,
                    records: vec![],
                },
                send(2, 2, Some(2)),
                send(3, 3, Some(1)),
            ],
            vec![send(4, 4, None)],
        ]);
        let mut io = Log::default();
        h.carry_out(&mut io);
        h.persisted(1, 1, &mut io);
        assert_eq!(
            io.0,
            [
                "persist 1 []",
                "persist 2 []",
                "send n1 1",
                "send n3 3",
                "send n4 4"
            ]
        );
        assert_eq!(h.held_sends(), 1);
        h.persisted(2, 2, &mut io);
        assert_eq!(io.0.last().map(String::as_str), Some("send n2 2"));
        assert_eq!(h.held_sends(), 0);
    }

    #[test]
    #[should_panic(expected = "not increasing")]
    fn persists_must_be_numbered_upwards() {
        let p = |seq| Action::Persist { seq, records: vec![] };
        let mut h = host(vec![vec![p(2), p(2)]]);
        h.carry_out(&mut Log::default());
    }

    #[test]
    #[should_panic(expected = "never issued")]
    fn a_send_cannot_wait_on_a_persist_never_issued() {
        let mut h = host(vec![vec![send(1, 1, Some(3))]]);
        h.carry_out(&mut Log::default());
    }

    #[test]
    fn commits_pass_through_in_the_order_given() {
        let c = |index| Action::Commit {
            index,
            cmd: Command::client(1, index, Op::Get { key: "k".into() }),
        };
        let mut h = host(vec![vec![c(1), c(2)]]);
        let mut io = Log::default();
        h.carry_out(&mut io);
        assert_eq!(io.0, ["commit 1", "commit 2"]);
    }

    #[test]
    fn a_status_change_is_reported_once() {
        let mut h = host(Vec::new());
        assert!(h.status_change().is_some(), "the first status after boot");
        assert_eq!(h.status_change(), None);
        h.node_mut().role = Role::Leader;
        assert_eq!(h.status_change().map(|s| s.role), Some(Role::Leader));
        assert_eq!(h.status_change(), None);
    }
}
