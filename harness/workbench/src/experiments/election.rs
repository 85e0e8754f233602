//! Election time against the randomized timeout range, set up as Raft's §9.3 (extended
//! paper) sets up its Figure 16, for both protocols: Raft's split votes against multi-Paxos's
//! duelling proposers.
//!
//! The paper's setup, and ours:
//!
//! | | Raft §9.3 | here |
//! | --- | --- | --- |
//! | cluster | 5 servers | 5 nodes |
//! | broadcast time | about 15 ms | one-way latency 7 ms ± 0.5 ms (normal), so a round trip is about 15 ms |
//! | heartbeat interval | half the minimum election timeout | the same |
//! | crash | the leader, uniformly at random within its heartbeat interval | the same |
//! | logs | of different lengths, so some candidates are not eligible | two clients keep writing, so logs differ only by in-flight entries (most candidates are eligible) |
//! | trials per range | 1000 | 100 in the suite (20 with `--quick`); `workbench experiment election --trials 1000` for the paper's count |
//! | measured | time from the crash until a new leader is elected | the same, up to a 10 s cap |
//!
//! Multi-Paxos gets the identical schedule: its failure detector suspects the leader after a
//! timeout drawn from the same range, and a new leader is one that completed phase 1.

use super::{Checked, MS, Steered, par_map, quantile, scenario};
use model::faults::leader_of;
use model::protocol::Protocol;
use paxos::PaxosNode;
use raft::RaftNode;
use rand::RngExt;
use replog::{Nanos, ReplicatedLog, Role};
use report::plot::{self, Axis, LineChart, Series};
use report::{ReportError, Section, Table};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The timeout ranges of Figure 16, in milliseconds: the top graph varies the randomness,
/// the bottom graph the scale.
pub const RANDOMNESS: [(u64, u64); 6] = [
    (150, 150),
    (150, 151),
    (150, 155),
    (150, 175),
    (150, 200),
    (150, 300),
];
pub const SCALE: [(u64, u64); 5] = [(12, 24), (25, 50), (50, 100), (100, 200), (150, 300)];

/// A trial with no leader this long after the crash is stopped and counted as censored.
pub const CAP: Nanos = 10_000 * MS;

/// The trials of one protocol at one timeout range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RangeResult {
    pub protocol: Protocol,
    pub min_ms: u64,
    pub max_ms: u64,
    /// Per trial: time from the crash to a new leader; `None` if the cap passed first.
    pub downtime_ns: Vec<Option<Nanos>>,
    /// Trials whose run broke an invariant or was not linearizable.
    pub failed_checks: usize,
}

impl RangeResult {
    fn sorted_ms(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .downtime_ns
            .iter()
            .flatten()
            .map(|&d| d as f64 / MS as f64)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn censored(&self) -> usize {
        self.downtime_ns.iter().filter(|d| d.is_none()).count()
    }

    /// Quantile over every trial, censored ones counting as longer than any measured.
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        let v = self.sorted_ms();
        let rank = ((q * self.downtime_ns.len() as f64).ceil() as usize).max(1);
        (rank <= v.len()).then(|| quantile(&v[..rank], 1.0))
    }

    fn mean_ms(&self) -> Option<f64> {
        let v = self.sorted_ms();
        (self.censored() == 0 && !v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    fn label(&self) -> String {
        format!("{}–{} ms", self.min_ms, self.max_ms)
    }
}

/// The whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElectionData {
    pub trials: usize,
    pub cap_ns: Nanos,
    pub results: Vec<RangeResult>,
}

impl ElectionData {
    fn get(&self, protocol: Protocol, range: (u64, u64)) -> Option<&RangeResult> {
        self.results
            .iter()
            .find(|r| r.protocol == protocol && (r.min_ms, r.max_ms) == range)
    }
}

fn ranges() -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = RANDOMNESS.to_vec();
    v.extend(SCALE.iter().filter(|r| !RANDOMNESS.contains(r)));
    v
}

fn trial_scenario(min_ms: u64, max_ms: u64) -> model::scenario::Scenario {
    scenario(
        "election-range",
        &format!(
            "duration = \"60s\"\nsettle = \"1s\"\n[cluster]\nnodes = 5\n\
             [network]\nlatency = {{ dist = \"normal\", mean = \"7ms\", stddev = \"500us\" }}\n\
             [protocol]\nelection_timeout_min = \"{min_ms}ms\"\nelection_timeout_max = \"{max_ms}ms\"\n\
             heartbeat_interval = \"{}us\"\n\
             [workload]\nclients = 2\nkeys = 10\nthink_time = \"5ms\"\n\
             [workload.mix]\nread = 0.0\nwrite = 1.0\ncas = 0.0\n",
            min_ms * 1000 / 2
        ),
    )
}

/// One trial: a settled leader, crashed uniformly within its heartbeat interval; the time
/// until a node leads at a higher term or ballot.
fn trial<L: ReplicatedLog>(range: (u64, u64), seed: u64) -> (Option<Nanos>, Checked) {
    let s = trial_scenario(range.0, range.1);
    let heartbeat = s.protocol.heartbeat_interval_ns;
    let mut run = Steered::<L>::new(&s, seed);
    let mut failed = Checked {
        invariants_ok: false,
        linearizable: None,
    };
    if run.bootstrap(500 * MS).is_none() {
        return (None, failed);
    }
    let mut rng = replog::rng::rng_for(seed, 0x916);
    let crash_at = run.now() + rng.random_range(0..heartbeat.max(1));
    run.run_until(crash_at);
    let statuses = run.statuses();
    let Some(leader) = leader_of(&statuses) else {
        failed.invariants_ok = true;
        return (None, failed);
    };
    let old = statuses[leader.index()].as_ref().expect("the leader is up").epoch;
    run.sim.crash(leader);
    let elected = run.run_until_status(MS / 2, crash_at + CAP, |st| {
        st.iter()
            .flatten()
            .any(|x| x.role == Role::Leader && x.epoch > old)
    });
    (elected.map(|t| t - crash_at), run.conclude())
}

fn run_range<L: ReplicatedLog>(
    range: (u64, u64),
    range_index: usize,
    trials: usize,
    threads: usize,
) -> RangeResult {
    let seeds: Vec<u64> = (0..trials as u64)
        .map(|t| 1 + t + 10_000 * range_index as u64)
        .collect();
    let results = par_map(&seeds, threads, |&seed| trial::<L>(range, seed));
    RangeResult {
        protocol: Protocol::of::<L>(),
        min_ms: range.0,
        max_ms: range.1,
        downtime_ns: results.iter().map(|r| r.0).collect(),
        failed_checks: results.iter().filter(|r| !r.1.ok()).count(),
    }
}

/// Runs every range for both protocols.
pub fn run(opts: &super::ExperimentOptions) -> ElectionData {
    let trials = opts.election_trials.unwrap_or(if opts.quick { 20 } else { 100 });
    let mut results = Vec::new();
    for (i, range) in ranges().into_iter().enumerate() {
        results.push(run_range::<RaftNode>(range, i, trials, opts.threads));
        results.push(run_range::<PaxosNode>(range, i, trials, opts.threads));
    }
    ElectionData {
        trials,
        cap_ns: CAP,
        results,
    }
}

fn cdf_chart(
    dir: &Path,
    stem: &str,
    title: String,
    d: &ElectionData,
    protocol: Protocol,
    set: &[(u64, u64)],
) -> Result<(), ReportError> {
    let mut series = Vec::new();
    for (i, &range) in set.iter().enumerate() {
        let Some(r) = d.get(protocol, range) else { continue };
        let n = r.downtime_ns.len() as f64;
        let mut points = Vec::new();
        for (k, ms) in r.sorted_ms().iter().enumerate() {
            points.push((ms.max(1.0), 100.0 * k as f64 / n));
            points.push((ms.max(1.0), 100.0 * (k + 1) as f64 / n));
        }
        if points.is_empty() {
            // Every trial censored: a mark at the cap keeps the range in the legend.
            points.push((d.cap_ns as f64 / MS as f64, 0.0));
        }
        series.push(Series {
            label: format!(
                "{}{}",
                r.label(),
                if r.censored() > 0 {
                    format!(" ({} over 10 s)", r.censored())
                } else {
                    String::new()
                }
            ),
            color: plot::PALETTE[i % plot::PALETTE.len()],
            points,
            markers: false,
        });
    }
    plot::write_line(
        dir,
        stem,
        &LineChart {
            title,
            x_label: "time without a leader after the crash (ms, log scale)".into(),
            y_label: "cumulative percent of trials".into(),
            x_axis: Axis::Log,
            y_axis: Axis::Linear,
            series,
            bands: Vec::new(),
        },
    )
}

fn fmt_ms(x: Option<f64>) -> String {
    x.map_or_else(|| "> 10 s".into(), |v| format!("{v:.0} ms"))
}

/// The report section: four CDFs in the layout of Figure 16, a table, and what they show.
pub fn section(dir: &Path, d: &ElectionData) -> Result<Section, ReportError> {
    let mut plots = Vec::new();
    for (protocol, name) in Protocol::COMPARED.map(|p| (p, p.display_name())) {
        let stem = format!("dd-election-randomness-{protocol}");
        cdf_chart(
            dir,
            &stem,
            format!("{name}: election time, varying randomness"),
            d,
            protocol,
            &RANDOMNESS,
        )?;
        plots.push((stem, format!("{name}: CDF of time without a leader after the leader crashes; each line is a timeout range with the same 150 ms minimum (Figure 16, top).")));
        let stem = format!("dd-election-scale-{protocol}");
        cdf_chart(
            dir,
            &stem,
            format!("{name}: election time, varying scale"),
            d,
            protocol,
            &SCALE,
        )?;
        plots.push((
            stem,
            format!(
                "{name}: the same with the range scaled from 12–24 ms to 150–300 ms (Figure 16, bottom)."
            ),
        ));
    }
    let mut table = Table {
        header: [
            "protocol",
            "timeout range",
            "trials",
            "median",
            "p99",
            "max",
            "mean",
            "over 10 s",
            "failed checks",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for r in &d.results {
        let v = r.sorted_ms();
        table.rows.push(vec![
            plot::protocol_label(r.protocol).to_string(),
            r.label(),
            r.downtime_ns.len().to_string(),
            fmt_ms(r.quantile_ms(0.5)),
            fmt_ms(r.quantile_ms(0.99)),
            fmt_ms(if r.censored() > 0 { None } else { v.last().copied() }),
            fmt_ms(r.mean_ms()),
            r.censored().to_string(),
            r.failed_checks.to_string(),
        ]);
    }
    Ok(Section {
        id: "dd-election".into(),
        title: "Election time against the timeout range (Raft §9.3, Figure 16)".into(),
        paragraphs: paragraphs(d),
        plots,
        table: Some(table),
        commands: vec![format!(
            "cargo run --release -- experiment election --trials {}   # the paper ran 1000",
            d.trials
        )],
    })
}

/// What the data says beside the paper's figures, claimed only as far as it goes.
fn paragraphs(d: &ElectionData) -> Vec<String> {
    let mut out = vec![format!(
        "Five nodes, a round trip of about 15 ms, heartbeats at half the minimum timeout, the leader \
         crashed uniformly within its heartbeat interval, {} trials per range and protocol (the paper: \
         1000). Unlike the paper's runs, the logs here differ only by in-flight entries, so nearly every \
         node is an eligible candidate; trials with no leader after 10 s are stopped and counted.",
        d.trials
    )];
    let mut compare = Vec::new();
    for (protocol, name) in Protocol::COMPARED.map(|p| (p, p.display_name())) {
        let none = d.get(protocol, (150, 150));
        let five = d.get(protocol, (150, 155));
        let fifty = d.get(protocol, (150, 200));
        let small = d.get(protocol, (12, 24));
        let (Some(none), Some(five), Some(fifty), Some(small)) = (none, five, fifty, small) else {
            continue;
        };
        compare.push(format!(
            "{name}: with no randomness {} of {} trials had no leader after 10 s (paper, Raft: consistently \
             over 10 s); 5 ms of randomness gave a median of {} (paper: 287 ms); with 50 ms the worst trial \
             took {} (paper: 513 ms over 1000 trials); 12–24 ms gave a mean of {} and a worst case of {} \
             (paper: 35 ms and 152 ms).",
            none.censored(),
            none.downtime_ns.len(),
            fmt_ms(five.quantile_ms(0.5)),
            fmt_ms(if fifty.censored() > 0 {
                None
            } else {
                fifty.sorted_ms().last().copied()
            }),
            fmt_ms(small.mean_ms()),
            fmt_ms(if small.censored() > 0 {
                None
            } else {
                small.sorted_ms().last().copied()
            }),
        ));
    }
    out.extend(compare);
    if let (Some(r), Some(p)) = (
        d.get(Protocol::Raft, (150, 150)),
        d.get(Protocol::Paxos, (150, 150)),
    ) {
        let n = r.downtime_ns.len();
        let mut text = format!(
            "With no randomness at all, {} of {n} Raft trials and {} of {n} multi-Paxos trials had no \
             leader after 10 s.",
            r.censored(),
            p.censored()
        );
        if r.censored() > p.censored() {
            text.push_str(
                " The difference is structural: Paxos ballots are totally ordered by (round, node id), so \
                 when every node suspects the leader at the same moment the acceptors promise to the \
                 highest ballot and that proposer wins, while Raft's candidates in one term each keep \
                 their own vote and split it. Paxos proposers duel only when a loser retries with a higher \
                 round before the winner's phase 2 completes (see `workbench explore synod` and the paxos \
                 crate's duelling tests).",
            );
        }
        out.push(text);
    }
    let failed: usize = d.results.iter().map(|r| r.failed_checks).sum();
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
    fn raft_without_randomness_splits_votes_until_the_cap() {
        let (downtime, checked) = trial::<RaftNode>((150, 150), 1);
        assert_eq!(downtime, None, "expected no leader within 10 s");
        assert!(checked.invariants_ok);
    }

    #[test]
    fn paxos_without_randomness_elects_the_highest_ballot() {
        let (downtime, checked) = trial::<PaxosNode>((150, 150), 1);
        assert!(downtime.is_some_and(|d| d < 1_000 * MS), "got {downtime:?}");
        assert!(checked.ok());
    }

    #[test]
    fn raft_with_a_wide_range_elects_within_a_second() {
        let (downtime, checked) = trial::<RaftNode>((150, 300), 1);
        assert!(downtime.is_some_and(|d| d < 1_000 * MS), "got {downtime:?}");
        assert!(checked.ok());
    }
}
