//! Figures over seeds: for each scenario and protocol, the mean of each metric with its 95 %
//! confidence interval (Student's t, see [`model::stats`]), and the comparison of the two
//! protocols that the tables, the summary and the narrative all read. One place computes
//! them, so no two parts of the report can disagree.

use super::ScenarioResults;
use model::metrics::Summary;
use model::protocol::Protocol;
use model::stats::{Interval, Magnitude, Significance};
use serde::{Deserialize, Serialize};

/// A figure the report compares, with its unit and which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Operations completed per second over the measured window.
    Throughput,
    /// Median latency over the measured window.
    P50,
    /// 99th percentile latency over the measured window.
    P99,
    /// 99th percentile latency an open-loop client would have seen (closed loop: corrected
    /// for coordinated omission).
    P99OpenLoop,
    /// Time in the measured window with no completion for at least the outage threshold.
    Unavailable,
    /// The longest such stretch.
    LongestOutage,
    MessagesPerCommand,
    BytesPerCommand,
    LeaderChanges,
}

/// How a figure is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    OpsPerSecond,
    Milliseconds,
    Count,
    Bytes,
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Metric; 9] = [
        Metric::Throughput,
        Metric::P50,
        Metric::P99,
        Metric::P99OpenLoop,
        Metric::Unavailable,
        Metric::LongestOutage,
        Metric::MessagesPerCommand,
        Metric::BytesPerCommand,
        Metric::LeaderChanges,
    ];

    /// The name in a sentence ("p99 latency").
    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::P50 => "median latency",
            Metric::P99 => "p99 latency",
            Metric::P99OpenLoop => "open-loop p99 latency",
            Metric::Unavailable => "unavailability",
            Metric::LongestOutage => "longest outage",
            Metric::MessagesPerCommand => "messages per command",
            Metric::BytesPerCommand => "bytes per command",
            Metric::LeaderChanges => "leader changes",
        }
    }

    /// The column header, unit included.
    pub fn header(self) -> &'static str {
        match self {
            Metric::Throughput => "ops/s",
            Metric::P50 => "p50 ms",
            Metric::P99 => "p99 ms",
            Metric::P99OpenLoop => "open-loop p99 ms",
            Metric::Unavailable => "unavailable ms",
            Metric::LongestOutage => "longest outage ms",
            Metric::MessagesPerCommand => "msgs/cmd",
            Metric::BytesPerCommand => "bytes/cmd",
            Metric::LeaderChanges => "leader changes",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::Throughput => Unit::OpsPerSecond,
            Metric::P50 | Metric::P99 | Metric::P99OpenLoop | Metric::Unavailable | Metric::LongestOutage => {
                Unit::Milliseconds
            }
            Metric::MessagesPerCommand | Metric::LeaderChanges => Unit::Count,
            Metric::BytesPerCommand => Unit::Bytes,
        }
    }

    pub fn higher_is_better(self) -> bool {
        self == Metric::Throughput
    }

    /// The figure of one run (`None` when the run has nothing to measure it on).
    pub fn of(self, s: &Summary) -> Option<f64> {
        let ms = |ns: u64| ns as f64 / 1e6;
        let st = &s.steady;
        match self {
            Metric::Throughput => Some(st.throughput_ops_per_s),
            Metric::P50 => (st.latency.count > 0).then(|| ms(st.latency.p50_ns)),
            Metric::P99 => (st.latency.count > 0).then(|| ms(st.latency.p99_ns)),
            Metric::P99OpenLoop => st
                .latency_open_loop
                .as_ref()
                .filter(|p| p.count > 0)
                .map(|p| ms(p.p99_ns)),
            Metric::Unavailable => Some(ms(s.availability.unavailable_ns)),
            Metric::LongestOutage => Some(ms(s.availability.longest_outage_ns)),
            Metric::MessagesPerCommand => {
                (s.committed_commands > 0).then_some(s.messages.messages_per_command)
            }
            Metric::BytesPerCommand => (s.committed_commands > 0).then_some(s.messages.bytes_per_command),
            Metric::LeaderChanges => Some(s.elections.leader_changes as f64),
        }
    }

    /// A value in this metric's unit, for a sentence ("18.7 ms", "9612 ops/s").
    pub fn format(self, v: f64) -> String {
        match self.unit() {
            Unit::OpsPerSecond => format!("{v:.0} ops/s"),
            Unit::Milliseconds => format_ms(v),
            Unit::Count => format!("{v:.2}"),
            Unit::Bytes => format!("{v:.0} B"),
        }
    }

    /// An interval for a table cell, without the unit: `9612 ± 41`.
    pub fn cell(self, i: &Interval) -> String {
        if i.mean == 0.0 && i.half_width.unwrap_or(0.0) == 0.0 {
            // Zero in every seed (no outage after this fault): no decimals to read.
            return "0".into();
        }
        let p = match self.unit() {
            Unit::OpsPerSecond | Unit::Bytes => 0,
            Unit::Milliseconds if i.mean >= 100.0 => 0,
            Unit::Milliseconds if i.mean >= 10.0 => 1,
            Unit::Milliseconds | Unit::Count => 2,
        };
        match i.half_width {
            Some(h) => format!("{:.p$} ± {:.p$}", i.mean, h),
            None => format!("{:.p$}", i.mean),
        }
    }
}

/// Milliseconds as a reader wants them: `0.84 ms`, `18.7 ms`, `412 ms`, `1.19 s`.
pub fn format_ms(v: f64) -> String {
    if v == 0.0 {
        "0 ms".into()
    } else if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// The interval of `metric` over the runs of `protocol` in `sr` (`None`: no run measured it).
pub fn interval(sr: &ScenarioResults, protocol: Protocol, metric: Metric) -> Option<Interval> {
    let v: Vec<f64> = sr
        .runs_of(protocol)
        .filter_map(|r| metric.of(&r.summary))
        .collect();
    Interval::of(&v)
}

/// Which protocol a comparison favours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub ahead: Protocol,
    pub behind: Protocol,
}

/// Two protocols compared on one metric over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub metric: Metric,
    pub a: (Protocol, Interval),
    pub b: (Protocol, Interval),
    /// Who is ahead on the means (`None`: equal means).
    pub lead: Option<Lead>,
    pub significance: Significance,
}

impl Comparison {
    /// `a` against `b` on `metric`.
    pub fn of(metric: Metric, a: (Protocol, Interval), b: (Protocol, Interval)) -> Comparison {
        let better = |x: f64, y: f64| if metric.higher_is_better() { x > y } else { x < y };
        let lead = if better(a.1.mean, b.1.mean) {
            Some(Lead {
                ahead: a.0,
                behind: b.0,
            })
        } else if better(b.1.mean, a.1.mean) {
            Some(Lead {
                ahead: b.0,
                behind: a.0,
            })
        } else {
            None
        };
        Comparison {
            metric,
            significance: Significance::of(&a.1, &b.1),
            a,
            b,
            lead,
        }
    }

    /// The interval of `p`.
    pub fn of_protocol(&self, p: Protocol) -> &Interval {
        if self.a.0 == p { &self.a.1 } else { &self.b.1 }
    }

    /// By how much the larger mean exceeds the smaller; `None` when the smaller one's interval
    /// reaches zero (an outage in one seed of five: "165×" of that mean says nothing), in which
    /// case the text gives both figures instead.
    pub fn magnitude(&self) -> Option<Magnitude> {
        let (small, large) = if self.a.1.mean <= self.b.1.mean {
            (&self.a.1, &self.b.1)
        } else {
            (&self.b.1, &self.a.1)
        };
        if small.lo() <= 0.0 {
            return None;
        }
        Magnitude::of(large.mean, small.mean)
    }

    /// Whether the difference counts: the intervals separate.
    pub fn significant(&self) -> bool {
        self.significance == Significance::Separated
    }
}

/// The comparison of Raft and multi-Paxos on `metric` in `sr`, if both measured it.
pub fn compare(sr: &ScenarioResults, metric: Metric) -> Option<Comparison> {
    let [a, b] = Protocol::COMPARED;
    Some(Comparison::of(
        metric,
        (a, interval(sr, a, metric)?),
        (b, interval(sr, b, metric)?),
    ))
}

/// Whether the scenario injects faults: a fault schedule, a random nemesis, or messages lost
/// or duplicated for the whole run (under steady loss, closed-loop p99 hides the stalls just
/// as it hides an outage).
pub fn has_faults(sr: &ScenarioResults) -> bool {
    let seed = sr.runs.first().map_or(sr.scenario.seed, |r| r.summary.seed);
    let network = &sr.scenario.network;
    !sr.scenario.fault_schedule(seed).is_empty() || network.loss > 0.0 || network.duplicate > 0.0
}

/// Whether every seed of the scenario ran the same fault schedule (a fixed list), so that
/// fault *i* is the same fault in every seed.
pub fn same_schedule_every_seed(sr: &ScenarioResults) -> bool {
    sr.scenario.faults.random.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(xs: &[f64]) -> Interval {
        Interval::of(xs).unwrap()
    }

    #[test]
    fn lower_latency_leads_and_higher_throughput_leads() {
        let raft = (Protocol::Raft, iv(&[3.0, 3.1, 3.2]));
        let paxos = (Protocol::Paxos, iv(&[4.0, 4.1, 4.2]));
        let p99 = Comparison::of(Metric::P99, raft, paxos);
        assert_eq!(p99.lead.unwrap().ahead, Protocol::Raft);
        let tput = Comparison::of(Metric::Throughput, raft, paxos);
        assert_eq!(tput.lead.unwrap().ahead, Protocol::Paxos);
        assert!(p99.significant() && tput.significant());
    }

    #[test]
    fn overlapping_intervals_are_not_a_significant_lead() {
        let raft = (Protocol::Raft, iv(&[3.0, 5.0, 4.0]));
        let paxos = (Protocol::Paxos, iv(&[4.0, 4.5, 4.2]));
        assert!(!Comparison::of(Metric::P99, raft, paxos).significant());
    }

    /// loss-5pct: Raft had one 50 ms outage in five seeds (9.9 ± 27.5 ms), Multi-Paxos 1.64 s:
    /// separated, but a ratio to a mean whose interval reaches zero would be noise.
    #[test]
    fn no_ratio_against_a_figure_whose_interval_reaches_zero() {
        let raft = (Protocol::Raft, iv(&[0.0, 0.0, 0.0, 0.0, 49.6]));
        let paxos = (Protocol::Paxos, iv(&[1600.0, 1650.0, 1700.0, 1580.0, 1680.0]));
        let c = Comparison::of(Metric::Unavailable, raft, paxos);
        assert!(c.significant());
        assert_eq!(c.magnitude(), None);
    }

    #[test]
    fn zero_in_every_seed_is_a_plain_zero() {
        assert_eq!(Metric::Unavailable.cell(&Interval::of(&[0.0; 5]).unwrap()), "0");
        assert_eq!(
            Metric::P99.cell(&Interval::of(&[3.0, 3.5, 4.0]).unwrap()),
            "3.50 ± 1.24"
        );
    }

    #[test]
    fn milliseconds_read_in_the_unit_that_fits() {
        assert_eq!(format_ms(0.842), "0.84 ms");
        assert_eq!(format_ms(18.74), "18.7 ms");
        assert_eq!(format_ms(412.4), "412 ms");
        assert_eq!(format_ms(1191.96), "1.19 s");
    }
}
