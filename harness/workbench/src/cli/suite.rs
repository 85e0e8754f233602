//! `workbench suite`: every scenario, both protocols, several seeds each, the load sweeps and
//! the experiments, in one report.

use super::experiment::{experiment_sections, run_experiments};
use super::run::report_path;
use super::sweep::run_sweep;
use super::{Exit, Global, dir_bytes, group, print_table, run_all, save_all};
use anyhow::{Context, Result};
use clap::Args;
use model::scenario::Dur;
use report::{ReportInput, store};
use std::path::PathBuf;
use workbench::build_info;
use workbench::experiments::ExperimentOptions;
use workbench::pool::default_threads;
use workbench::suite::{self, SweepPlan};

pub const EXAMPLES: &str = "Examples:\n  workbench suite --quick\n  workbench suite --out reports/sample\n  workbench suite --seeds 10 --keep-histories";

#[derive(Args)]
pub struct SuiteArgs {
    /// Shorter runs (each workload at most 2 s, faults compressed in proportion), 2 seeds,
    /// fewer sweep points and experiment trials.
    #[arg(long)]
    pub quick: bool,
    /// Output directory.
    #[arg(long, default_value = "reports/latest")]
    pub out: PathBuf,
    /// Where the scenario files are.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Seeds per scenario and protocol (default 5; with --quick, 2).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Keep every run's history (compressed, for `workbench check`); by default only the
    /// histories of runs that failed a check are kept.
    #[arg(long)]
    pub keep_histories: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Skip the design-difference experiments.
    #[arg(long)]
    pub no_experiments: bool,
}

pub fn run(g: &Global, a: &SuiteArgs) -> Result<Exit> {
    let out = &a.out;
    let mut scenarios = suite::load_scenarios(&a.scenarios)?;
    if a.quick {
        for (s, _) in &mut scenarios {
            *s = suite::quick(s, Dur(2_000_000_000));
        }
    }
    let default_seeds = if a.quick {
        suite::QUICK_SEEDS
    } else {
        suite::SUITE_SEEDS
    };
    let seeds = a.seeds.unwrap_or(default_seeds).max(1);
    let jobs = suite::suite_jobs(&scenarios, seeds);
    let threads = a.jobs.unwrap_or_else(default_threads);
    let histories = if a.keep_histories {
        store::Histories::All
    } else {
        store::Histories::Failed
    };
    let results = run_all(g, jobs, threads, "suite", Some(histories))?;
    let groups = group(results, &scenarios);
    if out.exists() {
        // Old runs would be read back by `workbench report`; start clean.
        std::fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
    }
    save_all(out, &groups, histories)?;
    let raw_bytes = dir_bytes(&out.join("runs"));
    let mut sweeps = Vec::new();
    let mut swept = scenarios.clone();
    let sweep_dir = a.scenarios.join(suite::SWEEP_DIR);
    if sweep_dir.is_dir() {
        swept.extend(suite::load_scenarios(&sweep_dir)?);
    }
    for plan in SweepPlan::for_suite(&swept, a.quick) {
        let sweep = run_sweep(
            g,
            &plan.scenario,
            &plan.source,
            &plan.protocols,
            &plan.rates,
            plan.scenario.seed,
            threads,
        )?;
        store::save_sweep(out, &sweep)?;
        sweeps.push(sweep);
    }
    let sweeps_ok = sweeps.iter().all(|s| s.points.iter().all(|p| p.not_failed()));
    let mut sections = Vec::new();
    let mut experiments_ok = true;
    if !a.no_experiments {
        let opts = ExperimentOptions {
            quick: a.quick,
            threads,
            election_trials: None,
        };
        let data = run_experiments(g, &opts, out)?;
        experiments_ok = data.all_correct();
        sections = experiment_sections(out, &data, &groups)?;
    }
    let runs_ok = print_table(g, &groups);
    let input = ReportInput {
        title: "Raft vs multi-Paxos: the workbench suite".into(),
        backend_note: format!(
            "deterministic simulator, {} suite, {seeds} seed{} per scenario and protocol{}; raw runs {:.0} MB{}",
            if a.quick { "quick" } else { "full" },
            if seeds == 1 { "" } else { "s" },
            if a.quick {
                ", workloads shortened to at most 2 s: a first look, not the full suite's figures"
            } else {
                ""
            },
            raw_bytes as f64 / 1e6,
            if a.keep_histories {
                ", every history kept"
            } else {
                ", histories kept only for runs that failed a check"
            }
        ),
        scenarios: groups,
        sweeps,
        sections,
        regenerate: format!(
            "`cargo run --release -- suite{quick} --out {dir}` (every run again) or \
             `cargo run --release -- report {dir}` (the report alone, from the saved runs)",
            dir = out.display(),
            quick = if a.quick { " --quick" } else { "" },
        ),
        versions: build_info::versions(),
        reasons: Default::default(),
    };
    report::write_report(out, &input)?;
    let ok = runs_ok && experiments_ok && sweeps_ok;
    report_path(g, out);
    Ok(Exit::from_ok(ok))
}
