//! The live runtime: real node processes over TCP with the file WAL (being built; see the
//! issue notes). The entry points below are the contract the CLI calls.

use crate::run::RunOutput;
use crate::scenario::Scenario;
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
    anyhow::bail!("{}: the live runtime is not built yet", args.cluster.display())
}

/// Options of a live run.
#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    pub seed: Option<u64>,
    /// Where node data directories go (default: a fresh temporary directory).
    pub workdir: Option<PathBuf>,
}

/// Runs `scenario` on real processes with `protocol` ("raft", "paxos" or "etcd").
pub fn run_live(protocol: &str, scenario: &Scenario, _opts: &LiveOptions) -> Result<RunOutput, String> {
    Err(format!(
        "{}: live backend for {protocol} is not built yet",
        scenario.name
    ))
}
