//! The report's charts, built from runs.

use super::plot::{self, Axis, Band, BarChart, LineChart, Series, protocol_color, protocol_label};
use super::{ReportError, ReportInput, ScenarioResults, SweepResult};
use model::metrics::{DEFAULT_BUCKET_NS, latency_histograms, time_series};
use model::protocol::Protocol;
use model::scenario::{FaultKind, FaultSpec, TargetSpec};
use std::collections::BTreeMap;
use std::path::Path;

/// A chart written under `plots/`.
#[derive(Clone, Debug)]
pub struct Figure {
    pub stem: String,
    pub title: String,
    /// What the chart shows, in a sentence.
    pub caption: String,
}

/// Every figure, by where it appears.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub per_scenario: BTreeMap<String, Vec<Figure>>,
    pub overall: Vec<Figure>,
    pub sweeps: BTreeMap<String, Vec<Figure>>,
}

const MS: f64 = 1e6;
const S: f64 = 1e9;

/// Whether a scheduled fault undoes an earlier one.
pub fn is_repair(f: &FaultSpec) -> bool {
    match f.action {
        FaultKind::Restart | FaultKind::Resume | FaultKind::Heal => true,
        FaultKind::Loss | FaultKind::Duplicate => f.probability == Some(0.0),
        FaultKind::Delay => f.extra.is_some_and(|d| d.0 == 0),
        FaultKind::ClockSkew => f.rate == Some(1.0),
        FaultKind::SlowDisk => f.fsync.is_none(),
        _ => false,
    }
}

/// A label for a scheduled fault that names its target as written ("crash leader").
pub fn fault_label(f: &FaultSpec) -> String {
    let kind = serde_json::to_value(f.action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let target = match &f.target {
        Some(TargetSpec::Node(n)) => format!(" n{n}"),
        Some(TargetSpec::Nodes(ns)) => format!(
            " {}",
            ns.iter().map(|n| format!("n{n}")).collect::<Vec<_>>().join(",")
        ),
        Some(TargetSpec::Named(n)) => format!(
            " {}",
            serde_json::to_value(n)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    let detail = match f.action {
        FaultKind::Loss | FaultKind::Duplicate => format!(" {:.0}%", f.probability.unwrap_or(0.0) * 100.0),
        FaultKind::Delay => format!(" +{}", f.extra.unwrap_or_default()),
        FaultKind::ClockSkew => format!(" x{}", f.rate.unwrap_or(1.0)),
        _ => String::new(),
    };
    format!("{kind}{target}{detail}")
}

/// Shaded bands for a scenario's faults: each fault lasts until the next event of the
/// schedule (a repair or another fault); repairs are drawn as thin marks.
pub fn fault_bands(sr: &ScenarioResults, seed: u64) -> Vec<Band> {
    let schedule = sr.scenario.fault_schedule(seed);
    let end = sr.scenario.duration.0 as f64 / S;
    schedule
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let from = f.at.0 as f64 / S;
            let to = if is_repair(f) {
                from
            } else {
                schedule.get(i + 1).map_or(end, |n| n.at.0 as f64 / S)
            };
            Band {
                from,
                to,
                label: fault_label(f),
            }
        })
        .collect()
}

fn first_runs(sr: &ScenarioResults) -> Vec<&super::RunResult> {
    sr.protocols()
        .into_iter()
        .filter_map(|p| sr.runs_of(p).next())
        .collect()
}

fn scenario_charts(dir: &Path, sr: &ScenarioResults) -> Result<Vec<Figure>, ReportError> {
    let name = &sr.scenario.name;
    let runs = first_runs(sr);
    let seed = runs.first().map_or(sr.scenario.seed, |r| r.output.seed);
    let mut figures = Vec::new();

    let mut cdf = Vec::new();
    for r in &runs {
        let [all, ..] = latency_histograms(&r.output.ops);
        let points: Vec<(f64, f64)> = all
            .cdf()
            .into_iter()
            .filter(|&(_, q)| q < 1.0)
            .map(|(v, q)| (plot::tail_x(q), v as f64 / MS))
            .collect();
        cdf.push(Series {
            label: protocol_label(r.summary.protocol).to_string(),
            color: protocol_color(r.summary.protocol),
            points,
            markers: false,
        });
    }
    let stem = format!("{name}-latency-cdf");
    plot::write_line(
        dir,
        &stem,
        &LineChart {
            title: format!("Latency by percentile: {name}"),
            x_label: "percentile (tail axis)".into(),
            y_label: "latency (ms, log scale)".into(),
            x_axis: Axis::Tail,
            y_axis: Axis::Log,
            series: cdf,
            bands: Vec::new(),
        },
    )?;
    figures.push(Figure {
        stem,
        title: "Latency distribution".into(),
        caption:
            "Latency of every completed operation (from its intended start) at each percentile; the x axis \
                  stretches the tail so p99 and p99.9 are visible."
                .into(),
    });

    let bands = fault_bands(sr, seed);
    let end = sr.scenario.duration.0 + sr.scenario.settle.0;
    let series: Vec<_> = runs
        .iter()
        .map(|r| (r, time_series(&r.output.ops, end, DEFAULT_BUCKET_NS)))
        .collect();
    let line = |f: &dyn Fn(&model::metrics::Bucket) -> Option<f64>| -> Vec<Series> {
        series
            .iter()
            .map(|(r, buckets)| Series {
                label: protocol_label(r.summary.protocol).to_string(),
                color: protocol_color(r.summary.protocol),
                points: buckets
                    .iter()
                    .filter_map(|b| f(b).map(|y| (b.start_ns as f64 / S, y)))
                    .collect(),
                markers: false,
            })
            .collect()
    };
    let stem = format!("{name}-throughput");
    plot::write_line(
        dir,
        &stem,
        &LineChart {
            title: format!("Throughput over time: {name}"),
            x_label: "time (s)".into(),
            y_label: "completed operations per second".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Linear,
            series: line(&|b| Some(b.ops_per_s)),
            bands: bands.clone(),
        },
    )?;
    figures.push(Figure {
        stem,
        title: "Throughput over time".into(),
        caption: format!(
            "Operations completed per second in {} ms buckets; shaded stretches are faults, thin marks repairs. \
             Clients stop at {} s; the cluster then settles with every fault healed.",
            DEFAULT_BUCKET_NS / 1_000_000,
            sr.scenario.duration.0 / 1_000_000_000
        ),
    });
    let stem = format!("{name}-p99");
    plot::write_line(
        dir,
        &stem,
        &LineChart {
            title: format!("p99 latency over time: {name}"),
            x_label: "time (s)".into(),
            y_label: "p99 latency (ms, log scale)".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Log,
            series: line(&|b| (b.p99_ns > 0).then_some(b.p99_ns as f64 / MS)),
            bands,
        },
    )?;
    figures.push(Figure {
        stem,
        title: "p99 latency over time".into(),
        caption:
            "The 99th percentile latency of operations completing in each bucket; gaps are buckets in which \
                  nothing completed."
                .into(),
    });
    Ok(figures)
}

fn overall_charts(dir: &Path, input: &ReportInput) -> Result<Vec<Figure>, ReportError> {
    let mut figures = Vec::new();
    let protocols: Vec<Protocol> = {
        let mut ps: Vec<Protocol> = input.scenarios.iter().flat_map(|s| s.protocols()).collect();
        ps.sort_by_key(|p| p.rank());
        ps.dedup();
        ps
    };
    let categories: Vec<String> = input.scenarios.iter().map(|s| s.scenario.name.clone()).collect();
    let per_protocol =
        |f: &dyn Fn(&model::metrics::Summary) -> f64| -> Vec<(String, plotters::style::RGBColor, Vec<f64>)> {
            protocols
                .iter()
                .map(|&p| {
                    let values = input
                        .scenarios
                        .iter()
                        .map(|s| {
                            let v: Vec<f64> = s.runs_of(p).map(|r| f(&r.summary)).collect();
                            if v.is_empty() {
                                0.0
                            } else {
                                v.iter().sum::<f64>() / v.len() as f64
                            }
                        })
                        .collect();
                    (protocol_label(p).to_string(), protocol_color(p), values)
                })
                .collect()
        };
    if categories.is_empty() {
        return Ok(figures);
    }
    for (stem, title, y, f, caption) in [
        (
            "messages-per-command",
            "Messages per committed command",
            "messages between nodes per command",
            (|s: &model::metrics::Summary| s.messages.messages_per_command)
                as fn(&model::metrics::Summary) -> f64,
            "Messages sent between nodes (heartbeats, elections and retransmissions included) divided by client \
             commands committed, averaged over seeds.",
        ),
        (
            "bytes-per-command",
            "Bytes per committed command",
            "bytes between nodes per command",
            |s| s.messages.bytes_per_command,
            "Encoded bytes sent between nodes per committed client command, averaged over seeds.",
        ),
        (
            "throughput",
            "Throughput by scenario",
            "completed operations per second",
            |s| s.throughput_ops_per_s,
            "Completed operations per second of workload, averaged over seeds.",
        ),
        (
            "p99-latency",
            "p99 latency by scenario",
            "p99 latency (ms)",
            |s| s.latency.all.p99_ns as f64 / MS,
            "99th percentile latency of completed operations, averaged over seeds.",
        ),
    ] {
        plot::write_bars(
            dir,
            stem,
            &BarChart {
                title: title.into(),
                y_label: y.into(),
                categories: categories.clone(),
                series: per_protocol(&f),
            },
        )?;
        figures.push(Figure {
            stem: stem.into(),
            title: title.into(),
            caption: caption.into(),
        });
    }

    // Distributions across every fault and every election of every scenario.
    let dist = |values: Vec<f64>| -> Vec<(f64, f64)> {
        let mut v = values;
        v.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        v.iter()
            .enumerate()
            .map(|(i, &x)| (x, (i + 1) as f64 / n))
            .collect()
    };
    let mut gaps = Vec::new();
    let mut elections = Vec::new();
    for &p in &protocols {
        let mut g = Vec::new();
        let mut e = Vec::new();
        for s in &input.scenarios {
            for r in s.runs_of(p) {
                g.extend(
                    r.summary
                        .unavailability
                        .iter()
                        .filter(|u| !u.fault.starts_with("settle"))
                        .map(|u| u.longest_gap_ns as f64 / MS),
                );
                e.extend(
                    model::metrics::elections::leader_changes(&r.output.status_log)
                        .iter()
                        .filter_map(|c| c.election_ns)
                        .map(|d| d as f64 / MS),
                );
            }
        }
        let mk = |pts| Series {
            label: protocol_label(p).to_string(),
            color: protocol_color(p),
            points: pts,
            markers: true,
        };
        if !g.is_empty() {
            gaps.push(mk(dist(g)));
        }
        if !e.is_empty() {
            elections.push(mk(dist(e)));
        }
    }
    if !gaps.is_empty() {
        plot::write_line(
            dir,
            "unavailability-cdf",
            &LineChart {
                title: "Unavailability after faults (all scenarios)".into(),
                x_label: "longest gap without a completed operation (ms, log scale)".into(),
                y_label: "fraction of faults".into(),
                x_axis: Axis::Log,
                y_axis: Axis::Linear,
                series: gaps,
                bands: Vec::new(),
            },
        )?;
        figures.push(Figure {
            stem: "unavailability-cdf".into(),
            title: "Unavailability distribution".into(),
            caption: "For every fault in every scenario and seed, the longest stretch until the next fault in which no \
                      operation completed; cumulative over faults."
                .into(),
        });
    }
    if !elections.is_empty() {
        plot::write_line(
            dir,
            "election-cdf",
            &LineChart {
                title: "Election duration (all scenarios)".into(),
                x_label: "first candidate to new leader (ms, log scale)".into(),
                y_label: "fraction of elections".into(),
                x_axis: Axis::Log,
                y_axis: Axis::Linear,
                series: elections,
                bands: Vec::new(),
            },
        )?;
        figures.push(Figure {
            stem: "election-cdf".into(),
            title: "Election duration distribution".into(),
            caption: "Time from the first node starting to campaign (Raft: candidate or pre-candidate; Paxos: phase 1) \
                      to a leader of a newer term or ballot, over every election in every run."
                .into(),
        });
    }
    Ok(figures)
}

fn sweep_charts(dir: &Path, sweep: &SweepResult) -> Result<Vec<Figure>, ReportError> {
    let mut protocols: Vec<Protocol> = sweep.points.iter().map(|p| p.protocol).collect();
    protocols.sort_by_key(|p| p.rank());
    protocols.dedup();
    let mut latency = Vec::new();
    let mut achieved = Vec::new();
    for (i, &p) in protocols.iter().enumerate() {
        let pts: Vec<_> = sweep.points.iter().filter(|x| x.protocol == p).collect();
        let color = protocol_color(p);
        let light = plot::PALETTE[(i + 2) % plot::PALETTE.len()];
        latency.push(Series {
            label: format!("{} p99", protocol_label(p)),
            color,
            points: pts
                .iter()
                .map(|x| (x.offered_ops_per_s, x.p99_ns as f64 / MS))
                .collect(),
            markers: true,
        });
        latency.push(Series {
            label: format!("{} p50", protocol_label(p)),
            color: light,
            points: pts
                .iter()
                .map(|x| (x.offered_ops_per_s, x.p50_ns as f64 / MS))
                .collect(),
            markers: true,
        });
        achieved.push(Series {
            label: protocol_label(p).to_string(),
            color,
            points: pts
                .iter()
                .map(|x| (x.offered_ops_per_s, x.achieved_ops_per_s))
                .collect(),
            markers: true,
        });
    }
    let name = &sweep.scenario;
    plot::write_line(
        dir,
        &format!("sweep-{name}-latency"),
        &LineChart {
            title: format!("Latency against offered load: {name}"),
            x_label: "offered load (operations per second)".into(),
            y_label: "latency (ms, log scale)".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Log,
            series: latency,
            bands: Vec::new(),
        },
    )?;
    plot::write_line(
        dir,
        &format!("sweep-{name}-throughput"),
        &LineChart {
            title: format!("Achieved against offered load: {name}"),
            x_label: "offered load (operations per second)".into(),
            y_label: "completed operations per second".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Linear,
            series: achieved,
            bands: Vec::new(),
        },
    )?;
    Ok(vec![
        Figure {
            stem: format!("sweep-{name}-latency"),
            title: "Latency against offered load".into(),
            caption:
                "Open-loop Poisson arrivals at each rate; latency from each operation's intended start, so \
                      queueing past saturation shows."
                    .into(),
        },
        Figure {
            stem: format!("sweep-{name}-throughput"),
            title: "Achieved against offered load".into(),
            caption:
                "Where a line falls below the diagonal the protocol could not keep up with the offered rate."
                    .into(),
        },
    ])
}

/// Draws every chart of the report into `dir`.
pub fn draw_all(dir: &Path, input: &ReportInput) -> Result<Figures, ReportError> {
    let mut figures = Figures::default();
    for sr in &input.scenarios {
        figures
            .per_scenario
            .insert(sr.scenario.name.clone(), scenario_charts(dir, sr)?);
    }
    figures.overall = overall_charts(dir, input)?;
    for sw in &input.sweeps {
        figures.sweeps.insert(sw.scenario.clone(), sweep_charts(dir, sw)?);
    }
    Ok(figures)
}
