//! Comparison reports: per scenario, Raft and multi-Paxos on the same axes, a table of the
//! numbers behind each plot, checker verdicts, a generated paragraph that claims only what
//! the numbers support, and the command that reproduces each run.
//!
//! Layout of a report directory:
//!
//! ```text
//! index.html  report.md  summary.json        the report and every run's summary
//! plots/*.svg plots/*.png                    the charts
//! runs/<scenario>/scenario.toml              the scenario as run
//! runs/<scenario>/<protocol>-seed<N>/        raw data: summary.json, run.json,
//!                                            history.jsonl, ops.csv, series.csv, faults.csv
//! sweeps/<scenario>.json                     latency against offered load
//! ```
//!
//! `workbench report DIR` rebuilds the report from `runs/` and `sweeps/` alone.

pub mod charts;
pub mod narrative;
pub mod plot;
pub mod render;
pub mod store;

use crate::metrics::Summary;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};

/// One run with its metrics.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub output: RunOutput,
    pub summary: Summary,
}

/// Every run of one scenario (each protocol, each seed).
#[derive(Clone, Debug)]
pub struct ScenarioResults {
    pub scenario: Scenario,
    /// Where the scenario file lives, for the reproduce command.
    pub source: String,
    pub runs: Vec<RunResult>,
}

impl ScenarioResults {
    /// Runs of `protocol`, in seed order.
    pub fn runs_of<'a>(&'a self, protocol: &str) -> impl Iterator<Item = &'a RunResult> + 'a {
        let protocol = protocol.to_string();
        self.runs.iter().filter(move |r| r.summary.protocol == protocol)
    }

    /// Protocols present, in a fixed order (raft, paxos, then others).
    pub fn protocols(&self) -> Vec<String> {
        let mut ps: Vec<String> = self.runs.iter().map(|r| r.summary.protocol.clone()).collect();
        ps.sort_by_key(|p| (protocol_rank(p), p.clone()));
        ps.dedup();
        ps
    }
}

/// Sort key putting Raft first, then Paxos, then everything else.
pub fn protocol_rank(p: &str) -> u8 {
    match p {
        "raft" => 0,
        "paxos" => 1,
        "null" => 3,
        _ => 2,
    }
}

/// One point of a load sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub protocol: String,
    pub offered_ops_per_s: f64,
    pub achieved_ops_per_s: f64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub correct: bool,
}

/// Latency against offered load for one scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub scenario: String,
    pub source: String,
    pub seed: u64,
    pub points: Vec<SweepPoint>,
}

/// A free-standing section (the design-difference experiments add these): a heading,
/// paragraphs, plots (stems under `plots/`) and a table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub plots: Vec<(String, String)>,
    pub table: Option<Table>,
    pub commands: Vec<String>,
}

/// A table of strings with a header row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Everything a report shows.
#[derive(Clone, Debug, Default)]
pub struct ReportInput {
    pub title: String,
    /// How the data was produced (e.g. "simulator, full suite").
    pub backend_note: String,
    pub scenarios: Vec<ScenarioResults>,
    pub sweeps: Vec<SweepResult>,
    pub sections: Vec<Section>,
    /// How to regenerate this report: Markdown, commands in backticks.
    pub regenerate: String,
}

/// Writes the whole report (plots, index.html, report.md, summary.json) under `dir`.
pub fn write_report(dir: &std::path::Path, input: &ReportInput) -> Result<(), String> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|e| format!("{}: {e}", plots.display()))?;
    let figures = charts::draw_all(&plots, input)?;
    let summaries: Vec<&Summary> = input
        .scenarios
        .iter()
        .flat_map(|s| s.runs.iter().map(|r| &r.summary))
        .collect();
    store::write_json(&dir.join("summary.json"), &summaries)?;
    let md = render::markdown(input, &figures);
    std::fs::write(dir.join("report.md"), md).map_err(|e| format!("{}: {e}", dir.display()))?;
    let html = render::html(input, &figures);
    std::fs::write(dir.join("index.html"), html).map_err(|e| format!("{}: {e}", dir.display()))
}
