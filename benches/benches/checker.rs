//! The linearizability checker on synthetic histories (`model::check::synth`).
//!
//! Target (issue 5): a 100,000-operation history over 100 keys with 32 clients checks in
//! under 5 seconds. Also a 10,000-operation history, and the large one with an injected stale
//! read, which adds the cost of shrinking the violation to a minimal witness.
//!
//! ```text
//! cargo bench -p benches --bench checker -- --quick
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use model::check::linearizability::{self, Linearizability};
use model::check::synth::{self, Bug, Workload};
use model::history::Operation;
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

criterion_group!(benches, checker);
criterion_main!(benches);
