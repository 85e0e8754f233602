//! Running one scenario for one protocol in the simulator: the workload and the fault
//! schedule as a [`Driver`], then a settle phase (every fault healed, no new operations) and
//! the end-of-run invariants.

use crate::check::invariants::{Invariants, Violation};
use crate::faults::{self, FaultRecord};
use crate::history::Event;
use crate::scenario::{FaultKind, Scenario};
use crate::sim::{ClientReply, Driver, NodeStats, Simulation, StatusChange};
use crate::workload::{ClientAction, OpRecord, TOKEN_DRIVER_BASE, Workload};
use replog::{ClientId, LogIndex, Nanos, NodeId, ReplicatedLog};
use serde::{Deserialize, Serialize};

/// Knobs of one run that are not part of the scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep a readable event log of up to this many bytes.
    pub trace_log_bytes: usize,
}

/// Everything a run produced; metrics and reports are computed from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunOutput {
    pub scenario: String,
    pub protocol: String,
    pub backend: String,
    pub seed: u64,
    pub nodes: usize,
    /// When clients stopped issuing operations.
    pub duration_ns: Nanos,
    /// When the run ended (after settling).
    pub end_ns: Nanos,
    #[serde(skip)]
    pub history: Vec<Event>,
    pub ops: Vec<OpRecord>,
    pub faults: Vec<FaultRecord>,
    pub status_log: Vec<StatusChange>,
    pub node_stats: Vec<NodeStats>,
    /// Length of the committed sequence (no-ops included).
    pub committed_entries: u64,
    /// Client commands in the committed sequence.
    pub committed_commands: u64,
    /// Whether every node ended at the same commit index.
    pub converged: bool,
    pub commit_index_per_node: Vec<Option<LogIndex>>,
    pub violations: Vec<Violation>,
    pub violation_count: usize,
    pub leader_elections: u64,
    pub trace_hash: u64,
    pub events: u64,
    #[serde(skip)]
    pub trace_text: Option<String>,
}

/// A [`RunOutput`] as `run.json` stores it: every serialized field, with `ops` empty (the
/// operations go to `ops.csv`). Borrowing instead of serializing the whole output and
/// dropping its operations afterwards saves a JSON tree of a million operations. A test
/// checks it serializes exactly as the output with its operations cleared.
#[derive(Serialize)]
pub struct RunJson<'a> {
    scenario: &'a str,
    protocol: &'a str,
    backend: &'a str,
    seed: u64,
    nodes: usize,
    duration_ns: Nanos,
    end_ns: Nanos,
    ops: &'a [OpRecord],
    faults: &'a [FaultRecord],
    status_log: &'a [StatusChange],
    node_stats: &'a [NodeStats],
    committed_entries: u64,
    committed_commands: u64,
    converged: bool,
    commit_index_per_node: &'a [Option<LogIndex>],
    violations: &'a [Violation],
    violation_count: usize,
    leader_elections: u64,
    trace_hash: u64,
    events: u64,
}

impl RunOutput {
    /// What `run.json` holds (see [`RunJson`]).
    pub fn run_json(&self) -> RunJson<'_> {
        RunJson {
            scenario: &self.scenario,
            protocol: &self.protocol,
            backend: &self.backend,
            seed: self.seed,
            nodes: self.nodes,
            duration_ns: self.duration_ns,
            end_ns: self.end_ns,
            ops: &[],
            faults: &self.faults,
            status_log: &self.status_log,
            node_stats: &self.node_stats,
            committed_entries: self.committed_entries,
            committed_commands: self.committed_commands,
            converged: self.converged,
            commit_index_per_node: &self.commit_index_per_node,
            violations: &self.violations,
            violation_count: self.violation_count,
            leader_elections: self.leader_elections,
            trace_hash: self.trace_hash,
            events: self.events,
        }
    }
}

const TOKEN_FAULT: u64 = TOKEN_DRIVER_BASE;

/// The scenario's clients and fault schedule as a simulator [`Driver`]. Experiments that
/// steer a run step by step reuse it with an empty schedule.
pub(crate) struct ScenarioDriver {
    pub(crate) workload: Workload,
    schedule: Vec<crate::scenario::FaultSpec>,
    records: Vec<FaultRecord>,
    seed: u64,
    actions: Vec<ClientAction>,
}

impl ScenarioDriver {
    /// The clients of `scenario` and the fault `schedule`, armed in `sim` and started at 0.
    pub(crate) fn start<L: ReplicatedLog>(
        sim: &mut Simulation<L>,
        scenario: &Scenario,
        seed: u64,
        schedule: Vec<crate::scenario::FaultSpec>,
    ) -> Self {
        let mut driver = ScenarioDriver {
            workload: Workload::new(&scenario.workload, scenario.cluster.nodes, seed),
            schedule,
            records: Vec::new(),
            seed,
            actions: Vec::new(),
        };
        for (i, f) in driver.schedule.iter().enumerate() {
            sim.set_timer(f.at.0, TOKEN_FAULT + i as u64);
        }
        driver.workload.start(sim.now(), &mut driver.actions);
        driver.carry_out(sim);
        driver
    }

    fn carry_out<L: ReplicatedLog>(&mut self, sim: &mut Simulation<L>) {
        for action in self.actions.drain(..) {
            match action {
                ClientAction::Send { node, cmd } => sim.send_request(node, cmd),
                ClientAction::Timer { at, token } => sim.set_timer(at, token),
                ClientAction::Acknowledged(cmd) => {
                    let now = sim.now();
                    sim.invariants.on_acknowledged(now, cmd);
                }
            }
        }
    }
}

impl<L: ReplicatedLog> Driver<L> for ScenarioDriver {
    fn on_reply(&mut self, sim: &mut Simulation<L>, client: ClientId, reply: ClientReply) {
        self.workload
            .on_reply(sim.now(), client, &reply, &mut self.actions);
        self.carry_out(sim);
    }

    fn on_timer(&mut self, sim: &mut Simulation<L>, token: u64) {
        if token >= TOKEN_FAULT {
            let index = (token - TOKEN_FAULT) as usize;
            let now = sim.now();
            let record = faults::apply(sim, &self.schedule[index], index, self.seed, now);
            sim.note(format_args!("fault: {}", record.label));
            sim.trace_record(12, index as u64, record.nodes.len() as u64, record.applied as u64);
            self.records.push(record);
        } else {
            self.workload.on_timer(sim.now(), token, &mut self.actions);
            self.carry_out(sim);
        }
    }
}

/// Runs `scenario` with protocol `L` in the simulator.
pub fn run_sim<L: ReplicatedLog>(scenario: &Scenario, opts: &RunOptions) -> RunOutput {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let mut cfg = scenario.sim_config(seed);
    cfg.trace_log_bytes = opts.trace_log_bytes;
    let mut sim = Simulation::<L>::new(cfg);
    let mut driver = ScenarioDriver::start(&mut sim, scenario, seed, scenario.fault_schedule(seed));

    sim.run_until(scenario.duration.0, &mut driver);
    conclude(sim, driver, scenario, seed)
}

/// Ends a run whose clients have been issuing operations until now: stops them, heals every
/// fault, lets the cluster settle for the scenario's `settle`, and gathers the output with the
/// end-of-run invariants. Experiments that steer a run step by step end it here too, so
/// their runs are checked like any other.
pub(crate) fn conclude<L: ReplicatedLog>(
    mut sim: Simulation<L>,
    mut driver: ScenarioDriver,
    scenario: &Scenario,
    seed: u64,
) -> RunOutput {
    let duration = sim.now();
    driver.workload.stop();
    faults::heal_everything(&mut sim);
    driver.records.push(FaultRecord {
        at_ns: duration,
        kind: FaultKind::Heal,
        nodes: Vec::new(),
        label: "settle: every fault healed".into(),
        applied: true,
    });
    let end = duration + scenario.settle.0;
    sim.run_until(end, &mut driver);
    driver.workload.finish(end);

    let members = sim.members().to_vec();
    // Taken, not cloned: the committed sequence has an entry per command.
    let mut invariants = std::mem::replace(&mut sim.invariants, Invariants::new(0));
    let live: Vec<(NodeId, LogIndex, &replog::KvStore)> = members
        .iter()
        .filter_map(|&id| sim.node(id).map(|n| (id, n.status().commit_index, sim.kv(id))))
        .collect();
    let commit_index_per_node: Vec<Option<LogIndex>> = members
        .iter()
        .map(|&id| sim.node(id).map(|n| n.status().commit_index))
        .collect();
    let converged = commit_index_per_node
        .iter()
        .all(|c| *c == commit_index_per_node[0] && c.is_some());
    invariants.finish(end, &live);
    let committed_commands = invariants
        .chosen()
        .iter()
        .filter(|c| matches!(c, replog::CmdId::Client { .. }))
        .count() as u64;
    RunOutput {
        scenario: scenario.name.clone(),
        protocol: L::NAME.to_string(),
        backend: "sim".to_string(),
        seed,
        nodes: members.len(),
        duration_ns: duration,
        end_ns: end,
        history: std::mem::take(&mut driver.workload.history),
        ops: std::mem::take(&mut driver.workload.ops),
        faults: driver.records,
        status_log: std::mem::take(&mut sim.status_log),
        node_stats: members.iter().map(|&id| sim.stats(id).clone()).collect(),
        committed_entries: invariants.chosen().len() as u64,
        committed_commands,
        converged,
        commit_index_per_node,
        violations: invariants.violations().to_vec(),
        violation_count: invariants.violation_count(),
        leader_elections: invariants.leader_elections(),
        trace_hash: sim.trace().hash(),
        events: sim.trace().events(),
        trace_text: sim.trace().text().map(str::to_string),
    }
}

/// Runs `scenario` with the protocol called `protocol` ("raft", "paxos" or "null").
pub fn run_protocol(protocol: &str, scenario: &Scenario, opts: &RunOptions) -> Result<RunOutput, String> {
    crate::with_protocol!(protocol, L => run_sim::<L>(scenario, opts))
}

/// Calls `$body` with `$L` bound to the protocol type named by `$name`; `Err` for an unknown
/// name.
#[macro_export]
macro_rules! with_protocol {
    ($name:expr, $L:ident => $body:expr) => {
        match $name {
            "raft" => {
                type $L = raft::RaftNode;
                Ok($body)
            }
            "paxos" => {
                type $L = paxos::PaxosNode;
                Ok($body)
            }
            "null" => {
                type $L = replog::null::NullLog;
                Ok($body)
            }
            other => Err(format!(
                "unknown protocol {other:?}: expected raft, paxos or null"
            )),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASELINE: &str = r#"
name = "baseline"
duration = "2s"
settle = "1s"
[workload]
clients = 4
"#;

    #[test]
    fn the_null_baseline_serves_every_operation_of_a_fault_free_run() {
        let s = Scenario::parse(BASELINE, "t").unwrap();
        let out = run_protocol("null", &s, &RunOptions::default()).unwrap();
        assert!(out.ops.len() > 1000, "{} ops", out.ops.len());
        assert!(
            out.ops
                .iter()
                .all(|o| o.status != crate::workload::OpStatus::Info)
        );
        assert_eq!(out.violation_count, 0, "{:?}", out.violations);
    }

    #[test]
    fn run_json_is_the_output_without_its_operations() {
        let s = Scenario::parse(BASELINE, "t").unwrap();
        let out = run_protocol("raft", &s, &RunOptions::default()).unwrap();
        assert!(!out.ops.is_empty() && !out.status_log.is_empty());
        let mut without = out.clone();
        without.ops.clear();
        assert_eq!(
            serde_json::to_value(out.run_json()).unwrap(),
            serde_json::to_value(&without).unwrap()
        );
    }

    #[test]
    fn a_run_is_a_pure_function_of_scenario_protocol_and_seed() {
        let s = Scenario::parse(BASELINE, "t").unwrap();
        let a = run_protocol("null", &s, &RunOptions::default()).unwrap();
        let b = run_protocol("null", &s, &RunOptions::default()).unwrap();
        assert_eq!((a.trace_hash, a.history.len()), (b.trace_hash, b.history.len()));
        assert_eq!(a.history, b.history);
    }
}
