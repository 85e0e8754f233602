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
use report::plot::{self, BarChart};
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
    /// Mean over runs of the longest stretch with no completed operation after the cut.
    fn longest_gap_ms(&self) -> f64 {
        let gaps: Vec<f64> = self
            .runs
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
            .collect();
        gaps.iter().sum::<f64>() / gaps.len().max(1) as f64
    }

    fn mean(&self, f: impl Fn(&Summary) -> f64) -> f64 {
        self.runs.iter().map(f).sum::<f64>() / self.runs.len().max(1) as f64
    }
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
    plot::write_bars(
        dir,
        "dd-partial-gap",
        &BarChart {
            title: "Partial partition: longest stretch with no completed operation".into(),
            y_label: "longest gap after the cut (ms)".into(),
            categories: vec!["during the partial partition".into()],
            series: arms
                .iter()
                .map(|a| (a.label.clone(), a.color, vec![a.longest_gap_ms()]))
                .collect(),
        },
    )?;
    plot::write_bars(
        dir,
        "dd-partial-leaders",
        &BarChart {
            title: "Partial partition: leader changes during the run".into(),
            y_label: "leader changes (count)".into(),
            categories: vec!["whole run".into()],
            series: arms
                .iter()
                .map(|a| {
                    (
                        a.label.clone(),
                        a.color,
                        vec![a.mean(|s| s.elections.leader_changes as f64)],
                    )
                })
                .collect(),
        },
    )?;
    let mut table = Table {
        header: [
            "configuration",
            "runs",
            "longest gap",
            "leader changes",
            "throughput",
            "p99",
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
            format!("{:.0} ms", a.longest_gap_ms()),
            format!("{:.1}", a.mean(|s| s.elections.leader_changes as f64)),
            format!("{:.0} ops/s", a.mean(|s| s.throughput_ops_per_s)),
            format!("{:.1} ms", a.mean(|s| s.latency.all.p99_ns as f64) / 1e6),
            format!(
                "{} of {}",
                a.runs.iter().filter(|s| s.correct).count(),
                a.runs.len()
            ),
        ]);
    }
    let mut paragraphs = vec![
        "One follower loses its links to the leader (and only those) from 3 s to 7 s of a 10 s run on 5 \
         nodes; the same schedule for every configuration. PreVote and CheckQuorum are Raft-only switches \
         with no multi-Paxos counterpart in this workbench, so Paxos runs as built."
            .to_string(),
    ];
    let by = |l: &str| arms.iter().find(|a| a.label == l);
    if let (Some(plain), Some(guarded)) = (by("Raft"), by("Raft + PreVote + CheckQuorum")) {
        paragraphs.push(format!(
            "Raft without the switches had {:.1} leader changes and a longest gap of {:.0} ms; with \
             PreVote and CheckQuorum, {:.1} leader changes and {:.0} ms.",
            plain.mean(|s| s.elections.leader_changes as f64),
            plain.longest_gap_ms(),
            guarded.mean(|s| s.elections.leader_changes as f64),
            guarded.longest_gap_ms()
        ));
    }
    if let Some(paxos) = by("Multi-Paxos") {
        paragraphs.push(format!(
            "Multi-Paxos had {:.1} leader changes and a longest gap of {:.0} ms under the same cut.",
            paxos.mean(|s| s.elections.leader_changes as f64),
            paxos.longest_gap_ms()
        ));
    }
    Ok(Some(Section {
        id: "dd-partial".into(),
        title: "Partial partition: PreVote and CheckQuorum against multi-Paxos".into(),
        paragraphs,
        plots: vec![
            (
                "dd-partial-gap".into(),
                "Mean over seeds of the longest stretch with no completed operation after the cut.".into(),
            ),
            (
                "dd-partial-leaders".into(),
                "Mean number of leader changes over the run (the first election included).".into(),
            ),
        ],
        table: Some(table),
        commands: vec![format!(
            "cargo run --release -- run scenarios/{PLAIN}.toml --protocol all && cargo run --release -- run scenarios/{GUARDED}.toml"
        )],
    }))
}
