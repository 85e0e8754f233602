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
//! | every `snapshot_every` applied entries the state machine's image goes to the protocol, which compacts its log (the same policy for both protocols; [`crate::snapshot`]) | [`NodeHost::carry_out`] (`Commit`) |
//! | a read is answered only once the node said it is ready and the state machine has applied through its read index; an aborted read is refused | [`NodeHost::carry_out`] (`ReadReady`, `ReadAborted`, `Commit`) |
//!
//! What a backend does with each effect (append to a WAL or to memory, put a message on a
//! socket or in an event queue, apply a command to the state machine) is its [`HostIo`].
//! Checks of the cluster as a whole (agreement, commit order, one leader per epoch) are the
//! [`crate::invariants`]' business.

use crate::command::{ClientCommand, Command};
use crate::config::ProtocolConfig;
use crate::log::{Action, NotLeader, ReplicatedLog, Status};
use crate::read::ReadId;
use crate::snapshot::SnapshotImage;
use crate::types::{LogIndex, Nanos, NodeId, PersistSeq};
use std::collections::VecDeque;

/// What a backend does with a protocol's effects.
pub trait HostIo<L: ReplicatedLog> {
    /// Append `records` to stable storage. The backend later reports durability through
    /// [`NodeHost::persisted`].
    fn persist(&mut self, seq: PersistSeq, records: Vec<L::Record>);
    /// Put `msg` for `to` on the network now: any persist it waited for is durable.
    fn send(&mut self, to: NodeId, msg: L::Message);
    /// Apply the command committed at `index` (in index order, once per index per boot).
    fn commit(&mut self, index: LogIndex, cmd: Command);
    /// Log compaction: store `records` as a checkpoint replacing every record persisted
    /// before ([`crate::storage::Storage::checkpoint`]); report durability like a persist.
    fn checkpoint(&mut self, seq: PersistSeq, records: Vec<L::Record>);
    /// The state machine's image now, after applying every command up to `index`.
    fn image(&mut self, index: LogIndex) -> SnapshotImage;
    /// Replace the state machine with `image`, the state after every command up to `index`.
    fn restore(&mut self, index: LogIndex, image: &SnapshotImage);
    /// Answer the read `cmd` from the state machine as it is now: it has applied everything
    /// the read must see. (Backends that never call [`NodeHost::read`] get no reads.)
    fn serve_read(&mut self, cmd: ClientCommand) {
        let _ = cmd;
    }
    /// This node lost leadership before it could answer the read `cmd`.
    fn refuse_read(&mut self, cmd: ClientCommand, not_leader: NotLeader) {
        let _ = (cmd, not_leader);
    }
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
    /// Snapshot every this many applied entries (0: never). See [`crate::snapshot`].
    snapshot_every: u64,
    /// The index of the last snapshot taken or restored in this boot.
    snapshot_index: LogIndex,
    /// Snapshots handed to the protocol: one during a pass means another pass, for the
    /// actions the compaction asked for.
    compactions: u64,
    /// Reads registered with the node and not yet ready, in id order.
    reads: VecDeque<(ReadId, ClientCommand)>,
    /// Reads the node said are ready, each waiting until the state machine has applied
    /// through its read index.
    ready_reads: VecDeque<(LogIndex, ClientCommand)>,
    /// The last index handed to [`HostIo::commit`] in this boot.
    applied: LogIndex,
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
        Self::new(L::boot(id, members, cfg, recovered, seed)).with_snapshot_every(cfg.snapshot_every)
    }

    /// Snapshots the state machine every `entries` applied entries (0: never).
    pub fn with_snapshot_every(mut self, entries: u64) -> Self {
        self.snapshot_every = entries;
        self
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
            snapshot_every: 0,
            snapshot_index: 0,
            compactions: 0,
            reads: VecDeque::new(),
            ready_reads: VecDeque::new(),
            applied: 0,
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

    /// A client's read under `read_path = "read_index"` or `"lease"`: registered with the
    /// node, answered through [`HostIo::serve_read`] once ready (or refused through
    /// [`HostIo::refuse_read`]). Like [`propose`](Self::propose), its effects wait for
    /// [`carry_out`](Self::carry_out).
    pub fn read(&mut self, now: Nanos, cmd: ClientCommand) -> Result<(), NotLeader> {
        let id = self.node.read(now)?;
        self.reads.push_back((id, cmd));
        Ok(())
    }

    /// Reads registered and not yet answered or refused.
    pub fn pending_reads(&self) -> usize {
        self.reads.len() + self.ready_reads.len()
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

    /// Carries out everything the node has asked for, in order, including what taking a
    /// snapshot makes it ask for.
    pub fn carry_out(&mut self, io: &mut impl HostIo<L>) {
        let mut actions = std::mem::take(&mut self.actions);
        loop {
            self.node.take_actions(&mut actions);
            let compactions = self.compactions;
            for action in actions.drain(..) {
                self.carry_out_one(action, io);
            }
            if self.compactions == compactions {
                break;
            }
        }
        self.actions = actions;
    }

    fn carry_out_one(&mut self, action: Action<L::Message, L::Record>, io: &mut impl HostIo<L>) {
        match action {
            Action::Persist { seq, records } => {
                self.issue(seq);
                io.persist(seq, records);
            }
            Action::Checkpoint { seq, records } => {
                self.issue(seq);
                io.checkpoint(seq, records);
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
            Action::Commit { index, cmd } => {
                io.commit(index, cmd);
                self.applied = index;
                self.serve_applied_reads(io);
                self.maybe_snapshot(index, io);
            }
            Action::Restore { index, image } => {
                io.restore(index, &image);
                self.snapshot_index = index;
                // The state machine now stands at `index`, as if it had applied through it.
                self.applied = index;
                self.serve_applied_reads(io);
            }
            Action::ReadReady { upto, index } => {
                while let Some((_, cmd)) = self.reads.pop_front_if(|(id, _)| *id <= upto) {
                    self.ready_reads.push_back((index, cmd));
                }
                self.serve_applied_reads(io);
            }
            Action::ReadAborted { upto } => {
                let hint = self.node.status().leader_hint;
                while let Some((_, cmd)) = self.reads.pop_front_if(|(id, _)| *id <= upto) {
                    io.refuse_read(cmd, NotLeader { hint });
                }
            }
        }
    }

    fn issue(&mut self, seq: PersistSeq) {
        assert!(
            seq > self.issued_seq,
            "{:?}: persist seq {seq} not increasing (last {})",
            self.node.status().id,
            self.issued_seq
        );
        self.issued_seq = seq;
    }

    /// Every `snapshot_every` applied entries: the state machine's image at `index` (just
    /// applied) goes to the protocol, which compacts its log. One policy for both protocols.
    /// Reference: Raft §7 ("each server takes snapshots independently").
    fn maybe_snapshot(&mut self, index: LogIndex, io: &mut impl HostIo<L>) {
        if self.snapshot_every > 0 && index >= self.snapshot_index + self.snapshot_every {
            let image = io.image(index);
            self.snapshot_index = index;
            self.compactions += 1;
            self.node.compact(index, image);
        }
    }

    /// Answers the ready reads whose read index the state machine has reached, in order.
    /// Reference: Raft thesis §6.4, step 4 ("wait for its state machine to advance at least
    /// as far as the readIndex").
    fn serve_applied_reads(&mut self, io: &mut impl HostIo<L>) {
        let applied = self.applied;
        while let Some((_, cmd)) = self.ready_reads.pop_front_if(|(index, _)| *index <= applied) {
            io.serve_read(cmd);
        }
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
        compacted: Vec<LogIndex>,
        role: Role,
        reads: ReadId,
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
                compacted: Vec::new(),
                role: Role::Follower,
                reads: 0,
            }
        }
        fn propose(&mut self, _: Nanos, _: Command) -> Result<(), NotLeader> {
            Ok(())
        }
        fn read(&mut self, _: Nanos) -> Result<ReadId, NotLeader> {
            self.reads += 1;
            Ok(self.reads)
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
        fn compact(&mut self, index: LogIndex, _: SnapshotImage) {
            self.compacted.push(index);
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
        fn checkpoint(&mut self, seq: PersistSeq, records: Vec<u8>) {
            self.0.push(format!("checkpoint {seq} {records:?}"));
        }
        fn image(&mut self, index: LogIndex) -> SnapshotImage {
            self.0.push(format!("image {index}"));
            SnapshotImage::new(vec![index as u8])
        }
        fn restore(&mut self, index: LogIndex, _: &SnapshotImage) {
            self.0.push(format!("restore {index}"));
        }
        fn serve_read(&mut self, cmd: ClientCommand) {
            self.0.push(format!("read c{}#{}", cmd.client, cmd.seq));
        }
        fn refuse_read(&mut self, cmd: ClientCommand, _: NotLeader) {
            self.0.push(format!("refuse c{}#{}", cmd.client, cmd.seq));
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

    fn get(seq: u64) -> ClientCommand {
        match Command::client(1, seq, Op::Get { key: "k".into() }) {
            Command::Client(c) => c,
            Command::Noop => unreachable!(),
        }
    }

    fn commit(index: LogIndex) -> Action<Msg, u8> {
        Action::Commit {
            index,
            cmd: Command::Noop,
        }
    }

    /// Reference: Raft thesis §6.4, step 4.
    #[test]
    fn a_ready_read_waits_until_the_state_machine_reaches_its_read_index() {
        let mut h = host(vec![
            vec![Action::ReadReady { upto: 1, index: 2 }],
            vec![commit(1)],
            vec![commit(2)],
        ]);
        let mut io = Log::default();
        h.read(0, get(7)).unwrap();
        h.carry_out(&mut io);
        h.carry_out(&mut io);
        assert!(
            io.0.iter().all(|l| !l.starts_with("read")),
            "not before index 2: {:?}",
            io.0
        );
        h.carry_out(&mut io);
        assert_eq!(io.0.last().map(String::as_str), Some("read c1#7"));
    }

    #[test]
    fn only_reads_up_to_the_ready_id_are_answered_and_aborted_ones_are_refused() {
        let mut h = host(vec![
            vec![Action::ReadReady { upto: 1, index: 0 }],
            vec![Action::ReadAborted { upto: 2 }],
        ]);
        let mut io = Log::default();
        h.read(0, get(1)).unwrap();
        h.read(0, get(2)).unwrap();
        h.carry_out(&mut io);
        h.carry_out(&mut io);
        assert_eq!(io.0, ["read c1#1", "refuse c1#2"]);
        assert_eq!(h.pending_reads(), 0);
    }

    #[test]
    fn every_snapshot_every_entries_the_image_goes_to_the_protocol() {
        let c = |index| Action::Commit {
            index,
            cmd: Command::Noop,
        };
        let restore = Action::Restore {
            index: 10,
            image: SnapshotImage::new(vec![]),
        };
        let mut h = host(vec![vec![c(1), c(2), c(3), restore, c(11), c(12)]]).with_snapshot_every(2);
        let mut io = Log::default();
        h.carry_out(&mut io);
        assert_eq!(
            io.0,
            [
                "commit 1",
                "commit 2",
                "image 2",
                "commit 3",
                "restore 10",
                "commit 11",
                "commit 12",
                "image 12"
            ]
        );
        assert_eq!(h.node().compacted, [2, 12]);
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
