//! Durability before acknowledgement, and restart from the write-ahead log alone: promises
//! and acceptances leave a node only once persisted, and a restarted node is exactly what
//! its durable records say.

mod common;

use common::*;
use paxos::{Message, PaxosNode};
use replog::testkit::Network;
use replog::{Command, Epoch, ProtocolConfig, Role};

/// Prepares from `id` waiting in the queue.
fn prepares_from(net: &Network<PaxosNode>, id: replog::NodeId) -> usize {
    net.queued()
        .filter(|(f, _, m)| *f == id && matches!(m, Message::Prepare(_)))
        .count()
}

/// A node crashes after taking part in ten commits and restarts cut off from everyone: from
/// its records alone it rebuilds the same promise, the same slots and chosen prefix, and
/// hands the state machine the same commands again. Reference: Paxos Made Simple §2.2 ("an
/// acceptor must remember this information even if it fails and then restarts"), §2.5.
#[test]
fn a_restarted_node_rebuilds_its_state_from_its_records_alone() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 1);
    lead(&mut net, N0);
    for seq in 1..=10 {
        net.propose(N0, put(1, seq)).expect("N0 leads");
    }
    net.run_for(SEC);
    let snapshot = |net: &Network<PaxosNode>| {
        let node = paxos(net, N2);
        let slots: Vec<Option<Command>> = (1..=12)
            .map(|s| node.log().get(s).map(|e| e.cmd.clone()))
            .collect();
        (
            node.promised(),
            slots,
            node.log().chosen_upto(),
            committed(net, N2),
        )
    };
    let before = snapshot(&net);
    assert_eq!(before.2, 10, "N2 knows all ten chosen");
    net.isolate(N2);
    net.crash(N2);
    net.restart(N2);
    assert_eq!(snapshot(&net), before);
}

/// With N1's disk stalled, N1's promise stays held until its record is durable, so N2 (cut
/// from N0) cannot complete phase 1 on it; once N1's fsync completes the promise leaves and
/// N2 leads. Reference: Paxos Made Simple §2.5 ("an acceptor records its intended response
/// in stable storage before actually sending the response").
#[test]
fn a_promise_is_sent_only_after_it_is_durable() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 2);
    net.cut(N2, N0);
    net.set_auto_persist(N1, false);
    start_phase1(&mut net, N2);
    deliver_phase1(&mut net);
    let before = role(&net, N2);
    net.sync(N1);
    deliver_phase1(&mut net);
    assert_eq!((before, role(&net, N2)), (Role::Candidate, Role::Leader));
}

/// A promise lost with an unsynced write was never made: after the crash the acceptor's
/// promise is the old one, and the candidate never heard from it.
/// Reference: Paxos Made Simple §2.5.
#[test]
fn a_promise_lost_before_its_fsync_was_never_made() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 3);
    net.cut(N2, N0);
    net.set_auto_persist(N1, false);
    start_phase1(&mut net, N2);
    deliver_phase1(&mut net);
    net.crash(N1);
    net.restart(N1);
    assert_eq!(
        (paxos(&net, N1).promised(), role(&net, N2)),
        (Epoch::default(), Role::Candidate)
    );
}

/// A candidate's prepares leave only after its own promise to its ballot is durable, so a
/// crash can never make it reuse the ballot. Reference: Paxos Made Simple §2.5 (a proposer
/// remembers in stable storage the highest-numbered proposal it has tried to issue).
#[test]
fn a_candidate_sends_prepares_only_after_its_own_promise_is_durable() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 4);
    net.set_auto_persist(N0, false);
    start_phase1(&mut net, N0);
    let before = prepares_from(&net, N0);
    net.sync(N0);
    assert_eq!((before, prepares_from(&net, N0)), (0, 2));
}

/// A leader that crashes and restarts runs phase 1 with a ballot above every one it used
/// before. Reference: Paxos Made Simple §2.5.
#[test]
fn a_restarted_leader_never_reuses_a_ballot() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 5);
    lead(&mut net, N0);
    let old = paxos(&net, N0).promised();
    net.crash(N0);
    net.restart(N0);
    start_phase1(&mut net, N0);
    let new = paxos(&net, N0).own_ballot().expect("a candidate");
    assert!(new > old, "{new:?} after {old:?}");
}

/// An acceptor answers an accept only once the accepted value is durable: with both
/// followers' disks stalled nothing is chosen; once one of them syncs, the slot is chosen.
/// Reference: Paxos Made Simple §2.5; replog's durability-before-acknowledgement rule.
#[test]
fn an_acceptor_acknowledges_an_accept_only_after_persisting_it() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 6);
    lead(&mut net, N0);
    net.set_auto_persist(N1, false);
    net.set_auto_persist(N2, false);
    let x = put(1, 1);
    net.propose(N0, x.clone()).expect("N0 leads");
    net.deliver_all();
    let before = committed_at(&net, N0, &x);
    net.sync(N1);
    net.deliver_all();
    assert_eq!((before, committed_at(&net, N0, &x)), (None, Some(1)));
}

/// The leader counts its own acceptance only once durable: with its disk stalled and one
/// follower of three answering, the slot is not chosen; once its fsync completes, it is.
/// Reference: Raft §10.2.1 (the leader's parallel write), applied alike to Paxos.
#[test]
fn a_leader_counts_its_own_accept_only_once_durable() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 7);
    lead(&mut net, N0);
    net.cut(N0, N2);
    net.set_auto_persist(N0, false);
    let x = put(1, 1);
    net.propose(N0, x.clone()).expect("N0 leads");
    net.deliver_all();
    let before = committed_at(&net, N0, &x);
    net.sync(N0);
    assert_eq!((before, committed_at(&net, N0, &x)), (None, Some(1)));
}

/// Boot from a hand-written log: the promise is the highest ballot of any record, accepted
/// values sit in their slots, and the chosen prefix (with its commits) is the durable mark.
/// Reference: Paxos Made Simple §2.2.
#[test]
fn boot_replays_promise_accepted_values_and_chosen_mark() {
    let b1 = Epoch::ballot(1, N0);
    let b2 = Epoch::ballot(2, N1);
    let records = vec![
        paxos::Record::Promised { ballot: b1 },
        paxos::Record::Accepted {
            ballot: b1,
            first_slot: 1,
            cmds: vec![put(1, 1), put(1, 2)],
        },
        paxos::Record::ChosenUpto { upto: 1 },
        paxos::Record::Accepted {
            ballot: b2,
            first_slot: 2,
            cmds: vec![put(2, 2)],
        },
    ];
    let mut node = boot(N2, 3, records);
    let mut actions = Vec::new();
    replog::ReplicatedLog::take_actions(&mut node, &mut actions);
    let commits: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            replog::Action::Commit { index, cmd } => Some((*index, cmd.clone())),
            _ => None,
        })
        .collect();
    let slot2 = node.log().get(2).map(|e| (e.ballot, e.cmd.clone()));
    assert_eq!(
        (node.promised(), commits, slot2),
        (b2, vec![(1, put(1, 1))], Some((b2, put(2, 2))))
    );
}
