//! A refusal of a request from an earlier term is stamped with the refuser's own, later term
//! (Figure 2, receiver rule 1), and by the time it arrives the requester may have reached
//! that term. Such a refusal teaches the term and nothing else: it is not an answer to the
//! requester's current RequestVote, PreVote or AppendEntries. These are the two schedules of
//! issue 15 (both failed before responses named the request's term), step by step.

mod common;

use common::*;
use raft::{Message, RaftNode};
use replog::testkit::Network;
use replog::{NodeId, ProtocolConfig, Role};

const N0: NodeId = NodeId(0);
const N1: NodeId = NodeId(1);
const N2: NodeId = NodeId(2);
const N3: NodeId = NodeId(3);

/// A copy of the queued message from `from` to `to` matching `pick`: the test hands it over
/// later, with `inject`, as if it had been delayed (and drops the original from the queue).
fn hold(net: &Network<RaftNode>, from: NodeId, to: NodeId, pick: fn(&Message) -> bool) -> Message {
    net.queued()
        .find(|(f, t, m)| *f == from && *t == to && pick(m))
        .map(|(_, _, m)| m.clone())
        .expect("the message is queued")
}

/// Delivers the queued messages from `from` to `to` (and nothing else).
fn deliver(net: &mut Network<RaftNode>, from: NodeId, to: NodeId) {
    net.deliver_matching(|f, t, _| f == from && t == to);
}

fn is_request_vote(m: &Message) -> bool {
    matches!(m, Message::RequestVote(_))
}

fn is_pre_vote(m: &Message) -> bool {
    matches!(m, Message::PreVote(_))
}

fn is_append_entries(m: &Message) -> bool {
    matches!(m, Message::AppendEntries(_))
}

/// Five nodes. N1 campaigns for term 1 and its RequestVote to N2 is delayed; N1 campaigns
/// for term 2 and N2 grants it. The delayed term-1 request then reaches N2, which refuses it
/// with its term, 2. That refusal must not overwrite N2's grant: with N3's grant, N1 holds
/// a majority (itself, N2, N3) and leads. Reference: Raft §5.2, Figure 2 (receiver rule 1).
#[test]
fn a_stale_refusal_does_not_overwrite_a_vote_granted_in_the_current_term() {
    let mut net = Network::<RaftNode>::new(5, ProtocolConfig::default(), 1);
    campaign(&mut net, N1);
    let delayed = hold(&net, N1, N2, is_request_vote);
    net.drop_queued();
    campaign(&mut net, N1);
    deliver(&mut net, N1, N2);
    deliver(&mut net, N2, N1);
    inject(&mut net, N1, N2, delayed);
    deliver(&mut net, N2, N1);
    deliver(&mut net, N1, N3);
    deliver(&mut net, N3, N1);
    let s = net.status(N1).expect("up");
    assert_eq!((s.role, s.epoch.round), (Role::Leader, 2));
}

/// The same with PreVote. N1 pre-votes for term 1 and that PreVote to N2 is delayed; N1 then
/// runs elections for terms 1 and 2 (N2 reaches term 2 by voting in the second), and
/// pre-votes for term 3, which N2 grants. The delayed PreVote for term 1 reaches N2, which
/// refuses it with its term, 2, N1's current term. That refusal must not overwrite N2's
/// grant: with N3's grant, N1 has a majority and starts its election for term 3.
/// Reference: Raft thesis §9.6; Figure 2 (receiver rule 1).
#[test]
fn a_stale_pre_vote_refusal_does_not_overwrite_a_pre_vote_granted_in_the_current_round() {
    let cfg = ProtocolConfig {
        pre_vote: true,
        ..ProtocolConfig::default()
    };
    let mut net = Network::<RaftNode>::new(5, cfg, 1);
    campaign(&mut net, N1);
    let delayed = hold(&net, N1, N2, is_pre_vote);
    for voter in [N0, N3] {
        deliver(&mut net, N1, voter);
        deliver(&mut net, voter, N1);
    }
    assert_eq!(raft(&net, N1).current_term(), 1, "the first pre-vote succeeded");
    net.drop_queued();
    campaign(&mut net, N1);
    for voter in [N0, N3] {
        deliver(&mut net, N1, voter);
        deliver(&mut net, voter, N1);
    }
    deliver(&mut net, N1, N2);
    assert_eq!(raft(&net, N2).current_term(), 2, "N2 voted in term 2");
    net.drop_queued();
    campaign(&mut net, N1);
    deliver(&mut net, N1, N2);
    deliver(&mut net, N2, N1);
    inject(&mut net, N1, N2, delayed);
    deliver(&mut net, N2, N1);
    deliver(&mut net, N1, N3);
    deliver(&mut net, N3, N1);
    let s = net.status(N1).expect("up");
    assert_eq!((s.role, s.epoch.round), (Role::Candidate, 3));
}

/// Three nodes. N1 leads term 1 and every follower holds its whole log; a term-1 heartbeat to
/// N2 is delayed. N1 is re-elected in term 3 with the same log and probes N2 at its last
/// index. The delayed heartbeat then reaches N2, which refuses it with term 3, and the refusal
/// reaches N1 before the probe is answered. It answers a term-1 request, not the probe: N1 must not fall back to the start of the log,
/// and no AppendEntries of term 3 to N2 starts below the log N2 already matches.
/// Reference: Raft §5.3, Figure 2 (receiver rule 1; leaders: "if AppendEntries fails
/// because of log inconsistency: decrement nextIndex and retry").
#[test]
fn a_stale_heartbeat_refusal_does_not_send_the_leader_back_to_the_start_of_the_log() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 1);
    assert!(campaign_until_leader(&mut net, N1, 3));
    for seq in 1..=10 {
        net.propose(N1, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    let last = raft(&net, N1).log().last_index();
    assert_eq!(raft(&net, N2).log().last_index(), last, "N2 holds the whole log");
    net.advance(ProtocolConfig::default().heartbeat_interval_ns);
    let delayed = hold(&net, N1, N2, is_append_entries);
    net.drop_queued();
    campaign(&mut net, N1);
    net.drop_queued();
    assert!(campaign_until_leader(&mut net, N1, 1));
    assert_eq!(raft(&net, N1).current_term(), 3);
    net.record_traffic = true;
    inject(&mut net, N1, N2, delayed);
    deliver(&mut net, N2, N1);
    net.deliver_all();
    let lowest_prev = net
        .delivered
        .iter()
        .filter_map(|(f, t, m)| match m {
            Message::AppendEntries(ae) if (*f, *t) == (N1, N2) && ae.term == 3 => Some(ae.prev_log_index),
            _ => None,
        })
        .min();
    assert_eq!(lowest_prev, Some(last));
}
