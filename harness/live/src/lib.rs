//! The live runtime: the same protocols, workloads and fault schedules as the simulator, on
//! real node processes over TCP with the durable file WAL, plus production etcd as a
//! reference. See `docs/live.md` for how to run it.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`cluster`] | the cluster file (TOML): protocol, knobs, every node's address |
//! | [`codec`] | length-prefixed postcard frames and every message on a live connection |
//! | [`transport`] | peer connections with reconnect/backoff and the fault layer |
//! | [`disk`] | the WAL thread: group commit, fdatasync, the `slow_disk` delay |
//! | [`node`] | one node process: the protocol loop, the KV state machine, client service |
//! | [`profile`] | where a node's time goes: its own counters, for the benchmark's breakdown |
//! | [`admin`] | the admin link: commits, statuses and stats out; fault settings in |
//! | [`supervisor`] | child processes: start, SIGKILL, restart, SIGSTOP/SIGCONT, cleanup |
//! | [`events`] | [`events::RunEvent`]: what the run's loop hears from the cluster |
//! | [`loadgen`] | the workload's connections to the cluster |
//! | [`etcd`] | an etcd cluster from the `etcd` binary, driven through its gRPC API (`etcd-client`); its peer proxy (the fault layer of etcd's peer traffic) |
//! | [`baseline`] | the machine's floor: one loopback round trip, one fdatasync |
//! | [`runner`] | `run --backend live`: the cluster as the scenario driver's backend, the run's event loop, checks and [`RunOutput`] |

pub mod admin;
pub mod baseline;
pub mod cluster;
pub mod codec;
pub mod disk;
pub mod etcd;
pub mod events;
pub mod loadgen;
pub mod node;
pub mod profile;
pub mod runner;
pub mod supervisor;
pub mod transport;

pub use runner::{LiveError, LiveMeasurements, run_live, run_live_measured};

use std::path::PathBuf;

/// Arguments of `workbench node`.
#[derive(Clone, Debug)]
pub struct NodeArgs {
    pub cluster: PathBuf,
    pub id: u32,
    pub data: PathBuf,
}

/// Runs one node process until it is killed.
pub fn node_main(args: &NodeArgs) -> anyhow::Result<()> {
    node::node_main(&args.cluster, args.id, &args.data)
}

/// Options of a live run.
#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    pub seed: Option<u64>,
    /// Where node data directories go (default: a fresh temporary directory, removed after a
    /// successful run). A run gets its own subdirectory, which is kept.
    pub workdir: Option<PathBuf>,
    /// What etcd's reads ask for (the workbench's own reads always go through the log).
    pub etcd_reads: etcd::ReadConsistency,
    /// Whether etcd's peer traffic goes through the fault layer.
    pub etcd_peers: EtcdPeers,
}

/// How etcd members reach each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EtcdPeers {
    /// Through [`etcd::proxy`], which applies the scenario's network faults.
    #[default]
    Proxied,
    /// Directly: no network fault can be applied (the benchmark's check that the proxy costs
    /// nothing).
    Direct,
}
