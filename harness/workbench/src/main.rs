//! `workbench`: run Raft and multi-Paxos side by side and compare them. Each command lives in
//! its own file under `cli/`.

mod cli;

use clap::{Parser, Subcommand};
use cli::{Exit, Global};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "workbench",
    version,
    about = "Raft against multi-Paxos: identical workloads and faults, checked for correctness, measured and compared.",
    after_help = "Examples:\n  workbench suite --quick\n  workbench run scenarios/leader-crash.toml --seeds 3\n  workbench check reports/latest/runs/leader-crash/raft-seed1/history.jsonl"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario for one or every protocol, check it, and write a report.
    #[command(after_help = cli::run::EXAMPLES)]
    Run(cli::run::RunArgs),
    /// Run every scenario in scenarios/ for both protocols and write the comparison report.
    #[command(after_help = cli::suite::EXAMPLES)]
    Suite(cli::suite::SuiteArgs),
    /// Offered load against latency: the scenario in open loop at each rate, every protocol.
    #[command(after_help = cli::sweep::EXAMPLES)]
    Sweep(cli::sweep::SweepArgs),
    /// Check a history for linearizability (exit code 1 if it is not).
    #[command(after_help = cli::check::EXAMPLES)]
    Check(cli::check::CheckArgs),
    /// Rebuild a report from the raw data in DIR (runs/ and sweeps/) without rerunning.
    #[command(after_help = cli::report::EXAMPLES)]
    Report(cli::report::ReportArgs),
    /// Run the design-difference experiments (election time against timeout range, leader
    /// change with a lagging log, batching and pipelining, a bit flipped in one node's WAL) and
    /// write their report section.
    #[command(after_help = cli::experiment::EXAMPLES)]
    Experiment(cli::experiment::ExperimentArgs),
    /// Fault-injection campaign: many seeds times a Jepsen-like mix of fault schedules, for
    /// each protocol; every run checked, every failure saved with its reproduce command.
    #[command(after_help = cli::campaign::EXAMPLES)]
    Campaign(cli::campaign::CampaignArgs),
    /// Explore message orders, timeouts, crashes and partitions of a write-once algorithm,
    /// looking for violations of agreement, validity and termination.
    #[command(after_help = cli::explore::EXAMPLES)]
    Explore(cli::explore::ExploreCliArgs),
    /// Benchmarks: `bench live` runs Raft, multi-Paxos, the no-replication baseline and etcd
    /// on real processes for a list of client counts and writes the report section.
    #[command(after_help = cli::bench::EXAMPLES)]
    Bench(cli::bench::BenchArgs),
    /// Run one live node process (TCP, file WAL) from a cluster file.
    #[command(after_help = cli::node::EXAMPLES)]
    Node(cli::node::NodeCliArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WORKBENCH_LOG"))
        .with_writer(std::io::stderr)
        .init();
    // A protocol assertion caught by the simulator is recorded as a violation and reported
    // with the run; printing its panic and backtrace as well would only bury the report. A
    // panic of the harness is printed: it is a bug to fix, and ends as a harness error.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !sim::catching_protocol_panics() {
            default_hook(info);
        }
    }));
    let g = &cli.global;
    let result = match &cli.command {
        Command::Run(a) => cli::run::run(g, a),
        Command::Suite(a) => cli::suite::run(g, a),
        Command::Sweep(a) => cli::sweep::run(g, a),
        Command::Check(a) => cli::check::run(g, a),
        Command::Report(a) => cli::report::run(g, a),
        Command::Experiment(a) => cli::experiment::run(g, a),
        Command::Campaign(a) => cli::campaign::run(g, a),
        Command::Explore(a) => cli::explore::run(g, a),
        Command::Bench(a) => cli::bench::run(g, a),
        Command::Node(a) => cli::node::run(a),
    };
    match result {
        Ok(Exit::Correct) => ExitCode::SUCCESS,
        Ok(Exit::Violations) => ExitCode::from(1),
        Ok(Exit::HarnessErrors) => ExitCode::from(3),
        Err(e) if is_harness_error(&e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether a command failed on a bug of the harness (exit code 3) rather than on bad input.
fn is_harness_error(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.is::<sim::HarnessError>()
            || cause
                .downcast_ref::<workbench::suite::RunError>()
                .is_some_and(|r| r.harness().is_some())
            || cause
                .downcast_ref::<workbench::campaign::CampaignError>()
                .is_some_and(|c| c.harness().is_some())
    })
}
