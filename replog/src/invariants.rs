//! The invariants of a replicated log, checked as commits and status changes happen (so a
//! violation is reported at the step that caused it, with its time). One module for every
//! host: the simulator and the live runner record violations for the report; the test
//! cluster ([`crate::testkit`]) panics at the first one.
//!
//! | invariant | source |
//! | --- | --- |
//! | agreement: one command per index across all nodes and boots | Raft §5.4 (State Machine Safety); Paxos Made Simple §2 (only one value chosen) |
//! | commit order: each node commits 1, 2, 3, ... once per boot | the `ReplicatedLog` contract |
//! | election safety: at most one leader per epoch (term / ballot) | Raft Figure 3 |
//! | durability: every command a client saw acknowledged is in the committed sequence | linearizability of acknowledged writes |
//! | convergence: nodes at the same commit index hold the same state | state machine replication |
//! | the protocols' own assertions (e.g. a chosen value never changes) | each crate's invariants |

use crate::command::CmdId;
use crate::log::{Role, Status};
use crate::types::{Epoch, LogIndex, Nanos, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Which invariant broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvariantKind {
    Agreement,
    CommitOrder,
    ElectionSafety,
    LostAcknowledged,
    Convergence,
    /// An invariant asserted inside the protocol itself failed (the protocol panicked); the
    /// simulation stopped at that step.
    ProtocolAssertion,
}

impl fmt::Display for InvariantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvariantKind::Agreement => "agreement violated",
            InvariantKind::CommitOrder => "commit order violated",
            InvariantKind::ElectionSafety => "election safety violated",
            InvariantKind::LostAcknowledged => "acknowledged command lost",
            InvariantKind::Convergence => "convergence violated",
            InvariantKind::ProtocolAssertion => "protocol assertion failed",
        })
    }
}

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub time_ns: Nanos,
    pub kind: InvariantKind,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {} ns: {}", self.kind, self.time_ns, self.detail)
    }
}

/// Most violations kept per run; the count is exact beyond it.
const MAX_KEPT: usize = 50;

/// The running checks.
#[derive(Clone, Debug)]
pub struct Invariants {
    /// The command first committed at each index (index i at position i-1).
    chosen: Vec<CmdId>,
    next_index: Vec<LogIndex>,
    leaders: BTreeMap<Epoch, NodeId>,
    acknowledged: Vec<(Nanos, CmdId)>,
    violations: Vec<Violation>,
    violation_count: usize,
    leader_elections: u64,
}

impl Invariants {
    pub fn new(nodes: usize) -> Self {
        Invariants {
            chosen: Vec::new(),
            next_index: vec![1; nodes],
            leaders: BTreeMap::new(),
            acknowledged: Vec::new(),
            violations: Vec::new(),
            violation_count: 0,
            leader_elections: 0,
        }
    }

    /// The protocol's own invariant assertion failed with `message`.
    pub fn on_protocol_panic(&mut self, time_ns: Nanos, message: String) {
        self.violate(time_ns, InvariantKind::ProtocolAssertion, message);
    }

    fn violate(&mut self, time_ns: Nanos, kind: InvariantKind, detail: String) {
        self.violation_count += 1;
        if self.violations.len() < MAX_KEPT {
            tracing::debug!(?kind, %detail, "invariant violated");
            self.violations.push(Violation {
                time_ns,
                kind,
                detail,
            });
        }
    }

    /// A node (re)booted: its commits start again at index 1.
    pub fn on_boot(&mut self, node: NodeId) {
        self.next_index[node.index()] = 1;
    }

    /// `node` committed `cmd` at `index`.
    pub fn on_commit(&mut self, time: Nanos, node: NodeId, index: LogIndex, cmd: CmdId) {
        let expected = self.next_index[node.index()];
        if index != expected {
            self.violate(
                time,
                InvariantKind::CommitOrder,
                format!("{node} committed index {index}, expected {expected}"),
            );
        }
        self.next_index[node.index()] = index + 1;
        let pos = (index - 1) as usize;
        match self.chosen.get(pos) {
            Some(&first) if first != cmd => self.violate(
                time,
                InvariantKind::Agreement,
                format!("{node} committed {cmd:?} at index {index}, where {first:?} was committed before"),
            ),
            Some(_) => {}
            None if pos == self.chosen.len() => self.chosen.push(cmd),
            None => self.violate(
                time,
                InvariantKind::CommitOrder,
                format!(
                    "{node} committed index {index} before any node committed index {}",
                    self.chosen.len() + 1
                ),
            ),
        }
    }

    /// A node's status changed.
    pub fn on_status(&mut self, time: Nanos, status: &Status) {
        if status.role != Role::Leader {
            return;
        }
        match self.leaders.get(&status.epoch) {
            Some(&first) if first != status.id => self.violate(
                time,
                InvariantKind::ElectionSafety,
                format!("{} and {first} both lead epoch {}", status.id, status.epoch),
            ),
            Some(_) => {}
            None => {
                self.leaders.insert(status.epoch, status.id);
                self.leader_elections += 1;
            }
        }
    }

    /// A client received an acknowledgement for `cmd`.
    pub fn on_acknowledged(&mut self, time: Nanos, cmd: CmdId) {
        self.acknowledged.push((time, cmd));
    }

    /// End-of-run checks: every acknowledged command is committed, and nodes that committed
    /// equally far hold equal state. `nodes` lists each live node's commit index and state
    /// machine digest ([`crate::KvStore::digest`]).
    pub fn finish(&mut self, time: Nanos, nodes: &[(NodeId, LogIndex, u64)]) {
        // Both sides sorted and merged: a tree or a binary search per acknowledgement missed
        // the cache at every level, for a committed sequence of millions.
        let mut committed: Vec<(u64, u64)> = Vec::with_capacity(self.chosen.len());
        let mut noop_committed = false;
        for c in &self.chosen {
            match *c {
                CmdId::Client { client, seq } => committed.push((client, seq)),
                CmdId::Noop => noop_committed = true,
            }
        }
        committed.sort_unstable();
        let mut acked: Vec<(u64, u64, usize)> = Vec::with_capacity(self.acknowledged.len());
        let mut lost_at: Vec<usize> = Vec::new();
        for (i, (_, c)) in self.acknowledged.iter().enumerate() {
            match *c {
                CmdId::Client { client, seq } => acked.push((client, seq, i)),
                CmdId::Noop if !noop_committed => lost_at.push(i),
                CmdId::Noop => {}
            }
        }
        acked.sort_unstable();
        let mut next = 0;
        for &(client, seq, i) in &acked {
            while committed.get(next).is_some_and(|&c| c < (client, seq)) {
                next += 1;
            }
            if committed.get(next) != Some(&(client, seq)) {
                lost_at.push(i);
            }
        }
        // Reported in the order they were acknowledged.
        lost_at.sort_unstable();
        let lost: Vec<(Nanos, CmdId)> = lost_at.into_iter().map(|i| self.acknowledged[i]).collect();
        for (acked_at, cmd) in lost {
            self.violate(
                time,
                InvariantKind::LostAcknowledged,
                format!("{cmd:?} was acknowledged at {acked_at} ns but is not in the committed sequence"),
            );
        }
        let mut by_index: BTreeMap<LogIndex, (NodeId, u64)> = BTreeMap::new();
        for &(node, index, digest) in nodes {
            match by_index.get(&index) {
                Some(&(other, other_digest)) if other_digest != digest => self.violate(
                    time,
                    InvariantKind::Convergence,
                    format!("{node} and {other} both committed up to {index} but hold different states"),
                ),
                Some(_) => {}
                None => {
                    by_index.insert(index, (node, digest));
                }
            }
        }
    }

    /// The committed sequence as first seen.
    pub fn chosen(&self) -> &[CmdId] {
        &self.chosen
    }

    /// Violations kept (at most 50).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// How many violations happened in all.
    pub fn violation_count(&self) -> usize {
        self.violation_count
    }

    /// Distinct (epoch, leader) pairs seen.
    pub fn leader_elections(&self) -> u64 {
        self.leader_elections
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(seq: u64) -> CmdId {
        CmdId::Client { client: 1, seq }
    }

    #[test]
    fn two_commands_at_one_index_break_agreement() {
        let mut inv = Invariants::new(2);
        inv.on_commit(1, NodeId(0), 1, cmd(1));
        inv.on_commit(2, NodeId(1), 1, cmd(2));
        assert_eq!(inv.violations()[0].kind, InvariantKind::Agreement);
    }

    #[test]
    fn a_skipped_index_breaks_commit_order() {
        let mut inv = Invariants::new(1);
        inv.on_commit(1, NodeId(0), 1, cmd(1));
        inv.on_commit(2, NodeId(0), 3, cmd(3));
        assert_eq!(inv.violations()[0].kind, InvariantKind::CommitOrder);
    }

    #[test]
    fn a_restarted_node_may_commit_from_one_again() {
        let mut inv = Invariants::new(1);
        inv.on_commit(1, NodeId(0), 1, cmd(1));
        inv.on_boot(NodeId(0));
        inv.on_commit(2, NodeId(0), 1, cmd(1));
        assert!(inv.violations().is_empty());
    }

    #[test]
    fn two_leaders_in_one_term_break_election_safety() {
        let mut inv = Invariants::new(2);
        let leader = |id| Status {
            id: NodeId(id),
            role: Role::Leader,
            leader_hint: Some(NodeId(id)),
            epoch: Epoch::term(3),
            commit_index: 0,
            last_index: 0,
        };
        inv.on_status(1, &leader(0));
        inv.on_status(2, &leader(1));
        assert_eq!(inv.violations()[0].kind, InvariantKind::ElectionSafety);
    }

    #[test]
    fn lost_commands_are_reported_in_acknowledgement_order() {
        let mut inv = Invariants::new(1);
        for (i, seq) in [2, 4, 6].into_iter().enumerate() {
            inv.on_commit(1, NodeId(0), i as u64 + 1, cmd(seq));
        }
        for (t, seq) in [(1, 9), (2, 4), (3, 5), (4, 9), (5, 2), (6, 1)] {
            inv.on_acknowledged(t, cmd(seq));
        }
        inv.finish(10, &[]);
        let lost: Vec<&str> = inv.violations().iter().map(|v| v.detail.as_str()).collect();
        assert_eq!(lost.len(), 4, "{lost:?}");
        for (detail, (seq, at)) in lost.iter().zip([(9, 1), (5, 3), (9, 4), (1, 6)]) {
            assert!(
                detail.contains(&format!("seq: {seq} ")) && detail.contains(&format!("at {at} ns")),
                "{detail}"
            );
        }
    }

    #[test]
    fn an_acknowledged_command_missing_at_the_end_is_lost() {
        let mut inv = Invariants::new(1);
        inv.on_acknowledged(5, cmd(9));
        inv.finish(10, &[]);
        assert_eq!(inv.violations()[0].kind, InvariantKind::LostAcknowledged);
    }
}
