//! What a run produced, whatever ran it: the records the metrics, the checker and the reports
//! read. The simulator and the live runtime both fill a [`RunOutput`].

use crate::faults::FaultRecord;
use crate::history::Event;
use crate::protocol::Protocol;
use crate::workload::OpRecord;
use replog::invariants::{Invariants, Violation};
use replog::{CmdId, LogIndex, Nanos, Status};
use serde::{Deserialize, Serialize};

/// Which backend ran a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The deterministic simulator (virtual time).
    Sim,
    /// Real processes over TCP (wall-clock time).
    Live,
}

/// Per-node traffic and work counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStats {
    pub msgs_sent: u64,
    pub bytes_sent: u64,
    pub msgs_received: u64,
    pub msgs_dropped: u64,
    pub fsyncs: u64,
    pub crashes: u64,
    pub busy_ns: Nanos,
}

impl NodeStats {
    /// These counters plus `other`'s (a node's earlier incarnations and its current one).
    pub fn plus(&self, other: &NodeStats) -> NodeStats {
        NodeStats {
            msgs_sent: self.msgs_sent + other.msgs_sent,
            bytes_sent: self.bytes_sent + other.bytes_sent,
            msgs_received: self.msgs_received + other.msgs_received,
            msgs_dropped: self.msgs_dropped + other.msgs_dropped,
            fsyncs: self.fsyncs + other.fsyncs,
            crashes: self.crashes + other.crashes,
            busy_ns: self.busy_ns + other.busy_ns,
        }
    }
}

/// A node's role or epoch changed (for leader-change and election metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub time: Nanos,
    pub status: Status,
    /// False when the change is the node going down.
    pub up: bool,
}

/// Everything a run produced; metrics and reports are computed from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunOutput {
    pub scenario: String,
    pub protocol: Protocol,
    pub backend: BackendKind,
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
    protocol: Protocol,
    backend: BackendKind,
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
            protocol: self.protocol,
            backend: self.backend,
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

/// Whether every node is up and ended at the same commit index.
pub fn converged(commit_index_per_node: &[Option<LogIndex>]) -> bool {
    commit_index_per_node
        .iter()
        .all(|c| c.is_some() && *c == commit_index_per_node[0])
}

/// The committed sequence's length and how many of its entries are client commands.
pub fn committed_counts(invariants: &Invariants) -> (u64, u64) {
    let chosen = invariants.chosen();
    let commands = chosen
        .iter()
        .filter(|c| matches!(c, CmdId::Client { .. }))
        .count();
    (chosen.len() as u64, commands as u64)
}
