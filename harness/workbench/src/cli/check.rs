//! `workbench check`: a history (ours, or a Jepsen log) through the linearizability checker.
//!
//! Malformed input is an error naming the file and line (exit code 2). The search has the
//! budget every run's check has (steps and states per key, so the verdict is deterministic)
//! unless `--max-steps` changes it; `--time-limit` adds a wall-clock bound for interactive
//! use, after which the verdict depends on the machine. A key that runs out of budget makes
//! the verdict "unknown" (exit code 1: never a pass).

use super::{Exit, Global};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::check::jepsen;
use model::check::linearizability::Progress;
use model::check::verdict::{check_operations_reporting, run_budget};
use model::scenario::parse_duration;
use std::path::PathBuf;
use std::time::Duration;

pub const EXAMPLES: &str = "Examples:\n  workbench check reports/run-bridge/runs/bridge/raft-seed1/history.jsonl.zst\n  workbench check --format jepsen-log testdata/jepsen-etcd/etcd_000.log\n  workbench check history.jsonl --max-steps 100000000 --time-limit 5m";

#[derive(Args)]
pub struct CheckArgs {
    pub history: PathBuf,
    /// jsonl (history.jsonl, or history.jsonl.zst compressed; see docs/formats.md) or
    /// jepsen-log (Jepsen's log format).
    #[arg(long, default_value = "jsonl")]
    pub format: String,
    /// Search steps per key before the verdict is "unknown" (default: what every run gets).
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Also stop after this much wall time, like "30s" or "5m" (the verdict then depends on
    /// the machine).
    #[arg(long)]
    pub time_limit: Option<String>,
}

pub fn run(g: &Global, a: &CheckArgs) -> Result<Exit> {
    let path = &a.history;
    let ops = match a.format.as_str() {
        "jsonl" => report::store::read_operations(path)?,
        "jepsen-log" => jepsen::read_log(path)?,
        other => bail!("--format: unknown format {other:?}: expected jsonl or jepsen-log"),
    };
    let mut budget = run_budget();
    if let Some(steps) = a.max_steps {
        budget.steps_per_key = Some(steps);
    }
    if let Some(t) = &a.time_limit {
        let ns = parse_duration(t).map_err(|e| anyhow!("--time-limit: {e}"))?;
        budget.time = Some(Duration::from_nanos(ns));
    }
    let bar = progress_bar(g, ops.len() as u64);
    let summary = check_operations_reporting(&ops, &budget, &mut |p: &Progress| {
        bar.set_position(p.operations_done as u64);
        bar.set_message(format!(
            "key {} of {}: {:?}, {} states",
            p.keys_done + 1,
            p.keys,
            p.key,
            p.states
        ));
    });
    bar.finish_and_clear();
    if g.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !g.quiet {
        match summary.linearizable {
            Some(true) => println!(
                "{}: linearizable ({} operations, {} keys)",
                path.display(),
                summary.operations,
                summary.keys
            ),
            Some(false) => println!(
                "{}: NOT linearizable\n{}",
                path.display(),
                summary.counterexample.as_deref().unwrap_or("")
            ),
            None => println!("{}: {}", path.display(), summary.verdict()),
        }
        if budget.time.is_some() && summary.linearizable.is_none() {
            println!("(with --time-limit the verdict depends on this machine's speed)");
        }
    }
    Ok(Exit::from_ok(summary.linearizable == Some(true)))
}

/// Operations checked, and where the search stands in the current key; hidden with
/// `--quiet` or `--json` (and when stderr is not a terminal).
fn progress_bar(g: &Global, operations: u64) -> ProgressBar {
    let bar = ProgressBar::new(operations);
    if !g.chatty() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("checking [{bar:30}] {pos}/{len} operations {elapsed_precise} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}
