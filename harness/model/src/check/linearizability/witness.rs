//! Counterexamples: the operations of one key that cannot be linearized, printable as a
//! timeline.

use crate::history::{Call, Operation, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// One operation of a counterexample, as the history recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessOp {
    /// Its position in the slice of operations that was checked.
    pub index: usize,
    pub process: u64,
    /// `read`, `write V` or `cas E -> N` (`nil`: absent).
    pub call: String,
    /// `ok V` for a read, else `ok`, `fail` or `info`.
    pub outcome: String,
    pub invoke_ns: u64,
    /// `None` when it never completed.
    pub complete_ns: Option<u64>,
    /// The violation stands even if this operation's outcome were unknown: what matters is
    /// that it may have taken effect, not when or whether it was acknowledged.
    pub relaxed: bool,
}

/// A key whose operations cannot be linearized, and a small set of its operations that already
/// cannot be (operations not listed were removed, or as `relaxed` marks, weakened, and the
/// violation remained).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterexample {
    pub key: String,
    /// In invocation order.
    pub ops: Vec<WitnessOp>,
    /// True when removing or relaxing any one more operation makes the rest linearizable;
    /// false when the shrinking budget ran out first, or a trial move was too costly to decide.
    pub minimal: bool,
    /// Not part of the witness, shown to explain it: failed operations that would have
    /// written a value the witness observes and none of its operations writes (a read of a
    /// cas's new value, the cas reported as failed). At most [`CONTEXT_PER_VALUE`] per value,
    /// the last invoked before the first observer completed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<WitnessOp>,
}

/// How many failed writers of one value [`Counterexample::context`] lists.
pub const CONTEXT_PER_VALUE: usize = 3;

impl WitnessOp {
    pub(crate) fn new(index: usize, op: &Operation, relaxed: bool) -> Self {
        let call = match &op.call {
            Call::Read => "read".to_string(),
            Call::Write(v) => format!("write {v}"),
            Call::Cas { expected, new } => format!("cas {} -> {new}", show(expected.as_deref())),
        };
        let outcome = match (&op.call, &op.outcome) {
            (Call::Read, Outcome::Ok(v)) => format!("ok {}", show(v.as_deref())),
            (_, Outcome::Ok(_)) => "ok".to_string(),
            (_, Outcome::Fail) => "fail".to_string(),
            (_, Outcome::Info) => "info".to_string(),
        };
        WitnessOp {
            index,
            process: op.process,
            call,
            outcome,
            invoke_ns: op.invoke_ns,
            complete_ns: op.complete_ns,
            relaxed,
        }
    }
}

/// The indices (into `ops`) of [`Counterexample::context`] for a witness of `members` (indices into
/// `ops`, with whether each is relaxed).
pub(crate) fn context(ops: &[&Operation], members: &[(usize, bool)]) -> Vec<usize> {
    let mut written: HashSet<&str> = HashSet::new();
    // Each value the witness needs someone to have written, with when it was first needed.
    let mut needed: BTreeMap<&str, u64> = BTreeMap::new();
    for &(i, relaxed) in members {
        let op = ops[i];
        if let Some(v) = writes(op) {
            written.insert(v);
        }
        let observed = match (&op.call, &op.outcome) {
            (Call::Read, Outcome::Ok(Some(v))) => Some(v),
            (
                Call::Cas {
                    expected: Some(v), ..
                },
                Outcome::Ok(_),
            ) if !relaxed => Some(v),
            _ => None,
        };
        if let Some(v) = observed {
            let by = op.complete_ns.unwrap_or(u64::MAX);
            needed.entry(v).and_modify(|t| *t = (*t).min(by)).or_insert(by);
        }
    }
    let in_witness: HashSet<usize> = members.iter().map(|&(i, _)| i).collect();
    let mut out = Vec::new();
    for (value, by) in needed.into_iter().filter(|(v, _)| !written.contains(v)) {
        let failed: Vec<usize> = (0..ops.len())
            .filter(|i| !in_witness.contains(i))
            .filter(|&i| ops[i].outcome == Outcome::Fail && ops[i].invoke_ns < by)
            .filter(|&i| matches!(&ops[i].call, Call::Write(v) | Call::Cas { new: v, .. } if **v == *value))
            .collect();
        out.extend(failed.iter().rev().take(CONTEXT_PER_VALUE));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The value an operation writes if it takes effect; `None` for reads and failed operations.
fn writes(op: &Operation) -> Option<&str> {
    match (&op.call, &op.outcome) {
        (_, Outcome::Fail) | (Call::Read, _) => None,
        (Call::Write(v) | Call::Cas { new: v, .. }, _) => Some(v),
    }
}

fn show(v: Option<&str>) -> &str {
    v.unwrap_or("nil")
}

impl fmt::Display for Counterexample {
    /// A timeline, one line per operation, then any [`Counterexample::context`]:
    ///
    /// ```text
    /// key "k": these 3 operations cannot be linearized (a minimal set)
    ///   process  call       outcome  invoke .. complete
    ///         1  write 1    ok           10 .. 20
    ///         2  write 2    ok           30 .. 40
    ///         3  read       ok 1         50 .. 60
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.minimal {
            "a minimal set"
        } else {
            "not shown minimal: shrinking stopped at its budget"
        };
        let what = match self.ops.len() {
            1 => "this operation cannot".to_string(),
            n => format!("these {n} operations cannot"),
        };
        writeln!(f, "key {:?}: {what} be linearized ({how})", self.key)?;
        let rows = self.ops.iter().chain(&self.context);
        let outcomes: Vec<String> = rows
            .clone()
            .map(|o| match o.relaxed {
                true => format!("{} (as if info)", o.outcome),
                false => o.outcome.clone(),
            })
            .collect();
        let call_w = rows.clone().map(|o| o.call.len()).chain([4]).max().unwrap_or(4);
        let outcome_w = outcomes.iter().map(String::len).chain([7]).max().unwrap_or(7);
        let invoke_w = rows
            .clone()
            .map(|o| digits(o.invoke_ns))
            .chain([6])
            .max()
            .unwrap_or(6);
        writeln!(
            f,
            "  {:>7}  {:call_w$}  {:outcome_w$}  {:>invoke_w$} .. complete",
            "process", "call", "outcome", "invoke"
        )?;
        for (n, (op, outcome)) in rows.zip(&outcomes).enumerate() {
            if n == self.ops.len() {
                writeln!(
                    f,
                    "  not in the set, as they failed, but each would have written a value read above:"
                )?;
            }
            let complete = op.complete_ns.map_or("never".to_string(), |t| t.to_string());
            writeln!(
                f,
                "  {:>7}  {:call_w$}  {outcome:outcome_w$}  {:>invoke_w$} .. {complete}",
                op.process, op.call, op.invoke_ns
            )?;
        }
        Ok(())
    }
}

fn digits(t: u64) -> usize {
    t.to_string().len()
}
