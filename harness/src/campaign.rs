//! The fault-injection campaign: many seeds times a mix of fault schedules for each
//! protocol, every run checked (linearizability and invariants), every failure saved with
//! the one command that reproduces it. In the spirit of TigerBeetle's VOPR and FoundationDB's
//! simulation testing: the seed is the bug report.
//!
//! The default mix covers what Jepsen's nemeses cover. Each schedule is a scenario whose
//! faults the random nemesis draws from the seed, so every seed is a different schedule:
//!
//! | schedule | faults |
//! | --- | --- |
//! | kill | crash and restart (leaders and followers) |
//! | pause | SIGSTOP-style pauses |
//! | partition-one | one node isolated |
//! | partition-halves | a minority cut off, with or without the leader |
//! | majorities-ring | every node sees a majority, no two the same |
//! | bridge | two halves joined through one node |
//! | leader-isolation | the leader isolated, or cut from one follower (partial) |
//! | one-way | a node that can send but not receive |
//! | lossy-network | loss, duplication and heavy reordering |
//! | clock-skew | timers running at half or double speed |
//! | slow-disk | fsyncs of 20 to 100 ms |
//! | crash-unsynced | crashes while fsyncs are slow, so unsynced writes are lost |
//! | mixed | all of the above |

use crate::report::{RunResult, store};
use crate::scenario::{
    DistSpec, Dur, FaultKind, KeyDistribution, MixSpec, RandomNemesisSpec, Scenario, WorkloadSpec,
};
use crate::suite::{Job, run_jobs};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One fault schedule of the mix.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub name: &'static str,
    pub kinds: Vec<FaultKind>,
    /// Latency jitter and loss on top of the faults.
    pub lossy: bool,
    /// Slow fsyncs for the whole run, so crashes catch unsynced writes.
    pub slow_fsync: bool,
}

/// The default mix.
pub fn default_schedules() -> Vec<Schedule> {
    use FaultKind::*;
    let s = |name, kinds: &[FaultKind]| Schedule {
        name,
        kinds: kinds.to_vec(),
        lossy: false,
        slow_fsync: false,
    };
    vec![
        s("kill", &[Crash]),
        s("pause", &[Pause]),
        s("partition-one", &[Isolate]),
        s("partition-halves", &[Partition]),
        s("majorities-ring", &[MajoritiesRing]),
        s("bridge", &[Bridge]),
        s("leader-isolation", &[Isolate, Partial]),
        s("one-way", &[OneWay]),
        Schedule {
            lossy: true,
            ..s("lossy-network", &[Loss, Duplicate, Delay])
        },
        s("clock-skew", &[ClockSkew]),
        s("slow-disk", &[SlowDisk]),
        Schedule {
            slow_fsync: true,
            ..s("crash-unsynced", &[Crash])
        },
        Schedule {
            lossy: true,
            ..s(
                "mixed",
                &[
                    Crash,
                    Pause,
                    Partition,
                    Isolate,
                    Bridge,
                    MajoritiesRing,
                    OneWay,
                    Partial,
                    Loss,
                    Duplicate,
                    Delay,
                    ClockSkew,
                    SlowDisk,
                ],
            )
        },
    ]
}

/// Campaign settings.
#[derive(Clone, Debug)]
pub struct CampaignConfig {
    pub seeds: u64,
    pub first_seed: u64,
    pub nodes: usize,
    pub duration: Dur,
    pub protocols: Vec<String>,
    pub schedules: Vec<Schedule>,
    pub verify_determinism: bool,
    pub threads: usize,
    /// Protocol bugs to switch on (for showing the campaign finds them).
    pub bugs: replog::Bugs,
}

/// The scenario a schedule runs as.
pub fn scenario_for(schedule: &Schedule, cfg: &CampaignConfig) -> Scenario {
    let text = format!(
        "name = \"campaign-{}\"\nduration = \"{}\"\nsettle = \"3s\"\n",
        schedule.name, cfg.duration
    );
    let mut s = Scenario::parse(&text, "campaign").expect("the campaign's own scenario is valid");
    s.description = format!(
        "Campaign schedule {}: random {:?}.",
        schedule.name, schedule.kinds
    );
    s.cluster.nodes = cfg.nodes;
    // Few keys and many compare-and-sets make lost or reordered writes visible to the checker.
    s.workload = WorkloadSpec {
        clients: 8,
        keys: 5,
        distribution: KeyDistribution::Uniform,
        mix: MixSpec {
            read: 0.4,
            write: 0.3,
            cas: 0.3,
        },
        value_size: 8,
        request_timeout: Dur(300_000_000),
        op_timeout: Dur(2_000_000_000),
        ..WorkloadSpec::default()
    };
    s.faults.random = Some(RandomNemesisSpec {
        mean_interval: Dur(700_000_000),
        kinds: schedule.kinds.clone(),
        fault_duration: Dur(800_000_000),
        start: Dur(300_000_000),
    });
    if schedule.lossy {
        s.network.latency = DistSpec::Normal {
            mean: Dur(1_000_000),
            stddev: Dur(800_000),
        };
        s.network.loss = 0.02;
        s.network.duplicate = 0.02;
        s.network.fifo = false;
    }
    if schedule.slow_fsync {
        s.disk.fsync = DistSpec::Uniform {
            min: Dur(5_000_000),
            max: Dur(30_000_000),
        };
    }
    s.protocol.bugs = cfg.bugs.clone();
    s
}

/// One failing run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    pub protocol: String,
    pub schedule: String,
    pub seed: u64,
    pub reason: String,
    pub saved_to: String,
    pub reproduce: String,
}

/// Totals per protocol.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Tally {
    pub runs: u64,
    pub faults_injected: u64,
    pub operations_checked: u64,
    pub violations: u64,
    pub determinism_mismatches: u64,
}

/// What a campaign found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CampaignReport {
    pub per_protocol: BTreeMap<String, Tally>,
    pub failures: Vec<Failure>,
}

impl CampaignReport {
    /// Whether nothing failed.
    pub fn clean(&self) -> bool {
        self.failures.is_empty()
    }

    /// The table of runs, faults, operations and violations per protocol.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<8} {:>7} {:>9} {:>12} {:>10} {:>13}\n",
            "protocol", "runs", "faults", "ops checked", "violations", "nondetermin."
        );
        for (p, t) in &self.per_protocol {
            out += &format!(
                "{:<8} {:>7} {:>9} {:>12} {:>10} {:>13}\n",
                p, t.runs, t.faults_injected, t.operations_checked, t.violations, t.determinism_mismatches
            );
        }
        out
    }
}

fn failure_reason(r: &RunResult) -> Option<String> {
    let s = &r.summary;
    if s.correct {
        return None;
    }
    let mut why = Vec::new();
    match s.checker.linearizable {
        Some(false) => why.push("not linearizable".to_string()),
        None => why.push("checker gave up".to_string()),
        Some(true) => {}
    }
    if s.invariant_violations > 0 {
        why.push(format!(
            "{} invariant violation(s): {}",
            s.invariant_violations,
            s.invariant_details.first().cloned().unwrap_or_default()
        ));
    }
    Some(why.join("; "))
}

fn history_hash(r: &RunResult) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for e in &r.output.history {
        for b in serde_json::to_vec(e).expect("events serialize") {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Runs the campaign; `progress(done, total)` is called as runs finish. Failing runs are
/// saved under `out` (re-run with a full event trace).
pub fn run_campaign(
    cfg: &CampaignConfig,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<CampaignReport, String> {
    let mut jobs = Vec::new();
    let mut meta = Vec::new();
    for schedule in &cfg.schedules {
        let scenario = scenario_for(schedule, cfg);
        for p in &cfg.protocols {
            for seed in cfg.first_seed..cfg.first_seed + cfg.seeds {
                let copies = if cfg.verify_determinism { 2 } else { 1 };
                for copy in 0..copies {
                    jobs.push(Job {
                        scenario: scenario.clone(),
                        source: format!("campaign:{}", schedule.name),
                        protocol: p.clone(),
                        seed,
                        trace_log_bytes: 0,
                        live: false,
                    });
                    meta.push((schedule.name, copy));
                }
            }
        }
    }
    let results = run_jobs(&jobs, cfg.threads, &|_, _| progress(1));
    let mut report = CampaignReport {
        per_protocol: BTreeMap::new(),
        failures: Vec::new(),
    };
    let mut i = 0;
    while i < jobs.len() {
        let job = &jobs[i];
        let (schedule, _) = meta[i];
        let first = results[i]
            .as_ref()
            .map_err(|e| format!("{} seed {}: {e}", job.protocol, job.seed))?;
        let tally = report.per_protocol.entry(job.protocol.clone()).or_default();
        tally.runs += 1;
        tally.faults_injected += first
            .output
            .faults
            .iter()
            .filter(|f| f.applied && !f.label.starts_with("settle"))
            .count() as u64;
        tally.operations_checked += first.summary.checker.operations;
        let mut reason = failure_reason(first);
        if reason.is_some() {
            tally.violations += 1;
        }
        if cfg.verify_determinism {
            let second = results[i + 1]
                .as_ref()
                .map_err(|e| format!("{} seed {}: {e}", job.protocol, job.seed))?;
            let same = first.output.trace_hash == second.output.trace_hash
                && history_hash(first) == history_hash(second);
            if !same {
                tally.determinism_mismatches += 1;
                reason = Some(format!(
                    "nondeterminism: trace hashes {:016x} and {:016x}",
                    first.output.trace_hash, second.output.trace_hash
                ));
            }
            i += 2;
        } else {
            i += 1;
        }
        if let Some(reason) = reason {
            report.failures.push(save_failure(out, job, schedule, &reason)?);
        }
    }
    Ok(report)
}

/// Re-runs a failing job with a full event trace and saves everything needed to study it.
fn save_failure(out: &Path, job: &Job, schedule: &str, reason: &str) -> Result<Failure, String> {
    let mut traced = job.clone();
    traced.trace_log_bytes = 256 << 20;
    let result = crate::suite::run_job(&traced)?;
    let dir: PathBuf = out.join(format!("{}-{}-seed{}", job.protocol, schedule, job.seed));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let scenario_path = dir.join("scenario.toml");
    let text = toml::to_string_pretty(&job.scenario).map_err(|e| e.to_string())?;
    std::fs::write(&scenario_path, text).map_err(|e| format!("{}: {e}", scenario_path.display()))?;
    let run_dir = store::save_run(&dir, &result)?;
    let reproduce = format!(
        "cargo run --release -- run {} --protocol {} --seed {} --trace",
        scenario_path.display(),
        job.protocol,
        job.seed
    );
    std::fs::write(dir.join("REPRODUCE"), format!("{reproduce}\n# {reason}\n")).map_err(|e| e.to_string())?;
    Ok(Failure {
        protocol: job.protocol.clone(),
        schedule: schedule.to_string(),
        seed: job.seed,
        reason: reason.to_string(),
        saved_to: run_dir.display().to_string(),
        reproduce,
    })
}
