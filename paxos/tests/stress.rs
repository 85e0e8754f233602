//! Randomized stress on the testkit: five nodes, random configurations, proposals, crashes
//! and restarts, partitions, message loss, duplication and reordering, slow disks: the same
//! schedule generator as Raft's (`replog::testkit::stress`). The testkit's agreement,
//! commit-order, durability and one-leader-per-ballot checks run at every step, and the
//! protocol's own invariants (a promise never decreases, a chosen value never changes)
//! assert inside it; this test adds that live nodes agree on every slot both know to be
//! chosen, and at the end it heals everything and checks that every slot ever committed is
//! committed again, unchanged, and that every node catches up.
//!
//! A failure prints its seed; rerun just that seed with
//! `PAXOS_STRESS_SEED=<seed> cargo test -p paxos --test stress`.

mod common;

use common::*;
use paxos::PaxosNode;
use replog::ProtocolConfig;
use replog::rng::{DetRng, RngExt};
use replog::testkit::{Network, stress};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

const NODES: usize = 5;
const SEEDS: u64 = 1000;
const STEPS: usize = 1500;

/// Random knobs, the stickiness switches as Raft's stress test draws them, and now and then
/// one of the parity experiment's ablation switches (each must stay safe too).
fn random_config(rng: &mut DetRng) -> ProtocolConfig {
    let mut cfg = ProtocolConfig {
        max_batch_entries: [1, 3, 64][rng.random_range(0..3)],
        max_inflight_msgs: [1, 2, 8][rng.random_range(0..3)],
        batch_delay_ns: [0, 0, 2 * MS][rng.random_range(0..3)],
        pre_vote: rng.random_bool(0.5),
        check_quorum: rng.random_bool(0.5),
        ..ProtocolConfig::default()
    };
    cfg.ablation.paxos_per_message_acks = rng.random_bool(0.2);
    cfg.ablation.paxos_probe_after_stall = rng.random_bool(0.2);
    cfg.ablation.paxos_redraw_timeout_on_reset = rng.random_bool(0.2);
    cfg
}

/// Agreement on what is known chosen: two live nodes that both know a slot to be chosen
/// hold the same command in it (the Paxos counterpart of Raft's Log Matching check).
fn check_chosen_agree(net: &Network<PaxosNode>) {
    let live: Vec<&PaxosNode> = net.members().iter().filter_map(|&m| net.node(m)).collect();
    for (i, a) in live.iter().enumerate() {
        for b in &live[i + 1..] {
            let top = a.log().last_slot().min(b.log().last_slot());
            for slot in 1..=top {
                if a.log().is_chosen(slot) && b.log().is_chosen(slot) {
                    let (ca, cb) = (a.log().get(slot), b.log().get(slot));
                    assert_eq!(
                        ca.map(|e| &e.cmd),
                        cb.map(|e| &e.cmd),
                        "agreement violated at slot {slot} between {:?} and {:?}",
                        a.id(),
                        b.id()
                    );
                }
            }
        }
    }
}

fn run(seed: u64) {
    stress::run::<PaxosNode>(seed, NODES, STEPS, random_config, check_chosen_agree);
}

/// Random crashes, restarts, partitions and message loss, duplication and reordering never
/// break agreement or durability, and never lose a committed command.
/// Reference: Paxos Made Simple §2.1 (safety), §3.
#[test]
fn random_faults_never_break_safety_or_lose_committed_commands() {
    let seeds: Vec<u64> = match std::env::var("PAXOS_STRESS_SEED") {
        Ok(s) => vec![s.parse().expect("PAXOS_STRESS_SEED is a number")],
        Err(_) => (0..SEEDS).collect(),
    };
    for seed in seeds {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(seed))) {
            eprintln!(
                "stress: seed {seed} failed. REPRODUCE WITH: PAXOS_STRESS_SEED={seed} cargo test -p paxos --test stress"
            );
            resume_unwind(panic);
        }
    }
}
