//! Counterexamples: the operations of one key that cannot be linearized, printable as a
//! timeline.

use crate::history::{Call, Operation, Outcome};
use serde::{Deserialize, Serialize};
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
pub struct Violation {
    pub key: String,
    /// In invocation order.
    pub ops: Vec<WitnessOp>,
    /// True when removing or relaxing any one more operation makes the rest linearizable;
    /// false when the shrinking budget ran out first.
    pub minimal: bool,
}

impl WitnessOp {
    pub(crate) fn new(index: usize, op: &Operation, relaxed: bool) -> Self {
        let call = match &op.call {
            Call::Read => "read".to_string(),
            Call::Write(v) => format!("write {v}"),
            Call::Cas { expected, new } => format!("cas {} -> {new}", show(expected.as_ref())),
        };
        let outcome = match (&op.call, &op.outcome) {
            (Call::Read, Outcome::Ok(v)) => format!("ok {}", show(v.as_ref())),
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

fn show(v: Option<&String>) -> &str {
    v.map_or("nil", String::as_str)
}

impl fmt::Display for Violation {
    /// A timeline, one line per operation:
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
            "shrinking stopped at its budget"
        };
        writeln!(
            f,
            "key {:?}: these {} operations cannot be linearized ({how})",
            self.key,
            self.ops.len()
        )?;
        let outcomes: Vec<String> = self
            .ops
            .iter()
            .map(|o| match o.relaxed {
                true => format!("{} (as if info)", o.outcome),
                false => o.outcome.clone(),
            })
            .collect();
        let call_w = self
            .ops
            .iter()
            .map(|o| o.call.len())
            .chain([4])
            .max()
            .unwrap_or(4);
        let outcome_w = outcomes.iter().map(String::len).chain([7]).max().unwrap_or(7);
        let invoke_w = self
            .ops
            .iter()
            .map(|o| digits(o.invoke_ns))
            .chain([6])
            .max()
            .unwrap_or(6);
        writeln!(
            f,
            "  process  {:call_w$}  {:outcome_w$}  {:>invoke_w$} .. complete",
            "call", "outcome", "invoke"
        )?;
        for (op, outcome) in self.ops.iter().zip(&outcomes) {
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
