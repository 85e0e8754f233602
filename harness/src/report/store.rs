//! Raw run data on disk: what `workbench report DIR` rebuilds a report from.

use super::{RunResult, ScenarioResults, SweepResult};
use crate::history::write_jsonl;
use crate::metrics::{DEFAULT_BUCKET_NS, Summary, time_series};
use crate::run::RunOutput;
use crate::scenario::Scenario;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `value` as pretty JSON.
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The directory of one run.
pub fn run_dir(root: &Path, scenario: &str, protocol: &str, seed: u64) -> PathBuf {
    root.join("runs")
        .join(scenario)
        .join(format!("{protocol}-seed{seed}"))
}

/// Saves a run's raw data and summary.
pub fn save_run(root: &Path, result: &RunResult) -> Result<PathBuf, String> {
    let out = &result.output;
    let dir = run_dir(root, &out.scenario, &out.protocol, out.seed);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write_json(&dir.join("summary.json"), &result.summary)?;
    write_json(&dir.join("run.json"), out)?;
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let hist = dir.join("history.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&hist).map_err(|e| io(&hist, e))?);
    write_jsonl(&out.history, &mut f).map_err(|e| io(&hist, e))?;
    f.flush().map_err(|e| io(&hist, e))?;

    let mut csv = String::from("process,f,intended_ns,invoke_ns,end_ns,latency_ns,status,attempts\n");
    for o in &out.ops {
        csv += &format!(
            "{},{:?},{},{},{},{},{:?},{}\n",
            o.process,
            o.f,
            o.intended_ns,
            o.invoke_ns,
            o.end_ns,
            o.latency_ns(),
            o.status,
            o.attempts
        )
        .to_lowercase();
    }
    std::fs::write(dir.join("ops.csv"), csv).map_err(|e| io(&dir, e))?;
    let mut csv = String::from("start_ns,ops_per_s,p50_ns,p99_ns\n");
    for b in time_series(&out.ops, out.end_ns, DEFAULT_BUCKET_NS) {
        csv += &format!("{},{:.1},{},{}\n", b.start_ns, b.ops_per_s, b.p50_ns, b.p99_ns);
    }
    std::fs::write(dir.join("series.csv"), csv).map_err(|e| io(&dir, e))?;
    let mut csv = String::from("at_ns,kind,applied,nodes,label\n");
    for f in &out.faults {
        let nodes: Vec<String> = f.nodes.iter().map(|n| n.0.to_string()).collect();
        csv += &format!(
            "{},{:?},{},{},\"{}\"\n",
            f.at_ns,
            f.kind,
            f.applied,
            nodes.join(" "),
            f.label.replace('"', "'")
        );
    }
    std::fs::write(dir.join("faults.csv"), csv).map_err(|e| io(&dir, e))?;
    if let Some(trace) = &out.trace_text {
        std::fs::write(dir.join("trace.log"), trace).map_err(|e| io(&dir, e))?;
    }
    Ok(dir)
}

/// Saves the scenario as run.
pub fn save_scenario(root: &Path, scenario: &Scenario, source: &str) -> Result<(), String> {
    let dir = root.join("runs").join(&scenario.name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = toml::to_string_pretty(scenario).map_err(|e| format!("{}: {e}", scenario.name))?;
    std::fs::write(dir.join("scenario.toml"), format!("# source: {source}\n{text}"))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Saves a sweep.
pub fn save_sweep(root: &Path, sweep: &SweepResult) -> Result<(), String> {
    let dir = root.join("sweeps");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write_json(&dir.join(format!("{}.json", sweep.scenario)), sweep)
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    Ok(out)
}

/// Loads every saved scenario and run under `root/runs`, and every sweep.
pub fn load(root: &Path) -> Result<(Vec<ScenarioResults>, Vec<SweepResult>), String> {
    let mut scenarios = Vec::new();
    let runs = root.join("runs");
    if runs.is_dir() {
        for sdir in sorted_dirs(&runs)?.into_iter().filter(|p| p.is_dir()) {
            let spath = sdir.join("scenario.toml");
            let text = std::fs::read_to_string(&spath).map_err(|e| format!("{}: {e}", spath.display()))?;
            let source = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# source: "))
                .unwrap_or("")
                .to_string();
            let scenario = Scenario::parse(&text, &spath.display().to_string()).map_err(|e| e.to_string())?;
            let mut results = ScenarioResults {
                scenario,
                source,
                runs: Vec::new(),
            };
            for rdir in sorted_dirs(&sdir)?.into_iter().filter(|p| p.is_dir()) {
                let output: RunOutput = read_json(&rdir.join("run.json"))?;
                let summary: Summary = read_json(&rdir.join("summary.json"))?;
                results.runs.push(RunResult { output, summary });
            }
            results
                .runs
                .sort_by_key(|r| (super::protocol_rank(&r.summary.protocol), r.summary.seed));
            scenarios.push(results);
        }
    }
    let mut sweeps = Vec::new();
    let sw = root.join("sweeps");
    if sw.is_dir() {
        for p in sorted_dirs(&sw)? {
            if p.extension().and_then(|e| e.to_str()) == Some("json") {
                sweeps.push(read_json(&p)?);
            }
        }
    }
    Ok((scenarios, sweeps))
}
