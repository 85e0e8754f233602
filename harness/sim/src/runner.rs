//! Running one scenario for one protocol in the simulator: the simulator as the
//! [`Backend`] of the scenario's [`ScenarioDriver`], then a settle phase (every fault healed,
//! no new operations) and the end-of-run invariants.

use crate::blame::{self, HarnessError};
use crate::trace::TraceKind;
use crate::{Driver, SimConfig, Simulation};
use model::driver::{Backend, ScenarioDriver};
use model::faults::{FaultRecord, FaultTarget};
use model::protocol::{NotSimulated, Protocol};
use model::run::{self, BackendKind, RunOutput};
use model::scenario::{Dist, Scenario};
use model::timer::TimerToken;
use model::workload::ClientReply;
use replog::command::ClientCommand;
use replog::invariants::Invariants;
use replog::{ClientId, CmdId, LogIndex, Nanos, NodeId, ReplicatedLog, Status};
use thiserror::Error;

/// Knobs of one run that are not part of the scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep a readable event log of up to this many bytes.
    pub trace_log_bytes: usize,
}

/// The simulator as a fault target: faults act on its nodes and network directly.
impl<L: ReplicatedLog> FaultTarget for Simulation<L> {
    fn node_count(&self) -> usize {
        self.members().len()
    }
    fn statuses(&mut self) -> Vec<Option<Status>> {
        Simulation::statuses(self)
    }
    fn paused(&mut self) -> Vec<bool> {
        self.members().iter().map(|&id| self.is_paused(id)).collect()
    }
    fn crash(&mut self, node: NodeId) {
        Simulation::crash(self, node)
    }
    fn restart(&mut self, node: NodeId) {
        Simulation::restart(self, node)
    }
    fn pause(&mut self, node: NodeId) {
        Simulation::pause(self, node)
    }
    fn resume(&mut self, node: NodeId) {
        Simulation::resume(self, node)
    }
    fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        self.network_mut().set_blocked(from, to, blocked)
    }
    fn heal_links(&mut self) {
        self.network_mut().heal()
    }
    fn set_loss(&mut self, from: NodeId, to: NodeId, p: f64) {
        self.network_mut().set_loss(from, to, p)
    }
    fn set_extra_delay(&mut self, from: NodeId, to: NodeId, extra: Nanos) {
        self.network_mut().set_extra_delay(from, to, extra)
    }
    fn set_duplicate(&mut self, p: f64) {
        self.network_mut().set_duplicate(p)
    }
    fn set_clock_rate(&mut self, node: NodeId, rate: f64) {
        Simulation::set_clock_rate(self, node, rate)
    }
    fn set_fsync(&mut self, node: NodeId, fsync: Option<Dist>) {
        Simulation::set_fsync(self, node, fsync)
    }
}

/// The simulator as the backend of a scenario's driver.
impl<L: ReplicatedLog> Backend for Simulation<L> {
    fn now(&self) -> Nanos {
        Simulation::now(self)
    }
    fn send_request(&mut self, node: NodeId, cmd: ClientCommand) {
        Simulation::send_request(self, node, cmd)
    }
    fn set_timer(&mut self, at: Nanos, token: TimerToken) {
        Simulation::set_timer(self, at, token)
    }
    fn acknowledged(&mut self, cmd: CmdId) {
        let now = Simulation::now(self);
        self.invariants.on_acknowledged(now, cmd);
    }
    fn fault_applied(&mut self, index: Option<usize>, record: &mut FaultRecord) {
        if let Some(index) = index {
            self.note(format_args!("fault: {}", record.label));
            self.trace_record(
                TraceKind::Fault,
                index as u64,
                record.nodes.len() as u64,
                record.applied as u64,
            );
        }
    }
}

impl<L: ReplicatedLog> Driver<L> for ScenarioDriver {
    fn on_reply(&mut self, sim: &mut Simulation<L>, client: ClientId, reply: ClientReply) {
        ScenarioDriver::on_reply(self, sim, client, &reply);
    }

    fn on_timer(&mut self, sim: &mut Simulation<L>, token: TimerToken) {
        ScenarioDriver::on_timer(self, sim, token);
    }
}

/// Runs `scenario` with protocol `L` in the simulator.
pub fn run_sim<L: ReplicatedLog>(scenario: &Scenario, opts: &RunOptions) -> RunOutput {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let mut cfg = SimConfig::for_scenario(scenario, seed);
    cfg.trace_log_bytes = opts.trace_log_bytes;
    let mut sim = Simulation::<L>::new(cfg);
    let mut driver = ScenarioDriver::start(&mut sim, scenario, seed, scenario.fault_schedule(seed));
    sim.run_until(scenario.duration.0, &mut driver);
    conclude(sim, driver, scenario, seed)
}

/// Ends a run whose clients have been issuing operations until now: stops them, heals every
/// fault, lets the cluster settle for the scenario's `settle`, and gathers the output with the
/// end-of-run invariants. Experiments and tests that steer a run step by step (or wrap the
/// driver) end it here too, so their runs are checked like any other.
pub fn conclude<L: ReplicatedLog, D: Driver<L> + AsMut<ScenarioDriver>>(
    mut sim: Simulation<L>,
    mut driver: D,
    scenario: &Scenario,
    seed: u64,
) -> RunOutput {
    let duration = sim.now();
    driver.as_mut().stop(&mut sim);
    let end = duration + scenario.settle.0;
    sim.run_until(end, &mut driver);
    let records = driver.as_mut().finish(end);

    let members = sim.members().to_vec();
    let statuses = sim.final_statuses();
    // Taken, not cloned: the committed sequence has an entry per command.
    let mut invariants = std::mem::replace(&mut sim.invariants, Invariants::new(0));
    let live: Vec<(NodeId, LogIndex, u64)> = members
        .iter()
        .zip(&statuses)
        .filter_map(|(&id, s)| s.map(|s| (id, s.commit_index, sim.kv(id).digest())))
        .collect();
    let commit_index_per_node: Vec<Option<LogIndex>> = statuses
        .iter()
        .map(|s| s.map(|s: Status| s.commit_index))
        .collect();
    invariants.finish(end, &live);
    let (committed_entries, committed_commands) = run::committed_counts(&invariants);
    RunOutput {
        scenario: scenario.name.clone(),
        protocol: Protocol::of::<L>(),
        backend: BackendKind::Sim,
        seed,
        nodes: members.len(),
        duration_ns: duration,
        end_ns: end,
        history: records.history,
        ops: records.ops,
        faults: records.faults,
        status_log: std::mem::take(&mut sim.status_log),
        node_stats: members.iter().map(|&id| sim.stats(id).clone()).collect(),
        committed_entries,
        committed_commands,
        converged: run::converged(&commit_index_per_node),
        commit_index_per_node,
        violations: invariants.violations().to_vec(),
        violation_count: invariants.violation_count(),
        leader_elections: invariants.leader_elections(),
        trace_hash: sim.trace().hash(),
        events: sim.trace().events(),
        trace_text: sim.trace().text().map(str::to_string),
    }
}

/// A simulated run that could not be done. (A run that fails its checks is a result.)
#[derive(Debug, Error)]
pub enum SimError {
    #[error(transparent)]
    NotSimulated(#[from] NotSimulated),
    /// The harness panicked: its own bug, never the protocol's.
    #[error(transparent)]
    Harness(#[from] HarnessError),
}

/// Runs `scenario` with `protocol` in the simulator. A panic of the harness (anything but
/// protocol code, whose panics the run records as assertions) ends the run as a
/// [`HarnessError`] naming the scenario, seed and event.
pub fn run_protocol(
    protocol: Protocol,
    scenario: &Scenario,
    opts: &RunOptions,
) -> Result<RunOutput, SimError> {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let run = blame::catch(|| model::with_protocol!(protocol, L => run_sim::<L>(scenario, opts)));
    match run {
        Ok(output) => Ok(output?),
        Err(caught) => Err(SimError::Harness(HarnessError::from_panic(
            &*caught.payload,
            &scenario.name,
            protocol,
            seed,
            "setting up or ending the run",
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HarnessPanic;

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
        let out = run_protocol(Protocol::Null, &s, &RunOptions::default()).unwrap();
        assert!(out.ops.len() > 1000, "{} ops", out.ops.len());
        assert!(
            out.ops
                .iter()
                .all(|o| o.status != model::workload::OpStatus::Info)
        );
        assert_eq!(out.violation_count, 0, "{:?}", out.violations);
    }

    #[test]
    fn run_json_is_the_output_without_its_operations() {
        let s = Scenario::parse(BASELINE, "t").unwrap();
        let out = run_protocol(Protocol::Raft, &s, &RunOptions::default()).unwrap();
        assert!(!out.ops.is_empty() && !out.status_log.is_empty());
        let mut without = out.clone();
        without.ops.clear();
        assert_eq!(
            serde_json::to_value(out.run_json()).unwrap(),
            serde_json::to_value(&without).unwrap()
        );
    }

    #[test]
    fn a_harness_panic_becomes_a_harness_error_naming_scenario_seed_and_event() {
        let payload = HarnessPanic {
            at_ns: 8_000_000_000,
            event: "applying fault 3 of the schedule".into(),
            message: "index out of bounds".into(),
        };
        let e = HarnessError::from_panic(&payload, "bridge", Protocol::Raft, 7, "setting up");
        let text = e.to_string();
        assert!(
            text.starts_with("harness error (a bug of the workbench, not of raft): scenario bridge")
                && text.contains("seed 7")
                && text.contains("while applying fault 3"),
            "{text}"
        );
    }

    #[test]
    fn a_run_is_a_pure_function_of_scenario_protocol_and_seed() {
        let s = Scenario::parse(BASELINE, "t").unwrap();
        let a = run_protocol(Protocol::Null, &s, &RunOptions::default()).unwrap();
        let b = run_protocol(Protocol::Null, &s, &RunOptions::default()).unwrap();
        assert_eq!((a.trace_hash, a.history.len()), (b.trace_hash, b.history.len()));
        assert_eq!(a.history, b.history);
    }
}
