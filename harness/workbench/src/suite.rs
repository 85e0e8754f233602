//! Running many (scenario, protocol, seed) jobs over the machine's cores, checking each run,
//! and loading the built-in suite. Results come back in job order whatever the scheduling,
//! so output is deterministic.

use crate::build_info;
use model::check::verdict::check_run_history;
use model::metrics::{Loop, summarize_with};
use model::protocol::{NotSimulated, Protocol};
use model::run::BackendKind;
use model::scenario::{Dur, LoopMode, Scenario, ScenarioError};
use report::RunResult;
use sim::{HarnessError, RunOptions, SimError, run_protocol};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// One run to do.
#[derive(Clone, Debug)]
pub struct Job {
    pub scenario: Scenario,
    pub source: String,
    pub protocol: Protocol,
    pub seed: u64,
    pub trace_log_bytes: usize,
    /// The simulator, or real processes.
    pub backend: BackendKind,
}

/// A run that could not be done (not one that failed its checks: that is a result).
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    NotSimulated(#[from] NotSimulated),
    #[error(transparent)]
    Live(#[from] live::LiveError),
    /// The harness's own bug: never counted against the protocol.
    #[error(transparent)]
    Harness(#[from] HarnessError),
}

impl From<SimError> for RunError {
    fn from(e: SimError) -> Self {
        match e {
            SimError::NotSimulated(e) => RunError::NotSimulated(e),
            SimError::Harness(e) => RunError::Harness(e),
        }
    }
}

impl RunError {
    /// The harness error, if this is one.
    pub fn harness(&self) -> Option<&HarnessError> {
        match self {
            RunError::Harness(e) => Some(e),
            _ => None,
        }
    }
}

/// Runs one job and checks its history. A panic of the harness anywhere in it (the
/// simulator, the live runner, the checker, the metrics) is a [`RunError::Harness`] naming
/// the scenario, protocol and seed; a protocol's own panics are findings inside the result.
pub fn run_job(job: &Job) -> Result<RunResult, RunError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_and_check(job))).unwrap_or_else(|payload| {
        Err(RunError::Harness(HarnessError::from_panic(
            &*payload,
            &job.scenario.name,
            job.protocol,
            job.seed,
            "running, checking or summarizing the run",
        )))
    })
}

fn run_and_check(job: &Job) -> Result<RunResult, RunError> {
    let output = match job.backend {
        BackendKind::Live => {
            let live = live::LiveOptions {
                seed: Some(job.seed),
                ..Default::default()
            };
            live::run_live(job.protocol, &job.scenario, &live)?
        }
        BackendKind::Sim => {
            let opts = RunOptions {
                seed: Some(job.seed),
                trace_log_bytes: job.trace_log_bytes,
            };
            run_protocol(job.protocol, &job.scenario, &opts)?
        }
    };
    let checker = check_run_history(&output.history).map_err(|e| HarnessError {
        scenario: job.scenario.name.clone(),
        protocol: job.protocol,
        seed: job.seed,
        at_ns: output.end_ns,
        event: "checking the history its clients wrote".into(),
        message: e.to_string(),
    })?;
    let summary = summarize_with(
        &output,
        Loop::of(&job.scenario.workload),
        checker,
        &build_info::versions(),
    );
    Ok(RunResult { output, summary })
}

/// Runs `jobs` on `threads` threads; `done(result)` is called as each finishes (from the
/// worker thread). A run's history (the bulk of its memory) is dropped once it is checked
/// unless `keep_history(result)` says otherwise. Results are returned in job order.
pub fn run_jobs(
    jobs: &[Job],
    threads: usize,
    keep_history: &(dyn Fn(&RunResult) -> bool + Sync),
    done: &(dyn Fn(&Result<RunResult, RunError>) + Sync),
) -> Vec<Result<RunResult, RunError>> {
    crate::pool::par_map(jobs, threads, |job| {
        let mut r = run_job(job);
        if let Ok(result) = &mut r
            && !keep_history(result)
        {
            result.output.history = Vec::new();
        }
        done(&r);
        r
    })
}

/// Seeds per scenario and protocol in the full suite: enough for a 95 % interval that
/// separates the differences that matter (t = 2.78 at 5 seeds).
pub const SUITE_SEEDS: u64 = 5;

/// Seeds per scenario and protocol in `suite --quick`: the fewest that give an interval.
pub const QUICK_SEEDS: u64 = 2;

/// Every (scenario, protocol, seed) of the suite: `seeds` seeds from each scenario's own.
pub fn suite_jobs(scenarios: &[(Scenario, String)], seeds: u64) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (s, src) in scenarios {
        for protocol in s.protocols() {
            for seed in s.seed..s.seed + seeds {
                jobs.push(Job {
                    scenario: s.clone(),
                    source: src.clone(),
                    protocol,
                    seed,
                    trace_log_bytes: 0,
                    backend: BackendKind::Sim,
                });
            }
        }
    }
    jobs
}

/// Clients of a sweep point.
pub const SWEEP_CLIENTS: usize = 1024;

/// The scenario run open-loop at `rate` operations per second.
pub fn at_rate(s: &Scenario, rate: f64) -> Scenario {
    let mut s = s.clone();
    s.workload.mode = LoopMode::Open;
    s.workload.rate = Some(rate);
    // Enough clients that concurrency, not the client count, limits an overloaded cluster:
    // at 150 000 ops/s and 4 ms, 600 operations are in flight.
    s.workload.clients = s.workload.clients.max(SWEEP_CLIENTS);
    s
}

/// `scenario` in open loop at each of `rates`, for each protocol (protocol-major order).
pub fn sweep_jobs(
    scenario: &Scenario,
    source: &str,
    protocols: &[Protocol],
    rates: &[f64],
    seed: u64,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &protocol in protocols {
        for &rate in rates {
            jobs.push(Job {
                scenario: at_rate(scenario, rate),
                source: source.to_string(),
                protocol,
                seed,
                trace_log_bytes: 0,
                backend: BackendKind::Sim,
            });
        }
    }
    jobs
}

/// One of the suite's load sweeps: latency against throughput from light load past the knee.
pub struct SweepPlan {
    pub scenario: Scenario,
    pub source: String,
    pub protocols: Vec<Protocol>,
    pub rates: Vec<f64>,
}

/// The scenarios the suite sweeps: the 5-node steady state of the suite, and a write-heavy and
/// a read-heavy mix from `scenarios/sweep/` (uniform keys: at a thousand operations in
/// flight on zipfian keys the linearizability checker runs out of budget, slowly).
pub const SWEPT: [&str; 3] = ["steady-5", "sweep-write-heavy", "sweep-read-heavy"];

/// Where the sweep-only scenarios live, under the suite's scenario directory.
pub const SWEEP_DIR: &str = "sweep";

impl SweepPlan {
    /// The sweeps of the [`SWEPT`] scenarios found in `scenarios`, for each protocol and the
    /// no-replication baseline, with a short workload per point (the first leader and the
    /// warm-up take its first 0.8 s or so).
    pub fn for_suite(scenarios: &[(Scenario, String)], quick: bool) -> Vec<SweepPlan> {
        let rates: Vec<f64> = if quick {
            vec![10_000.0, 60_000.0, 150_000.0]
        } else {
            vec![
                10_000.0, 25_000.0, 50_000.0, 75_000.0, 90_000.0, 100_000.0, 110_000.0, 125_000.0, 150_000.0,
            ]
        };
        let duration = Dur(if quick { 1_300_000_000 } else { 1_800_000_000 });
        SWEPT
            .iter()
            .filter_map(|name| scenarios.iter().find(|(s, _)| s.name == *name))
            .map(|(s, source)| {
                let mut scenario = s.clone();
                scenario.duration = duration;
                scenario.settle = Dur(scenario.settle.0.min(500_000_000));
                SweepPlan {
                    scenario,
                    source: source.clone(),
                    protocols: vec![Protocol::Raft, Protocol::Paxos, Protocol::Null],
                    rates: rates.clone(),
                }
            })
            .collect()
    }
}

/// A suite directory that cannot be loaded.
#[derive(Debug, Error)]
pub enum SuiteError {
    #[error("{}: {source}", dir.display())]
    ReadDir { dir: PathBuf, source: std::io::Error },
    #[error("{}: no scenario files (*.toml) found", dir.display())]
    Empty { dir: PathBuf },
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

/// Every `*.toml` in `dir`, parsed and validated, in file-name order.
pub fn load_scenarios(dir: &Path) -> Result<Vec<(Scenario, String)>, SuiteError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| SuiteError::ReadDir {
            dir: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let s = Scenario::load(&p)?;
        out.push((s, p.display().to_string()));
    }
    if out.is_empty() {
        return Err(SuiteError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(out)
}

/// Where `--quick` starts its compressed fault schedule: past the start-up election and the
/// warm-up (the measured window opens [`model::metrics::window::WARMUP_NS`] after the first
/// leader, a few hundred milliseconds in), so that every fault falls in the measured window.
pub const QUICK_FAULTS_FROM: Dur = Dur(1_000_000_000);

/// A shortened copy of `s` for `--quick`: the workload runs at most `max_duration` and the
/// fault schedule is compressed in proportion into the part of it after
/// [`QUICK_FAULTS_FROM`], so every fault still happens, in the measured window.
pub fn quick(s: &Scenario, max_duration: Dur) -> Scenario {
    let mut q = s.clone();
    if s.duration <= max_duration {
        return q;
    }
    let from = QUICK_FAULTS_FROM.0.min(max_duration.0 / 2);
    let scale = (max_duration.0 - from) as f64 / s.duration.0 as f64;
    let squeeze = |t: Dur| Dur(from + (t.0 as f64 * scale) as u64);
    q.duration = max_duration;
    q.settle = Dur(s.settle.0.min(2_000_000_000));
    for f in &mut q.faults.schedule {
        f.at = squeeze(f.at);
    }
    if let Some(r) = &mut q.faults.random {
        r.mean_interval = Dur(((r.mean_interval.0 as f64 * scale) as u64).max(200_000_000));
        r.fault_duration = Dur(((r.fault_duration.0 as f64 * scale) as u64).max(200_000_000));
        r.start = squeeze(r.start);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_mode_compresses_the_schedule_and_keeps_every_fault() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/leader-crash.toml");
        let s = Scenario::load(&path).unwrap();
        let q = quick(&s, Dur(2_000_000_000));
        assert_eq!(q.duration, Dur(2_000_000_000));
        assert_eq!(q.fault_schedule(1).len(), s.fault_schedule(1).len());
        assert!(q.fault_schedule(1).iter().all(|f| f.at <= q.duration));
    }

    /// A fault squeezed into the warm-up would fall outside the measured window: its outage
    /// would count nowhere and its latencies would be left out.
    #[test]
    fn quick_mode_puts_every_fault_after_the_warmup() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/leader-crash.toml");
        let q = quick(&Scenario::load(&path).unwrap(), Dur(2_000_000_000));
        assert!(
            q.fault_schedule(1).iter().all(|f| f.at >= QUICK_FAULTS_FROM),
            "{:?}",
            q.faults.schedule
        );
    }

    #[test]
    fn every_built_in_scenario_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let all = load_scenarios(&dir).unwrap();
        assert!(all.len() >= 17, "{} scenarios", all.len());
    }
}
