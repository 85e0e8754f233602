//! What a reader wants first: per scenario, which protocol is ahead on throughput, tail
//! latency and unavailability, by how much, and whether the difference is significant; and
//! the same figures as data (`aggregates.json`).

use super::aggregate::{self, Comparison, Metric};
use super::plot::protocol_label;
use super::{ReportInput, ScenarioResults, Table, sweep};
use model::metrics::availability::OUTAGE_MIN_NS;
use model::metrics::window::WARMUP_NS;
use model::protocol::Protocol;
use model::stats::{CONFIDENCE, Interval, Magnitude, Significance, percent_lower};
use serde::Serialize;

/// The tail-latency figure a scenario is judged on: open-loop p99 when it injects faults
/// (closed-loop p99 hides outages), p99 otherwise.
pub fn tail_metric(sr: &ScenarioResults) -> Metric {
    if aggregate::has_faults(sr) {
        Metric::P99OpenLoop
    } else {
        Metric::P99
    }
}

/// One cell of the summary table.
pub fn cell(c: &Comparison) -> String {
    let Some(lead) = c.lead else {
        return "equal".into();
    };
    let ahead = protocol_label(lead.ahead);
    let (w, l) = (c.of_protocol(lead.ahead).mean, c.of_protocol(lead.behind).mean);
    let by = match (c.magnitude(), c.metric.higher_is_better()) {
        (Some(Magnitude::Times(r)), true) => format!("{r:.1}× {}'s", protocol_label(lead.behind)),
        (Some(Magnitude::Times(r)), false) => format!("{}'s is {r:.1}×", protocol_label(lead.behind)),
        (Some(Magnitude::Percent(p)), true) => format!("{p:.1} % higher"),
        (Some(Magnitude::Percent(_)), false) => format!("{:.1} % lower", percent_lower(w, l)),
        (None, _) => format!("{} against {}", c.metric.format(w), c.metric.format(l)),
    };
    match c.significance {
        Significance::Separated => format!("**{ahead}**: {by}"),
        Significance::Overlapping => "no significant difference".into(),
        Significance::TooFewSamples => format!("{ahead}: {by} (one seed: not tested)"),
    }
}

/// The "who wins where" table.
pub fn who_wins(input: &ReportInput) -> Table {
    // The reason column only when some reason is known: a column of dashes tells nothing.
    let reasons = !input.reasons.is_empty();
    let mut header: Vec<String> = ["scenario", "throughput", "tail latency (p99)", "unavailability"]
        .map(String::from)
        .to_vec();
    if reasons {
        header.push("reason".into());
    }
    let mut t = Table {
        header,
        rows: Vec::new(),
    };
    for sr in &input.scenarios {
        let compared = Protocol::COMPARED.iter().all(|&p| sr.runs_of(p).next().is_some());
        if !compared {
            continue;
        }
        let show = |m: Metric| aggregate::compare(sr, m).map_or("–".into(), |c| cell(&c));
        let tail = tail_metric(sr);
        let unavailable = if !aggregate::has_faults(sr) {
            "– (no faults)".to_string()
        } else {
            match aggregate::compare(sr, Metric::Unavailable) {
                Some(c) if c.a.1.hi() == 0.0 && c.b.1.hi() == 0.0 => "neither had an outage".into(),
                Some(c) => cell(&c),
                None => "–".into(),
            }
        };
        let mut row = vec![
            format!("[{}](#scenario-{})", sr.scenario.name, sr.scenario.name),
            show(Metric::Throughput),
            format!(
                "{}{}",
                show(tail),
                if tail == Metric::P99OpenLoop {
                    " (open loop)"
                } else {
                    ""
                }
            ),
            unavailable,
        ];
        if reasons {
            row.push(
                input
                    .reasons
                    .get(&sr.scenario.name)
                    .cloned()
                    .unwrap_or_else(|| "–".into()),
            );
        }
        t.rows.push(row);
    }
    t
}

/// How the figures in `aggregates.json` were computed.
#[derive(Serialize)]
pub struct Method {
    pub confidence: f64,
    pub interval: &'static str,
    pub warmup_ns: u64,
    pub outage_min_ns: u64,
    pub knee_p99_ms: f64,
}

/// One protocol's figure over seeds.
#[derive(Serialize)]
pub struct Figure {
    pub protocol: Protocol,
    pub metric: Metric,
    #[serde(flatten)]
    pub interval: Interval,
}

/// A scenario's figures and comparisons.
#[derive(Serialize)]
pub struct ScenarioAggregate {
    pub scenario: String,
    pub faults: bool,
    pub figures: Vec<Figure>,
    pub comparisons: Vec<Comparison>,
}

/// A protocol's knee in a sweep.
#[derive(Serialize)]
pub struct Knee {
    pub scenario: String,
    pub protocol: Protocol,
    pub offered_ops_per_s: f64,
    pub achieved_ops_per_s: f64,
    pub p99_ns: u64,
    /// Whether a higher offered load broke the bound (the sweep went past the knee).
    pub saturated: bool,
}

/// Everything `aggregates.json` holds.
#[derive(Serialize)]
pub struct Aggregates {
    pub method: Method,
    pub scenarios: Vec<ScenarioAggregate>,
    pub knees: Vec<Knee>,
}

/// The report's figures over seeds, as data.
pub fn aggregates(input: &ReportInput) -> Aggregates {
    let scenarios = input
        .scenarios
        .iter()
        .map(|sr| ScenarioAggregate {
            scenario: sr.scenario.name.clone(),
            faults: aggregate::has_faults(sr),
            figures: sr
                .protocols()
                .into_iter()
                .flat_map(|p| {
                    Metric::ALL.into_iter().filter_map(move |m| {
                        aggregate::interval(sr, p, m).map(|interval| Figure {
                            protocol: p,
                            metric: m,
                            interval,
                        })
                    })
                })
                .collect(),
            comparisons: Metric::ALL
                .into_iter()
                .filter_map(|m| aggregate::compare(sr, m))
                .collect(),
        })
        .collect();
    let knees = input
        .sweeps
        .iter()
        .flat_map(|sw| {
            let mut ps: Vec<Protocol> = sw.points.iter().map(|p| p.protocol).collect();
            ps.sort_by_key(|p| p.rank());
            ps.dedup();
            ps.into_iter().filter_map(move |p| {
                sweep::knee(sw, p).map(|k| Knee {
                    scenario: sw.scenario.clone(),
                    protocol: p,
                    offered_ops_per_s: k.offered_ops_per_s,
                    achieved_ops_per_s: k.achieved_ops_per_s,
                    p99_ns: k.p99_ns,
                    saturated: sweep::saturated(sw, p),
                })
            })
        })
        .collect();
    Aggregates {
        method: Method {
            confidence: CONFIDENCE,
            interval: "student-t",
            warmup_ns: WARMUP_NS,
            outage_min_ns: OUTAGE_MIN_NS,
            knee_p99_ms: sweep::KNEE_P99_MS,
        },
        scenarios,
        knees,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(m: Metric, raft: &[f64], paxos: &[f64]) -> Comparison {
        Comparison::of(
            m,
            (Protocol::Raft, Interval::of(raft).unwrap()),
            (Protocol::Paxos, Interval::of(paxos).unwrap()),
        )
    }

    #[test]
    fn a_significant_lead_names_the_protocol_in_bold_and_the_margin() {
        let c = cmp(
            Metric::Throughput,
            &[8877.0, 8870.0, 8880.0],
            &[7479.0, 7470.0, 7490.0],
        );
        assert_eq!(cell(&c), "**Raft**: 18.7 % higher");
    }

    #[test]
    fn a_latency_more_than_twice_the_other_reads_as_a_ratio() {
        let c = cmp(Metric::P99, &[57.0, 58.0, 57.5], &[150.0, 151.0, 149.0]);
        assert_eq!(cell(&c), "**Raft**: Multi-Paxos's is 2.6×");
    }

    #[test]
    fn overlapping_intervals_name_no_winner() {
        let c = cmp(Metric::P99, &[3.0, 5.0, 4.0], &[4.0, 4.5, 4.2]);
        assert_eq!(cell(&c), "no significant difference");
    }
}
