//! Randomized stress on the testkit: five nodes, random configurations, proposals, crashes
//! and restarts, partitions, message loss, duplication and reordering, slow disks, from the
//! schedule in `replog::testkit::stress` (multi-Paxos runs the same one). The testkit's
//! agreement, commit-order, durability and one-leader-per-term checks run at every step; this test adds Log Matching between live nodes, and at the end it heals
//! everything and checks that every index ever committed is committed again, unchanged.
//!
//! A failure prints its seed; rerun just that seed with
//! `RAFT_STRESS_SEED=<seed> cargo test -p raft --test stress`.

mod common;

use common::*;
use raft::RaftNode;
use replog::ProtocolConfig;
use replog::rng::{DetRng, RngExt};
use replog::testkit::{Network, stress};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

const NODES: usize = 5;
const SEEDS: u64 = 1000;
const STEPS: usize = 1500;

fn random_config(rng: &mut DetRng) -> ProtocolConfig {
    let mut cfg = ProtocolConfig {
        max_batch_entries: [1, 3, 64][rng.random_range(0..3)],
        max_inflight_msgs: [1, 2, 8][rng.random_range(0..3)],
        batch_delay_ns: [0, 0, 2 * MS][rng.random_range(0..3)],
        ..ProtocolConfig::default()
    };
    cfg.pre_vote = rng.random_bool(0.5);
    cfg.check_quorum = rng.random_bool(0.5);
    cfg.raft.fast_backtrack = rng.random_bool(0.7);
    cfg
}

/// Log Matching (§5.3): if two logs hold an entry with the same index and term, they are
/// identical up to that index. Checked at the highest index where the terms agree.
fn check_log_matching(net: &Network<RaftNode>) {
    let live: Vec<&RaftNode> = net.members().iter().filter_map(|&m| net.node(m)).collect();
    for (i, a) in live.iter().enumerate() {
        for b in &live[i + 1..] {
            let (la, lb) = (a.log(), b.log());
            let top = la.last_index().min(lb.last_index());
            if let Some(same) = (1..=top).rev().find(|&k| la.term(k) == lb.term(k)) {
                assert_eq!(
                    la.slice(1, same),
                    lb.slice(1, same),
                    "Log Matching violated between {:?} and {:?} up to index {same}",
                    a.id(),
                    b.id()
                );
            }
        }
    }
}

fn run(seed: u64) {
    stress::run::<RaftNode>(seed, NODES, STEPS, random_config, check_log_matching);
}

/// Random crashes, restarts, partitions and message loss, duplication and reordering never
/// break agreement, Log Matching or durability, and never lose a committed command.
/// Reference: Raft §5.4 (Safety), §5.5 (follower and candidate crashes).
#[test]
fn random_faults_never_break_safety_or_lose_committed_commands() {
    let seeds: Vec<u64> = match std::env::var("RAFT_STRESS_SEED") {
        Ok(s) => vec![s.parse().expect("RAFT_STRESS_SEED is a number")],
        Err(_) => (0..SEEDS).collect(),
    };
    for seed in seeds {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(seed))) {
            eprintln!(
                "stress: seed {seed} failed. REPRODUCE WITH: RAFT_STRESS_SEED={seed} cargo test -p raft --test stress"
            );
            resume_unwind(panic);
        }
    }
}
