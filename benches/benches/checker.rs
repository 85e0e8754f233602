//! The linearizability checker on synthetic histories (`model::check::synth`).
//!
//! Target (issue 5): a 100,000-operation history over 100 keys with 32 clients checks in
//! under 5 seconds. Also a 10,000-operation history, and the large one with an injected stale
//! read, which adds the cost of shrinking the violation to a minimal witness.
//!
//! `checker/hot-key` (issue 18): one key, 32 closed-loop clients, 10 s of operations under a
//! leader crash and a partition, as the simulator writes them for each protocol, checked with
//! the budget of every run. All 32 clients contend for one register, the case the general
//! search cannot decide in minutes; chaining unique values must decide it in seconds.
//!
//! ```text
//! cargo bench -p benches --bench checker -- --quick
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use model::check::linearizability::{self, Linearizability};
use model::check::synth::{self, Bug, Workload};
use model::check::verdict::run_budget;
use model::history::{Operation, pair};
use model::protocol::Protocol;
use model::scenario::Scenario;
use std::hint::black_box;
use std::time::Duration;

fn workload(ops: usize, keys: usize, clients: u64) -> Workload {
    Workload {
        seed: 7,
        clients,
        keys,
        ops,
        ..Workload::default()
    }
}

fn bench_history(c: &mut Criterion, name: &str, ops: &[Operation], expected: Linearizability) {
    // A benchmark of the wrong answer measures nothing.
    let verdict = linearizability::check(ops);
    assert_eq!(verdict.result, expected, "{name}: {verdict}");
    let mut group = c.benchmark_group("checker");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(ops.len() as u64));
    group.bench_with_input(BenchmarkId::new(name, ops.len()), ops, |b, ops| {
        b.iter(|| linearizability::check(black_box(ops)))
    });
    group.finish();
}

fn checker(c: &mut Criterion) {
    let small = synth::linearizable(&workload(10_000, 10, 8));
    bench_history(c, "10_keys_8_clients", &small, Linearizability::Linearizable);

    let large = workload(100_000, 100, 32);
    let ops = synth::linearizable(&large);
    bench_history(c, "100_keys_32_clients", &ops, Linearizability::Linearizable);

    let stale = synth::with_bug(&large, Bug::StaleRead).expect("a place for a stale read");
    bench_history(
        c,
        "100_keys_32_clients_stale_read",
        &stale.ops,
        Linearizability::NotLinearizable,
    );
}

/// One hot key: 32 clients on one register for 10 s, under a leader crash (2 s to 4 s) and a
/// partition that cuts the leader and one follower off (5 s to 7 s).
const HOT_KEY: &str = r#"
name = "hot-key"
duration = "10s"
settle = "2s"

[cluster]
nodes = 5

[workload]
clients = 32
keys = 1

[[faults]]
at = "2s"
action = "crash"
target = "leader"

[[faults]]
at = "4s"
action = "restart"
target = "crashed"

[[faults]]
at = "5s"
action = "partition"
target = "minority_with_leader"

[[faults]]
at = "7s"
action = "heal"
"#;

fn hot_key(c: &mut Criterion) {
    let scenario = Scenario::parse(HOT_KEY, "hot-key").expect("the hot-key scenario is valid");
    let budget = run_budget();
    for protocol in Protocol::COMPARED {
        let out = sim::run_protocol(protocol, &scenario, &sim::RunOptions::default())
            .expect("the hot-key run finishes");
        let ops = pair(&out.history, "hot-key").expect("the simulator's history pairs");
        // A benchmark of the wrong answer (or of giving up) measures nothing.
        let verdict = linearizability::check_within(&ops, &budget);
        assert_eq!(
            verdict.result,
            Linearizability::Linearizable,
            "hot-key {protocol}: {verdict}"
        );
        let mut group = c.benchmark_group("checker");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(10))
            .throughput(Throughput::Elements(ops.len() as u64));
        group.bench_with_input(BenchmarkId::new("hot-key", protocol), &ops, |b, ops| {
            b.iter(|| linearizability::check_within(black_box(ops), &budget))
        });
        group.finish();
    }
}

criterion_group!(benches, checker, hot_key);
criterion_main!(benches);
