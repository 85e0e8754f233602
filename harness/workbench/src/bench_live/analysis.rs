//! What the benchmark's numbers say: each (system, client count) over rounds as intervals,
//! the knee of each throughput curve, and the two goals.
//!
//! The knee is the smallest client count whose mean throughput reaches [`KNEE_SHARE`] of the
//! system's highest mean throughput: past it, more clients buy little throughput and only
//! add queueing latency.

use super::{BenchData, Point, System};
use model::stats::Interval;

/// The share of its peak throughput at which a curve is past its knee.
pub const KNEE_SHARE: f64 = 0.9;
/// Goal: a 1-client write's median within this factor of one loopback round trip plus one
/// lone fdatasync, both measured in the same run.
pub const LATENCY_GOAL: f64 = 1.3;
/// Goal: a 3-node protocol's throughput at its knee at least this share of the
/// no-replication baseline's at its knee.
pub const THROUGHPUT_GOAL: f64 = 0.7;

/// One (system, client count) over its rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub system: System,
    pub clients: usize,
    pub throughput: Interval,
    pub p50_ms: Interval,
    pub p99_ms: Interval,
    pub rounds: usize,
    pub correct_rounds: usize,
}

/// The cells of `system`, by client count (counts with no run are left out).
pub fn cells(data: &BenchData, system: System) -> Vec<Cell> {
    data.clients
        .iter()
        .filter_map(|&clients| {
            let runs: Vec<&Point> = data
                .points
                .iter()
                .filter(|p| p.system == system && p.clients == clients)
                .collect();
            let of = |f: &dyn Fn(&Point) -> f64| Interval::of(&runs.iter().map(|p| f(p)).collect::<Vec<_>>());
            Some(Cell {
                system,
                clients,
                throughput: of(&|p| p.throughput_ops_per_s)?,
                p50_ms: of(&|p| p.write_p50_ns as f64 / 1e6)?,
                p99_ms: of(&|p| p.write_p99_ns as f64 / 1e6)?,
                rounds: runs.len(),
                correct_rounds: runs.iter().filter(|p| p.correct).count(),
            })
        })
        .collect()
}

/// The knee of a curve (cells in client order): the first cell at [`KNEE_SHARE`] of the peak
/// mean throughput.
pub fn knee(cells: &[Cell]) -> Option<&Cell> {
    let peak = cells
        .iter()
        .map(|c| c.throughput.mean)
        .fold(f64::NEG_INFINITY, f64::max);
    cells.iter().find(|c| c.throughput.mean >= KNEE_SHARE * peak)
}

/// The floor a 1-client write is held against: one loopback round trip plus one lone
/// fdatasync, per run (each run measured its own before its cluster started), in ms.
pub fn floor_ms(data: &BenchData, system: System, clients: usize) -> Option<Interval> {
    let v: Vec<f64> = data
        .points
        .iter()
        .filter(|p| p.system == system && p.clients == clients)
        .map(|p| (p.baseline.loopback_rtt_ns_p50 + p.baseline.fdatasync_ns_p50) as f64 / 1e6)
        .collect();
    Interval::of(&v)
}

/// Which fdatasync a floor counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// One writer alone (the floor).
    Alone,
    /// One of as many writers as nodes, at once (what a cluster's syncs are).
    Concurrent,
}

/// Per run, write p50 divided by that run's round trip plus its fdatasync of `kind`.
pub fn latency_ratio(data: &BenchData, system: System, clients: usize, kind: Fsync) -> Option<Interval> {
    let v: Vec<f64> = data
        .points
        .iter()
        .filter(|p| p.system == system && p.clients == clients)
        .filter_map(|p| {
            let fsync = match kind {
                Fsync::Alone => p.baseline.fdatasync_ns_p50,
                Fsync::Concurrent => p.baseline.fdatasync_parallel_ns_p50,
            };
            let floor = p.baseline.loopback_rtt_ns_p50 + fsync;
            (floor > 0).then(|| p.write_p50_ns as f64 / floor as f64)
        })
        .collect();
    Interval::of(&v)
}

/// Per round, `system`'s throughput at `clients` over the baseline's at `null_clients`
/// (both measured in that round).
pub fn throughput_ratio(
    data: &BenchData,
    system: System,
    clients: usize,
    null_clients: usize,
) -> Option<Interval> {
    let v: Vec<f64> = (1..=data.rounds)
        .filter_map(|round| {
            let at = |s: System, c: usize| {
                data.points
                    .iter()
                    .find(|p| p.system == s && p.clients == c && p.round == round)
                    .map(|p| p.throughput_ops_per_s)
            };
            let base = at(System::Null, null_clients)?;
            (base > 0.0).then_some(at(system, clients)? / base)
        })
        .collect();
    Interval::of(&v)
}

/// An interval of one figure over the rounds' floor measurements.
pub fn limit(data: &BenchData, f: impl Fn(&live::baseline::Baseline) -> u64) -> Option<Interval> {
    let v: Vec<f64> = data.limits.iter().map(|l| f(&l.baseline) as f64 / 1e3).collect();
    Interval::of(&v)
}

/// Whether two intervals overlap: "within noise" of each other.
pub fn within_noise(a: &Interval, b: &Interval) -> bool {
    !a.separated_from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(clients: usize, throughput: f64) -> Cell {
        let i = |x| Interval::of(&[x, x]).unwrap();
        Cell {
            system: System::Raft,
            clients,
            throughput: i(throughput),
            p50_ms: i(1.0),
            p99_ms: i(2.0),
            rounds: 2,
            correct_rounds: 2,
        }
    }

    #[test]
    fn the_knee_is_the_first_count_near_the_peak() {
        let curve = [
            cell(1, 1_000.0),
            cell(4, 4_000.0),
            cell(16, 9_200.0),
            cell(64, 10_000.0),
            cell(256, 9_500.0),
        ];
        assert_eq!(knee(&curve).map(|c| c.clients), Some(16));
        let flat = [cell(1, 5_000.0), cell(4, 5_100.0)];
        assert_eq!(knee(&flat).map(|c| c.clients), Some(1));
        assert!(knee(&[]).is_none());
    }
}
