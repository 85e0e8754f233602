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

use crate::suite::{Job, RunError, run_job};
use model::protocol::Protocol;
use model::run::BackendKind;
use model::scenario::{
    Dist, Dur, FaultKind, KeyDistribution, MixSpec, RandomNemesisSpec, Scenario, WorkloadSpec,
};
use report::{ReportError, RunResult, store};
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
    pub protocols: Vec<Protocol>,
    pub schedules: Vec<Schedule>,
    pub verify_determinism: bool,
    pub threads: usize,
    /// Protocol bugs to switch on (for showing the campaign finds them).
    pub bugs: replog::Bugs,
    /// Log compaction: `[protocol] snapshot_every` (0: off) and `snapshot_chunk_bytes`.
    pub snapshot_every: u64,
    pub snapshot_chunk_bytes: usize,
    /// How leaders answer reads (`[protocol] read_path`).
    pub read_path: replog::ReadPath,
}

/// The schedules a campaign under `read_path` runs. Under `lease`, clock skew is left out:
/// the random nemesis skews clocks by x0.5 or x2, far beyond any drift bound a lease can
/// allow, so it would only re-find the known-unsafe case that the `lease-skew-unsafe`
/// scenario shows on purpose. Every other fault runs.
pub fn schedules_for(read_path: replog::ReadPath, schedules: Vec<Schedule>) -> Vec<Schedule> {
    if read_path != replog::ReadPath::Lease {
        return schedules;
    }
    schedules
        .into_iter()
        .filter_map(|mut s| {
            s.kinds.retain(|&k| k != FaultKind::ClockSkew);
            (!s.kinds.is_empty()).then_some(s)
        })
        .collect()
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
        s.network.latency = Dist::Normal {
            mean_ns: 1_000_000,
            stddev_ns: 800_000,
        };
        s.network.loss = 0.02;
        s.network.duplicate = 0.02;
        s.network.fifo = false;
    }
    if schedule.slow_fsync {
        s.disk.fsync = Dist::Uniform {
            min_ns: 5_000_000,
            max_ns: 30_000_000,
        };
    }
    s.protocol.bugs = cfg.bugs.clone();
    s.protocol.snapshot_every = cfg.snapshot_every;
    s.protocol.snapshot_chunk_bytes = cfg.snapshot_chunk_bytes;
    s.protocol.read_path = cfg.read_path;
    s
}

/// One failing run: a violation, a verdict the checker could not reach, or nondeterminism.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    pub protocol: Protocol,
    pub schedule: String,
    pub seed: u64,
    pub reason: String,
    pub saved_to: String,
    pub reproduce: String,
}

/// A run the harness could not finish because of its own bug: no finding about the protocol,
/// listed apart from the failures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HarnessFailure {
    pub protocol: Protocol,
    pub schedule: String,
    pub seed: u64,
    pub error: String,
}

/// Totals per protocol.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Tally {
    pub runs: u64,
    pub faults_injected: u64,
    pub operations_checked: u64,
    /// Runs that broke linearizability or an invariant.
    pub violations: u64,
    /// Runs whose history the checker could not decide within its budget (never a pass).
    pub unknown: u64,
    pub determinism_mismatches: u64,
    /// Runs the harness failed on; not counted against the protocol.
    pub harness_errors: u64,
}

/// What a campaign found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CampaignReport {
    pub per_protocol: BTreeMap<Protocol, Tally>,
    pub failures: Vec<Failure>,
    pub harness_errors: Vec<HarnessFailure>,
}

impl CampaignReport {
    /// Whether nothing failed and the harness did not either.
    pub fn clean(&self) -> bool {
        self.failures.is_empty() && self.harness_errors.is_empty()
    }

    /// The table of runs, faults, operations and findings per protocol.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<8} {:>7} {:>9} {:>12} {:>10} {:>8} {:>13} {:>14}\n",
            "protocol",
            "runs",
            "faults",
            "ops checked",
            "violations",
            "unknown",
            "nondetermin.",
            "harness errors"
        );
        for (p, t) in &self.per_protocol {
            out += &format!(
                "{:<8} {:>7} {:>9} {:>12} {:>10} {:>8} {:>13} {:>14}\n",
                p,
                t.runs,
                t.faults_injected,
                t.operations_checked,
                t.violations,
                t.unknown,
                t.determinism_mismatches,
                t.harness_errors
            );
        }
        out
    }
}

/// What was wrong with a run, if anything.
#[derive(Clone, Debug, PartialEq)]
enum Finding {
    /// Not linearizable, or an invariant broke.
    Violation(String),
    /// The checker's budget ran out: "unknown: ...".
    Unknown(String),
}

fn finding(r: &RunResult) -> Option<Finding> {
    let s = &r.summary;
    if s.correct {
        return None;
    }
    let mut why = Vec::new();
    if s.checker.linearizable == Some(false) {
        why.push("not linearizable".to_string());
    }
    if s.invariant_violations > 0 {
        why.push(format!(
            "{} invariant violation(s): {}",
            s.invariant_violations,
            s.invariant_details.first().cloned().unwrap_or_default()
        ));
    }
    if why.is_empty() && s.checker.linearizable.is_none() {
        return Some(Finding::Unknown(s.checker.verdict()));
    }
    if s.checker.linearizable.is_none() {
        why.push(s.checker.verdict());
    }
    Some(Finding::Violation(why.join("; ")))
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

/// What the campaign keeps of one run: a few numbers and the verdict. The run itself (its
/// history, operations, status log) is dropped as soon as it is digested: a campaign of
/// 1,000 seeds is 26,000 runs and more, and holding them all exhausted 24 GB of memory.
#[derive(Clone, Debug, PartialEq)]
struct Digest {
    faults_injected: u64,
    operations_checked: u64,
    finding: Option<Finding>,
    trace_hash: u64,
    history_hash: u64,
}

impl Digest {
    fn of(r: &RunResult, verify_determinism: bool) -> Digest {
        Digest {
            faults_injected: r
                .output
                .faults
                .iter()
                .filter(|f| f.applied && !f.label.starts_with("settle"))
                .count() as u64,
            operations_checked: r.summary.checker.operations,
            finding: finding(r),
            trace_hash: r.output.trace_hash,
            // Hashing the history costs a serialization of every event: only when compared.
            history_hash: if verify_determinism { history_hash(r) } else { 0 },
        }
    }
}

/// One (schedule, protocol, seed) of the campaign.
struct Unit {
    schedule: usize,
    protocol: Protocol,
    seed: u64,
}

impl Unit {
    fn job(&self, scenarios: &[Scenario], cfg: &CampaignConfig) -> Job {
        Job {
            scenario: scenarios[self.schedule].clone(),
            source: format!("campaign:{}", cfg.schedules[self.schedule].name),
            protocol: self.protocol,
            seed: self.seed,
            trace_log_bytes: 0,
            backend: BackendKind::Sim,
        }
    }
}

/// A campaign that could not run to the end (a run that fails its checks is a finding, and
/// a harness error is listed: neither is this).
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{protocol} seed {seed}: {source}")]
    Run {
        protocol: Protocol,
        seed: u64,
        source: RunError,
    },
    #[error("saving a failing run: {0}")]
    Save(#[from] ReportError),
}

impl CampaignError {
    /// The harness error, if this is one.
    pub fn harness(&self) -> Option<&sim::HarnessError> {
        match self {
            CampaignError::Run { source, .. } => source.harness(),
            CampaignError::Save(_) => None,
        }
    }
}

/// Runs the campaign; `progress(runs)` is called as runs finish. Failing runs are saved
/// under `out` (re-run with a full event trace).
pub fn run_campaign(
    cfg: &CampaignConfig,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<CampaignReport, CampaignError> {
    let scenarios: Vec<Scenario> = cfg.schedules.iter().map(|s| scenario_for(s, cfg)).collect();
    let mut units = Vec::new();
    for schedule in 0..cfg.schedules.len() {
        for &protocol in &cfg.protocols {
            for seed in cfg.first_seed..cfg.first_seed + cfg.seeds {
                units.push(Unit {
                    schedule,
                    protocol,
                    seed,
                });
            }
        }
    }
    let copies = if cfg.verify_determinism { 2 } else { 1 };
    let digests = crate::pool::par_map(&units, cfg.threads, |unit| {
        let job = unit.job(&scenarios, cfg);
        (0..copies)
            .map(|_| {
                let digest = run_job(&job).map(|r| Digest::of(&r, cfg.verify_determinism));
                progress(1);
                digest
            })
            .collect::<Result<Vec<Digest>, _>>()
            .map_err(|source| CampaignError::Run {
                protocol: unit.protocol,
                seed: unit.seed,
                source,
            })
    });
    collate(cfg, &scenarios, &units, digests, out)
}

/// The report from every unit's runs, in unit order: findings tallied and saved (re-run with
/// a trace), harness errors listed apart and counted against no protocol.
fn collate(
    cfg: &CampaignConfig,
    scenarios: &[Scenario],
    units: &[Unit],
    digests: Vec<Result<Vec<Digest>, CampaignError>>,
    out: &Path,
) -> Result<CampaignReport, CampaignError> {
    let mut report = CampaignReport {
        per_protocol: BTreeMap::new(),
        failures: Vec::new(),
        harness_errors: Vec::new(),
    };
    for (unit, runs) in units.iter().zip(digests) {
        let schedule = cfg.schedules[unit.schedule].name;
        let tally = report.per_protocol.entry(unit.protocol).or_default();
        tally.runs += 1;
        let runs = match runs {
            Ok(runs) => runs,
            Err(e) if e.harness().is_some() => {
                tally.harness_errors += 1;
                report.harness_errors.push(HarnessFailure {
                    protocol: unit.protocol,
                    schedule: schedule.to_string(),
                    seed: unit.seed,
                    error: e.to_string(),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some(first) = runs.first() else {
            continue;
        };
        tally.faults_injected += first.faults_injected;
        tally.operations_checked += first.operations_checked;
        let mut reason = match &first.finding {
            Some(Finding::Violation(why)) => {
                tally.violations += 1;
                Some(why.clone())
            }
            Some(Finding::Unknown(why)) => {
                tally.unknown += 1;
                Some(why.clone())
            }
            None => None,
        };
        if let Some(second) = runs.get(1)
            && (first.trace_hash != second.trace_hash || first.history_hash != second.history_hash)
        {
            tally.determinism_mismatches += 1;
            reason = Some(format!(
                "nondeterminism: trace hashes {:016x} and {:016x}",
                first.trace_hash, second.trace_hash
            ));
        }
        if let Some(reason) = reason {
            let job = unit.job(scenarios, cfg);
            match save_failure(out, &job, schedule, &reason) {
                Ok(failure) => report.failures.push(failure),
                Err(e) if e.harness().is_some() => report.harness_errors.push(HarnessFailure {
                    protocol: unit.protocol,
                    schedule: schedule.to_string(),
                    seed: unit.seed,
                    error: format!("re-running the failure with a trace: {e}"),
                }),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(report)
}

/// Re-runs a failing job with a full event trace and saves everything needed to study it.
fn save_failure(out: &Path, job: &Job, schedule: &str, reason: &str) -> Result<Failure, CampaignError> {
    let mut traced = job.clone();
    traced.trace_log_bytes = 256 << 20;
    let result = run_job(&traced).map_err(|source| CampaignError::Run {
        protocol: job.protocol,
        seed: job.seed,
        source,
    })?;
    let dir: PathBuf = out.join(format!("{}-{}-seed{}", job.protocol, schedule, job.seed));
    std::fs::create_dir_all(&dir).map_err(ReportError::io(&dir))?;
    let scenario_path = dir.join("scenario.toml");
    let text = toml::to_string_pretty(&job.scenario).map_err(|source| ReportError::Toml {
        name: job.scenario.name.clone(),
        source,
    })?;
    std::fs::write(&scenario_path, text).map_err(ReportError::io(&scenario_path))?;
    let run_dir = store::save_run(&dir, &result)?;
    let reproduce = format!(
        "cargo run --release -- run {} --protocol {} --seed {} --trace",
        scenario_path.display(),
        job.protocol,
        job.seed
    );
    let reproduce_path = dir.join("REPRODUCE");
    std::fs::write(&reproduce_path, format!("{reproduce}\n# {reason}\n"))
        .map_err(ReportError::io(&reproduce_path))?;
    Ok(Failure {
        protocol: job.protocol,
        schedule: schedule.to_string(),
        seed: job.seed,
        reason: reason.to_string(),
        saved_to: run_dir.display().to_string(),
        reproduce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seeds: u64, schedules: &[&str], bugs: replog::Bugs) -> CampaignConfig {
        CampaignConfig {
            seeds,
            first_seed: 1,
            nodes: 5,
            duration: Dur(1_000_000_000),
            protocols: Protocol::COMPARED.to_vec(),
            schedules: default_schedules()
                .into_iter()
                .filter(|s| schedules.is_empty() || schedules.contains(&s.name))
                .collect(),
            verify_determinism: true,
            threads: 2,
            bugs,
            snapshot_every: 0,
            snapshot_chunk_bytes: replog::ProtocolConfig::default().snapshot_chunk_bytes,
            read_path: replog::ReadPath::Log,
        }
    }

    #[test]
    fn a_harness_error_is_listed_apart_counted_against_no_protocol_and_the_campaign_goes_on() {
        let cfg = config(2, &["bridge"], replog::Bugs::default());
        let scenarios: Vec<Scenario> = cfg.schedules.iter().map(|s| scenario_for(s, &cfg)).collect();
        let units: Vec<Unit> = [1, 2]
            .map(|seed| Unit {
                schedule: 0,
                protocol: Protocol::Raft,
                seed,
            })
            .into();
        let harness_error = sim::HarnessError {
            scenario: "campaign-bridge".into(),
            protocol: Protocol::Raft,
            seed: 1,
            at_ns: 8_000_000_000,
            event: "applying fault 3 of the schedule".into(),
            message: "index out of bounds: the len is 0 but the index is 0".into(),
        };
        let clean = Digest {
            faults_injected: 3,
            operations_checked: 100,
            finding: None,
            trace_hash: 1,
            history_hash: 1,
        };
        let digests = vec![
            Err(CampaignError::Run {
                protocol: Protocol::Raft,
                seed: 1,
                source: RunError::Harness(harness_error),
            }),
            Ok(vec![clean.clone(), clean]),
        ];
        let out = tempfile::tempdir().expect("temp dir");
        let report = collate(&cfg, &scenarios, &units, digests, out.path()).expect("collated");
        let tally = &report.per_protocol[&Protocol::Raft];
        assert_eq!(
            (
                tally.runs,
                tally.violations,
                tally.harness_errors,
                tally.operations_checked,
                report.failures.len(),
                report.harness_errors.iter().map(|h| h.seed).collect::<Vec<_>>(),
                report.clean(),
            ),
            (2, 0, 1, 100, 0, vec![1], false)
        );
    }

    #[test]
    fn a_campaign_over_every_schedule_finds_nothing_wrong_with_the_correct_protocols() {
        let out = tempfile::tempdir().expect("temp dir");
        let report =
            run_campaign(&config(1, &[], replog::Bugs::default()), out.path(), &|_| {}).expect("runs");
        assert!(report.clean(), "{}{:?}", report.table(), report.failures);
        for (p, t) in &report.per_protocol {
            assert!(
                t.runs == default_schedules().len() as u64
                    && t.faults_injected > 0
                    && t.operations_checked > 0,
                "{p}: {t:?}"
            );
        }
    }

    #[test]
    fn a_campaign_catches_a_leader_that_acknowledges_before_a_quorum_and_saves_the_run() {
        let out = tempfile::tempdir().expect("temp dir");
        let bugs = replog::Bugs {
            ack_before_quorum: true,
            ..replog::Bugs::default()
        };
        let schedules = ["leader-isolation", "mixed"];
        let report = run_campaign(&config(3, &schedules, bugs), out.path(), &|_| {}).expect("runs");
        let caught = |p: Protocol| report.per_protocol[&p].violations > 0;
        assert!(
            caught(Protocol::Raft) && caught(Protocol::Paxos),
            "{}",
            report.table()
        );
        let f = &report.failures[0];
        assert!(
            Path::new(&f.saved_to).join("history.jsonl").is_file()
                && f.reproduce.contains(&format!("--seed {}", f.seed))
                && report
                    .per_protocol
                    .values()
                    .all(|t| t.determinism_mismatches == 0),
            "{f:?}"
        );
    }

    #[test]
    fn a_campaign_catches_a_paxos_leader_that_ignores_promised_values() {
        let out = tempfile::tempdir().expect("temp dir");
        let bugs = replog::Bugs {
            paxos_ignore_promised_values: true,
            ..replog::Bugs::default()
        };
        let report = run_campaign(
            &config(3, &["leader-isolation", "partition-one"], bugs),
            out.path(),
            &|_| {},
        )
        .expect("runs");
        assert!(
            report.per_protocol[&Protocol::Paxos].violations > 0,
            "{}",
            report.table()
        );
    }
}
