//! Raw run data on disk: what `workbench report DIR` rebuilds a report from.

use super::{RunResult, ScenarioResults, SweepResult};
use crate::history::{push_u64, write_jsonl};
use crate::metrics::{DEFAULT_BUCKET_NS, Summary, time_series};
use crate::run::RunOutput;
use crate::scenario::Scenario;
use crate::workload::OpRecord;
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
    // The operations are stored once, in ops.csv; run.json holds the rest of the run. (Through
    // a JSON value, as before, so that the keys come out sorted.)
    let rest = serde_json::to_value(out.run_json()).map_err(|e| format!("{}: {e}", dir.display()))?;
    write_json(&dir.join("run.json"), &rest)?;
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let hist = dir.join("history.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&hist).map_err(|e| io(&hist, e))?);
    write_jsonl(&out.history, &mut f).map_err(|e| io(&hist, e))?;
    f.flush().map_err(|e| io(&hist, e))?;

    std::fs::write(dir.join("ops.csv"), ops_csv(&out.ops)).map_err(|e| io(&dir, e))?;
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

/// The text of `ops.csv`: a header, then one line per operation (`f` and `status` in lower
/// case). Written digit by digit: a long run has a million lines.
fn ops_csv(ops: &[OpRecord]) -> Vec<u8> {
    use crate::history::Fun;
    use crate::workload::OpStatus;
    let mut csv = Vec::with_capacity(64 + ops.len() * 64);
    csv.extend_from_slice(b"process,f,intended_ns,invoke_ns,end_ns,latency_ns,status,attempts\n");
    for o in ops {
        let f: &[u8] = match o.f {
            Fun::Read => b"read",
            Fun::Write => b"write",
            Fun::Cas => b"cas",
        };
        let status: &[u8] = match o.status {
            OpStatus::Ok => b"ok",
            OpStatus::Fail => b"fail",
            OpStatus::Info => b"info",
        };
        push_u64(&mut csv, o.process);
        csv.push(b',');
        csv.extend_from_slice(f);
        for n in [o.intended_ns, o.invoke_ns, o.end_ns, o.latency_ns()] {
            csv.push(b',');
            push_u64(&mut csv, n);
        }
        csv.push(b',');
        csv.extend_from_slice(status);
        csv.push(b',');
        push_u64(&mut csv, o.attempts.into());
        csv.push(b'\n');
    }
    csv
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

/// Reads the operations `save_run` wrote to ops.csv; an error names the file and line.
fn read_ops_csv(path: &Path) -> Result<Vec<OpRecord>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut ops = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let bad = |what: &str| format!("{}:{}: {what} in `{line}`", path.display(), i + 1);
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() != 8 {
            return Err(bad("expected 8 comma-separated columns"));
        }
        let num = |c: usize, name: &str| {
            cols[c]
                .parse::<u64>()
                .map_err(|_| bad(&format!("`{name}` is not a number")))
        };
        let word = |c: usize| serde_json::Value::String(cols[c].to_string());
        ops.push(OpRecord {
            process: num(0, "process")?,
            f: serde_json::from_value(word(1)).map_err(|_| bad("`f` is not read, write or cas"))?,
            intended_ns: num(2, "intended_ns")?,
            invoke_ns: num(3, "invoke_ns")?,
            end_ns: num(4, "end_ns")?,
            status: serde_json::from_value(word(6)).map_err(|_| bad("`status` is not ok, fail or info"))?,
            attempts: num(7, "attempts")? as u32,
        });
    }
    Ok(ops)
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
                let mut output: RunOutput = read_json(&rdir.join("run.json"))?;
                output.ops = read_ops_csv(&rdir.join("ops.csv"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::verdict::check_history;
    use crate::metrics::summarize;

    #[test]
    fn a_saved_run_loads_back_with_every_operation() {
        let scenario = Scenario::parse(
            "name = \"tiny\"\nduration = \"300ms\"\n[cluster]\nnodes = 3\n[workload]\nclients = 2\n",
            "tiny",
        )
        .unwrap();
        let output = crate::run::run_protocol("raft", &scenario, &crate::run::RunOptions::default()).unwrap();
        let summary = summarize(&output, check_history(&output.history));
        let dir = tempfile::tempdir().unwrap();
        save_scenario(dir.path(), &scenario, "inline").unwrap();
        save_run(
            dir.path(),
            &RunResult {
                output: output.clone(),
                summary,
            },
        )
        .unwrap();
        let (loaded, _) = load(dir.path()).unwrap();
        assert!(!output.ops.is_empty());
        assert_eq!(loaded[0].runs[0].output.ops, output.ops);
    }

    #[test]
    fn ops_csv_lines_are_the_formatted_records_in_lower_case() {
        use crate::history::Fun;
        use crate::workload::OpStatus;
        let ops = [
            OpRecord {
                process: 0,
                f: Fun::Read,
                intended_ns: 0,
                invoke_ns: 7,
                end_ns: 10,
                status: OpStatus::Ok,
                attempts: 1,
            },
            OpRecord {
                process: 18_446_744_073_709_551_615,
                f: Fun::Cas,
                intended_ns: 1_000_000_007,
                invoke_ns: 1_000_000_008,
                end_ns: 9_000_000_000_000,
                status: OpStatus::Info,
                attempts: 4_000_000_000,
            },
            OpRecord {
                process: 12,
                f: Fun::Write,
                intended_ns: 5,
                invoke_ns: 5,
                end_ns: 5,
                status: OpStatus::Fail,
                attempts: 0,
            },
        ];
        let mut expected =
            String::from("process,f,intended_ns,invoke_ns,end_ns,latency_ns,status,attempts\n");
        for o in &ops {
            expected += &format!(
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
        assert_eq!(String::from_utf8(ops_csv(&ops)).unwrap(), expected);
    }

    #[test]
    fn a_damaged_ops_file_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.csv");
        std::fs::write(&path, "header\n1,write,1,2,3,2,ok,1\n1,wrote,1,2,3,2,ok,1\n").unwrap();
        let err = read_ops_csv(&path).unwrap_err();
        assert!(err.contains("ops.csv:3") && err.contains("`f`"), "{err}");
    }
}
