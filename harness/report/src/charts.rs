//! The report's charts, built from runs: per scenario the pooled latency distribution, goodput
//! over time (mean and 95 % band over seeds when every seed ran the same schedule) and p99 over
//! time; across scenarios, bars with 95 % error bars; the load sweeps' latency against
//! throughput.

use super::aggregate::{self, Metric, format_ms};
use super::plot::{
    self, Axis, Band, BarChart, BarOptions, Censored, IntervalSeries, IntervalStyle, LineChart, Overlay,
    RefLine, Series, protocol_color, protocol_label,
};
use super::sweep::{self, KNEE_P99_MS};
use super::{ReportError, ReportInput, ScenarioResults, SweepResult};
use model::metrics::latency::Latencies;
use model::metrics::{DEFAULT_BUCKET_NS, time_series};
use model::protocol::Protocol;
use model::scenario::{FaultKind, FaultSpec, TargetSpec};
use model::stats::Interval;
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
        FaultKind::Delay => format!(" +{}", format_ms(f.extra.unwrap_or_default().0 as f64 / MS)),
        FaultKind::ClockSkew => format!(" x{}", f.rate.unwrap_or(1.0)),
        _ => String::new(),
    };
    format!("{kind}{target}{detail}")
}

/// Past this many faults a chart labels its bands with their numbers in the fault table.
const NAMED_BANDS_UP_TO: usize = 8;

/// Shaded bands for a scenario's faults: each fault lasts until the next event of the
/// schedule (a repair or another fault); repairs are drawn as thin unlabelled marks. With many
/// faults, labels are the faults' numbers (`#3`), which the fault table lists.
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
            let label = if is_repair(f) {
                String::new()
            } else if schedule.len() > NAMED_BANDS_UP_TO {
                format!("#{}", i + 1)
            } else {
                fault_label(f)
            };
            Band { from, to, label }
        })
        .collect()
}

/// The runs a per-seed chart draws: each protocol's first seed.
fn first_runs(sr: &ScenarioResults) -> Vec<&super::RunResult> {
    sr.protocols()
        .into_iter()
        .filter_map(|p| sr.runs_of(p).next())
        .collect()
}

/// `n` with thin-space thousands, for legends.
fn count(n: u64) -> String {
    plot::format_number(n as f64)
}

fn scenario_charts(dir: &Path, sr: &ScenarioResults) -> Result<Vec<Figure>, ReportError> {
    let name = &sr.scenario.name;
    let runs = first_runs(sr);
    let seed = runs.first().map_or(sr.scenario.seed, |r| r.output.seed);
    let mut figures = Vec::new();

    // The latency distribution, pooled over every seed's measured window.
    let mut cdf = Vec::new();
    for p in sr.protocols() {
        let mut h = Latencies::default();
        let mut seeds = 0;
        for r in sr.runs_of(p) {
            seeds += 1;
            let w = r.summary.steady.window;
            for op in r
                .output
                .ops
                .iter()
                .filter(|o| o.status != model::workload::OpStatus::Info && w.contains(o.intended_ns))
            {
                h.record(op.latency_ns());
            }
        }
        if h.is_empty() {
            continue;
        }
        let points: Vec<(f64, f64)> = h
            .cdf()
            .into_iter()
            .filter(|&(_, q)| q < 1.0)
            .map(|(v, q)| (plot::tail_x(q), v as f64 / MS))
            .collect();
        cdf.push(Series {
            label: format!(
                "{} (n = {} ops over {seeds} seed{})",
                protocol_label(p),
                count(h.len()),
                if seeds == 1 { "" } else { "s" }
            ),
            color: protocol_color(p),
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
        caption: "Latency of every completed operation that started in the measured window (from its intended \
                  start), pooled over seeds (n in the legend); the x axis stretches the tail so p99 and p99.9 are \
                  visible."
            .into(),
    });

    // Goodput over time: mean and 95 % band over seeds when every seed ran the same schedule.
    let bands = fault_bands(sr, seed);
    let end = sr.scenario.duration.0;
    let pooled = aggregate::same_schedule_every_seed(sr) && sr.runs.len() > sr.protocols().len();
    let mut goodput = Vec::new();
    let mut overlay = Overlay::default();
    for p in sr.protocols() {
        let per_seed: Vec<Vec<model::metrics::Bucket>> = sr
            .runs_of(p)
            .take(if pooled { usize::MAX } else { 1 })
            .map(|r| time_series(&r.output.ops, end, DEFAULT_BUCKET_NS))
            .collect();
        let buckets = per_seed.first().map_or(0, Vec::len);
        let mut mean = Vec::new();
        let mut band = Vec::new();
        for b in 0..buckets {
            let v: Vec<f64> = per_seed
                .iter()
                .filter_map(|s| s.get(b).map(|x| x.ops_per_s))
                .collect();
            let Some(i) = Interval::of(&v) else { continue };
            let t = per_seed[0][b].start_ns as f64 / S;
            mean.push((t, i.mean));
            band.push((t, i.lo().max(0.0), i.hi()));
        }
        let n = per_seed.len();
        goodput.push(Series {
            label: if pooled {
                format!("{} (mean of {n} seeds)", protocol_label(p))
            } else {
                format!("{} (seed {seed})", protocol_label(p))
            },
            color: protocol_color(p),
            points: mean,
            markers: false,
        });
        if pooled {
            overlay.intervals.push(IntervalSeries {
                color: protocol_color(p),
                points: band,
                style: IntervalStyle::Band,
            });
        }
    }
    let stem = format!("{name}-throughput");
    plot::write_line_with(
        dir,
        &stem,
        &LineChart {
            title: format!("Goodput over time: {name}"),
            x_label: "time (s)".into(),
            y_label: "completed operations per second".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Linear,
            series: goodput,
            bands: bands.clone(),
        },
        &overlay,
    )?;
    figures.push(Figure {
        stem,
        title: "Goodput over time".into(),
        caption: format!(
            "Operations completed (ok or fail; timed-out ones excluded) per second in {} ms buckets, up to the end \
             of the workload at {}; {}. Shaded stretches are faults (labels at their start{}), thin marks repairs.",
            DEFAULT_BUCKET_NS / 1_000_000,
            format_ms(end as f64 / MS),
            if pooled {
                "the line is the mean over seeds and the band its 95 % interval"
            } else if aggregate::same_schedule_every_seed(sr) {
                "one seed"
            } else {
                "the first seed only: each seed draws its own fault schedule, so seeds do not line up"
            },
            if bands.iter().any(|b| b.label.starts_with('#')) {
                "; numbers refer to the fault table"
            } else {
                ""
            }
        ),
    });

    let stem = format!("{name}-p99");
    let p99: Vec<Series> = runs
        .iter()
        .map(|r| Series {
            label: format!("{} (seed {})", protocol_label(r.summary.protocol), r.summary.seed),
            color: protocol_color(r.summary.protocol),
            points: time_series(&r.output.ops, end, DEFAULT_BUCKET_NS)
                .iter()
                .filter(|b| b.p99_ns > 0)
                .map(|b| (b.start_ns as f64 / S, b.p99_ns as f64 / MS))
                .collect(),
            markers: false,
        })
        .collect();
    plot::write_line(
        dir,
        &stem,
        &LineChart {
            title: format!("p99 latency over time: {name}"),
            x_label: "time (s)".into(),
            y_label: "p99 latency (ms, log scale)".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Log,
            series: p99,
            bands,
        },
    )?;
    figures.push(Figure {
        stem,
        title: "p99 latency over time".into(),
        caption: "The 99th percentile latency of operations completing in each bucket, first seed; gaps are buckets \
                  in which nothing completed. Closed-loop clients stop issuing while they wait, so an outage shows \
                  as a gap and one late point, not as a rise: see the goodput and the unavailability table."
            .into(),
    });
    Ok(figures)
}

/// One bar chart across scenarios: per protocol, the mean of `metric` in each scenario with
/// its 95 % interval.
struct MetricChart<'a> {
    stem: &'static str,
    title: &'static str,
    y_label: &'static str,
    scenarios: Vec<&'a ScenarioResults>,
    metric: Metric,
    y_axis: Axis,
    caption: String,
}

fn metric_bars(dir: &Path, c: &MetricChart<'_>, protocols: &[Protocol]) -> Result<(), ReportError> {
    let mut series = Vec::new();
    let mut intervals = Vec::new();
    for &p in protocols {
        let ivs: Vec<Option<Interval>> = c
            .scenarios
            .iter()
            .map(|s| aggregate::interval(s, p, c.metric))
            .collect();
        series.push((
            protocol_label(p).to_string(),
            protocol_color(p),
            ivs.iter().map(|i| i.map_or(0.0, |i| i.mean)).collect(),
        ));
        intervals.push(
            ivs.iter()
                .map(|i| i.and_then(|i| i.half_width.map(|_| (i.lo(), i.hi()))))
                .collect(),
        );
    }
    plot::write_bars_with(
        dir,
        c.stem,
        &BarChart {
            title: c.title.into(),
            y_label: c.y_label.into(),
            categories: c.scenarios.iter().map(|s| s.scenario.name.clone()).collect(),
            series,
        },
        &BarOptions {
            intervals,
            y_axis: c.y_axis,
        },
    )
}

fn overall_charts(dir: &Path, input: &ReportInput) -> Result<Vec<Figure>, ReportError> {
    let mut figures = Vec::new();
    let protocols: Vec<Protocol> = {
        let mut ps: Vec<Protocol> = input.scenarios.iter().flat_map(|s| s.protocols()).collect();
        ps.sort_by_key(|p| p.rank());
        ps.dedup();
        ps
    };
    let all: Vec<&ScenarioResults> = input.scenarios.iter().collect();
    if all.is_empty() {
        return Ok(figures);
    }
    let faulty: Vec<&ScenarioResults> = all.iter().copied().filter(|s| aggregate::has_faults(s)).collect();
    let n = input
        .scenarios
        .iter()
        .flat_map(|s| s.protocols().into_iter().map(move |p| s.runs_of(p).count()))
        .max()
        .unwrap_or(0);
    let over = format!(
        "mean over {n} seed{} with its 95 % interval",
        if n == 1 { "" } else { "s" }
    );
    let charts = [
        MetricChart {
            stem: "throughput",
            title: "Throughput by scenario",
            y_label: "completed operations per second",
            scenarios: all.clone(),
            metric: Metric::Throughput,
            y_axis: Axis::Linear,
            caption: format!("Completed operations per second over the measured window; {over}."),
        },
        MetricChart {
            stem: "p99-latency",
            title: "p99 latency by scenario",
            y_label: "p99 latency (ms, log scale)",
            scenarios: all.clone(),
            metric: Metric::P99,
            y_axis: Axis::Log,
            caption: format!(
                "99th percentile latency of operations started in the measured window (closed loop: it hides \
                 outages, see unavailability); {over}."
            ),
        },
        MetricChart {
            stem: "unavailability",
            title: "Unavailability in fault scenarios",
            y_label: "time with no completion for 20 ms or more (ms)",
            scenarios: faulty.clone(),
            metric: Metric::Unavailable,
            y_axis: Axis::Linear,
            caption: format!(
                "Total time in the measured window in stretches of at least 20 ms with no completed operation; {over}."
            ),
        },
        MetricChart {
            stem: "open-loop-p99",
            title: "Open-loop p99 latency in fault scenarios",
            y_label: "open-loop p99 latency (ms, log scale)",
            scenarios: faulty,
            metric: Metric::P99OpenLoop,
            y_axis: Axis::Log,
            caption: format!(
                "The p99 a client arriving at a fixed rate would have seen (closed-loop latency corrected for \
                 coordinated omission); {over}."
            ),
        },
        MetricChart {
            stem: "messages-per-command",
            title: "Messages per committed command",
            y_label: "messages between nodes per command",
            scenarios: all.clone(),
            metric: Metric::MessagesPerCommand,
            y_axis: Axis::Linear,
            caption: format!(
                "Messages sent between nodes (heartbeats, elections and retransmissions included) per committed client command; {over}."
            ),
        },
        MetricChart {
            stem: "bytes-per-command",
            title: "Bytes per committed command",
            y_label: "bytes between nodes per command",
            scenarios: all,
            metric: Metric::BytesPerCommand,
            y_axis: Axis::Linear,
            caption: format!("Encoded bytes sent between nodes per committed client command; {over}."),
        },
    ];
    for c in charts.iter().filter(|c| !c.scenarios.is_empty()) {
        // Only the protocols that ran in these scenarios get a bar and a legend entry.
        let present: Vec<Protocol> = protocols
            .iter()
            .copied()
            .filter(|&p| c.scenarios.iter().any(|s| s.runs_of(p).next().is_some()))
            .collect();
        metric_bars(dir, c, &present)?;
        figures.push(Figure {
            stem: c.stem.into(),
            title: c.title.into(),
            caption: c.caption.clone(),
        });
    }

    // Distributions across every fault and every election of every scenario and seed.
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
    for &p in protocols.iter().filter(|p| Protocol::COMPARED.contains(p)) {
        let mut g = Vec::new();
        let mut e = Vec::new();
        for s in &input.scenarios {
            for r in s.runs_of(p) {
                g.extend(
                    r.summary
                        .unavailability
                        .iter()
                        .filter(|u| u.outage_ns > 0)
                        .map(|u| u.outage_ns as f64 / MS),
                );
                e.extend(
                    model::metrics::elections::leader_changes(&r.output.status_log)
                        .iter()
                        .filter_map(|c| c.election_ns)
                        .map(|d| d as f64 / MS),
                );
            }
        }
        let mk = |pts: Vec<(f64, f64)>, what: &str| Series {
            label: format!("{} (n = {} {what})", protocol_label(p), pts.len()),
            color: protocol_color(p),
            points: pts,
            markers: true,
        };
        if !g.is_empty() {
            gaps.push(mk(dist(g), "outages"));
        }
        if !e.is_empty() {
            elections.push(mk(dist(e), "elections"));
        }
    }
    if !gaps.is_empty() {
        plot::write_line(
            dir,
            "unavailability-cdf",
            &LineChart {
                title: "Outages after faults (all scenarios and seeds)".into(),
                x_label: "longest stretch without a completed operation (ms, log scale)".into(),
                y_label: "fraction of outages".into(),
                x_axis: Axis::Log,
                y_axis: Axis::Linear,
                series: gaps,
                bands: Vec::new(),
            },
        )?;
        figures.push(Figure {
            stem: "unavailability-cdf".into(),
            title: "Outage distribution".into(),
            caption: "For every fault in every scenario and seed that was followed by an outage (20 ms or more with no \
                      completed operation before the next fault), the longest such stretch; cumulative, pooled (n in \
                      the legend). Faults with no outage are not counted."
                .into(),
        });
    }
    if !elections.is_empty() {
        plot::write_line(
            dir,
            "election-cdf",
            &LineChart {
                title: "Election duration (all scenarios and seeds)".into(),
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
                      to a leader of a newer term or ballot, over every election in every run, pooled (n in the legend)."
                .into(),
        });
    }
    Ok(figures)
}

fn sweep_charts(dir: &Path, sw: &SweepResult) -> Result<Vec<Figure>, ReportError> {
    let mut protocols: Vec<Protocol> = sw.points.iter().map(|p| p.protocol).collect();
    protocols.sort_by_key(|p| p.rank());
    protocols.dedup();
    let mut latency = Vec::new();
    let mut achieved = Vec::new();
    let mut overlay = Overlay {
        lines: vec![RefLine {
            y: KNEE_P99_MS,
            label: format!("knee bound: p99 {}", format_ms(KNEE_P99_MS)),
        }],
        ..Overlay::default()
    };
    for &p in &protocols {
        let pts = sweep::points_of(sw, p);
        let color = protocol_color(p);
        let pale = lighten(color);
        latency.push(Series {
            label: format!("{} p99", protocol_label(p)),
            color,
            points: pts
                .iter()
                .map(|x| (x.achieved_ops_per_s, x.p99_ns as f64 / MS))
                .collect(),
            markers: true,
        });
        latency.push(Series {
            label: format!("{} p50", protocol_label(p)),
            color: pale,
            points: pts
                .iter()
                .map(|x| (x.achieved_ops_per_s, x.p50_ns as f64 / MS))
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
        let failed: Vec<(f64, f64)> = pts
            .iter()
            .filter(|x| !x.not_failed())
            .map(|x| (x.achieved_ops_per_s, x.p99_ns as f64 / MS))
            .collect();
        if !failed.is_empty() {
            overlay.censored.push(Censored {
                label: format!("{}: failed a check", protocol_label(p)),
                color,
                points: failed,
            });
        }
    }
    let offered: Vec<f64> = sw.points.iter().map(|p| p.offered_ops_per_s).collect();
    let top = offered.iter().copied().fold(0.0, f64::max);
    achieved.push(Series {
        label: "offered = achieved".into(),
        color: plot::RGBColor(190, 190, 190),
        points: vec![(0.0, 0.0), (top, top)],
        markers: false,
    });
    let name = &sw.scenario;
    plot::write_line_with(
        dir,
        &format!("sweep-{name}-latency"),
        &LineChart {
            title: format!("Latency against throughput: {name}"),
            x_label: "achieved throughput (operations per second, log scale)".into(),
            y_label: "latency (ms, log scale)".into(),
            x_axis: Axis::Log,
            y_axis: Axis::Log,
            series: latency,
            bands: Vec::new(),
        },
        &overlay,
    )?;
    plot::write_line(
        dir,
        &format!("sweep-{name}-throughput"),
        &LineChart {
            title: format!("Achieved against offered load: {name}"),
            x_label: "offered load (operations per second)".into(),
            y_label: "achieved (operations per second)".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Linear,
            series: achieved,
            bands: Vec::new(),
        },
    )?;
    Ok(vec![
        Figure {
            stem: format!("sweep-{name}-latency"),
            title: "Latency against throughput".into(),
            caption: format!(
                "Each point is one open-loop run at one offered rate (Poisson arrivals, seed {}), measured after the \
                 warm-up; latency from each operation's intended start, so queueing past saturation shows. The dashed \
                 line is the bound that defines the knee.",
                sw.seed
            ),
        },
        Figure {
            stem: format!("sweep-{name}-throughput"),
            title: "Achieved against offered load".into(),
            caption: "Where a line falls below the grey diagonal the protocol could not keep up with the offered rate."
                .into(),
        },
    ])
}

/// A paler shade of a colour, for a protocol's second series.
fn lighten(c: plot::RGBColor) -> plot::RGBColor {
    let f = |v: u8| (v as u16 + (255 - v as u16) / 2) as u8;
    plot::RGBColor(f(c.0), f(c.1), f(c.2))
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
