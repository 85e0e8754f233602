//! Leadership (phase 1): preemption by a higher ballot, duelling proposers, and where a
//! proposal made on a node that does not lead is sent instead. Raft's counterpart is
//! `raft/tests/leadership.rs` (leader election).

mod common;

use common::*;
use paxos::PaxosNode;
use replog::testkit::Network;
use replog::{NodeId, ProtocolConfig, ReplicatedLog, Role};

/// A leader that receives a prepare with a higher ballot promises it and steps down; it
/// does not run phase 1 again at once but backs off for at least the minimum suspicion
/// timeout. Reference: Paxos Made Simple §2.2 (abandon a proposal once a higher-numbered
/// one has begun), §2.4 (progress needs a single distinguished proposer).
#[test]
fn a_leader_that_sees_a_higher_ballot_steps_down_and_backs_off() {
    let cfg = ProtocolConfig::default();
    let mut net = Network::<PaxosNode>::new(3, cfg.clone(), 1);
    lead(&mut net, N0);
    start_phase1(&mut net, N1);
    deliver_phase1(&mut net);
    let backoff_until_ns = paxos(&net, N0).next_deadline().expect("a timer");
    assert_eq!(
        (
            role(&net, N0),
            role(&net, N1),
            backoff_until_ns >= net.now() + cfg.election_timeout_min_ns
        ),
        (Role::Follower, Role::Leader, true)
    );
}

/// A stale leader's accepts are refused once a majority promised a higher ballot, and the
/// refusal makes it step down. Reference: Paxos Made Simple §2.2 phase 2(b).
#[test]
fn a_stale_leader_is_refused_and_steps_down() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 2);
    lead(&mut net, N0);
    net.cut(N0, N1);
    lead(&mut net, N1); // N0 misses N1's prepare: it still believes it leads
    assert_eq!(role(&net, N0), Role::Leader);
    net.heal();
    let stale = put(1, 1);
    net.propose(N0, stale.clone())
        .expect("N0 still believes it leads");
    net.deliver_all();
    assert_eq!(
        (role(&net, N0), committed_at(&net, N0, &stale)),
        (Role::Follower, None)
    );
}

/// Two proposers preempt each other round after round, each winning phase 1 and losing
/// it before its accepts arrive, so nothing is chosen (the livelock of Paxos Made Simple
/// §2.4); each preempted one steps down. Then a third node preempts both and crashes, and
/// only the randomized suspicion timeouts decide between the two: one of them wins, every
/// live node follows it, it stays leader, and commands commit. Across seeds each of the two
/// wins sometimes, so the timeouts, not a fixed priority, settle the duel.
/// Reference: Paxos Made Simple §2.4 (randomness or timeouts elect a distinguished proposer).
#[test]
fn duelling_proposers_back_off_and_one_wins() {
    let mut winners = Vec::new();
    for seed in 0..10 {
        let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), seed);
        for round in 0..6u64 {
            let (a, b) = if round % 2 == 0 { (N0, N1) } else { (N1, N0) };
            assert!(
                phase1_until_leader(&mut net, a, 3),
                "seed {seed}: {a:?} wins round {round}"
            );
            assert_ne!(role(&net, b), Role::Leader, "seed {seed}: {b:?} stepped down");
            net.propose(a, put(1, round)).expect("a leads");
        }
        assert!(net.chosen().is_empty(), "seed {seed}: the duel chose nothing");
        start_phase1(&mut net, N2);
        deliver_phase1(&mut net);
        net.crash(N2);
        net.drop_queued();
        net.run_for(5 * SEC);
        let leader = net.leader().expect("one of them wins");
        let ballot = net.status(leader).expect("up").epoch;
        let cmd = put(2, 1);
        net.propose(leader, cmd.clone()).expect("leader");
        net.run_for(5 * SEC);
        let stable = [N0, N1].iter().all(|&m| {
            let s = net.status(m).expect("up");
            s.leader_hint == Some(leader) && s.epoch == ballot && committed_at(&net, m, &cmd).is_some()
        });
        assert!(
            stable,
            "seed {seed}: leader {leader:?} at {ballot:?} is not stable"
        );
        winners.push(leader);
    }
    assert!(winners.contains(&N0) && winners.contains(&N1), "{winners:?}");
}

/// A proposal on a node that does not lead is refused with a hint: the leader it follows
/// (a follower that has heard heartbeats, or a deposed leader that has heard from its
/// successor), or none (a node that has not heard from any leader, or a candidate).
/// Reference: Paxos Made Simple §3 (commands go to the leader); the shared `NotLeader`.
#[test]
fn proposals_on_a_non_leader_return_not_leader_with_a_hint() {
    let mut net = Network::<PaxosNode>::new(5, ProtocolConfig::default(), 3);
    let fresh = net.propose(N4, put(1, 1)).map_err(|e| e.hint);
    lead(&mut net, N0);
    let follower = net.propose(N2, put(1, 2)).map_err(|e| e.hint);
    net.cut(N3, N1);
    net.cut(N3, N2);
    net.cut(N3, N4);
    start_phase1(&mut net, N3); // only N0 answers: no majority
    deliver_phase1(&mut net);
    let candidate = net.propose(N3, put(1, 3)).map_err(|e| e.hint);
    net.heal();
    lead(&mut net, N1);
    let deposed = net.propose(N0, put(1, 4)).map_err(|e| e.hint);
    assert_eq!(
        [fresh, follower, candidate, deposed],
        [Err(None), Err(Some(N0)), Err(None), Err(Some(N1))]
    );
}

/// Any node may lead, whatever its log: each node in turn runs phase 1 and wins, and
/// the status reports the new ballot (round, node) as the epoch. Reference: Paxos Made
/// Simple §2.5 (proposal numbers from disjoint sets), Howard & Mortier (no election
/// restriction in Paxos).
#[test]
fn every_node_can_win_phase_1_with_a_ballot_of_its_own() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 4);
    let mut ballots = Vec::new();
    for id in [N0, N1, N2, N0] {
        lead(&mut net, id);
        ballots.push(net.status(id).expect("up").epoch);
    }
    let owners: Vec<Option<NodeId>> = ballots.iter().map(|b| b.owner).collect();
    let increasing = ballots.windows(2).all(|w| w[0] < w[1]);
    assert_eq!(
        (owners, increasing),
        (vec![Some(N0), Some(N1), Some(N2), Some(N0)], true)
    );
}
