//! Leader stickiness for multi-Paxos: the pre-prepare round (with `pre_vote`, the counterpart
//! of Raft's PreVote, thesis §9.6) and the quorum check (with `check_quorum`, the counterpart
//! of CheckQuorum, thesis §6.2), each switch on and off. The same schedules as
//! `raft/tests/prevote_checkquorum.rs`, so the two files read side by side.

mod common;

use common::*;
use paxos::PaxosNode;
use replog::testkit::Network;
use replog::{Epoch, NodeId, ProtocolConfig, ReplicatedLog, Role};

fn config(pre_vote: bool, check_quorum: bool) -> ProtocolConfig {
    ProtocolConfig {
        pre_vote,
        check_quorum,
        ..ProtocolConfig::default()
    }
}

/// Isolates a follower for two seconds (its failure detector fires about ten times) while
/// the leader commits, then heals. Returns the cluster's highest ballot before and after,
/// and whether the original leader still leads.
fn isolate_a_follower_then_heal(pre_vote: bool) -> (Epoch, Epoch, bool) {
    let mut net = Network::<PaxosNode>::new(3, config(pre_vote, false), 21);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let before = max_ballot(&net);
    let isolated = NodeId((leader.0 + 1) % 3);
    net.isolate(isolated);
    for seq in 1..=3 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.run_for(2 * SEC);
    net.heal();
    net.run_for(2 * SEC);
    (before, max_ballot(&net), net.leader() == Some(leader))
}

/// With the pre-prepare round, the isolated node never gets a majority to say it would
/// promise, so it never raises its own promise, and on return it does not preempt the
/// leader. Reference: Raft thesis §9.6, applied alike.
#[test]
fn with_pre_vote_a_healed_node_does_not_raise_the_clusters_ballot() {
    let (before, after, same_leader) = isolate_a_follower_then_heal(true);
    assert_eq!((after, same_leader), (before, true));
}

/// Without it, the isolated node runs phase 1 with a higher ballot at each timeout, and its
/// return preempts the leader. Reference: Raft thesis §9.6 (the problem), Paxos Made Simple
/// §2.4.
#[test]
fn without_pre_vote_a_healed_node_raises_the_clusters_ballot() {
    let (before, after, _) = isolate_a_follower_then_heal(false);
    assert!(after > before, "ballot stayed at {before}");
}

/// The pre-candidate's role is reported while its pre-prepare is outstanding, and its
/// promise is unchanged: the round writes nothing. Reference: Raft thesis §9.6, applied
/// alike.
#[test]
fn a_pre_candidate_keeps_its_promise() {
    let mut net = Network::<PaxosNode>::new(3, config(true, false), 5);
    let leader = net.elect(10 * SEC).expect("leader");
    let other = NodeId((leader.0 + 1) % 3);
    let promised = paxos(&net, other).promised();
    net.isolate(other);
    campaign(&mut net, other);
    let s = net.status(other).expect("up");
    assert_eq!((s.role, s.epoch), (Role::PreCandidate, promised));
}

/// Acceptors that hear from a live leader refuse a pre-prepare, so the pre-candidate never
/// starts phase 1 and every promise stays where it was. Reference: Raft thesis §9.6, applied
/// alike.
#[test]
fn acceptors_that_hear_the_leader_refuse_a_pre_prepare() {
    let mut net = Network::<PaxosNode>::new(3, config(true, false), 9);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let before = max_ballot(&net);
    let disruptor = NodeId((leader.0 + 1) % 3);
    campaign(&mut net, disruptor);
    deliver_phase1(&mut net);
    assert_eq!(
        (role(&net, disruptor), max_ballot(&net), role(&net, leader)),
        (Role::PreCandidate, before, Role::Leader)
    );
}

/// An isolated leader with the quorum check on steps down within an election timeout, since
/// a majority no longer answers it. Reference: Raft thesis §6.2, applied alike.
#[test]
fn with_check_quorum_an_isolated_leader_steps_down_within_an_election_timeout() {
    let cfg = config(false, true);
    let mut net = Network::<PaxosNode>::new(5, cfg.clone(), 31);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(leader);
    net.run_for(cfg.election_timeout_max_ns);
    assert_eq!(role(&net, leader), Role::Follower);
}

/// The control: without the quorum check an isolated leader keeps believing it leads.
/// Reference: Raft thesis §6.2 (the problem).
#[test]
fn without_check_quorum_an_isolated_leader_keeps_leading() {
    let cfg = config(false, false);
    let mut net = Network::<PaxosNode>::new(5, cfg.clone(), 31);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(leader);
    net.run_for(5 * cfg.election_timeout_max_ns);
    assert_eq!(role(&net, leader), Role::Leader);
}

/// With the quorum check on, acceptors that heard from the leader within the minimum
/// timeout ignore a prepare of a higher ballot entirely: their promise stays and the leader
/// keeps leading. Reference: Raft thesis §6.2, §4.2.3, applied alike.
#[test]
fn with_check_quorum_acceptors_ignore_prepares_while_the_leader_is_alive() {
    let mut net = Network::<PaxosNode>::new(3, config(false, true), 41);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let ballot = paxos(&net, leader).promised();
    let disruptor = NodeId((leader.0 + 1) % 3);
    let bystander = NodeId((leader.0 + 2) % 3);
    start_phase1(&mut net, disruptor);
    deliver_phase1(&mut net);
    let seen = (
        paxos(&net, leader).promised(),
        paxos(&net, bystander).promised(),
        role(&net, leader),
    );
    assert_eq!(seen, (ballot, ballot, Role::Leader));
}

/// Both switches on: an isolated leader steps down, the majority elects a new one, and
/// after healing the old leader follows it. Reference: Raft thesis §6.2, §9.6, applied
/// alike.
#[test]
fn with_both_switches_a_partitioned_leader_rejoins_as_follower() {
    let mut net = Network::<PaxosNode>::new(5, config(true, true), 51);
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

/// A pre-prepare changes nothing durable: the acceptor answers it without a write, and
/// without restarting its failure detector. Reference: Raft thesis §9.6 ("does not change
/// state"), applied alike.
#[test]
fn answering_a_pre_prepare_writes_nothing() {
    let mut node = boot(N1, 3, Vec::new());
    node.tick(0);
    let deadline = node.next_deadline();
    let ballot = Epoch::ballot(5, N2);
    node.step(
        1,
        N2,
        paxos::Message::PrePrepare(paxos::msg::Prepare { ballot, from_slot: 1 }),
    );
    let mut actions = Vec::new();
    node.take_actions(&mut actions);
    let persists = actions
        .iter()
        .filter(|a| matches!(a, replog::Action::Persist { .. }))
        .count();
    assert_eq!(
        (persists, node.promised(), node.next_deadline()),
        (0, Epoch::default(), deadline)
    );
}
