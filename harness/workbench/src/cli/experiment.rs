//! `workbench experiment NAME`: one design-difference experiment (or all) and its report
//! section.

use super::run::report_path;
use super::{Exit, Global};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use report::{ReportInput, ScenarioResults, Section};
use std::path::{Path, PathBuf};
use workbench::build_info;
use workbench::experiments::{self, ExperimentData, ExperimentOptions};
use workbench::pool::default_threads;

pub const EXAMPLES: &str = "Experiments: election, lag, batching, corruption, scaling, parity, all\n\nExamples:\n  workbench experiment election --trials 1000\n  workbench experiment parity --out /tmp/parity\n  workbench experiment all --quick --out /tmp/dd";

/// The experiments, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Experiment {
    Election,
    Lag,
    Batching,
    Corruption,
    Scaling,
    Parity,
    All,
}

#[derive(Args)]
pub struct ExperimentArgs {
    /// Which experiment.
    #[arg(value_enum)]
    pub name: Experiment,
    /// Trials per timeout range in the election experiment (the Raft paper used 1000).
    #[arg(long)]
    pub trials: Option<usize>,
    /// Fewer trials and load points.
    #[arg(long)]
    pub quick: bool,
    #[arg(long, default_value = "reports/experiments")]
    pub out: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
}

/// Runs every experiment and saves their data under `out`.
pub fn run_experiments(g: &Global, opts: &ExperimentOptions, out: &Path) -> Result<ExperimentData> {
    let data = experiments::run_all(opts, &|name| {
        if g.chatty() {
            eprintln!("experiment: {name}");
        }
    });
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    experiments::save(out, &data)?;
    Ok(data)
}

/// The experiments' report sections, their plots drawn under `dir/plots`.
pub fn experiment_sections(
    dir: &Path,
    data: &ExperimentData,
    scenarios: &[ScenarioResults],
) -> Result<Vec<Section>> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).with_context(|| format!("creating {}", plots.display()))?;
    Ok(experiments::sections(&plots, data, scenarios)?)
}

pub fn run(g: &Global, a: &ExperimentArgs) -> Result<Exit> {
    let opts = ExperimentOptions {
        quick: a.quick,
        threads: a.jobs.unwrap_or_else(default_threads),
        election_trials: a.trials,
    };
    let note = |n: &str| {
        if g.chatty() {
            eprintln!("experiment: {n}");
        }
    };
    let name = format!("{:?}", a.name).to_lowercase();
    if a.name != Experiment::All {
        note(&name);
    }
    let none = ExperimentData::default();
    let data = match a.name {
        Experiment::All => experiments::run_all(&opts, &note),
        Experiment::Election => ExperimentData {
            election: Some(experiments::election::run(&opts)),
            ..none
        },
        Experiment::Lag => ExperimentData {
            lag: Some(experiments::lag::run(&opts)),
            ..none
        },
        Experiment::Batching => ExperimentData {
            batching: Some(experiments::batching::run(&opts)),
            ..none
        },
        Experiment::Corruption => ExperimentData {
            corruption: Some(experiments::corruption::run(&opts)),
            ..none
        },
        Experiment::Scaling => ExperimentData {
            scaling: Some(experiments::scaling::run(&opts)),
            ..none
        },
        Experiment::Parity => ExperimentData {
            parity: Some(experiments::parity::run(&opts)),
            ..none
        },
    };
    let out = &a.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    experiments::save(out, &data)?;
    let sections = experiment_sections(out, &data, &[])?;
    let input = ReportInput {
        title: format!("Design-difference experiment: {name}"),
        backend_note: "deterministic simulator".into(),
        sections,
        regenerate: format!("`cargo run --release -- report {}`", out.display()),
        versions: build_info::versions(),
        ..ReportInput::default()
    };
    report::write_report(out, &input)?;
    if g.json {
        println!("{}", serde_json::to_string(&data)?);
    } else {
        report_path(g, out);
    }
    Ok(Exit::from_ok(data.all_correct()))
}
