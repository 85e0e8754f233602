//! File write-ahead-log appends per second (`replog::storage::wal::Wal` in a temporary
//! directory on this machine's disk), 128-byte records:
//! - `wal/buffered`: append, then hand the buffer to the OS every record, no fsync (what
//!   survives a process crash, not a power loss);
//! - `wal/fsync_each`: append then fdatasync every record (no group commit);
//! - `wal/group_commit/<n>`: n appends share one fdatasync.
//!
//! Throughput is records, so criterion reports appends per second.
//!
//! ```text
//! cargo bench -p benches --bench wal -- --warm-up-time 1 --measurement-time 3
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use replog::storage::wal::{Wal, WalOptions};
use std::hint::black_box;
use std::time::Duration;

const RECORD: [u8; 128] = [0x5a; 128];

fn open() -> (tempfile::TempDir, Wal) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).expect("the WAL opens");
    (dir, wal)
}

fn wal(c: &mut Criterion) {
    let mut group = c.benchmark_group("wal");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));

    group.throughput(Throughput::Elements(1));
    let (_dir, mut w) = open();
    group.bench_function("buffered", |b| {
        b.iter(|| {
            w.append(black_box(&RECORD)).unwrap();
            w.write_buffer().unwrap();
        })
    });
    drop((_dir, w));

    let (_dir, mut w) = open();
    group.bench_function("fsync_each", |b| {
        b.iter(|| {
            w.append(black_box(&RECORD)).unwrap();
            w.sync().unwrap();
        })
    });
    drop((_dir, w));

    for n in [8u64, 64, 512] {
        let (_dir, mut w) = open();
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::new("group_commit", n), |b| {
            b.iter(|| {
                for _ in 0..n {
                    w.append(black_box(&RECORD)).unwrap();
                }
                w.sync().unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, wal);
criterion_main!(benches);
