//! Reads without the log (`read_path = "read_index"` and `"lease"`), the same tests as
//! Raft's `tests/reads.rs`: the read waits for the leader's chosen prefix and a majority
//! round, a new leader serves only once the slots phase 1 recovered are chosen (ReadIndex)
//! or after the old lease ran out (lease), a preempted leader serves nothing, and under
//! leases acceptors promise no one else. Reference: Raft thesis §6.4, §6.4.1, applied alike.

mod common;

use common::*;
use paxos::{Message, PaxosNode};
use replog::testkit::{Network, ReadOutcome};
use replog::{NodeId, ProtocolConfig, ReadPath, Role};

fn config(read_path: ReadPath) -> ProtocolConfig {
    ProtocolConfig {
        read_path,
        ..ProtocolConfig::default()
    }
}

fn is_confirm(m: &Message) -> bool {
    matches!(m, Message::Confirm(_) | Message::ConfirmReply(_))
}

/// Step 1's counterpart: a new leader's chosen prefix is known current only once the slots
/// phase 1 recovered are chosen at its ballot, so a read waits for them even after the
/// round confirmed leadership.
#[test]
fn a_new_leaders_read_waits_for_the_recovered_slots_even_once_confirmed() {
    let (mut net, old) = settled(3, config(ReadPath::ReadIndex), 3);
    let next = NodeId((old.0 + 1) % 3);
    // A write is accepted everywhere, but no commit notice reaches the others.
    net.propose(old, put(1, 1)).unwrap();
    while net.deliver_matching(|_, _, m| matches!(m, Message::Accept(_) | Message::Accepted(_))) > 0 {}
    net.drop_queued();
    net.isolate(old);
    assert!(phase1_until_leader(&mut net, next, 3), "{next:?} did not win");
    let recovered = net.status(next).unwrap().last_index;
    net.drop_queued();
    net.read(next, 1, "k").expect("the leader takes reads");
    while net.deliver_matching(|_, _, m| is_confirm(m)) > 0 {}
    assert_eq!(
        net.reads(next),
        [],
        "confirmed, but the recovered slot is not chosen"
    );
    net.run_for(SEC);
    assert_eq!(
        net.reads(next),
        [ReadOutcome::Served {
            seq: 1,
            applied: recovered
        }]
    );
}

/// Step 3: the leader answers only after a majority acknowledged a round sent after the
/// read arrived.
#[test]
fn a_read_index_read_waits_for_a_majority_round() {
    let (mut net, leader) = settled(3, config(ReadPath::ReadIndex), 4);
    net.read(leader, 1, "k").unwrap();
    assert_eq!(net.reads(leader), [], "no answer before the round");
    net.deliver_all();
    assert!(matches!(net.reads(leader), [ReadOutcome::Served { seq: 1, .. }]));
}

/// A leader cut off from the others cannot confirm its reads; once preempted it aborts
/// them (the client retries elsewhere).
#[test]
fn a_preempted_leader_serves_no_read_index_read() {
    let (mut net, old) = settled(3, config(ReadPath::ReadIndex), 5);
    net.isolate(old);
    net.read(old, 1, "k").unwrap();
    net.run_for(2 * SEC);
    assert_eq!(net.reads(old), [], "unconfirmed while cut off");
    net.heal();
    net.run_for(SEC);
    assert_ne!(net.leader(), Some(old));
    assert_eq!(net.reads(old), [ReadOutcome::Refused { seq: 1 }]);
}

/// §6.4.1: a leader holding a lease answers at once, without a round.
#[test]
fn under_a_held_lease_a_read_is_served_without_messages() {
    let (mut net, leader) = settled(3, config(ReadPath::Lease), 6);
    net.drop_queued();
    net.read(leader, 1, "k").unwrap();
    assert!(matches!(net.reads(leader), [ReadOutcome::Served { seq: 1, .. }]));
    assert_eq!(net.queued().count(), 0, "no message was needed");
}

/// §6.4.1: a new leader waits out a whole lease length before serving alone, since its
/// predecessor's lease may still run; until then a read takes a round.
#[test]
fn a_new_leader_serves_no_lease_read_before_the_old_lease_expires() {
    let (mut net, old) = settled(3, config(ReadPath::Lease), 8);
    net.isolate(old);
    let others_elect = |n: &Network<PaxosNode>| n.leader().is_some_and(|l| l != old);
    assert!(net.run_until(net.now() + 5 * SEC, others_elect));
    let leader = net.leader().unwrap();
    // Two heartbeats' rounds confirmed, but less than a lease length (150ms) since phase 1.
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

/// §6.4.1: under leases, acceptors that acknowledged the leader within a lease length make
/// no promise to a higher ballot, so no one else completes phase 1 while the lease may run;
/// under ReadIndex they promise as usual.
#[test]
fn under_leases_acceptors_of_a_live_leader_promise_no_one_else() {
    let elected = |read_path| {
        let (mut net, leader) = settled(3, config(read_path), 7);
        let rival = NodeId((leader.0 + 1) % 3);
        start_phase1(&mut net, rival);
        deliver_phase1(&mut net);
        role(&net, rival) == Role::Leader
    };
    assert_eq!(
        (elected(ReadPath::Lease), elected(ReadPath::ReadIndex)),
        (false, true)
    );
}
