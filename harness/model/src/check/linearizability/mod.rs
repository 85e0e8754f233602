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
//! The verdict is deterministic given a budget of steps and states; a time budget trades that
//! away. A key whose search exceeds its budget is *unknown*, never a pass.

mod minimize;
mod model;
mod search;
mod witness;

pub use search::Exhausted;
pub use witness::{CONTEXT_PER_VALUE, Counterexample, WitnessOp};

use crate::history::Operation;
use model::Steps;
use replog::fxhash::FxHashMap;
use search::{Effort, Found, Limits, search_reporting};
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
    /// For an unknown key: the limit the search ran into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted: Option<Exhausted>,
    /// Not serialized, like [`Verdict::elapsed`].
    #[serde(skip)]
    pub elapsed: Duration,
}

/// How much checking may spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most search steps per key; the verdict stays deterministic.
    pub steps_per_key: Option<u64>,
    /// Most distinct states per key (the memo keeps one entry per state, so this bounds
    /// memory); deterministic too.
    pub states_per_key: Option<u64>,
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
            states_per_key: None,
            time: None,
            shrink_steps: 5_000_000,
        }
    }
}

/// Where a check stands, for progress bars: given before each key and every
/// 2^20 search steps within one.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    /// The key being checked.
    pub key: &'a str,
    /// Keys and operations checked before this key.
    pub keys_done: usize,
    pub operations_done: usize,
    /// The whole history's keys and operations.
    pub keys: usize,
    pub operations: usize,
    /// This key's operations, and the search's effort on it so far.
    pub key_operations: usize,
    pub steps: u64,
    pub states: u64,
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        self.result == Linearizability::Linearizable
    }

    /// For an unknown verdict, why: "search budget exhausted on key K after N states (...)",
    /// for the first key that ran out.
    pub fn unknown_reason(&self) -> Option<String> {
        let key = self.keys.iter().find(|k| k.result == Linearizability::Unknown)?;
        Some(key.unknown_reason())
    }
}

impl KeyStats {
    /// Why this key is unknown, naming the limit it ran into.
    pub fn unknown_reason(&self) -> String {
        let limit = match self.exhausted {
            Some(Exhausted::Steps) => "its step limit",
            Some(Exhausted::States) => "its state limit",
            Some(Exhausted::Time) => "the time limit",
            None => "its budget",
        };
        format!(
            "search budget exhausted on key {:?} after {} states ({} steps, {limit})",
            self.key, self.states_explored, self.steps
        )
    }
}

/// Checks a history with no limit on the search (see [`check_within`]).
pub fn check(ops: &[Operation]) -> Verdict {
    check_within(ops, &Budget::default())
}

/// Checks a history key by key; a key whose search exceeds the budget is `Unknown`.
pub fn check_within(ops: &[Operation], budget: &Budget) -> Verdict {
    check_reporting(ops, budget, &mut |_| {})
}

/// [`check_within`], telling `progress` where it stands (see [`Progress`]).
pub fn check_reporting(ops: &[Operation], budget: &Budget, progress: &mut dyn FnMut(&Progress)) -> Verdict {
    check_with(ops, budget, true, progress)
}

/// The general search alone, without chaining unique values: for cross-checking the two.
#[cfg(test)]
pub(crate) fn check_general(ops: &[Operation]) -> Verdict {
    check_with(ops, &Budget::default(), false, &mut |_| {})
}

fn check_with(
    ops: &[Operation],
    budget: &Budget,
    chaining: bool,
    progress: &mut dyn FnMut(&Progress),
) -> Verdict {
    let started = Instant::now();
    let limits = Limits {
        max_steps: budget.steps_per_key.unwrap_or(u64::MAX),
        max_states: budget.states_per_key.unwrap_or(u64::MAX),
        deadline: budget.time.map(|t| started + t),
        chaining,
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
    let mut operations_done = 0;
    for (keys_done, g) in by_key.into_iter().enumerate() {
        let (key, indices) = &groups[g];
        let key_started = Instant::now();
        let at = |effort: &Effort| Progress {
            key,
            keys_done,
            operations_done,
            keys: groups.len(),
            operations: ops.len(),
            key_operations: indices.len(),
            steps: effort.steps,
            states: effort.states,
        };
        progress(&at(&Effort::default()));
        let (found, effort) = search_reporting(&steps.prepare(ops, g, indices), &limits, &mut |effort| {
            progress(&at(effort))
        });
        operations_done += indices.len();
        keys.push(KeyStats {
            key: key.to_string(),
            result: match found {
                Found::Linearizable => Linearizability::Linearizable,
                Found::Counterexample { .. } => Linearizability::NotLinearizable,
                Found::GaveUp(_) => Linearizability::Unknown,
            },
            operations: indices.len(),
            steps: effort.steps,
            states_explored: effort.states,
            exhausted: match found {
                Found::GaveUp(limit) => Some(limit),
                _ => None,
            },
            elapsed: key_started.elapsed(),
        });
        if let Found::Counterexample { blocked_at } = found {
            let key_ops: Vec<&Operation> = indices.iter().map(|&i| &ops[i]).collect();
            let shrunk = minimize::shrink(&key_ops, blocked_at, effort.steps, &mut shrink_budget, &limits);
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
                format!(
                    "unknown: {} ({} keys ran out of budget)",
                    self.unknown_reason().unwrap_or_default(),
                    unknown.count()
                )
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
