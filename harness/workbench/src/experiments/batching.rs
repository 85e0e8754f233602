//! Batching and pipelining on and off, for both protocols, through the shared knobs:
//! `max_batch_entries` (commands per AppendEntries / Accept) and `max_inflight_msgs` (the
//! per-follower window). Both protocols read them with the same meaning, so the four
//! settings are the same four settings for each.
//!
//! Two measurements: latency against achieved throughput as the number of closed-loop
//! clients grows (each point one run; closed loop, so an overloaded setting shows as latency
//! rather than as a retry storm), and a saturation table at 3 and 5 nodes for both knobs on
//! (64 commands per message, 8 messages in flight) and both off (1 and 1): clients double
//! from [`SATURATION_START`] until throughput grows by less than [`SATURATION_GAIN`] (or
//! [`SATURATION_MAX_CLIENTS`] is reached, which the table then says), and the best point is
//! reported with its commits per second and messages per committed command.

use super::{par_map, scenario};
use crate::suite::{Job, run_job};
use model::protocol::Protocol;
use model::run::BackendKind;
use report::plot::{self, Axis, LineChart, Series};
use report::{ReportError, Section, Table};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A setting of the two knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Knobs {
    pub batching: bool,
    pub pipelining: bool,
}

impl Knobs {
    pub const ALL: [Knobs; 4] = [
        Knobs {
            batching: true,
            pipelining: true,
        },
        Knobs {
            batching: false,
            pipelining: true,
        },
        Knobs {
            batching: true,
            pipelining: false,
        },
        Knobs {
            batching: false,
            pipelining: false,
        },
    ];

    fn label(&self) -> String {
        format!(
            "batching {}, pipelining {}",
            if self.batching { "on" } else { "off" },
            if self.pipelining { "on" } else { "off" }
        )
    }

    /// Commands per AppendEntries / Accept.
    pub fn batch_entries(&self) -> u32 {
        if self.batching { 64 } else { 1 }
    }

    /// Messages in flight per follower.
    pub fn window(&self) -> u32 {
        if self.pipelining { 8 } else { 1 }
    }

    fn toml(&self) -> String {
        format!(
            "[protocol]\nmax_batch_entries = {}\nmax_inflight_msgs = {}\n",
            self.batch_entries(),
            self.window()
        )
    }
}

/// Both knobs on, and both off: the two ends the saturation table compares.
pub const ENDS: [Knobs; 2] = [Knobs::ALL[0], Knobs::ALL[3]];

/// Clients of the saturation search's first run; each next run doubles them.
pub const SATURATION_START: usize = 32;
/// Throughput must grow by at least this fraction per doubling for the search to go on.
pub const SATURATION_GAIN: f64 = 0.05;
/// The search stops here whether or not throughput still grows.
pub const SATURATION_MAX_CLIENTS: usize = 4096;

/// One closed-loop run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    pub protocol: Protocol,
    pub knobs: Knobs,
    pub clients: usize,
    pub achieved_ops_per_s: f64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub correct: bool,
}

/// The best run of one saturation search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SaturationPoint {
    pub protocol: Protocol,
    pub nodes: usize,
    pub batching: bool,
    /// Pipelining as well (older data: on).
    #[serde(default = "yes")]
    pub pipelining: bool,
    /// Closed-loop clients of the best run.
    #[serde(default)]
    pub clients: usize,
    /// Whether doubling the clients past the best run gained less than
    /// [`SATURATION_GAIN`]; false when the search stopped at [`SATURATION_MAX_CLIENTS`].
    #[serde(default)]
    pub saturated: bool,
    pub commits_per_s: f64,
    pub messages_per_command: f64,
    pub bytes_per_command: f64,
    pub p99_ns: u64,
    pub correct: bool,
}

fn yes() -> bool {
    true
}

impl SaturationPoint {
    fn knobs(&self) -> Knobs {
        Knobs {
            batching: self.batching,
            pipelining: self.pipelining,
        }
    }
}

/// The whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchingData {
    pub load: Vec<LoadPoint>,
    pub saturation: Vec<SaturationPoint>,
}

fn job(name: &str, body: &str, protocol: Protocol) -> Job {
    Job {
        scenario: scenario(name, body),
        source: format!("(experiment {name})"),
        protocol,
        seed: 1,
        trace_log_bytes: 0,
        backend: BackendKind::Sim,
    }
}

/// Runs both measurements.
pub fn run(opts: &super::ExperimentOptions) -> BatchingData {
    let client_counts: &[usize] = if opts.quick {
        &[4, 32, 256]
    } else {
        &[1, 4, 16, 64, 256, 1024]
    };
    let duration = if opts.quick { "1s" } else { "2s" };
    let mut load_jobs = Vec::new();
    for protocol in Protocol::COMPARED {
        for knobs in Knobs::ALL {
            for &clients in client_counts {
                let body = format!(
                    "duration = \"{duration}\"\nsettle = \"1s\"\n[cluster]\nnodes = 3\n\
                     [workload]\nclients = {clients}\n{}",
                    knobs.toml()
                );
                load_jobs.push((protocol, knobs, clients, job("batching-load", &body, protocol)));
            }
        }
    }
    let load = par_map(&load_jobs, opts.threads, |(protocol, knobs, clients, job)| {
        let r = run_job(job);
        let (achieved, p50, p99, correct) = match &r {
            Ok(r) => (
                r.summary.throughput_ops_per_s,
                r.summary.latency.all.p50_ns,
                r.summary.latency.all.p99_ns,
                r.summary.correct,
            ),
            Err(_) => (0.0, 0, 0, false),
        };
        LoadPoint {
            protocol: *protocol,
            knobs: *knobs,
            clients: *clients,
            achieved_ops_per_s: achieved,
            p50_ns: p50,
            p99_ns: p99,
            correct,
        }
    });
    let mut searches = Vec::new();
    for protocol in Protocol::COMPARED {
        for nodes in [3usize, 5] {
            for knobs in ENDS {
                searches.push((protocol, nodes, knobs));
            }
        }
    }
    let saturation = par_map(&searches, opts.threads, |&(protocol, nodes, knobs)| {
        saturate(protocol, nodes, knobs, duration, opts.quick)
    });
    BatchingData { load, saturation }
}

/// One saturation search: clients double until throughput stops growing.
fn saturate(protocol: Protocol, nodes: usize, knobs: Knobs, duration: &str, quick: bool) -> SaturationPoint {
    let mut best = SaturationPoint {
        protocol,
        nodes,
        batching: knobs.batching,
        pipelining: knobs.pipelining,
        clients: 0,
        saturated: false,
        commits_per_s: 0.0,
        messages_per_command: 0.0,
        bytes_per_command: 0.0,
        p99_ns: 0,
        correct: true,
    };
    let max_clients = if quick { 256 } else { SATURATION_MAX_CLIENTS };
    let mut clients = SATURATION_START;
    while clients <= max_clients {
        let body = format!(
            "duration = \"{duration}\"\nsettle = \"1s\"\n[cluster]\nnodes = {nodes}\n\
             [workload]\nclients = {clients}\n{}",
            knobs.toml()
        );
        let Ok(r) = run_job(&job("batching-saturation", &body, protocol)) else {
            best.correct = false;
            return best;
        };
        best.correct &= r.summary.correct;
        let commits_per_s = r.summary.throughput_ops_per_s;
        if best.clients > 0 && commits_per_s < best.commits_per_s * (1.0 + SATURATION_GAIN) {
            best.saturated = true;
            return best;
        }
        if commits_per_s > best.commits_per_s {
            best.clients = clients;
            best.commits_per_s = commits_per_s;
            best.messages_per_command = r.summary.messages.messages_per_command;
            best.bytes_per_command = r.summary.messages.bytes_per_command;
            best.p99_ns = r.summary.latency.all.p99_ns;
        }
        clients *= 2;
    }
    best
}

fn chart(dir: &Path, protocol: Protocol, d: &BatchingData) -> Result<String, ReportError> {
    let stem = format!("dd-batching-{protocol}");
    let series = Knobs::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| Series {
            label: k.label(),
            color: plot::PALETTE[i],
            points: d
                .load
                .iter()
                .filter(|p| p.protocol == protocol && p.knobs == *k && p.achieved_ops_per_s > 0.0)
                .map(|p| (p.achieved_ops_per_s, (p.p99_ns as f64 / 1e6).max(1e-3)))
                .collect(),
            markers: true,
        })
        .collect();
    plot::write_line(
        dir,
        &stem,
        &LineChart {
            title: format!(
                "{}: p99 latency against throughput, 3 nodes",
                plot::protocol_label(protocol)
            ),
            x_label: "achieved throughput (operations per second)".into(),
            y_label: "p99 latency (ms, log scale)".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Log,
            series,
            bands: Vec::new(),
        },
    )?;
    Ok(stem)
}

/// The report section.
pub fn section(dir: &Path, d: &BatchingData) -> Result<Section, ReportError> {
    let mut plots = Vec::new();
    for p in Protocol::COMPARED {
        let stem = chart(dir, p, d)?;
        plots.push((
            stem,
            format!(
                "{}: each point is one run with 1 to 1024 closed-loop clients; where a line turns up, adding clients adds latency but no throughput.",
                plot::protocol_label(p)
            ),
        ));
    }
    let mut table = Table {
        header: [
            "protocol",
            "nodes",
            "batching / pipelining",
            "commands per message / window",
            "clients at the best point",
            "commits/s",
            "messages/command",
            "bytes/command",
            "p99",
            "correct",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for s in &d.saturation {
        table.rows.push(vec![
            plot::protocol_label(s.protocol).to_string(),
            s.nodes.to_string(),
            format!(
                "{} / {}",
                if s.batching { "on" } else { "off" },
                if s.pipelining { "on" } else { "off" }
            ),
            format!("{} / {}", s.knobs().batch_entries(), s.knobs().window()),
            if s.saturated {
                s.clients.to_string()
            } else {
                format!("{} (still growing: not saturated)", s.clients)
            },
            format!("{:.0}", s.commits_per_s),
            format!("{:.2}", s.messages_per_command),
            format!("{:.0}", s.bytes_per_command),
            format!("{:.1} ms", s.p99_ns as f64 / 1e6),
            s.correct.to_string(),
        ]);
    }
    let best = |protocol: Protocol, knobs: Knobs| {
        d.load
            .iter()
            .filter(|p| p.protocol == protocol && p.knobs == knobs)
            .map(|p| p.achieved_ops_per_s)
            .fold(0.0, f64::max)
    };
    let on = Knobs::ALL[0];
    let off = Knobs::ALL[3];
    let incorrect =
        d.load.iter().filter(|p| !p.correct).count() + d.saturation.iter().filter(|s| !s.correct).count();
    let paragraphs = vec![
        format!(
            "Highest throughput reached with both knobs on: Raft {:.0}, multi-Paxos {:.0} \
             operations per second; with both off: Raft {:.0}, multi-Paxos {:.0}. Both protocols read the \
             same two knobs (64 commands per message and 8 messages in flight when on, 1 and 1 when off).",
            best(Protocol::Raft, on),
            best(Protocol::Paxos, on),
            best(Protocol::Raft, off),
            best(Protocol::Paxos, off)
        ),
        format!(
            "The saturation table runs each protocol, cluster size and end setting (both knobs on: 64 \
             commands per message and 8 in flight; both off: 1 and 1, stop-and-wait) with {SATURATION_START} \
             closed-loop clients, doubling them until throughput grows by less than {:.0} % (at most \
             {SATURATION_MAX_CLIENTS}), and shows the best run; messages per command count every message any \
             node sent, heartbeats included.",
            100.0 * SATURATION_GAIN
        ),
        if incorrect == 0 {
            "Every run passed the invariants and the linearizability checker.".into()
        } else {
            format!("{incorrect} runs failed the invariants or the checker (the `correct` column).")
        },
    ];
    Ok(Section {
        id: "dd-batching".into(),
        title: "Batching and pipelining".into(),
        paragraphs,
        plots,
        table: Some(table),
        commands: vec!["cargo run --release -- experiment batching".into()],
    })
}
