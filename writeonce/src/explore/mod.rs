//! `workbench explore ALGORITHM`: systematic search of the schedules of the drafts'
//! write-once algorithms (this crate's) for broken agreement, validity and termination.
//!
//! A schedule is every choice the environment makes: which message in flight arrives next,
//! when a timer fires (as far as its [`Timer`](crate::Timer) kind allows), and whether and
//! when a node crashes or is cut off by a partition (at most `faults` of those, a minority).
//! Small clusters are searched exhaustively, breadth first with deduplication, so every
//! counterexample is a shortest one; bigger clusters by seeded random walks whose failures are
//! shrunk. Each violated property comes out as a timeline and a sequence diagram.
//!
//! | property | violated when | found as |
//! | --- | --- | --- |
//! | agreement | two nodes decide differently, or one changes its decision | the first such state |
//! | validity | a node decides a value nobody proposed | the first such state |
//! | termination | the scheduler can keep a correct node undecided forever | a *deadlock* (a state from which no schedule decides; the shallowest one) or a *livelock* (a loop that never decides, ballots climbing) |
//!
//! Termination is judged as a game on the explored graph: the scheduler picks events, chance
//! draws randomized backoffs. It holds when from every state every scheduler decides with
//! probability 1 (see [`exhaustive::Graph::avoidable`]). States cut off by a bound count as
//! deciding, so a violation is always real, and "holds" is as strong as the bound.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`world`] | the cluster and network as one value; events; faults |
//! | [`exhaustive`] | breadth-first search, the state graph, deadlocks, livelocks |
//! | [`walk`] | seeded random walks and shrinking |
//! | [`trace`] | replaying a path into a readable timeline |
//! | [`svg`] | the timeline as a sequence diagram |
//! | [`report`] | verdicts per property; text, JSON and files |
//! | [`algorithms`] | the algorithms by name, their default scenarios and bounds |

pub mod algorithms;
pub mod exhaustive;
pub mod report;
pub mod svg;
pub mod trace;
pub mod walk;
pub mod world;

pub use algorithms::{NAMES, Settings, explore};
pub use report::{Exploration, FindingKind, Property};

use std::path::PathBuf;

/// Why an exploration could not run or its results could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    #[error("unknown algorithm {name:?}; one of: {}", NAMES.join(", "))]
    UnknownAlgorithm { name: String },
    #[error("--nodes {nodes}: between 1 and 64, please")]
    Nodes { nodes: usize },
    #[error("--proposers {proposers}: between 1 and the {nodes} nodes")]
    Proposers { proposers: usize, nodes: usize },
    #[error(
        "--faults {faults}: at most a minority ({minority} of {nodes} nodes) may be faulty, or no algorithm owes termination"
    )]
    Faults {
        faults: usize,
        minority: usize,
        nodes: usize,
    },
    #[error("creating {}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("writing {}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Arguments of `workbench explore`.
#[derive(Clone, Debug)]
pub struct ExploreArgs {
    pub algorithm: String,
    /// One cluster size; by default 3 nodes (exhaustive) and 7 (random walks).
    pub nodes: Option<usize>,
    pub proposers: Option<usize>,
    pub faults: Option<usize>,
    /// Faults are crashes only, never partitions.
    pub crashes_only: bool,
    pub max_depth: Option<usize>,
    pub walks: Option<u64>,
    pub seed: u64,
    pub out: PathBuf,
    pub json: bool,
    pub quiet: bool,
}

/// The explorations `args` asks for: `(algorithm, settings, counts toward the verdict)`.
///
/// `synod` also runs `synod-no-backoff` on 3 nodes as a contrast: its livelock is the reason
/// for the backoff, expected, and not held against synod.
pub fn plan(args: &ExploreArgs) -> Result<Vec<(String, Settings, bool)>, ExploreError> {
    if !NAMES.contains(&args.algorithm.as_str()) {
        return Err(ExploreError::UnknownAlgorithm {
            name: args.algorithm.clone(),
        });
    }
    let sizes = match args.nodes {
        Some(n) => vec![n],
        None => vec![algorithms::EXHAUSTIVE_MAX_NODES, 7],
    };
    let settings = |algorithm: &str, nodes: usize| {
        let mut s = Settings::defaults(algorithm, nodes);
        s.proposers = args.proposers.unwrap_or(s.proposers);
        s.faults = args.faults.unwrap_or(s.faults);
        s.partitions &= !args.crashes_only;
        s.max_depth = args.max_depth.unwrap_or(s.max_depth);
        s.walks = args.walks.unwrap_or(s.walks);
        s.seed = args.seed;
        s
    };
    let mut plan: Vec<(String, Settings, bool)> = sizes
        .iter()
        .map(|&n| (args.algorithm.clone(), settings(&args.algorithm, n), true))
        .collect();
    if args.algorithm == "synod" && sizes.contains(&algorithms::EXHAUSTIVE_MAX_NODES) {
        let n = algorithms::EXHAUSTIVE_MAX_NODES;
        plan.push((
            "synod-no-backoff".to_string(),
            settings("synod-no-backoff", n),
            false,
        ));
    }
    Ok(plan)
}

/// Runs every exploration of the plan, writes counterexamples under `args.out`.
pub fn run(args: &ExploreArgs) -> Result<Vec<Exploration>, ExploreError> {
    let mut explorations = Vec::new();
    for (algorithm, settings, counts) in plan(args)? {
        let mut exploration = explore(&algorithm, &settings)?;
        exploration.counts = counts;
        report::write_files(&mut exploration, &args.out)?;
        explorations.push(exploration);
    }
    Ok(explorations)
}

/// Runs `workbench explore`; returns whether every property held (contrast runs aside).
pub fn run_cli(args: &ExploreArgs) -> Result<bool, ExploreError> {
    let explorations = run(args)?;
    let ok = explorations.iter().filter(|e| e.counts).all(|e| e.all_hold());
    let summary = serde_json::json!({
        "algorithm": args.algorithm,
        "ok": ok,
        "explorations": explorations,
    });
    let summary_text = serde_json::to_string_pretty(&summary)?;
    let summary_path = args.out.join(format!("{}-summary.json", args.algorithm));
    std::fs::write(&summary_path, &summary_text).map_err(|source| ExploreError::Write {
        path: summary_path.clone(),
        source,
    })?;
    if args.json {
        println!("{summary_text}");
    } else {
        for e in &explorations {
            println!("{}", report::render(e, !args.quiet));
        }
        let verdict = if ok {
            "every property held"
        } else {
            "some property was violated"
        };
        println!("{}: {verdict}; details in {}", args.algorithm, args.out.display());
    }
    Ok(ok)
}
