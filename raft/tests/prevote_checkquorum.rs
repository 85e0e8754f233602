//! PreVote (thesis §9.6) and CheckQuorum (thesis §6.2), each a shared switch of
//! `ProtocolConfig` (`pre_vote`, `check_quorum`). Multi-Paxos's counterparts are tested by
//! the same schedules in `paxos/tests/prevote_checkquorum.rs`.

mod common;

use common::*;
use raft::RaftNode;
use replog::testkit::Network;
use replog::{NodeId, ProtocolConfig, Role};

fn config(pre_vote: bool, check_quorum: bool) -> ProtocolConfig {
    ProtocolConfig {
        pre_vote,
        check_quorum,
        ..ProtocolConfig::default()
    }
}

/// Isolates a follower for two seconds (it times out about ten times) while the leader
/// commits, then heals. Returns the cluster's highest term before and after, and whether
/// the original leader still leads.
fn isolate_a_follower_then_heal(pre_vote: bool) -> (u64, u64, bool) {
    let mut net = Network::<RaftNode>::new(3, config(pre_vote, false), 21);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let before = max_term(&net);
    let isolated = NodeId((leader.0 + 1) % 3);
    net.isolate(isolated);
    for seq in 1..=3 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.run_for(2 * SEC);
    net.heal();
    net.run_for(2 * SEC);
    (before, max_term(&net), net.leader() == Some(leader))
}

/// With PreVote, the isolated node never wins a pre-vote, so it never increments its
/// term, and on return it does not depose the leader. Reference: Raft thesis §9.6.
#[test]
fn with_pre_vote_a_healed_node_does_not_raise_the_clusters_term() {
    let (before, after, same_leader) = isolate_a_follower_then_heal(true);
    assert_eq!((after, same_leader), (before, true));
}

/// Without PreVote, the isolated node increments its term at each timeout, and its return
/// forces the cluster into a higher term. Reference: Raft thesis §9.6 (the problem).
#[test]
fn without_pre_vote_a_healed_node_raises_the_clusters_term() {
    let (before, after, _) = isolate_a_follower_then_heal(false);
    assert!(after > before, "term stayed at {before}");
}

/// The pre-candidate's role is reported while its pre-vote is outstanding, and its term
/// is unchanged. Reference: Raft thesis §9.6.
#[test]
fn a_pre_candidate_keeps_its_term() {
    let mut net = Network::<RaftNode>::new(3, config(true, false), 5);
    let leader = net.elect(10 * SEC).expect("leader");
    let other = NodeId((leader.0 + 1) % 3);
    let term = raft(&net, other).current_term();
    net.isolate(other);
    campaign(&mut net, other);
    let s = net.status(other).expect("up");
    assert_eq!((s.role, s.epoch.round), (Role::PreCandidate, term));
}

/// An isolated leader with CheckQuorum on steps down within an election timeout, since a
/// majority no longer answers it. Reference: Raft thesis §6.2.
#[test]
fn with_check_quorum_an_isolated_leader_steps_down_within_an_election_timeout() {
    let cfg = config(false, true);
    let mut net = Network::<RaftNode>::new(5, cfg.clone(), 31);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(leader);
    net.run_for(cfg.election_timeout_max_ns);
    assert_eq!(net.status(leader).expect("up").role, Role::Follower);
}

/// The control: without CheckQuorum an isolated leader keeps believing it leads.
/// Reference: Raft thesis §6.2 (the problem).
#[test]
fn without_check_quorum_an_isolated_leader_keeps_leading() {
    let cfg = config(false, false);
    let mut net = Network::<RaftNode>::new(5, cfg.clone(), 31);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(leader);
    net.run_for(5 * cfg.election_timeout_max_ns);
    assert_eq!(net.status(leader).expect("up").role, Role::Leader);
}

/// With CheckQuorum on, nodes that heard from the leader within the minimum election
/// timeout ignore a higher-term RequestVote entirely: their term stays and the leader
/// keeps leading. Reference: Raft thesis §6.2, §4.2.3 (as etcd).
#[test]
fn with_check_quorum_nodes_ignore_vote_requests_while_the_leader_is_alive() {
    let mut net = Network::<RaftNode>::new(3, config(false, true), 41);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let term = raft(&net, leader).current_term();
    let disruptor = NodeId((leader.0 + 1) % 3);
    let bystander = NodeId((leader.0 + 2) % 3);
    campaign(&mut net, disruptor);
    deliver_votes(&mut net);
    let seen = (
        raft(&net, leader).current_term(),
        raft(&net, bystander).current_term(),
        net.status(leader).expect("up").role,
    );
    assert_eq!(seen, (term, term, Role::Leader));
}

/// Both switches on (etcd's recommended setting): an isolated leader steps down, the
/// majority elects a new one, and after healing the old leader follows it.
/// Reference: Raft thesis §6.2, §9.6.
#[test]
fn with_both_switches_a_partitioned_leader_rejoins_as_follower() {
    let mut net = Network::<RaftNode>::new(5, config(true, true), 51);
    let old = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(old);
    net.run_for(2 * SEC);
    let new = net.leader().expect("the majority elects");
    net.heal();
    net.run_for(2 * SEC);
    let s = net.status(old).expect("up");
    assert_eq!(
        (new != old, s.role, s.leader_hint),
        (true, Role::Follower, net.leader())
    );
}
