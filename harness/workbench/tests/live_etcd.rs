//! Network faults on a real etcd cluster, through the peer proxies of
//! `live::etcd::proxy`: the leader is isolated mid-workload, the majority elects a
//! new leader and keeps writing, and the history stays linearizable.
//!
//! Runs only when `etcd` is on PATH (Debian: `apt-get install etcd-server`) and says so when
//! it skips. One run of about 8 seconds.

use live::{LiveOptions, run_live};
use model::check::verdict::check_history;
use model::history::{EventType, Fun};
use model::metrics::summarize;
use model::protocol::Protocol;
use model::scenario::{FaultKind, Scenario};
use replog::Role;
use std::path::Path;

/// Isolates the leader from 1 s to 2.5 s (both directions of its peer links cut).
const ISOLATE_LEADER: &str = r#"
name = "live-etcd-isolate-leader"
duration = "4s"
settle = "1s"
[cluster]
nodes = 3
[workload]
clients = 8
keys = 20
mix = { read = 0.3, write = 0.6, cas = 0.1 }
[[faults]]
at = "1s"
action = "isolate"
target = "leader"
[[faults]]
at = "2500ms"
action = "heal"
"#;

fn data_parent() -> tempfile::TempDir {
    match Path::new("/dev/shm") {
        shm if shm.is_dir() => tempfile::tempdir_in(shm).unwrap(),
        _ => tempfile::tempdir().unwrap(),
    }
}

#[test]
fn an_isolated_etcd_leader_is_replaced_and_the_majority_keeps_writing() {
    if live::etcd::etcd_binary().is_err() {
        eprintln!("skipped: `etcd` is not on PATH (Debian: apt-get install etcd-server)");
        return;
    }
    let scenario = Scenario::parse(ISOLATE_LEADER, "isolate-leader").unwrap();
    let workdir = data_parent();
    let opts = LiveOptions {
        seed: Some(1),
        workdir: Some(workdir.path().to_path_buf()),
        ..LiveOptions::default()
    };
    let out = run_live(Protocol::Etcd, &scenario, &opts).unwrap_or_else(|e| panic!("{e}"));
    let context = format!(
        "etcd run log:\n{}\nfaults: {:#?}\nstatus changes: {:#?}",
        out.trace_text.as_deref().unwrap_or(""),
        out.faults,
        out.status_log
    );
    let isolate = out
        .faults
        .iter()
        .find(|f| f.kind == FaultKind::Isolate)
        .unwrap_or_else(|| panic!("no isolate: {context}"));
    let heal = out
        .faults
        .iter()
        .find(|f| f.kind == FaultKind::Heal)
        .unwrap_or_else(|| panic!("no heal: {context}"));
    assert!(isolate.applied, "{context}");
    assert!(!isolate.label.contains("skipped"), "{context}");
    assert_eq!(isolate.nodes.len(), 1, "{context}");
    let old_leader = isolate.nodes[0];

    // Another member leads while the old leader is cut off.
    let new_leader = out
        .status_log
        .iter()
        .find(|c| {
            c.up && c.status.role == Role::Leader
                && c.status.id != old_leader
                && (isolate.at_ns..heal.at_ns).contains(&c.time)
        })
        .unwrap_or_else(|| panic!("no new leader during the isolation: {context}"));
    eprintln!(
        "etcd: {old_leader} isolated at {:.3}s, {} leads epoch {} at {:.3}s ({} ms later)",
        isolate.at_ns as f64 / 1e9,
        new_leader.status.id,
        new_leader.status.epoch,
        new_leader.time as f64 / 1e9,
        (new_leader.time - isolate.at_ns) / 1_000_000
    );
    // etcd's CheckQuorum makes the isolated leader step down (seen when its status is polled).
    if let Some(step_down) = out
        .status_log
        .iter()
        .find(|c| c.status.id == old_leader && c.status.role != Role::Leader && c.time >= isolate.at_ns)
    {
        eprintln!(
            "etcd: the isolated {old_leader} reports follower at {:.3}s",
            step_down.time as f64 / 1e9
        );
    }

    let writes_ok = out
        .history
        .iter()
        .filter(|e| {
            e.kind == EventType::Ok && e.f == Fun::Write && (isolate.at_ns..heal.at_ns).contains(&e.time)
        })
        .count();
    eprintln!("etcd: {writes_ok} writes acknowledged during the isolation");
    assert!(
        writes_ok > 20,
        "only {writes_ok} writes during the isolation: {context}"
    );

    let checker = check_history(&out.history);
    let summary = summarize(&out, checker, &workbench::build_info::versions());
    assert_eq!(
        summary.checker.linearizable,
        Some(true),
        "{:?}: {context}",
        summary.checker
    );
    assert_eq!(out.violation_count, 0, "{context}");
}
