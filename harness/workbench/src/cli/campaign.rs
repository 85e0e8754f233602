//! `workbench campaign`: seeds times fault schedules times protocols, every run checked.

use super::{Exit, Global, progress};
use anyhow::{Result, bail};
use clap::Args;
use model::protocol::Protocol;
use model::scenario::{Dur, parse_duration};
use std::path::PathBuf;
use workbench::campaign::{CampaignConfig, default_schedules, run_campaign, schedules_for};
use workbench::pool::default_threads;

pub const EXAMPLES: &str = "Schedules: kill, pause, partition-one, partition-halves, majorities-ring, bridge,\n  leader-isolation, one-way, lossy-network, clock-skew, slow-disk, crash-unsynced, mixed\n\nExamples:\n  workbench campaign --seeds 100\n  workbench campaign --seeds 1000 --verify-determinism\n  workbench campaign --seeds 100 --snapshot-every 25 --snapshot-chunk-bytes 128\n  workbench campaign --schedules kill,bridge --protocol raft --seeds 20\n  workbench campaign --seeds 100 --read-path read_index";

#[derive(Args)]
pub struct CampaignArgs {
    /// Seeds per schedule and protocol.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// Workload length of each run.
    #[arg(long, default_value = "5s")]
    pub duration: String,
    /// raft, paxos, or all.
    #[arg(long, default_value = "all")]
    pub protocol: String,
    /// Comma-separated schedule names (default: all).
    #[arg(long, value_delimiter = ',')]
    pub schedules: Vec<String>,
    /// Run each seed twice and require identical event traces.
    #[arg(long)]
    pub verify_determinism: bool,
    /// Where failing runs are saved.
    #[arg(long, default_value = "reports/campaign")]
    pub out: PathBuf,
    #[arg(long)]
    pub jobs: Option<usize>,
    /// How leaders answer reads: log, read_index or lease. Under lease the clock-skew
    /// faults are left out (they exceed any drift bound; see scenarios/lease-skew-unsafe.toml).
    #[arg(long, default_value = "log")]
    pub read_path: String,
    /// Switch on a deliberately broken protocol variant (raft_commit_old_terms_by_count,
    /// ack_before_quorum, paxos_ignore_promised_values, paxos_promise_without_snapshot) to see
    /// the campaign catch it.
    #[arg(long)]
    pub bug: Vec<String>,
    /// Log compaction: snapshot every this many applied entries (`[protocol]
    /// snapshot_every`; 0, the default, never compacts).
    #[arg(long, default_value_t = 0)]
    pub snapshot_every: u64,
    /// Most image bytes per snapshot message (`[protocol] snapshot_chunk_bytes`).
    #[arg(long, default_value_t = 65536)]
    pub snapshot_chunk_bytes: usize,
}

pub fn run(g: &Global, a: &CampaignArgs) -> Result<Exit> {
    let all = default_schedules();
    let chosen = if a.schedules.is_empty() {
        all
    } else {
        let mut v = Vec::new();
        for name in &a.schedules {
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
    if !(1..=15).contains(&a.nodes) {
        bail!("--nodes: {} is out of range: expected 1 to 15", a.nodes);
    }
    let duration = Dur(parse_duration(&a.duration).map_err(|e| anyhow::anyhow!("--duration: {e}"))?);
    let mut bugs = replog::Bugs::default();
    for b in &a.bug {
        match b.as_str() {
            "raft_commit_old_terms_by_count" => bugs.raft_commit_old_terms_by_count = true,
            "ack_before_quorum" => bugs.ack_before_quorum = true,
            "paxos_ignore_promised_values" => bugs.paxos_ignore_promised_values = true,
            "paxos_promise_without_snapshot" => bugs.paxos_promise_without_snapshot = true,
            other => bail!("--bug: unknown bug {other:?}"),
        }
    }
    let protocols = match a.protocol.as_str() {
        "all" => Protocol::COMPARED.to_vec(),
        name => match name.parse::<Protocol>() {
            Ok(p) if p.is_simulated() => vec![p],
            _ => bail!("--protocol: unknown protocol {name:?}: expected raft, paxos or all"),
        },
    };
    let read_path = match replog::ReadPath::ALL.iter().find(|p| p.name() == a.read_path) {
        Some(&p) => p,
        None => bail!(
            "--read-path: unknown read path {:?}: expected log, read_index or lease",
            a.read_path
        ),
    };
    let chosen = schedules_for(read_path, chosen);
    if chosen.is_empty() {
        bail!("--schedules: nothing left to run under --read-path lease (clock skew is left out)");
    }
    let cfg = CampaignConfig {
        seeds: a.seeds.max(1),
        first_seed: a.first_seed,
        nodes: a.nodes,
        duration,
        protocols,
        schedules: chosen,
        verify_determinism: a.verify_determinism,
        threads: a.jobs.unwrap_or_else(default_threads),
        bugs,
        snapshot_every: a.snapshot_every,
        snapshot_chunk_bytes: a.snapshot_chunk_bytes,
        read_path,
    };
    if a.snapshot_chunk_bytes == 0 {
        bail!("--snapshot-chunk-bytes: must be at least 1");
    }
    let total = cfg.seeds
        * cfg.schedules.len() as u64
        * cfg.protocols.len() as u64
        * if a.verify_determinism { 2 } else { 1 };
    let bar = progress(g, total, "campaign");
    let started = std::time::Instant::now();
    let report = run_campaign(&cfg, &a.out, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    if g.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !g.quiet {
        print!("{}", report.table());
        for f in &report.failures {
            println!(
                "FAILED {} {} seed {}: {}\n  saved: {}\n  reproduce: {}",
                f.protocol, f.schedule, f.seed, f.reason, f.saved_to, f.reproduce
            );
        }
        for h in &report.harness_errors {
            println!(
                "HARNESS ERROR (not counted against {}) {} seed {}: {}",
                h.protocol, h.schedule, h.seed, h.error
            );
        }
        let mut outcome = Vec::new();
        if !report.failures.is_empty() {
            outcome.push(format!(
                "{} failing runs saved under {}",
                report.failures.len(),
                a.out.display()
            ));
        }
        if !report.harness_errors.is_empty() {
            outcome.push(format!("{} harness errors", report.harness_errors.len()));
        }
        println!(
            "{} runs in {:.1} s; {}",
            total,
            started.elapsed().as_secs_f64(),
            if outcome.is_empty() {
                "no violations".to_string()
            } else {
                outcome.join(", ")
            }
        );
    }
    Ok(if !report.harness_errors.is_empty() {
        Exit::HarnessErrors
    } else {
        Exit::from_ok(report.clean())
    })
}
