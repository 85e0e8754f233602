//! Hand-written histories with known verdicts.

use super::*;
use crate::history::{Call, Outcome};

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

fn write(p: u64, v: &str, from: u64, to: u64) -> Operation {
    op(p, Call::Write(v.into()), Outcome::Ok(None), from, Some(to))
}

fn read(p: u64, v: Option<&str>, from: u64, to: u64) -> Operation {
    op(p, Call::Read, Outcome::Ok(v.map(String::from)), from, Some(to))
}

#[test]
fn sequential_write_then_read_is_linearizable() {
    let h = vec![write(1, "a", 0, 10), read(2, Some("a"), 20, 30)];
    assert!(check(&h).is_linearizable());
}

#[test]
fn a_stale_read_after_a_completed_write_is_not_linearizable() {
    let h = vec![
        write(1, "a", 0, 10),
        write(1, "b", 20, 30),
        read(2, Some("a"), 40, 50),
    ];
    let v = check(&h);
    assert_eq!(v.result, Linearizability::NotLinearizable);
    assert_eq!(v.violations[0].key, "x");
}

#[test]
fn an_info_write_may_take_effect_later() {
    let h = vec![
        op(1, Call::Write("a".into()), Outcome::Info, 0, None),
        read(2, None, 10, 20),
        read(2, Some("a"), 30, 40),
    ];
    assert!(check(&h).is_linearizable());
}
