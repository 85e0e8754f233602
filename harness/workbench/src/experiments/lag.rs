//! Leader change when the node that times out first lags by K entries.
//!
//! Raft and multi-Paxos disagree about who may lead. Raft's voters refuse a candidate whose
//! log is less up to date than theirs (Raft §5.4.1), so a lagging node cannot win and the
//! cluster waits for another timeout; the winner already holds every committed entry. In
//! multi-Paxos any node may lead (Paxos Made Simple §3): the lagging node wins phase 1, and
//! the promises carry every accepted value above its first unchosen slot, which it must
//! re-propose in phase 2 before its first new slot is chosen.
//!
//! Procedure, identical for both: 5 nodes with 32 clients writing; once a leader is settled,
//! one follower X is cut off until the leader has committed K entries X lacks; then, at the
//! same instant, the leader crashes, X is reconnected and X's clock runs fast, so X is the
//! first to time out. Measured: the time from the crash until the new leader's commit index
//! passes the highest commit index any survivor had at the crash (its first new commit), and
//! the messages and bytes all nodes sent in between.
//!
//! Variant with log compaction ([`COMPACTION_EVERY`]): the same procedure with a snapshot
//! every 100 entries, so the entries X lacks are compacted away on every other node and X
//! catches up from a snapshot (Raft's InstallSnapshot from the new leader; in multi-Paxos,
//! the snapshot in the promises X collects as the new leader). Measured in addition, for both
//! variants: the time from the crash until X's commit index reaches the highest any survivor
//! had at the crash (X caught up), and the bytes all nodes sent until then.

use super::{Checked, MS, Steered, par_map, scenario};
use model::faults::leader_of;
use model::protocol::Protocol;
use model::stats::Interval;
use paxos::PaxosNode;
use raft::RaftNode;
use replog::{Nanos, NodeId, ReplicatedLog, Role};
use report::plot::{self, Axis, IntervalSeries, IntervalStyle, LineChart, Overlay, Series};
use report::{ReportError, Section, Table};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The lags studied.
pub const LAGS: [u64; 5] = [0, 10, 100, 1_000, 10_000];

/// Trials per lag and protocol (`--quick`: [`QUICK_TRIALS`]).
pub const TRIALS: u64 = 20;
pub const QUICK_TRIALS: u64 = 3;

/// The compaction variant: a snapshot every this many applied entries (0 in the base setup).
pub const COMPACTION_EVERY: u64 = 100;
/// Image bytes per snapshot message in the compaction variant (the default chunk size).
pub const COMPACTION_CHUNK_BYTES: usize = 64 << 10;

/// No new commit this long after the crash ends the trial as censored.
const CAP: Nanos = 10_000 * MS;

/// One trial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LagPoint {
    pub protocol: Protocol,
    /// The lag asked for.
    pub k: u64,
    pub seed: u64,
    /// The lag at the crash: the old leader's last index minus X's.
    pub actual_lag: u64,
    /// Crash to the new leader's first new commit; `None` past the cap.
    pub first_commit_ns: Option<Nanos>,
    /// Whether X became the new leader.
    pub lagging_node_led: bool,
    pub messages: u64,
    pub bytes: u64,
    pub checked: Checked,
    /// `[protocol] snapshot_every` of the trial (0: the base setup, no compaction).
    #[serde(default)]
    pub snapshot_every: u64,
    /// Crash to X's commit index reaching the survivors' highest at the crash; `None` past
    /// the cap.
    #[serde(default)]
    pub catch_up_ns: Option<Nanos>,
    /// Bytes all nodes sent from the crash until X caught up.
    #[serde(default)]
    pub catch_up_bytes: u64,
}

/// The whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LagData {
    pub seeds: u64,
    pub points: Vec<LagPoint>,
}

fn lag_scenario() -> model::scenario::Scenario {
    scenario(
        "leader-change-lag",
        "duration = \"60s\"\nsettle = \"2s\"\n[cluster]\nnodes = 5\n\
         [workload]\nclients = 32\nkeys = 100\n[workload.mix]\nread = 0.0\nwrite = 1.0\ncas = 0.0\n",
    )
}

/// A trial of the base setup (no compaction).
#[cfg(test)]
fn trial<L: ReplicatedLog>(k: u64, seed: u64) -> LagPoint {
    trial_with::<L>(k, seed, 0)
}

/// A trial with `snapshot_every` (0: no compaction, the base setup).
fn trial_with<L: ReplicatedLog>(k: u64, seed: u64, snapshot_every: u64) -> LagPoint {
    let mut s = lag_scenario();
    s.protocol.snapshot_every = snapshot_every;
    s.protocol.snapshot_chunk_bytes = COMPACTION_CHUNK_BYTES;
    let mut run = Steered::<L>::new(&s, seed);
    let mut point = LagPoint {
        protocol: Protocol::of::<L>(),
        k,
        seed,
        actual_lag: 0,
        first_commit_ns: None,
        lagging_node_led: false,
        messages: 0,
        bytes: 0,
        checked: Checked {
            invariants_ok: false,
            linearizable: None,
        },
        snapshot_every,
        catch_up_ns: None,
        catch_up_bytes: 0,
    };
    let Some(leader) = run.bootstrap(300 * MS) else {
        return point;
    };
    let n = run.sim.members().len() as u32;
    let x = NodeId((leader.0 + 1) % n);
    for other in run.sim.members().to_vec() {
        if other != x {
            run.sim.network_mut().set_blocked(x, other, true);
            run.sim.network_mut().set_blocked(other, x, true);
        }
    }
    let x_last = run.statuses()[x.index()].as_ref().map_or(0, |st| st.last_index);
    let limit = run.now() + 60_000 * MS;
    let reached = run.run_until_status(MS, limit, |st| {
        st[leader.index()]
            .as_ref()
            .is_some_and(|l| l.commit_index >= x_last + k)
    });
    let statuses = run.statuses();
    if reached.is_none() || leader_of(&statuses) != Some(leader) {
        return point;
    }
    let old = statuses[leader.index()].as_ref().expect("leader up");
    point.actual_lag = old
        .last_index
        .saturating_sub(statuses[x.index()].as_ref().map_or(0, |st| st.last_index));
    let old_epoch = old.epoch;
    let survivors_commit = statuses
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != leader.index())
        .filter_map(|(_, st)| st.as_ref().map(|st| st.commit_index))
        .max()
        .unwrap_or(0);
    let crash_at = run.now();
    let (m0, b0) = run.traffic();
    run.sim.crash(leader);
    run.sim.network_mut().heal();
    run.sim.set_clock_rate(x, 2.0);
    let mut new_leader = None;
    let done = run.run_until_status(MS / 2, crash_at + CAP, |st| {
        let found = st
            .iter()
            .flatten()
            .find(|s| s.role == Role::Leader && s.epoch > old_epoch && s.commit_index > survivors_commit);
        new_leader = found.map(|s| s.id);
        found.is_some()
    });
    let (m1, b1) = run.traffic();
    point.first_commit_ns = done.map(|t| t - crash_at);
    point.lagging_node_led = new_leader == Some(x);
    point.messages = m1 - m0;
    point.bytes = b1 - b0;
    let caught_up = run.run_until_status(MS / 2, crash_at + CAP, |st| {
        st[x.index()]
            .as_ref()
            .is_some_and(|s| s.commit_index >= survivors_commit)
    });
    point.catch_up_ns = caught_up.map(|t| t - crash_at);
    point.catch_up_bytes = run.traffic().1 - b0;
    run.sim.set_clock_rate(x, 1.0);
    let t = run.now() + 500 * MS;
    run.run_until(t);
    point.checked = run.conclude();
    point
}

/// Runs every lag for both protocols, `seeds` trials each.
pub fn run(opts: &super::ExperimentOptions) -> LagData {
    let seeds: u64 = if opts.quick { QUICK_TRIALS } else { TRIALS };
    let lags: Vec<u64> = if opts.quick {
        vec![0, 100, 10_000]
    } else {
        LAGS.to_vec()
    };
    let mut jobs = Vec::new();
    for every in [0, COMPACTION_EVERY] {
        for &k in &lags {
            for seed in 1..=seeds {
                jobs.push((k, seed, Protocol::Raft, every));
                jobs.push((k, seed, Protocol::Paxos, every));
            }
        }
    }
    let points = par_map(&jobs, opts.threads, |&(k, seed, p, every)| {
        if p == Protocol::Raft {
            trial_with::<RaftNode>(k, seed, every)
        } else {
            trial_with::<PaxosNode>(k, seed, every)
        }
    });
    LagData { seeds, points }
}

fn interval(xs: impl Iterator<Item = f64>) -> Option<Interval> {
    Interval::of(&xs.collect::<Vec<f64>>())
}

/// One lag's trials for one protocol: means with their 95 % intervals over the seeds.
struct Row {
    k: u64,
    lag: f64,
    /// Over the trials that committed within the cap.
    first_commit_ms: Option<Interval>,
    censored: usize,
    led: usize,
    messages: Option<Interval>,
    kib: Option<Interval>,
    failed: usize,
    trials: usize,
    catch_up_ms: Option<Interval>,
    catch_up_censored: usize,
    catch_up_kib: Option<Interval>,
}

fn rows(d: &LagData, protocol: Protocol) -> Vec<Row> {
    rows_with(d, protocol, 0)
}

fn rows_with(d: &LagData, protocol: Protocol, snapshot_every: u64) -> Vec<Row> {
    let mut ks: Vec<u64> = d.points.iter().map(|p| p.k).collect();
    ks.sort_unstable();
    ks.dedup();
    ks.into_iter()
        .map(|k| {
            let pts: Vec<&LagPoint> = d
                .points
                .iter()
                .filter(|p| p.protocol == protocol && p.k == k && p.snapshot_every == snapshot_every)
                .collect();
            Row {
                k,
                lag: interval(pts.iter().map(|p| p.actual_lag as f64)).map_or(0.0, |i| i.mean),
                first_commit_ms: interval(
                    pts.iter()
                        .filter_map(|p| p.first_commit_ns)
                        .map(|t| t as f64 / MS as f64),
                ),
                censored: pts.iter().filter(|p| p.first_commit_ns.is_none()).count(),
                led: pts.iter().filter(|p| p.lagging_node_led).count(),
                messages: interval(pts.iter().map(|p| p.messages as f64)),
                kib: interval(pts.iter().map(|p| p.bytes as f64 / 1024.0)),
                failed: pts.iter().filter(|p| !p.checked.ok()).count(),
                trials: pts.len(),
                catch_up_ms: interval(
                    pts.iter()
                        .filter_map(|p| p.catch_up_ns)
                        .map(|t| t as f64 / MS as f64),
                ),
                catch_up_censored: pts.iter().filter(|p| p.catch_up_ns.is_none()).count(),
                catch_up_kib: interval(pts.iter().map(|p| p.catch_up_bytes as f64 / 1024.0)),
            }
        })
        .filter(|r| r.trials > 0)
        .collect()
}

/// The compaction variant's section: the base setup and the one with snapshots side by
/// side, for the time and bytes until the lagging node caught up.
pub fn compaction_section(d: &LagData) -> Option<Section> {
    if !d.points.iter().any(|p| p.snapshot_every > 0) {
        return None;
    }
    let mut table = Table {
        header: [
            "protocol",
            "compaction",
            "K",
            "lag at crash",
            "lagging node led",
            "X caught up (mean ± 95 % CI)",
            "KiB sent until then (mean ± 95 % CI)",
            "failed checks",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for p in Protocol::COMPARED {
        for every in [0, COMPACTION_EVERY] {
            for r in rows_with(d, p, every) {
                table.rows.push(vec![
                    plot::protocol_label(p).to_string(),
                    if every == 0 {
                        "off".into()
                    } else {
                        format!("snapshot every {every}")
                    },
                    r.k.to_string(),
                    format!("{:.0}", r.lag),
                    format!("{} of {}", r.led, r.trials),
                    match (r.catch_up_ms, r.catch_up_censored) {
                        (Some(t), 0) => format!("{t:.1} ms"),
                        (Some(t), c) => format!("{t:.1} ms ({c} over 10 s, not in the mean)"),
                        (None, _) => "> 10 s".into(),
                    },
                    r.catch_up_kib.map_or("–".into(), |i| format!("{i:.0}")),
                    r.failed.to_string(),
                ]);
            }
        }
    }
    Some(Section {
        id: "dd-lag-compaction".into(),
        title: "Catching up the lagging node, with and without log compaction".into(),
        paragraphs: vec![format!(
            "The setup of the previous section, run again with a snapshot every {COMPACTION_EVERY}              applied entries (`[protocol] snapshot_every`), chunks of {COMPACTION_CHUNK_BYTES} bytes.              Measured for both: the time from the leader's crash until the lagging node X has              committed as far as any survivor had at the crash, and the bytes all nodes sent until              then. With compaction the entries X lacks are gone from the other logs once K exceeds              the interval, so X receives a snapshot: from the new leader in Raft (InstallSnapshot),              in the promises it collects as the new leader in multi-Paxos. {} trials per row;              means with Student-t 95 % intervals.",
            d.seeds
        )],
        plots: Vec::new(),
        table: Some(table),
        commands: vec!["cargo run --release -- experiment lag".into()],
    })
}

/// Means over trials, with their 95 % intervals as error bars.
fn chart(
    dir: &Path,
    stem: &str,
    title: &str,
    y_label: &str,
    d: &LagData,
    y: impl Fn(&Row) -> Option<Interval>,
) -> Result<(), ReportError> {
    let mut series = Vec::new();
    let mut overlay = Overlay::default();
    for p in Protocol::COMPARED {
        let rows = rows(d, p);
        let at = |r: &Row| r.k.max(1) as f64;
        series.push(Series {
            label: plot::protocol_label(p).to_string(),
            color: plot::protocol_color(p),
            points: rows
                .iter()
                .filter_map(|r| y(r).map(|i| (at(r), i.mean.max(1e-3))))
                .collect(),
            markers: true,
        });
        overlay.intervals.push(IntervalSeries {
            color: plot::protocol_color(p),
            points: rows
                .iter()
                .filter_map(|r| {
                    let i = y(r)?;
                    i.half_width.map(|_| (at(r), i.lo().max(1e-3), i.hi()))
                })
                .collect(),
            style: IntervalStyle::Bars,
        });
    }
    plot::write_line_with(
        dir,
        stem,
        &LineChart {
            title: title.into(),
            x_label: "entries the first node to time out lacks, K (log scale; 0 drawn at 1)".into(),
            y_label: y_label.into(),
            x_axis: Axis::Log,
            y_axis: Axis::Log,
            series,
            bands: Vec::new(),
        },
        &overlay,
    )
}

/// The report section.
pub fn section(dir: &Path, d: &LagData) -> Result<Section, ReportError> {
    chart(
        dir,
        "dd-lag-time",
        "Leader change with a lagging node: time to first new commit",
        "time from crash to first new commit (ms, log scale)",
        d,
        |r| r.first_commit_ms,
    )?;
    chart(
        dir,
        "dd-lag-bytes",
        "Leader change with a lagging node: bytes sent",
        "KiB sent by all nodes from crash to first new commit (log scale)",
        d,
        |r| r.kib,
    )?;
    let mut table = Table {
        header: [
            "protocol",
            "K",
            "lag at crash",
            "lagging node led",
            "first new commit (mean ± 95 % CI)",
            "messages (mean ± 95 % CI)",
            "KiB (mean ± 95 % CI)",
            "failed checks",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for p in Protocol::COMPARED {
        for r in rows(d, p) {
            table.rows.push(vec![
                plot::protocol_label(p).to_string(),
                r.k.to_string(),
                format!("{:.0}", r.lag),
                format!("{} of {}", r.led, r.trials),
                match (r.first_commit_ms, r.censored) {
                    (Some(t), 0) => format!("{t:.1} ms"),
                    (Some(t), c) => format!("{t:.1} ms ({c} over 10 s, not in the mean)"),
                    (None, _) => "> 10 s".into(),
                },
                r.messages.map_or("–".into(), |i| format!("{i:.0}")),
                r.kib.map_or("–".into(), |i| format!("{i:.0}")),
                r.failed.to_string(),
            ]);
        }
    }
    Ok(Section {
        id: "dd-lag".into(),
        title: "Leader change when the first node to time out lags by K entries".into(),
        paragraphs: paragraphs(d),
        plots: vec![
            ("dd-lag-time".into(), "Mean time from the leader's crash to the new leader's first new commit, against K, with its 95 % interval over the trials (error bars; the table gives the figures and the trials censored at the cap).".into()),
            ("dd-lag-bytes".into(), "Mean bytes all nodes sent in that interval: Paxos's promises and re-proposals carry the entries the new leader lacks. Error bars: 95 % intervals.".into()),
        ],
        table: Some(table),
        commands: vec!["cargo run --release -- experiment lag".into()],
    })
}

fn paragraphs(d: &LagData) -> Vec<String> {
    let mut out = vec![format!(
        "5 nodes, 32 clients writing; a follower X is cut off until the leader has committed K entries \
         it lacks, then the leader crashes while X rejoins with its clock running twice as fast, so X \
         times out first. {} trials (seeds) per K and protocol; means with Student-t 95 % intervals over \
         them.",
        d.seeds
    )];
    let raft = rows(d, Protocol::Raft);
    let paxos = rows(d, Protocol::Paxos);
    let (Some(r_hi), Some(p_hi)) = (raft.last(), paxos.last()) else {
        return out;
    };
    out.push(format!(
        "Raft: the lagging node led in {} of {} trials at K = {}: its voters refuse it (§5.4.1), and \
         another node wins after its own timeout. Multi-Paxos: the lagging node led in {} of {} trials, \
         since any node may win phase 1, and it recovers the entries from the promises.",
        r_hi.led, r_hi.trials, r_hi.k, p_hi.led, p_hi.trials
    ));
    if let (Some(rt), Some(pt), Some(rk), Some(pk)) =
        (r_hi.first_commit_ms, p_hi.first_commit_ms, r_hi.kib, p_hi.kib)
    {
        let time = if rt.separated_from(&pt) {
            if pt.mean < rt.mean {
                "Paxos's early leader commits sooner"
            } else {
                "Paxos's early leader commits later"
            }
        } else {
            "the 95 % intervals of the time overlap, so no difference in time is claimed"
        };
        let bytes = if rk.separated_from(&pk) {
            if pk.mean > rk.mean {
                "Paxos sends more bytes"
            } else {
                "Paxos sends fewer bytes"
            }
        } else {
            "the byte counts' intervals overlap"
        };
        out.push(format!(
            "At K = {}, the first new commit came after {rt:.1} ms for Raft and {pt:.1} ms for multi-Paxos, \
             with {rk:.0} KiB against {pk:.0} KiB sent in between: {time}; {bytes}.",
            r_hi.k,
        ));
    }
    let failed: usize = raft.iter().chain(&paxos).map(|r| r.failed).sum();
    out.push(if failed == 0 {
        "Every trial passed the invariants and the linearizability checker.".into()
    } else {
        format!("{failed} trials failed the invariants or the checker: see the table.")
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_voters_refuse_the_lagging_node() {
        let p = trial::<RaftNode>(100, 1);
        assert!(p.actual_lag >= 100, "lag {}", p.actual_lag);
        assert!(
            !p.lagging_node_led && p.first_commit_ns.is_some() && p.checked.ok(),
            "{p:?}"
        );
    }

    #[test]
    fn with_compaction_both_protocols_catch_the_lagging_node_up_from_a_snapshot() {
        for p in [
            trial_with::<RaftNode>(1_000, 1, COMPACTION_EVERY),
            trial_with::<PaxosNode>(1_000, 1, COMPACTION_EVERY),
        ] {
            assert!(p.actual_lag >= 1_000, "lag {}", p.actual_lag);
            assert!(p.catch_up_ns.is_some() && p.checked.ok(), "{p:?}");
        }
    }

    #[test]
    fn paxos_lets_the_lagging_node_lead_and_recover_the_entries() {
        let p = trial::<PaxosNode>(100, 1);
        assert!(p.actual_lag >= 100, "lag {}", p.actual_lag);
        assert!(
            p.lagging_node_led && p.first_commit_ns.is_some() && p.checked.ok(),
            "{p:?}"
        );
    }
}
