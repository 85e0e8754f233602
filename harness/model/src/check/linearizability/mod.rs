//! Linearizability checking of key-value histories (Herlihy & Wing 1990).
//!
//! Each key is an independent register with read, write and cas, and linearizability is
//! *local* (P-compositional): a history is linearizable exactly when each key's subhistory
//! is. So keys are checked separately, in key order, each by the just-in-time linearization
//! search of Wing & Gong (1993) with the memoization of Lowe ("Testing for linearizability",
//! 2017), the algorithm Porcupine implements.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `model.rs` | the register's specification; a key's operations turned into search steps |
//! | `search.rs` | the just-in-time search over (linearized set, state) |
//! | `minimize.rs` | shrinking a violation to a small witness |
//! | `witness.rs` | the witness and its timeline |
//!
//! Semantics of outcomes (see [`crate::history`]): `ok` took effect within its interval;
//! `fail` did not (a failed cas still observes that the register did not hold `expected`);
//! `info`, or no completion, may have taken effect at any time after its invocation, or
//! never. Values need not be unique, but unique values (as the workbench writes) keep the
//! search small.
//!
//! The verdict is deterministic given a step budget; a time budget trades that away.

mod minimize;
mod model;
mod search;
mod witness;

pub use witness::{CONTEXT_PER_VALUE, Counterexample, WitnessOp};

use crate::history::Operation;
use model::Steps;
use replog::fxhash::FxHashMap;
use search::{Found, Limits, search};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, Instant};

/// Whether a history (or one key of it) is linearizable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Linearizability {
    Linearizable,
    NotLinearizable,
    /// The budget ran out before the search decided.
    Unknown,
}

/// The checker's verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// `NotLinearizable` if any key is; else `Unknown` if any key is; else `Linearizable`.
    pub result: Linearizability,
    pub operations: usize,
    /// One entry per key, in key order.
    pub keys: Vec<KeyStats>,
    /// One per key that is not linearizable, in key order.
    pub violations: Vec<Counterexample>,
    /// Wall time of the whole check. Not serialized: `summary.json` must be a pure function
    /// of (scenario, protocol, seed).
    #[serde(skip)]
    pub elapsed: Duration,
}

/// What checking one key found and cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStats {
    pub key: String,
    pub result: Linearizability,
    pub operations: usize,
    /// Candidates the search tried.
    pub steps: u64,
    /// Distinct (linearized set, register state) pairs it reached.
    pub states_explored: u64,
    /// Not serialized, like [`Verdict::elapsed`].
    #[serde(skip)]
    pub elapsed: Duration,
}

/// How much checking may spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most search steps per key; the verdict stays deterministic.
    pub steps_per_key: Option<u64>,
    /// Wall time for the whole check; the verdict then depends on the machine.
    pub time: Option<Duration>,
    /// Search steps spent shrinking violations, shared by the keys in key order.
    pub shrink_steps: u64,
}

impl Default for Budget {
    /// Unlimited search; a few seconds' worth of shrinking (a step takes about a microsecond).
    fn default() -> Self {
        Budget {
            steps_per_key: None,
            time: None,
            shrink_steps: 5_000_000,
        }
    }
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        self.result == Linearizability::Linearizable
    }
}

/// Checks a history with no limit on the search (see [`check_within`]).
pub fn check(ops: &[Operation]) -> Verdict {
    check_within(ops, &Budget::default())
}

/// Checks a history key by key; a key whose search exceeds the budget is `Unknown`.
pub fn check_within(ops: &[Operation], budget: &Budget) -> Verdict {
    let started = Instant::now();
    let deadline = budget.time.map(|t| started + t);
    let limits = Limits {
        max_steps: budget.steps_per_key.unwrap_or(u64::MAX),
        deadline,
    };
    // Group by key with a hash map (few keys, millions of operations), then order the keys.
    let mut group_of_key: FxHashMap<&str, u32> = FxHashMap::default();
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut key_of: Vec<u32> = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let g = *group_of_key.entry(&*op.key).or_insert_with(|| {
            groups.push((&*op.key, Vec::new()));
            groups.len() as u32 - 1
        });
        groups[g as usize].1.push(i);
        key_of.push(g);
    }
    let steps = Steps::of(ops, &key_of, groups.len());
    let mut by_key: Vec<usize> = (0..groups.len()).collect();
    by_key.sort_unstable_by_key(|&g| groups[g].0);

    let mut keys = Vec::with_capacity(by_key.len());
    let mut violations = Vec::new();
    let mut shrink_budget = budget.shrink_steps;
    for g in by_key {
        let (key, indices) = &groups[g];
        let key_started = Instant::now();
        let (found, effort) = search(&steps.prepare(ops, g, indices), &limits);
        keys.push(KeyStats {
            key: key.to_string(),
            result: match found {
                Found::Linearizable => Linearizability::Linearizable,
                Found::Counterexample { .. } => Linearizability::NotLinearizable,
                Found::GaveUp => Linearizability::Unknown,
            },
            operations: indices.len(),
            steps: effort.steps,
            states_explored: effort.states,
            elapsed: key_started.elapsed(),
        });
        if let Found::Counterexample { blocked_at } = found {
            let key_ops: Vec<&Operation> = indices.iter().map(|&i| &ops[i]).collect();
            let shrunk = minimize::shrink(&key_ops, blocked_at, effort.steps, &mut shrink_budget, deadline);
            let witness_op = |i: usize, relaxed| WitnessOp::new(indices[i], key_ops[i], relaxed);
            violations.push(Counterexample {
                key: key.to_string(),
                ops: shrunk
                    .members
                    .iter()
                    .map(|&(i, relaxed)| witness_op(i, relaxed))
                    .collect(),
                minimal: shrunk.minimal,
                context: witness::context(&key_ops, &shrunk.members)
                    .into_iter()
                    .map(|i| witness_op(i, false))
                    .collect(),
            });
        }
    }

    let result = if !violations.is_empty() {
        Linearizability::NotLinearizable
    } else if keys.iter().any(|k| k.result == Linearizability::Unknown) {
        Linearizability::Unknown
    } else {
        Linearizability::Linearizable
    };
    Verdict {
        result,
        operations: ops.len(),
        keys,
        violations,
        elapsed: started.elapsed(),
    }
}

impl fmt::Display for Verdict {
    /// One summary line, then each violation's timeline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let states: u64 = self.keys.iter().map(|k| k.states_explored).sum();
        let verdict = match self.result {
            Linearizability::Linearizable => "linearizable".to_string(),
            Linearizability::NotLinearizable => {
                format!(
                    "NOT linearizable ({} of {} keys)",
                    self.violations.len(),
                    self.keys.len()
                )
            }
            Linearizability::Unknown => {
                let unknown = self.keys.iter().filter(|k| k.result == Linearizability::Unknown);
                format!("unknown ({} keys ran out of budget)", unknown.count())
            }
        };
        writeln!(
            f,
            "{verdict}: {} operations, {} keys, {states} states explored",
            self.operations,
            self.keys.len()
        )?;
        for v in &self.violations {
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
