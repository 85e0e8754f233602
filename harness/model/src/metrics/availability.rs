//! Availability: stretches in which no client operation completed.
//!
//! With 16 to 32 clients and millisecond operations, completions come every fraction of a
//! millisecond; a gap of a few milliseconds between two of them is ordinary queueing, not an
//! outage. A gap counts as *unavailability* only from [`OUTAGE_MIN_NS`] on. Faults recorded
//! after the workload ended (the settle phase's "every fault healed") are not faults of the
//! run and get no entry.

use super::elections::{LeaderChange, next_leader_after};
use super::window::Window;
use crate::faults::FaultRecord;
use crate::workload::{OpRecord, OpStatus};
use replog::Nanos;
use serde::{Deserialize, Serialize};

/// The shortest gap between completions that counts as unavailability.
pub const OUTAGE_MIN_NS: Nanos = 20_000_000;

/// What followed one fault, up to the next fault or the end of the workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unavailability {
    pub fault: String,
    pub at_ns: Nanos,
    /// End of the window considered: the next fault, or the end of the workload.
    pub until_ns: Nanos,
    /// The longest stretch in the window with no operation completing.
    pub longest_gap_ns: Nanos,
    /// `longest_gap_ns` if it reaches [`OUTAGE_MIN_NS`], else 0.
    #[serde(default)]
    pub outage_ns: Nanos,
    /// From the fault to the first operation completing after it (None: none did before
    /// `until_ns`, so the cluster was down for the whole fault).
    pub first_completion_ns: Option<Nanos>,
    /// From the fault to a leader of a newer epoch (None: no new leader in the window).
    pub new_leader_ns: Option<Nanos>,
}

impl Unavailability {
    /// Whether no operation completed from the fault to the end of its window, and that
    /// window was long enough to count as an outage.
    pub fn down_throughout(&self) -> bool {
        self.first_completion_ns.is_none() && self.until_ns - self.at_ns >= OUTAGE_MIN_NS
    }
}

/// Unavailability over a whole measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// Total time in gaps of at least [`OUTAGE_MIN_NS`].
    pub unavailable_ns: Nanos,
    /// How many such gaps.
    pub outages: u64,
    /// The longest of them (0 if none).
    pub longest_outage_ns: Nanos,
}

/// Completion times of the completed (ok or fail) operations, sorted.
pub fn completion_times(ops: &[OpRecord]) -> Vec<Nanos> {
    let mut ends: Vec<Nanos> = ops
        .iter()
        .filter(|o| o.status != OpStatus::Info)
        .map(|o| o.end_ns)
        .collect();
    ends.sort_unstable();
    ends
}

/// The gaps between `from`, the completions in `[from, until)` and `until`.
fn gaps(ends: &[Nanos], from: Nanos, until: Nanos) -> Vec<Nanos> {
    let start = ends.partition_point(|&t| t < from);
    let stop = ends.partition_point(|&t| t < until);
    let mut out = Vec::with_capacity(stop.saturating_sub(start) + 1);
    let mut last = from;
    for &t in &ends[start..stop.max(start)] {
        out.push(t - last);
        last = t;
    }
    out.push(until.saturating_sub(last));
    out
}

/// Unavailability over `window`.
pub fn availability(ends: &[Nanos], window: Window) -> Availability {
    let mut a = Availability::default();
    for g in gaps(ends, window.from_ns, window.to_ns)
        .into_iter()
        .filter(|&g| g >= OUTAGE_MIN_NS)
    {
        a.unavailable_ns += g;
        a.outages += 1;
        a.longest_outage_ns = a.longest_outage_ns.max(g);
    }
    a
}

/// Unavailability after each applied fault of the workload (`at_ns < duration_ns`).
pub fn after_each_fault(
    ends: &[Nanos],
    faults: &[FaultRecord],
    changes: &[LeaderChange],
    duration_ns: Nanos,
) -> Vec<Unavailability> {
    let faults: Vec<_> = faults
        .iter()
        .filter(|f| f.applied && f.at_ns < duration_ns)
        .collect();
    faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let until = faults
                .get(i + 1)
                .map_or(duration_ns, |next| next.at_ns)
                .max(f.at_ns);
            let longest = gaps(ends, f.at_ns, until).into_iter().max().unwrap_or(0);
            let first = ends[ends.partition_point(|&t| t < f.at_ns)..]
                .first()
                .filter(|&&t| t < until);
            Unavailability {
                fault: f.label.clone(),
                at_ns: f.at_ns,
                until_ns: until,
                longest_gap_ns: longest,
                outage_ns: if longest >= OUTAGE_MIN_NS { longest } else { 0 },
                first_completion_ns: first.map(|t| t - f.at_ns),
                new_leader_ns: next_leader_after(changes, f.at_ns)
                    .filter(|c| c.at_ns < until)
                    .map(|c| c.at_ns - f.at_ns),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::FaultKind;

    const MS: Nanos = 1_000_000;

    fn fault(at_ms: u64, label: &str) -> FaultRecord {
        FaultRecord {
            at_ns: at_ms * MS,
            kind: FaultKind::Crash,
            nodes: Vec::new(),
            label: label.into(),
            applied: true,
        }
    }

    #[test]
    fn gaps_of_a_few_milliseconds_are_not_unavailability() {
        let ends: Vec<Nanos> = (0..1000).map(|i| i * 5 * MS).collect();
        let w = Window {
            from_ns: 0,
            to_ns: 5000 * MS,
        };
        assert_eq!(availability(&ends, w), Availability::default());
    }

    #[test]
    fn an_outage_counts_from_the_last_completion_to_the_next() {
        let mut ends: Vec<Nanos> = (0..100).map(|i| i * MS).collect();
        ends.extend((400..500).map(|i| i * MS));
        let w = Window {
            from_ns: 0,
            to_ns: 500 * MS,
        };
        let a = availability(&ends, w);
        assert_eq!((a.outages, a.unavailable_ns), (1, 301 * MS));
    }

    #[test]
    fn a_fault_with_no_completion_until_the_next_one_was_down_throughout() {
        let ends: Vec<Nanos> = (0..100).map(|i| i * MS).collect();
        let faults = [fault(100, "one_way n2 (leader)"), fault(1300, "heal")];
        let u = after_each_fault(&ends, &faults, &[], 2000 * MS);
        assert_eq!(u.len(), 2);
        assert!(u[0].down_throughout() && u[0].outage_ns == 1200 * MS, "{u:?}");
    }

    #[test]
    fn faults_after_the_workload_get_no_entry() {
        let faults = [fault(100, "crash n1"), fault(2000, "settle: every fault healed")];
        let u = after_each_fault(&[], &faults, &[], 2000 * MS);
        assert_eq!(u.len(), 1);
    }
}
