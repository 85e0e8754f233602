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

/// A trial may take this many times the steps of the search that found the violation (or
/// [`TRIAL_STEPS_MIN`]) before it counts as undecided. Relaxing operations can make a search far
/// harder than the original; such a trial rarely pays for itself.
const TRIAL_STEPS_FACTOR: u64 = 10;
const TRIAL_STEPS_MIN: u64 = 100_000;

/// Shrinks `ops` (one key, not linearizable, found so in `steps` search steps whose last dead
/// end was at `blocked_at`), spending at most `budget` search steps (the remainder is left in
/// `budget`). Trials search as `limits` says (its wall-clock deadline and chaining).
pub(crate) fn shrink(
    ops: &[&Operation],
    blocked_at: u64,
    steps: u64,
    budget: &mut u64,
    limits: &Limits,
) -> Shrunk {
    let mut shrinker = Shrinker {
        ops,
        budget,
        trial_steps: steps.saturating_mul(TRIAL_STEPS_FACTOR).max(TRIAL_STEPS_MIN),
        deadline: limits.deadline,
        chaining: limits.chaining,
    };
    let all: Vec<(usize, bool)> = (0..ops.len()).map(|i| (i, false)).collect();
    // No observation invoked after the last dead end took part in the search's failure.
    let mut members = shrinker.observed_by(&all, blocked_at);
    let mut minimal = true;
    for kind in [Move::Remove, Move::Relax] {
        let (shrunk, end) = shrinker.ddmin(members, kind);
        members = shrunk;
        minimal &= end == End::Minimal;
        if end == End::OutOfBudget {
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

/// What checking a candidate set found.
enum Trial {
    /// Still not linearizable: the members that took part in the search's failure.
    Fails(Vec<(usize, bool)>),
    Passes,
    /// The trial used up its own allowance of steps.
    Undecided,
    /// The whole budget (steps or time) is spent.
    OutOfBudget,
}

/// How a run of moves ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// No single move keeps the violation.
    Minimal,
    /// No single move was seen to keep it, but some trials were undecided.
    Undecided,
    OutOfBudget,
}

struct Shrinker<'a, 'b> {
    ops: &'a [&'a Operation],
    budget: &'b mut u64,
    /// The most steps one trial may take.
    trial_steps: u64,
    deadline: Option<Instant>,
    chaining: bool,
}

impl Shrinker<'_, '_> {
    /// Whether these members are still not linearizable, and if so the members less the
    /// observations that took no part in the search's failure.
    fn fails(&mut self, members: &[(usize, bool)]) -> Trial {
        let subjects = self.subjects(members);
        let limits = Limits {
            max_steps: self.trial_steps.min(*self.budget),
            max_states: u64::MAX,
            deadline: self.deadline,
            chaining: self.chaining,
        };
        let (found, effort) = search(&prepare(&subjects), &limits);
        *self.budget = self.budget.saturating_sub(effort.steps);
        let spent = *self.budget == 0 || self.deadline.is_some_and(|d| Instant::now() >= d);
        match found {
            Found::Counterexample { blocked_at } => Trial::Fails(self.observed_by(members, blocked_at)),
            Found::Linearizable => Trial::Passes,
            Found::GaveUp(_) if spent => Trial::OutOfBudget,
            Found::GaveUp(_) => Trial::Undecided,
        }
    }

    /// `members` less the observations invoked after `time`. Observations only: removing an
    /// effect (even one that could only take effect after `time`) could leave an operation that
    /// needs its value unexplained, a violation of the witness that the history does not have.
    fn observed_by(&self, members: &[(usize, bool)], time: u64) -> Vec<(usize, bool)> {
        members
            .iter()
            .copied()
            .filter(|&(i, _)| self.ops[i].invoke_ns <= time || !is_observation(self.ops[i]))
            .collect()
    }

    /// Applies `kind` to chunks of halving size until no single member can move.
    fn ddmin(&mut self, mut members: Vec<(usize, bool)>, kind: Move) -> (Vec<(usize, bool)>, End) {
        let mut chunk = (members.len() / 2).max(1);
        loop {
            let mut moved = false;
            let mut undecided = false;
            let mut end = members.len();
            while end > 0 {
                // A move changes positions from `start` on only, so `start` stays valid (a
                // failure that drops earlier members just makes this pass skip some).
                let start = end.saturating_sub(chunk).min(members.len());
                if let Some(candidate) = self.moved(&members, start..end, kind) {
                    match self.fails(&candidate) {
                        Trial::Fails(failing) => {
                            members = failing;
                            moved = true;
                        }
                        Trial::Passes => {}
                        Trial::Undecided => undecided = true,
                        Trial::OutOfBudget => return (members, End::OutOfBudget),
                    }
                }
                end = start;
            }
            if chunk == 1 && !moved {
                let end = if undecided { End::Undecided } else { End::Minimal };
                return (members, end);
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
