//! The design-difference experiments: where Raft and multi-Paxos are built differently, a
//! measurement that shows what the difference costs, for the report's "Design differences"
//! section.
//!
//! | file | experiment |
//! | --- | --- |
//! | `election.rs` | election time after a leader crash against the width of the randomized timeout range, set up as Raft §9.3 (Figure 16): split votes against duelling proposers; `election_report.rs` its report, `paper.rs` the published values |
//! | `lag.rs` | leader change when the node that times out first lags by K entries: Raft's up-to-date vote rule against Paxos's recovery in phase 1 |
//! | `partial.rs` | the partial-partition scenarios of the suite: Raft with and without PreVote/CheckQuorum against multi-Paxos |
//! | `batching.rs` | batching and pipelining on and off for both, as latency against throughput |
//! | `scaling.rs` | cost per command against cluster size (3 to 15 nodes): messages delivered and the simulator's wall time |
//! | `corruption.rs` | a bit flipped in a committed entry of one node's WAL: the WAL's recovery detects it, then whether either protocol loses a committed entry (Alagappan et al., FAST 2018) |
//! | `parity.rs` | the equalisations of issue 15 switched off one by one on the loss and partition schedules: how much of each difference was implementation, how much design |
//!
//! Every run here ends through [`sim::conclude`], so the invariants and the
//! linearizability checker see it like any suite run; a run that fails them is counted and
//! shown, never silently dropped.

pub mod batching;
pub mod corruption;
pub mod election;
pub mod election_report;
pub mod lag;
pub mod paper;
pub mod parity;
pub mod partial;
pub mod scaling;

pub(crate) use crate::pool::par_map;
use model::check::verdict::check_history;
use model::driver::ScenarioDriver;
use model::faults::leader_of;
use model::run::RunOutput;
use model::scenario::Scenario;
use replog::{Nanos, NodeId, ReplicatedLog, Status};
use report::{ReportError, ScenarioResults, Section};
use serde::{Deserialize, Serialize};
use sim::{SimConfig, Simulation};
use std::path::Path;

pub(crate) const MS: Nanos = 1_000_000;

/// How much of each experiment to run.
#[derive(Clone, Debug)]
pub struct ExperimentOptions {
    /// Fewer trials and load points, for `suite --quick` and tests.
    pub quick: bool,
    pub threads: usize,
    /// Trials per timeout range in the election experiment (default: 200, quick: 20; the
    /// paper used 1000).
    pub election_trials: Option<usize>,
}

/// Everything the experiments measured; saved as `experiments.json` beside the report so
/// `workbench report DIR` can redraw the section without rerunning.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentData {
    pub election: Option<election::ElectionData>,
    pub lag: Option<lag::LagData>,
    pub batching: Option<batching::BatchingData>,
    #[serde(default)]
    pub corruption: Option<corruption::CorruptionData>,
    #[serde(default)]
    pub scaling: Option<scaling::ScalingData>,
    #[serde(default)]
    pub parity: Option<parity::ParityData>,
}

impl ExperimentData {
    /// Whether every experiment run passed the invariants and the checker. (Entries lost after
    /// a node silently loses a log suffix are the corruption experiment's finding, not a
    /// failure of the workbench; only a corruption the WAL failed to detect is.)
    pub fn all_correct(&self) -> bool {
        let election = self
            .election
            .as_ref()
            .is_none_or(|e| e.all().all(|r| r.failed_checks == 0));
        let lag = self
            .lag
            .as_ref()
            .is_none_or(|l| l.points.iter().all(|p| p.checked.ok()));
        let batching = self
            .batching
            .as_ref()
            .is_none_or(|b| b.load.iter().all(|p| p.correct) && b.saturation.iter().all(|p| p.correct));
        let corruption = self.corruption.as_ref().is_none_or(|c| c.all_detected());
        let scaling = self
            .scaling
            .as_ref()
            .is_none_or(|s| s.points.iter().all(|p| p.correct));
        let parity = self.parity.as_ref().is_none_or(|p| p.all_correct());
        election && lag && batching && corruption && scaling && parity
    }
}

/// Runs every experiment; `progress(name)` is called as each starts.
pub fn run_all(opts: &ExperimentOptions, progress: &dyn Fn(&str)) -> ExperimentData {
    progress("election time against timeout range");
    let election = election::run(opts);
    progress("leader change with a lagging log");
    let lag = lag::run(opts);
    progress("batching and pipelining");
    let batching = batching::run(opts);
    progress("a bit flipped in one node's WAL");
    let corruption = corruption::run(opts);
    progress("cost per command against cluster size");
    let scaling = scaling::run(opts);
    progress("parity ablation: each equalisation off and on");
    let parity = parity::run(opts);
    ExperimentData {
        election: Some(election),
        lag: Some(lag),
        batching: Some(batching),
        corruption: Some(corruption),
        scaling: Some(scaling),
        parity: Some(parity),
    }
}

/// The report sections for `data`, drawing their plots under `plots`; the partial-partition
/// section comes from the suite's own scenario runs.
pub fn sections(
    plots: &Path,
    data: &ExperimentData,
    scenarios: &[ScenarioResults],
) -> Result<Vec<Section>, ReportError> {
    let mut out = vec![Section {
        id: "design-differences".into(),
        title: "Design differences".into(),
        paragraphs: vec![
            "Measurements of the places where Raft and multi-Paxos are built differently. Both protocols \
             run on the same simulated network, disks and clients with the same knobs; every run below \
             went through the invariants and the linearizability checker, and the tables count any that \
             failed."
                .into(),
        ],
        ..Section::default()
    }];
    if let Some(d) = &data.election {
        out.extend(election_report::sections(plots, d)?);
    }
    if let Some(d) = &data.lag {
        out.push(lag::section(plots, d)?);
        out.extend(lag::compaction_section(d));
    }
    if let Some(s) = partial::section(plots, scenarios)? {
        out.push(s);
    }
    if let Some(d) = &data.batching {
        out.push(batching::section(plots, d)?);
    }
    if let Some(d) = &data.corruption {
        out.push(corruption::section(plots, d)?);
    }
    if let Some(d) = &data.scaling {
        out.push(scaling::section(plots, d)?);
    }
    if let Some(d) = &data.parity {
        out.push(parity::section(plots, d)?);
    }
    Ok(out)
}

/// Saves `data` as `DIR/experiments.json`.
pub fn save(dir: &Path, data: &ExperimentData) -> Result<(), ReportError> {
    report::store::write_json(&dir.join("experiments.json"), data)
}

/// Reads `DIR/experiments.json` if the report has one.
pub fn load(dir: &Path) -> Result<Option<ExperimentData>, ReportError> {
    let path = dir.join("experiments.json");
    if !path.exists() {
        return Ok(None);
    }
    report::store::read_json(&path).map(Some)
}

/// A simulation being steered step by step, with the scenario's clients running.
pub(crate) struct Steered<L: ReplicatedLog> {
    pub sim: Simulation<L>,
    pub driver: ScenarioDriver,
    pub scenario: Scenario,
    pub seed: u64,
}

impl<L: ReplicatedLog> Steered<L> {
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        let mut sim = Simulation::<L>::new(SimConfig::for_scenario(scenario, seed));
        let driver = ScenarioDriver::start(&mut sim, scenario, seed, Vec::new());
        Steered {
            sim,
            driver,
            scenario: scenario.clone(),
            seed,
        }
    }

    pub fn now(&self) -> Nanos {
        self.sim.now()
    }

    pub fn run_until(&mut self, t: Nanos) {
        self.sim.run_until(t, &mut self.driver);
    }

    pub fn statuses(&self) -> Vec<Option<Status>> {
        self.sim.statuses()
    }

    /// Runs in `step` increments until `done` holds for the statuses or `limit` passes;
    /// returns the time it first held.
    pub fn run_until_status(
        &mut self,
        step: Nanos,
        limit: Nanos,
        mut done: impl FnMut(&[Option<Status>]) -> bool,
    ) -> Option<Nanos> {
        loop {
            if done(&self.statuses()) {
                return Some(self.now());
            }
            if self.now() >= limit {
                return None;
            }
            let t = (self.now() + step).min(limit);
            self.run_until(t);
        }
    }

    /// Elects a first leader independently of the timeout range under study: every clock but
    /// node 0's runs at a quarter speed until some node leads, so node 0 times out first,
    /// alone, whatever the range. Then waits until `settled_at` with the leader in place.
    pub fn bootstrap(&mut self, settled_at: Nanos) -> Option<NodeId> {
        let others: Vec<NodeId> = self
            .sim
            .members()
            .iter()
            .copied()
            .filter(|&id| id != NodeId(0))
            .collect();
        for &id in &others {
            self.sim.set_clock_rate(id, 0.25);
        }
        let limit = self.now() + 20_000 * MS;
        let elected = self.run_until_status(MS, limit, |s| leader_of(s).is_some());
        for &id in &others {
            self.sim.set_clock_rate(id, 1.0);
        }
        elected?;
        self.run_until(settled_at.max(self.now()));
        leader_of(&self.statuses())
    }

    /// Messages and bytes sent so far by every node.
    pub fn traffic(&self) -> (u64, u64) {
        self.sim.members().iter().fold((0, 0), |(m, b), &id| {
            let s = self.sim.stats(id);
            (m + s.msgs_sent, b + s.bytes_sent)
        })
    }

    /// Ends the run through [`sim::conclude`] and checks it.
    pub fn conclude(self) -> Checked {
        let out = sim::conclude(self.sim, self.driver, &self.scenario, self.seed);
        Checked::of(&out)
    }
}

/// Whether a run passed the invariants and the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    pub invariants_ok: bool,
    /// `None` when the checker ran out of budget.
    pub linearizable: Option<bool>,
}

impl Checked {
    pub fn of(out: &RunOutput) -> Checked {
        Checked {
            invariants_ok: out.violation_count == 0,
            linearizable: check_history(&out.history).linearizable,
        }
    }

    pub fn ok(&self) -> bool {
        self.invariants_ok && self.linearizable == Some(true)
    }
}

/// A short scenario text with the given body, parsed (the experiments build theirs in code).
pub(crate) fn scenario(name: &str, body: &str) -> Scenario {
    Scenario::parse(&format!("name = \"{name}\"\n{body}"), name)
        .unwrap_or_else(|e| panic!("experiment scenario {name} is invalid: {e}"))
}

/// Quantile `q` of sorted `xs` (nearest rank).
pub(crate) fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let i = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1;
    xs[i]
}
