//! The checker's verdict on a run's history, in the shape `summary.json` stores.

use crate::check::jepsen;
use crate::check::linearizability::{self, Budget, Linearizability};
use crate::history::{Event, HistoryError, Operation, pair};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The verdict of the linearizability checker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckSummary {
    /// None when the checker gave up within its budget.
    pub linearizable: Option<bool>,
    pub operations: u64,
    pub keys: u64,
    /// For a violation: the key and the operations that cannot be ordered.
    pub counterexample: Option<String>,
}

/// Search steps per key before the checker answers "unknown". A step budget, not a time
/// budget, keeps `summary.json` a pure function of (scenario, protocol, seed).
pub const STEPS_PER_KEY: u64 = 50_000_000;

/// Pairs the history's events and checks them for linearizability.
pub fn check_history(events: &[Event]) -> CheckSummary {
    match pair(events, "history") {
        Ok(ops) => check_operations(&ops),
        Err(e) => CheckSummary {
            linearizable: Some(false),
            operations: 0,
            keys: 0,
            counterexample: Some(format!("malformed history: {e}")),
        },
    }
}

/// Checks paired operations with the deterministic step budget.
pub fn check_operations(ops: &[Operation]) -> CheckSummary {
    let budget = Budget {
        steps_per_key: Some(STEPS_PER_KEY),
        ..Budget::default()
    };
    let verdict = linearizability::check_within(ops, &budget);
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
    }
}

/// Reads a Jepsen register log (the etcd corpus format) and checks it.
pub fn check_jepsen_log(path: &Path) -> Result<CheckSummary, HistoryError> {
    let ops = jepsen::read_log(path)?;
    Ok(check_operations(&ops))
}
