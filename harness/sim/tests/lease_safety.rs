//! The safety demonstration for leases (issue 20): with `read_path = "lease"` and a leader
//! whose clock runs slower than the drift bound allows, the old leader keeps answering reads
//! from its lease after the others elected a new leader and committed writes, and the checker
//! finds the stale read, for both protocols. The same schedule within the bound, or with
//! `read_path = "read_index"`, is clean. Reference: Raft thesis §6.4.1.
//!
//! The scenarios are `scenarios/unsafe/lease-skew-unsafe.toml` (expected to fail) and
//! `scenarios/lease-skew-within-bound.toml`.

use model::check::verdict::check_history;
use model::scenario::Scenario;
use paxos::PaxosNode;
use raft::RaftNode;
use replog::{ReadPath, ReplicatedLog};
use sim::{RunOptions, run_sim};
use std::path::Path;

const SEED: u64 = 1;

fn scenario(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(file);
    Scenario::load(&path).expect("a valid scenario")
}

/// Whether the run's history is linearizable and no invariant broke.
fn clean<L: ReplicatedLog>(s: &Scenario) -> bool {
    let out = run_sim::<L>(
        s,
        &RunOptions {
            seed: Some(SEED),
            trace_log_bytes: 0,
        },
    );
    out.violations.is_empty() && check_history(&out.history).linearizable == Some(true)
}

#[test]
fn with_the_leaders_clock_skewed_beyond_the_drift_bound_the_checker_finds_a_stale_read() {
    let s = scenario("unsafe/lease-skew-unsafe.toml");
    assert_eq!((clean::<RaftNode>(&s), clean::<PaxosNode>(&s)), (false, false));
}

#[test]
fn with_the_skew_within_the_drift_bound_lease_reads_stay_linearizable() {
    let s = scenario("lease-skew-within-bound.toml");
    assert_eq!((clean::<RaftNode>(&s), clean::<PaxosNode>(&s)), (true, true));
}

#[test]
fn the_unsafe_schedule_under_read_index_stays_linearizable() {
    let mut s = scenario("unsafe/lease-skew-unsafe.toml");
    s.protocol.read_path = ReadPath::ReadIndex;
    assert_eq!((clean::<RaftNode>(&s), clean::<PaxosNode>(&s)), (true, true));
}
