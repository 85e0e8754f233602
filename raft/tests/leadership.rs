//! Leadership (leader election): one leader per term, re-election, and the election
//! restriction. Multi-Paxos's counterpart is `paxos/tests/leadership.rs` (phase 1,
//! preemption, any node may lead).

mod common;

use common::*;
use raft::RaftNode;
use replog::testkit::Network;
use replog::{NodeId, ProtocolConfig, ReplicatedLog, Role};

/// From a cold start, each cluster size and seed settles on exactly one leader, which
/// every other node follows in the same term. (The testkit also panics if two nodes ever
/// lead one term.) Reference: Raft §5.2 (Election Safety).
#[test]
fn elects_exactly_one_leader_per_term_in_3_and_5_node_clusters() {
    for n in [3, 5] {
        for seed in 0..20 {
            let mut net = Network::<RaftNode>::new(n, ProtocolConfig::default(), seed);
            let leader = net.elect(10 * SEC).expect("a leader is elected");
            net.run_for(SEC);
            let term = raft(&net, leader).current_term();
            let statuses: Vec<_> = net
                .members()
                .iter()
                .map(|&m| net.status(m).expect("up"))
                .collect();
            let leaders = statuses.iter().filter(|s| s.role == Role::Leader).count();
            let agreeing = statuses
                .iter()
                .filter(|s| s.epoch.round == term && s.leader_hint == Some(leader))
                .count();
            assert_eq!((leaders, agreeing), (1, n), "n={n} seed={seed}: {statuses:?}");
        }
    }
}

/// When the leader crashes, the others elect a new one in a later term; repeated five
/// times, each term has its own single leader. Reference: Raft §5.2.
#[test]
fn re_elects_after_the_leader_crashes() {
    for n in [3, 5] {
        let mut net = Network::<RaftNode>::new(n, ProtocolConfig::default(), 11);
        let mut leader = net.elect(10 * SEC).expect("first leader");
        let mut term = raft(&net, leader).current_term();
        for round in 0..5 {
            net.crash(leader);
            let next = net.elect(10 * SEC).expect("a new leader");
            let next_term = raft(&net, next).current_term();
            assert!(
                next != leader && next_term > term,
                "n={n} round {round}: {next:?} in term {next_term} after {leader:?} in term {term}"
            );
            net.restart(leader);
            net.run_for(SEC);
            (leader, term) = (next, next_term);
        }
    }
}

/// A candidate whose log lacks committed entries gets no vote from the nodes that hold
/// them, so it cannot win; the node to win afterwards has the full log.
/// Reference: Raft §5.4.1.
#[test]
fn a_node_with_a_stale_log_cannot_win() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 3);
    let leader = net.elect(10 * SEC).expect("leader");
    let stale = NodeId((leader.0 + 1) % 3);
    net.isolate(stale);
    for seq in 1..=3 {
        net.propose(leader, put(1, seq)).expect("leader accepts");
    }
    net.run_for(100 * MS);
    net.heal();
    // Only the stale node times out: nothing else moves in time.
    campaign(&mut net, stale);
    net.deliver_all();
    assert_ne!(net.status(stale).expect("up").role, Role::Leader);
    let winner = net.elect(10 * SEC).expect("someone with the full log wins");
    assert_ne!(winner, stale);
}

/// The election restriction as a table: a vote goes to a candidate whose last entry has a
/// later term, or the same term and an index at least as high. Reference: Raft §5.4.1.
#[test]
fn vote_requires_a_log_at_least_as_up_to_date() {
    let members = [NodeId(0), NodeId(1), NodeId(2)];
    // The voter's log: terms [1, 1, 2]: last term 2, last index 3.
    let voter = RaftNode::boot(
        NodeId(0),
        &members,
        &ProtocolConfig::default(),
        records(2, None, &[1, 1, 2]),
        1,
    );
    let cases = [
        ((2, 3), true),  // same log
        ((2, 4), true),  // same last term, longer
        ((3, 1), true),  // later last term, shorter
        ((2, 2), false), // same last term, shorter
        ((1, 9), false), // earlier last term, longer
        ((0, 0), false), // empty
    ];
    for ((last_term, last_index), want) in cases {
        assert_eq!(
            voter.candidate_log_is_up_to_date(last_term, last_index),
            want,
            "candidate last entry (term {last_term}, index {last_index})"
        );
    }
}

/// One timer policy for both protocols: a node draws its election timeout on each change of
/// role and keeps it while it follows one leader; each heartbeat restarts the timer with the
/// same draw. Reference: Raft §5.2 (and `paxos/tests/parity.rs`, the same test for the
/// suspicion timeout).
#[test]
fn a_follower_keeps_its_drawn_timeout_while_it_follows_one_leader() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 7);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let follower = NodeId((leader.0 + 1) % 3);
    let mut seen = std::collections::BTreeSet::new();
    let mut heartbeats = 0;
    while heartbeats < 5 && net.now() < 10 * SEC {
        net.advance_to_next_deadline();
        let heartbeat = net
            .queued()
            .any(|(f, t, m)| (*f, *t) == (leader, follower) && matches!(m, raft::Message::AppendEntries(_)));
        net.deliver_all();
        if heartbeat {
            heartbeats += 1;
            let deadline_ns = raft(&net, follower).next_deadline().expect("a timer");
            seen.insert(deadline_ns - net.now());
        }
    }
    assert_eq!((heartbeats, seen.len()), (5, 1));
}
