//! Learning chosen values: commit notices on accepts and heartbeats, and catch-up of a
//! lagging learner by the leader.

mod common;

use common::*;
use paxos::msg::{Accept, Heartbeat};
use paxos::{Message, PaxosNode};
use replog::testkit::Network;
use replog::{Epoch, ProtocolConfig, ReplicatedLog};

/// Commands each `Learn` delivered to `to` carried.
fn learn_sizes(net: &Network<PaxosNode>, to: replog::NodeId) -> Vec<usize> {
    net.delivered
        .iter()
        .filter_map(|(_, t, m)| match m {
            Message::Learn(l) if *t == to => Some(l.cmds.len()),
            _ => None,
        })
        .collect()
}

/// A follower that misses every accept while the leader commits thirty commands (it still
/// hears heartbeats, so it does not run for leader) learns that its chosen prefix lags from
/// the heartbeat exchange, and the leader sends it every chosen value, in order, in `Learn`
/// messages of at most `max_batch_entries` values. Reference: Paxos Made Simple §2.3
/// (learning a chosen value), §3.
#[test]
fn a_lagging_follower_catches_up_from_the_leader() {
    let cfg = ProtocolConfig {
        max_batch_entries: 4,
        ..ProtocolConfig::default()
    };
    let (mut net, leader) = settled(3, cfg, 1);
    let lagging = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    net.set_filter(move |_, to, m| to == lagging && matches!(m, Message::Accept(_)));
    net.record_traffic = true;
    for seq in 1..=30 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.run_for(2 * SEC);
    let sizes = learn_sizes(&net, lagging);
    assert_eq!(
        (
            committed(&net, lagging),
            sizes.iter().max().copied(),
            sizes.iter().sum::<usize>() >= 30
        ),
        (committed(&net, leader), Some(4), true)
    );
}

/// A follower that crashed and lost everything but its records comes back and catches up
/// with what was chosen while it was down. Reference: Paxos Made Simple §2.3, §3.
#[test]
fn a_restarted_follower_catches_up_with_what_it_missed() {
    let (mut net, leader) = settled(3, ProtocolConfig::default(), 2);
    let follower = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    for seq in 1..=5 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.run_for(SEC);
    net.crash(follower);
    for seq in 6..=10 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.run_for(SEC);
    net.restart(follower);
    net.run_for(2 * SEC);
    assert_eq!(committed(&net, follower), committed(&net, leader));
}

/// A commit notice "chosen up to slot s" from the leader of ballot b marks a slot chosen
/// only if the value there was accepted at b: a value accepted at another ballot may not be
/// the one chosen. Reference: Paxos Made Simple §2.3 (a learner learns a value once it
/// knows a majority accepted that very proposal).
#[test]
fn a_commit_notice_marks_only_values_accepted_at_its_ballot() {
    let b1 = Epoch::ballot(1, N0);
    let b2 = Epoch::ballot(2, N1);
    let mut marked = Vec::new();
    for notice_ballot in [b1, b2] {
        let mut node = boot(
            N2,
            3,
            vec![paxos::Record::Accepted {
                ballot: b1,
                first_slot: 1,
                cmds: vec![put(1, 1)],
            }],
        );
        node.step(
            0,
            notice_ballot.owner.expect("a ballot"),
            Message::Heartbeat(Heartbeat {
                ballot: notice_ballot,
                chosen_upto: 1,
            }),
        );
        marked.push(node.log().chosen_upto());
    }
    assert_eq!(marked, vec![1, 0]);
}

/// Commit notices ride on accepts: a follower learns slot 1 is chosen from the accept for
/// slot 2, with no heartbeat in between. Reference: Paxos Made Simple §3.
#[test]
fn commit_notices_ride_on_accepts() {
    let b1 = Epoch::ballot(1, N0);
    let mut node = boot(N2, 3, vec![paxos::Record::Promised { ballot: b1 }]);
    for (slot, chosen_upto) in [(1, 0), (2, 1)] {
        node.step(
            0,
            N0,
            Message::Accept(Accept {
                ballot: b1,
                first_slot: slot,
                cmds: vec![put(1, slot)],
                chosen_upto,
            }),
        );
    }
    assert_eq!(node.log().chosen_upto(), 1);
}
