//! Tests every [`ReplicatedLog`] must pass, generic over the protocol (as openraft's
//! `testing::Suite`). Each protocol crate runs [`run_all`] from its own tests; the
//! [`testkit::Network`](crate::testkit::Network) under them checks agreement, commit order,
//! durability-before-send and one leader per epoch at every step.
//!
//! | test | property |
//! | --- | --- |
//! | [`elects_a_leader_and_replicates`] | liveness without faults; every node commits the same sequence |
//! | [`follower_refuses_proposals_with_a_hint`] | proposals go to the leader |
//! | [`committed_commands_survive_a_leader_crash`] | a committed command is never lost or changed |
//! | [`minority_side_never_commits`] | commit needs a majority |
//! | [`restarted_follower_catches_up`] | restart from durable state, then catch up |
//! | [`acknowledged_commands_survive_a_crash_of_every_node`] | durability before acknowledgement |
//! | [`same_seed_gives_the_same_run`] | determinism |
//!
//! Snapshots and log compaction have their own table in [`snapshot`].

pub mod snapshot;

use crate::command::{CmdId, Command, Op};
use crate::config::ProtocolConfig;
use crate::log::ReplicatedLog;
use crate::rng::{RngExt, rng_for};
use crate::testkit::Network;
use crate::types::{LogIndex, Nanos, NodeId};

const SEC: Nanos = 1_000_000_000;

fn put(client: u64, seq: u64) -> Command {
    Command::client(
        client,
        seq,
        Op::Put {
            key: format!("k{}", seq % 7),
            value: format!("{client}-{seq}"),
        },
    )
}

/// Client-command ids committed by `id`, in index order.
fn client_ids<L: ReplicatedLog>(net: &Network<L>, id: NodeId) -> Vec<(LogIndex, CmdId)> {
    net.commits(id)
        .iter()
        .filter(|(_, c)| !matches!(c, Command::Noop))
        .map(|(i, c)| (*i, c.id()))
        .collect()
}

/// Proposes `count` commands at the current leader (re-electing as needed) and runs until
/// they commit there. Returns the (index, id) of each as the leader committed it.
fn commit_commands<L: ReplicatedLog>(
    net: &mut Network<L>,
    client: u64,
    count: u64,
) -> Vec<(LogIndex, CmdId)> {
    let mut committed = Vec::new();
    for seq in 1..=count {
        let cmd = put(client, seq);
        let id = cmd.id();
        let mut ok = false;
        for _attempt in 0..20 {
            let Some(leader) = net.elect(10 * SEC) else {
                continue;
            };
            if net.propose(leader, cmd.clone()).is_err() {
                continue;
            }
            if net.run_until(2 * SEC, |n| n.commits(leader).iter().any(|(_, c)| c.id() == id)) {
                let idx = net
                    .commits(leader)
                    .iter()
                    .find(|(_, c)| c.id() == id)
                    .map(|(i, _)| *i);
                committed.push((idx.expect("just found"), id));
                ok = true;
                break;
            }
        }
        assert!(ok, "command {id:?} never committed");
    }
    committed
}

/// A cluster of `n` elects a leader and every node commits the same ten commands.
pub fn elects_a_leader_and_replicates<L: ReplicatedLog>(n: usize) {
    let mut net = Network::<L>::new(n, ProtocolConfig::default(), 1);
    let leader_commits = commit_commands(&mut net, 1, 10);
    net.run_for(SEC);
    for &id in net.members() {
        assert_eq!(
            client_ids(&net, id),
            leader_commits,
            "{id:?} diverged from the leader"
        );
    }
}

/// A follower answers a proposal with NotLeader, pointing at the leader.
pub fn follower_refuses_proposals_with_a_hint<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(3, ProtocolConfig::default(), 2);
    let leader = net.elect(10 * SEC).expect("no leader elected");
    net.run_for(SEC); // heartbeats tell followers who leads
    let follower = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    let err = net
        .propose(follower, put(1, 1))
        .expect_err("a follower accepted a proposal");
    assert_eq!(err.hint, Some(leader));
}

/// Commands committed before the leader crashes stay at their indices under the next leader.
pub fn committed_commands_survive_a_leader_crash<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(5, ProtocolConfig::default(), 3);
    let before = commit_commands(&mut net, 1, 5);
    let old = net.leader().expect("leader");
    net.crash(old);
    let after = commit_commands(&mut net, 2, 5);
    let new = net.leader().expect("new leader");
    assert_ne!(old, new);
    let survivors = client_ids(&net, new);
    for c in before.iter().chain(&after) {
        assert!(
            survivors.contains(c),
            "{c:?} missing from the new leader's commits"
        );
    }
}

/// A leader cut off with a minority cannot commit; the majority side elects and commits.
pub fn minority_side_never_commits<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(5, ProtocolConfig::default(), 4);
    commit_commands(&mut net, 1, 1);
    let old = net.leader().expect("leader");
    let others: Vec<NodeId> = net.members().iter().copied().filter(|&m| m != old).collect();
    let minority = [old, others[0]];
    let majority = &others[1..];
    net.partition(&[&minority, majority]);
    let stranded = put(9, 1);
    let stranded_id = stranded.id();
    net.propose(old, stranded).expect("still believes it leads");
    net.run_for(5 * SEC);
    for id in net.members().to_vec() {
        let committed = net.commits(id).iter().any(|(_, c)| c.id() == stranded_id);
        assert!(
            !committed,
            "{id:?} committed a proposal made on the minority side"
        );
    }
    let leader = net.leader().expect("majority side elects");
    assert!(majority.contains(&leader), "{leader:?} leads without a majority");
}

/// A follower that crashes and misses commands boots from its records and catches up.
pub fn restarted_follower_catches_up<L: ReplicatedLog>() {
    let mut net = Network::<L>::new(3, ProtocolConfig::default(), 5);
    commit_commands(&mut net, 1, 3);
    let leader = net.leader().expect("leader");
    let follower = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    net.crash(follower);
    let all = [commit_commands(&mut net, 1, 3), commit_commands(&mut net, 2, 3)].concat();
    net.restart(follower);
    net.run_for(3 * SEC);
    let caught_up = client_ids(&net, follower);
    for c in &all {
        assert!(caught_up.contains(c), "restarted {follower:?} lacks {c:?}");
    }
}

/// Every node's disk syncs late and at random; a command committed anywhere must survive a
/// crash of every node at once (unsynced writes lost) and a full restart.
pub fn acknowledged_commands_survive_a_crash_of_every_node<L: ReplicatedLog>() {
    for seed in 0..20 {
        let mut net = Network::<L>::new(3, ProtocolConfig::default(), 100 + seed);
        let mut rng = rng_for(seed, 0xd15c);
        let members = net.members().to_vec();
        for &m in &members {
            net.set_auto_persist(m, false);
        }
        let mut seq = 0;
        for _round in 0..200 {
            if rng.random_bool(0.3) {
                let m = members[rng.random_range(0..members.len())];
                net.sync(m);
            }
            if let Some(leader) = net.leader()
                && rng.random_bool(0.2)
            {
                seq += 1;
                let _ = net.propose(leader, put(1, seq));
            }
            net.deliver_all();
            if rng.random_bool(0.1) {
                net.advance_to_next_deadline();
            }
        }
        let acknowledged: Vec<(LogIndex, CmdId)> =
            members.iter().flat_map(|&m| client_ids(&net, m)).collect();
        for &m in &members {
            net.crash(m);
        }
        for &m in &members {
            net.restart(m);
            net.set_auto_persist(m, true);
        }
        // Commit one more command so every earlier entry is committed in the new epoch.
        commit_commands(&mut net, 2, 1);
        net.run_for(SEC);
        let leader = net.leader().expect("leader after restart");
        let survived = client_ids(&net, leader);
        for c in &acknowledged {
            assert!(
                survived.contains(c),
                "seed {seed}: acknowledged {c:?} lost in a crash of every node"
            );
        }
    }
}

/// Two clusters with the same seed and the same inputs behave identically.
pub fn same_seed_gives_the_same_run<L: ReplicatedLog>() {
    let run = || {
        let mut net = Network::<L>::new(5, ProtocolConfig::default(), 42);
        commit_commands(&mut net, 1, 5);
        let leader = net.leader();
        (net.now(), leader, net.chosen().clone())
    };
    assert_eq!(run(), run());
}

/// Runs the whole suite.
pub fn run_all<L: ReplicatedLog>() {
    elects_a_leader_and_replicates::<L>(3);
    elects_a_leader_and_replicates::<L>(5);
    follower_refuses_proposals_with_a_hint::<L>();
    committed_commands_survive_a_leader_crash::<L>();
    minority_side_never_commits::<L>();
    restarted_follower_catches_up::<L>();
    acknowledged_commands_survive_a_crash_of_every_node::<L>();
    same_seed_gives_the_same_run::<L>();
}
