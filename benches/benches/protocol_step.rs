//! Protocol step throughput: messages a single node handles per second in isolation.
//!
//! A [`benches::StepCluster`] (perfect network, instant persistence, no simulator) keeps a
//! 5-node cluster in steady-state replication, `batch` proposals per round, and times only
//! the `step` (plus `take_actions`) of the selected message kind:
//! - `protocol_step/raft/AppendEntries/<batch>`: a follower appending entries;
//! - `protocol_step/raft/AppendEntriesResponse/<batch>`: the leader counting acks, advancing
//!   the commit index and emitting commits;
//! - `protocol_step/paxos/Accept/<batch>` and `protocol_step/paxos/Accepted/<batch>`: the same
//!   for multi-Paxos's phase 2.
//!
//! Throughput is messages, so criterion reports steps per second. Batch 1 is one entry per
//! replication message; batch 16 carries 16 entries. Each timed step includes two
//! `Instant::now` calls (about 40 ns here).
//!
//! ```text
//! cargo bench -p benches --bench protocol_step -- --warm-up-time 1 --measurement-time 3
//! ```

use benches::{StepCluster, paxos_kind, raft_kind};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use replog::{ProtocolConfig, ReplicatedLog};
use std::time::Duration;

fn bench_kind<L: ReplicatedLog>(
    c: &mut Criterion,
    protocol: &str,
    kind_of: fn(&L::Message) -> &'static str,
    kind: &str,
) {
    let mut group = c.benchmark_group(format!("protocol_step/{protocol}/{kind}"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for batch in [1usize, 16] {
        let mut cluster = StepCluster::<L>::new(5, &ProtocolConfig::default(), 7);
        cluster.warm(1_000, batch);
        group.bench_function(BenchmarkId::from_parameter(batch), |b| {
            b.iter_custom(|iters| cluster.time_steps(iters, batch, kind_of, kind))
        });
    }
    group.finish();
}

fn protocol_step(c: &mut Criterion) {
    for kind in ["AppendEntries", "AppendEntriesResponse"] {
        bench_kind::<raft::RaftNode>(c, "raft", raft_kind, kind);
    }
    for kind in ["Accept", "Accepted"] {
        bench_kind::<paxos::PaxosNode>(c, "paxos", paxos_kind, kind);
    }
}

criterion_group!(benches, protocol_step);
criterion_main!(benches);
