//! The `workbench` commands, one file each, and what they share: the global flags, the exit
//! status, progress bars, and running, grouping, saving and printing batches of runs.

pub mod bench;
pub mod campaign;
pub mod check;
pub mod experiment;
pub mod explore;
pub mod node;
pub mod report;
pub mod run;
pub mod suite;
pub mod sweep;

use ::report::{RunResult, ScenarioResults, store};
use anyhow::{Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::protocol::Protocol;
use model::scenario::Scenario;
use std::path::Path;
use workbench::suite::{Job, run_jobs};

/// Flags every command takes.
#[derive(Args)]
pub struct Global {
    /// Print nothing but errors.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// Print results as JSON on stdout (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
}

impl Global {
    /// Whether human-readable progress and tables are wanted.
    pub fn chatty(&self) -> bool {
        !self.quiet && !self.json
    }
}

/// How a command ended when it ran to the end: exit code 0, 1 when a check failed or could
/// not decide, 3 when the harness itself failed on some run (its own bug, never the
/// protocol's; the campaign lists those and goes on). Bad input is an error: exit code 2.
pub enum Exit {
    Correct,
    Violations,
    HarnessErrors,
}

impl Exit {
    /// `Correct` when `ok`.
    pub fn from_ok(ok: bool) -> Exit {
        if ok { Exit::Correct } else { Exit::Violations }
    }
}

/// A progress bar of `len` steps, hidden with `--quiet` or `--json`.
pub fn progress(g: &Global, len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if !g.chatty() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:12} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// The protocols `--protocol` names for `scenario`: `all` is the scenario's own list.
pub fn protocols_for(scenario: &Scenario, protocol: &str) -> Result<Vec<Protocol>> {
    if protocol == "all" {
        return Ok(scenario.protocols());
    }
    let p: Protocol = protocol.parse()?;
    if !p.is_simulated() {
        bail!("--protocol {p}: etcd runs only with --backend live");
    }
    Ok(vec![p])
}

/// Runs jobs with a progress bar; returns the results in job order, failing on errors. Only
/// the histories that `histories` will save are kept in memory (`None`: none).
pub fn run_all(
    g: &Global,
    jobs: Vec<Job>,
    threads: usize,
    what: &str,
    histories: Option<store::Histories>,
) -> Result<Vec<RunResult>> {
    let bar = progress(g, jobs.len() as u64, what);
    let keep = |r: &RunResult| match histories {
        Some(store::Histories::All) => true,
        Some(store::Histories::Failed) => !r.summary.correct,
        None => false,
    };
    let results = run_jobs(&jobs, threads, &keep, &|r| {
        match r {
            Ok(r) if !r.summary.correct => bar.println(format!(
                "VIOLATION: {} {} seed {}: reproduce with `cargo run --release -- run <scenario> --protocol {} --seed {}`",
                r.summary.scenario, r.summary.protocol, r.summary.seed, r.summary.protocol, r.summary.seed
            )),
            Err(e) if e.harness().is_some() => bar.println(format!("HARNESS ERROR: {e}")),
            _ => {}
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    Ok(results.into_iter().collect::<Result<_, _>>()?)
}

/// Results grouped by scenario, in the scenarios' order; runs by protocol, then seed.
pub fn group(results: Vec<RunResult>, scenarios: &[(Scenario, String)]) -> Vec<ScenarioResults> {
    let mut out: Vec<ScenarioResults> = scenarios
        .iter()
        .map(|(s, src)| ScenarioResults {
            scenario: s.clone(),
            source: src.clone(),
            runs: Vec::new(),
        })
        .collect();
    for r in results {
        if let Some(g) = out.iter_mut().find(|g| g.scenario.name == r.summary.scenario) {
            g.runs.push(r);
        }
    }
    for g in &mut out {
        g.runs
            .sort_by_key(|r| (r.summary.protocol.rank(), r.summary.seed));
    }
    out
}

/// Saves every scenario and run under `out`, raw data compressed; histories of `histories`.
pub fn save_all(out: &Path, groups: &[ScenarioResults], histories: store::Histories) -> Result<()> {
    for g in groups {
        store::save_scenario(out, &g.scenario, &g.source)?;
        for r in &g.runs {
            store::save_run_as(out, r, store::RawFormat::Compressed(histories))?;
        }
    }
    Ok(())
}

/// The size of everything under `dir`, in bytes.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// Prints one line per run (or, with `--json`, the summaries); whether every run was correct.
pub fn print_table(g: &Global, groups: &[ScenarioResults]) -> bool {
    let mut all_correct = true;
    let mut rows = Vec::new();
    for group in groups {
        for r in &group.runs {
            let s = &r.summary;
            all_correct &= s.correct;
            rows.push(s.clone());
            if g.chatty() {
                println!(
                    "{:<38} {:<6} seed {:<4} {:<5} {:>8.0} ops/s  p50 {:>7.2} ms  p99 {:>8.2} ms  info {:>4}  msgs/cmd {:>6.2}",
                    s.scenario,
                    s.protocol,
                    s.seed,
                    if s.correct { "ok" } else { "FAIL" },
                    s.throughput_ops_per_s,
                    s.latency.all.p50_ns as f64 / 1e6,
                    s.latency.all.p99_ns as f64 / 1e6,
                    s.ops.info,
                    s.messages.messages_per_command
                );
            }
        }
    }
    if g.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("summaries serialize")
        );
    }
    all_correct
}
