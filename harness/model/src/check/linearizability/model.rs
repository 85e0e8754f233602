//! The register's sequential specification, and the preparation of one key's operations for
//! the search: outcomes become steps of the specification with an interval in which each must
//! take effect.
//!
//! Preparation is where the history's semantics live:
//!
//! | call  | `ok`                          | `fail`                          | `info` (or no completion) |
//! | ----- | ----------------------------- | ------------------------------- | ------------------------- |
//! | read  | returns the register's value  | dropped (did not happen)        | dropped (observes nothing)|
//! | write | sets the register             | dropped (definitely not applied)| optional                  |
//! | cas   | register == expected; sets it | register != expected; no change | optional; applies if taken|
//!
//! A required operation must take effect between its invocation and completion; an *optional*
//! one at any time after its invocation, or never (Jepsen's `:info`).

use crate::history::{Call, Operation, Outcome};
use replog::fxhash::FxHashMap;
use std::sync::Arc;

/// A register state, interned per key. Only values some operation reads or expects get their
/// own number: every other value behaves alike (nothing can tell them apart), so they share
/// [`UNOBSERVED`], which keeps the memo small and lets equal-effect optional writes be twins.
pub(crate) type Value = u32;
/// The key is absent (the initial state).
pub(crate) const ABSENT: Value = 0;
/// A value no operation reads or expects.
pub(crate) const UNOBSERVED: Value = 1;
pub(crate) const FIRST_OBSERVED: Value = 2;

/// What an operation does, as a step of the register's sequential specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    /// A read that returned this value.
    Read(Value),
    Write(Value),
    /// A cas that applied (or, if optional, one that applies when it takes effect).
    Cas {
        expected: Value,
        new: Value,
    },
    /// A cas reported as failed: the register did not hold `expected`; nothing changed.
    CasFailed {
        expected: Value,
    },
}

impl Step {
    /// The state after this step, or `None` if the step cannot happen in `state`.
    pub(crate) fn apply(self, state: Value) -> Option<Value> {
        match self {
            Step::Read(v) => (state == v).then_some(state),
            Step::Write(v) => Some(v),
            Step::Cas { expected, new } => (state == expected).then_some(new),
            Step::CasFailed { expected } => (state != expected).then_some(state),
        }
    }

    pub(crate) fn written(self) -> Option<Value> {
        match self {
            Step::Write(v) | Step::Cas { new: v, .. } => Some(v),
            Step::Read(_) | Step::CasFailed { .. } => None,
        }
    }

    /// The value this step needs the register to hold.
    pub(crate) fn needs(self) -> Option<Value> {
        match self {
            Step::Read(v) | Step::Cas { expected: v, .. } => Some(v),
            Step::Write(_) | Step::CasFailed { .. } => None,
        }
    }
}

/// One operation ready for the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SearchOp {
    pub step: Step,
    pub invoke: u64,
    /// The time by which it must have taken effect; `None` when it is optional.
    pub deadline: Option<u64>,
    /// Its index in the slice given to [`prepare`].
    pub source: usize,
}

/// An operation to check. Minimization *relaxes* operations: it checks them as if their
/// outcome were unknown.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Subject<'a> {
    pub op: &'a Operation,
    pub relaxed: bool,
}

/// Turns one key's operations into search operations, sorted by invocation time.
///
/// Besides the table in the module doc, two rewrites shrink the search without changing its
/// answer:
/// - an optional write of a value no other operation writes, which some required operation
///   needs, must have taken effect before that operation completed, so it gets that deadline;
///   our histories write unique values, so this turns most `info` writes into ordinary ones;
/// - optional operations that cannot help are dropped: any invoked after every required
///   operation's deadline (it can go last); and, when no cas failed (only a failed cas can
///   profit from the register holding a value nobody needs), every one whose value no
///   required operation needs, directly or through a chain of optional cas operations.
///   Dropping them all at once keeps every remaining operation's view of the register: the
///   last write before it wrote a value it needs, so that write was not dropped.
pub(crate) fn prepare(subjects: &[Subject]) -> Vec<SearchOp> {
    let mut values = Interner::default();
    subjects.iter().for_each(|s| values.observe(s));
    let ops: Vec<SearchOp> = subjects
        .iter()
        .enumerate()
        .filter_map(|(source, s)| {
            let (step, required) = step_of(s, &values)?;
            Some(search_op(s.op, step, required, source))
        })
        .collect();
    rewrite(ops, values.len())
}

fn search_op(op: &Operation, step: Step, required: bool, source: usize) -> SearchOp {
    SearchOp {
        step,
        invoke: op.invoke_ns,
        deadline: required.then(|| op.complete_ns.unwrap_or(u64::MAX)),
        source,
    }
}

/// Every key's steps at once: [`Steps::prepare`] gives for one key exactly what [`prepare`]
/// gives for its operations (none relaxed). The values are interned in two passes over the
/// whole history in its order, instead of one walk per key: a key's operations are scattered
/// over the history, so walking them one key at a time missed the cache on almost every
/// operation and value.
pub(crate) struct Steps {
    /// Per operation of the history: its step and whether it is required.
    steps: Vec<Option<(Step, bool)>>,
    /// Per key: one past its largest value number.
    values: Vec<usize>,
}

impl Steps {
    /// `key_of[i]` numbers the key of `ops[i]`, in `0..keys`.
    pub(crate) fn of(ops: &[Operation], key_of: &[u32], keys: usize) -> Self {
        let mut interners: Vec<Interner> = (0..keys).map(|_| Interner::default()).collect();
        let subject = |op| Subject { op, relaxed: false };
        for (op, &k) in ops.iter().zip(key_of) {
            interners[k as usize].observe(&subject(op));
        }
        let steps = ops
            .iter()
            .zip(key_of)
            .map(|(op, &k)| step_of(&subject(op), &interners[k as usize]))
            .collect();
        Steps {
            steps,
            values: interners.iter().map(Interner::len).collect(),
        }
    }

    /// The search operations of key `key`, whose operations are `ops[i]` for `i` in
    /// `indices` (in history order).
    pub(crate) fn prepare(&self, ops: &[Operation], key: usize, indices: &[usize]) -> Vec<SearchOp> {
        let search_ops = indices
            .iter()
            .enumerate()
            .filter_map(|(source, &i)| {
                let (step, required) = self.steps[i]?;
                Some(search_op(&ops[i], step, required, source))
            })
            .collect();
        rewrite(search_ops, self.values[key])
    }
}

/// The rewrites of [`prepare`] that shrink the search, and the order by invocation.
fn rewrite(mut ops: Vec<SearchOp>, values: usize) -> Vec<SearchOp> {
    give_observed_writes_deadlines(&mut ops, values);
    let last_deadline = ops.iter().filter_map(|o| o.deadline).max();
    ops.retain(|o| o.deadline.is_some() || last_deadline.is_some_and(|d| o.invoke <= d));
    if !ops.iter().any(|o| matches!(o.step, Step::CasFailed { .. })) {
        let needed = needed_values(&ops, values);
        ops.retain(|o| o.deadline.is_some() || o.step.written().is_some_and(|v| needed[v as usize]));
    }
    ops.sort_by_key(|o| (o.invoke, o.source));
    ops
}

/// Which values some required operation needs the register to hold, directly or through
/// optional cas operations that would write a needed value.
fn needed_values(ops: &[SearchOp], values: usize) -> Vec<bool> {
    let mut needed = vec![false; values];
    for v in ops
        .iter()
        .filter(|o| o.deadline.is_some())
        .filter_map(|o| o.step.needs())
    {
        needed[v as usize] = true;
    }
    loop {
        let mut grew = false;
        for o in ops.iter().filter(|o| o.deadline.is_none()) {
            if let (Some(w), Some(v)) = (o.step.written(), o.step.needs())
                && needed[w as usize]
                && !needed[v as usize]
            {
                needed[v as usize] = true;
                grew = true;
            }
        }
        if !grew {
            return needed;
        }
    }
}

/// The step an operation contributes and whether it is required; `None` if it contributes
/// nothing.
fn step_of(s: &Subject, values: &Interner) -> Option<(Step, bool)> {
    let outcome = if s.relaxed { &Outcome::Info } else { &s.op.outcome };
    let written = |v: &Arc<str>| values.get(Some(v));
    match (&s.op.call, outcome) {
        (Call::Read, Outcome::Ok(read)) => Some((Step::Read(values.get(read.as_deref())), true)),
        (Call::Read, Outcome::Fail | Outcome::Info) => None,
        (Call::Write(v), Outcome::Ok(_)) => Some((Step::Write(written(v)), true)),
        (Call::Write(v), Outcome::Info) => Some((Step::Write(written(v)), false)),
        (Call::Write(_), Outcome::Fail) => None,
        (Call::Cas { expected, new }, outcome) => {
            let expected = values.get(expected.as_deref());
            let new = written(new);
            Some(match outcome {
                Outcome::Ok(_) => (Step::Cas { expected, new }, true),
                Outcome::Info => (Step::Cas { expected, new }, false),
                Outcome::Fail => (Step::CasFailed { expected }, true),
            })
        }
    }
}

/// An optional write of a value nobody else writes must precede every required operation that
/// needs that value: nothing else could have put it in the register.
fn give_observed_writes_deadlines(ops: &mut [SearchOp], values: usize) {
    let mut writers = vec![0u32; values];
    let mut needed_by: Vec<Option<u64>> = vec![None; values];
    for o in ops.iter() {
        if let Some(v) = o.step.written() {
            writers[v as usize] += 1;
        }
        if let (Some(v), Some(deadline)) = (o.step.needs(), o.deadline) {
            let earliest = needed_by[v as usize].map_or(deadline, |d| d.min(deadline));
            needed_by[v as usize] = Some(earliest);
        }
    }
    for o in ops.iter_mut().filter(|o| o.deadline.is_none()) {
        let Some(v) = o.step.written().filter(|&v| v >= FIRST_OBSERVED) else {
            continue;
        };
        // An observer that completed before the write began cannot be explained by it: leave
        // the write optional and let the search report the violation.
        if writers[v as usize] == 1 {
            o.deadline = needed_by[v as usize].filter(|&d| d >= o.invoke);
        }
    }
}

/// Numbers for the values that operations read or expect, in order of first appearance.
#[derive(Default)]
struct Interner<'a> {
    ids: FxHashMap<&'a str, Value>,
}

impl<'a> Interner<'a> {
    /// Numbers the value `s` reads or expects, if new.
    fn observe(&mut self, s: &Subject<'a>) {
        let outcome = if s.relaxed { &Outcome::Info } else { &s.op.outcome };
        let observed = match (&s.op.call, outcome) {
            (Call::Read, Outcome::Ok(read)) => read,
            (Call::Cas { expected, .. }, Outcome::Ok(_) | Outcome::Fail | Outcome::Info) => expected,
            _ => return,
        };
        if let Some(v) = observed {
            let next = FIRST_OBSERVED + self.ids.len() as Value;
            self.ids.entry(&**v).or_insert(next);
        }
    }

    fn get(&self, v: Option<&str>) -> Value {
        match v {
            None => ABSENT,
            Some(v) => self.ids.get(v).copied().unwrap_or(UNOBSERVED),
        }
    }

    /// One past the largest value number.
    fn len(&self) -> usize {
        FIRST_OBSERVED as usize + self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(call: Call, outcome: Outcome, invoke: u64, complete: Option<u64>) -> Operation {
        Operation {
            process: 0,
            key: "k".into(),
            call,
            outcome,
            invoke_ns: invoke,
            complete_ns: complete,
        }
    }

    fn prepared(ops: &[Operation]) -> Vec<SearchOp> {
        let subjects: Vec<Subject> = ops.iter().map(|op| Subject { op, relaxed: false }).collect();
        prepare(&subjects)
    }

    #[test]
    fn steps_of_the_whole_history_prepare_each_key_as_prepare_does() {
        use crate::check::synth::{self, Bug, Workload};
        let mut histories = Vec::new();
        for seed in 0..4 {
            let w = Workload {
                seed,
                keys: 7,
                ops: 3_000,
                ..Workload::default()
            };
            histories.push(synth::linearizable(&w));
            histories.extend(
                Bug::ALL
                    .into_iter()
                    .filter_map(|bug| synth::with_bug(&w, bug))
                    .map(|i| i.ops),
            );
        }
        for ops in &histories {
            let mut names: Vec<&str> = ops.iter().map(|o| &*o.key).collect();
            names.sort_unstable();
            names.dedup();
            let key_of: Vec<u32> = ops
                .iter()
                .map(|o| names.binary_search(&&*o.key).unwrap() as u32)
                .collect();
            let steps = Steps::of(ops, &key_of, names.len());
            for (k, name) in names.iter().enumerate() {
                let indices: Vec<usize> = (0..ops.len()).filter(|&i| &*ops[i].key == *name).collect();
                let subjects: Vec<Subject> = indices
                    .iter()
                    .map(|&i| Subject {
                        op: &ops[i],
                        relaxed: false,
                    })
                    .collect();
                assert_eq!(steps.prepare(ops, k, &indices), prepare(&subjects), "key {name}");
            }
        }
    }

    #[test]
    fn the_specification_of_a_register() {
        let (a, b) = (FIRST_OBSERVED, FIRST_OBSERVED + 1);
        let cases = [
            (Step::Read(a), a, Some(a)),
            (Step::Read(a), b, None),
            (Step::Write(b), a, Some(b)),
            (Step::Cas { expected: a, new: b }, a, Some(b)),
            (Step::Cas { expected: a, new: b }, ABSENT, None),
            (Step::CasFailed { expected: a }, a, None),
            (Step::CasFailed { expected: a }, b, Some(b)),
        ];
        for (step, state, after) in cases {
            assert_eq!(step.apply(state), after, "{step:?} in state {state}");
        }
    }

    #[test]
    fn failed_writes_and_reads_and_unknown_reads_are_dropped() {
        let ops = [
            op(Call::Write("a".into()), Outcome::Fail, 0, Some(1)),
            op(Call::Read, Outcome::Fail, 2, Some(3)),
            op(Call::Read, Outcome::Info, 4, None),
            op(Call::Read, Outcome::Ok(None), 5, Some(6)),
        ];
        let prepared = prepared(&ops);
        assert_eq!(prepared.len(), 1);
        assert_eq!(prepared[0].step, Step::Read(ABSENT));
    }

    #[test]
    fn an_unknown_write_someone_read_must_precede_the_reader() {
        let ops = [
            op(Call::Write("a".into()), Outcome::Info, 0, None),
            op(Call::Read, Outcome::Ok(Some("a".into())), 5, Some(9)),
        ];
        assert_eq!(prepared(&ops)[0].deadline, Some(9));
    }

    #[test]
    fn an_unknown_write_nobody_reads_is_dropped_unless_a_cas_failed() {
        let write = op(Call::Write("x".into()), Outcome::Info, 0, None);
        let read = op(Call::Read, Outcome::Ok(None), 5, Some(9));
        assert_eq!(prepared(&[write.clone(), read.clone()]).len(), 1);
        let failed = op(
            Call::Cas {
                expected: None,
                new: "y".into(),
            },
            Outcome::Fail,
            6,
            Some(8),
        );
        assert_eq!(prepared(&[write, read, failed]).len(), 3);
    }
}
