//! Metrics computed from a run: latency percentiles per operation kind, throughput and p99
//! latency over time, steady-state figures over the measured window (start-up election and
//! warm-up excluded), unavailability after each fault and over the window, leader changes and
//! election times, messages and bytes per committed command. They go to `summary.json` and
//! CSVs beside it.

pub mod availability;
pub mod elections;
pub mod latency;
pub mod window;

pub use crate::check::verdict::CheckSummary;
use crate::history::Fun;
use crate::protocol::Protocol;
use crate::run::{BackendKind, RunOutput};
use crate::workload::{OpRecord, OpStatus};
pub use availability::{Availability, Unavailability};
use elections::leader_changes;
use latency::{Latencies, Percentiles};
use replog::Nanos;
use serde::{Deserialize, Serialize};
pub use window::{Loop, SteadyState, Window};

/// Width of the time-series buckets.
pub const DEFAULT_BUCKET_NS: Nanos = 100_000_000;

/// What the workbench's build was (the binary fills it in from its build script).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    pub workbench: String,
    pub git: String,
    pub rustc: String,
}

/// Operation counts by outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpCounts {
    pub total: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

/// Latency percentiles of completed operations (ok or fail), from their intended start.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub all: Percentiles,
    pub read: Percentiles,
    pub write: Percentiles,
    pub cas: Percentiles,
}

/// Leader changes and election times.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ElectionSummary {
    pub leader_changes: u64,
    pub elections_timed: u64,
    pub election: Percentiles,
}

/// Traffic between nodes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageSummary {
    pub messages: u64,
    pub bytes: u64,
    pub messages_per_command: f64,
    pub bytes_per_command: f64,
    pub messages_per_node: Vec<u64>,
    pub bytes_per_node: Vec<u64>,
    pub fsyncs: u64,
    pub fsyncs_per_command: f64,
}

/// One `summary.json`: a scenario run with one protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub protocol: Protocol,
    pub backend: BackendKind,
    pub seed: u64,
    pub nodes: usize,
    pub duration_ns: Nanos,
    pub ops: OpCounts,
    /// Completed (ok or fail) operations per second of workload.
    pub throughput_ops_per_s: f64,
    pub latency: LatencySummary,
    /// Throughput and latency over the measured window (start-up election and warm-up
    /// excluded): the figures the report compares.
    #[serde(default)]
    pub steady: SteadyState,
    /// Gaps of at least [`availability::OUTAGE_MIN_NS`] with no completion in the window.
    #[serde(default)]
    pub availability: Availability,
    pub unavailability: Vec<Unavailability>,
    pub elections: ElectionSummary,
    pub messages: MessageSummary,
    pub committed_entries: u64,
    pub committed_commands: u64,
    pub converged: bool,
    pub checker: CheckSummary,
    /// Invariants broken (see `check::invariants`); the first few are listed.
    pub invariant_violations: usize,
    pub invariant_details: Vec<String>,
    /// True when the checker and every invariant passed.
    pub correct: bool,
    pub trace_hash: String,
    pub events: u64,
    pub versions: Versions,
}

/// Throughput and latency in one time bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub start_ns: Nanos,
    pub ops_per_s: f64,
    pub p50_ns: u64,
    pub p99_ns: u64,
}

fn completed(op: &OpRecord) -> bool {
    op.status != OpStatus::Info
}

/// Latency histograms of completed operations: all, read, write, cas.
pub fn latency_histograms(ops: &[OpRecord]) -> [Latencies; 4] {
    let mut h: [Latencies; 4] = Default::default();
    for op in ops.iter().filter(|o| completed(o)) {
        let l = op.latency_ns();
        h[0].record(l);
        let k = match op.f {
            Fun::Read => 1,
            Fun::Write => 2,
            Fun::Cas => 3,
        };
        h[k].record(l);
    }
    h
}

/// Throughput and latency over time, in buckets of `bucket_ns`, up to `end_ns`.
pub fn time_series(ops: &[OpRecord], end_ns: Nanos, bucket_ns: Nanos) -> Vec<Bucket> {
    let n = end_ns.div_ceil(bucket_ns) as usize;
    // Latencies grouped by bucket (a counting sort), then one histogram reused for every
    // bucket: a histogram is a few hundred KiB, and a long run has hundreds of buckets.
    let bucket_of = |op: &OpRecord| ((op.end_ns / bucket_ns) as usize).min(n.saturating_sub(1));
    let mut starts = vec![0usize; n + 1];
    for op in ops.iter().filter(|o| completed(o)) {
        starts[bucket_of(op) + 1] += 1;
    }
    for b in 0..n {
        starts[b + 1] += starts[b];
    }
    let mut filled = starts.clone();
    let mut latencies = vec![0; starts[n]];
    for op in ops.iter().filter(|o| completed(o)) {
        let b = bucket_of(op);
        latencies[filled[b]] = op.latency_ns();
        filled[b] += 1;
    }
    let mut h = Latencies::default();
    (0..n)
        .map(|b| {
            let bucket = &latencies[starts[b]..starts[b + 1]];
            h.clear();
            bucket.iter().for_each(|&l| h.record(l));
            Bucket {
                start_ns: b as Nanos * bucket_ns,
                ops_per_s: bucket.len() as f64 * 1e9 / bucket_ns as f64,
                p50_ns: h.quantile(0.5),
                p99_ns: h.quantile(0.99),
            }
        })
        .collect()
}

/// Every metric of a run. `checker` is the linearizability verdict, `versions` what built
/// the binary that ran it. Without the loop mode the open-loop latency is left out; see
/// [`summarize_with`].
pub fn summarize(run: &RunOutput, checker: CheckSummary, versions: &Versions) -> Summary {
    summarize_with(run, Loop::Unknown, checker, versions)
}

/// Every metric of a run whose clients ran in `mode`.
pub fn summarize_with(run: &RunOutput, mode: Loop, checker: CheckSummary, versions: &Versions) -> Summary {
    let mut counts = OpCounts::default();
    for op in &run.ops {
        counts.total += 1;
        match op.status {
            OpStatus::Ok => counts.ok += 1,
            OpStatus::Fail => counts.fail += 1,
            OpStatus::Info => counts.info += 1,
        }
    }
    let [all, read, write, cas] = latency_histograms(&run.ops);
    let changes = leader_changes(&run.status_log);
    let window = Window::after_warmup(changes.first().map(|c| c.at_ns), run.duration_ns);
    let ends = availability::completion_times(&run.ops);
    let mut election = Latencies::default();
    for d in changes.iter().filter_map(|c| c.election_ns) {
        election.record(d);
    }
    let per_cmd = |x: u64| {
        if run.committed_commands == 0 {
            0.0
        } else {
            x as f64 / run.committed_commands as f64
        }
    };
    let messages: u64 = run.node_stats.iter().map(|s| s.msgs_sent).sum();
    let bytes: u64 = run.node_stats.iter().map(|s| s.bytes_sent).sum();
    let fsyncs: u64 = run.node_stats.iter().map(|s| s.fsyncs).sum();
    let correct = checker.linearizable == Some(true) && run.violation_count == 0;
    Summary {
        scenario: run.scenario.clone(),
        protocol: run.protocol,
        backend: run.backend,
        seed: run.seed,
        nodes: run.nodes,
        duration_ns: run.duration_ns,
        throughput_ops_per_s: (counts.ok + counts.fail) as f64 * 1e9 / run.duration_ns.max(1) as f64,
        ops: counts,
        latency: LatencySummary {
            all: all.percentiles(),
            read: read.percentiles(),
            write: write.percentiles(),
            cas: cas.percentiles(),
        },
        steady: window::steady_state(&run.ops, window, mode),
        availability: availability::availability(&ends, window),
        unavailability: availability::after_each_fault(&ends, &run.faults, &changes, run.duration_ns),
        elections: ElectionSummary {
            leader_changes: changes.len() as u64,
            elections_timed: election.len(),
            election: election.percentiles(),
        },
        messages: MessageSummary {
            messages,
            bytes,
            messages_per_command: per_cmd(messages),
            bytes_per_command: per_cmd(bytes),
            messages_per_node: run.node_stats.iter().map(|s| s.msgs_sent).collect(),
            bytes_per_node: run.node_stats.iter().map(|s| s.bytes_sent).collect(),
            fsyncs,
            fsyncs_per_command: per_cmd(fsyncs),
        },
        committed_entries: run.committed_entries,
        committed_commands: run.committed_commands,
        converged: run.converged,
        checker,
        invariant_violations: run.violation_count,
        invariant_details: run
            .violations
            .iter()
            .take(10)
            .map(|v| format!("{:?} at {} ns: {}", v.kind, v.time_ns, v.detail))
            .collect(),
        correct,
        trace_hash: format!("{:016x}", run.trace_hash),
        events: run.events,
        versions: versions.clone(),
    }
}
