//! `workbench suite`: every scenario, both protocols, the load sweep and the experiments, in
//! one report.

use super::experiment::{experiment_sections, run_experiments};
use super::run::report_path;
use super::sweep::run_sweep;
use super::{Exit, Global, group, print_table, run_all, save_all};
use anyhow::{Context, Result};
use clap::Args;
use model::protocol::Protocol;
use model::scenario::Dur;
use report::{ReportInput, store};
use std::path::PathBuf;
use workbench::build_info;
use workbench::experiments::ExperimentOptions;
use workbench::pool::default_threads;
use workbench::suite::{self, SweepPlan};

pub const EXAMPLES: &str = "Examples:\n  workbench suite --quick\n  workbench suite --out reports/sample";

#[derive(Args)]
pub struct SuiteArgs {
    /// Shorter runs (each workload at most 2 s, faults compressed in proportion).
    #[arg(long)]
    pub quick: bool,
    /// Output directory.
    #[arg(long, default_value = "reports/latest")]
    pub out: PathBuf,
    /// Where the scenario files are.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Seeds per scenario and protocol.
    #[arg(long)]
    pub seeds: Option<u64>,
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
    let seeds = a.seeds.unwrap_or(1).max(1);
    let jobs = suite::suite_jobs(&scenarios, seeds);
    let threads = a.jobs.unwrap_or_else(default_threads);
    let results = run_all(g, jobs, threads, "suite")?;
    let groups = group(results, &scenarios);
    if out.exists() {
        // Old runs would be read back by `workbench report`; start clean.
        std::fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
    }
    save_all(out, &groups)?;
    let mut sweeps = Vec::new();
    if let Some(plan) = SweepPlan::for_suite(&scenarios, a.quick) {
        let sweep = run_sweep(
            g,
            &plan.scenario,
            &plan.source,
            &Protocol::COMPARED,
            &plan.rates,
            plan.scenario.seed,
            threads,
        )?;
        store::save_sweep(out, &sweep)?;
        sweeps.push(sweep);
    }
    let sweeps_ok = sweeps.iter().all(|s| s.points.iter().all(|p| p.correct));
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
    let input = ReportInput {
        title: "Raft vs multi-Paxos: the workbench suite".into(),
        backend_note: format!(
            "deterministic simulator, {} suite, {seeds} seed{} per scenario and protocol",
            if a.quick { "quick" } else { "full" },
            if seeds == 1 { "" } else { "s" }
        ),
        scenarios: groups.clone(),
        sweeps,
        sections,
        regenerate: format!(
            "`cargo run --release -- suite{quick} --out {dir}` (every run again) or \
             `cargo run --release -- report {dir}` (the report alone, from the saved runs)",
            dir = out.display(),
            quick = if a.quick { " --quick" } else { "" },
        ),
        versions: build_info::versions(),
    };
    report::write_report(out, &input)?;
    let ok = print_table(g, &groups) && experiments_ok && sweeps_ok;
    report_path(g, out);
    Ok(Exit::from_ok(ok))
}
