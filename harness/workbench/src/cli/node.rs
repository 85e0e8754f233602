//! `workbench node`: one live node process (TCP, file WAL) from a cluster file.

use super::Exit;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:\n  workbench node --cluster cluster.toml --id 0 --data /var/lib/wb/n0";

#[derive(Args)]
pub struct NodeCliArgs {
    /// The cluster file: protocol, knobs and every node's address.
    #[arg(long)]
    pub cluster: PathBuf,
    /// This node's id in the cluster file.
    #[arg(long)]
    pub id: u32,
    /// Data directory (the write-ahead log lives here).
    #[arg(long)]
    pub data: PathBuf,
}

pub fn run(a: &NodeCliArgs) -> Result<Exit> {
    live::node_main(&live::NodeArgs {
        cluster: a.cluster.clone(),
        id: a.id,
        data: a.data.clone(),
    })?;
    Ok(Exit::Correct)
}
