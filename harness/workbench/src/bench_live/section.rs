//! The benchmark's report sections: the throughput–latency curves of every system on one
//! plot, the knees, the machine's floor, the goals, and where the nodes' time goes.

use super::analysis::{self, Cell, Fsync, KNEE_SHARE, LATENCY_GOAL, THROUGHPUT_GOAL};
use super::{BenchData, Point, System};
use model::stats::Interval;
use report::plot::{self, Axis, LineChart, RGBColor, Series};
use report::{ReportError, Section, Table};
use std::path::Path;

/// A system's colour: the protocols' own, and two for etcd's variants.
fn color(system: System) -> RGBColor {
    match system {
        System::EtcdDirect => plot::PALETTE[4],
        s => plot::protocol_color(s.protocol()),
    }
}

fn fade(c: RGBColor) -> RGBColor {
    let f = |x: u8| x + (255 - x) / 2;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// `12,345`
fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn interval_text(i: &Interval, decimals: usize) -> String {
    match i.half_width {
        Some(h) => format!("{:.p$} ± {:.p$}", i.mean, h, p = decimals),
        None => format!("{:.p$}", i.mean, p = decimals),
    }
}

fn throughput_text(i: &Interval) -> String {
    match i.half_width {
        Some(h) => format!("{} ± {}", thousands(i.mean), thousands(h)),
        None => thousands(i.mean),
    }
}

/// Every system's curves; each is drawn as p50 (with markers) and p99.
fn curves_chart(data: &BenchData, systems: &[(System, Vec<Cell>)]) -> LineChart {
    let mut series = Vec::new();
    for (system, cells) in systems {
        let points = |f: &dyn Fn(&Cell) -> f64| cells.iter().map(|c| (c.throughput.mean, f(c))).collect();
        series.push(Series {
            label: format!("{} p50", system.label()),
            color: color(*system),
            points: points(&|c| c.p50_ms.mean),
            markers: true,
        });
        series.push(Series {
            label: format!("{} p99", system.label()),
            color: fade(color(*system)),
            points: points(&|c| c.p99_ms.mean),
            markers: false,
        });
    }
    LineChart {
        title: format!(
            "Write latency against throughput, {} nodes, clients {}",
            data.nodes,
            data.clients
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        x_label: "throughput (writes/s, mean over rounds)".into(),
        y_label: "write latency (ms)".into(),
        x_axis: Axis::Log,
        y_axis: Axis::Log,
        series,
        bands: Vec::new(),
    }
}

fn throughput_chart(systems: &[(System, Vec<Cell>)]) -> LineChart {
    LineChart {
        title: "Throughput against closed-loop clients".into(),
        x_label: "clients".into(),
        y_label: "writes/s (mean over rounds)".into(),
        x_axis: Axis::Log,
        y_axis: Axis::Log,
        series: systems
            .iter()
            .map(|(s, cells)| Series {
                label: s.label().into(),
                color: color(*s),
                points: cells
                    .iter()
                    .map(|c| (c.clients as f64, c.throughput.mean))
                    .collect(),
                markers: true,
            })
            .collect(),
        bands: Vec::new(),
    }
}

fn load_range(points: &[&Point]) -> String {
    let loads: Vec<f64> = points.iter().filter_map(|p| p.load_average_1m).collect();
    if loads.is_empty() {
        return "unknown".into();
    }
    let lo = loads.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = loads.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.1}–{hi:.1}")
}

fn machine_paragraph(data: &BenchData) -> String {
    let m = &data.machine;
    let all: Vec<&Point> = data.points.iter().collect();
    let fs = m.data_fs.as_deref().unwrap_or("an unknown file system");
    let memory = if m.data_in_memory() {
        " **The data directory is in memory: fdatasync costs nothing there, so these figures \
         say nothing about durable writes.**"
    } else {
        ""
    };
    format!(
        "Machine: {} cores{}{}; data directory {} on {fs}.{memory} The 1-minute load average \
         before the runs ranged over {} (other work shared the machine when it was above the \
         core count, so the absolute figures are noisy; the ratios below are between runs of \
         the same round, back to back). Each point is the mean over {} rounds with its 95 % \
         interval; every run lasted {:.1} s of workload, {} clients closed-loop on `{}`.",
        m.cores,
        m.cpu_model
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        m.kernel
            .as_deref()
            .map(|k| format!(", Linux {k}"))
            .unwrap_or_default(),
        m.data_dir.display(),
        load_range(&all),
        data.rounds,
        data.workload_ns as f64 / 1e9,
        data.clients
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        data.source,
    )
}

fn limits_paragraph(data: &BenchData) -> Option<String> {
    let rtt = analysis::limit(data, |b| b.loopback_rtt_ns_p50)?;
    let alone = analysis::limit(data, |b| b.fdatasync_ns_p50)?;
    let parallel = analysis::limit(data, |b| b.fdatasync_parallel_ns_p50)?;
    let writers = data.limits.first().map_or(0, |l| l.baseline.parallel_writers);
    Some(format!(
        "The machine's floor, measured at the start of each round (medians of {} samples): \
         loopback TCP round trip {} µs; a 72-byte append and fdatasync on the data disk {} µs \
         from a lone writer and {} µs each from {writers} writers at once.",
        data.limits.first().map_or(0, |l| l.baseline.samples),
        interval_text(&rtt, 1),
        interval_text(&alone, 0),
        interval_text(&parallel, 0),
    ))
}

fn knee_paragraph(systems: &[(System, Vec<Cell>)]) -> String {
    let mut parts = Vec::new();
    for (s, cells) in systems {
        if let Some(k) = analysis::knee(cells) {
            let last = cells.last().is_some_and(|c| c.clients == k.clients);
            parts.push(format!(
                "{} at {} clients{} ({} writes/s, p50 {} ms, p99 {} ms)",
                s.label(),
                k.clients,
                if last && cells.len() > 1 {
                    " (the largest count: the curve had not flattened, the knee may lie beyond)"
                } else {
                    ""
                },
                throughput_text(&k.throughput),
                interval_text(&k.p50_ms, 2),
                interval_text(&k.p99_ms, 1)
            ));
        }
    }
    format!(
        "Knees (the first client count at {:.0} % of the curve's peak mean throughput): {}.",
        KNEE_SHARE * 100.0,
        parts.join("; ")
    )
}

fn goals_paragraphs(data: &BenchData, systems: &[(System, Vec<Cell>)]) -> Vec<String> {
    let mut out = Vec::new();
    let smallest = data.clients.iter().copied().min();
    if let Some(c) = smallest {
        let mut parts = Vec::new();
        for (s, _) in systems.iter().filter(|(s, _)| !s.is_etcd()) {
            if let (Some(r), Some(floor), Some(concurrent)) = (
                analysis::latency_ratio(data, *s, c, Fsync::Alone),
                analysis::floor_ms(data, *s, c),
                analysis::latency_ratio(data, *s, c, Fsync::Concurrent),
            ) {
                let verdict = if r.hi() <= LATENCY_GOAL {
                    "within the goal"
                } else if r.lo() > LATENCY_GOAL {
                    "above the goal"
                } else {
                    "not distinguishable from the goal"
                };
                parts.push(format!(
                    "{} {}× (floor {} ms; {verdict}; {}× of a round trip plus a concurrent fdatasync)",
                    s.label(),
                    interval_text(&r, 2),
                    interval_text(&floor, 2),
                    interval_text(&concurrent, 2)
                ));
            }
        }
        if !parts.is_empty() {
            out.push(format!(
                "Goal: a {c}-client write's median within {LATENCY_GOAL}× of one loopback round trip \
                 plus one lone fdatasync, each run against its own floor: {}. A lone fdatasync \
                 on ext4 waits for the journal's next commit unless other writers share it, so \
                 its median moves between rounds (see the floor above) and the ratio with it.",
                parts.join("; ")
            ));
        }
    }
    let null_knee = systems
        .iter()
        .find(|(s, _)| *s == System::Null)
        .and_then(|(_, cells)| analysis::knee(cells).map(|k| k.clients));
    if let Some(nk) = null_knee {
        let mut parts = Vec::new();
        for (s, cells) in systems.iter().filter(|(s, _)| s.replicates() && !s.is_etcd()) {
            if let Some(k) = analysis::knee(cells)
                && let Some(r) = analysis::throughput_ratio(data, *s, k.clients, nk)
            {
                let verdict = if r.lo() >= THROUGHPUT_GOAL {
                    "meets the goal"
                } else if r.hi() < THROUGHPUT_GOAL {
                    "misses the goal"
                } else {
                    "not distinguishable from the goal"
                };
                parts.push(format!(
                    "{} at {} clients: {} of the baseline's ({verdict})",
                    s.label(),
                    k.clients,
                    interval_text(&r, 2)
                ));
            }
        }
        if !parts.is_empty() {
            out.push(format!(
                "Goal: {}-node throughput at the knee at least {:.0} % of the no-replication \
                 baseline's at its knee ({nk} clients), per round: {}.",
                data.nodes,
                THROUGHPUT_GOAL * 100.0,
                parts.join("; ")
            ));
        }
    }
    out
}

fn proxy_paragraph(data: &BenchData, systems: &[(System, Vec<Cell>)]) -> Option<String> {
    let of = |s: System| systems.iter().find(|(x, _)| *x == s).map(|(_, c)| c);
    let (proxied, direct) = (of(System::Etcd)?, of(System::EtcdDirect)?);
    let mut parts = Vec::new();
    for c in [data.clients.iter().min()?, data.clients.iter().max()?] {
        let (Some(p), Some(d)) = (
            proxied.iter().find(|x| x.clients == *c),
            direct.iter().find(|x| x.clients == *c),
        ) else {
            continue;
        };
        let same = analysis::within_noise(&p.throughput, &d.throughput)
            && analysis::within_noise(&p.p50_ms, &d.p50_ms);
        parts.push(format!(
            "at {c} client{}, {} against {} writes/s and p50 {} against {} ms ({})",
            if *c == 1 { "" } else { "s" },
            throughput_text(&p.throughput),
            throughput_text(&d.throughput),
            interval_text(&p.p50_ms, 2),
            interval_text(&d.p50_ms, 2),
            if same {
                "the intervals overlap: within noise"
            } else {
                "the intervals separate"
            }
        ));
        if parts.len() == 2 || data.clients.len() == 1 {
            break;
        }
    }
    Some(format!(
        "The fault layer when no fault is active: etcd with its peer traffic through the \
         harness's proxy against etcd with its members linked directly, {}.",
        parts.join("; ")
    ))
}

/// The curves, the knees, the floor and the goals.
pub fn curves_section(plots: &Path, data: &BenchData) -> Result<Section, ReportError> {
    let systems: Vec<(System, Vec<Cell>)> = data
        .systems
        .iter()
        .map(|&s| (s, analysis::cells(data, s)))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    plot::write_line(plots, "bench-live-curves", &curves_chart(data, &systems))?;
    plot::write_line(plots, "bench-live-throughput", &throughput_chart(&systems))?;
    let mut paragraphs = vec![machine_paragraph(data)];
    paragraphs.extend(limits_paragraph(data));
    paragraphs.push(knee_paragraph(&systems));
    paragraphs.extend(goals_paragraphs(data, &systems));
    paragraphs.extend(proxy_paragraph(data, &systems));
    let wrong = data.points.iter().filter(|p| !p.correct).count();
    paragraphs.push(if wrong == 0 {
        format!(
            "All {} runs passed the linearizability checker and the invariants.",
            data.points.len()
        )
    } else {
        format!(
            "**{wrong} of {} runs failed the linearizability checker or an invariant** (the \
             table's last column counts them per point).",
            data.points.len()
        )
    });
    paragraphs.extend(data.skipped.iter().map(|s| format!("Skipped: {s}.")));
    let mut rows = Vec::new();
    for (s, cells) in &systems {
        for c in cells {
            let runs: Vec<&Point> = data
                .points
                .iter()
                .filter(|p| p.system == *s && p.clients == c.clients)
                .collect();
            rows.push(vec![
                s.label().to_string(),
                c.clients.to_string(),
                throughput_text(&c.throughput),
                interval_text(&c.p50_ms, 2),
                interval_text(&c.p99_ms, 1),
                load_range(&runs),
                format!("{}/{}", c.correct_rounds, c.rounds),
            ]);
        }
    }
    Ok(Section {
        id: "bench-live".into(),
        title: "Live benchmark: Raft, multi-Paxos, no replication and etcd on one machine".into(),
        paragraphs,
        plots: vec![
            (
                "bench-live-curves".into(),
                "Write latency against throughput as clients grow: p50 with markers, p99 faded, \
                 one colour per system (means over rounds)."
                    .into(),
            ),
            (
                "bench-live-throughput".into(),
                "Throughput against the number of closed-loop clients.".into(),
            ),
        ],
        table: Some(Table {
            header: [
                "system",
                "clients",
                "writes/s",
                "write p50 (ms)",
                "write p99 (ms)",
                "load before",
                "correct rounds",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }),
        commands: vec![
            format!(
                "cargo run --release -- bench live --rounds {} --clients {}",
                data.rounds,
                data.clients
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            "cargo run --release -- bench live --quick".into(),
        ],
    })
}

/// Per committed command at the leader, in µs: (protocol, apply, peer send, other, CPU
/// total), the leader thread's busy share, WAL µs per command (append + fsync), commands per
/// fsync, and persist wait per persist in µs. Means over the rounds that reported.
struct Breakdown {
    protocol_us: f64,
    apply_us: f64,
    send_us: f64,
    other_us: f64,
    cpu_us: f64,
    thread_busy: f64,
    wal_us: f64,
    per_fsync: f64,
    persist_wait_us: f64,
    fsync_us: f64,
    machine_busy: f64,
    rounds: usize,
}

fn breakdown(points: &[&Point]) -> Option<Breakdown> {
    let rows: Vec<(&Point, &live::profile::NodeProfile)> = points
        .iter()
        .filter_map(|p| p.leader_profile().map(|l| (*p, l)))
        .filter(|(_, l)| l.commands_applied > 0 && l.cpu_ns.is_some())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mean = |f: &dyn Fn(&Point, &live::profile::NodeProfile) -> f64| {
        rows.iter().map(|(p, l)| f(p, l)).sum::<f64>() / rows.len() as f64
    };
    let per_cmd = |ns: u64, l: &live::profile::NodeProfile| ns as f64 / 1e3 / l.commands_applied as f64;
    Some(Breakdown {
        protocol_us: mean(&|_, l| per_cmd(l.protocol_ns, l)),
        apply_us: mean(&|_, l| per_cmd(l.apply_ns, l)),
        send_us: mean(&|_, l| per_cmd(l.peer_send_ns, l)),
        other_us: mean(&|_, l| per_cmd(l.other_ns().unwrap_or(0), l)),
        cpu_us: mean(&|_, l| per_cmd(l.cpu_ns.unwrap_or(0), l)),
        thread_busy: mean(&|p, l| l.cpu_ns.unwrap_or(0) as f64 / p.workload_ns as f64),
        wal_us: mean(&|_, l| per_cmd(l.wal_append_ns + l.fsync_ns, l)),
        per_fsync: mean(&|_, l| l.commands_applied as f64 / l.fsyncs.max(1) as f64),
        persist_wait_us: mean(&|_, l| l.persist_wait_ns as f64 / 1e3 / l.persists.max(1) as f64),
        fsync_us: mean(&|_, l| l.fsync_ns as f64 / 1e3 / l.fsyncs.max(1) as f64),
        machine_busy: mean(&|p, _| p.machine_busy.unwrap_or(f64::NAN)),
        rounds: rows.len(),
    })
}

/// What bounds a point, read from its breakdown: the leader's thread, the machine's cores,
/// or neither (then the clients' concurrency and the round trips do).
fn bound(b: &Breakdown, cores: usize) -> String {
    if b.thread_busy >= 0.85 {
        format!(
            "the leader's node thread ({:.0} % busy): CPU in the node bounds it",
            b.thread_busy * 100.0
        )
    } else if b.machine_busy >= 0.9 {
        format!(
            "the machine's {cores} cores ({:.0} % busy, every process: nodes, harness and clients)",
            b.machine_busy * 100.0
        )
    } else {
        format!(
            "neither the leader's thread ({:.0} % busy) nor the cores ({:.0} % busy): waiting \
             (round trips, fsync) bounds it",
            b.thread_busy * 100.0,
            b.machine_busy * 100.0
        )
    }
}

/// Where the leader's time goes at 1 client and at each system's knee and largest count.
pub fn breakdown_section(data: &BenchData) -> Option<Section> {
    let mut rows = Vec::new();
    let mut paragraphs = vec![
        "From each node's own counters (see `harness/live/src/profile.rs`), at the node that led \
         at the end of the run, per client command it applied: CPU in the protocol (stepping \
         messages, proposing, timers, durability notices), in applying commands to the key-value \
         store, in encoding and writing peer messages (the loopback delivery runs inside that \
         system call), and the rest of the node thread's CPU (reading and decoding frames from \
         peers and clients, writing answers, the runtime; from the kernel's count of the \
         thread's time). The WAL runs on its own thread: its time per command, how many \
         commands one fdatasync covered, and how long a persist waited from being queued to \
         being durable. The timed parts are wall-clock intervals, so on a busy machine they \
         include time the thread waited for a core; the rest is the thread's CPU time less \
         them (shown as 0 when they exceed it). etcd reports none of this; its breakdown would \
         need a profiler."
            .to_string(),
    ];
    for &s in data.systems.iter().filter(|s| !s.is_etcd()) {
        let cells = analysis::cells(data, s);
        let mut counts: Vec<usize> = Vec::new();
        counts.extend(data.clients.iter().min());
        counts.extend(analysis::knee(&cells).map(|k| k.clients));
        counts.extend(data.clients.iter().max());
        counts.sort_unstable();
        counts.dedup();
        for c in counts {
            let points: Vec<&Point> = data
                .points
                .iter()
                .filter(|p| p.system == s && p.clients == c)
                .collect();
            let Some(b) = breakdown(&points) else { continue };
            rows.push(vec![
                s.label().to_string(),
                c.to_string(),
                format!("{:.1}", b.protocol_us),
                format!("{:.1}", b.apply_us),
                format!("{:.1}", b.send_us),
                format!("{:.1}", b.other_us),
                format!("{:.1}", b.cpu_us),
                format!("{:.0} %", b.thread_busy * 100.0),
                format!("{:.1}", b.wal_us),
                format!("{:.1}", b.per_fsync),
                format!("{:.0}", b.fsync_us),
                format!("{:.0}", b.persist_wait_us),
                format!("{:.0} %", b.machine_busy * 100.0),
            ]);
            let p50_us =
                points.iter().map(|p| p.write_p50_ns as f64 / 1e3).sum::<f64>() / points.len() as f64;
            if Some(&c) == data.clients.iter().min() {
                paragraphs.push(format!(
                    "{} at {c} client{}: a persist at the leader waited {:.0} µs on average from \
                     being queued to being durable (its fdatasyncs took {:.0} µs on average); the \
                     write p50 was {p50_us:.0} µs. The wait for the disk is of the order of the \
                     whole latency (a mean beside a median: slow fdatasyncs pull the mean up).",
                    s.label(),
                    if c == 1 { "" } else { "s" },
                    b.persist_wait_us,
                    b.fsync_us,
                ));
            }
            if Some(c) == analysis::knee(&cells).map(|k| k.clients) {
                paragraphs.push(format!(
                    "{} at its knee ({c} clients, {} rounds): {}.",
                    s.label(),
                    b.rounds,
                    bound(&b, data.machine.cores)
                ));
            }
        }
    }
    if rows.is_empty() {
        return None;
    }
    Some(Section {
        id: "bench-live-breakdown".into(),
        title: "Live benchmark: where the leader's time goes".into(),
        paragraphs,
        plots: Vec::new(),
        table: Some(Table {
            header: [
                "system",
                "clients",
                "protocol µs/cmd",
                "apply µs/cmd",
                "peer send µs/cmd",
                "other µs/cmd",
                "node thread CPU µs/cmd",
                "node thread busy",
                "WAL µs/cmd",
                "cmds per fsync",
                "fsync µs",
                "persist wait µs",
                "machine busy",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }),
        commands: Vec::new(),
    })
}

/// Both sections, plots drawn under `plots`.
pub fn sections(plots: &Path, data: &BenchData) -> Result<Vec<Section>, ReportError> {
    let mut out = vec![curves_section(plots, data)?];
    out.extend(breakdown_section(data));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(0.0), "0");
    }
}
