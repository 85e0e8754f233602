//! A partial partition: one follower loses its links to the leader but keeps the others.
//! Textbook Raft's cut-off follower times out, raises its term and deposes a healthy leader
//! again and again; PreVote (thesis §9.6) stops it from raising its term without a chance of
//! winning, and CheckQuorum (§6.2) makes voters who hear from a leader ignore it. Multi-Paxos
//! has the same exposure: the cut-off node suspects the leader and prepares a higher ballot,
//! which preempts the leader. This section reads the suite's own runs of the
//! `partial-partition-plain` (Raft without either switch, and multi-Paxos) and
//! `partial-partition-prevote-checkquorum` scenarios.

use model::metrics::Summary;
use model::protocol::Protocol;
use model::stats::Interval;
use report::plot::{self, Axis, BarChart, BarOptions};
use report::{ReportError, ScenarioResults, Section, Table};
use std::path::Path;

const PLAIN: &str = "partial-partition-plain";
const GUARDED: &str = "partial-partition-prevote-checkquorum";

struct Arm {
    label: String,
    color: plot::RGBColor,
    runs: Vec<Summary>,
}

impl Arm {
    /// Per run, the longest stretch with no completed operation after the cut.
    fn longest_gaps_ms(&self) -> Vec<f64> {
        self.runs
            .iter()
            .map(|s| {
                s.unavailability
                    .iter()
                    .filter(|u| u.fault.contains("partial"))
                    .map(|u| u.longest_gap_ns)
                    .max()
                    .unwrap_or(0) as f64
                    / 1e6
            })
            .collect()
    }

    /// The mean of the longest gaps over runs, with its interval.
    fn longest_gap(&self) -> Option<Interval> {
        Interval::of(&self.longest_gaps_ms())
    }

    /// The mean of `f` over runs, with its interval.
    fn interval(&self, f: impl Fn(&Summary) -> f64) -> Option<Interval> {
        Interval::of(&self.runs.iter().map(f).collect::<Vec<_>>())
    }
}

/// `mean ± half-width` with `decimals` decimals, or "–".
fn cell(i: Option<Interval>, decimals: usize) -> String {
    match i {
        Some(Interval {
            mean,
            half_width: Some(h),
            ..
        }) => format!("{mean:.decimals$} ± {h:.decimals$}"),
        Some(i) => format!("{:.decimals$}", i.mean),
        None => "–".into(),
    }
}

fn leader_changes(s: &Summary) -> f64 {
    s.elections.leader_changes as f64
}

fn arms(scenarios: &[ScenarioResults]) -> Vec<Arm> {
    let summaries = |name: &str, protocol: Protocol| -> Vec<Summary> {
        scenarios
            .iter()
            .filter(|s| s.scenario.name == name)
            .flat_map(|s| s.runs_of(protocol).map(|r| r.summary.clone()))
            .collect()
    };
    let mut out = vec![
        Arm {
            label: "Raft".into(),
            color: plot::protocol_color(Protocol::Raft),
            runs: summaries(PLAIN, Protocol::Raft),
        },
        Arm {
            label: "Raft + PreVote + CheckQuorum".into(),
            color: plot::PALETTE[2],
            runs: summaries(GUARDED, Protocol::Raft),
        },
        Arm {
            label: "Multi-Paxos".into(),
            color: plot::protocol_color(Protocol::Paxos),
            runs: summaries(PLAIN, Protocol::Paxos),
        },
    ];
    out.retain(|a| !a.runs.is_empty());
    out
}

/// The section, if the suite ran the partial-partition scenarios.
pub fn section(dir: &Path, scenarios: &[ScenarioResults]) -> Result<Option<Section>, ReportError> {
    let arms = arms(scenarios);
    if arms.is_empty() {
        return Ok(None);
    }
    let bars = |stem: &str, title: &str, y: &str, category: &str, f: &dyn Fn(&Arm) -> Option<Interval>| {
        plot::write_bars_with(
            dir,
            stem,
            &BarChart {
                title: title.into(),
                y_label: y.into(),
                categories: vec![category.into()],
                series: arms
                    .iter()
                    .map(|a| (a.label.clone(), a.color, vec![f(a).map_or(0.0, |i| i.mean)]))
                    .collect(),
            },
            &BarOptions {
                intervals: arms
                    .iter()
                    .map(|a| vec![f(a).filter(|i| i.half_width.is_some()).map(|i| (i.lo(), i.hi()))])
                    .collect(),
                y_axis: Axis::Linear,
            },
        )
    };
    bars(
        "dd-partial-gap",
        "Partial partition: longest stretch with no completed operation",
        "longest gap after the cut (ms)",
        "during the partial partition",
        &|a| a.longest_gap(),
    )?;
    bars(
        "dd-partial-leaders",
        "Partial partition: leader changes during the run",
        "leader changes (count)",
        "whole run",
        &|a| a.interval(leader_changes),
    )?;
    let mut table = Table {
        header: [
            "configuration",
            "runs",
            "longest gap ms",
            "leader changes",
            "throughput ops/s",
            "p99 ms",
            "correct",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for a in &arms {
        table.rows.push(vec![
            a.label.clone(),
            a.runs.len().to_string(),
            cell(a.longest_gap(), 0),
            cell(a.interval(leader_changes), 1),
            cell(a.interval(|s| s.steady.throughput_ops_per_s), 0),
            cell(a.interval(|s| s.steady.latency.p99_ns as f64 / 1e6), 2),
            format!(
                "{} of {}",
                a.runs.iter().filter(|s| s.correct).count(),
                a.runs.len()
            ),
        ]);
    }
    let n = arms.iter().map(|a| a.runs.len()).max().unwrap_or(0);
    let mut paragraphs = vec![format!(
        "One follower loses its links to the leader (and only those) from 3 s to 7 s of a 10 s run on 5 \
         nodes; the same schedule for every configuration, {n} seed{} each (means ± 95 % interval). PreVote and \
         CheckQuorum are Raft-only switches with no multi-Paxos counterpart in this workbench, so Paxos runs as \
         built.",
        if n == 1 { "" } else { "s" }
    )];
    let by = |l: &str| arms.iter().find(|a| a.label == l);
    if let (Some(plain), Some(guarded)) = (by("Raft"), by("Raft + PreVote + CheckQuorum")) {
        paragraphs.push(format!(
            "Raft without the switches had {} leader changes and a longest gap of {} ms; with PreVote and \
             CheckQuorum, {} leader changes and {} ms.",
            cell(plain.interval(leader_changes), 1),
            cell(plain.longest_gap(), 0),
            cell(guarded.interval(leader_changes), 1),
            cell(guarded.longest_gap(), 0)
        ));
    }
    if let Some(paxos) = by("Multi-Paxos") {
        paragraphs.push(format!(
            "Multi-Paxos had {} leader changes and a longest gap of {} ms under the same cut.",
            cell(paxos.interval(leader_changes), 1),
            cell(paxos.longest_gap(), 0)
        ));
    }
    Ok(Some(Section {
        id: "dd-partial".into(),
        title: "Partial partition: PreVote and CheckQuorum against multi-Paxos".into(),
        paragraphs,
        plots: vec![
            (
                "dd-partial-gap".into(),
                "Mean over seeds of the longest stretch with no completed operation after the cut, with its 95 % \
                 interval."
                    .into(),
            ),
            (
                "dd-partial-leaders".into(),
                "Mean number of leader changes over the run (the first election included), with its 95 % interval."
                    .into(),
            ),
        ],
        table: Some(table),
        commands: vec![format!(
            "cargo run --release -- run scenarios/{PLAIN}.toml --protocol all && cargo run --release -- run scenarios/{GUARDED}.toml"
        )],
    }))
}
