//! The measured window of a run, and the steady-state figures taken over it.
//!
//! A run starts with no leader: the first election and the backlog it leaves are start-up,
//! not steady state. The window opens [`WARMUP_NS`] after the first leader appeared (or
//! [`WARMUP_NS`] after the start if none is recorded) and closes when clients stop issuing
//! operations; the settle phase after it is never measured.

use super::latency::{Latencies, Percentiles};
use crate::scenario::{LoopMode, WorkloadSpec};
use crate::workload::{OpRecord, OpStatus};
use replog::Nanos;
use serde::{Deserialize, Serialize};

/// How long after the first leader the measured window opens.
pub const WARMUP_NS: Nanos = 500_000_000;

/// `[from_ns, to_ns)`: the part of a run whose figures the report calls steady state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from_ns: Nanos,
    pub to_ns: Nanos,
}

impl Window {
    /// The window of a run whose workload lasted `duration_ns` and whose first leader
    /// appeared at `first_leader_ns`.
    pub fn after_warmup(first_leader_ns: Option<Nanos>, duration_ns: Nanos) -> Window {
        let from = first_leader_ns.unwrap_or(0).saturating_add(WARMUP_NS);
        Window {
            from_ns: from.min(duration_ns),
            to_ns: duration_ns,
        }
    }

    /// Its length.
    pub fn len_ns(&self) -> Nanos {
        self.to_ns - self.from_ns
    }

    /// Whether `t` falls in it.
    pub fn contains(&self, t: Nanos) -> bool {
        self.from_ns <= t && t < self.to_ns
    }
}

/// Throughput and latency over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SteadyState {
    pub window: Window,
    /// Operations (ok or fail) that completed in the window.
    pub completed: u64,
    /// `completed` per second of the window.
    pub throughput_ops_per_s: f64,
    /// Latency, from the intended start, of the completed operations that started in the
    /// window.
    pub latency: Percentiles,
    /// What an open-loop client would have seen: for an open-loop run, `latency` itself; for
    /// a closed-loop run, `latency` corrected for coordinated omission (see
    /// [`open_loop_equivalent`]). `None` when the loop mode was not known.
    pub latency_open_loop: Option<Percentiles>,
}

fn completed(op: &OpRecord) -> bool {
    op.status != OpStatus::Info
}

/// How the clients issued operations, which decides what latency an open-loop client saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loop {
    /// Arrivals at a rate: latency already counts from each arrival.
    Open,
    /// Each client waits for its operation, then thinks this long.
    Closed { think_ns: Nanos },
    /// Not known (the run's summary was made without its scenario).
    Unknown,
}

impl Loop {
    /// The loop mode of a scenario's workload.
    pub fn of(spec: &WorkloadSpec) -> Loop {
        match spec.mode {
            LoopMode::Open => Loop::Open,
            LoopMode::Closed => Loop::Closed {
                think_ns: spec.think_time.0,
            },
        }
    }
}

/// The steady-state figures of `ops` over `window`.
pub fn steady_state(ops: &[OpRecord], window: Window, mode: Loop) -> SteadyState {
    let mut latency = Latencies::default();
    let mut done = 0u64;
    for op in ops.iter().filter(|o| completed(o)) {
        if window.contains(op.end_ns) {
            done += 1;
        }
        if window.contains(op.intended_ns) {
            latency.record(op.latency_ns());
        }
    }
    let plain = latency.percentiles();
    let open_loop = match mode {
        Loop::Open => Some(plain.clone()),
        Loop::Closed { think_ns } => Some(open_loop_equivalent(ops, window, plain.p50_ns + think_ns)),
        Loop::Unknown => None,
    };
    SteadyState {
        window,
        completed: done,
        throughput_ops_per_s: if window.len_ns() == 0 {
            0.0
        } else {
            done as f64 * 1e9 / window.len_ns() as f64
        },
        latency: plain,
        latency_open_loop: open_loop,
    }
}

/// Closed-loop latency corrected for coordinated omission: a closed-loop client stuck on one
/// operation for a second issues nothing meanwhile, so its latencies hide the outage that an
/// open-loop client, arriving every `interval_ns`, would have waited through. Each latency
/// longer than the interval is recorded with the latencies the missed arrivals would have
/// seen (`latency - interval`, `latency - 2·interval`, ... down to the interval):
/// HdrHistogram's `recordValueWithExpectedInterval`. The interval is the client's healthy
/// cycle: the window's median latency plus the think time.
pub fn open_loop_equivalent(ops: &[OpRecord], window: Window, interval_ns: Nanos) -> Percentiles {
    let mut h = Latencies::default();
    for op in ops
        .iter()
        .filter(|o| completed(o) && window.contains(o.intended_ns))
    {
        h.record_correct(op.latency_ns(), interval_ns);
    }
    h.percentiles()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Fun;

    fn op(process: u64, start_ms: u64, end_ms: u64) -> OpRecord {
        OpRecord {
            process,
            f: Fun::Write,
            intended_ns: start_ms * 1_000_000,
            invoke_ns: start_ms * 1_000_000,
            end_ns: end_ms * 1_000_000,
            status: OpStatus::Ok,
            attempts: 1,
        }
    }

    #[test]
    fn the_window_opens_a_warmup_after_the_first_leader_and_closes_with_the_workload() {
        let w = Window::after_warmup(Some(300_000_000), 10_000_000_000);
        assert_eq!((w.from_ns, w.to_ns), (800_000_000, 10_000_000_000));
        assert_eq!(Window::after_warmup(None, 200_000_000).len_ns(), 0);
    }

    #[test]
    fn operations_of_the_start_up_election_are_not_steady_state() {
        // A 400 ms start-up wait, then 1 ms operations back to back.
        let mut ops = vec![op(0, 0, 400)];
        ops.extend((400..2000).map(|t| op(0, t, t + 1)));
        let w = Window {
            from_ns: 1_000_000_000,
            to_ns: 2_000_000_000,
        };
        let s = steady_state(&ops, w, Loop::Open);
        assert_eq!((s.latency.max_ns / 1000, s.completed), (1000, 1000), "{s:?}");
    }

    #[test]
    fn a_stalled_closed_loop_client_counts_the_arrivals_it_missed() {
        // One client, 1 ms per operation, one operation stalled for 1 s: 999 healthy
        // latencies and one long one. An open-loop client arriving every 1 ms would have seen
        // about a thousand long waits (1 s, 999 ms, ... 1 ms): the p90 is no longer 1 ms.
        let mut ops: Vec<OpRecord> = (0..999).map(|t| op(0, t, t + 1)).collect();
        ops.push(op(0, 999, 1999));
        let w = Window {
            from_ns: 0,
            to_ns: 3_000_000_000,
        };
        let s = steady_state(&ops, w, Loop::Closed { think_ns: 0 });
        let corrected = s.latency_open_loop.unwrap();
        assert!(s.latency.p90_ns < 1_100_000, "{:?}", s.latency);
        assert!(corrected.p90_ns > 700_000_000, "{corrected:?}");
    }
}
