//! `workbench run`: one scenario, one or every protocol, some seeds, in the simulator or on
//! real processes; checked and reported.

use super::{Exit, Global, group, print_table, protocols_for, run_all, save_all};
use anyhow::{Result, bail};
use clap::Args;
use model::protocol::Protocol;
use model::run::BackendKind;
use model::scenario::Scenario;
use report::ReportInput;
use report::store::Histories;
use std::path::{Path, PathBuf};
use workbench::build_info;
use workbench::pool::default_threads;
use workbench::suite::Job;

pub const EXAMPLES: &str = "Examples:\n  workbench run scenarios/leader-crash.toml\n  workbench run scenarios/bridge.toml --protocol paxos --seed 7\n  workbench run scenarios/loss-5pct.toml --seeds 5 --out /tmp/loss";

#[derive(Args)]
pub struct RunArgs {
    /// The scenario file (TOML; see docs/formats.md).
    pub scenario: PathBuf,
    /// raft, paxos, null, or all (the scenario's protocols). Live, also etcd; and `all` adds
    /// etcd when it is installed.
    #[arg(long, default_value = "all")]
    pub protocol: String,
    /// First seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of consecutive seeds to run.
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// Output directory (default: reports/run-<scenario>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep a readable event trace of each run (trace.log beside its history).
    #[arg(long)]
    pub trace: bool,
    /// sim (the deterministic simulator) or live (real processes on 127.0.0.1).
    #[arg(long, default_value = "sim")]
    pub backend: String,
}

pub fn run(g: &Global, a: &RunArgs) -> Result<Exit> {
    let backend = match a.backend.as_str() {
        "sim" => BackendKind::Sim,
        "live" => BackendKind::Live,
        other => bail!("--backend: unknown backend {other:?}: expected sim or live"),
    };
    let live = backend == BackendKind::Live;
    let scenario = Scenario::load(&a.scenario)?;
    let first = a.seed.unwrap_or(scenario.seed);
    let protocols = if live && a.protocol == "etcd" {
        vec![Protocol::Etcd]
    } else {
        let mut ps = protocols_for(&scenario, &a.protocol)?;
        // Live, "all" puts production etcd beside the workbench's protocols when it is installed.
        if live && a.protocol == "all" {
            match live::etcd::etcd_binary() {
                Ok(_) => ps.push(Protocol::Etcd),
                Err(e) if !g.quiet => eprintln!("note: the etcd reference is skipped: {e}"),
                Err(_) => {}
            }
        }
        ps
    };
    let source = a.scenario.display().to_string();
    let mut jobs = Vec::new();
    for protocol in protocols {
        for seed in first..first + a.seeds.max(1) {
            jobs.push(Job {
                scenario: scenario.clone(),
                source: source.clone(),
                protocol,
                seed,
                trace_log_bytes: if a.trace { 64 << 20 } else { 0 },
                backend,
            });
        }
    }
    // Live runs share the machine's ports and cores: one at a time.
    let threads = if live { 1 } else { default_threads() };
    let results = run_all(g, jobs, threads, &scenario.name, Some(Histories::All))?;
    let groups = group(results, &[(scenario.clone(), source)]);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reports/run-{}", scenario.name)));
    save_all(&out, &groups, Histories::All)?;
    let input = ReportInput {
        title: format!("Scenario {}", scenario.name),
        backend_note: if live {
            "live processes on 127.0.0.1 (wall-clock times)".into()
        } else {
            "deterministic simulator".into()
        },
        scenarios: groups.clone(),
        regenerate: format!("`cargo run --release -- report {}`", out.display()),
        versions: build_info::versions(),
        ..ReportInput::default()
    };
    report::write_report(&out, &input)?;
    let ok = print_table(g, &groups);
    report_path(g, &out);
    Ok(Exit::from_ok(ok))
}

/// Tells where the report went.
pub fn report_path(g: &Global, dir: &Path) {
    if g.chatty() {
        println!("report: {}", dir.join("index.html").display());
    }
}
