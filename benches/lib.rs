//! Criterion benchmarks live beside this file; see README.md.
//!
//! This library holds what the benches share:
//! - [`StepCluster`]: a bare in-process cluster (no latency, instant persistence, no checks)
//!   that drives one protocol through steady-state replication, its actions carried out by
//!   the same [`NodeHost`] as everywhere else, and times only the `step` calls of one message
//!   kind (with the host carrying out their actions into a queue), so `protocol_step`
//!   measures the protocol's own work per message and nothing of the simulator;
//! - [`snapshots`]: for every message kind, a node as it was just before stepping one such
//!   message, taken from a cluster driven through leader changes, so `protocol_step` can
//!   time a single step of each kind (elections and catch-up included) from the same state;
//! - [`raft_kind`] / [`paxos_kind`]: the message kind names the step bench selects by;
//! - [`saturation_scenario`]: the scenario the simulator and end-to-end benches run;
//! - [`PingPong`]: a protocol that does almost nothing per message, so the simulator's own
//!   cost per delivery (event queue, network model, CPU model, trace) can be measured apart
//!   from any protocol's.

use model::scenario::Scenario;
use replog::{
    Action, Command, Epoch, HostIo, LogIndex, Nanos, NodeHost, NodeId, NotLeader, Op, PersistSeq,
    ProtocolConfig, ReplicatedLog, Role, Status, WireSize,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which message kind a step loop times: a classifier and the kind it must return.
type TimedKind<'a, M> = Option<(fn(&M) -> &'static str, &'a str)>;

/// A cluster of `L` nodes joined by a perfect network: FIFO, no latency, no loss; every
/// persist is durable at once. Time moves by a fixed step per round.
pub struct StepCluster<L: ReplicatedLog> {
    now: Nanos,
    nodes: Vec<NodeHost<L>>,
    queue: VecDeque<(NodeId, NodeId, L::Message)>,
    leader: Option<NodeId>,
    op: Arc<Op>,
    next_seq: u64,
    /// Messages from or to this node are dropped at delivery: a leader cut off from the rest.
    cut: Option<NodeId>,
    /// Called with the receiving node before each message is stepped.
    observe: Option<Observer<L>>,
}

/// See [`StepCluster::observe`]: (receiver, sender, message, now).
type Observer<L> = Box<dyn FnMut(&L, NodeId, &<L as ReplicatedLog>::Message, Nanos)>;

/// Virtual time per round of [`StepCluster::round`].
const ROUND_NS: Nanos = 10_000;

/// The bench cluster as a node's backend: sends go to the queue, the last persist is noted
/// (to be confirmed at once), commits are dropped.
struct StepIo<'a, M> {
    id: NodeId,
    queue: &'a mut VecDeque<(NodeId, NodeId, M)>,
    persisted: Option<PersistSeq>,
}

impl<L: ReplicatedLog> HostIo<L> for StepIo<'_, L::Message> {
    fn persist(&mut self, seq: PersistSeq, _: Vec<L::Record>) {
        self.persisted = Some(seq);
    }
    fn send(&mut self, to: NodeId, msg: L::Message) {
        self.queue.push_back((self.id, to, msg));
    }
    fn commit(&mut self, _: LogIndex, _: Command) {}
    fn checkpoint(&mut self, seq: PersistSeq, _: Vec<L::Record>) {
        self.persisted = Some(seq);
    }
    fn image(&mut self, _: LogIndex) -> replog::SnapshotImage {
        replog::SnapshotImage::new(Vec::new())
    }
    fn restore(&mut self, _: LogIndex, _: &replog::SnapshotImage) {}
}

impl<L: ReplicatedLog> StepCluster<L> {
    /// Boots `n` nodes with `cfg` and runs until one leads.
    pub fn new(n: usize, cfg: &ProtocolConfig, seed: u64) -> Self {
        let members: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
        let nodes = members
            .iter()
            .map(|&id| NodeHost::boot(id, &members, cfg, Vec::new(), seed.wrapping_add(id.0 as u64)))
            .collect();
        let mut c = StepCluster {
            now: 0,
            nodes,
            queue: VecDeque::new(),
            leader: None,
            op: Arc::new(Op::Put {
                key: "key-0042".into(),
                value: "v".repeat(16),
            }),
            next_seq: 0,
            cut: None,
            observe: None,
        };
        for id in members {
            c.drain(id);
        }
        for _ in 0..1_000_000 {
            c.tick_due();
            let (mut spent, mut count) = (Duration::ZERO, 0);
            c.deliver_all(None, &mut spent, &mut count);
            c.leader = c
                .nodes
                .iter()
                .map(NodeHost::status)
                .find(|s| s.role == Role::Leader)
                .map(|s| s.id);
            if c.leader.is_some() {
                return c;
            }
            c.now += ROUND_NS * 100;
        }
        panic!("no leader elected");
    }

    /// Carries out `id`'s actions: sends are queued, persists made durable at once (and the
    /// node told), commits dropped.
    fn drain(&mut self, id: NodeId) {
        let mut io = StepIo {
            id,
            queue: &mut self.queue,
            persisted: None,
        };
        let host = &mut self.nodes[id.index()];
        host.carry_out(&mut io);
        while let Some(seq) = io.persisted.take() {
            host.persisted(self.now, seq, &mut io);
        }
    }

    fn tick_due(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].next_deadline().is_some_and(|d| d <= self.now) {
                self.nodes[i].node_mut().tick(self.now);
                self.drain(NodeId(i as u32));
            }
        }
    }

    /// Delivers until the network is empty; the steps of messages whose kind is `timed` are
    /// timed (the step and the host carrying out its actions) into `spent` and counted into
    /// `count`.
    fn deliver_all(&mut self, timed: TimedKind<'_, L::Message>, spent: &mut Duration, count: &mut u64) {
        while let Some((from, to, msg)) = self.queue.pop_front() {
            if self.cut.is_some_and(|c| c == from || c == to) {
                continue;
            }
            if let Some(observe) = &mut self.observe {
                observe(self.nodes[to.index()].node(), from, &msg, self.now);
            }
            let is_timed = timed.is_some_and(|(kind, want)| kind(&msg) == want);
            let mut io = StepIo {
                id: to,
                queue: &mut self.queue,
                persisted: None,
            };
            let host = &mut self.nodes[to.index()];
            if is_timed {
                let start = Instant::now();
                host.step(self.now, from, msg, &mut io);
                *spent += start.elapsed();
                *count += 1;
            } else {
                host.step(self.now, from, msg, &mut io);
            }
            while let Some(seq) = io.persisted.take() {
                host.persisted(self.now, seq, &mut io);
            }
        }
    }

    /// One round: the leader gets `batch` proposals, then every message is delivered.
    fn round(&mut self, batch: usize, timed: TimedKind<'_, L::Message>) -> (Duration, u64) {
        let leader = self.leader.expect("a leader");
        for _ in 0..batch {
            self.next_seq += 1;
            let cmd = Command::Client(replog::ClientCommand {
                client: 1,
                seq: self.next_seq,
                op: self.op.clone(),
            });
            self.nodes[leader.index()]
                .propose(self.now, cmd)
                .expect("the leader accepts proposals");
        }
        self.drain(leader);
        let (mut spent, mut count) = (Duration::ZERO, 0);
        self.deliver_all(timed, &mut spent, &mut count);
        self.now += ROUND_NS;
        self.tick_due();
        assert_eq!(
            self.nodes[leader.index()].status().role,
            Role::Leader,
            "leadership changed during the bench"
        );
        (spent, count)
    }

    /// Runs rounds with `batch` proposals each until `iters` messages of kind `want` have
    /// been stepped; returns the time their steps took (criterion's `iter_custom`).
    pub fn time_steps(
        &mut self,
        iters: u64,
        batch: usize,
        kind: fn(&L::Message) -> &'static str,
        want: &str,
    ) -> Duration {
        let (mut spent, mut done) = (Duration::ZERO, 0);
        let mut idle_rounds = 0;
        while done < iters {
            let (s, n) = self.round(batch, Some((kind, want)));
            spent += s;
            done += n;
            idle_rounds = if n == 0 { idle_rounds + 1 } else { 0 };
            assert!(idle_rounds < 10_000, "no {want} message in 10,000 rounds");
        }
        black_box(&self.nodes);
        spent
    }

    /// Runs `rounds` rounds untimed (to reach a steady state).
    pub fn warm(&mut self, rounds: usize, batch: usize) {
        for _ in 0..rounds {
            self.round(batch, None);
        }
    }

    /// Advances time by a millisecond, fires due timers and delivers everything.
    fn millisecond(&mut self) {
        self.now += 1_000_000;
        self.tick_due();
        let (mut spent, mut count) = (Duration::ZERO, 0);
        self.deliver_all(None, &mut spent, &mut count);
    }

    /// Replaces the leader the way a partition does: the leader is cut off until the others
    /// elect one of themselves, the new leader commits `lag` rounds of `batch` commands
    /// without it, and then it rejoins, steps down on the newer term or ballot, and catches
    /// up. Every message kind of an election and of catch-up passes through.
    pub fn change_leader(&mut self, lag: usize, batch: usize) {
        let old = self.leader.expect("a leader");
        self.cut = Some(old);
        let mut waited = 0;
        self.leader = loop {
            self.millisecond();
            let new = self
                .nodes
                .iter()
                .map(NodeHost::status)
                .filter(|s| s.id != old && s.role == Role::Leader)
                .max_by_key(|s| s.epoch)
                .map(|s| s.id);
            if new.is_some() {
                break new;
            }
            waited += 1;
            assert!(waited < 100_000, "no new leader after 100 virtual seconds");
        };
        self.warm(lag, batch);
        self.cut = None;
        let leader = self.leader.expect("just elected");
        for _ in 0..100_000 {
            self.millisecond();
            let (o, l) = (
                self.nodes[old.index()].status(),
                self.nodes[leader.index()].status(),
            );
            if o.role != Role::Leader && o.commit_index == l.commit_index {
                return;
            }
        }
        panic!("the old leader did not catch up in 100 virtual seconds");
    }
}

/// A node just before it steps one message: what a single-step bench clones and steps.
pub struct Snapshot<L: ReplicatedLog> {
    pub node: L,
    pub now: Nanos,
    pub from: NodeId,
    pub msg: L::Message,
}

/// For every message kind `kind_of` names, the first one stepped once a 5-node cluster under
/// `cfg` is in steady replication and goes through `changes` leader changes (each followed by
/// steady replication), with the node that received it as it was just before: election
/// kinds from the first election, replication kinds from the new leader's first round, and
/// catch-up kinds from the old leader's return. Kinds that never occur are absent.
pub fn snapshots<L: ReplicatedLog + Clone>(
    cfg: &ProtocolConfig,
    changes: usize,
    kind_of: fn(&L::Message) -> &'static str,
) -> BTreeMap<&'static str, Snapshot<L>> {
    let found: Rc<RefCell<BTreeMap<&'static str, Snapshot<L>>>> = Rc::default();
    let mut cluster = StepCluster::<L>::new(5, cfg, 7);
    cluster.warm(200, 4);
    let sink = found.clone();
    cluster.observe = Some(Box::new(move |node: &L, from, msg: &L::Message, now| {
        let mut found = sink.borrow_mut();
        if !found.contains_key(kind_of(msg)) {
            let snapshot = Snapshot {
                node: node.clone(),
                now,
                from,
                msg: msg.clone(),
            };
            found.insert(kind_of(msg), snapshot);
        }
    }));
    for _ in 0..changes {
        cluster.change_leader(50, 4);
        cluster.warm(50, 4);
    }
    drop(cluster);
    Rc::try_unwrap(found)
        .unwrap_or_else(|_| unreachable!("the cluster and its observer are dropped"))
        .into_inner()
}

/// Raft's message kinds by name.
pub fn raft_kind(m: &raft::Message) -> &'static str {
    use raft::Message::*;
    match m {
        RequestVote(_) => "RequestVote",
        RequestVoteResponse(_) => "RequestVoteResponse",
        AppendEntries(_) => "AppendEntries",
        AppendEntriesResponse(_) => "AppendEntriesResponse",
        PreVote(_) => "PreVote",
        PreVoteResponse(_) => "PreVoteResponse",
        InstallSnapshot(_) => "InstallSnapshot",
        InstallSnapshotResponse(_) => "InstallSnapshotResponse",
        Confirm(_) => "Confirm",
        ConfirmResponse(_) => "ConfirmResponse",
    }
}

/// Multi-Paxos's message kinds by name.
pub fn paxos_kind(m: &paxos::Message) -> &'static str {
    use paxos::Message::*;
    match m {
        Prepare(_) => "Prepare",
        Promise(_) => "Promise",
        Nack(_) => "Nack",
        Accept(_) => "Accept",
        Accepted(_) => "Accepted",
        Heartbeat(_) => "Heartbeat",
        HeartbeatReply(_) => "HeartbeatReply",
        Learn(_) => "Learn",
        Learned(_) => "Learned",
        LearnSnapshot(_) => "LearnSnapshot",
        LearnedSnapshot(_) => "LearnedSnapshot",
        PrePrepare(_) => "PrePrepare",
        PrePromise(_) => "PrePromise",
        Confirm(_) => "Confirm",
        ConfirmReply(_) => "ConfirmReply",
    }
}

/// A fault-free scenario of `nodes` nodes for `duration` ("1s") of virtual time, loaded by
/// an open-loop workload of `rate` arrivals per second with 256 clients: at the default
/// CPU model the leader is the bottleneck well below 20,000/s for 9 nodes, so every size
/// runs at saturation. Settle is short: the benches measure the loaded part.
pub fn saturation_scenario(nodes: usize, rate: u64, duration: &str) -> Scenario {
    let text = format!(
        r#"
name = "bench-{nodes}-nodes"
seed = 1
duration = "{duration}"
settle = "100ms"
[cluster]
nodes = {nodes}
[workload]
mode = "open"
rate = {rate}
clients = 256
"#
    );
    Scenario::parse(&text, "bench").expect("the bench scenario parses")
}

/// A ball passed around the ring by [`PingPong`]; `hops` counts its passes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ball {
    pub hops: u64,
}

impl WireSize for Ball {
    fn wire_size(&self) -> usize {
        self.hops.wire_size()
    }
}

/// A trivial [`ReplicatedLog`]: at boot each node throws [`PingPong::BALLS`] balls to the
/// next node of the ring, and passes on every ball it receives. No persistence, no commits,
/// no timers, no clients: run in the simulator, nearly all the work per delivered message is
/// the simulator's own (queueing, network and CPU models, the trace).
pub struct PingPong {
    id: NodeId,
    next: NodeId,
    out: Vec<Action<Ball, ()>>,
}

impl PingPong {
    /// Balls each node throws at boot: messages in flight are `BALLS` per node.
    pub const BALLS: u64 = 16;
}

impl ReplicatedLog for PingPong {
    type Message = Ball;
    type Record = ();
    const NAME: &'static str = "pingpong";

    fn boot(id: NodeId, members: &[NodeId], _: &ProtocolConfig, _: Vec<()>, _: u64) -> Self {
        let next = members[(id.index() + 1) % members.len()];
        let out = (0..Self::BALLS)
            .map(|_| Action::Send {
                to: next,
                msg: Ball { hops: 0 },
                after: None,
            })
            .collect();
        PingPong { id, next, out }
    }

    fn propose(&mut self, _: Nanos, _: Command) -> Result<(), NotLeader> {
        Err(NotLeader { hint: None })
    }

    fn read(&mut self, _: Nanos) -> Result<replog::ReadId, NotLeader> {
        Err(NotLeader { hint: None })
    }

    fn step(&mut self, _: Nanos, _: NodeId, msg: Ball) {
        self.out.push(Action::Send {
            to: self.next,
            msg: Ball { hops: msg.hops + 1 },
            after: None,
        });
    }

    fn tick(&mut self, _: Nanos) {}

    fn next_deadline(&self) -> Option<Nanos> {
        None
    }

    fn take_actions(&mut self, out: &mut Vec<Action<Ball, ()>>) {
        out.append(&mut self.out);
    }

    fn persisted(&mut self, _: Nanos, _: PersistSeq) {}

    fn status(&self) -> Status {
        Status {
            id: self.id,
            role: Role::Follower,
            leader_hint: None,
            epoch: Epoch::term(1),
            commit_index: 0,
            last_index: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds<L: ReplicatedLog + Clone>(
        cfg: &ProtocolConfig,
        kind_of: fn(&L::Message) -> &'static str,
    ) -> Vec<&'static str> {
        snapshots::<L>(cfg, 3, kind_of).into_keys().collect()
    }

    #[test]
    fn leader_changes_pass_every_raft_message_kind() {
        let mut cfg = ProtocolConfig::default();
        assert_eq!(
            kinds::<raft::RaftNode>(&cfg, raft_kind),
            [
                "AppendEntries",
                "AppendEntriesResponse",
                "RequestVote",
                "RequestVoteResponse"
            ]
        );
        cfg.pre_vote = true;
        assert_eq!(
            kinds::<raft::RaftNode>(&cfg, raft_kind),
            [
                "AppendEntries",
                "AppendEntriesResponse",
                "PreVote",
                "PreVoteResponse",
                "RequestVote",
                "RequestVoteResponse"
            ]
        );
    }

    #[test]
    fn leader_changes_pass_every_multi_paxos_message_kind() {
        let mut cfg = ProtocolConfig::default();
        let found = kinds::<paxos::PaxosNode>(&cfg, paxos_kind);
        assert_eq!(
            found,
            [
                "Accept",
                "Accepted",
                "Heartbeat",
                "HeartbeatReply",
                "Learn",
                "Learned",
                "Nack",
                "Prepare",
                "Promise"
            ]
        );
        cfg.pre_vote = true;
        let found = kinds::<paxos::PaxosNode>(&cfg, paxos_kind);
        assert!(
            found.contains(&"PrePrepare") && found.contains(&"PrePromise"),
            "{found:?}"
        );
    }
}
