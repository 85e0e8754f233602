//! `workbench bench live`: the live comparison as a benchmark. The same workload (a scenario
//! file, `scenarios/live/bench-writes.toml` by default) against the workbench's Raft and
//! multi-Paxos, the no-replication baseline and etcd (behind its peer proxy, and with its
//! members linked directly, which shows what the proxy costs), one run at a time and back to
//! back, for each client count and each round. Each round also measures the machine's floor
//! ([`live::baseline`]): the loopback round trip and fdatasync on the data disk, alone and
//! from one writer per node at once.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`machine`] | cores, load, CPU busy share, the data directory's file system |
//! | [`analysis`] | figures over rounds as intervals, the knee of each curve, the goals |
//! | [`section`] | the report sections: curves, knees, limits, where the time goes |
//!
//! Every run is checked like any other (linearizability and invariants); the data of every
//! run is saved in `bench-live.json`.

pub mod analysis;
pub mod machine;
pub mod section;

use crate::build_info;
use live::baseline::{self, Baseline};
use live::profile::NodeProfile;
use live::{EtcdPeers, LiveOptions};
use machine::Machine;
use model::check::verdict::check_history;
use model::metrics::summarize;
use model::protocol::Protocol;
use model::scenario::{Dur, Scenario};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Samples of each floor measurement per round.
const LIMIT_SAMPLES: u32 = 200;

/// A system under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum System {
    Raft,
    Paxos,
    /// The no-replication baseline: one node commits alone.
    Null,
    /// etcd with its peer traffic through the harness's proxy (the fault layer).
    Etcd,
    /// etcd with its members linked directly.
    EtcdDirect,
}

impl System {
    pub const ALL: [System; 5] = [
        System::Raft,
        System::Paxos,
        System::Null,
        System::Etcd,
        System::EtcdDirect,
    ];

    pub fn name(self) -> &'static str {
        match self {
            System::Raft => "raft",
            System::Paxos => "paxos",
            System::Null => "null",
            System::Etcd => "etcd",
            System::EtcdDirect => "etcd-direct",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            System::Raft => "Raft",
            System::Paxos => "Multi-Paxos",
            System::Null => "No replication",
            System::Etcd => "etcd (peer proxy)",
            System::EtcdDirect => "etcd (direct peers)",
        }
    }

    pub fn protocol(self) -> Protocol {
        match self {
            System::Raft => Protocol::Raft,
            System::Paxos => Protocol::Paxos,
            System::Null => Protocol::Null,
            System::Etcd | System::EtcdDirect => Protocol::Etcd,
        }
    }

    pub fn is_etcd(self) -> bool {
        self.protocol() == Protocol::Etcd
    }

    /// A replicated system (the baseline is not).
    pub fn replicates(self) -> bool {
        self != System::Null
    }
}

impl std::str::FromStr for System {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        System::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
            let names: Vec<&str> = System::ALL.iter().map(|x| x.name()).collect();
            format!("unknown system {s:?}: expected one of {}", names.join(", "))
        })
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchPlan {
    /// The workload; its client count is replaced by each of `clients`.
    pub scenario: Scenario,
    pub source: String,
    pub clients: Vec<usize>,
    pub rounds: usize,
    pub systems: Vec<System>,
    /// Where the nodes' data directories go (each run's is removed after it).
    pub data_dir: PathBuf,
}

impl BenchPlan {
    /// The plan's scenario with `clients` clients.
    pub fn scenario_with(&self, clients: usize) -> Scenario {
        let mut s = self.scenario.clone();
        s.workload.clients = clients;
        s.name = format!("{}-c{clients}", self.scenario.name);
        s
    }
}

/// The machine's floor, measured once per round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub round: usize,
    pub load_average_1m: Option<f64>,
    pub baseline: Baseline,
}

/// One run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub system: System,
    pub clients: usize,
    pub round: usize,
    /// Passed the checker and the invariants.
    pub correct: bool,
    pub ops_ok: u64,
    pub ops_info: u64,
    /// Completed operations per second of workload.
    pub throughput_ops_per_s: f64,
    pub write_p50_ns: u64,
    pub write_p99_ns: u64,
    /// The 1-minute load average just before the run.
    pub load_average_1m: Option<f64>,
    /// The share of the machine's CPU time that was busy during the run (every process).
    pub machine_busy: Option<f64>,
    /// The run's own floor measurement (taken before its cluster started).
    pub baseline: Baseline,
    pub workload_ns: u64,
    /// The node that led at the end (the workbench's nodes; None for etcd).
    pub leader: Option<usize>,
    /// Each node's counters (the workbench's nodes only).
    pub profiles: Vec<Option<NodeProfile>>,
}

impl Point {
    /// The leader's counters, if it reported them.
    pub fn leader_profile(&self) -> Option<&NodeProfile> {
        self.profiles.get(self.leader?)?.as_ref()
    }
}

/// Everything a benchmark measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchData {
    pub machine: Machine,
    pub scenario: String,
    pub source: String,
    pub nodes: usize,
    pub workload_ns: u64,
    pub clients: Vec<usize>,
    pub rounds: usize,
    pub systems: Vec<System>,
    /// Systems left out, and why (etcd not installed).
    pub skipped: Vec<String>,
    pub limits: Vec<Limits>,
    pub points: Vec<Point>,
    /// When it ran (seconds since the Unix epoch) and what built it.
    pub started_unix_s: u64,
    pub git: String,
}

/// A benchmark that could not run.
#[derive(Debug, Error)]
pub enum BenchError {
    #[error(
        "{}: the data directory is on {fs}, where fdatasync costs nothing, so the benchmark would \
         not measure durable writes; point --data at a directory on the disk to measure, or pass \
         --allow-tmpfs to run anyway (the report then says so)",
        dir.display()
    )]
    DataInMemory { dir: PathBuf, fs: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Run(#[from] live::LiveError),
}

/// Checks that the data directory is on a disk (or allowed not to be); describes the machine.
pub fn prepare(plan: &BenchPlan, allow_tmpfs: bool) -> Result<Machine, BenchError> {
    std::fs::create_dir_all(&plan.data_dir).map_err(|source| BenchError::Io {
        path: plan.data_dir.clone(),
        source,
    })?;
    let machine = Machine::describe(&plan.data_dir);
    if machine.data_in_memory() && !allow_tmpfs {
        return Err(BenchError::DataInMemory {
            dir: plan.data_dir.clone(),
            fs: machine.data_fs.clone().unwrap_or_default(),
        });
    }
    Ok(machine)
}

/// Runs the plan: for each round, the floor, then every client count and every system back
/// to back. `note` hears about each run as it starts.
pub fn run(
    plan: &BenchPlan,
    machine: Machine,
    skipped: Vec<String>,
    note: &dyn Fn(&str),
) -> Result<BenchData, BenchError> {
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut data = BenchData {
        machine,
        scenario: plan.scenario.name.clone(),
        source: plan.source.clone(),
        nodes: plan.scenario.cluster.nodes,
        workload_ns: plan.scenario.duration.0,
        clients: plan.clients.clone(),
        rounds: plan.rounds,
        systems: plan.systems.clone(),
        skipped,
        limits: Vec::new(),
        points: Vec::new(),
        started_unix_s,
        git: build_info::versions().git,
    };
    let total = plan.rounds * plan.clients.len() * plan.systems.len();
    for round in 1..=plan.rounds {
        note(&format!(
            "round {round}/{}: measuring the machine's floor",
            plan.rounds
        ));
        data.limits.push(measure_limits(plan, round)?);
        for &clients in &plan.clients {
            for &system in &plan.systems {
                note(&format!(
                    "[{}/{total}] round {round}, {clients} clients, {}",
                    data.points.len() + 1,
                    system.name()
                ));
                data.points.push(run_point(plan, system, clients, round)?);
            }
        }
    }
    Ok(data)
}

/// The loopback round trip and fdatasync on the data disk, alone and from one writer per
/// node at once.
fn measure_limits(plan: &BenchPlan, round: usize) -> Result<Limits, BenchError> {
    let dir = plan.data_dir.join(format!("limits-{round}"));
    let io = |source| BenchError::Io {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let load_average_1m = machine::load_average_1m();
    let writers = plan.scenario.cluster.nodes as u32;
    let measured = baseline::measure_blocking(&dir, LIMIT_SAMPLES, writers);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Limits {
        round,
        load_average_1m,
        baseline: measured.map_err(io)?,
    })
}

/// One live run of `system` with `clients` clients, checked.
fn run_point(plan: &BenchPlan, system: System, clients: usize, round: usize) -> Result<Point, BenchError> {
    let scenario = plan.scenario_with(clients);
    let workdir = plan
        .data_dir
        .join(format!("run-{}-c{clients}-r{round}", system.name()));
    let opts = LiveOptions {
        seed: Some(plan.scenario.seed + round as u64 - 1),
        workdir: Some(workdir.clone()),
        etcd_peers: match system {
            System::EtcdDirect => EtcdPeers::Direct,
            _ => EtcdPeers::Proxied,
        },
        ..LiveOptions::default()
    };
    let load_average_1m = machine::load_average_1m();
    let cpu_before = machine::cpu_ticks();
    let result = live::run_live_measured(system.protocol(), &scenario, &opts);
    let cpu_after = machine::cpu_ticks();
    let (output, measured) = result?;
    // Each run's data is only needed while it runs: a full benchmark would fill the disk.
    let _ = std::fs::remove_dir_all(&workdir);
    let checker = check_history(&output.history);
    let summary = summarize(&output, checker, &build_info::versions());
    let leader = output
        .status_log
        .iter()
        .rev()
        .find(|c| c.up && c.status.role == replog::Role::Leader)
        .map(|c| c.status.id.index());
    Ok(Point {
        system,
        clients,
        round,
        correct: summary.correct,
        ops_ok: summary.ops.ok,
        ops_info: summary.ops.info,
        throughput_ops_per_s: summary.throughput_ops_per_s,
        write_p50_ns: summary.latency.write.p50_ns,
        write_p99_ns: summary.latency.write.p99_ns,
        load_average_1m,
        machine_busy: cpu_before
            .zip(cpu_after)
            .and_then(|(b, a)| machine::busy_share(b, a)),
        baseline: measured.baseline,
        workload_ns: output.duration_ns,
        leader,
        profiles: measured.profiles,
    })
}

/// The plan's scenario with the workload's duration (and settle) replaced, when asked.
pub fn with_duration(mut s: Scenario, duration: Option<Dur>, settle: Option<Dur>) -> Scenario {
    if let Some(d) = duration {
        s.duration = d;
    }
    if let Some(d) = settle {
        s.settle = d;
    }
    s
}

/// Saves the data as `bench-live.json` under `dir`.
pub fn save(dir: &Path, data: &BenchData) -> Result<(), report::ReportError> {
    report::store::write_json(&dir.join("bench-live.json"), data)
}

/// Reads `DIR/bench-live.json`.
pub fn load(dir: &Path) -> Result<BenchData, report::ReportError> {
    report::store::read_json(&dir.join("bench-live.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_parse_by_name_and_say_what_they_run() {
        for s in System::ALL {
            assert_eq!(s.name().parse::<System>(), Ok(s));
        }
        assert!("zab".parse::<System>().unwrap_err().contains("etcd-direct"));
        assert_eq!(System::EtcdDirect.protocol(), Protocol::Etcd);
        assert!(!System::Null.replicates() && System::Paxos.replicates());
    }

    #[test]
    fn each_client_count_gets_its_own_scenario_name() {
        let scenario = Scenario::parse(
            "name = \"w\"\nduration = \"1s\"\n[cluster]\nnodes = 3\n[workload]\nclients = 1\n",
            "w.toml",
        )
        .unwrap();
        let plan = BenchPlan {
            scenario,
            source: "w.toml".into(),
            clients: vec![1, 64],
            rounds: 1,
            systems: vec![System::Raft],
            data_dir: PathBuf::from("/nonexistent"),
        };
        let s = plan.scenario_with(64);
        assert_eq!((s.name.as_str(), s.workload.clients), ("w-c64", 64));
    }
}
