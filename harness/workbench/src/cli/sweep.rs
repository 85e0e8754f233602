//! `workbench sweep`: latency against throughput, the scenario in open loop at each rate,
//! measured over each run's steady window (start-up election and warm-up excluded).

use super::run::report_path;
use super::{Exit, Global, protocols_for, run_all};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use model::protocol::Protocol;
use model::scenario::{Dur, Scenario, parse_duration};
use report::{ReportInput, SweepPoint, SweepResult, store};
use std::path::PathBuf;
use workbench::build_info;
use workbench::pool::default_threads;
use workbench::suite::sweep_jobs;

pub const EXAMPLES: &str = "Examples:\n  workbench sweep scenarios/steady-5.toml --rates 10000,50000,100000,150000\n  workbench sweep scenarios/zipf-read-heavy.toml --rates 25000,75000,125000 --duration 3s";

#[derive(Args)]
pub struct SweepArgs {
    pub scenario: PathBuf,
    /// Comma-separated arrival rates (operations per second).
    #[arg(long, value_delimiter = ',', required = true)]
    pub rates: Vec<f64>,
    #[arg(long, default_value = "all")]
    pub protocol: String,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Workload length of each point (default: the scenario's), e.g. "2s".
    #[arg(long)]
    pub duration: Option<String>,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `scenario` in open loop at each of `rates` for each protocol.
pub fn run_sweep(
    g: &Global,
    scenario: &Scenario,
    source: &str,
    protocols: &[Protocol],
    rates: &[f64],
    seed: u64,
    threads: usize,
) -> Result<SweepResult> {
    let jobs = sweep_jobs(scenario, source, protocols, rates, seed);
    let results = run_all(g, jobs.clone(), threads, "sweep", None)?;
    Ok(SweepResult {
        scenario: scenario.name.clone(),
        source: source.to_string(),
        seed,
        duration_ns: scenario.duration.0,
        points: jobs
            .iter()
            .zip(&results)
            .map(|(j, r)| SweepPoint {
                protocol: j.protocol,
                offered_ops_per_s: j.scenario.workload.rate.expect("open loop"),
                achieved_ops_per_s: r.summary.steady.throughput_ops_per_s,
                p50_ns: r.summary.steady.latency.p50_ns,
                p99_ns: r.summary.steady.latency.p99_ns,
                correct: r.summary.correct,
                checker_gave_up: r.summary.checker.linearizable.is_none()
                    && r.summary.invariant_violations == 0,
            })
            .collect(),
    })
}

pub fn run(g: &Global, a: &SweepArgs) -> Result<Exit> {
    let mut scenario = Scenario::load(&a.scenario)?;
    if let Some(d) = &a.duration {
        scenario.duration = Dur(parse_duration(d).map_err(|e| anyhow!("--duration: {e}"))?);
    }
    for r in &a.rates {
        if !(r.is_finite() && *r > 0.0) {
            bail!("--rates: {r} is not a positive rate");
        }
    }
    let seed = a.seed.unwrap_or(scenario.seed);
    let protocols = protocols_for(&scenario, &a.protocol)?;
    let source = a.scenario.display().to_string();
    let sweep = run_sweep(
        g,
        &scenario,
        &source,
        &protocols,
        &a.rates,
        seed,
        default_threads(),
    )?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reports/sweep-{}", scenario.name)));
    store::save_sweep(&out, &sweep)?;
    let input = ReportInput {
        title: format!("Load sweep: {}", scenario.name),
        backend_note: "deterministic simulator, open-loop Poisson arrivals, one seed per point".into(),
        sweeps: vec![sweep.clone()],
        regenerate: format!("`cargo run --release -- report {}`", out.display()),
        versions: build_info::versions(),
        ..ReportInput::default()
    };
    report::write_report(&out, &input)?;
    if g.json {
        println!("{}", serde_json::to_string_pretty(&sweep)?);
    } else if !g.quiet {
        for p in &sweep.points {
            println!(
                "{:<6} offered {:>8.0}  achieved {:>8.0} ops/s  p50 {:>8.2} ms  p99 {:>9.2} ms  {}",
                p.protocol,
                p.offered_ops_per_s,
                p.achieved_ops_per_s,
                p.p50_ns as f64 / 1e6,
                p.p99_ns as f64 / 1e6,
                if p.correct {
                    "ok"
                } else if p.checker_gave_up {
                    "unknown (checker budget)"
                } else {
                    "FAIL"
                }
            );
        }
        report_path(g, &out);
    }
    Ok(Exit::from_ok(sweep.points.iter().all(|p| p.not_failed())))
}
