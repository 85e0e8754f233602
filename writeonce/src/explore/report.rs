//! Verdicts: from a searched state graph or a set of walks to the three properties, each with
//! its shortest counterexample; and their text, JSON and SVG forms.

use super::ExploreError;
use super::exhaustive::{Graph, PathStep};
use super::svg;
use super::trace::{Replay, Timeline, node_list};
use super::walk::WalkOutcome;
use super::world::Setup;
use crate::WriteOnce;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// The three properties the explorer checks (draft 001, "Properties of a Consensus
/// Algorithm"; fault tolerance is the fault budget every search runs with).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// No two nodes ever decide differently, and no node changes its decision.
    Agreement,
    /// Only a value some node offered is decided.
    Validity,
    /// Every correct node decides: no schedule can keep one undecided forever.
    Termination,
}

impl Property {
    pub fn name(self) -> &'static str {
        match self {
            Property::Agreement => "agreement",
            Property::Validity => "validity",
            Property::Termination => "termination",
        }
    }
}

/// How a property was broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Disagreement,
    InvalidValue,
    /// A run reaches a state from which no schedule decides.
    Deadlock,
    /// A run can loop forever without deciding.
    Livelock,
}

/// A counterexample.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Steps the scheduler chose: up to the violation, the point of no return (deadlock), or
    /// the end of the first loop (livelock).
    pub steps: usize,
    pub timeline: Timeline,
    /// Files written for it (timeline text, sequence diagram).
    pub files: Vec<String>,
}

/// One property's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyResult {
    pub property: Property,
    pub holds: bool,
    /// How far the "holds" reaches, or what the finding means.
    pub note: String,
    pub finding: Option<Finding>,
}

/// How the schedules were searched.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Search {
    Exhaustive {
        states: usize,
        transitions: usize,
        max_depth: usize,
        /// Every schedule of at most this many steps was explored.
        complete_to_depth: usize,
        /// States a bound kept from being expanded (0: the whole state space was explored).
        frontier: usize,
    },
    Walks {
        walks: u64,
        seed: u64,
        max_steps: usize,
        steps: u64,
        decided: u64,
        deadlocked: u64,
        undecided_at_bound: u64,
        unsafe_walks: u64,
    },
}

/// Everything one exploration found.
#[derive(Clone, Debug, Serialize)]
pub struct Exploration {
    pub algorithm: String,
    pub nodes: usize,
    /// `(node, value)` of each proposal.
    pub proposals: Vec<(u32, String)>,
    pub faults: usize,
    /// Whether faults could be partitions, or only crashes.
    pub partitions: bool,
    pub search: Search,
    pub properties: Vec<PropertyResult>,
    /// False for a contrast run shown alongside (synod without backoff), whose failures are
    /// expected and do not count against the algorithm explored.
    pub counts: bool,
}

impl Exploration {
    pub fn property(&self, p: Property) -> &PropertyResult {
        self.properties
            .iter()
            .find(|r| r.property == p)
            .expect("every property is judged")
    }

    /// Whether every property held.
    pub fn all_hold(&self) -> bool {
        self.properties.iter().all(|p| p.holds)
    }

    /// A short label: `majority-vote, 3 nodes`.
    pub fn label(&self) -> String {
        format!("{}, {} nodes", self.algorithm, self.nodes)
    }
}

fn replay<'a, A: WriteOnce>(scenario: &'a Setup<A::Value>, path: &[PathStep]) -> Replay<'a, A> {
    let mut replay = Replay::<A>::new(scenario);
    for &step in path {
        replay.step_indexed(step);
    }
    replay
}

/// Judges the three properties on an explored graph.
pub fn judge_graph<A: WriteOnce>(scenario: &Setup<A::Value>, graph: &Graph) -> Vec<PropertyResult> {
    let everywhere = if graph.frontier() == 0 {
        format!("in all {} reachable states", graph.states())
    } else {
        format!(
            "in all {} states reached (every schedule of up to {} steps)",
            graph.states(),
            graph.depth_reached
        )
    };
    let safety = |property, found: &Option<(Vec<PathStep>, String)>, kind| match found {
        None => PropertyResult {
            property,
            holds: true,
            note: everywhere.clone(),
            finding: None,
        },
        Some((path, what)) => {
            let timeline = replay::<A>(scenario, path).into_timeline(format!("{what}."));
            PropertyResult {
                property,
                holds: false,
                note: format!("{what}, after {} (shortest)", plural(path.len(), "step")),
                finding: Some(Finding {
                    kind,
                    steps: path.len(),
                    timeline,
                    files: Vec::new(),
                }),
            }
        }
    };
    let agreement = safety(
        Property::Agreement,
        &graph.first_disagreement,
        FindingKind::Disagreement,
    );
    let validity = safety(
        Property::Validity,
        &graph.first_invalid,
        FindingKind::InvalidValue,
    );
    vec![
        agreement,
        validity,
        judge_termination::<A>(scenario, graph, &everywhere),
    ]
}

fn judge_termination<A: WriteOnce>(
    scenario: &Setup<A::Value>,
    graph: &Graph,
    everywhere: &str,
) -> PropertyResult {
    let doomed = graph.doomed();
    if let Some(d) = (0..graph.states() as u32)
        .filter(|&s| doomed[s as usize])
        .min_by_key(|&s| (graph.depth(s), s))
    {
        let path = graph.path_to(d);
        let mut r = replay::<A>(scenario, &path);
        let waiting = r.world.waiting();
        r.drain(10_000);
        let conclusion = format!(
            "After t{} no schedule can make {} decide: the run is stuck for good.",
            path.len(),
            node_list(&waiting)
        );
        let mut timeline = r.into_timeline(conclusion);
        if path.len() < timeline.len() {
            timeline.aftermath_from = Some(path.len() + 1);
            timeline.aftermath_heading =
                "no decision is reachable any more; one way the run plays out".into();
        }
        return PropertyResult {
            property: Property::Termination,
            holds: false,
            note: format!(
                "deadlock: after {} no schedule can decide any more (shortest)",
                plural(path.len(), "step")
            ),
            finding: Some(Finding {
                kind: FindingKind::Deadlock,
                steps: path.len(),
                timeline,
                files: Vec::new(),
            }),
        };
    }
    let (in_x, stays) = graph.avoidable();
    if let Some((prefix, cycle)) = graph.lasso(&in_x, &stays) {
        let mut r = replay::<A>(scenario, &prefix);
        let mut start = r.world.clone();
        let start_round = start.shift_rounds();
        for &step in &cycle {
            r.step_indexed(step);
        }
        let mut end = r.world.clone();
        let end_round = end.shift_rounds();
        assert_eq!(start, end, "a lasso returns to its loop's first state");
        let waiting = r.world.waiting();
        let conclusion = format!(
            "The scheduler can repeat t{}..t{} forever, each time with higher ballots, and {} never decide. \
             No state is doomed (from each, some schedule decides), but nothing forces a decision: a livelock.",
            prefix.len() + 1,
            prefix.len() + cycle.len(),
            node_list(&waiting)
        );
        let mut timeline = r.into_timeline(conclusion);
        timeline.loop_from = Some(prefix.len() + 1);
        timeline.rounds_per_loop = end_round - start_round;
        return PropertyResult {
            property: Property::Termination,
            holds: false,
            note: format!(
                "livelock: after {}, a loop of {} that never decides (no state is doomed)",
                plural(prefix.len(), "step"),
                plural(cycle.len(), "step")
            ),
            finding: Some(Finding {
                kind: FindingKind::Livelock,
                steps: prefix.len() + cycle.len(),
                timeline,
                files: Vec::new(),
            }),
        };
    }
    let chance = if graph.chance {
        ", with backoffs drawn at random"
    } else {
        ""
    };
    PropertyResult {
        property: Property::Termination,
        holds: true,
        note: format!(
            "{everywhere}: from each, every scheduler reaches a decision{chance}{}",
            if graph.frontier() == 0 {
                ""
            } else {
                " (states cut off by the bound assumed to decide)"
            }
        ),
        finding: None,
    }
}

/// "1 step", "3 steps".
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Judges the three properties from random walks.
pub fn judge_walks(outcome: WalkOutcome) -> Vec<PropertyResult> {
    let walks = outcome.walks;
    let safety = |property, timeline: Option<Timeline>, kind| match timeline {
        None => PropertyResult {
            property,
            holds: true,
            note: format!("in all {walks} walks"),
            finding: None,
        },
        Some(timeline) => PropertyResult {
            property,
            holds: false,
            note: format!(
                "{} (the shortest found, shrunk to {})",
                timeline.conclusion.trim_end_matches('.'),
                plural(timeline.len(), "step")
            ),
            finding: Some(Finding {
                kind,
                steps: timeline.len(),
                timeline,
                files: Vec::new(),
            }),
        },
    };
    let agreement = safety(
        Property::Agreement,
        outcome.disagreement,
        FindingKind::Disagreement,
    );
    let validity = safety(Property::Validity, outcome.invalid, FindingKind::InvalidValue);
    let termination = match outcome.deadlock {
        Some(timeline) => {
            let chosen = timeline.aftermath_from.map_or(timeline.len(), |t| t - 1);
            PropertyResult {
                property: Property::Termination,
                holds: false,
                note: format!(
                    "deadlock in {} of {walks} walks; the shortest found, shrunk: {} chosen, {} in all",
                    outcome.deadlocked,
                    plural(chosen, "step"),
                    timeline.len()
                ),
                finding: Some(Finding {
                    kind: FindingKind::Deadlock,
                    steps: chosen,
                    timeline,
                    files: Vec::new(),
                }),
            }
        }
        None => PropertyResult {
            property: Property::Termination,
            holds: true,
            note: format!(
                "no walk deadlocked; {} of {walks} decided, {} were still undecided at the step bound",
                outcome.decided, outcome.undecided_at_bound
            ),
            finding: None,
        },
    };
    vec![agreement, validity, termination]
}

/// Writes each finding's timeline (`.txt`) and sequence diagram (`.svg`) under `dir`, named
/// `ALGORITHM-Nn-PROPERTY`, and records the paths in the finding.
pub fn write_files(exploration: &mut Exploration, dir: &Path) -> Result<(), ExploreError> {
    std::fs::create_dir_all(dir).map_err(|source| ExploreError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let label = exploration.label();
    for result in &mut exploration.properties {
        let stem = format!(
            "{}-{}n-{}",
            exploration.algorithm,
            exploration.nodes,
            result.property.name()
        );
        let Some(finding) = &mut result.finding else {
            // A counterexample left by an earlier run would now mislead.
            for ext in ["txt", "svg"] {
                let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}")));
            }
            continue;
        };
        let title = format!(
            "{label}: {} violated ({:?})",
            result.property.name(),
            finding.kind
        )
        .to_lowercase();
        let txt = dir.join(format!("{stem}.txt"));
        let svg_path = dir.join(format!("{stem}.svg"));
        std::fs::write(&txt, format!("{title}\n\n{}", finding.timeline.render())).map_err(|source| {
            ExploreError::Write {
                path: txt.clone(),
                source,
            }
        })?;
        std::fs::write(&svg_path, svg::render(&title, &finding.timeline)).map_err(|source| {
            ExploreError::Write {
                path: svg_path.clone(),
                source,
            }
        })?;
        finding.files = vec![txt.display().to_string(), svg_path.display().to_string()];
    }
    Ok(())
}

/// The human-readable report of one exploration.
pub fn render(exploration: &Exploration, timelines: bool) -> String {
    let mut s = String::new();
    let proposals: Vec<String> = exploration
        .proposals
        .iter()
        .map(|(n, v)| format!("n{n} {v}"))
        .collect();
    let _ = writeln!(
        s,
        "{}: {} nodes; proposals: {}; at most {} {}{}",
        exploration.algorithm,
        exploration.nodes,
        proposals.join(", "),
        exploration.faults,
        match (exploration.faults, exploration.partitions) {
            (1, true) => "fault (a crash or a partition)",
            (1, false) => "fault (a crash)",
            (_, true) => "faults (crashes or partitions)",
            (_, false) => "faults (crashes)",
        },
        if exploration.counts {
            ""
        } else {
            "  [contrast run: failures here are expected]"
        }
    );
    match &exploration.search {
        Search::Exhaustive {
            states,
            transitions,
            max_depth,
            complete_to_depth,
            frontier,
        } => {
            let reach = if *frontier == 0 {
                format!("every schedule explored (depth bound {max_depth} not reached)")
            } else {
                format!(
                    "every schedule of up to {complete_to_depth} steps explored; {frontier} states cut off by the bound {max_depth}"
                )
            };
            let _ = writeln!(
                s,
                "  exhaustive search: {states} states, {transitions} transitions, {reach}"
            );
        }
        Search::Walks {
            walks,
            seed,
            max_steps,
            steps,
            ..
        } => {
            let _ = writeln!(
                s,
                "  random walks: {walks} walks (seed {seed}, at most {max_steps} steps each), {steps} steps in all"
            );
        }
    }
    for result in &exploration.properties {
        let verdict = if result.holds { "holds   " } else { "VIOLATED" };
        let _ = writeln!(s, "  {:<12} {verdict}  {}", result.property.name(), result.note);
    }
    if timelines {
        for result in &exploration.properties {
            let Some(finding) = &result.finding else { continue };
            let _ = writeln!(
                s,
                "\n  {} counterexample ({:?}):",
                result.property.name(),
                finding.kind
            );
            for line in finding.timeline.render().lines() {
                let _ = writeln!(s, "    {line}");
            }
            for file in &finding.files {
                let _ = writeln!(s, "    -> {file}");
            }
        }
    }
    s
}
