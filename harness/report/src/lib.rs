//! Comparison reports: per scenario, Raft and multi-Paxos on the same axes, a table of the
//! numbers behind each plot, checker verdicts, a generated paragraph that claims only what
//! the numbers support, and the command that reproduces each run.
//!
//! Layout of a report directory:
//!
//! ```text
//! index.html  report.md  summary.json        the report and every run's summary
//! aggregates.json                            per scenario: each figure over seeds (mean, 95 %
//!                                            interval) and the protocols compared
//! plots/*.svg plots/*.png                    the charts
//! runs/<scenario>/scenario.toml              the scenario as run
//! runs/<scenario>/<protocol>-seed<N>/        raw data: summary.json, run.json, ops.csv.zst,
//!                                            series.csv, faults.csv; history.jsonl.zst for a
//!                                            run that failed a check (every run with
//!                                            `--keep-histories`)
//! sweeps/<scenario>.json                     latency against throughput, light load to past
//!                                            saturation
//! ```
//!
//! `workbench report DIR` rebuilds the report from `runs/` and `sweeps/` alone.

pub mod aggregate;
pub mod charts;
pub mod narrative;
pub mod plot;
pub mod render;
pub mod store;
pub mod summary;
pub mod sweep;

use model::metrics::{Summary, Versions};
use model::protocol::Protocol;
use model::run::RunOutput;
use model::scenario::Scenario;
use model::scenario::ScenarioError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use thiserror::Error;

/// A report that could not be written or read back, naming the file.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: drawing the chart: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    #[error("{name}: {source}")]
    Toml { name: String, source: toml::ser::Error },
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

impl ReportError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
        move |source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A JSON error on `path`.
    pub fn json(path: &std::path::Path) -> impl FnOnce(serde_json::Error) -> ReportError + '_ {
        move |source| ReportError::Json {
            path: path.to_path_buf(),
            source,
        }
    }
}

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
    pub fn runs_of(&self, protocol: Protocol) -> impl Iterator<Item = &RunResult> + '_ {
        self.runs.iter().filter(move |r| r.summary.protocol == protocol)
    }

    /// Protocols present, in report order (see [`Protocol::rank`]).
    pub fn protocols(&self) -> Vec<Protocol> {
        let mut ps: Vec<Protocol> = self.runs.iter().map(|r| r.summary.protocol).collect();
        ps.sort_by_key(|p| p.rank());
        ps.dedup();
        ps
    }
}

/// One point of a load sweep: one open-loop run at one offered rate, measured over its
/// steady window (start-up election and warm-up excluded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub protocol: Protocol,
    pub offered_ops_per_s: f64,
    pub achieved_ops_per_s: f64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub correct: bool,
    /// The linearizability checker ran out of budget (at high load on a few hot keys) and
    /// no invariant broke: unknown, not a failure.
    #[serde(default)]
    pub checker_gave_up: bool,
}

impl SweepPoint {
    /// Passed, or unknown because the checker gave up with every invariant holding.
    pub fn not_failed(&self) -> bool {
        self.correct || self.checker_gave_up
    }
}

/// Latency against load for one scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub scenario: String,
    pub source: String,
    pub seed: u64,
    /// Workload length of each point (0 in sweeps saved before it was recorded).
    #[serde(default)]
    pub duration_ns: u64,
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
    /// What built the binary that wrote the report.
    pub versions: Versions,
    /// Per scenario, why one protocol is ahead when that is known (design or tuning, from the
    /// parity ablation); the summary table shows "–" elsewhere.
    pub reasons: std::collections::BTreeMap<String, String>,
}

/// Writes the whole report (plots, index.html, report.md, summary.json) under `dir`.
pub fn write_report(dir: &std::path::Path, input: &ReportInput) -> Result<(), ReportError> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(ReportError::io(&plots))?;
    let figures = charts::draw_all(&plots, input)?;
    let summaries: Vec<&Summary> = input
        .scenarios
        .iter()
        .flat_map(|s| s.runs.iter().map(|r| &r.summary))
        .collect();
    store::write_json(&dir.join("summary.json"), &summaries)?;
    store::write_json(&dir.join("aggregates.json"), &summary::aggregates(input))?;
    let md = render::markdown(input, &figures);
    let md_path = dir.join("report.md");
    std::fs::write(&md_path, md).map_err(ReportError::io(&md_path))?;
    let html = render::html(input, &figures);
    let html_path = dir.join("index.html");
    std::fs::write(&html_path, html).map_err(ReportError::io(&html_path))
}
