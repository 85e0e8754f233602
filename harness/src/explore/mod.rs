//! Systematic exploration of the write-once algorithms (being built).

use std::path::PathBuf;

/// Arguments of `workbench explore`.
#[derive(Clone, Debug)]
pub struct ExploreArgs {
    pub algorithm: String,
    pub nodes: Option<usize>,
    pub max_depth: Option<usize>,
    pub walks: Option<u64>,
    pub seed: u64,
    pub out: PathBuf,
    pub json: bool,
    pub quiet: bool,
}

/// Runs `workbench explore`; returns whether every property held.
pub fn run_cli(args: &ExploreArgs) -> Result<bool, String> {
    Err(format!("explore {}: not built yet", args.algorithm))
}
