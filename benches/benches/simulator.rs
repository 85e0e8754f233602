//! The deterministic simulator's speed.
//!
//! - `simulator/deliveries/<protocol>`: a 5-node cluster at saturation (open loop, 256
//!   clients, 20,000 arrivals/s, default network, disk and CPU models) for 1 virtual second.
//!   Throughput is messages delivered to nodes (the sum of every node's `msgs_received`),
//!   so criterion reports deliveries per wall second. Target (issue 9): >= 3 M/s.
//! - `simulator/commands/<protocol>/<nodes>`: the same load on 3, 5, 7 and 9 nodes;
//!   throughput is committed client commands, so criterion reports simulated commands per
//!   wall second, and its time per element is the wall cost of one command at that size.
//!
//! - `simulator/pingpong/<cpu>`: the simulator alone. Five nodes run [`PingPong`], which
//!   passes balls around a ring and does nothing else (80 messages in flight, default network
//!   model), for 5 virtual seconds; throughput is messages delivered, so criterion reports
//!   the simulator's own deliveries per wall second, apart from any protocol's cost. `free`:
//!   no CPU model (a node handles a message the instant it arrives); `default`: the default
//!   CPU model, which queues input behind a busy node (more events per delivery).
//!
//! Each `deliveries` and `commands` iteration is a whole `run_sim` (boot, workload, end-of-run
//! invariants; not the linearizability checker, which has its own bench).
//!
//! ```text
//! cargo bench -p benches --bench simulator -- --warm-up-time 1 --measurement-time 3
//! ```

use benches::{PingPong, saturation_scenario};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use model::protocol::Protocol;
use model::run::RunOutput;
use model::scenario::CpuConfig;
use sim::{NoDriver, RunOptions, SimConfig, Simulation, run_protocol};
use std::hint::black_box;
use std::time::Duration;

fn run(protocol: Protocol, scenario: &model::scenario::Scenario) -> RunOutput {
    run_protocol(protocol, scenario, &RunOptions::default()).expect("a simulated protocol")
}

fn delivered(out: &RunOutput) -> u64 {
    out.node_stats.iter().map(|s| s.msgs_received).sum()
}

fn deliveries(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulator/deliveries");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    let scenario = saturation_scenario(5, 20_000, "1s");
    for protocol in Protocol::COMPARED {
        // Runs are deterministic: one untimed run gives every timed run's message count.
        let out = run(protocol, &scenario);
        assert_eq!(out.violation_count, 0, "{protocol}: {:?}", out.violations);
        group.throughput(Throughput::Elements(delivered(&out)));
        group.bench_function(protocol.name(), |b| {
            b.iter(|| black_box(run(protocol, &scenario)))
        });
    }
    group.finish();
}

fn commands(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulator/commands");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for protocol in Protocol::COMPARED {
        for nodes in [3, 5, 7, 9] {
            let scenario = saturation_scenario(nodes, 20_000, "1s");
            let out = run(protocol, &scenario);
            assert_eq!(out.violation_count, 0, "{protocol}/{nodes}: {:?}", out.violations);
            group.throughput(Throughput::Elements(out.committed_commands));
            group.bench_with_input(BenchmarkId::new(protocol.name(), nodes), &scenario, |b, s| {
                b.iter(|| black_box(run(protocol, s)))
            });
        }
    }
    group.finish();
}

/// Runs [`PingPong`] on 5 nodes for 5 virtual seconds; returns the messages delivered.
fn ping_pong(cpu: &CpuConfig) -> u64 {
    let mut cfg = SimConfig::new(5, 1);
    cfg.cpu = cpu.clone();
    let mut sim = Simulation::<PingPong>::new(cfg);
    sim.run_until(5_000_000_000, &mut NoDriver);
    sim.members().iter().map(|&id| sim.stats(id).msgs_received).sum()
}

fn pingpong(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulator/pingpong");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for (name, cpu) in [("free", CpuConfig::free()), ("default", CpuConfig::default())] {
        let delivered = ping_pong(&cpu);
        assert!(delivered > 100_000, "{name}: only {delivered} deliveries");
        group.throughput(Throughput::Elements(delivered));
        group.bench_function(name, |b| b.iter(|| black_box(ping_pong(&cpu))));
    }
    group.finish();
}

criterion_group!(benches, pingpong, deliveries, commands);
criterion_main!(benches);
