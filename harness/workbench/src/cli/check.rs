//! `workbench check`: a history (ours, or a Jepsen log) through the linearizability checker.

use super::{Exit, Global};
use anyhow::{Result, bail};
use clap::Args;
use model::check::verdict::{check_history, check_jepsen_log};
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:\n  workbench check reports/run-bridge/runs/bridge/raft-seed1/history.jsonl.zst\n  workbench check --format jepsen-log testdata/jepsen-etcd/etcd_000.log";

#[derive(Args)]
pub struct CheckArgs {
    pub history: PathBuf,
    /// jsonl (history.jsonl, or history.jsonl.zst compressed; see docs/formats.md) or
    /// jepsen-log (Jepsen's log format).
    #[arg(long, default_value = "jsonl")]
    pub format: String,
}

pub fn run(g: &Global, a: &CheckArgs) -> Result<Exit> {
    let path = &a.history;
    let summary = match a.format.as_str() {
        "jsonl" => check_history(&report::store::read_history(path)?),
        "jepsen-log" => check_jepsen_log(path)?,
        other => bail!("--format: unknown format {other:?}: expected jsonl or jepsen-log"),
    };
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
            None => println!("{}: unknown (the checker's budget ran out)", path.display()),
        }
    }
    Ok(Exit::from_ok(summary.linearizable == Some(true)))
}
