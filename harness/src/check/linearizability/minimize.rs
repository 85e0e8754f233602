//! Shrinking a non-linearizable key to a small set of operations that still cannot be
//! linearized.
//!
//! Deleting an operation can create a violation that was not there: delete a write and a read
//! of its value becomes unexplainable. So shrinking makes only moves that any linearization of
//! the original survives, and the result is a genuine witness:
//! - an *observation* (a read, a failed cas) is removed: it constrains but changes nothing;
//! - an acknowledged *effect* (a write or applied cas) is relaxed: checked as if its outcome
//!   were unknown, which every linearization of the original still satisfies. A relaxed
//!   operation nobody can observe any more is then dropped by preparation.
//!
//! Moves are tried on chunks of halving size (delta debugging's complement step, Zeller 2002),
//! starting from the operations invoked before the search's last dead end, and finishing with
//! single operations until none can move. Removals go first, to a fixpoint, and relaxations
//! after: relaxing a write can make a read of its value necessary to pin it in time, which
//! would keep an operation that removals alone show to be superfluous. Relaxing never makes a
//! removal possible (a relaxed set admits every order the original does), so the result is
//! minimal under both moves.

use super::model::{Subject, prepare};
use super::search::{Found, Limits, search};
use crate::history::{Call, Operation, Outcome};
use std::time::Instant;

/// The shrunk set: indices into the key's operations, with whether each is relaxed.
pub(crate) struct Shrunk {
    pub members: Vec<(usize, bool)>,
    pub minimal: bool,
}

/// Shrinks `ops` (one key, not linearizable), spending at most `budget` search steps (the
/// remainder is left in `budget`).
pub(crate) fn shrink(
    ops: &[&Operation],
    blocked_at: u64,
    budget: &mut u64,
    deadline: Option<Instant>,
) -> Shrunk {
    let mut shrinker = Shrinker {
        ops,
        budget,
        deadline,
    };
    let all: Vec<(usize, bool)> = (0..ops.len()).map(|i| (i, false)).collect();
    // Nothing invoked after the last dead end took part in the search's failure.
    let prefix: Vec<(usize, bool)> = all
        .iter()
        .copied()
        .filter(|&(i, _)| ops[i].invoke_ns <= blocked_at)
        .collect();
    let mut members = match shrinker.fails(&prefix) {
        Some(true) => prefix,
        _ => all,
    };
    let mut minimal = true;
    for kind in [Move::Remove, Move::Relax] {
        let (shrunk, done) = shrinker.ddmin(members, kind);
        members = shrunk;
        if !done {
            minimal = false;
            break;
        }
    }
    Shrunk {
        members: shrinker.relevant(&members),
        minimal,
    }
}

/// How shrinking may change an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Move {
    /// Remove an observation (a read, a failed operation).
    Remove,
    /// Check an acknowledged effect as if its outcome were unknown.
    Relax,
}

struct Shrinker<'a, 'b> {
    ops: &'a [&'a Operation],
    budget: &'b mut u64,
    deadline: Option<Instant>,
}

impl Shrinker<'_, '_> {
    /// Whether these members are still not linearizable; `None` when the budget ran out.
    fn fails(&mut self, members: &[(usize, bool)]) -> Option<bool> {
        let subjects = self.subjects(members);
        let limits = Limits {
            max_steps: *self.budget,
            deadline: self.deadline,
        };
        let (found, effort) = search(&prepare(&subjects), &limits);
        *self.budget = self.budget.saturating_sub(effort.steps);
        match found {
            Found::Violation { .. } => Some(true),
            Found::Linearizable => Some(false),
            Found::GaveUp => None,
        }
    }

    /// Applies `kind` to chunks of halving size until no single member can move; returns the
    /// members and whether it got there before the budget ran out.
    fn ddmin(&mut self, mut members: Vec<(usize, bool)>, kind: Move) -> (Vec<(usize, bool)>, bool) {
        let mut chunk = (members.len() / 2).max(1);
        loop {
            let mut moved = false;
            let mut end = members.len();
            while end > 0 {
                // A removal only changes positions from `start` on, so `start` stays valid.
                let start = end.saturating_sub(chunk);
                if let Some(candidate) = self.moved(&members, start..end, kind) {
                    match self.fails(&candidate) {
                        Some(true) => {
                            members = candidate;
                            moved = true;
                        }
                        Some(false) => {}
                        None => return (members, false),
                    }
                }
                end = start;
            }
            if *self.budget == 0 || self.deadline.is_some_and(|d| Instant::now() >= d) {
                return (members, false);
            }
            if chunk == 1 && !moved {
                return (members, true);
            }
            chunk = (chunk / 2).max(1);
        }
    }

    /// `members` with every member in `range` that `kind` applies to moved; `None` if none can.
    fn moved(
        &self,
        members: &[(usize, bool)],
        range: std::ops::Range<usize>,
        kind: Move,
    ) -> Option<Vec<(usize, bool)>> {
        let mut any = false;
        let mut out = Vec::with_capacity(members.len());
        for (pos, &(i, relaxed)) in members.iter().enumerate() {
            let op = self.ops[i];
            let movable = range.contains(&pos)
                && match kind {
                    Move::Remove => is_observation(op),
                    Move::Relax => !is_observation(op) && !relaxed && op.outcome != Outcome::Info,
                };
            any |= movable;
            match (movable, kind) {
                (false, _) => out.push((i, relaxed)),
                (true, Move::Remove) => {}
                (true, Move::Relax) => out.push((i, true)),
            }
        }
        any.then_some(out)
    }

    /// Drops members preparation ignores (such as a relaxed write nobody can observe any
    /// more): they take no part in the search, so they are no part of the witness.
    fn relevant(&self, members: &[(usize, bool)]) -> Vec<(usize, bool)> {
        let mut kept = vec![false; members.len()];
        for op in prepare(&self.subjects(members)) {
            kept[op.source] = true;
        }
        members
            .iter()
            .zip(kept)
            .filter(|&(_, kept)| kept)
            .map(|(&m, _)| m)
            .collect()
    }

    fn subjects(&self, members: &[(usize, bool)]) -> Vec<Subject<'_>> {
        members
            .iter()
            .map(|&(i, relaxed)| Subject {
                op: self.ops[i],
                relaxed,
            })
            .collect()
    }
}

/// An operation that cannot change the register: removing it never creates a violation.
fn is_observation(op: &Operation) -> bool {
    matches!(
        (&op.call, &op.outcome),
        (Call::Read, _) | (Call::Cas { .. }, Outcome::Fail) | (Call::Write(_), Outcome::Fail)
    )
}
