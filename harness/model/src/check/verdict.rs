//! The checker's verdict on a run's history, in the shape `summary.json` stores.

use crate::check::jepsen;
use crate::check::linearizability::{self, Budget, Linearizability, Progress};
use crate::history::{Event, HistoryError, Operation, pair};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The verdict of the linearizability checker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckSummary {
    /// None when the checker gave up within its budget: unknown, never a pass.
    pub linearizable: Option<bool>,
    pub operations: u64,
    pub keys: u64,
    /// For a violation: the key and the operations that cannot be ordered.
    pub counterexample: Option<String>,
    /// For an unknown verdict: "search budget exhausted on key K after N states (...)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

impl CheckSummary {
    /// The verdict in a few words: "linearizable", "NOT linearizable", or "unknown: ...".
    pub fn verdict(&self) -> String {
        match self.linearizable {
            Some(true) => "linearizable".into(),
            Some(false) => "NOT linearizable".into(),
            None => format!(
                "unknown: {}",
                self.unknown.as_deref().unwrap_or("the checker's budget ran out")
            ),
        }
    }
}

/// Search steps per key before the checker answers "unknown". A step budget, not a time
/// budget, keeps `summary.json` a pure function of (scenario, protocol, seed). About ten
/// seconds of search on one core.
pub const STEPS_PER_KEY: u64 = 10_000_000;

/// Distinct search states per key before the checker answers "unknown": the memo keeps one
/// entry per state, so this bounds memory (a few hundred MB).
pub const STATES_PER_KEY: u64 = 4_000_000;

/// The budget every run's history is checked with: deterministic, so that a run's verdict is
/// a pure function of its history.
pub fn run_budget() -> Budget {
    Budget {
        steps_per_key: Some(STEPS_PER_KEY),
        states_per_key: Some(STATES_PER_KEY),
        ..Budget::default()
    }
}

/// Checks the history of a run of the workbench's own. Its clients wrote it, so a history
/// that does not pair is the harness's fault: an error, never a verdict on the protocol.
pub fn check_run_history(events: &[Event]) -> Result<CheckSummary, HistoryError> {
    let ops = pair(events, "history")?;
    Ok(check_operations(&ops))
}

/// Pairs the history's events and checks them for linearizability. A history that does not
/// pair gets no verdict (unknown, saying why); [`check_run_history`] makes that an error.
pub fn check_history(events: &[Event]) -> CheckSummary {
    match check_run_history(events) {
        Ok(summary) => summary,
        Err(e) => CheckSummary {
            linearizable: None,
            operations: 0,
            keys: 0,
            counterexample: None,
            unknown: Some(format!("the history is malformed (a harness error): {e}")),
        },
    }
}

/// Checks paired operations with the deterministic budget of every run.
pub fn check_operations(ops: &[Operation]) -> CheckSummary {
    check_operations_reporting(ops, &run_budget(), &mut |_| {})
}

/// Checks paired operations within `budget`, telling `progress` where it stands.
pub fn check_operations_reporting(
    ops: &[Operation],
    budget: &Budget,
    progress: &mut dyn FnMut(&Progress),
) -> CheckSummary {
    let verdict = linearizability::check_reporting(ops, budget, progress);
    let counterexample = if verdict.violations.is_empty() {
        None
    } else {
        Some(
            verdict
                .violations
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    CheckSummary {
        linearizable: match verdict.result {
            Linearizability::Linearizable => Some(true),
            Linearizability::NotLinearizable => Some(false),
            Linearizability::Unknown => None,
        },
        operations: verdict.operations as u64,
        keys: verdict.keys.len() as u64,
        counterexample,
        unknown: match verdict.result {
            Linearizability::Unknown => verdict.unknown_reason(),
            _ => None,
        },
    }
}

/// Reads a Jepsen register log (the etcd corpus format) and checks it.
pub fn check_jepsen_log(path: &Path) -> Result<CheckSummary, HistoryError> {
    let ops = jepsen::read_log(path)?;
    Ok(check_operations(&ops))
}
