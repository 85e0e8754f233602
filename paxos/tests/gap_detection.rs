//! Gap detection: an acceptor that lacks a slot below the first slot of an `Accept` (or
//! `Learn`) reports it in its answer, and the leader resends at once, as Raft's leader does
//! on a failed AppendEntries consistency check (`raft/tests/flow_control.rs`,
//! `raft/src/replication.rs`). It exists so that both protocols learn of a lost message
//! within one round trip, for fairness.

mod common;

use common::*;
use paxos::msg::{Accept, Accepted};
use paxos::{Message, PaxosNode};
use replog::testkit::Network;
use replog::{Action, Epoch, LogIndex, NodeId, ProtocolConfig, ReplicatedLog};

/// One slot per accept, so that a lost accept leaves a gap of exactly one slot.
fn one_slot_per_accept() -> ProtocolConfig {
    ProtocolConfig {
        max_batch_entries: 1,
        max_inflight_msgs: 8,
        ..ProtocolConfig::default()
    }
}

/// A settled cluster of three, traffic recorded from now on, and one follower of which the
/// first command-carrying `Accept` from the leader is lost. Returns the network, the leader,
/// that follower and the first slot the next proposal takes.
fn losing_first_accept(seed: u64) -> (Network<PaxosNode>, NodeId, NodeId, LogIndex) {
    let (mut net, leader) = settled(3, one_slot_per_accept(), seed);
    let follower = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    let mut lost = false;
    net.set_filter(move |from, to, m| match m {
        Message::Accept(a) if from == leader && to == follower && !a.cmds.is_empty() && !lost => {
            lost = true;
            true
        }
        _ => false,
    });
    net.record_traffic = true;
    let first = paxos(&net, leader).log().last_slot() + 1;
    (net, leader, follower, first)
}

/// `Accept`s and `Learn`s from `leader` to `to` that were delivered and carry `slot`.
fn deliveries_of(net: &Network<PaxosNode>, leader: NodeId, to: NodeId, slot: LogIndex) -> usize {
    let covers = |first: LogIndex, n: usize| first <= slot && slot < first + n as LogIndex;
    net.delivered
        .iter()
        .filter(|(f, t, m)| {
            *f == leader
                && *t == to
                && match m {
                    Message::Accept(a) => covers(a.first_slot, a.cmds.len()),
                    Message::Learn(l) => covers(l.first_slot, l.cmds.len()),
                    _ => false,
                }
        })
        .count()
}

/// The `missing_from` of every `Accepted` delivered from `from`, in delivery order.
fn gap_reports(net: &Network<PaxosNode>, from: NodeId) -> Vec<Option<LogIndex>> {
    net.delivered
        .iter()
        .filter_map(|(f, _, m)| match m {
            Message::Accepted(a) if *f == from => Some(a.missing_from),
            _ => None,
        })
        .collect()
}

/// The acceptor reports the first slot above its chosen prefix that holds no value accepted
/// at the message's ballot and is not known chosen, when that slot lies below the message's
/// first slot; a value accepted at an older ballot counts as missing. Reference: Raft §5.3
/// (the consistency check this mirrors).
#[test]
fn an_acceptor_reports_its_first_missing_slot() {
    let b1 = Epoch::ballot(1, N0);
    let b2 = Epoch::ballot(2, N1);
    let mut node = boot(
        N2,
        3,
        vec![paxos::Record::Accepted {
            ballot: b1,
            first_slot: 1,
            cmds: vec![put(1, 1)],
        }],
    );
    let mut reports = Vec::new();
    for (ballot, from, slot) in [(b1, N0, 3), (b1, N0, 2), (b1, N0, 5), (b2, N1, 4)] {
        node.step(
            0,
            from,
            Message::Accept(Accept {
                ballot,
                first_slot: slot,
                cmds: vec![put(1, slot)],
                chosen_upto: 0,
            }),
        );
        let mut actions = Vec::new();
        node.take_actions(&mut actions);
        reports.extend(actions.into_iter().filter_map(|a| match a {
            Action::Send {
                msg: Message::Accepted(m),
                ..
            } => Some(m.missing_from),
            _ => None,
        }));
    }
    assert_eq!(reports, vec![Some(2), None, Some(4), Some(1)]);
}

/// A lost accept is resent as soon as the answer to the next accept reports the gap: with
/// no time passing (so no heartbeat, no retransmission timer), the follower ends up holding
/// every slot and commits the one that was lost. Reference: Raft §5.3 (a rejected
/// AppendEntries is retried at once); the shared pipelining knobs.
#[test]
fn a_lost_accept_is_resent_as_soon_as_the_next_reply_reports_the_gap() {
    let (mut net, leader, follower, first) = losing_first_accept(11);
    let start_ns = net.now();
    for seq in 1..=5 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    let holds: Vec<bool> = (first..first + 5)
        .map(|s| slot_value(&net, follower, s).is_some())
        .collect();
    assert_eq!(
        (
            net.now(),
            gap_reports(&net, follower).first().copied().flatten(),
            deliveries_of(&net, leader, follower, first),
            holds,
            committed_at(&net, follower, &put(1, 1)),
        ),
        (start_ns, Some(first), 1, vec![true; 5], Some(first))
    );
}

/// The answers that report a gap may be duplicated and reordered: the leader still resends
/// the missing slot once. Answers to messages sent before the rewind, repeated answers, and
/// reports the resend's own answer has overtaken resend nothing. Reference: Raft §5.3 and
/// etcd's probe state (stale rejections are ignored).
#[test]
fn duplicated_and_reordered_gap_reports_resend_the_missing_slot_once() {
    let (mut net, leader) = settled(3, one_slot_per_accept(), 12);
    let follower = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    net.record_traffic = true;
    let first = paxos(&net, leader).log().last_slot() + 1;
    // The first accept to the follower is lost.
    net.propose(leader, put(1, 1)).expect("leader");
    net.cut_one_way(leader, follower);
    net.deliver_matching(|f, t, m| f == leader && t == follower && matches!(m, Message::Accept(_)));
    net.heal();
    for seq in 2..=6 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    // Deliver everything but the follower's answers, which all report the gap.
    let held = |f: NodeId, m: &Message| f == follower && matches!(m, Message::Accepted(_));
    while net.deliver_matching(|f, _, m| !held(f, m)) > 0 {}
    let answers: Vec<Accepted> = net
        .queued()
        .filter_map(|(f, _, m)| match m {
            Message::Accepted(a) if *f == follower => Some(a.clone()),
            _ => None,
        })
        .collect();
    net.drop_queued();
    assert_eq!(
        answers.iter().map(|a| a.missing_from).collect::<Vec<_>>(),
        vec![Some(first); 5]
    );
    // Newest first, each three times; then, once the gap is filled, all of them again.
    for _ in 0..2 {
        for a in answers.iter().rev() {
            for _ in 0..3 {
                inject(&mut net, follower, leader, Message::Accepted(a.clone()));
            }
        }
        net.deliver_all();
    }
    let resends = deliveries_of(&net, leader, follower, first);
    let most: usize = (first..first + 6)
        .map(|s| deliveries_of(&net, leader, follower, s))
        .max()
        .expect("six slots");
    assert_eq!(
        (resends, most <= 2, committed_at(&net, follower, &put(1, 1))),
        (1, true, Some(first))
    );
}

/// Over a lossy run, gap detection does not flood the network: with one accept in ten lost
/// to one follower, no slot goes to it more than a few times, and it holds the same chosen
/// values as the leader. Reference: the shared pipelining knobs.
#[test]
fn gap_detection_under_steady_loss_stays_bounded() {
    let (mut net, leader) = settled(3, one_slot_per_accept(), 13);
    let follower = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    let mut n = 0u64;
    net.set_filter(move |from, to, m| {
        if from == leader && to == follower && matches!(m, Message::Accept(_)) {
            n += 1;
            n % 10 == 3
        } else {
            false
        }
    });
    net.record_traffic = true;
    let first = paxos(&net, leader).log().last_slot() + 1;
    for seq in 1..=200 {
        net.propose(leader, put(1, seq)).expect("leader");
        if seq % 4 == 0 {
            net.deliver_all();
        }
    }
    net.run_for(SEC);
    let most: usize = (first..first + 200)
        .map(|s| deliveries_of(&net, leader, follower, s))
        .max()
        .expect("200 slots");
    assert!(most <= 3, "a slot went to the follower {most} times");
    assert_eq!(committed(&net, follower), committed(&net, leader));
}
