//! `workbench explore ALGORITHM`: the schedule explorer for the drafts' write-once algorithms
//! (`writeonce::explore`).

use super::{Exit, Global};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use writeonce::explore::{ExploreArgs, run_cli};

pub const EXAMPLES: &str = "Algorithms: coordinator, majority-vote, tiebreak-vote, naive-failover, synod, synod-no-backoff\n\nBy default a 3-node cluster is searched exhaustively and a 7-node one by random walks;\n`synod` also shows `synod-no-backoff` on 3 nodes for contrast. Exit code 1 if a property\nis violated.\n\nExamples:\n  workbench explore majority-vote\n  workbench explore synod --nodes 3 --out reports/explore\n  workbench explore naive-failover --nodes 7 --walks 5000 --seed 7 --json";

#[derive(Args)]
pub struct ExploreCliArgs {
    pub algorithm: String,
    /// One cluster size: up to 3 nodes exhaustive, more by random walks (default: 3 and 7).
    #[arg(long)]
    pub nodes: Option<usize>,
    /// How many nodes call try_initialize, each with its own colour (default: every node on 3
    /// nodes, two on bigger clusters; two for synod).
    #[arg(long)]
    pub proposers: Option<usize>,
    /// Crashes plus partitions the scheduler may inject, at most a minority (default: 1).
    #[arg(long)]
    pub faults: Option<usize>,
    /// Faults are crashes only, never partitions.
    #[arg(long)]
    pub crashes_only: bool,
    /// Bound on the steps of one schedule in exhaustive search.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Number of seeded random walks on clusters too big for exhaustive search.
    #[arg(long)]
    pub walks: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where counterexample timelines and sequence diagrams (SVG) go.
    #[arg(long, default_value = "reports/explore")]
    pub out: PathBuf,
}

pub fn run(g: &Global, a: &ExploreCliArgs) -> Result<Exit> {
    let ok = run_cli(&ExploreArgs {
        algorithm: a.algorithm.clone(),
        nodes: a.nodes,
        proposers: a.proposers,
        faults: a.faults,
        crashes_only: a.crashes_only,
        max_depth: a.max_depth,
        walks: a.walks,
        seed: a.seed,
        out: a.out.clone(),
        json: g.json,
        quiet: g.quiet,
    })?;
    Ok(Exit::from_ok(ok))
}
