//! `workbench bench live`: the live comparison as a benchmark (see
//! `workbench::bench_live` and docs/live.md).

use super::run::report_path;
use super::{Exit, Global};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use model::scenario::{Dur, Scenario};
use report::ReportInput;
use std::path::PathBuf;
use workbench::bench_live::{self, BenchPlan, System};
use workbench::build_info;

pub const EXAMPLES: &str = "Examples:\n  workbench bench live --quick\n  workbench bench live --rounds 3 --clients 1,4,16,64,256,1024\n  workbench bench live --systems raft,paxos,null --data /srv/bench --out reports/bench-live";

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Subcommand)]
pub enum BenchTarget {
    /// Raft, multi-Paxos, the no-replication baseline and etcd on real processes, the same
    /// workload back to back for each client count and round, with the machine's floor.
    Live(LiveBenchArgs),
}

#[derive(Args)]
pub struct LiveBenchArgs {
    /// The workload (its client count is replaced by each of --clients).
    #[arg(long, default_value = "scenarios/live/bench-writes.toml")]
    pub scenario: PathBuf,
    /// Client counts, comma-separated (default 1,4,16,64,256,1024; --quick: 1,16,256).
    #[arg(long, value_delimiter = ',')]
    pub clients: Option<Vec<usize>>,
    /// Rounds (default 3; --quick: 2). Intervals need at least 2.
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Workload duration of each run, e.g. 5s (default: the scenario's; --quick: 2s).
    #[arg(long)]
    pub duration: Option<String>,
    /// Systems, comma-separated: raft, paxos, null, etcd, etcd-direct (default: all; etcd
    /// ones are skipped with a message when etcd is not installed).
    #[arg(long, value_delimiter = ',')]
    pub systems: Option<Vec<String>>,
    /// Fewer client counts, 2 rounds, 2 s runs: a few minutes.
    #[arg(long)]
    pub quick: bool,
    /// Where the nodes' data goes (each run's directory is removed after it). Must be on the
    /// disk to measure, not tmpfs.
    #[arg(long, default_value = "target/bench-live-data")]
    pub data: PathBuf,
    /// Run even when --data is on tmpfs (the report says the figures ignore durability).
    #[arg(long)]
    pub allow_tmpfs: bool,
    #[arg(long, default_value = "reports/bench-live")]
    pub out: PathBuf,
    /// Rewrite the report in --out from its saved bench-live.json, without running anything.
    #[arg(long)]
    pub rebuild: bool,
}

pub fn run(g: &Global, a: &BenchArgs) -> Result<Exit> {
    match &a.target {
        BenchTarget::Live(l) => live(g, l),
    }
}

fn live(g: &Global, a: &LiveBenchArgs) -> Result<Exit> {
    if a.rebuild {
        let data = bench_live::load(&a.out)?;
        return write(g, a, &data);
    }
    let scenario = Scenario::load(&a.scenario)?;
    let duration = match (&a.duration, a.quick) {
        (Some(d), _) => Some(parse_dur(d).with_context(|| format!("--duration {d}"))?),
        (None, true) => Some(Dur(2_000_000_000)),
        (None, false) => None,
    };
    let settle = a.quick.then_some(Dur(scenario.settle.0.min(500_000_000)));
    let scenario = bench_live::with_duration(scenario, duration, settle);
    let clients = a.clients.clone().unwrap_or_else(|| {
        if a.quick {
            vec![1, 16, 256]
        } else {
            vec![1, 4, 16, 64, 256, 1024]
        }
    });
    if clients.is_empty() || clients.contains(&0) {
        bail!("--clients: give one or more counts above 0, e.g. 1,16,256");
    }
    let rounds = a.rounds.unwrap_or(if a.quick { 2 } else { 3 });
    if rounds == 0 {
        bail!("--rounds: at least 1 (2 or more for intervals)");
    }
    let mut systems: Vec<System> = match &a.systems {
        Some(names) => names
            .iter()
            .map(|n| n.parse::<System>())
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("--systems: {e}"))?,
        None => System::ALL.to_vec(),
    };
    let mut skipped = Vec::new();
    if systems.iter().any(|s| s.is_etcd())
        && let Err(e) = live::etcd::etcd_binary()
    {
        if !g.quiet {
            eprintln!("note: the etcd systems are skipped: {e}");
        }
        skipped.push(format!("etcd ({e})"));
        systems.retain(|s| !s.is_etcd());
    }
    let plan = BenchPlan {
        scenario,
        source: a.scenario.display().to_string(),
        clients,
        rounds,
        systems,
        data_dir: a.data.clone(),
    };
    let machine = bench_live::prepare(&plan, a.allow_tmpfs)?;
    if machine.data_in_memory() && !g.quiet {
        eprintln!(
            "WARNING: {} is on {}: fdatasync costs nothing there; the figures will not measure durable writes",
            a.data.display(),
            machine.data_fs.as_deref().unwrap_or("tmpfs")
        );
    }
    let chatty = g.chatty();
    let data = bench_live::run(&plan, machine, skipped, &|msg| {
        if chatty {
            eprintln!("bench live: {msg}");
        }
    })?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    bench_live::save(&a.out, &data)?;
    write(g, a, &data)
}

/// Writes the report of `data` under --out.
fn write(g: &Global, a: &LiveBenchArgs, data: &bench_live::BenchData) -> Result<Exit> {
    let out = &a.out;
    let plots = out.join("plots");
    std::fs::create_dir_all(&plots).with_context(|| format!("creating {}", plots.display()))?;
    let sections = bench_live::section::sections(&plots, data)?;
    let input = ReportInput {
        title: "Live benchmark".into(),
        backend_note: "live processes on 127.0.0.1 (wall-clock times)".into(),
        sections,
        regenerate: format!(
            "`cargo run --release -- bench live --rebuild --out {}` (from bench-live.json); to measure again: `{}`",
            out.display(),
            rerun_command(a)
        ),
        versions: build_info::versions(),
        ..ReportInput::default()
    };
    report::write_report(out, &input)?;
    let correct = data.points.iter().all(|p| p.correct);
    if g.json {
        println!("{}", serde_json::to_string(data)?);
    } else {
        report_path(g, out);
    }
    Ok(Exit::from_ok(correct))
}

/// A duration like `2s` or `500ms`, as scenario files write them.
fn parse_dur(text: &str) -> Result<Dur> {
    Ok(Dur(model::scenario::parse_duration(text)?))
}

fn rerun_command(a: &LiveBenchArgs) -> String {
    let mut cmd = String::from("cargo run --release -- bench live");
    if a.quick {
        cmd += " --quick";
    }
    if let Some(c) = &a.clients {
        cmd += &format!(
            " --clients {}",
            c.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")
        );
    }
    if let Some(r) = a.rounds {
        cmd += &format!(" --rounds {r}");
    }
    if let Some(d) = &a.duration {
        cmd += &format!(" --duration {d}");
    }
    if let Some(s) = &a.systems {
        cmd += &format!(" --systems {}", s.join(","));
    }
    cmd
}
