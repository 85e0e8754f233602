//! The algorithms `workbench explore` knows, and the scenario and bounds each is explored
//! with by default.

use super::ExploreError;
use super::exhaustive::{self, Bounds};
use super::report::{self, Exploration, Search};
use super::walk::{self, WalkBounds};
use super::world::Setup;
use crate::{
    Color, Coordinator, MajorityVote, NaiveFailover, NodeId, Synod, SynodNoBackoff, TiebreakVote, WriteOnce,
};

/// Every algorithm name `workbench explore` accepts.
pub const NAMES: [&str; 6] = [
    "coordinator",
    "majority-vote",
    "tiebreak-vote",
    "naive-failover",
    "synod",
    "synod-no-backoff",
];

/// Clusters up to this size are searched exhaustively; bigger ones by random walks.
pub const EXHAUSTIVE_MAX_NODES: usize = 3;

/// What to explore and how far.
#[derive(Clone, Debug)]
pub struct Settings {
    pub nodes: usize,
    /// Nodes `0..proposers` each offer a colour of their own (n0 red, n1 blue, n2 green...).
    pub proposers: usize,
    /// Crashes plus partitions the scheduler may inject; at most a minority.
    pub faults: usize,
    /// Whether a fault may be a partition; if not, only crashes.
    pub partitions: bool,
    pub max_depth: usize,
    pub max_states: usize,
    pub walks: u64,
    pub max_steps: usize,
    pub fault_chance: f64,
    pub seed: u64,
}

impl Settings {
    /// The defaults for `algorithm` on `nodes` nodes: every node proposes on a small cluster
    /// (two do for synod, enough for a duel), two on a big one (the window of vulnerability
    /// needs only two candidates); one fault; depth bounds that explore the whole state space
    /// of the naive algorithms and a useful part of synod's, which has no end.
    pub fn defaults(algorithm: &str, nodes: usize) -> Settings {
        let synod = algorithm.starts_with("synod");
        Settings {
            nodes,
            proposers: if nodes <= EXHAUSTIVE_MAX_NODES && !synod {
                nodes
            } else {
                2.min(nodes)
            },
            faults: 1.min(nodes.saturating_sub(1) / 2),
            partitions: true,
            max_depth: if synod { 14 } else { 200 },
            max_states: 3_000_000,
            walks: 2_000,
            max_steps: 2_000,
            fault_chance: 0.02,
            seed: 1,
        }
    }

    fn scenario(&self) -> Setup<Color> {
        Setup {
            nodes: self.nodes,
            proposals: (0..self.proposers)
                .map(|i| (NodeId(i as u32), Color::nth(i)))
                .collect(),
            faults: self.faults,
            partitions: self.partitions,
        }
    }

    /// Checks the settings make sense.
    pub fn validate(&self) -> Result<(), ExploreError> {
        if self.nodes == 0 || self.nodes > 64 {
            return Err(ExploreError::Nodes { nodes: self.nodes });
        }
        if self.proposers == 0 || self.proposers > self.nodes {
            return Err(ExploreError::Proposers {
                proposers: self.proposers,
                nodes: self.nodes,
            });
        }
        let minority = (self.nodes - 1) / 2;
        if self.faults > minority {
            return Err(ExploreError::Faults {
                faults: self.faults,
                minority,
                nodes: self.nodes,
            });
        }
        Ok(())
    }
}

/// Explores `algorithm` (one of [`NAMES`]) with `settings`.
pub fn explore(algorithm: &str, settings: &Settings) -> Result<Exploration, ExploreError> {
    settings.validate()?;
    Ok(match algorithm {
        "coordinator" => run::<Coordinator<Color>>(settings),
        "majority-vote" => run::<MajorityVote<Color>>(settings),
        "tiebreak-vote" => run::<TiebreakVote<Color>>(settings),
        "naive-failover" => run::<NaiveFailover<Color>>(settings),
        "synod" => run::<Synod<Color>>(settings),
        "synod-no-backoff" => run::<SynodNoBackoff<Color>>(settings),
        other => {
            return Err(ExploreError::UnknownAlgorithm {
                name: other.to_string(),
            });
        }
    })
}

fn run<A: WriteOnce<Value = Color>>(settings: &Settings) -> Exploration {
    let scenario = settings.scenario();
    let (search, properties) = if settings.nodes <= EXHAUSTIVE_MAX_NODES {
        let bounds = Bounds {
            max_depth: settings.max_depth,
            max_states: settings.max_states,
        };
        let graph = exhaustive::explore::<A>(&scenario, bounds);
        let search = Search::Exhaustive {
            states: graph.states(),
            transitions: graph.transitions(),
            max_depth: settings.max_depth,
            complete_to_depth: graph.depth_reached,
            frontier: graph.frontier(),
        };
        (search, report::judge_graph::<A>(&scenario, &graph))
    } else {
        let bounds = WalkBounds {
            walks: settings.walks,
            max_steps: settings.max_steps,
            fault_chance: settings.fault_chance,
            seed: settings.seed,
        };
        let outcome = walk::explore::<A>(&scenario, bounds);
        let search = Search::Walks {
            walks: outcome.walks,
            seed: settings.seed,
            max_steps: settings.max_steps,
            steps: outcome.steps,
            decided: outcome.decided,
            deadlocked: outcome.deadlocked,
            undecided_at_bound: outcome.undecided_at_bound,
            unsafe_walks: outcome.unsafe_walks,
        };
        (search, report::judge_walks(outcome))
    };
    Exploration {
        algorithm: A::NAME.to_string(),
        nodes: settings.nodes,
        proposals: scenario
            .proposals
            .iter()
            .map(|(n, v)| (n.0, v.to_string()))
            .collect(),
        faults: settings.faults,
        partitions: settings.partitions,
        search,
        properties,
        counts: true,
    }
}
