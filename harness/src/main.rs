//! `workbench`: run Raft and multi-Paxos side by side and compare them.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use harness::experiments::{ExperimentData, ExperimentOptions};
use harness::report::{self, ReportInput, RunResult, ScenarioResults, SweepPoint, SweepResult, store};
use harness::scenario::{Dur, LoopMode, Scenario};
use harness::suite::{self, Job};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "workbench",
    version,
    about = "Raft against multi-Paxos: identical workloads and faults, checked for correctness, measured and compared.",
    after_help = "Examples:\n  workbench suite --quick\n  workbench run scenarios/leader-crash.toml --seeds 3\n  workbench check reports/latest/runs/leader-crash/raft-seed1/history.jsonl"
)]
struct Cli {
    /// Print nothing but errors.
    #[arg(long, global = true)]
    quiet: bool,
    /// Print results as JSON on stdout (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario for one or every protocol, check it, and write a report.
    #[command(
        after_help = "Examples:\n  workbench run scenarios/leader-crash.toml\n  workbench run scenarios/bridge.toml --protocol paxos --seed 7\n  workbench run scenarios/loss-5pct.toml --seeds 5 --out /tmp/loss"
    )]
    Run {
        /// The scenario file (TOML; see docs/formats.md).
        scenario: PathBuf,
        /// raft, paxos, null, or all (the scenario's protocols). Live, also etcd; and `all`
        /// adds etcd when it is installed.
        #[arg(long, default_value = "all")]
        protocol: String,
        /// First seed (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Number of consecutive seeds to run.
        #[arg(long, default_value_t = 1)]
        seeds: u64,
        /// Output directory (default: reports/run-<scenario>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep a readable event trace of each run (trace.log beside its history).
        #[arg(long)]
        trace: bool,
        /// sim (the deterministic simulator) or live (real processes on 127.0.0.1).
        #[arg(long, default_value = "sim")]
        backend: String,
    },
    /// Run every scenario in scenarios/ for both protocols and write the comparison report.
    #[command(after_help = "Examples:\n  workbench suite --quick\n  workbench suite --out reports/sample")]
    Suite {
        /// Shorter runs (each workload at most 2 s, faults compressed in proportion).
        #[arg(long)]
        quick: bool,
        /// Output directory.
        #[arg(long, default_value = "reports/latest")]
        out: PathBuf,
        /// Where the scenario files are.
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// Seeds per scenario and protocol.
        #[arg(long)]
        seeds: Option<u64>,
        /// Worker threads (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Skip the design-difference experiments.
        #[arg(long)]
        no_experiments: bool,
    },
    /// Offered load against latency: the scenario in open loop at each rate, every protocol.
    #[command(
        after_help = "Examples:\n  workbench sweep scenarios/steady-5.toml --rates 5000,10000,20000,40000"
    )]
    Sweep {
        scenario: PathBuf,
        /// Comma-separated arrival rates (operations per second).
        #[arg(long, value_delimiter = ',', required = true)]
        rates: Vec<f64>,
        #[arg(long, default_value = "all")]
        protocol: String,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a history for linearizability (exit code 1 if it is not).
    #[command(
        after_help = "Examples:\n  workbench check reports/latest/runs/bridge/raft-seed1/history.jsonl\n  workbench check --format jepsen-log ../shared/testdata/jepsen-etcd/etcd_000.log"
    )]
    Check {
        history: PathBuf,
        /// jsonl (history.jsonl, see docs/formats.md) or jepsen-log (Jepsen's log format).
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
    /// Rebuild a report from the raw data in DIR (runs/ and sweeps/) without rerunning.
    #[command(after_help = "Examples:\n  workbench report reports/sample")]
    Report { dir: PathBuf },
    /// Run the design-difference experiments (election time against timeout range, leader
    /// change with a lagging log, batching and pipelining, a bit flipped in one node's WAL) and
    /// write their report section.
    #[command(
        after_help = "Experiments: election, lag, batching, corruption, scaling, all\n\nExamples:\n  workbench experiment election --trials 1000\n  workbench experiment all --quick --out /tmp/dd"
    )]
    Experiment {
        /// election, lag, batching, corruption, scaling or all.
        name: String,
        /// Trials per timeout range in the election experiment (the Raft paper used 1000).
        #[arg(long)]
        trials: Option<usize>,
        /// Fewer trials and load points.
        #[arg(long)]
        quick: bool,
        #[arg(long, default_value = "reports/experiments")]
        out: PathBuf,
        /// Worker threads (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Fault-injection campaign: many seeds times a Jepsen-like mix of fault schedules, for
    /// each protocol; every run checked, every failure saved with its reproduce command.
    #[command(
        after_help = "Schedules: kill, pause, partition-one, partition-halves, majorities-ring, bridge,\n  leader-isolation, one-way, lossy-network, clock-skew, slow-disk, crash-unsynced, mixed\n\nExamples:\n  workbench campaign --seeds 100\n  workbench campaign --seeds 1000 --verify-determinism\n  workbench campaign --schedules kill,bridge --protocol raft --seeds 20"
    )]
    Campaign {
        /// Seeds per schedule and protocol.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        #[arg(long, default_value_t = 1)]
        first_seed: u64,
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// Workload length of each run.
        #[arg(long, default_value = "5s")]
        duration: String,
        /// raft, paxos, or all.
        #[arg(long, default_value = "all")]
        protocol: String,
        /// Comma-separated schedule names (default: all).
        #[arg(long, value_delimiter = ',')]
        schedules: Vec<String>,
        /// Run each seed twice and require identical event traces.
        #[arg(long)]
        verify_determinism: bool,
        /// Where failing runs are saved.
        #[arg(long, default_value = "reports/campaign")]
        out: PathBuf,
        #[arg(long)]
        jobs: Option<usize>,
        /// Switch on a deliberately broken protocol variant (raft_commit_old_terms_by_count,
        /// ack_before_quorum, paxos_ignore_promised_values) to see the campaign catch it.
        #[arg(long)]
        bug: Vec<String>,
    },
    /// Explore message orders, timeouts, crashes and partitions of a write-once algorithm,
    /// looking for violations of agreement, validity and termination.
    #[command(
        after_help = "Algorithms: coordinator, majority-vote, tiebreak-vote, naive-failover, synod, synod-no-backoff\n\nBy default a 3-node cluster is searched exhaustively and a 7-node one by random walks;\n`synod` also shows `synod-no-backoff` on 3 nodes for contrast. Exit code 1 if a property\nis violated.\n\nExamples:\n  workbench explore majority-vote\n  workbench explore synod --nodes 3 --out reports/explore\n  workbench explore naive-failover --nodes 7 --walks 5000 --seed 7 --json"
    )]
    Explore {
        algorithm: String,
        /// One cluster size: up to 3 nodes exhaustive, more by random walks (default: 3 and 7).
        #[arg(long)]
        nodes: Option<usize>,
        /// How many nodes call try_initialize, each with its own colour (default: every node
        /// on 3 nodes, two on bigger clusters; two for synod).
        #[arg(long)]
        proposers: Option<usize>,
        /// Crashes plus partitions the scheduler may inject, at most a minority (default: 1).
        #[arg(long)]
        faults: Option<usize>,
        /// Faults are crashes only, never partitions.
        #[arg(long)]
        crashes_only: bool,
        /// Bound on the steps of one schedule in exhaustive search.
        #[arg(long)]
        max_depth: Option<usize>,
        /// Number of seeded random walks on clusters too big for exhaustive search.
        #[arg(long)]
        walks: Option<u64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where counterexample timelines and sequence diagrams (SVG) go.
        #[arg(long, default_value = "reports/explore")]
        out: PathBuf,
    },
    /// Run one live node process (TCP, file WAL) from a cluster file.
    #[command(after_help = "Examples:\n  workbench node --cluster cluster.toml --id 0 --data /var/lib/wb/n0")]
    Node {
        /// The cluster file: protocol, knobs and every node's address.
        #[arg(long)]
        cluster: PathBuf,
        /// This node's id in the cluster file.
        #[arg(long)]
        id: u32,
        /// Data directory (the write-ahead log lives here).
        #[arg(long)]
        data: PathBuf,
    },
}

/// Success, a failed check, or bad input.
enum Outcome {
    Correct,
    Violations,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WORKBENCH_LOG"))
        .with_writer(std::io::stderr)
        .init();
    // A protocol assertion caught by the simulator is recorded as a violation and reported
    // with the run; printing its panic and backtrace as well would only bury the report.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !harness::sim::catching_protocol_panics() {
            default_hook(info);
        }
    }));
    match dispatch(&cli) {
        Ok(Outcome::Correct) => ExitCode::SUCCESS,
        Ok(Outcome::Violations) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: &Cli) -> Result<Outcome> {
    match &cli.command {
        Command::Run {
            scenario,
            protocol,
            seed,
            seeds,
            out,
            trace,
            backend,
        } => cmd_run(
            cli,
            scenario,
            protocol,
            *seed,
            *seeds,
            out.as_deref(),
            *trace,
            backend,
        ),
        Command::Suite {
            quick,
            out,
            scenarios,
            seeds,
            jobs,
            no_experiments,
        } => cmd_suite(cli, *quick, out, scenarios, *seeds, *jobs, !*no_experiments),
        Command::Sweep {
            scenario,
            rates,
            protocol,
            seed,
            out,
        } => cmd_sweep(cli, scenario, rates, protocol, *seed, out.as_deref()),
        Command::Check { history, format } => cmd_check(cli, history, format),
        Command::Report { dir } => cmd_report(cli, dir),
        Command::Experiment {
            name,
            trials,
            quick,
            out,
            jobs,
        } => cmd_experiment(cli, name, *trials, *quick, out, *jobs),
        Command::Campaign {
            seeds,
            first_seed,
            nodes,
            duration,
            protocol,
            schedules,
            verify_determinism,
            out,
            jobs,
            bug,
        } => cmd_campaign(
            cli,
            *seeds,
            *first_seed,
            *nodes,
            duration,
            protocol,
            schedules,
            *verify_determinism,
            out,
            *jobs,
            bug,
        ),
        Command::Explore {
            algorithm,
            nodes,
            proposers,
            faults,
            crashes_only,
            max_depth,
            walks,
            seed,
            out,
        } => {
            let ok = harness::explore::run_cli(&harness::explore::ExploreArgs {
                algorithm: algorithm.clone(),
                nodes: *nodes,
                proposers: *proposers,
                faults: *faults,
                crashes_only: *crashes_only,
                max_depth: *max_depth,
                walks: *walks,
                seed: *seed,
                out: out.clone(),
                json: cli.json,
                quiet: cli.quiet,
            })
            .map_err(anyhow::Error::msg)?;
            Ok(if ok { Outcome::Correct } else { Outcome::Violations })
        }
        Command::Node { cluster, id, data } => {
            harness::live::node_main(&harness::live::NodeArgs {
                cluster: cluster.clone(),
                id: *id,
                data: data.clone(),
            })?;
            Ok(Outcome::Correct)
        }
    }
}

fn progress(cli: &Cli, len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if cli.quiet || cli.json {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:12} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn protocols_for(scenario: &Scenario, protocol: &str) -> Result<Vec<String>> {
    if protocol == "all" {
        return Ok(scenario.protocols());
    }
    if !harness::scenario::PROTOCOLS.contains(&protocol) {
        bail!("unknown protocol {protocol:?}: expected raft, paxos, null or all");
    }
    Ok(vec![protocol.to_string()])
}

/// Runs jobs with a progress bar; returns results grouped by scenario, failing on errors.
fn run_all(cli: &Cli, jobs: Vec<Job>, threads: usize, what: &str) -> Result<Vec<RunResult>> {
    let bar = progress(cli, jobs.len() as u64, what);
    let results = suite::run_jobs(&jobs, threads, &|_, r| {
        if let Ok(r) = r
            && !r.summary.correct
        {
            bar.println(format!(
                "VIOLATION: {} {} seed {}: reproduce with `cargo run --release -- run <scenario> --protocol {} --seed {}`",
                r.summary.scenario, r.summary.protocol, r.summary.seed, r.summary.protocol, r.summary.seed
            ));
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    results
        .into_iter()
        .map(|r| r.map_err(anyhow::Error::msg))
        .collect()
}

fn group(results: Vec<RunResult>, scenarios: &[(Scenario, String)]) -> Vec<ScenarioResults> {
    let mut out: Vec<ScenarioResults> = scenarios
        .iter()
        .map(|(s, src)| ScenarioResults {
            scenario: s.clone(),
            source: src.clone(),
            runs: Vec::new(),
        })
        .collect();
    for r in results {
        if let Some(g) = out.iter_mut().find(|g| g.scenario.name == r.summary.scenario) {
            g.runs.push(r);
        }
    }
    for g in &mut out {
        g.runs
            .sort_by_key(|r| (report::protocol_rank(&r.summary.protocol), r.summary.seed));
    }
    out
}

fn save_all(out: &Path, groups: &[ScenarioResults]) -> Result<()> {
    for g in groups {
        store::save_scenario(out, &g.scenario, &g.source).map_err(anyhow::Error::msg)?;
        for r in &g.runs {
            store::save_run(out, r).map_err(anyhow::Error::msg)?;
        }
    }
    Ok(())
}

fn print_table(cli: &Cli, groups: &[ScenarioResults]) -> bool {
    let mut all_correct = true;
    let mut rows = Vec::new();
    for g in groups {
        for r in &g.runs {
            let s = &r.summary;
            all_correct &= s.correct;
            rows.push(s.clone());
            if !cli.quiet && !cli.json {
                println!(
                    "{:<38} {:<6} seed {:<4} {:<5} {:>8.0} ops/s  p50 {:>7.2} ms  p99 {:>8.2} ms  info {:>4}  msgs/cmd {:>6.2}",
                    s.scenario,
                    s.protocol,
                    s.seed,
                    if s.correct { "ok" } else { "FAIL" },
                    s.throughput_ops_per_s,
                    s.latency.all.p50_ns as f64 / 1e6,
                    s.latency.all.p99_ns as f64 / 1e6,
                    s.ops.info,
                    s.messages.messages_per_command
                );
            }
        }
    }
    if cli.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("summaries serialize")
        );
    }
    all_correct
}

#[allow(clippy::too_many_arguments)]
fn cmd_run(
    cli: &Cli,
    path: &Path,
    protocol: &str,
    seed: Option<u64>,
    seeds: u64,
    out: Option<&Path>,
    trace: bool,
    backend: &str,
) -> Result<Outcome> {
    let live = match backend {
        "sim" => false,
        "live" => true,
        other => bail!("--backend: unknown backend {other:?}: expected sim or live"),
    };
    let scenario = Scenario::load(path)?;
    let first = seed.unwrap_or(scenario.seed);
    let mut jobs = Vec::new();
    let protocols = if live && protocol == "etcd" {
        vec!["etcd".to_string()]
    } else {
        let mut ps = protocols_for(&scenario, protocol)?;
        // Live, "all" puts production etcd beside the workbench's protocols when it is installed.
        if live && protocol == "all" {
            match harness::live::etcd::etcd_binary() {
                Ok(_) => ps.push("etcd".to_string()),
                Err(e) if !cli.quiet => eprintln!("note: the etcd reference is skipped: {e}"),
                Err(_) => {}
            }
        }
        ps
    };
    for p in protocols {
        for s in first..first + seeds.max(1) {
            jobs.push(Job {
                scenario: scenario.clone(),
                source: path.display().to_string(),
                protocol: p.clone(),
                seed: s,
                trace_log_bytes: if trace { 64 << 20 } else { 0 },
                live,
            });
        }
    }
    // Live runs share the machine's ports and cores: one at a time.
    let threads = if live { 1 } else { suite::default_threads() };
    let results = run_all(cli, jobs, threads, &scenario.name)?;
    let groups = group(results, &[(scenario.clone(), path.display().to_string())]);
    let out = out.map_or_else(
        || PathBuf::from(format!("reports/run-{}", scenario.name)),
        Path::to_path_buf,
    );
    save_all(&out, &groups)?;
    let input = ReportInput {
        title: format!("Scenario {}", scenario.name),
        backend_note: if live {
            "live processes on 127.0.0.1 (wall-clock times)".into()
        } else {
            "deterministic simulator".into()
        },
        scenarios: groups.clone(),
        regenerate: format!("`cargo run --release -- report {}`", out.display()),
        ..ReportInput::default()
    };
    report::write_report(&out, &input).map_err(anyhow::Error::msg)?;
    let ok = print_table(cli, &groups);
    if !cli.quiet && !cli.json {
        println!("report: {}", out.join("index.html").display());
    }
    Ok(if ok { Outcome::Correct } else { Outcome::Violations })
}

fn cmd_suite(
    cli: &Cli,
    quick: bool,
    out: &Path,
    dir: &Path,
    seeds: Option<u64>,
    threads: Option<usize>,
    experiments: bool,
) -> Result<Outcome> {
    let mut scenarios = suite::load_scenarios(dir).map_err(anyhow::Error::msg)?;
    if quick {
        for (s, _) in &mut scenarios {
            *s = suite::quick(s, Dur(2_000_000_000));
        }
    }
    let seeds = seeds.unwrap_or(1).max(1);
    let mut jobs = Vec::new();
    for (s, src) in &scenarios {
        for p in s.protocols() {
            for seed in s.seed..s.seed + seeds {
                jobs.push(Job {
                    scenario: s.clone(),
                    source: src.clone(),
                    protocol: p.clone(),
                    seed,
                    trace_log_bytes: 0,
                    live: false,
                });
            }
        }
    }
    let threads = threads.unwrap_or_else(suite::default_threads);
    let results = run_all(cli, jobs, threads, "suite")?;
    let groups = group(results, &scenarios);
    if out.exists() {
        // Old runs would be read back by `workbench report`; start clean.
        std::fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
    }
    save_all(out, &groups)?;
    // Latency against offered load on the 3-node steady state, for both protocols.
    let mut sweeps = Vec::new();
    if let Some((s, src)) = scenarios.iter().find(|(s, _)| s.name == "steady-3") {
        let rates: &[f64] = if quick {
            &[5_000.0, 20_000.0, 40_000.0]
        } else {
            &[5_000.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 50_000.0]
        };
        let protocols = ["raft".to_string(), "paxos".to_string()];
        let mut s = s.clone();
        s.duration = Dur(s.duration.0.min(3_000_000_000));
        let sweep = run_sweep(cli, &s, src, &protocols, rates, s.seed, threads)?;
        store::save_sweep(out, &sweep).map_err(anyhow::Error::msg)?;
        sweeps.push(sweep);
    }
    let sweeps_ok = sweeps.iter().all(|s| s.points.iter().all(|p| p.correct));
    let mut sections = Vec::new();
    let mut experiments_ok = true;
    if experiments {
        let opts = ExperimentOptions {
            quick,
            threads,
            election_trials: None,
        };
        let data = run_experiments(cli, &opts, out)?;
        experiments_ok = experiments_correct(&data);
        sections = experiment_sections(out, &data, &groups)?;
    }
    let input = ReportInput {
        title: "Raft vs multi-Paxos: the workbench suite".into(),
        backend_note: format!(
            "deterministic simulator, {} suite, {seeds} seed{} per scenario and protocol",
            if quick { "quick" } else { "full" },
            if seeds == 1 { "" } else { "s" }
        ),
        scenarios: groups.clone(),
        sweeps,
        sections,
        regenerate: format!(
            "`cargo run --release -- suite{quick} --out {dir}` (every run again) or \
             `cargo run --release -- report {dir}` (the report alone, from the saved runs)",
            dir = out.display(),
            quick = if quick { " --quick" } else { "" },
        ),
    };
    report::write_report(out, &input).map_err(anyhow::Error::msg)?;
    let ok = print_table(cli, &groups) && experiments_ok && sweeps_ok;
    if !cli.quiet && !cli.json {
        println!("report: {}", out.join("index.html").display());
    }
    Ok(if ok { Outcome::Correct } else { Outcome::Violations })
}

/// The scenario run open-loop at `rate` operations per second.
fn at_rate(s: &Scenario, rate: f64) -> Scenario {
    let mut s = s.clone();
    s.workload.mode = LoopMode::Open;
    s.workload.rate = Some(rate);
    // Enough clients that concurrency, not the client count, limits an overloaded cluster.
    s.workload.clients = s.workload.clients.max(256);
    s
}

/// `scenario` in open loop at each of `rates` for each protocol.
fn run_sweep(
    cli: &Cli,
    scenario: &Scenario,
    source: &str,
    protocols: &[String],
    rates: &[f64],
    seed: u64,
    threads: usize,
) -> Result<SweepResult> {
    let mut jobs = Vec::new();
    for p in protocols {
        for &rate in rates {
            jobs.push(Job {
                scenario: at_rate(scenario, rate),
                source: source.to_string(),
                protocol: p.clone(),
                seed,
                trace_log_bytes: 0,
                live: false,
            });
        }
    }
    let results = run_all(cli, jobs.clone(), threads, "sweep")?;
    Ok(SweepResult {
        scenario: scenario.name.clone(),
        source: source.to_string(),
        seed,
        points: jobs
            .iter()
            .zip(&results)
            .map(|(j, r)| SweepPoint {
                protocol: j.protocol.clone(),
                offered_ops_per_s: j.scenario.workload.rate.expect("open loop"),
                achieved_ops_per_s: r.summary.throughput_ops_per_s,
                p50_ns: r.summary.latency.all.p50_ns,
                p99_ns: r.summary.latency.all.p99_ns,
                correct: r.summary.correct,
            })
            .collect(),
    })
}

fn cmd_sweep(
    cli: &Cli,
    path: &Path,
    rates: &[f64],
    protocol: &str,
    seed: Option<u64>,
    out: Option<&Path>,
) -> Result<Outcome> {
    let scenario = Scenario::load(path)?;
    for r in rates {
        if !(r.is_finite() && *r > 0.0) {
            bail!("--rates: {r} is not a positive rate");
        }
    }
    let seed = seed.unwrap_or(scenario.seed);
    let protocols = protocols_for(&scenario, protocol)?;
    let sweep = run_sweep(
        cli,
        &scenario,
        &path.display().to_string(),
        &protocols,
        rates,
        seed,
        suite::default_threads(),
    )?;
    let out = out.map_or_else(
        || PathBuf::from(format!("reports/sweep-{}", scenario.name)),
        Path::to_path_buf,
    );
    store::save_sweep(&out, &sweep).map_err(anyhow::Error::msg)?;
    let input = ReportInput {
        title: format!("Load sweep: {}", scenario.name),
        backend_note: "deterministic simulator, open-loop Poisson arrivals".into(),
        sweeps: vec![sweep.clone()],
        regenerate: format!("`cargo run --release -- report {}`", out.display()),
        ..ReportInput::default()
    };
    report::write_report(&out, &input).map_err(anyhow::Error::msg)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&sweep)?);
    } else if !cli.quiet {
        for p in &sweep.points {
            println!(
                "{:<6} offered {:>8.0}  achieved {:>8.0} ops/s  p50 {:>8.2} ms  p99 {:>9.2} ms  {}",
                p.protocol,
                p.offered_ops_per_s,
                p.achieved_ops_per_s,
                p.p50_ns as f64 / 1e6,
                p.p99_ns as f64 / 1e6,
                if p.correct { "ok" } else { "FAIL" }
            );
        }
        println!("report: {}", out.join("index.html").display());
    }
    let ok = sweep.points.iter().all(|p| p.correct);
    Ok(if ok { Outcome::Correct } else { Outcome::Violations })
}

fn cmd_check(cli: &Cli, path: &Path, format: &str) -> Result<Outcome> {
    let summary = match format {
        "jsonl" => {
            let events = harness::history::read_jsonl(path)?;
            harness::check::verdict::check_history(&events)
        }
        "jepsen-log" => harness::check::verdict::check_jepsen_log(path).map_err(anyhow::Error::msg)?,
        other => bail!("--format: unknown format {other:?}: expected jsonl or jepsen-log"),
    };
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !cli.quiet {
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
    Ok(if summary.linearizable == Some(true) {
        Outcome::Correct
    } else {
        Outcome::Violations
    })
}

fn cmd_report(cli: &Cli, dir: &Path) -> Result<Outcome> {
    let (scenarios, sweeps) = store::load(dir).map_err(anyhow::Error::msg)?;
    let data = harness::experiments::load(dir).map_err(anyhow::Error::msg)?;
    if scenarios.is_empty() && sweeps.is_empty() && data.is_none() {
        bail!(
            "{}: no runs/, sweeps/ or experiments.json to build a report from",
            dir.display()
        );
    }
    let sections = match &data {
        Some(d) => experiment_sections(dir, d, &scenarios)?,
        None => Vec::new(),
    };
    let input = ReportInput {
        title: "Raft vs multi-Paxos: the workbench suite".into(),
        backend_note: "rebuilt from saved runs".into(),
        scenarios,
        sweeps,
        sections,
        regenerate: format!("`cargo run --release -- report {}`", dir.display()),
    };
    report::write_report(dir, &input).map_err(anyhow::Error::msg)?;
    if !cli.quiet {
        println!("report: {}", dir.join("index.html").display());
    }
    let ok = input
        .scenarios
        .iter()
        .all(|s| s.runs.iter().all(|r| r.summary.correct));
    Ok(if ok { Outcome::Correct } else { Outcome::Violations })
}

/// Runs the design-difference experiments and saves their data under `out`.
fn run_experiments(cli: &Cli, opts: &ExperimentOptions, out: &Path) -> Result<ExperimentData> {
    let quiet = cli.quiet || cli.json;
    let data = harness::experiments::run_all(opts, &|name| {
        if !quiet {
            eprintln!("experiment: {name}");
        }
    });
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    harness::experiments::save(out, &data).map_err(anyhow::Error::msg)?;
    Ok(data)
}

/// The experiments' report sections, their plots drawn under `dir/plots`.
fn experiment_sections(
    dir: &Path,
    data: &ExperimentData,
    scenarios: &[ScenarioResults],
) -> Result<Vec<report::Section>> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).with_context(|| format!("creating {}", plots.display()))?;
    harness::experiments::sections(&plots, data, scenarios).map_err(anyhow::Error::msg)
}

/// Whether every experiment run passed the invariants and the checker.
fn experiments_correct(d: &ExperimentData) -> bool {
    let election = d
        .election
        .as_ref()
        .is_none_or(|e| e.results.iter().all(|r| r.failed_checks == 0));
    let lag = d
        .lag
        .as_ref()
        .is_none_or(|l| l.points.iter().all(|p| p.checked.ok()));
    let batching = d
        .batching
        .as_ref()
        .is_none_or(|b| b.load.iter().all(|p| p.correct) && b.saturation.iter().all(|p| p.correct));
    // Lost entries after a node silently loses a log suffix are the finding, not a failure
    // of the workbench; only a corruption the WAL failed to detect is.
    let corruption = d.corruption.as_ref().is_none_or(|c| c.all_detected());
    let scaling = d
        .scaling
        .as_ref()
        .is_none_or(|s| s.points.iter().all(|p| p.correct));
    election && lag && batching && corruption && scaling
}

fn cmd_experiment(
    cli: &Cli,
    name: &str,
    trials: Option<usize>,
    quick: bool,
    out: &Path,
    threads: Option<usize>,
) -> Result<Outcome> {
    let opts = ExperimentOptions {
        quick,
        threads: threads.unwrap_or_else(suite::default_threads),
        election_trials: trials,
    };
    let quiet = cli.quiet || cli.json;
    let note = |n: &str| {
        if !quiet {
            eprintln!("experiment: {n}");
        }
    };
    let data = match name {
        "all" => harness::experiments::run_all(&opts, &note),
        "election" => {
            note(name);
            ExperimentData {
                election: Some(harness::experiments::election::run(&opts)),
                ..ExperimentData::default()
            }
        }
        "lag" => {
            note(name);
            ExperimentData {
                lag: Some(harness::experiments::lag::run(&opts)),
                ..ExperimentData::default()
            }
        }
        "batching" => {
            note(name);
            ExperimentData {
                batching: Some(harness::experiments::batching::run(&opts)),
                ..ExperimentData::default()
            }
        }
        "corruption" => {
            note(name);
            ExperimentData {
                corruption: Some(harness::experiments::corruption::run(&opts)),
                ..ExperimentData::default()
            }
        }
        "scaling" => {
            note(name);
            ExperimentData {
                scaling: Some(harness::experiments::scaling::run(&opts)),
                ..ExperimentData::default()
            }
        }
        other => bail!(
            "unknown experiment {other:?}: expected election, lag, batching, corruption, scaling or all"
        ),
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    harness::experiments::save(out, &data).map_err(anyhow::Error::msg)?;
    let sections = experiment_sections(out, &data, &[])?;
    let input = ReportInput {
        title: format!("Design-difference experiment: {name}"),
        backend_note: "deterministic simulator".into(),
        sections,
        regenerate: format!("`cargo run --release -- report {}`", out.display()),
        ..ReportInput::default()
    };
    report::write_report(out, &input).map_err(anyhow::Error::msg)?;
    if cli.json {
        println!("{}", serde_json::to_string(&data)?);
    } else if !cli.quiet {
        println!("report: {}", out.join("index.html").display());
    }
    Ok(if experiments_correct(&data) {
        Outcome::Correct
    } else {
        Outcome::Violations
    })
}

#[allow(clippy::too_many_arguments)]
fn cmd_campaign(
    cli: &Cli,
    seeds: u64,
    first_seed: u64,
    nodes: usize,
    duration: &str,
    protocol: &str,
    schedules: &[String],
    verify_determinism: bool,
    out: &Path,
    jobs: Option<usize>,
    bugs: &[String],
) -> Result<Outcome> {
    use harness::campaign::{CampaignConfig, default_schedules, run_campaign};
    let all = default_schedules();
    let chosen = if schedules.is_empty() {
        all
    } else {
        let mut v = Vec::new();
        for name in schedules {
            match all.iter().find(|s| s.name == name) {
                Some(s) => v.push(s.clone()),
                None => bail!(
                    "--schedules: unknown schedule {name:?}: expected one of {}",
                    all.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        v
    };
    if !(1..=15).contains(&nodes) {
        bail!("--nodes: {nodes} is out of range: expected 1 to 15");
    }
    let duration =
        Dur(harness::scenario::parse_duration(duration).map_err(|e| anyhow::anyhow!("--duration: {e}"))?);
    let mut bug_set = replog::Bugs::default();
    for b in bugs {
        match b.as_str() {
            "raft_commit_old_terms_by_count" => bug_set.raft_commit_old_terms_by_count = true,
            "ack_before_quorum" => bug_set.ack_before_quorum = true,
            "paxos_ignore_promised_values" => bug_set.paxos_ignore_promised_values = true,
            other => bail!("--bug: unknown bug {other:?}"),
        }
    }
    let protocols = match protocol {
        "all" => vec!["raft".to_string(), "paxos".to_string()],
        "raft" | "paxos" | "null" => vec![protocol.to_string()],
        other => bail!("--protocol: unknown protocol {other:?}: expected raft, paxos or all"),
    };
    let cfg = CampaignConfig {
        seeds: seeds.max(1),
        first_seed,
        nodes,
        duration,
        protocols,
        schedules: chosen,
        verify_determinism,
        threads: jobs.unwrap_or_else(suite::default_threads),
        bugs: bug_set,
    };
    let total = cfg.seeds
        * cfg.schedules.len() as u64
        * cfg.protocols.len() as u64
        * if verify_determinism { 2 } else { 1 };
    let bar = progress(cli, total, "campaign");
    let started = std::time::Instant::now();
    let report = run_campaign(&cfg, out, &|n| bar.inc(n)).map_err(anyhow::Error::msg)?;
    bar.finish_and_clear();
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !cli.quiet {
        print!("{}", report.table());
        for f in &report.failures {
            println!(
                "FAILED {} {} seed {}: {}\n  saved: {}\n  reproduce: {}",
                f.protocol, f.schedule, f.seed, f.reason, f.saved_to, f.reproduce
            );
        }
        println!(
            "{} runs in {:.1} s; {}",
            total,
            started.elapsed().as_secs_f64(),
            if report.clean() {
                "no violations".to_string()
            } else {
                format!(
                    "{} failing runs saved under {}",
                    report.failures.len(),
                    out.display()
                )
            }
        );
    }
    Ok(if report.clean() {
        Outcome::Correct
    } else {
        Outcome::Violations
    })
}
