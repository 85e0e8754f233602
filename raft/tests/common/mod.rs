//! Helpers shared by the integration tests: hand-driven elections and deliveries on top of
//! `replog::testkit::Network`, and nodes booted from hand-built logs.

#![allow(dead_code)] // each test binary uses a different subset

use raft::{Entry, Message, RaftNode, Record};
use replog::testkit::Network;
use replog::{Command, LogIndex, Nanos, NodeId, Op, ProtocolConfig, ReplicatedLog, Role};

pub const MS: Nanos = 1_000_000;
pub const SEC: Nanos = 1_000_000_000;

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

/// The Raft node behind `id` (panics if it is down).
pub fn raft(net: &Network<RaftNode>, id: NodeId) -> &RaftNode {
    net.node(id).expect("node is up")
}

/// `id`'s election timer fires now: it campaigns (no message is delivered yet).
pub fn campaign(net: &mut Network<RaftNode>, id: NodeId) {
    let now_ns = net.now();
    net.node_mut(id).expect("node is up").campaign(now_ns);
    net.drain(id);
}

/// Whether `m` belongs to an election (votes, pre-votes and their answers).
pub fn is_vote_traffic(m: &Message) -> bool {
    matches!(
        m,
        Message::RequestVote(_)
            | Message::RequestVoteResponse(_)
            | Message::PreVote(_)
            | Message::PreVoteResponse(_)
    )
}

/// Delivers election traffic (and what it causes) until none is queued; other messages
/// stay queued.
pub fn deliver_votes(net: &mut Network<RaftNode>) {
    while net.deliver_matching(|_, _, m| is_vote_traffic(m)) > 0 {}
}

/// `id` campaigns, election traffic is delivered, and whatever else was sent is dropped,
/// until `id` leads (at most `tries` campaigns). Returns whether it won.
pub fn campaign_until_leader(net: &mut Network<RaftNode>, id: NodeId, tries: usize) -> bool {
    for _ in 0..tries {
        campaign(net, id);
        deliver_votes(net);
        if net.status(id).is_some_and(|s| s.role == Role::Leader) {
            return true;
        }
    }
    false
}

/// Hands `msg` from `from` straight to `to` (bypassing the queue) and carries out what follows.
pub fn inject(net: &mut Network<RaftNode>, from: NodeId, to: NodeId, msg: Message) {
    let now_ns = net.now();
    net.node_mut(to).expect("node is up").step(now_ns, from, msg);
    net.drain(to);
}

/// Durable records describing a node in `term` (having voted for `voted_for`) whose log
/// holds one entry of each term in `terms`.
pub fn records(term: u64, voted_for: Option<NodeId>, terms: &[u64]) -> Vec<Record> {
    let entries = terms
        .iter()
        .enumerate()
        .map(|(i, &t)| Entry {
            term: t,
            cmd: if i == 0 || terms[i - 1] != t {
                Command::Noop
            } else {
                put(t, i as u64 + 1)
            },
        })
        .collect();
    vec![
        Record::TermAndVote {
            current_term: term,
            voted_for,
        },
        Record::Entries {
            first_index: 1,
            entries,
        },
    ]
}

/// Replaces node `id` of a freshly built network with one booted from `recs`. Only valid
/// before the node has persisted anything (its storage in the testkit stays empty).
pub fn boot_with(net: &mut Network<RaftNode>, cfg: &ProtocolConfig, id: NodeId, recs: Vec<Record>) {
    let members = net.members().to_vec();
    let node = RaftNode::boot(id, &members, cfg, recs, 1000 + id.0 as u64);
    *net.node_mut(id).expect("node is up") = node;
    net.drain(id);
}

/// The terms of `id`'s log.
pub fn log_terms(net: &Network<RaftNode>, id: NodeId) -> Vec<u64> {
    raft(net, id).log().terms()
}

/// The index at which `id` committed `cmd` in this boot, if it did.
pub fn committed_at(net: &Network<RaftNode>, id: NodeId, cmd: &Command) -> Option<LogIndex> {
    net.commits(id).iter().find(|(_, c)| c == cmd).map(|(i, _)| *i)
}

/// The highest term any live node has seen.
pub fn max_term(net: &Network<RaftNode>) -> u64 {
    net.members()
        .iter()
        .filter_map(|&id| net.node(id))
        .map(RaftNode::current_term)
        .max()
        .unwrap_or(0)
}
