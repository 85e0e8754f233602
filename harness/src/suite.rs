//! Running many (scenario, protocol, seed) jobs over the machine's cores, checking each run,
//! and loading the built-in suite. Results come back in job order whatever the scheduling,
//! so output is deterministic.

use crate::check::verdict::check_history;
use crate::metrics::summarize;
use crate::report::RunResult;
use crate::run::{RunOptions, run_protocol};
use crate::scenario::{Dur, Scenario};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One run to do.
#[derive(Clone, Debug)]
pub struct Job {
    pub scenario: Scenario,
    pub source: String,
    pub protocol: String,
    pub seed: u64,
    pub trace_log_bytes: usize,
    /// Run on real processes instead of the simulator.
    pub live: bool,
}

/// Runs one job and checks its history.
pub fn run_job(job: &Job) -> Result<RunResult, String> {
    let opts = RunOptions {
        seed: Some(job.seed),
        trace_log_bytes: job.trace_log_bytes,
    };
    let output = if job.live {
        let live = crate::live::LiveOptions {
            seed: Some(job.seed),
            ..Default::default()
        };
        crate::live::run_live(&job.protocol, &job.scenario, &live)?
    } else {
        run_protocol(&job.protocol, &job.scenario, &opts)?
    };
    let checker = check_history(&output.history);
    let summary = summarize(&output, checker);
    Ok(RunResult { output, summary })
}

/// Runs `jobs` on `threads` threads; `done(i, result)` is called as each finishes (from the
/// worker thread). Results are returned in job order.
pub fn run_jobs(
    jobs: &[Job],
    threads: usize,
    done: &(dyn Fn(usize, &Result<RunResult, String>) + Sync),
) -> Vec<Result<RunResult, String>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<RunResult, String>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1).min(jobs.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = run_job(job);
                    done(i, &r);
                    results.lock().expect("no panics while holding the lock")[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// Worker threads to use: the machine's cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Every `*.toml` in `dir`, parsed and validated, in file-name order.
pub fn load_scenarios(dir: &Path) -> Result<Vec<(Scenario, String)>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let s = Scenario::load(&p).map_err(|e| e.to_string())?;
        out.push((s, p.display().to_string()));
    }
    if out.is_empty() {
        return Err(format!("{}: no scenario files (*.toml) found", dir.display()));
    }
    Ok(out)
}

/// A shortened copy of `s` for `--quick`: the workload runs at most `max_duration` and the
/// fault schedule is compressed in proportion, so every fault still happens.
pub fn quick(s: &Scenario, max_duration: Dur) -> Scenario {
    let mut q = s.clone();
    if s.duration <= max_duration {
        return q;
    }
    let scale = max_duration.0 as f64 / s.duration.0 as f64;
    q.duration = max_duration;
    q.settle = Dur(s.settle.0.min(2_000_000_000));
    for f in &mut q.faults.schedule {
        f.at = Dur((f.at.0 as f64 * scale) as u64);
    }
    if let Some(r) = &mut q.faults.random {
        r.mean_interval = Dur(((r.mean_interval.0 as f64 * scale) as u64).max(200_000_000));
        r.fault_duration = Dur(((r.fault_duration.0 as f64 * scale) as u64).max(200_000_000));
        r.start = Dur((r.start.0 as f64 * scale) as u64);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_mode_compresses_the_schedule_and_keeps_every_fault() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/leader-crash.toml");
        let s = Scenario::load(&path).unwrap();
        let q = quick(&s, Dur(2_000_000_000));
        assert_eq!(q.duration, Dur(2_000_000_000));
        assert_eq!(q.fault_schedule(1).len(), s.fault_schedule(1).len());
        assert!(q.fault_schedule(1).iter().all(|f| f.at <= q.duration));
    }

    #[test]
    fn every_built_in_scenario_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let all = load_scenarios(&dir).unwrap();
        assert!(all.len() >= 17, "{} scenarios", all.len());
    }
}
