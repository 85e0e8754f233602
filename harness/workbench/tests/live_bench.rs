//! `workbench bench live` end to end, tiny: two client counts, two rounds, short runs, every
//! system (the etcd ones only when `etcd` is installed; the test says when it skips them).
//! About half a minute.
//!
//! The longer benchmark is a recorded command, not a test:
//! `cargo run --release -- bench live --quick` (a few minutes) or
//! `cargo run --release -- bench live` (the full curves; see docs/live.md).

use std::path::Path;
use std::process::Command;

const TINY: &str = r#"
name = "live-bench-tiny"
duration = "400ms"
settle = "200ms"
[cluster]
nodes = 3
[workload]
clients = 1
keys = 100
value_size = 64
mix = { read = 0.0, write = 1.0, cas = 0.0 }
"#;

fn bench(dir: &Path, extra: &[&str]) -> std::process::Output {
    let scenario = dir.join("tiny.toml");
    std::fs::write(&scenario, TINY).unwrap();
    Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(["--quiet", "bench", "live", "--scenario"])
        .arg(&scenario)
        .args(["--clients", "1,4", "--rounds", "2", "--out"])
        .arg(dir.join("report"))
        .args(extra)
        .output()
        .expect("workbench runs")
}

#[test]
fn bench_live_runs_every_system_and_writes_the_report_section() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The test does not measure the disk: tmpfs is fine here (and may be where /tmp is).
    let out = bench(dir.path(), &["--data", data.to_str().unwrap(), "--allow-tmpfs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench live failed ({}):\n{stderr}",
        out.status
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report/bench-live.json")).unwrap())
            .unwrap();
    let etcd = live::etcd::etcd_binary().is_ok();
    if !etcd {
        eprintln!("etcd systems skipped: `etcd` is not on PATH (Debian: apt-get install etcd-server)");
    }
    let systems: Vec<&str> = json["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let expected: &[&str] = if etcd {
        &["raft", "paxos", "null", "etcd", "etcd-direct"]
    } else {
        &["raft", "paxos", "null"]
    };
    assert_eq!(systems, expected);
    let points = json["points"].as_array().unwrap();
    assert_eq!(points.len(), expected.len() * 2 * 2, "systems x clients x rounds");
    for p in points {
        assert_eq!(p["correct"], true, "{p:#}");
        assert!(p["ops_ok"].as_u64().unwrap() > 10, "too few writes: {p:#}");
        assert!(p["write_p50_ns"].as_u64().unwrap() > 0, "{p:#}");
        let workbench_node = !p["system"].as_str().unwrap().starts_with("etcd");
        if workbench_node {
            // The leader reported where its time went, and applied what it committed.
            let leader = p["leader"].as_u64().expect("a leader at the end") as usize;
            let profile = &p["profiles"][leader];
            assert!(profile["commands_applied"].as_u64().unwrap() > 0, "{p:#}");
            assert!(profile["fsyncs"].as_u64().unwrap() > 0, "{p:#}");
        }
    }
    assert_eq!(
        json["limits"].as_array().unwrap().len(),
        2,
        "the floor once per round"
    );
    assert!(
        !data.join("run-raft-c1-r1").exists(),
        "each run's data is removed after it"
    );

    let report = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(report.contains("Live benchmark: Raft, multi-Paxos"), "{report}");
    assert!(report.contains("Knees"), "{report}");
    assert!(report.contains("where the leader's time goes"), "{report}");
    if etcd {
        assert!(
            report.contains("etcd with its members linked directly"),
            "{report}"
        );
    }
    assert!(dir.path().join("report/plots/bench-live-curves.svg").is_file());
}

#[test]
fn bench_live_refuses_a_data_directory_in_memory() {
    let shm = Path::new("/dev/shm");
    if !shm.is_dir() {
        eprintln!("skipped: no /dev/shm on this machine");
        return;
    }
    let data = tempfile::tempdir_in(shm).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = bench(dir.path(), &["--data", data.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tmpfs") && stderr.contains("--allow-tmpfs"),
        "{stderr}"
    );
}
