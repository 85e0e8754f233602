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
//! And every message kind, one step at a time: `protocol_step/<protocol>/one/<kind>` clones a
//! node as it was just before it stepped a message of that kind (taken by
//! [`benches::snapshots`] from a cluster driven through leader changes) and times the `step`
//! plus `take_actions` of that one message (criterion's `iter_batched`: the clone is not
//! timed). Raft: RequestVote, RequestVoteResponse, AppendEntries, AppendEntriesResponse, and
//! with PreVote on, PreVote and PreVoteResponse. Multi-Paxos: Prepare, Promise, Nack, Accept,
//! Accepted, Heartbeat, HeartbeatReply, Learn, Learned, whichever the leader changes produce;
//! the bench prints any kind that did not occur.
//!
//! Throughput is messages, so criterion reports steps per second. Batch 1 is one entry per
//! replication message; batch 16 carries 16 entries. Each timed step includes two
//! `Instant::now` calls (about 40 ns here).
//!
//! ```text
//! cargo bench -p benches --bench protocol_step -- --warm-up-time 1 --measurement-time 3
//! ```

use benches::{Snapshot, StepCluster, paxos_kind, raft_kind, snapshots};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use replog::{ProtocolConfig, ReplicatedLog};
use std::collections::BTreeMap;
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

/// One step of each kind in `snaps`, from the node state it was taken in.
fn bench_one<L: ReplicatedLog + Clone>(
    c: &mut Criterion,
    protocol: &str,
    snaps: &BTreeMap<&'static str, Snapshot<L>>,
    expected: &[&str],
) {
    for kind in expected {
        if !snaps.contains_key(kind) {
            eprintln!("protocol_step/{protocol}/one: no {kind} message occurred in the leader changes");
        }
    }
    let mut group = c.benchmark_group(format!("protocol_step/{protocol}/one"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for (kind, s) in snaps.iter().filter(|(k, _)| expected.contains(k)) {
        group.bench_function(*kind, |b| {
            b.iter_batched(
                || (s.node.clone(), s.msg.clone(), Vec::with_capacity(16)),
                |(mut node, msg, mut actions)| {
                    node.step(s.now, s.from, msg);
                    node.take_actions(&mut actions);
                    (node, actions)
                },
                // A bounded batch: each input is a whole node.
                BatchSize::NumIterations(64),
            )
        });
    }
    group.finish();
}

fn every_kind(c: &mut Criterion) {
    let cfg = ProtocolConfig::default();
    let raft = snapshots::<raft::RaftNode>(&cfg, 5, raft_kind);
    bench_one(
        c,
        "raft",
        &raft,
        &[
            "RequestVote",
            "RequestVoteResponse",
            "AppendEntries",
            "AppendEntriesResponse",
        ],
    );
    let pre_vote = ProtocolConfig {
        pre_vote: true,
        ..ProtocolConfig::default()
    };
    let raft = snapshots::<raft::RaftNode>(&pre_vote, 5, raft_kind);
    bench_one(c, "raft", &raft, &["PreVote", "PreVoteResponse"]);
    let paxos = snapshots::<paxos::PaxosNode>(&cfg, 5, paxos_kind);
    bench_one(
        c,
        "paxos",
        &paxos,
        &[
            "Prepare",
            "Promise",
            "Nack",
            "Accept",
            "Accepted",
            "Heartbeat",
            "HeartbeatReply",
            "Learn",
            "Learned",
        ],
    );
    let paxos = snapshots::<paxos::PaxosNode>(&pre_vote, 5, paxos_kind);
    bench_one(c, "paxos", &paxos, &["PrePrepare", "PrePromise"]);
}

criterion_group!(benches, protocol_step, every_kind);
criterion_main!(benches);
