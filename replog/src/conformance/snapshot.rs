//! Snapshot and log-compaction tests every [`ReplicatedLog`] must pass (both protocols run
//! them from their `tests/conformance.rs`). The test cluster checks agreement, commit order
//! and the snapshot invariants (every snapshot at an index holds the same state, none beyond
//! the committed sequence) at every step.
//!
//! | test | property |
//! | --- | --- |
//! | [`lagging_follower_catches_up_from_a_snapshot`] | a follower behind the leader's compacted prefix gets the snapshot (in chunks), then the suffix |
//! | [`restart_boots_from_the_snapshot_and_the_log_after_it`] | recovery from the checkpoint and the records after it |
//! | [`crash_before_the_checkpoint_is_durable_recovers_the_state_before_it`] | a snapshot write cut by a crash loses nothing |
//! | [`snapshots_racing_with_leader_changes_keep_agreement`] | compaction on every node while leaders crash and return |

use super::{SEC, commit_commands};
use crate::config::ProtocolConfig;
use crate::log::ReplicatedLog;
use crate::testkit::Network;
use crate::types::NodeId;

/// Snapshots every 4 entries, sent in chunks of 16 bytes (so an image takes several).
fn compacting() -> ProtocolConfig {
    ProtocolConfig {
        snapshot_every: 4,
        snapshot_chunk_bytes: 16,
        ..ProtocolConfig::default()
    }
}

fn follower_of<L: ReplicatedLog>(net: &mut Network<L>) -> (NodeId, NodeId) {
    let leader = net.elect(10 * SEC).expect("a leader");
    let follower = net
        .members()
        .iter()
        .copied()
        .find(|&m| m != leader)
        .expect("a follower");
    (leader, follower)
}

/// Runs until every up node holds the leader's state; returns whether they do.
fn converge<L: ReplicatedLog>(net: &mut Network<L>) -> bool {
    net.run_until(20 * SEC, |n| {
        let Some(leader) = n.leader() else { return false };
        n.members()
            .iter()
            .all(|&m| !n.is_up(m) || n.kv(m) == n.kv(leader))
    })
}

/// A follower cut off while the leader commits (and compacts) 24 commands catches up once
/// healed: the entries it lacks are gone from the leader's log, so only the snapshot can
/// bring it there. Reference: Raft §7; for multi-Paxos, catch-up of the chosen prefix.
pub fn lagging_follower_catches_up_from_a_snapshot<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(3, compacting(), 11);
    let (_, follower) = follower_of(&mut net);
    net.isolate(follower);
    commit_commands(&mut net, 1, 24);
    let before = net.commits(follower).len();
    net.heal();
    assert!(converge(&mut net), "the follower never caught up");
    let applied_after = net.commits(follower).len() - before;
    assert!(
        applied_after < 24,
        "the follower applied {applied_after} entries one by one: no snapshot was installed"
    );
}

/// A follower restarted after compacting boots from its snapshot plus the records after it,
/// and ends with the leader's state.
pub fn restart_boots_from_the_snapshot_and_the_log_after_it<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(3, compacting(), 12);
    let (_, follower) = follower_of(&mut net);
    commit_commands(&mut net, 1, 10);
    assert!(converge(&mut net));
    net.crash(follower);
    net.restart(follower);
    commit_commands(&mut net, 2, 3);
    assert!(converge(&mut net), "the restarted follower did not converge");
}

/// A follower whose disk holds back its writes takes snapshots that never become durable,
/// then crashes: it recovers the state before them and catches up.
pub fn crash_before_the_checkpoint_is_durable_recovers_the_state_before_it<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(3, compacting(), 13);
    let (_, follower) = follower_of(&mut net);
    commit_commands(&mut net, 1, 6);
    net.set_auto_persist(follower, false);
    commit_commands(&mut net, 2, 10);
    net.crash(follower);
    net.restart(follower);
    net.set_auto_persist(follower, true);
    commit_commands(&mut net, 3, 2);
    assert!(converge(&mut net), "the follower did not recover");
}

/// Every node compacts while leaders crash and come back: agreement and the snapshot
/// invariants hold throughout, and everyone converges.
pub fn snapshots_racing_with_leader_changes_keep_agreement<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(
        3,
        ProtocolConfig {
            snapshot_every: 3,
            ..compacting()
        },
        14,
    );
    for round in 0..4 {
        commit_commands(&mut net, round + 1, 5);
        let leader = net.elect(10 * SEC).expect("a leader");
        net.crash(leader);
        commit_commands(&mut net, round + 10, 2);
        net.restart(leader);
    }
    assert!(converge(&mut net));
}
