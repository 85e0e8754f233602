//! Batching, pipelining, the batch delay, and recovery of a window whose messages were lost.

mod common;

use common::*;
use raft::{Message, RaftNode};
use replog::testkit::Network;
use replog::{LogIndex, NodeId, ProtocolConfig};
use std::collections::BTreeMap;

/// A settled cluster of three with `cfg`: a leader, heartbeats exchanged, traffic recorded
/// from now on. Returns the network and the leader.
fn settled(cfg: ProtocolConfig, seed: u64) -> (Network<RaftNode>, NodeId) {
    let mut net = Network::<RaftNode>::new(3, cfg, seed);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.record_traffic = true;
    (net, leader)
}

/// Entries carried by each AppendEntries delivered from `leader`.
fn batch_sizes(net: &Network<RaftNode>, leader: NodeId) -> Vec<usize> {
    net.delivered
        .iter()
        .filter_map(|(f, _, m)| match m {
            Message::AppendEntries(ae) if *f == leader => Some(ae.entries.len()),
            _ => None,
        })
        .collect()
}

/// With `max_batch_entries = k`, no AppendEntries carries more than k entries, and under
/// load batches do fill up to k. Reference: Raft thesis §10.2.2 (batching).
#[test]
fn no_append_entries_carries_more_than_max_batch_entries() {
    for k in [1, 3, 16] {
        let cfg = ProtocolConfig {
            max_batch_entries: k,
            max_inflight_msgs: 2,
            ..ProtocolConfig::default()
        };
        let (mut net, leader) = settled(cfg, 3);
        for seq in 1..=100 {
            net.propose(leader, put(1, seq)).expect("leader");
        }
        net.run_for(SEC);
        let largest = batch_sizes(&net, leader).into_iter().max();
        assert_eq!(largest, Some(k), "max_batch_entries = {k}");
    }
}

/// Delivers queued messages one at a time (FIFO) until none remain and returns the most
/// entry-carrying AppendEntries that were ever sent to one follower and not yet answered,
/// as the messages on the wire show it.
fn max_unacknowledged_appends(net: &mut Network<RaftNode>, leader: NodeId) -> usize {
    let mut outstanding: BTreeMap<NodeId, Vec<LogIndex>> = BTreeMap::new();
    let mut max = 0;
    let mut account = |new: &[(NodeId, NodeId, Message)],
                       outstanding: &mut BTreeMap<NodeId, Vec<LogIndex>>| {
        for (f, t, m) in new {
            if let Message::AppendEntries(ae) = m
                && *f == leader
                && !ae.entries.is_empty()
            {
                let window = outstanding.entry(*t).or_default();
                window.push(ae.prev_log_index + ae.entries.len() as LogIndex);
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
        if let (from, to, Message::AppendEntriesResponse(r)) = &first
            && *to == leader
            && r.success
        {
            outstanding
                .entry(*from)
                .or_default()
                .retain(|&last| last > r.index);
        }
        let new: Vec<_> = net.queued().skip(before - 1).cloned().collect();
        account(&new, &mut outstanding);
    }
    max
}

/// With `max_inflight_msgs = w`, the leader never has more than w unacknowledged
/// entry-carrying AppendEntries to one follower, and under load it uses all w.
/// Reference: Raft thesis §10.2.2 (pipelining); etcd's Inflights.
#[test]
fn never_more_than_max_inflight_msgs_unacknowledged_appends_per_follower() {
    for w in [1, 2, 5] {
        let cfg = ProtocolConfig {
            max_batch_entries: 2,
            max_inflight_msgs: w,
            ..ProtocolConfig::default()
        };
        let (mut net, leader) = settled(cfg, 4);
        for seq in 1..=60 {
            net.propose(leader, put(1, seq)).expect("leader");
        }
        let max = max_unacknowledged_appends(&mut net, leader);
        assert_eq!(max, w, "max_inflight_msgs = {w}");
    }
}

/// With `batch_delay_ns > 0`, proposals wait up to that long to fill a batch: nothing goes
/// out before the delay, then one AppendEntries per follower carries them all.
/// Reference: Raft thesis §10.2.2 (batching).
#[test]
fn batch_delay_holds_proposals_until_the_deadline() {
    let cfg = ProtocolConfig {
        batch_delay_ns: 5 * MS,
        ..ProtocolConfig::default()
    };
    let (mut net, leader) = settled(cfg, 5);
    for seq in 1..=3 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    let early: Vec<usize> = batch_sizes(&net, leader).into_iter().filter(|&n| n > 0).collect();
    net.advance(5 * MS);
    net.deliver_all();
    let all: Vec<usize> = batch_sizes(&net, leader).into_iter().filter(|&n| n > 0).collect();
    assert_eq!((early, all), (vec![], vec![3, 3]));
}

/// A full batch does not wait for the batch delay. Reference: Raft thesis §10.2.2.
#[test]
fn a_full_batch_goes_out_without_waiting_for_the_delay() {
    let cfg = ProtocolConfig {
        batch_delay_ns: 5 * MS,
        max_batch_entries: 4,
        ..ProtocolConfig::default()
    };
    let (mut net, leader) = settled(cfg, 6);
    for seq in 1..=4 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    let sent: Vec<usize> = batch_sizes(&net, leader).into_iter().filter(|&n| n > 0).collect();
    assert_eq!(sent, vec![4, 4]);
}

/// Every entry-carrying AppendEntries to one follower is lost; once the network recovers,
/// the leader notices within two heartbeat intervals that its window has had no
/// acknowledgement, resends from `match_index + 1`, and the follower catches up.
/// Reference: Raft §5.3 ("the leader retries AppendEntries RPCs indefinitely").
#[test]
fn a_window_lost_in_the_network_is_resent_from_match_index() {
    let cfg = ProtocolConfig::default();
    let (mut net, leader) = settled(cfg.clone(), 7);
    let follower = NodeId((leader.0 + 1) % 3);
    net.set_filter(move |_, to, m| {
        to == follower && matches!(m, Message::AppendEntries(ae) if !ae.entries.is_empty())
    });
    for seq in 1..=5 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    let behind = net.status(follower).expect("up").last_index < net.status(leader).expect("up").last_index;
    net.heal();
    net.run_for(2 * cfg.heartbeat_interval_ns);
    let caught_up =
        net.status(follower).expect("up").last_index == net.status(leader).expect("up").last_index;
    assert_eq!((behind, caught_up), (true, true));
}

/// Every message is delivered twice and responses are answered out of order: duplicated
/// and stale answers change nothing, and every node commits the same commands.
/// Reference: Raft §5.3 (AppendEntries is idempotent), §5.5.
#[test]
fn duplicated_and_reordered_messages_are_harmless() {
    let cfg = ProtocolConfig {
        max_batch_entries: 2,
        max_inflight_msgs: 4,
        ..ProtocolConfig::default()
    };
    let (mut net, leader) = settled(cfg, 8);
    for seq in 1..=40 {
        net.propose(leader, put(1, seq)).expect("leader");
        // Deliver the newest message first, twice, then the rest in reverse order.
        for _ in 0..3 {
            let queued: Vec<_> = net.queued().cloned().collect();
            net.drop_queued();
            for (from, to, msg) in queued.into_iter().rev() {
                inject(&mut net, from, to, msg.clone());
                inject(&mut net, from, to, msg);
            }
        }
    }
    net.run_for(SEC);
    let ids = |id| {
        net.commits(id)
            .iter()
            .map(|(i, c)| (*i, c.id()))
            .collect::<Vec<_>>()
    };
    let leader_commits = ids(leader);
    assert_eq!(leader_commits.len(), 41, "no-op and 40 commands");
    for m in [NodeId(0), NodeId(1), NodeId(2)] {
        assert_eq!(ids(m), leader_commits, "{m:?}");
    }
}
