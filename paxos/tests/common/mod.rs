//! Helpers shared by the integration tests: hand-driven phase 1 and deliveries on top of
//! `replog::testkit::Network`, so that a test reads like the schedule it builds.

#![allow(dead_code)] // each test binary uses a different subset

use paxos::{Message, PaxosNode};
use replog::testkit::Network;
use replog::{Command, Epoch, LogIndex, Nanos, NodeId, Op, ProtocolConfig, ReplicatedLog, Role};

pub const MS: Nanos = 1_000_000;
pub const SEC: Nanos = 1_000_000_000;

pub const N0: NodeId = NodeId(0);
pub const N1: NodeId = NodeId(1);
pub const N2: NodeId = NodeId(2);
pub const N3: NodeId = NodeId(3);
pub const N4: NodeId = NodeId(4);

/// A client write with a unique (client, seq).
pub fn put(client: u64, seq: u64) -> Command {
    Command::client(
        client,
        seq,
        Op::Put {
            key: format!("k{seq}"),
            value: format!("{client}-{seq}"),
        },
    )
}

/// The Paxos node behind `id` (panics if it is down).
pub fn paxos(net: &Network<PaxosNode>, id: NodeId) -> &PaxosNode {
    net.node(id).expect("node is up")
}

/// `id`'s role (panics if it is down).
pub fn role(net: &Network<PaxosNode>, id: NodeId) -> Role {
    net.status(id).expect("node is up").role
}

/// `id`'s failure detector fires now: it starts phase 1 with a new ballot (no message is
/// delivered yet).
pub fn start_phase1(net: &mut Network<PaxosNode>, id: NodeId) {
    let now_ns = net.now();
    net.node_mut(id).expect("node is up").start_phase1(now_ns);
    net.drain(id);
}

/// `id`'s failure detector fires now: with `pre_vote` it starts a pre-prepare round, else
/// phase 1 (no message is delivered yet). Raft's `campaign`.
pub fn campaign(net: &mut Network<PaxosNode>, id: NodeId) {
    let now_ns = net.now();
    net.node_mut(id).expect("node is up").campaign(now_ns);
    net.drain(id);
}

/// Whether `m` belongs to phase 1 (pre-prepares, prepares, promises and refusals).
pub fn is_phase1(m: &Message) -> bool {
    matches!(
        m,
        Message::PrePrepare(_)
            | Message::PrePromise(_)
            | Message::Prepare(_)
            | Message::Promise(_)
            | Message::Nack(_)
    )
}

/// Delivers phase 1 traffic (and the phase 1 traffic it causes) until none is queued;
/// everything else stays queued.
pub fn deliver_phase1(net: &mut Network<PaxosNode>) {
    while net.deliver_matching(|_, _, m| is_phase1(m)) > 0 {}
}

/// `id` runs phase 1 and only phase 1 traffic is delivered, up to `tries` times (a refused
/// ballot teaches it a higher round), until it leads. Returns whether it does.
pub fn phase1_until_leader(net: &mut Network<PaxosNode>, id: NodeId, tries: usize) -> bool {
    for _ in 0..tries {
        start_phase1(net, id);
        deliver_phase1(net);
        if role(net, id) == Role::Leader {
            return true;
        }
    }
    false
}

/// `id` becomes leader by phase 1 and everything queued is then delivered (its recovery
/// proposals, heartbeats and their answers). Panics if it cannot win.
pub fn lead(net: &mut Network<PaxosNode>, id: NodeId) {
    assert!(phase1_until_leader(net, id, 3), "{id:?} did not win phase 1");
    net.deliver_all();
}

/// Hands `msg` from `from` straight to `to` (bypassing the queue) and carries out what
/// follows.
pub fn inject(net: &mut Network<PaxosNode>, from: NodeId, to: NodeId, msg: Message) {
    let now_ns = net.now();
    net.node_mut(to).expect("node is up").step(now_ns, from, msg);
    net.drain(to);
}

/// The index at which `id` committed `cmd` in this boot, if it did.
pub fn committed_at(net: &Network<PaxosNode>, id: NodeId, cmd: &Command) -> Option<LogIndex> {
    net.commits(id).iter().find(|(_, c)| c == cmd).map(|(i, _)| *i)
}

/// What `id` committed in this boot, in index order.
pub fn committed(net: &Network<PaxosNode>, id: NodeId) -> Vec<Command> {
    net.commits(id).iter().map(|(_, c)| c.clone()).collect()
}

/// The command `id` holds in `slot` (accepted or chosen), if any.
pub fn slot_value(net: &Network<PaxosNode>, id: NodeId, slot: LogIndex) -> Option<Command> {
    paxos(net, id).log().get(slot).map(|e| e.cmd.clone())
}

/// A settled cluster of `n` with `cfg`: a leader, heartbeats exchanged. Returns the network
/// and the leader.
pub fn settled(n: usize, cfg: ProtocolConfig, seed: u64) -> (Network<PaxosNode>, NodeId) {
    let mut net = Network::<PaxosNode>::new(n, cfg, seed);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    (net, leader)
}

/// The highest ballot any live node has promised (Raft's `max_term`).
pub fn max_ballot(net: &Network<PaxosNode>) -> Epoch {
    net.members()
        .iter()
        .filter_map(|&id| net.node(id))
        .map(PaxosNode::promised)
        .max()
        .unwrap_or_default()
}

/// Boots a stand-alone node (outside any network) from `records`.
pub fn boot(id: NodeId, n: u32, records: Vec<paxos::Record>) -> PaxosNode {
    let members: Vec<NodeId> = (0..n).map(NodeId).collect();
    PaxosNode::boot(id, &members, &ProtocolConfig::default(), records, 7)
}
