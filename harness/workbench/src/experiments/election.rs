//! Election time against the randomized timeout range, set up as Raft's §9.3 (extended
//! paper; thesis §9.4) sets up its Figure 16, for both protocols: Raft's split votes against
//! multi-Paxos's duelling proposers. The report section is in [`super::election_report`],
//! the paper's published values in [`super::paper`].
//!
//! | | Raft §9.3 / thesis §9.4 | here |
//! | --- | --- | --- |
//! | cluster | 5 servers | 5 nodes |
//! | broadcast time | "network round trip plus disk write" ≈ 15 ms | one-way latency 7 ms ± 0.5 ms, fsync 1 ms ± 0.1 ms ([`Setup::PAPER`]) |
//! | heartbeat interval | half the minimum election timeout | the same |
//! | before the crash | "synchronized the old leader's heartbeat RPCs before causing the old leader to exit" | the leader is idle (no client write for at least a heartbeat interval); its periodic heartbeat goes to every follower at once and the crash follows it |
//! | crash | uniformly random within the heartbeat interval | `U(0, heartbeat)` after that heartbeat left |
//! | logs | "two of the four servers were not eligible to become leader" | two followers are cut off from the leader while clients write, one for twice as many entries as the other; they get the heartbeat but no catch-up, so at the crash they are shorter and ineligible (§5.4.1) |
//! | trials per range | 1000 (100 for 150–150 ms) | `--trials N` (the paper's count with 1000; 150–150 ms at most 100, as the paper) |
//! | measured | old leader's crash until the others received the new leader's first heartbeat | crash until every survivor follows one new leader (role and leader hint, from the status log: exact time) |
//!
//! Each trial asserts its own setup ([`SetupCheck`]): a trial where the leader was not idle,
//! the crash did not follow the heartbeat within one interval, a survivor missed the
//! heartbeat, or fewer survivors than intended were ineligible is counted as a setup
//! failure and kept out of the figures (and shown). Multi-Paxos gets the identical schedule:
//! its failure detector suspects the leader after a timeout drawn from the same range, any
//! node may win phase 1, and the new leader recovers the entries the lagging nodes lack.
//!
//! The sensitivity runs ([`sensitivity_setups`]) vary one thing at a time around
//! [`Setup::PAPER`]: how the broadcast time splits into network and disk, the fsync time
//! (a candidate's vote must be durable before its RequestVote leaves, and each voter's
//! before its grant), and how many followers lag.

use super::{Checked, MS, Steered, par_map, quantile, scenario};
use model::protocol::Protocol;
use model::scenario::Scenario;
use paxos::PaxosNode;
use raft::RaftNode;
use rand::RngExt;
use rand::seq::SliceRandom;
use replog::{Epoch, Nanos, NodeId, ReplicatedLog, Role, Status};
use serde::{Deserialize, Serialize};

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

/// The ranges of the sensitivity runs: where split votes decide the result, and two wide
/// ones where the election's own length does.
pub const SENSITIVITY_RANGES: [(u64, u64); 4] = [(150, 151), (150, 155), (150, 175), (50, 100)];

/// A trial with no stable leader this long after the crash is stopped and counted as
/// censored. Virtual time is cheap: the paper's slowest 150–150 ms trial took 528 s.
pub const CAP: Nanos = 2_000_000 * MS;

/// The paper ran 100 trials, not 1000, without randomness (150–150 ms).
pub const TRIALS_WITHOUT_RANDOMNESS: usize = 100;

/// Entries each lagging follower misses per cut (the first cut one misses two cuts' worth).
/// More than one batch (64), so the heartbeat's probe cannot bring a follower level.
const LAG_ENTRIES: u64 = 150;

/// Clock rate of a follower while it is cut off, so that it does not campaign meanwhile.
const CUT_CLOCK_RATE: f64 = 0.001;

/// Resolution with which the heartbeat's departure is found.
const HEARTBEAT_STEP: Nanos = 20_000;

/// The network, disk and logs of a trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// Mean one-way latency between nodes (normal, standard deviation 1/14 of the mean).
    pub one_way_ns: Nanos,
    /// Mean fsync time (normal, standard deviation a tenth of the mean).
    pub fsync_ns: Nanos,
    /// Followers cut off before the trial so that their logs are shorter (0 to 2).
    pub lagging: usize,
}

impl Default for Setup {
    fn default() -> Self {
        Setup::PAPER
    }
}

impl Setup {
    /// The paper's: a broadcast time (round trip plus disk write) of 15 ms, two of the four
    /// survivors ineligible.
    pub const PAPER: Setup = Setup {
        one_way_ns: 7 * MS,
        fsync_ns: MS,
        lagging: 2,
    };

    /// Network round trip plus disk write, the paper's "broadcast time".
    pub fn broadcast_ns(&self) -> Nanos {
        2 * self.one_way_ns + self.fsync_ns
    }

    fn jitter_ns(&self) -> Nanos {
        self.one_way_ns / 14
    }

    /// Bounds the one-way latency practically never leaves (six standard deviations).
    fn one_way_bounds_ns(&self) -> (Nanos, Nanos) {
        let six = 6 * self.jitter_ns();
        (self.one_way_ns.saturating_sub(six), self.one_way_ns + six)
    }

    pub fn label(&self) -> String {
        format!(
            "one-way {}, fsync {}, {} lagging",
            fmt_duration(self.one_way_ns),
            fmt_duration(self.fsync_ns),
            self.lagging
        )
    }
}

fn fmt_duration(ns: Nanos) -> String {
    if ns.is_multiple_of(MS) {
        format!("{} ms", ns / MS)
    } else {
        format!("{} ms", ns as f64 / MS as f64)
    }
}

/// What a sensitivity run varies, with the rest as in [`Setup::PAPER`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Knob {
    /// One-way latency, with the fsync making up a 15 ms broadcast time.
    SplitAtFixedBroadcast,
    /// One-way latency, fsync as in the paper's setup.
    OneWay,
    /// The fsync time, network as in the paper's setup.
    Fsync,
    /// How many followers have shorter logs.
    LaggingFollowers,
}

impl Knob {
    pub fn title(&self) -> &'static str {
        match self {
            Knob::SplitAtFixedBroadcast => {
                "one-way latency at a fixed 15 ms broadcast time (fsync = 15 ms − 2 × one-way)"
            }
            Knob::OneWay => "one-way latency, fsync 1 ms",
            Knob::Fsync => "fsync time (the candidate's vote and every grant wait for it), one-way 7 ms",
            Knob::LaggingFollowers => "followers with shorter logs (ineligible survivors)",
        }
    }
}

/// The sensitivity grid: each knob's settings other than the paper's (which the main run
/// supplies).
pub fn sensitivity_setups() -> Vec<(Knob, Setup)> {
    let p = Setup::PAPER;
    let mut out = Vec::new();
    for one_way_us in [500, 3_500] {
        let one_way_ns = one_way_us * 1_000;
        let fsync_ns = 15 * MS - 2 * one_way_ns;
        out.push((
            Knob::SplitAtFixedBroadcast,
            Setup {
                one_way_ns,
                fsync_ns,
                ..p
            },
        ));
    }
    for one_way_us in [100, 1_000, 3_500] {
        out.push((
            Knob::OneWay,
            Setup {
                one_way_ns: one_way_us * 1_000,
                ..p
            },
        ));
    }
    for fsync_us in [100, 5_000, 10_000] {
        out.push((
            Knob::Fsync,
            Setup {
                fsync_ns: fsync_us * 1_000,
                ..p
            },
        ));
    }
    for lagging in [0, 1] {
        out.push((Knob::LaggingFollowers, Setup { lagging, ..p }));
    }
    out
}

/// What a trial checked of its own setup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupCheck {
    /// The leader had appended nothing for at least this long when the heartbeat left.
    pub idle_before_heartbeat_ns: Nanos,
    /// The leader's log did not change from then until the crash.
    pub idle_until_crash: bool,
    /// The heartbeat left this long before the crash.
    pub heartbeat_before_crash_ns: Option<Nanos>,
    /// Every survivor received the heartbeat.
    pub heartbeat_reached_every_survivor: bool,
    /// Survivors that could not win a Raft election (§5.4.1): fewer than a majority of the
    /// cluster's nodes have a log no longer than theirs (every entry is of the old
    /// leader's term, so length decides).
    pub ineligible_survivors: usize,
    /// Survivors holding fewer entries than the old leader.
    pub shorter_logs: usize,
}

impl SetupCheck {
    /// Whether the trial was set up as intended.
    pub fn holds(&self, setup: &Setup, heartbeat_ns: Nanos) -> bool {
        self.idle_before_heartbeat_ns >= heartbeat_ns
            && self.idle_until_crash
            && self
                .heartbeat_before_crash_ns
                .is_some_and(|t| t <= heartbeat_ns + HEARTBEAT_STEP)
            && self.heartbeat_reached_every_survivor
            && self.ineligible_survivors >= setup.lagging
            && self.shorter_logs >= setup.lagging
    }
}

/// One trial's result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Crash until every survivor follows one new leader; `None` past [`CAP`].
    pub downtime_ns: Option<Nanos>,
    /// Epoch rounds (Raft terms, Paxos ballot rounds) from the old leader's to the new one's
    /// (censored: to the highest any survivor reached).
    pub rounds: u64,
    pub setup: SetupCheck,
    pub checked: Checked,
}

/// The trials of one protocol at one timeout range and setup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RangeResult {
    pub protocol: Protocol,
    pub min_ms: u64,
    pub max_ms: u64,
    #[serde(default)]
    pub setup: Setup,
    /// Per trial set up as intended: time from the crash to a stable new leader; `None`
    /// if the cap passed first.
    pub downtime_ns: Vec<Option<Nanos>>,
    /// Per trial set up as intended: epoch rounds the election took (censored: until the cap).
    #[serde(default)]
    pub rounds: Vec<u64>,
    /// Trials whose setup did not hold; left out of `downtime_ns`.
    #[serde(default)]
    pub setup_failures: usize,
    /// The fewest ineligible survivors any trial had.
    #[serde(default)]
    pub ineligible_min: usize,
    /// Trials whose run broke an invariant or was not linearizable.
    pub failed_checks: usize,
}

impl RangeResult {
    pub fn range(&self) -> (u64, u64) {
        (self.min_ms, self.max_ms)
    }

    pub fn label(&self) -> String {
        format!("{}–{} ms", self.min_ms, self.max_ms)
    }

    /// Measured times in milliseconds, sorted.
    pub fn sorted_ms(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .downtime_ns
            .iter()
            .flatten()
            .map(|&d| d as f64 / MS as f64)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    pub fn censored(&self) -> usize {
        self.downtime_ns.iter().filter(|d| d.is_none()).count()
    }

    /// Nearest-rank quantile over every trial, censored ones counting as longer than any
    /// measured; `None` when the rank falls among the censored.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let v = self.sorted_ms();
        let rank = ((q * self.downtime_ns.len() as f64).ceil() as usize).max(1);
        (rank <= v.len()).then(|| quantile(&v[..rank], 1.0))
    }

    /// A distribution-free 95 % interval for the median: the order statistics at ranks
    /// n/2 ∓ 1.96·√n/2 (the binomial's normal approximation).
    pub fn median_interval_ms(&self) -> Option<(f64, f64)> {
        let n = self.downtime_ns.len();
        if n < 10 {
            return None;
        }
        let half = 1.96 * (n as f64).sqrt() / 2.0;
        let lo = ((n as f64 / 2.0 - half).floor() as usize).max(1);
        let hi = ((n as f64 / 2.0 + half).ceil() as usize).min(n);
        let v = self.sorted_ms();
        (hi <= v.len()).then(|| (v[lo - 1], v[hi - 1]))
    }

    pub fn mean_ms(&self) -> Option<f64> {
        let v = self.sorted_ms();
        (self.censored() == 0 && !v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// The fastest trial: detection at its shortest plus the election without a split vote.
    pub fn fastest_ms(&self) -> Option<f64> {
        self.sorted_ms().first().copied()
    }

    /// The longest measured trial, unless some were censored.
    pub fn slowest_ms(&self) -> Option<f64> {
        if self.censored() > 0 {
            None
        } else {
            self.sorted_ms().last().copied()
        }
    }

    /// Share of trials decided in the first round (one term or ballot round).
    pub fn first_round_share(&self) -> Option<f64> {
        let decided = self.downtime_ns.iter().zip(&self.rounds);
        (!self.rounds.is_empty()).then(|| {
            decided.filter(|(d, r)| d.is_some() && **r == 1).count() as f64 / self.rounds.len() as f64
        })
    }

    /// The fewest rounds a censored trial had gone through when the cap stopped it.
    pub fn censored_rounds_min(&self) -> Option<u64> {
        self.downtime_ns
            .iter()
            .zip(&self.rounds)
            .filter(|(d, _)| d.is_none())
            .map(|(_, &r)| r)
            .min()
    }
}

/// The whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElectionData {
    /// Trials per range (150–150 ms: at most [`TRIALS_WITHOUT_RANDOMNESS`]).
    pub trials: usize,
    pub cap_ns: Nanos,
    /// The main run's setup.
    #[serde(default)]
    pub setup: Setup,
    pub results: Vec<RangeResult>,
    /// Trials per point of the sensitivity runs.
    #[serde(default)]
    pub sensitivity_trials: usize,
    /// The sensitivity runs, at [`SENSITIVITY_RANGES`] (the main run supplies the paper's
    /// setup).
    #[serde(default)]
    pub sensitivity: Vec<RangeResult>,
}

impl ElectionData {
    pub fn get(&self, protocol: Protocol, range: (u64, u64)) -> Option<&RangeResult> {
        self.results
            .iter()
            .find(|r| r.protocol == protocol && r.range() == range)
    }

    /// A result at `setup`, from the main run or the sensitivity runs.
    pub fn at(&self, protocol: Protocol, range: (u64, u64), setup: &Setup) -> Option<&RangeResult> {
        self.results
            .iter()
            .chain(&self.sensitivity)
            .find(|r| r.protocol == protocol && r.range() == range && r.setup == *setup)
    }

    /// Every result, main and sensitivity.
    pub fn all(&self) -> impl Iterator<Item = &RangeResult> {
        self.results.iter().chain(&self.sensitivity)
    }
}

/// Every range of Figure 16, each once.
pub fn ranges() -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = RANDOMNESS.to_vec();
    v.extend(SCALE.iter().filter(|r| !RANDOMNESS.contains(r)));
    v
}

fn trial_scenario(setup: &Setup, (min_ms, max_ms): (u64, u64)) -> Scenario {
    let us = |ns: Nanos| ns / 1_000;
    scenario(
        "election-range",
        &format!(
            "duration = \"60s\"\nsettle = \"500ms\"\n[cluster]\nnodes = 5\n\
             [network]\nlatency = {{ dist = \"normal\", mean = \"{}us\", stddev = \"{}us\" }}\n\
             [disk]\nfsync = {{ dist = \"normal\", mean = \"{}us\", stddev = \"{}us\" }}\n\
             [protocol]\nelection_timeout_min = \"{min_ms}ms\"\nelection_timeout_max = \"{max_ms}ms\"\n\
             heartbeat_interval = \"{}us\"\n\
             [workload]\nclients = 32\nkeys = 100\n\
             [workload.mix]\nread = 0.0\nwrite = 1.0\ncas = 0.0\n",
            us(setup.one_way_ns),
            us(setup.jitter_ns()).max(1),
            us(setup.fsync_ns),
            us(setup.fsync_ns / 10).max(1),
            min_ms * 1000 / 2
        ),
    )
}

/// Steps until `leader` sends to every peer at once (an idle leader's heartbeat); returns
/// the time it was seen, at most [`HEARTBEAT_STEP`] after it left.
fn next_heartbeat<L: ReplicatedLog>(run: &mut Steered<L>, leader: NodeId, limit: Nanos) -> Option<Nanos> {
    let peers = run.sim.members().len() as u64 - 1;
    let mut sent = run.sim.stats(leader).msgs_sent;
    while run.now() < limit {
        let t = run.now() + HEARTBEAT_STEP;
        run.run_until(t);
        let now_sent = run.sim.stats(leader).msgs_sent;
        if now_sent >= sent + peers {
            return Some(t);
        }
        sent = now_sent;
    }
    None
}

/// Survivors that cannot gather a majority of the whole cluster's votes under §5.4.1:
/// fewer than a majority of nodes (the survivors) have a log no longer than theirs.
fn ineligible(statuses: &[Option<Status>]) -> usize {
    let majority = statuses.len() / 2 + 1;
    let live: Vec<&Status> = statuses.iter().flatten().collect();
    live.iter()
        .filter(|s| live.iter().filter(|o| o.last_index <= s.last_index).count() < majority)
        .count()
}

/// The new leader's epoch once every live node follows it: the leader leads at an epoch
/// above `old`, every other live node is a follower in that epoch naming it.
fn stable_leader(statuses: &[Option<Status>], old: Epoch) -> Option<Epoch> {
    let leader = statuses
        .iter()
        .flatten()
        .filter(|s| s.role == Role::Leader && s.epoch > old)
        .max_by_key(|s| s.epoch)?;
    statuses
        .iter()
        .flatten()
        .all(|s| {
            s.id == leader.id
                || (s.role == Role::Follower && s.epoch == leader.epoch && s.leader_hint == Some(leader.id))
        })
        .then_some(leader.epoch)
}

/// When [`stable_leader`] first held after `crash_at`, replaying the status log from entry
/// `from` over the statuses at the crash: exact, whatever step the run took.
fn first_stable<L: ReplicatedLog>(
    run: &Steered<L>,
    mut current: Vec<Option<Status>>,
    from: usize,
    old: Epoch,
) -> Option<(Nanos, Epoch)> {
    for change in &run.sim.status_log[from..] {
        current[change.status.id.index()] = change.up.then_some(change.status);
        if let Some(epoch) = stable_leader(&current, old) {
            return Some((change.time, epoch));
        }
    }
    None
}

/// One trial, set up as §9.3: a leader with followers of different log lengths, idle, its
/// heartbeat broadcast, and the crash `U(0, heartbeat)` after it; then the time until
/// every survivor follows one new leader.
pub fn trial<L: ReplicatedLog>(setup: &Setup, range: (u64, u64), seed: u64) -> Outcome {
    let s = trial_scenario(setup, range);
    let heartbeat = s.protocol.heartbeat_interval_ns;
    let mut run = Steered::<L>::new(&s, seed);
    let mut check = SetupCheck::default();
    let failed = |check| Outcome {
        downtime_ns: None,
        rounds: 0,
        setup: check,
        checked: Checked {
            invariants_ok: false,
            linearizable: None,
        },
    };
    let Some(leader) = run.bootstrap(run.now() + 50 * MS) else {
        return failed(check);
    };
    let mut rng = replog::rng::rng_for(seed, 0x916);
    let mut followers: Vec<NodeId> = run
        .sim
        .members()
        .iter()
        .copied()
        .filter(|&id| id != leader)
        .collect();
    followers.shuffle(&mut rng);
    let lagging: Vec<NodeId> = followers[..setup.lagging.min(followers.len())].to_vec();
    let last_index = |run: &Steered<L>| run.statuses()[leader.index()].map_or(0, |s| s.last_index);

    // Cut the lagging followers off one after another while the clients write, so their
    // logs end at different lengths; their clocks crawl meanwhile, so they do not campaign.
    for &f in &lagging {
        run.sim.network_mut().set_blocked(leader, f, true);
        run.sim.set_clock_rate(f, CUT_CLOCK_RATE);
        let target = last_index(&run) + LAG_ENTRIES;
        let limit = run.now() + 10_000 * MS;
        if run
            .run_until_status(MS, limit, |st| {
                st[leader.index()].is_some_and(|l| l.last_index >= target)
            })
            .is_none()
        {
            return failed(check);
        }
    }

    // Idle: no new operations; wait until everything proposed is committed, then at least
    // one heartbeat interval more.
    run.driver.workload.stop();
    let limit = run.now() + 10_000 * MS;
    let (idle_from, idle_index) = loop {
        let Some(from) = run.run_until_status(MS / 10, limit, |st| {
            st[leader.index()].is_some_and(|l| l.role == Role::Leader && l.commit_index == l.last_index)
        }) else {
            return failed(check);
        };
        let index = last_index(&run);
        run.run_until(from + heartbeat);
        if last_index(&run) == index {
            break (from, index);
        }
    };
    // A blocked link drops a message when it is sent, so while the leader idles nothing is
    // in flight to the lagging followers: reconnect them right after one heartbeat, and the
    // next reaches every follower. Their clocks crawl until it leaves, so they cannot time
    // out before it arrives.
    let heartbeat_limit = run.now() + 4 * heartbeat;
    if next_heartbeat(&mut run, leader, heartbeat_limit).is_none() {
        return failed(check);
    }
    for &f in &lagging {
        run.sim.network_mut().set_blocked(leader, f, false);
    }
    let heartbeat_limit = run.now() + 4 * heartbeat;
    let Some(heartbeat_at) = next_heartbeat(&mut run, leader, heartbeat_limit) else {
        return failed(check);
    };
    for &f in &lagging {
        run.sim.set_clock_rate(f, 1.0);
    }
    check.idle_before_heartbeat_ns = if last_index(&run) == idle_index {
        heartbeat_at - HEARTBEAT_STEP - idle_from
    } else {
        0
    };

    let survivors: Vec<NodeId> = followers.clone();
    let received_before: Vec<u64> = survivors
        .iter()
        .map(|&f| run.sim.stats(f).msgs_received)
        .collect();
    let (one_way_min, one_way_max) = setup.one_way_bounds_ns();
    // After the heartbeat arrives (one_way_max) and before any catch-up its answer
    // prompts could (three one-way delays).
    let block_at = heartbeat_at + (one_way_max + 3 * one_way_min) / 2;
    let crash_at = heartbeat_at + rng.random_range(0..heartbeat.max(1));

    let statuses = run.statuses();
    let Some(old) = statuses[leader.index()].filter(|l| l.role == Role::Leader) else {
        return failed(check);
    };
    let mut crashed: Option<(Vec<Option<Status>>, usize)> = None;
    for (at, is_crash) in sorted_steps(block_at, crash_at) {
        run.run_until(at);
        if is_crash {
            check.idle_until_crash = last_index(&run) == idle_index;
            check.heartbeat_before_crash_ns = Some(run.now() + HEARTBEAT_STEP - heartbeat_at);
            run.sim.crash(leader);
            crashed = Some((run.statuses(), run.sim.status_log.len()));
        } else {
            for &f in &lagging {
                run.sim.network_mut().set_blocked(leader, f, true);
            }
            check.heartbeat_reached_every_survivor = survivors
                .iter()
                .zip(&received_before)
                .all(|(&f, &before)| run.sim.stats(f).msgs_received > before);
            let now = run.statuses();
            let without_leader: Vec<Option<Status>> =
                now.iter().map(|s| s.filter(|s| s.id != leader)).collect();
            check.ineligible_survivors = ineligible(&without_leader);
            check.shorter_logs = without_leader
                .iter()
                .flatten()
                .filter(|s| s.last_index < old.last_index)
                .count();
        }
    }
    let (at_crash, log_from) = crashed.expect("the crash is one of the steps");
    run.sim.network_mut().heal();

    // Coarse steps find the end; the status log gives its exact time.
    let mut step = MS;
    let mut done = stable_leader(&run.statuses(), old.epoch).is_some();
    while !done && run.now() < crash_at + CAP {
        if run.now() > crash_at + 2_000 * MS {
            step = 50 * MS;
        }
        let t = (run.now() + step).min(crash_at + CAP);
        run.run_until(t);
        done = stable_leader(&run.statuses(), old.epoch).is_some();
    }
    let stable = if done {
        first_stable(&run, at_crash, log_from, old.epoch)
    } else {
        None
    };
    let highest = run.statuses().iter().flatten().map(|s| s.epoch.round).max();
    let reached = stable
        .map(|(_, e)| e.round)
        .or(highest)
        .unwrap_or(old.epoch.round);
    Outcome {
        downtime_ns: stable.map(|(t, _)| t - crash_at),
        rounds: reached.saturating_sub(old.epoch.round),
        setup: check,
        checked: run.conclude(),
    }
}

/// The two steps after the heartbeat, in time order: (time, whether it is the crash).
fn sorted_steps(block_at: Nanos, crash_at: Nanos) -> [(Nanos, bool); 2] {
    if crash_at <= block_at {
        [(crash_at, true), (block_at, false)]
    } else {
        [(block_at, false), (crash_at, true)]
    }
}

fn run_trial(protocol: Protocol, setup: &Setup, range: (u64, u64), seed: u64) -> Outcome {
    match protocol {
        Protocol::Raft => trial::<RaftNode>(setup, range, seed),
        Protocol::Paxos => trial::<PaxosNode>(setup, range, seed),
        other => panic!("the election experiment compares Raft and multi-Paxos, not {other:?}"),
    }
}

/// One batch of trials: a protocol at a range and setup.
#[derive(Clone, Copy, Debug)]
struct Batch {
    protocol: Protocol,
    range: (u64, u64),
    setup: Setup,
    trials: usize,
    /// Seeds are `first_seed..first_seed + trials`.
    first_seed: u64,
}

fn run_batches(batches: &[Batch], threads: usize) -> Vec<RangeResult> {
    let jobs: Vec<(usize, u64)> = batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| (0..batch.trials as u64).map(move |t| (b, batch.first_seed + t)))
        .collect();
    let outcomes = par_map(&jobs, threads, |&(b, seed)| {
        let batch = &batches[b];
        run_trial(batch.protocol, &batch.setup, batch.range, seed)
    });
    batches
        .iter()
        .enumerate()
        .map(|(b, batch)| {
            let heartbeat_ns = batch.range.0 * MS / 2;
            let mine: Vec<&Outcome> = jobs
                .iter()
                .zip(&outcomes)
                .filter(|((jb, _), _)| *jb == b)
                .map(|(_, o)| o)
                .collect();
            let good: Vec<&&Outcome> = mine
                .iter()
                .filter(|o| o.setup.holds(&batch.setup, heartbeat_ns))
                .collect();
            RangeResult {
                protocol: batch.protocol,
                min_ms: batch.range.0,
                max_ms: batch.range.1,
                setup: batch.setup,
                downtime_ns: good.iter().map(|o| o.downtime_ns).collect(),
                rounds: good.iter().map(|o| o.rounds).collect(),
                setup_failures: mine.len() - good.len(),
                ineligible_min: good
                    .iter()
                    .map(|o| o.setup.ineligible_survivors)
                    .min()
                    .unwrap_or(0),
                failed_checks: mine.iter().filter(|o| !o.checked.ok()).count(),
            }
        })
        .collect()
}

/// Trials per range when not given: the suite's default and `--quick`'s.
pub fn default_trials(quick: bool) -> usize {
    if quick { 20 } else { 200 }
}

/// Runs every range for both protocols at [`Setup::PAPER`], then the sensitivity grid.
pub fn run(opts: &super::ExperimentOptions) -> ElectionData {
    let trials = opts.election_trials.unwrap_or_else(|| default_trials(opts.quick));
    let sensitivity_trials = (trials / 4).max(10);
    let mut batches = Vec::new();
    for (i, range) in ranges().into_iter().enumerate() {
        for protocol in Protocol::COMPARED {
            batches.push(Batch {
                protocol,
                range,
                setup: Setup::PAPER,
                trials: if range == (150, 150) {
                    trials.min(TRIALS_WITHOUT_RANDOMNESS)
                } else {
                    trials
                },
                first_seed: 1 + 100_000 * i as u64,
            });
        }
    }
    let main = batches.len();
    for (k, (_, setup)) in sensitivity_setups().into_iter().enumerate() {
        for (i, &range) in SENSITIVITY_RANGES.iter().enumerate() {
            for protocol in Protocol::COMPARED {
                batches.push(Batch {
                    protocol,
                    range,
                    setup,
                    trials: sensitivity_trials,
                    first_seed: 1 + 100_000 * (20 + 10 * k + i) as u64,
                });
            }
        }
    }
    let mut results = run_batches(&batches, opts.threads);
    let sensitivity = results.split_off(main);
    ElectionData {
        trials,
        cap_ns: CAP,
        setup: Setup::PAPER,
        results,
        sensitivity_trials,
        sensitivity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEARTBEAT_150: Nanos = 75 * MS;

    /// The setup itself, Raft §9.3: the leader idle for a heartbeat interval, its heartbeat
    /// sent before the crash and within one interval of it, received by every survivor, and
    /// two survivors with logs too short to win an election.
    #[test]
    fn a_raft_trial_is_set_up_as_section_9_3() {
        let o = trial::<RaftNode>(&Setup::PAPER, (150, 175), 3);
        assert!(
            o.setup.holds(&Setup::PAPER, HEARTBEAT_150) && o.setup.ineligible_survivors == 2,
            "{:?}",
            o.setup
        );
    }

    #[test]
    fn a_paxos_trial_gets_the_same_setup() {
        let o = trial::<PaxosNode>(&Setup::PAPER, (150, 175), 3);
        assert!(
            o.setup.holds(&Setup::PAPER, HEARTBEAT_150) && o.setup.shorter_logs == 2,
            "{:?}",
            o.setup
        );
    }

    /// Reference: Raft §5.4.1, a voter refuses a candidate whose log is shorter (same last
    /// term): with two of four survivors one entry short, those two cannot win.
    #[test]
    fn survivors_with_shorter_logs_are_ineligible() {
        let status = |id: u32, last_index| {
            Some(Status {
                id: NodeId(id),
                role: Role::Follower,
                leader_hint: None,
                epoch: Epoch::term(2),
                commit_index: 0,
                last_index,
            })
        };
        let survivors = [None, status(1, 10), status(2, 10), status(3, 9), status(4, 8)];
        assert_eq!(ineligible(&survivors), 2);
    }

    #[test]
    fn raft_with_a_wide_range_elects_within_a_second() {
        let o = trial::<RaftNode>(&Setup::PAPER, (150, 300), 1);
        assert!(
            o.downtime_ns.is_some_and(|d| d < 1_000 * MS) && o.checked.ok(),
            "{o:?}"
        );
    }

    #[test]
    fn paxos_without_randomness_elects_the_highest_ballot() {
        let o = trial::<PaxosNode>(&Setup::PAPER, (150, 150), 1);
        assert!(
            o.downtime_ns.is_some_and(|d| d < 1_000 * MS) && o.checked.ok(),
            "{o:?}"
        );
    }

    /// Every trial of a batch with a good setup appears in the figures; the checks pass.
    #[test]
    fn a_batch_reports_every_trial_and_no_failure() {
        let batch = Batch {
            protocol: Protocol::Raft,
            range: (150, 200),
            setup: Setup::PAPER,
            trials: 4,
            first_seed: 1,
        };
        let r = &run_batches(&[batch], 2)[0];
        assert_eq!(
            (
                r.downtime_ns.len(),
                r.setup_failures,
                r.failed_checks,
                r.ineligible_min
            ),
            (4, 0, 0, 2)
        );
    }
}
