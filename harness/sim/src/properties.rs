//! The randomized safety property both protocol crates are held to, in one place so Raft and
//! multi-Paxos are checked by the same code: on a 5-node cluster under random crashes,
//! restarts, partitions, loss and duplication, every node's committed sequence is a prefix of
//! one common sequence (the agreement and commit-order invariants, checked at every commit),
//! every acknowledged command is in it, the history is linearizable, and after the faults heal every node converges.

use crate::runner::{RunOptions, run_sim};
use model::check::verdict::check_history;
use model::run::RunOutput;
use model::scenario::{Dist, Dur, FaultKind, RandomNemesisSpec, Scenario};
use replog::ReplicatedLog;

/// The scenario each seed runs: 5 nodes, 3 s of operations under a random nemesis drawing
/// crashes, partitions, isolation, loss and duplication, a lossy jittery network underneath,
/// then 3 s to settle. Links reorder (not FIFO).
pub fn property_scenario() -> Scenario {
    use FaultKind::*;
    let text = "name = \"property\"\nduration = \"3s\"\nsettle = \"3s\"\n[cluster]\nnodes = 5\n\
                [workload]\nclients = 8\nkeys = 5\nrequest_timeout = \"200ms\"\nop_timeout = \"1s\"\n";
    let mut s = Scenario::parse(text, "property").expect("valid");
    s.network.latency = Dist::Normal {
        mean_ns: 1_000_000,
        stddev_ns: 500_000,
    };
    s.network.loss = 0.02;
    s.network.duplicate = 0.02;
    // Reordering too: links are not FIFO here.
    s.network.fifo = false;
    s.faults.random = Some(RandomNemesisSpec {
        mean_interval: Dur(400_000_000),
        kinds: vec![Crash, Partition, Isolate, Loss, Duplicate, MajoritiesRing],
        fault_duration: Dur(500_000_000),
        start: Dur(200_000_000),
    });
    s
}

/// [`property_scenario`] with log compaction on: a snapshot every 25 applied entries, sent
/// in chunks of 128 bytes (an image of 5 keys and 8 clients' sessions takes a few), so
/// crashed, partitioned and lagging nodes catch up from snapshots.
pub fn compacting_property_scenario() -> Scenario {
    let mut s = property_scenario();
    s.protocol.snapshot_every = 25;
    s.protocol.snapshot_chunk_bytes = 128;
    s
}

/// A seed's run that broke the property, with what broke.
#[derive(Debug)]
pub struct PropertyFailure {
    pub seed: u64,
    pub problems: Vec<String>,
    pub reproduce: String,
}

/// Why `out` breaks the property, if it does.
pub fn property_problems(out: &RunOutput) -> Vec<String> {
    let mut problems: Vec<String> = out
        .violations
        .iter()
        .map(|v| format!("{:?}: {}", v.kind, v.detail))
        .collect();
    let check = check_history(&out.history);
    match check.linearizable {
        Some(true) => {}
        Some(false) => problems.push(format!(
            "history not linearizable: {}",
            check.counterexample.unwrap_or_default()
        )),
        None => problems.push("the checker ran out of budget".into()),
    }
    if !out.converged {
        problems.push(format!(
            "after healing, nodes did not converge: commit indices {:?}",
            out.commit_index_per_node
        ));
    }
    problems
}

/// Runs seeds `seeds` with protocol `L`; returns every failing seed.
pub fn check_property<L: ReplicatedLog>(seeds: std::ops::Range<u64>) -> Vec<PropertyFailure> {
    check_property_with::<L>(seeds, replog::Bugs::default())
}

/// [`check_property`] with test-only protocol bugs switched on, to show the property catches
/// them.
pub fn check_property_with<L: ReplicatedLog>(
    seeds: std::ops::Range<u64>,
    bugs: replog::Bugs,
) -> Vec<PropertyFailure> {
    let protocol = replog::ProtocolConfig {
        bugs,
        ..property_scenario().protocol
    };
    check_property_config::<L>(seeds, protocol, "")
}

/// [`check_property`] with reads served by `read_path` (`read_index`, or `lease` within its
/// drift bound: the property scenario skews no clock). Reads take the same linearizability
/// check as every other operation.
pub fn check_property_reads<L: ReplicatedLog>(
    seeds: std::ops::Range<u64>,
    read_path: replog::ReadPath,
) -> Vec<PropertyFailure> {
    let protocol = replog::ProtocolConfig {
        read_path,
        ..property_scenario().protocol
    };
    check_property_config::<L>(seeds, protocol, read_path.name())
}

/// Runs `seeds` of the property scenario with `protocol` as its `[protocol]` table; `test`
/// names the test to rerun in the reproduction line.
fn check_property_config<L: ReplicatedLog>(
    seeds: std::ops::Range<u64>,
    protocol: replog::ProtocolConfig,
    test: &str,
) -> Vec<PropertyFailure> {
    let mut scenario = property_scenario();
    scenario.protocol = protocol;
    let filter = if test.is_empty() {
        L::NAME.to_string()
    } else {
        format!("{}_{test}", L::NAME)
    };
    check_scenario::<L>(seeds, &scenario, "property_scenario", &filter)
}

/// [`check_property`] on [`compacting_property_scenario`]: snapshots and log compaction on.
pub fn check_property_compacting<L: ReplicatedLog>(seeds: std::ops::Range<u64>) -> Vec<PropertyFailure> {
    let filter = format!(
        "{}_committed_prefixes_agree_under_random_faults_with_snapshots",
        L::NAME
    );
    check_scenario::<L>(
        seeds,
        &compacting_property_scenario(),
        "compacting_property_scenario",
        &filter,
    )
}

/// Runs `seeds` of `scenario` (built by `sim::properties::{scenario_fn}`); `filter` names the
/// test to rerun in the reproduction line.
fn check_scenario<L: ReplicatedLog>(
    seeds: std::ops::Range<u64>,
    scenario: &Scenario,
    scenario_fn: &str,
    filter: &str,
) -> Vec<PropertyFailure> {
    let mut failures = Vec::new();
    for seed in seeds {
        let out = run_sim::<L>(
            scenario,
            &RunOptions {
                seed: Some(seed),
                trace_log_bytes: 0,
            },
        );
        let problems = property_problems(&out);
        if !problems.is_empty() {
            failures.push(PropertyFailure {
                seed,
                problems,
                reproduce: format!(
                    "cargo test -p sim --test protocol_properties -- {filter} --nocapture  (seed {seed}; the scenario is sim::properties::{scenario_fn})"
                ),
            });
        }
    }
    failures
}
