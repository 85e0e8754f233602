//! Raw run data on disk: what `workbench report DIR` rebuilds a report from.
//!
//! A run's operations are what the report is drawn from: they are always kept, compressed
//! with zstd (`ops.csv.zst`, about a tenth of the text). Its history (every invocation and
//! completion, for `workbench check`) is the bulk of the raw data and is kept compressed
//! (`history.jsonl.zst`) for a run that failed a check, and for every run only when asked
//! ([`Histories::All`]): a passing run's history is reproduced exactly by the command the
//! report prints. Files written before compression (`ops.csv`, `history.jsonl`) still load.

use super::{ReportError, RunResult, ScenarioResults, SweepResult};
use model::history::{Event, HistoryError, Operation, parse_jsonl, parse_operations, push_u64, write_jsonl};
use model::metrics::{DEFAULT_BUCKET_NS, Summary, time_series};
use model::protocol::Protocol;
use model::run::RunOutput;
use model::scenario::Scenario;
use model::workload::OpRecord;
use std::path::{Path, PathBuf};

/// Writes `value` as pretty JSON.
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(value).map_err(ReportError::json(path))?;
    std::fs::write(path, text + "\n").map_err(ReportError::io(path))
}

/// Reads `path` as JSON.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(path).map_err(ReportError::io(path))?;
    serde_json::from_str(&text).map_err(ReportError::json(path))
}

/// The directory of one run.
pub fn run_dir(root: &Path, scenario: &str, protocol: Protocol, seed: u64) -> PathBuf {
    root.join("runs")
        .join(scenario)
        .join(format!("{protocol}-seed{seed}"))
}

/// Which runs keep their history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Histories {
    /// Every run.
    All,
    /// Only runs that failed a check.
    Failed,
}

/// How a run's raw data is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawFormat {
    /// `ops.csv` and `history.jsonl` as text (a campaign's failures, kept for study).
    Plain,
    /// `ops.csv.zst`, and `history.jsonl.zst` for the runs `Histories` names.
    Compressed(Histories),
}

/// zstd's level for raw data: fast, and most of the gain of the higher levels on this text.
const ZSTD_LEVEL: i32 = 3;

fn write_zst(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let packed = zstd::bulk::compress(bytes, ZSTD_LEVEL).map_err(ReportError::io(path))?;
    std::fs::write(path, packed).map_err(ReportError::io(path))
}

/// Saves a run's raw data, uncompressed, and its summary.
pub fn save_run(root: &Path, result: &RunResult) -> Result<PathBuf, ReportError> {
    save_run_as(root, result, RawFormat::Plain)
}

/// Saves a run's raw data in `format`, and its summary.
pub fn save_run_as(root: &Path, result: &RunResult, format: RawFormat) -> Result<PathBuf, ReportError> {
    let out = &result.output;
    let dir = run_dir(root, &out.scenario, out.protocol, out.seed);
    std::fs::create_dir_all(&dir).map_err(ReportError::io(&dir))?;
    write_json(&dir.join("summary.json"), &result.summary)?;
    // The operations are stored once, in ops.csv; run.json holds the rest of the run. (Through
    // a JSON value, as before, so that the keys come out sorted.)
    let run_json = dir.join("run.json");
    let rest = serde_json::to_value(out.run_json()).map_err(ReportError::json(&run_json))?;
    write_json(&run_json, &rest)?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(ReportError::io(&path))
    };
    let mut history = Vec::new();
    let keep_history = match format {
        RawFormat::Plain | RawFormat::Compressed(Histories::All) => true,
        RawFormat::Compressed(Histories::Failed) => !result.summary.correct,
    };
    if keep_history {
        let name = dir.join("history.jsonl");
        write_jsonl(&out.history, &mut history).map_err(ReportError::io(&name))?;
    }
    match format {
        RawFormat::Plain => {
            write("history.jsonl", &history)?;
            write("ops.csv", &ops_csv(&out.ops))?;
        }
        RawFormat::Compressed(_) => {
            if keep_history {
                write_zst(&dir.join("history.jsonl.zst"), &history)?;
            }
            write_zst(&dir.join("ops.csv.zst"), &ops_csv(&out.ops))?;
        }
    }
    let mut csv = String::from("start_ns,ops_per_s,p50_ns,p99_ns\n");
    for b in time_series(&out.ops, out.end_ns, DEFAULT_BUCKET_NS) {
        csv += &format!("{},{:.1},{},{}\n", b.start_ns, b.ops_per_s, b.p50_ns, b.p99_ns);
    }
    write("series.csv", csv.as_bytes())?;
    let mut csv = String::from("at_ns,kind,applied,nodes,label\n");
    for f in &out.faults {
        let nodes: Vec<String> = f.nodes.iter().map(|n| n.0.to_string()).collect();
        csv += &format!(
            "{},{},{},{},\"{}\"\n",
            f.at_ns,
            serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            f.applied,
            nodes.join(" "),
            f.label.replace('"', "'")
        );
    }
    write("faults.csv", csv.as_bytes())?;
    if let Some(trace) = &out.trace_text {
        write("trace.log", trace.as_bytes())?;
    }
    Ok(dir)
}

/// Reads a history, `history.jsonl` or its zstd-compressed `history.jsonl.zst`; an error
/// names the file and line.
pub fn read_history(path: &Path) -> Result<Vec<Event>, HistoryError> {
    read_jsonl_with(path, parse_jsonl)
}

/// The paired operations of a `history.jsonl` or its zstd-compressed `history.jsonl.zst`,
/// for the checker; errors name the file and line.
pub fn read_operations(path: &Path) -> Result<Vec<Operation>, HistoryError> {
    read_jsonl_with(path, parse_operations)
}

/// Opens `path`, decompressing a `.zst` file, and parses it with `parse`.
fn read_jsonl_with<T>(
    path: &Path,
    parse: fn(Box<dyn std::io::BufRead>, &str) -> Result<T, HistoryError>,
) -> Result<T, HistoryError> {
    let name = path.display().to_string();
    let io = |source| HistoryError::Io {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if path.extension().and_then(|e| e.to_str()) == Some("zst") {
        let decoder = zstd::Decoder::new(file).map_err(io)?;
        parse(Box::new(std::io::BufReader::new(decoder)), &name)
    } else {
        parse(Box::new(std::io::BufReader::new(file)), &name)
    }
}

/// The text of `ops.csv`: a header, then one line per operation (`f` and `status` in lower
/// case). Written digit by digit: a long run has a million lines.
fn ops_csv(ops: &[OpRecord]) -> Vec<u8> {
    use model::history::Fun;
    use model::workload::OpStatus;
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
pub fn save_scenario(root: &Path, scenario: &Scenario, source: &str) -> Result<(), ReportError> {
    let dir = root.join("runs").join(&scenario.name);
    std::fs::create_dir_all(&dir).map_err(ReportError::io(&dir))?;
    let text = toml::to_string_pretty(scenario).map_err(|source| ReportError::Toml {
        name: scenario.name.clone(),
        source,
    })?;
    let path = dir.join("scenario.toml");
    std::fs::write(&path, format!("# source: {source}\n{text}")).map_err(ReportError::io(&path))
}

/// Saves a sweep.
pub fn save_sweep(root: &Path, sweep: &SweepResult) -> Result<(), ReportError> {
    let dir = root.join("sweeps");
    std::fs::create_dir_all(&dir).map_err(ReportError::io(&dir))?;
    write_json(&dir.join(format!("{}.json", sweep.scenario)), sweep)
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(ReportError::io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    Ok(out)
}

/// Reads the operations `save_run` wrote to `ops.csv` or `ops.csv.zst`; an error names the
/// file and line.
fn read_ops_csv(path: &Path) -> Result<Vec<OpRecord>, ReportError> {
    let bytes = std::fs::read(path).map_err(ReportError::io(path))?;
    let bytes = if path.extension().and_then(|e| e.to_str()) == Some("zst") {
        zstd::stream::decode_all(bytes.as_slice()).map_err(ReportError::io(path))?
    } else {
        bytes
    };
    let text = String::from_utf8(bytes).map_err(|e| ReportError::Parse {
        path: path.to_path_buf(),
        line: 0,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    let mut ops = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let bad = |what: &str| ReportError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!("{what} in `{line}`"),
        };
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
pub fn load(root: &Path) -> Result<(Vec<ScenarioResults>, Vec<SweepResult>), ReportError> {
    let mut scenarios = Vec::new();
    let runs = root.join("runs");
    if runs.is_dir() {
        for sdir in sorted_dirs(&runs)?.into_iter().filter(|p| p.is_dir()) {
            let spath = sdir.join("scenario.toml");
            let text = std::fs::read_to_string(&spath).map_err(ReportError::io(&spath))?;
            let source = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# source: "))
                .unwrap_or("")
                .to_string();
            let scenario = Scenario::parse(&text, &spath.display().to_string())?;
            let mut results = ScenarioResults {
                scenario,
                source,
                runs: Vec::new(),
            };
            for rdir in sorted_dirs(&sdir)?.into_iter().filter(|p| p.is_dir()) {
                let mut output: RunOutput = read_json(&rdir.join("run.json"))?;
                let packed = rdir.join("ops.csv.zst");
                output.ops = read_ops_csv(&if packed.exists() {
                    packed
                } else {
                    rdir.join("ops.csv")
                })?;
                let summary: Summary = read_json(&rdir.join("summary.json"))?;
                results.runs.push(RunResult { output, summary });
            }
            results
                .runs
                .sort_by_key(|r| (r.summary.protocol.rank(), r.summary.seed));
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
    use model::check::verdict::check_history;
    use model::metrics::summarize;

    #[test]
    fn a_saved_run_loads_back_with_every_operation() {
        let scenario = Scenario::parse(
            "name = \"tiny\"\nduration = \"300ms\"\n[cluster]\nnodes = 3\n[workload]\nclients = 2\n",
            "tiny",
        )
        .unwrap();
        let output = sim::run_protocol(Protocol::Raft, &scenario, &sim::RunOptions::default()).unwrap();
        let summary = summarize(&output, check_history(&output.history), &Default::default());
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
    fn a_compressed_run_loads_back_and_keeps_its_history_only_when_asked() {
        let scenario = Scenario::parse(
            "name = \"tiny\"\nduration = \"300ms\"\n[cluster]\nnodes = 3\n[workload]\nclients = 2\n",
            "tiny",
        )
        .unwrap();
        let output = sim::run_protocol(Protocol::Raft, &scenario, &sim::RunOptions::default()).unwrap();
        let summary = summarize(&output, check_history(&output.history), &Default::default());
        let result = RunResult {
            output: output.clone(),
            summary,
        };
        let (kept, dropped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for (dir, histories) in [(&kept, Histories::All), (&dropped, Histories::Failed)] {
            save_scenario(dir.path(), &scenario, "inline").unwrap();
            save_run_as(dir.path(), &result, RawFormat::Compressed(histories)).unwrap();
        }
        let (loaded, _) = load(kept.path()).unwrap();
        assert_eq!(loaded[0].runs[0].output.ops, output.ops);
        let run = run_dir(kept.path(), "tiny", Protocol::Raft, output.seed);
        assert_eq!(
            read_history(&run.join("history.jsonl.zst")).unwrap(),
            output.history
        );
        let run = run_dir(dropped.path(), "tiny", Protocol::Raft, output.seed);
        assert!(run.join("ops.csv.zst").is_file() && !run.join("history.jsonl.zst").exists());
    }

    #[test]
    fn ops_csv_lines_are_the_formatted_records_in_lower_case() {
        use model::history::Fun;
        use model::workload::OpStatus;
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
        let err = err.to_string();
        assert!(err.contains("ops.csv:3") && err.contains("`f`"), "{err}");
    }
}
