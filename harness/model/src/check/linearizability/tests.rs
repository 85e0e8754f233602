//! Hand-written histories with known verdicts, one named scenario per test, and property tests
//! over the synthetic histories of [`crate::check::synth`].
//!
//! Every violation found here is also re-checked by [`assert_witness_is_genuine_and_minimal`]:
//! the witness alone must still not be linearizable, and removing (an observation) or relaxing
//! (an acknowledged effect) any one of its operations must make it linearizable.

use super::*;
use crate::check::synth::{self, Bug, Workload};
use crate::history::{Call, Outcome};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Building histories. Times are nanoseconds; each helper's last two arguments are the
// invocation and completion times.

fn op(process: u64, call: Call, outcome: Outcome, invoke_ns: u64, complete_ns: Option<u64>) -> Operation {
    Operation {
        process,
        key: "x".into(),
        call,
        outcome,
        invoke_ns,
        complete_ns,
    }
}

fn on(key: &str, op: Operation) -> Operation {
    Operation {
        key: key.into(),
        ..op
    }
}

fn write(p: u64, v: &str, from: u64, to: u64) -> Operation {
    op(p, Call::Write(v.into()), Outcome::Ok(None), from, Some(to))
}

fn write_failed(p: u64, v: &str, from: u64, to: u64) -> Operation {
    op(p, Call::Write(v.into()), Outcome::Fail, from, Some(to))
}

/// A write whose outcome is unknown (a timeout): it never completes.
fn write_info(p: u64, v: &str, from: u64) -> Operation {
    op(p, Call::Write(v.into()), Outcome::Info, from, None)
}

fn read(p: u64, v: Option<&str>, from: u64, to: u64) -> Operation {
    op(p, Call::Read, Outcome::Ok(v.map(Arc::from)), from, Some(to))
}

fn cas_call(expected: Option<&str>, new: &str) -> Call {
    Call::Cas {
        expected: expected.map(Arc::from),
        new: new.into(),
    }
}

fn cas(p: u64, expected: Option<&str>, new: &str, from: u64, to: u64) -> Operation {
    op(p, cas_call(expected, new), Outcome::Ok(None), from, Some(to))
}

fn cas_failed(p: u64, expected: Option<&str>, new: &str, from: u64, to: u64) -> Operation {
    op(p, cas_call(expected, new), Outcome::Fail, from, Some(to))
}

fn cas_info(p: u64, expected: Option<&str>, new: &str, from: u64) -> Operation {
    op(p, cas_call(expected, new), Outcome::Info, from, None)
}

// ---------------------------------------------------------------------------------------------
// Assertions.

fn assert_linearizable(h: &[Operation]) {
    let v = check(h);
    assert_eq!(v.result, Linearizability::Linearizable, "{v}");
    assert!(v.violations.is_empty());
}

/// Checks that `h` is not linearizable on exactly one key, that the witness is genuine and
/// minimal, and returns it.
fn assert_violation(h: &[Operation]) -> Counterexample {
    let v = check(h);
    assert_eq!(v.result, Linearizability::NotLinearizable, "{v}");
    assert_eq!(v.violations.len(), 1, "{v}");
    let violation = v.violations[0].clone();
    assert_witness_is_genuine_and_minimal(h, &violation);
    violation
}

/// The indices (into the checked history) of the witness's operations.
fn indices(v: &Counterexample) -> Vec<usize> {
    v.ops.iter().map(|o| o.index).collect()
}

fn relaxed(v: &Counterexample) -> Vec<usize> {
    v.ops.iter().filter(|o| o.relaxed).map(|o| o.index).collect()
}

/// `op` as if its outcome were unknown: what the shrinker's "relaxed" means.
fn as_info(op: &Operation) -> Operation {
    Operation {
        outcome: Outcome::Info,
        complete_ns: None,
        ..op.clone()
    }
}

fn is_observation(op: &Operation) -> bool {
    matches!(op.call, Call::Read) || op.outcome == Outcome::Fail
}

/// The witness is genuine: rebuilt from the history it still is not linearizable, even with
/// every other effect on its key added back as if its outcome were unknown (so the witness
/// does not owe its violation to a write it left out). And when it claims to be minimal,
/// every single move (removing an observation, relaxing an acknowledged effect) makes it
/// linearizable.
fn assert_witness_is_genuine_and_minimal(h: &[Operation], v: &Counterexample) {
    let witness: Vec<Operation> = v
        .ops
        .iter()
        .map(|w| {
            let op = &h[w.index];
            assert_eq!(*op.key, *v.key, "witness op {} is on another key", w.index);
            if w.relaxed { as_info(op) } else { op.clone() }
        })
        .collect();
    assert!(
        witness.windows(2).all(|w| w[0].invoke_ns <= w[1].invoke_ns),
        "witness not in invocation order: {v}"
    );
    let rechecked = check(&witness);
    assert_eq!(
        rechecked.result,
        Linearizability::NotLinearizable,
        "the witness alone is linearizable:\n{v}"
    );
    let in_witness: Vec<usize> = indices(v);
    let mut weakened: Vec<Operation> = (0..h.len())
        .filter(|i| !in_witness.contains(i) && *h[*i].key == *v.key && !is_observation(&h[*i]))
        .map(|i| as_info(&h[i]))
        .chain(witness.iter().cloned())
        .collect();
    weakened.sort_by_key(|o| o.invoke_ns);
    assert_eq!(
        check(&weakened).result,
        Linearizability::NotLinearizable,
        "the witness owes its violation to effects it left out:\n{v}"
    );
    assert!(v.minimal, "shrinking did not finish:\n{v}");
    for (i, op) in witness.iter().enumerate() {
        let moved: Vec<Operation> = if is_observation(op) {
            witness
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, o)| o.clone())
                .collect()
        } else if op.outcome != Outcome::Info {
            let mut w = witness.clone();
            w[i] = as_info(op);
            w
        } else {
            continue; // an unknown outcome is as weak as it gets
        };
        assert_eq!(
            check(&moved).result,
            Linearizability::Linearizable,
            "the witness is not minimal: moving its operation {i} ({op:?}) leaves a violation\n{v}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Stale reads.

#[test]
fn sequential_write_then_read_is_linearizable() {
    assert_linearizable(&[write(1, "a", 0, 10), read(2, Some("a"), 20, 30)]);
}

#[test]
fn a_stale_read_after_a_completed_overwrite_is_not_linearizable() {
    let h = [
        write(1, "a", 0, 10),
        write(1, "b", 20, 30),
        read(2, Some("a"), 40, 50),
    ];
    let v = assert_violation(&h);
    assert_eq!(v.key, "x");
    assert_eq!(indices(&v), [0, 1, 2]);
    assert!(relaxed(&v).is_empty());
}

#[test]
fn a_read_concurrent_with_an_overwrite_may_return_either_value() {
    let old = [
        write(1, "a", 0, 10),
        write(1, "b", 20, 50),
        read(2, Some("a"), 30, 40),
    ];
    let new = [
        write(1, "a", 0, 10),
        write(1, "b", 20, 50),
        read(2, Some("b"), 30, 40),
    ];
    assert_linearizable(&old);
    assert_linearizable(&new);
}

#[test]
fn a_read_of_the_old_value_after_another_read_saw_the_new_one_is_not_linearizable() {
    // The overwrite is still in flight, but once process 2 saw "b", nobody may see "a" again.
    let h = [
        write(1, "a", 0, 10),
        write(1, "b", 20, 100),
        read(2, Some("b"), 30, 40),
        read(3, Some("a"), 50, 60),
    ];
    let v = assert_violation(&h);
    assert_eq!(indices(&v), [0, 1, 2, 3]);
    // Only the new value's write may be weakened: someone read "b", so it took effect.
    assert_eq!(relaxed(&v), [1]);
}

// ---------------------------------------------------------------------------------------------
// Lost writes.

#[test]
fn an_acknowledged_write_that_later_reads_never_see_is_a_lost_write() {
    let h = [
        write(1, "a", 0, 10),
        read(2, Some("a"), 12, 18),
        write(1, "b", 20, 30),
        read(2, Some("a"), 40, 50),
        read(3, Some("a"), 60, 70),
    ];
    let v = assert_violation(&h);
    // The older write, the lost one, and one read that should have seen the lost one.
    assert_eq!(v.ops.len(), 3, "{v}");
    assert_eq!(indices(&v)[..2], [0, 2]);
    assert!([3, 4].contains(&indices(&v)[2]), "{v}");
}

#[test]
fn a_failed_or_unknown_write_that_nobody_sees_is_not_lost() {
    let failed = [
        write(1, "a", 0, 10),
        write_failed(1, "b", 20, 30),
        read(2, Some("a"), 40, 50),
    ];
    let unknown = [
        write(1, "a", 0, 10),
        write_info(1, "b", 20),
        read(2, Some("a"), 40, 50),
        read(3, Some("a"), 60, 70),
    ];
    assert_linearizable(&failed);
    assert_linearizable(&unknown);
}

// ---------------------------------------------------------------------------------------------
// Compare-and-set.

#[test]
fn a_cas_reported_failed_whose_new_value_is_read_later_is_not_linearizable() {
    // The cas overlaps the write, so it may well have failed (before the write); but then
    // nothing wrote the "2" read later.
    let h = [
        write(1, "1", 0, 10),
        cas_failed(2, Some("1"), "2", 5, 30),
        read(3, Some("2"), 40, 50),
    ];
    let v = assert_violation(&h);
    // The read alone cannot be explained: the only operation writing "2" failed. The report
    // shows that cas beside the witness.
    assert_eq!(indices(&v), [2]);
    assert_eq!(v.context.iter().map(|o| o.index).collect::<Vec<_>>(), [1]);
    assert_eq!(
        (v.context[0].call.as_str(), v.context[0].outcome.as_str()),
        ("cas 1 -> 2", "fail")
    );
    let shown = v.to_string();
    assert!(
        shown.contains("key \"x\": this operation cannot be linearized"),
        "{shown}"
    );
    assert!(shown.contains("cas 1 -> 2"), "{shown}");
}

#[test]
fn a_cas_reported_failed_while_the_register_held_its_expected_value_is_not_linearizable() {
    let h = [
        write(1, "1", 0, 10),
        cas_failed(2, Some("1"), "2", 20, 30),
        read(3, Some("1"), 40, 50),
    ];
    let v = assert_violation(&h);
    // The write completed before the cas began and nothing else writes: the read adds nothing.
    assert_eq!(indices(&v), [0, 1]);
    assert!(v.context.is_empty());
}

#[test]
fn a_cas_fails_when_the_register_holds_another_value() {
    let h = [
        write(1, "1", 0, 10),
        write(1, "3", 20, 30),
        cas_failed(2, Some("1"), "2", 40, 50),
        read(3, Some("3"), 60, 70),
    ];
    assert_linearizable(&h);
}

#[test]
fn of_two_overlapping_cas_from_one_value_the_first_applies_and_the_second_fails() {
    let h = [
        write(1, "1", 0, 10),
        cas(2, Some("1"), "2", 20, 60),
        cas_failed(3, Some("1"), "3", 30, 50),
        read(1, Some("2"), 70, 80),
    ];
    assert_linearizable(&h);
}

#[test]
fn two_cas_from_one_value_cannot_both_apply() {
    let h = [
        write(1, "1", 0, 10),
        cas(2, Some("1"), "2", 20, 60),
        cas(3, Some("1"), "3", 30, 50),
        read(1, Some("3"), 70, 80),
    ];
    let v = assert_violation(&h);
    // The read of "3" adds nothing: both cas were acknowledged.
    assert_eq!(indices(&v), [0, 1, 2]);
}

// ---------------------------------------------------------------------------------------------
// Concurrent operations that are fine in one order only.

#[test]
fn overlapping_writes_linearize_in_whichever_order_the_reads_saw() {
    let a_then_b = [
        write(1, "a", 0, 100),
        write(2, "b", 0, 100),
        read(3, Some("a"), 10, 20),
        read(3, Some("b"), 30, 40),
    ];
    let b_then_a = [
        write(1, "a", 0, 100),
        write(2, "b", 0, 100),
        read(3, Some("b"), 10, 20),
        read(3, Some("a"), 30, 40),
    ];
    assert_linearizable(&a_then_b);
    assert_linearizable(&b_then_a);
}

#[test]
fn overlapping_writes_cannot_be_seen_in_both_orders() {
    let h = [
        write(1, "a", 0, 100),
        write(2, "b", 0, 100),
        read(3, Some("a"), 10, 20),
        read(3, Some("b"), 30, 40),
        read(4, Some("a"), 50, 60),
    ];
    let v = assert_violation(&h);
    assert_eq!(indices(&v), [0, 1, 2, 3, 4]);
    // Both writes were seen, so both took effect whether acknowledged or not.
    assert_eq!(relaxed(&v), [0, 1]);
}

#[test]
fn operations_completing_and_invoking_at_the_same_instant_count_as_concurrent() {
    // The write completes at 10 and the read is invoked at 10: either order is allowed.
    let h = [write(1, "a", 0, 10), read(2, None, 10, 20)];
    assert_linearizable(&h);
}

// ---------------------------------------------------------------------------------------------
// Operations with unknown outcomes (`info`, or invoked and never completed).

#[test]
fn an_info_write_may_take_effect_later() {
    let h = [
        write_info(1, "a", 0),
        read(2, None, 10, 20),
        read(2, Some("a"), 30, 40),
    ];
    assert_linearizable(&h);
}

#[test]
fn an_info_write_may_never_take_effect() {
    let h = [
        write(1, "a", 0, 10),
        write_info(2, "b", 20),
        read(3, Some("a"), 30, 40),
        read(3, Some("a"), 1_000, 1_010),
    ];
    assert_linearizable(&h);
}

#[test]
fn an_info_write_that_was_seen_took_effect_and_stays_in_effect() {
    let h = [
        write(1, "a", 0, 10),
        write_info(2, "b", 20),
        read(3, Some("b"), 30, 40),
        read(3, Some("a"), 50, 60),
    ];
    let v = assert_violation(&h);
    assert_eq!(indices(&v), [0, 1, 2, 3]);
}

#[test]
fn an_info_write_cannot_explain_a_read_that_completed_before_it_was_invoked() {
    let h = [read(1, Some("b"), 0, 10), write_info(2, "b", 20)];
    let v = assert_violation(&h);
    assert_eq!(indices(&v), [0]);
}

#[test]
fn an_info_cas_applies_only_if_the_register_held_its_expected_value() {
    let applied = [
        write(1, "1", 0, 10),
        cas_info(2, Some("1"), "2", 20),
        read(3, Some("2"), 30, 40),
    ];
    assert_linearizable(&applied);
    let could_not_apply = [
        write(1, "3", 0, 10),
        cas_info(2, Some("1"), "2", 20),
        read(3, Some("2"), 30, 40),
    ];
    let v = assert_violation(&could_not_apply);
    // Nothing ever wrote "1", so the cas never applied and nothing wrote "2".
    assert_eq!(indices(&v), [1, 2]);
}

#[test]
fn an_info_read_observes_nothing() {
    let h = [
        write(1, "a", 0, 10),
        op(2, Call::Read, Outcome::Info, 20, None),
        read(3, Some("a"), 30, 40),
    ];
    assert_linearizable(&h);
}

// ---------------------------------------------------------------------------------------------
// Reads of nil (the key is absent).

#[test]
fn a_read_of_nil_before_any_write_or_concurrent_with_the_first_is_linearizable() {
    let before = [
        read(1, None, 0, 10),
        write(2, "a", 20, 30),
        read(1, Some("a"), 40, 50),
    ];
    let concurrent = [
        write(2, "a", 0, 30),
        read(1, None, 10, 20),
        read(1, Some("a"), 40, 50),
    ];
    assert_linearizable(&before);
    assert_linearizable(&concurrent);
}

#[test]
fn a_read_of_nil_after_a_completed_write_is_not_linearizable() {
    let h = [write(1, "a", 0, 10), read(2, None, 20, 30)];
    let v = assert_violation(&h);
    assert_eq!(indices(&v), [0, 1]);
}

#[test]
fn a_cas_from_nil_applies_only_to_an_absent_key() {
    let applied = [cas(1, None, "a", 0, 10), read(2, Some("a"), 20, 30)];
    assert_linearizable(&applied);
    let failed_on_absent = [cas_failed(1, None, "a", 0, 10)];
    let v = assert_violation(&failed_on_absent);
    assert_eq!(indices(&v), [0]);
    let applied_on_present = [write(1, "a", 0, 10), cas(2, None, "b", 20, 30)];
    let v = assert_violation(&applied_on_present);
    assert_eq!(indices(&v), [0, 1]);
}

// ---------------------------------------------------------------------------------------------
// Witnesses: shrinking, several keys, budgets, the report.

/// 60 sequential operations on "x" (each write read back), with one stale read among them,
/// interleaved with linearizable traffic on "y" and "z".
fn long_history_with_one_stale_read() -> (Vec<Operation>, usize) {
    let mut h = Vec::new();
    let mut stale = 0;
    for i in 0..30u64 {
        let t = 100 * i;
        let (v, prev) = (format!("v{i}"), i.checked_sub(1).map(|p| format!("v{p}")));
        h.push(write(1, &v, t, t + 10));
        if i == 20 {
            stale = h.len();
            h.push(read(2, Some("v18"), t + 20, t + 30));
        } else {
            h.push(read(2, Some(&v), t + 20, t + 30));
        }
        h.push(on("y", write(3, &v, t, t + 50)));
        h.push(on("y", read(4, prev.as_deref().or(Some(&v)), t + 5, t + 15)));
        h.push(on("z", read(5, None, t, t + 90)));
    }
    (h, stale)
}

#[test]
fn a_violation_in_a_long_history_shrinks_to_the_three_operations_at_fault() {
    let (h, stale) = long_history_with_one_stale_read();
    let verdict = check(&h);
    assert_eq!(verdict.keys.len(), 3);
    let by_key: Vec<(&str, Linearizability)> =
        verdict.keys.iter().map(|k| (k.key.as_str(), k.result)).collect();
    assert_eq!(
        by_key,
        [
            ("x", Linearizability::NotLinearizable),
            ("y", Linearizability::Linearizable),
            ("z", Linearizability::Linearizable),
        ]
    );
    let v = assert_violation(&h);
    // The write of v18, a later write that overwrote it, and the stale read.
    assert_eq!(v.ops.len(), 3, "{v}");
    assert!(v.minimal);
    let ids = indices(&v);
    assert_eq!(h[ids[0]].call, Call::Write("v18".into()), "{v}");
    assert!(
        matches!(&h[ids[1]].call, Call::Write(w) if &**w == "v19" || &**w == "v20"),
        "{v}"
    );
    assert_eq!(ids[2], stale);
}

#[test]
fn a_shrinking_budget_of_nothing_still_gives_a_genuine_witness_not_claimed_minimal() {
    let (h, stale) = long_history_with_one_stale_read();
    let budget = Budget {
        shrink_steps: 0,
        ..Budget::default()
    };
    let verdict = check_within(&h, &budget);
    assert_eq!(verdict.result, Linearizability::NotLinearizable);
    let v = &verdict.violations[0];
    assert!(!v.minimal);
    assert!(v.ops.len() > 3 && v.ops.iter().any(|o| o.index == stale), "{v}");
    let witness: Vec<Operation> = v.ops.iter().map(|w| h[w.index].clone()).collect();
    assert_eq!(check(&witness).result, Linearizability::NotLinearizable);
    assert!(v.to_string().contains("shrinking stopped at its budget"));
}

#[test]
fn a_search_out_of_steps_answers_unknown_not_linearizable() {
    let h = synth::linearizable(&Workload::default());
    let budget = Budget {
        steps_per_key: Some(10),
        ..Budget::default()
    };
    let verdict = check_within(&h, &budget);
    assert_eq!(verdict.result, Linearizability::Unknown);
    assert!(verdict.violations.is_empty());
    assert!(verdict.to_string().starts_with("unknown"));
}

#[test]
fn the_report_of_a_violation_names_the_key_and_lists_each_operation() {
    let h = [
        on("account-7", write(1, "a", 0, 10)),
        on("account-7", write(1, "b", 20, 30)),
        on("account-7", read(2, Some("a"), 40, 50)),
        on("other", read(3, None, 0, 10)),
    ];
    let shown = check(&h).to_string();
    let expected = "\
NOT linearizable (1 of 2 keys): 4 operations, 2 keys, ";
    assert!(shown.starts_with(expected), "{shown}");
    let timeline = "\
key \"account-7\": these 3 operations cannot be linearized (a minimal set)
  process  call     outcome  invoke .. complete
        1  write a  ok            0 .. 10
        1  write b  ok           20 .. 30
        2  read     ok a         40 .. 50
";
    assert!(shown.ends_with(timeline), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// Against a reference: every order of every subset of the unknown-outcome operations.

/// Whether some order of the operations, with each unknown outcome taken or not, respects
/// real time and the register's specification. Exponential: for a handful of operations only.
fn linearizable_by_brute_force(h: &[Operation]) -> bool {
    // (operation, required); failed writes and reads, and unknown reads, do nothing.
    let ops: Vec<(&Operation, bool)> = h
        .iter()
        .filter_map(|o| match (&o.call, &o.outcome) {
            (Call::Read, Outcome::Ok(_)) => Some((o, true)),
            (Call::Read, _) | (Call::Write(_), Outcome::Fail) => None,
            (_, Outcome::Info) => Some((o, false)),
            _ => Some((o, true)),
        })
        .collect();
    let optional: Vec<usize> = (0..ops.len()).filter(|&i| !ops[i].1).collect();
    (0..1u32 << optional.len()).any(|mask| {
        let taken: Vec<&Operation> = (0..ops.len())
            .filter(|&i| {
                ops[i].1
                    || optional
                        .iter()
                        .position(|&j| j == i)
                        .is_some_and(|b| mask >> b & 1 == 1)
            })
            .map(|i| ops[i].0)
            .collect();
        some_order(&taken, &mut vec![false; taken.len()], None)
    })
}

/// Depth first over the orders of `ops` not yet `done`, from register state `state`.
fn some_order(ops: &[&Operation], done: &mut [bool], state: Option<&str>) -> bool {
    if done.iter().all(|&d| d) {
        return true;
    }
    let completed = |o: &Operation| match o.outcome {
        Outcome::Info => u64::MAX,
        _ => o.complete_ns.unwrap_or(u64::MAX),
    };
    for next in 0..ops.len() {
        if done[next] {
            continue;
        }
        // Another pending operation that completed before this one began must go first.
        if (0..ops.len()).any(|j| !done[j] && j != next && completed(ops[j]) < ops[next].invoke_ns) {
            continue;
        }
        let o = ops[next];
        let after = match (&o.call, &o.outcome) {
            (Call::Read, Outcome::Ok(v)) => (v.as_deref() == state).then_some(state),
            (Call::Write(v), _) => Some(Some(&**v)),
            (Call::Cas { expected, .. }, Outcome::Fail) => (expected.as_deref() != state).then_some(state),
            (Call::Cas { expected, new }, _) => (expected.as_deref() == state).then_some(Some(&**new)),
            (Call::Read, _) => unreachable!("dropped"),
        };
        if let Some(after) = after {
            done[next] = true;
            let found = some_order(ops, done, after);
            done[next] = false;
            if found {
                return true;
            }
        }
    }
    false
}

/// A random history of a few operations on one key, with values from a small pool (so some
/// are written twice) and every kind of outcome.
fn random_history(rng: &mut rand_chacha::ChaCha8Rng, ops: usize) -> Vec<Operation> {
    use rand::RngExt;
    let values = ["a", "b", "c"];
    let value =
        |rng: &mut rand_chacha::ChaCha8Rng| Arc::<str>::from(values[rng.random_range(0..values.len())]);
    let mut h: Vec<Operation> = (0..ops)
        .map(|p| {
            let invoke = rng.random_range(0..30);
            let complete = Some(invoke + rng.random_range(0..15));
            let roll = rng.random_range(0..10);
            let (call, outcome) = match rng.random_range(0..3) {
                0 => {
                    let read = if rng.random_bool(0.25) {
                        None
                    } else {
                        Some(value(rng))
                    };
                    let outcome = match roll {
                        0 => Outcome::Fail,
                        1 => Outcome::Info,
                        _ => Outcome::Ok(read),
                    };
                    (Call::Read, outcome)
                }
                1 => {
                    let outcome = match roll {
                        0 => Outcome::Fail,
                        1 | 2 => Outcome::Info,
                        _ => Outcome::Ok(None),
                    };
                    (Call::Write(value(rng)), outcome)
                }
                _ => {
                    let expected = if rng.random_bool(0.25) {
                        None
                    } else {
                        Some(value(rng))
                    };
                    let outcome = match roll {
                        0..=3 => Outcome::Fail,
                        4 | 5 => Outcome::Info,
                        _ => Outcome::Ok(None),
                    };
                    (
                        Call::Cas {
                            expected,
                            new: value(rng),
                        },
                        outcome,
                    )
                }
            };
            let complete = if outcome == Outcome::Info { None } else { complete };
            op(p as u64, call, outcome, invoke, complete)
        })
        .collect();
    h.sort_by_key(|o| o.invoke_ns);
    h
}

#[test]
fn the_checker_agrees_with_brute_force_on_thousands_of_small_random_histories() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut verdicts = [0; 2];
    for case in 0..4_000 {
        let h = random_history(&mut rng, 3 + case % 5);
        let expected = linearizable_by_brute_force(&h);
        let verdict = check(&h);
        assert_eq!(
            verdict.is_linearizable(),
            expected,
            "case {case}: {h:#?}\n{verdict}"
        );
        verdicts[usize::from(expected)] += 1;
        if !expected {
            assert_eq!(verdict.violations.len(), 1);
            assert_witness_is_genuine_and_minimal(&h, &verdict.violations[0]);
        }
    }
    // Both verdicts are common enough for the comparison to mean something.
    assert!(
        verdicts.iter().all(|&n| n > 600),
        "{verdicts:?} (not linearizable, linearizable)"
    );
}

// ---------------------------------------------------------------------------------------------
// Chaining unique values against the general search.

/// A small history with unique values on one key: linearizable by construction, then changed
/// in up to two random places, which may or may not break it: a read returns another value, a
/// cas expects another, a cas's or write's outcome flips, an operation completes earlier.
fn mutated_unique_history(seed: u64) -> Vec<Operation> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let w = Workload {
        seed,
        clients: rng.random_range(2..6),
        keys: 1,
        ops: rng.random_range(4..28),
        info_fraction: 0.15,
        fail_fraction: 0.1,
        latency_ns_max: 1_000,
        think_ns_max: 300,
        ..Workload::default()
    };
    let mut h = synth::linearizable(&w);
    let written: Vec<Arc<str>> = h
        .iter()
        .filter_map(|o| match &o.call {
            Call::Write(v) | Call::Cas { new: v, .. } => Some(Arc::clone(v)),
            Call::Read => None,
        })
        .collect();
    let other = |rng: &mut rand_chacha::ChaCha8Rng| {
        if written.is_empty() || rng.random_bool(0.2) {
            None
        } else {
            Some(Arc::clone(&written[rng.random_range(0..written.len())]))
        }
    };
    for _ in 0..rng.random_range(1..3) {
        let i = rng.random_range(0..h.len());
        let o = &mut h[i];
        match (rng.random_range(0..3), &mut o.call, &o.outcome) {
            (0, Call::Read, Outcome::Ok(_)) => o.outcome = Outcome::Ok(other(&mut rng)),
            (0, Call::Cas { expected, .. }, _) => *expected = other(&mut rng),
            (1, Call::Cas { .. }, Outcome::Ok(_)) | (1, Call::Write(_), Outcome::Ok(_)) => {
                o.outcome = Outcome::Fail
            }
            (1, Call::Cas { .. }, Outcome::Fail) => o.outcome = Outcome::Ok(None),
            (_, _, _) => {
                if let Some(complete) = o.complete_ns {
                    o.complete_ns = Some(o.invoke_ns + (complete - o.invoke_ns) / 4);
                }
            }
        }
    }
    h
}

#[test]
fn chaining_agrees_with_the_general_search_and_brute_force_on_thousands_of_unique_histories() {
    let mut verdicts = [0; 2];
    for seed in 0..3_000 {
        let h = mutated_unique_history(seed);
        let chained = check(&h);
        let general = check_general(&h);
        assert_eq!(
            chained.result, general.result,
            "seed {seed}: {h:#?}
{chained}"
        );
        if h.len() <= 7 {
            assert_eq!(
                chained.is_linearizable(),
                linearizable_by_brute_force(&h),
                "seed {seed}: {h:#?}"
            );
        }
        verdicts[usize::from(chained.is_linearizable())] += 1;
        if !chained.is_linearizable() {
            assert_witness_is_genuine_and_minimal(&h, &chained.violations[0]);
        }
    }
    // Both verdicts are common enough for the comparison to mean something.
    assert!(
        verdicts.iter().all(|&n| n > 600),
        "{verdicts:?} (not linearizable, linearizable)"
    );
}

/// 32 clients on one key: the general search is still undecided after 20 million steps
/// (measured), chaining decides in under 10,000.
#[test]
fn a_hot_key_with_many_clients_needs_few_steps_with_chaining() {
    let w = Workload {
        clients: 32,
        keys: 1,
        ops: 5_000,
        info_fraction: 0.01,
        ..Workload::default()
    };
    let h = synth::linearizable(&w);
    let v = check_within(
        &h,
        &Budget {
            steps_per_key: Some(200_000),
            ..Budget::default()
        },
    );
    assert_eq!(v.result, Linearizability::Linearizable, "{v}");
}

// ---------------------------------------------------------------------------------------------
// Properties over synthetic histories.

/// Workloads of different shapes: the default, one hot key with eight clients and many
/// unknown outcomes, and a cas-heavy one.
fn workloads() -> [Workload; 3] {
    [
        Workload::default(),
        Workload {
            clients: 8,
            keys: 1,
            ops: 400,
            info_fraction: 0.05,
            ..Workload::default()
        },
        Workload {
            clients: 6,
            keys: 3,
            ops: 600,
            read_fraction: 0.3,
            write_fraction: 0.2,
            fail_fraction: 0.1,
            ..Workload::default()
        },
    ]
}

#[test]
fn synthetic_linearizable_histories_pass_for_many_seeds() {
    for shape in workloads() {
        for seed in 0..60 {
            let w = Workload {
                seed,
                ..shape.clone()
            };
            let verdict = check(&synth::linearizable(&w));
            assert_eq!(verdict.result, Linearizability::Linearizable, "{w:?}\n{verdict}");
            assert_eq!(verdict.operations, w.ops);
        }
    }
}

#[test]
fn every_injected_bug_is_caught_with_a_genuine_minimal_witness() {
    for bug in Bug::ALL {
        for shape in workloads() {
            let mut injected_count = 0;
            for seed in 0..30 {
                let w = Workload {
                    seed,
                    ..shape.clone()
                };
                let Some(injected) = synth::with_bug(&w, bug) else {
                    continue;
                };
                injected_count += 1;
                let h = &injected.ops;
                let verdict = check(h);
                assert_eq!(verdict.result, Linearizability::NotLinearizable, "{bug:?} {w:?}");
                let v = &verdict.violations[0];
                assert_eq!(verdict.violations.len(), 1, "{bug:?} {w:?}\n{verdict}");
                assert_eq!(*v.key, *h[injected.culprit].key, "{bug:?} {w:?}");
                // Without an operation the bug changed, the witness would be part of a
                // linearizable history, and so linearizable itself. (A cas reported failed
                // is an observation the witness may leave out; its context then shows it.)
                let clean = synth::linearizable(&w);
                assert!(
                    v.ops
                        .iter()
                        .chain(&v.context)
                        .any(|o| clean[o.index] != h[o.index]),
                    "{bug:?} {w:?}: the witness avoids every changed operation\n{v}"
                );
                assert_witness_is_genuine_and_minimal(h, v);
            }
            assert!(
                injected_count >= 25,
                "{bug:?} found a place in only {injected_count} of 30 {shape:?}"
            );
        }
    }
}
