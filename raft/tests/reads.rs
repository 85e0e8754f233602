//! Reads without the log (`read_path = "read_index"` and `"lease"`), one test per rule:
//! the read waits for the leader's commit point and a majority round, a new leader serves
//! only after its own-term commit (ReadIndex) or after the old lease ran out (lease), a
//! deposed leader serves nothing, and under leases followers refuse to elect anyone else.
//! Paxos's `tests/reads.rs` has the same tests. Reference: Raft thesis §6.4, §6.4.1.

mod common;

use common::*;
use raft::{Message, RaftNode};
use replog::testkit::{Network, ReadOutcome};
use replog::{NodeId, ProtocolConfig, ReadPath, Role};

fn config(read_path: ReadPath) -> ProtocolConfig {
    ProtocolConfig {
        read_path,
        ..ProtocolConfig::default()
    }
}

fn is_confirm(m: &Message) -> bool {
    matches!(m, Message::Confirm(_) | Message::ConfirmResponse(_))
}

/// A freshly elected leader of three whose no-op has reached no one.
fn fresh_leader(read_path: ReadPath) -> (Network<RaftNode>, NodeId) {
    let mut net = Network::<RaftNode>::new(3, config(read_path), 3);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let next = NodeId((leader.0 + 1) % 3);
    assert!(campaign_until_leader(&mut net, next, 3), "{next:?} did not win");
    net.drop_queued();
    (net, next)
}

/// Thesis §6.4 step 1: a new leader's commit index is known current only once an entry of
/// its own term is committed, so a read waits for the term's no-op even after the round
/// confirmed leadership.
#[test]
fn a_new_leaders_read_waits_for_its_own_term_commit_even_once_confirmed() {
    let (mut net, leader) = fresh_leader(ReadPath::ReadIndex);
    let noop_index = net.status(leader).unwrap().last_index;
    net.read(leader, 1, "k").expect("the leader takes reads");
    while net.deliver_matching(|_, _, m| is_confirm(m)) > 0 {}
    assert_eq!(net.reads(leader), [], "confirmed, but the no-op is not committed");
    net.run_for(SEC);
    assert_eq!(
        net.reads(leader),
        [ReadOutcome::Served {
            seq: 1,
            applied: noop_index
        }]
    );
}

/// Thesis §6.4 step 3: the leader answers only after a majority acknowledged a round sent
/// after the read arrived.
#[test]
fn a_read_index_read_waits_for_a_majority_round() {
    let mut net = Network::<RaftNode>::new(3, config(ReadPath::ReadIndex), 4);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.read(leader, 1, "k").unwrap();
    assert_eq!(net.reads(leader), [], "no answer before the round");
    net.deliver_all();
    assert!(matches!(net.reads(leader), [ReadOutcome::Served { seq: 1, .. }]));
}

/// A leader cut off from the others cannot confirm its reads; once it learns of the new
/// term it aborts them (the client retries elsewhere). Thesis §6.4.
#[test]
fn a_deposed_leader_serves_no_read_index_read() {
    let mut net = Network::<RaftNode>::new(3, config(ReadPath::ReadIndex), 5);
    let old = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(old);
    net.read(old, 1, "k").unwrap();
    net.run_for(2 * SEC);
    assert_eq!(net.reads(old), [], "unconfirmed while cut off");
    net.heal();
    net.run_for(SEC);
    assert_ne!(net.leader(), Some(old));
    assert_eq!(net.reads(old), [ReadOutcome::Refused { seq: 1 }]);
}

/// Thesis §6.4.1: a leader holding a lease answers at once, without a round.
#[test]
fn under_a_held_lease_a_read_is_served_without_messages() {
    let mut net = Network::<RaftNode>::new(3, config(ReadPath::Lease), 6);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.drop_queued();
    net.read(leader, 1, "k").unwrap();
    assert!(matches!(net.reads(leader), [ReadOutcome::Served { seq: 1, .. }]));
    assert_eq!(net.queued().count(), 0, "no message was needed");
}

/// Thesis §6.4.1: a new leader waits out a whole lease length before serving alone, since
/// its predecessor's lease may still run; until then a read takes a round.
#[test]
fn a_new_leader_serves_no_lease_read_before_the_old_lease_expires() {
    let mut net = Network::<RaftNode>::new(3, config(ReadPath::Lease), 8);
    let old = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(old);
    let others_elect = |n: &Network<RaftNode>| n.leader().is_some_and(|l| l != old);
    assert!(net.run_until(net.now() + 5 * SEC, others_elect));
    let leader = net.leader().unwrap();
    // Two heartbeats' rounds confirmed, but less than a lease length (150ms) since the election.
    net.run_for(120 * MS);
    net.read(leader, 1, "k").unwrap();
    assert_eq!(net.reads(leader), [], "within a lease length of the election");
    net.run_for(SEC);
    net.read(leader, 2, "k").unwrap();
    assert!(matches!(
        net.reads(leader).last(),
        Some(ReadOutcome::Served { seq: 2, .. })
    ));
}

/// Thesis §6.4.1: under leases, followers that acknowledged the leader within a lease
/// length ignore a higher-term vote request, so no one else is elected while the lease
/// may run; under ReadIndex they vote as usual.
#[test]
fn under_leases_followers_of_a_live_leader_elect_no_one_else() {
    let elected = |read_path| {
        let mut net = Network::<RaftNode>::new(3, config(read_path), 7);
        let leader = net.elect(10 * SEC).expect("leader");
        net.run_for(SEC);
        let rival = NodeId((leader.0 + 1) % 3);
        campaign(&mut net, rival);
        deliver_votes(&mut net);
        net.status(rival).unwrap().role == Role::Leader
    };
    assert_eq!(
        (elected(ReadPath::Lease), elected(ReadPath::ReadIndex)),
        (false, true)
    );
}
