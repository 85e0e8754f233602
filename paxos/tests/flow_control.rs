//! Batching, pipelining and the batch delay, under the same knobs and with the same tests
//! as Raft's (`raft/tests/flow_control.rs`).

mod common;

use common::*;
use paxos::{Message, PaxosNode};
use replog::testkit::Network;
use replog::{LogIndex, NodeId, ProtocolConfig};
use std::collections::BTreeMap;

/// A settled cluster of three with `cfg`, traffic recorded from now on.
fn settled_recording(cfg: ProtocolConfig, seed: u64) -> (Network<PaxosNode>, NodeId) {
    let (mut net, leader) = settled(3, cfg, seed);
    net.record_traffic = true;
    (net, leader)
}

/// Commands carried by each `Accept` delivered from `leader`.
fn batch_sizes(net: &Network<PaxosNode>, leader: NodeId) -> Vec<usize> {
    net.delivered
        .iter()
        .filter_map(|(f, _, m)| match m {
            Message::Accept(a) if *f == leader => Some(a.cmds.len()),
            _ => None,
        })
        .collect()
}

/// With `max_batch_entries = k`, no accept carries more than k commands, and under load
/// (proposals arriving while the window is full) accepts do fill up to k: many commands
/// share one phase 2 round. Reference: Paxos Made Simple §3 (phase 2 per slot); the shared
/// batching knob.
#[test]
fn no_accept_carries_more_than_max_batch_entries() {
    for k in [1, 3, 16] {
        let cfg = ProtocolConfig {
            max_batch_entries: k,
            max_inflight_msgs: 2,
            ..ProtocolConfig::default()
        };
        let (mut net, leader) = settled_recording(cfg, 3);
        for seq in 1..=100 {
            net.propose(leader, put(1, seq)).expect("leader");
        }
        net.run_for(SEC);
        let largest = batch_sizes(&net, leader).into_iter().max();
        assert_eq!(largest, Some(k), "max_batch_entries = {k}");
    }
}

/// Delivers queued messages one at a time (FIFO) until none remain and returns the most
/// command-carrying accepts that were ever sent to one follower and not yet answered, as
/// the messages on the wire show it. An accept is identified by its last slot.
fn max_unacknowledged_accepts(net: &mut Network<PaxosNode>, leader: NodeId) -> usize {
    let mut outstanding: BTreeMap<NodeId, Vec<LogIndex>> = BTreeMap::new();
    let mut max = 0;
    let mut account = |new: &[(NodeId, NodeId, Message)],
                       outstanding: &mut BTreeMap<NodeId, Vec<LogIndex>>| {
        for (f, t, m) in new {
            if let Message::Accept(a) = m
                && *f == leader
                && !a.cmds.is_empty()
            {
                let window = outstanding.entry(*t).or_default();
                window.push(a.first_slot + a.cmds.len() as LogIndex - 1);
                max = max.max(window.len());
            }
        }
    };
    let initial: Vec<_> = net.queued().cloned().collect();
    account(&initial, &mut outstanding);
    let mut steps = 0;
    loop {
        let first = net.queued().next().cloned();
        let Some(first) = first else { break };
        steps += 1;
        assert!(steps < 100_000, "traffic never quiesces");
        let before = net.queued().count();
        let mut pick = true;
        net.deliver_matching(|_, _, _| std::mem::replace(&mut pick, false));
        if let (from, to, Message::Accepted(r)) = &first
            && *to == leader
        {
            outstanding
                .entry(*from)
                .or_default()
                .retain(|&last| last != r.last_slot);
        }
        let new: Vec<_> = net.queued().skip(before - 1).cloned().collect();
        account(&new, &mut outstanding);
    }
    max
}

/// With `max_inflight_msgs = w`, the leader never has more than w unanswered accepts to
/// one follower, and under load it uses all w. Reference: the shared pipelining knob (the
/// same window as Raft's, etcd's Inflights).
#[test]
fn never_more_than_max_inflight_msgs_unanswered_accepts_per_follower() {
    for w in [1, 2, 5] {
        let cfg = ProtocolConfig {
            max_batch_entries: 2,
            max_inflight_msgs: w,
            ..ProtocolConfig::default()
        };
        let (mut net, leader) = settled_recording(cfg, 4);
        for seq in 1..=60 {
            net.propose(leader, put(1, seq)).expect("leader");
        }
        let max = max_unacknowledged_accepts(&mut net, leader);
        assert_eq!(max, w, "max_inflight_msgs = {w}");
    }
}

/// With `batch_delay_ns > 0`, proposals wait up to that long to fill a batch: nothing goes
/// out before the delay, then one accept per follower carries them all. Reference: the
/// shared batching knobs.
#[test]
fn proposals_wait_for_the_batch_delay_then_go_in_one_accept() {
    let cfg = ProtocolConfig {
        batch_delay_ns: 5 * MS,
        ..ProtocolConfig::default()
    };
    let (mut net, leader) = settled_recording(cfg, 5);
    for seq in 1..=10 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    let before = batch_sizes(&net, leader);
    net.advance(5 * MS);
    net.deliver_all();
    assert_eq!((before, batch_sizes(&net, leader)), (vec![], vec![10, 10]));
}

/// A full batch goes out at once, without waiting for the delay. Reference: the shared
/// batching knobs.
#[test]
fn a_full_batch_does_not_wait_for_the_delay() {
    let cfg = ProtocolConfig {
        batch_delay_ns: SEC / 10,
        max_batch_entries: 4,
        ..ProtocolConfig::default()
    };
    let (mut net, leader) = settled_recording(cfg, 6);
    for seq in 1..=4 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    assert_eq!(batch_sizes(&net, leader), vec![4, 4]);
}
