//! What one command costs as the cluster grows: the same offered load on 3 to 15
//! nodes, for each protocol.
//!
//! Two kinds of cost, kept apart because only one of them is deterministic:
//!
//! - **work**, counted by the simulator: messages delivered to nodes and bytes sent per
//!   committed command. A leader that replicates to n-1 followers sends O(n) messages per
//!   batch, so these should grow about linearly with n and no faster;
//! - **wall time** of the simulator per committed command on the machine that made the
//!   report: what an experiment of that size costs to run. It includes clients, the state
//!   machine on every node, the simulator itself and the end-of-run invariants (settling
//!   included), not the linearizability checker. It is
//!   the minimum over a few repetitions of the same (deterministic) run, measured one run at
//!   a time, and it is noisy on a shared machine; the report says so beside it.
//!
//! The load is open loop and below what a 15-node leader saturates at, so every size commits
//! the same commands and the per-command figures compare like with like.

use super::scenario;
use model::check::verdict::check_history;
use model::metrics::summarize;
use model::protocol::Protocol;
use report::plot::{self, Axis, LineChart, Series};
use report::{ReportError, Section, Table};
use serde::{Deserialize, Serialize};
use sim::{RunOptions, run_protocol};
use std::path::Path;
use std::time::Instant;

/// How much the cost per added node may grow from the smaller sizes to the larger and still
/// be called linear: a linear cost has a constant cost per added node (growth 1), n² over
/// 3..15 nodes doubles it, 10n + n² multiplies it by 1.55.
pub const LINEAR_TOLERANCE: f64 = 0.25;

/// Cluster sizes measured.
pub const SIZES: [usize; 7] = [3, 5, 7, 9, 11, 13, 15];

/// One (protocol, cluster size) measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingPoint {
    pub protocol: Protocol,
    pub nodes: usize,
    pub committed_commands: u64,
    /// Messages delivered to nodes, per committed command.
    pub deliveries_per_command: f64,
    pub bytes_per_command: f64,
    /// Wall-clock nanoseconds of the simulation per committed command (machine-dependent).
    pub wall_ns_per_command: f64,
    pub correct: bool,
}

/// The whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingData {
    pub offered_ops_per_s: u64,
    pub virtual_seconds: f64,
    pub repetitions: usize,
    pub points: Vec<ScalingPoint>,
}

impl ScalingData {
    /// `protocol`'s points in size order.
    fn of(&self, protocol: Protocol) -> impl Iterator<Item = &ScalingPoint> + '_ {
        self.points.iter().filter(move |p| p.protocol == protocol)
    }

    /// The least-squares straight line through `protocol`'s points of `cost` against cluster
    /// size, and how the cost per added node changes along it. Points of runs that failed or
    /// committed nothing are left out; `None` with fewer than four points left.
    pub fn line_fit(&self, protocol: Protocol, cost: fn(&ScalingPoint) -> f64) -> Option<LineFit> {
        let xy: Vec<(f64, f64)> = self
            .of(protocol)
            .filter(|p| p.correct && p.committed_commands > 0)
            .map(|p| (p.nodes as f64, cost(p)))
            .collect();
        if xy.len() < 4 {
            return None;
        }
        let n = xy.len() as f64;
        let (mx, my) = (
            xy.iter().map(|p| p.0).sum::<f64>() / n,
            xy.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let sxx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = sxy / sxx;
        let intercept = my - slope * mx;
        let worst_deviation = xy
            .iter()
            .filter(|p| p.1 > 0.0)
            .map(|&(x, y)| ((intercept + slope * x) - y).abs() / y)
            .fold(0.0, f64::max);
        let steps: Vec<f64> = xy
            .windows(2)
            .map(|w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0))
            .collect();
        let half = steps.len() / 2;
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        Some(LineFit {
            intercept,
            slope,
            worst_deviation,
            early_step: mean(&steps[..half]),
            late_step: mean(&steps[steps.len() - half..]),
        })
    }
}

/// A straight line fitted to a cost against cluster size, and how the cost per added node
/// changes along it.
#[derive(Clone, Debug, PartialEq)]
pub struct LineFit {
    pub intercept: f64,
    /// Cost added per node.
    pub slope: f64,
    /// The largest distance of a point from the line, as a fraction of the point.
    pub worst_deviation: f64,
    /// Cost per added node, averaged over the steps of the smaller half of the sizes.
    pub early_step: f64,
    /// The same over the larger half.
    pub late_step: f64,
}

impl LineFit {
    /// How many times the cost per added node over the larger sizes is that over the smaller
    /// ones: 1 for a linear cost, below 1 when it flattens, above when it accelerates.
    pub fn step_growth(&self) -> f64 {
        if self.early_step > 0.0 {
            self.late_step / self.early_step
        } else if self.late_step <= 0.0 {
            1.0
        } else {
            f64::INFINITY
        }
    }

    /// Growth no faster than linear: the cost per added node grows by at most `tolerance`
    /// from the smaller sizes to the larger. A fixed cost does not hide a quadratic term:
    /// 500 + n² doubles its cost per added node like n² does.
    pub fn at_most_linear(&self, tolerance: f64) -> bool {
        self.step_growth() <= 1.0 + tolerance
    }

    /// One sentence on the fit, for the report.
    fn describe(&self, unit: &str, what: &str) -> String {
        format!(
            "{what}: {:+.2} {unit} per added node on the best straight line (every size within {:.0}% of it); \
             per added node {:.2} {unit} over the smaller sizes and {:.2} over the larger ({:.2}x)",
            self.slope,
            self.worst_deviation * 100.0,
            self.early_step,
            self.late_step,
            self.step_growth()
        )
    }
}

/// Runs every size for both protocols, one run at a time so the wall times are not
/// disturbed by the experiment's own parallelism.
pub fn run(opts: &super::ExperimentOptions) -> ScalingData {
    let (virtual_seconds, repetitions) = if opts.quick { (0.5, 1) } else { (2.0, 3) };
    let offered = 5_000;
    let mut points = Vec::new();
    for protocol in Protocol::COMPARED {
        for nodes in SIZES {
            let body = format!(
                "duration = \"{}ms\"\nsettle = \"500ms\"\n[cluster]\nnodes = {nodes}\n\
                 [workload]\nmode = \"open\"\nrate = {offered}\nclients = 64\n",
                (virtual_seconds * 1000.0) as u64
            );
            let s = scenario("scaling", &body);
            let opts = RunOptions {
                seed: Some(1),
                ..RunOptions::default()
            };
            let mut best = f64::INFINITY;
            let mut last = None;
            for _ in 0..repetitions {
                let started = Instant::now();
                let out = run_protocol(protocol, &s, &opts);
                best = best.min(started.elapsed().as_nanos() as f64);
                last = Some(out);
            }
            points.push(match last.expect("at least one repetition") {
                Ok(out) => {
                    let summary =
                        summarize(&out, check_history(&out.history), &crate::build_info::versions());
                    let commands = out.committed_commands.max(1) as f64;
                    let delivered: u64 = out.node_stats.iter().map(|n| n.msgs_received).sum();
                    ScalingPoint {
                        protocol,
                        nodes,
                        committed_commands: out.committed_commands,
                        deliveries_per_command: delivered as f64 / commands,
                        bytes_per_command: summary.messages.bytes_per_command,
                        wall_ns_per_command: best / commands,
                        correct: summary.correct,
                    }
                }
                Err(_) => ScalingPoint {
                    protocol,
                    nodes,
                    committed_commands: 0,
                    deliveries_per_command: 0.0,
                    bytes_per_command: 0.0,
                    wall_ns_per_command: 0.0,
                    correct: false,
                },
            });
        }
    }
    ScalingData {
        offered_ops_per_s: offered,
        virtual_seconds,
        repetitions,
        points,
    }
}

/// A chart of `cost` against cluster size, both protocols, each with its least-squares
/// straight line drawn faded beside it.
fn chart(
    dir: &Path,
    d: &ScalingData,
    stem: &str,
    title: &str,
    y: &str,
    cost: fn(&ScalingPoint) -> f64,
) -> Result<(), ReportError> {
    let mut series = Vec::new();
    for p in Protocol::COMPARED {
        let points: Vec<(f64, f64)> = d.of(p).map(|s| (s.nodes as f64, cost(s))).collect();
        let Some(fit) = d.line_fit(p, cost) else { continue };
        series.push(Series {
            label: plot::protocol_label(p).to_string(),
            color: plot::protocol_color(p),
            points: points.clone(),
            markers: true,
        });
        let c = plot::protocol_color(p);
        let fade = |x: u8| x + ((255 - x) as f64 * 0.6) as u8;
        series.push(Series {
            label: format!("{}: best straight line", plot::protocol_label(p)),
            color: plot::RGBColor(fade(c.0), fade(c.1), fade(c.2)),
            points: points
                .iter()
                .map(|&(n, _)| (n, fit.intercept + fit.slope * n))
                .collect(),
            markers: false,
        });
    }
    plot::write_line(
        dir,
        stem,
        &LineChart {
            title: title.into(),
            x_label: "nodes in the cluster".into(),
            y_label: y.into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Linear,
            series,
            bands: Vec::new(),
        },
    )
}

fn wall(p: &ScalingPoint) -> f64 {
    p.wall_ns_per_command / 1e3
}

fn deliveries(p: &ScalingPoint) -> f64 {
    p.deliveries_per_command
}

/// The report section.
pub fn section(dir: &Path, d: &ScalingData) -> Result<Section, ReportError> {
    chart(
        dir,
        d,
        "perf-scaling-wall",
        "Simulator wall time per command against cluster size",
        "wall time per committed command (µs)",
        wall,
    )?;
    chart(
        dir,
        d,
        "perf-scaling-deliveries",
        "Messages delivered per command against cluster size",
        "messages delivered per committed command",
        deliveries,
    )?;
    let mut table = Table {
        header: [
            "protocol",
            "nodes",
            "commands",
            "deliveries/command",
            "bytes/command",
            "wall µs/command",
            "correct",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for p in &d.points {
        table.rows.push(vec![
            plot::protocol_label(p.protocol).to_string(),
            p.nodes.to_string(),
            p.committed_commands.to_string(),
            format!("{:.2}", p.deliveries_per_command),
            format!("{:.0}", p.bytes_per_command),
            format!("{:.1}", wall(p)),
            p.correct.to_string(),
        ]);
    }
    let mut paragraphs = vec![format!(
        "The same open-loop load ({} commands per second for {} virtual seconds, 64 clients) on 3 to 15 \
         nodes, below what a 15-node leader saturates at. Deliveries and bytes are counted by the simulator and are the same on every machine; wall time is \
         this machine's, when the report was made, the fastest of {} identical runs, and moves with whatever else \
         the machine was doing.",
        d.offered_ops_per_s, d.virtual_seconds, d.repetitions
    )];
    for p in Protocol::COMPARED {
        let (Some(w), Some(m)) = (d.line_fit(p, wall), d.line_fit(p, deliveries)) else {
            paragraphs.push(format!(
                "{}: too few successful runs to fit a line; no verdict.",
                plot::protocol_label(p)
            ));
            continue;
        };
        let verdict = if m.at_most_linear(LINEAR_TOLERANCE) {
            "The work per command grows no faster than linearly with the cluster size."
        } else {
            "The work per command grows faster than linearly: its cost per added node climbs with the cluster size."
        };
        let commits: Vec<u64> = d.of(p).map(|s| s.committed_commands).collect();
        let same = if commits.windows(2).all(|w| w[0] == w[1]) {
            String::new()
        } else {
            format!(
                " The sizes committed different numbers of commands ({commits:?}), so the load was not the same."
            )
        };
        paragraphs.push(format!(
            "{}: {}; {}. {verdict} (The verdict is on the deliveries, which every machine counts alike; the \
             wall-time fit is shown for information.){same}",
            plot::protocol_label(p),
            m.describe("messages", "deliveries per command"),
            w.describe("µs", "wall time per command"),
        ));
    }
    let incorrect = d.points.iter().filter(|p| !p.correct).count();
    paragraphs.push(if incorrect == 0 {
        "Every run passed the invariants and the linearizability checker.".into()
    } else {
        format!("{incorrect} runs failed the invariants or the checker (the `correct` column).")
    });
    Ok(Section {
        id: "perf-scaling".into(),
        title: "Cost per command against cluster size".into(),
        paragraphs,
        plots: vec![
            (
                "perf-scaling-wall".into(),
                "Simulator wall time per committed command; the faded lines are the least-squares straight lines.".into(),
            ),
            (
                "perf-scaling-deliveries".into(),
                "Messages delivered to nodes per committed command (deterministic); the faded lines are the \
                 least-squares straight lines."
                    .into(),
            ),
        ],
        table: Some(table),
        commands: vec!["cargo run --release -- experiment scaling".into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(cost: impl Fn(f64) -> f64) -> ScalingData {
        ScalingData {
            offered_ops_per_s: 1,
            virtual_seconds: 1.0,
            repetitions: 1,
            points: SIZES
                .iter()
                .map(|&nodes| ScalingPoint {
                    protocol: Protocol::Raft,
                    nodes,
                    committed_commands: 1,
                    deliveries_per_command: cost(nodes as f64),
                    bytes_per_command: 0.0,
                    wall_ns_per_command: 0.0,
                    correct: true,
                })
                .collect(),
        }
    }

    fn fit(cost: impl Fn(f64) -> f64) -> LineFit {
        data(cost)
            .line_fit(Protocol::Raft, deliveries)
            .expect("several sizes")
    }

    #[test]
    fn a_cost_proportional_to_the_followers_is_linear() {
        let f = fit(|n| 2.0 * (n - 1.0));
        assert!(
            f.at_most_linear(LINEAR_TOLERANCE) && (f.slope - 2.0).abs() < 1e-9,
            "{f:?}"
        );
    }

    #[test]
    fn a_cost_that_flattens_is_no_faster_than_linear() {
        assert!(fit(|n| n.sqrt()).at_most_linear(LINEAR_TOLERANCE));
    }

    #[test]
    fn a_quadratic_cost_is_caught() {
        let f = fit(|n| n * n);
        assert!(!f.at_most_linear(LINEAR_TOLERANCE), "{f:?}");
    }

    #[test]
    fn messages_per_command_grow_linearly_with_the_cluster_for_both_protocols() {
        let opts = crate::experiments::ExperimentOptions {
            quick: true,
            threads: 1,
            election_trials: None,
        };
        let d = run(&opts);
        assert!(
            d.points.iter().all(|p| p.correct && p.committed_commands > 0),
            "{:?}",
            d.points
        );
        for p in Protocol::COMPARED {
            let f = d.line_fit(p, deliveries).expect("several sizes");
            assert!(f.at_most_linear(LINEAR_TOLERANCE) && f.slope > 0.5, "{p}: {f:?}");
        }
    }

    #[test]
    fn a_linear_cost_with_a_quadratic_term_is_caught() {
        assert!(!fit(|n| 10.0 * n + n * n).at_most_linear(LINEAR_TOLERANCE));
    }

    #[test]
    fn a_large_fixed_cost_does_not_hide_a_quadratic_term() {
        assert!(!fit(|n| 500.0 + n * n).at_most_linear(LINEAR_TOLERANCE));
    }

    #[test]
    fn failed_runs_are_left_out_of_the_fit() {
        let mut d = data(|n| 2.0 * (n - 1.0));
        d.points[6].correct = false;
        d.points[6].deliveries_per_command = 0.0;
        let f = d.line_fit(Protocol::Raft, deliveries).expect("six points left");
        assert!(
            f.at_most_linear(LINEAR_TOLERANCE) && (f.slope - 2.0).abs() < 1e-9,
            "{f:?}"
        );
    }
}
