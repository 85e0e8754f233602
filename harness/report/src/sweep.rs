//! Reading a load sweep: each protocol's points in load order, and its knee.

use super::{SweepPoint, SweepResult};
use model::protocol::Protocol;

/// The p99 bound that defines the knee: the highest throughput a protocol sustains with p99
/// under it.
pub const KNEE_P99_MS: f64 = 10.0;

/// The points of `protocol`, by offered load.
pub fn points_of(sw: &SweepResult, protocol: Protocol) -> Vec<&SweepPoint> {
    let mut pts: Vec<&SweepPoint> = sw.points.iter().filter(|p| p.protocol == protocol).collect();
    pts.sort_by(|a, b| a.offered_ops_per_s.total_cmp(&b.offered_ops_per_s));
    pts
}

/// The knee of `protocol`: its point with the highest achieved throughput whose p99 is under
/// [`KNEE_P99_MS`] and that passed its checks (`None`: no point was under the bound).
pub fn knee(sw: &SweepResult, protocol: Protocol) -> Option<&SweepPoint> {
    points_of(sw, protocol)
        .into_iter()
        .filter(|p| p.not_failed() && (p.p99_ns as f64 / 1e6) < KNEE_P99_MS)
        .max_by(|a, b| a.achieved_ops_per_s.total_cmp(&b.achieved_ops_per_s))
}

/// The capacity of `protocol`: the highest throughput it achieved at any offered rate.
pub fn capacity(sw: &SweepResult, protocol: Protocol) -> Option<f64> {
    points_of(sw, protocol)
        .iter()
        .map(|p| p.achieved_ops_per_s)
        .max_by(f64::total_cmp)
}

/// Whether `protocol` was driven past saturation: at its highest offered rate it completed
/// less than 95 % of what was offered, so its highest throughput is its capacity.
pub fn reached_capacity(sw: &SweepResult, protocol: Protocol) -> bool {
    points_of(sw, protocol)
        .last()
        .is_some_and(|p| p.achieved_ops_per_s < 0.95 * p.offered_ops_per_s)
}

/// Whether the sweep went past `protocol`'s knee: some point above it broke the bound.
pub fn saturated(sw: &SweepResult, protocol: Protocol) -> bool {
    let knee = knee(sw, protocol).map_or(0.0, |k| k.offered_ops_per_s);
    points_of(sw, protocol)
        .iter()
        .any(|p| p.offered_ops_per_s > knee && (p.p99_ns as f64 / 1e6) >= KNEE_P99_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(offered: f64, achieved: f64, p99_ms: u64) -> SweepPoint {
        SweepPoint {
            protocol: Protocol::Raft,
            offered_ops_per_s: offered,
            achieved_ops_per_s: achieved,
            p50_ns: 1_000_000,
            p99_ns: p99_ms * 1_000_000,
            correct: true,
            checker_gave_up: false,
        }
    }

    #[test]
    fn the_knee_is_the_highest_throughput_with_p99_under_the_bound() {
        let sw = SweepResult {
            scenario: "s".into(),
            source: "s.toml".into(),
            seed: 1,
            duration_ns: 0,
            points: vec![
                point(10_000.0, 10_000.0, 4),
                point(40_000.0, 39_900.0, 8),
                point(80_000.0, 61_000.0, 900),
            ],
        };
        assert_eq!(knee(&sw, Protocol::Raft).unwrap().offered_ops_per_s, 40_000.0);
        assert!(saturated(&sw, Protocol::Raft));
    }
}
