//! `workbench report DIR`: the report again, from the raw data a suite, run or experiment saved.

use super::experiment::experiment_sections;
use super::{Exit, Global};
use anyhow::{Result, bail};
use clap::Args;
use report::{ReportInput, store};
use std::path::PathBuf;
use workbench::build_info;

pub const EXAMPLES: &str = "Examples:\n  workbench report reports/sample";

#[derive(Args)]
pub struct ReportArgs {
    pub dir: PathBuf,
}

pub fn run(g: &Global, a: &ReportArgs) -> Result<Exit> {
    let dir = &a.dir;
    let (scenarios, sweeps) = store::load(dir)?;
    let data = workbench::experiments::load(dir)?;
    if scenarios.is_empty() && sweeps.is_empty() && data.is_none() {
        bail!(
            "{}: no runs/, sweeps/ or experiments.json to build a report from",
            dir.display()
        );
    }
    let sections = match &data {
        Some(d) => experiment_sections(dir, d, &scenarios)?,
        None => Vec::new(),
    };
    let input = ReportInput {
        title: "Raft vs multi-Paxos: the workbench suite".into(),
        backend_note: {
            let seeds = scenarios
                .iter()
                .flat_map(|s| s.protocols().into_iter().map(move |p| s.runs_of(p).count()))
                .max()
                .unwrap_or(0);
            format!(
                "rebuilt from saved runs, up to {seeds} seed{} per scenario and protocol",
                if seeds == 1 { "" } else { "s" }
            )
        },
        scenarios,
        sweeps,
        sections,
        regenerate: format!("`cargo run --release -- report {}`", dir.display()),
        versions: build_info::versions(),
        reasons: Default::default(),
    };
    report::write_report(dir, &input)?;
    if !g.quiet {
        println!("report: {}", dir.join("index.html").display());
    }
    let ok = input
        .scenarios
        .iter()
        .all(|s| s.runs.iter().all(|r| r.summary.correct));
    Ok(Exit::from_ok(ok))
}
