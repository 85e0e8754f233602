//! A bit flipped in a committed entry of one node's write-ahead log.
//!
//! The simulator keeps each node's durable records in memory
//! ([`MemStorage`](replog::storage::mem::MemStorage)). To damage
//! them the way a disk would, a trial crashes the node, encodes its durable records exactly
//! as the file WAL frames them (`replog::storage::wal`: postcard payloads behind a length
//! and a CRC32C), flips one bit inside the payload of a record that holds a committed
//! entry, and runs the WAL's own recovery over those bytes. Recovery must report the
//! checksum mismatch at that record's offset; the node then boots from the records before
//! it, which is what a WAL that stops at the first corrupt record gives it, and rejoins.
//!
//! That node has silently forgotten a suffix of its log, and with it the promises, votes
//! and accepted values it gave the others. Both protocols assume that never happens: a
//! quorum that counted this node for an entry, a vote or a promise may no longer intersect
//! the next quorum in a node that remembers it. Alagappan et al., "Protocol-Aware Recovery
//! for Consensus-Based Storage" (FAST 2018), analyse exactly this: truncating at the first
//! corrupt record ("truncate" in their taxonomy) can lose committed data cluster-wide, and
//! only a recovery that asks the other replicas (their CTRL) is safe. This experiment
//! measures how often it happens here, with two arms on 3 nodes:
//!
//! - **random faults**: the damage (to the leader on even seeds, a follower on odd ones),
//!   then the workload continues under random crashes, isolations and partitions;
//! - **bare quorum**: the textbook case of that paper. One follower Y is cut off, so the
//!   entries committed meanwhile are held by the leader L and the other follower X only; X's
//!   WAL is damaged in the first of them, and L crashes as X reboots (the second failure),
//!   so X and Y, neither holding those entries, form a quorum. L restarts later.
//!
//! A run counts as having lost a committed entry when the invariants see two commands
//! committed at one index (agreement), an acknowledged command missing from the committed
//! sequence, or the protocol's own assertion that a chosen value never changes fires, or
//! when the checker finds the history not linearizable. The outcome is the finding, not a
//! failure of the workbench: neither protocol is built to survive a node that forgets.

use super::{MS, Steered, par_map, scenario};
use model::check::verdict::check_history;
use model::driver::ScenarioDriver;
use model::faults::leader_of;
use model::protocol::Protocol;
use model::run::RunOutput;
use model::scenario::{Dur, FaultKind, RandomNemesisSpec, random_nemesis};
use paxos::PaxosNode;
use raft::RaftNode;
use rand::RngExt;
use replog::invariants::InvariantKind;
use replog::rng::rng_for;
use replog::storage::wal::{self, DamageKind, RECORD_HEADER_LEN, SEGMENT_MAGIC, Tail};
use replog::{CmdId, LogIndex, Nanos, NodeId, ReplicatedLog};
use report::plot::{self, BarChart};
use report::{ReportError, Section, Table};
use serde::{Deserialize, Serialize};
use sim::conclude;
use sim::{SimConfig, Simulation};
use std::path::{Path, PathBuf};

/// Nodes in every trial: the smallest cluster in which the damaged node and one other
/// form a quorum.
pub const NODES: usize = 3;

/// Which log entries a protocol's WAL records carry: the one piece of protocol knowledge the
/// experiment needs, to find a record that holds a committed entry.
pub trait EntryRecords: ReplicatedLog {
    /// The (index, command) pairs `record` writes into the log.
    fn entries(record: &Self::Record) -> Vec<(LogIndex, CmdId)>;
}

impl EntryRecords for RaftNode {
    fn entries(record: &raft::Record) -> Vec<(LogIndex, CmdId)> {
        match record {
            raft::Record::Entries { first_index, entries } => entries
                .iter()
                .enumerate()
                .map(|(i, e)| (first_index + i as LogIndex, e.cmd.id()))
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl EntryRecords for PaxosNode {
    fn entries(record: &paxos::Record) -> Vec<(LogIndex, CmdId)> {
        match record {
            paxos::Record::Accepted { first_slot, cmds, .. }
            | paxos::Record::Learned { first_slot, cmds, .. } => cmds
                .iter()
                .enumerate()
                .map(|(i, c)| (first_slot + i as LogIndex, c.id()))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The two arms (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arm {
    RandomFaults,
    BareQuorum,
}

impl Arm {
    pub const ALL: [Arm; 2] = [Arm::RandomFaults, Arm::BareQuorum];

    pub fn label(self) -> &'static str {
        match self {
            Arm::RandomFaults => "random faults after the damage",
            Arm::BareQuorum => "bare quorum: the other holder crashes",
        }
    }
}

/// What the WAL's recovery reported about the damaged bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// Byte offset recovery reported (the damaged record's length field).
    pub offset: u64,
    /// Byte offset at which the damaged record was framed.
    pub expected_offset: u64,
    /// Recovery's description of the damage.
    pub report: String,
    /// Whether it was a checksum mismatch (a flipped payload bit must be one).
    pub checksum_mismatch: bool,
    /// Records recovery returned (those before the damaged one).
    pub records_recovered: usize,
}

/// The flip and its detection, on one node's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flip {
    /// Durable records the node held.
    pub records: usize,
    /// Position of the record whose bit was flipped.
    pub record: usize,
    /// A committed index that record holds.
    pub index: LogIndex,
    /// Byte of the segment that was changed, and the bit in it.
    pub byte: u64,
    pub bit: u8,
    /// `None` when recovery reported nothing (the WAL would be broken).
    pub detection: Option<Detection>,
    /// Committed entries the node held durably before and no longer holds after recovery.
    pub committed_entries_forgotten: u64,
    /// Of those, the ones no other running node holds durably at the damage: what only the
    /// down nodes (or nobody) still remember.
    pub forgotten_on_no_running_node: u64,
}

/// One trial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorruptionTrial {
    pub protocol: Protocol,
    pub arm: Arm,
    pub seed: u64,
    /// The damaged node, and whether it led when it crashed.
    pub target: u32,
    pub target_was_leader: bool,
    /// `None` when the set-up did not happen (no leader, or no record to damage).
    pub flip: Option<Flip>,
    /// Violations of each kind among those the run kept (at most 50).
    pub agreement_violations: usize,
    pub lost_acknowledged: usize,
    pub election_safety_violations: usize,
    pub protocol_assertions: usize,
    pub other_violations: usize,
    /// Whether a protocol's own assertion stopped the simulation (counted even when the
    /// kept violations are all of another kind).
    pub protocol_halted: bool,
    /// The checker's verdict (`None`: out of budget).
    pub linearizable: Option<bool>,
    /// The first violation seen, for the reader who wants to look closer.
    pub first_violation: Option<String>,
}

impl CorruptionTrial {
    /// Whether the damage was detected at the damaged record's offset.
    pub fn detected(&self) -> bool {
        self.flip
            .as_ref()
            .and_then(|f| f.detection.as_ref())
            .is_some_and(|d| {
                d.checksum_mismatch
                    && d.offset == d.expected_offset
                    && d.records_recovered == self.flip_record()
            })
    }

    fn flip_record(&self) -> usize {
        self.flip.as_ref().map_or(usize::MAX, |f| f.record)
    }

    /// Whether a committed entry was lost or overwritten afterwards (see the module doc).
    pub fn lost_committed(&self) -> bool {
        self.agreement_violations > 0
            || self.lost_acknowledged > 0
            || self.protocol_halted
            || self.linearizable == Some(false)
    }
}

/// The whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorruptionData {
    pub seeds: u64,
    pub nodes: usize,
    pub trials: Vec<CorruptionTrial>,
}

/// Outcome counts of one protocol and arm.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub trials: usize,
    /// Trials whose set-up happened (a record was damaged).
    pub damaged: usize,
    pub detected: usize,
    pub lost_committed: usize,
    pub agreement: usize,
    pub lost_acknowledged: usize,
    pub protocol_assertion: usize,
    pub not_linearizable: usize,
    pub election_safety: usize,
    /// Mean committed entries the damaged node forgot.
    pub forgotten_mean: f64,
    /// Mean of those that no other running node held at the damage.
    pub forgotten_on_no_running_node_mean: f64,
}

impl CorruptionData {
    /// Counts for `protocol` in `arm`.
    pub fn counts(&self, protocol: Protocol, arm: Arm) -> Counts {
        let ts: Vec<&CorruptionTrial> = self
            .trials
            .iter()
            .filter(|t| t.protocol == protocol && t.arm == arm)
            .collect();
        let damaged: Vec<&&CorruptionTrial> = ts.iter().filter(|t| t.flip.is_some()).collect();
        let n = |f: &dyn Fn(&CorruptionTrial) -> bool| damaged.iter().filter(|t| f(t)).count();
        let mean = |f: &dyn Fn(&Flip) -> u64| {
            damaged
                .iter()
                .filter_map(|t| t.flip.as_ref())
                .map(|x| f(x) as f64)
                .sum::<f64>()
                / damaged.len().max(1) as f64
        };
        Counts {
            trials: ts.len(),
            damaged: damaged.len(),
            detected: n(&|t| t.detected()),
            lost_committed: n(&|t| t.lost_committed()),
            agreement: n(&|t| t.agreement_violations > 0),
            lost_acknowledged: n(&|t| t.lost_acknowledged > 0),
            protocol_assertion: n(&|t| t.protocol_halted),
            not_linearizable: n(&|t| t.linearizable == Some(false)),
            election_safety: n(&|t| t.election_safety_violations > 0),
            forgotten_mean: mean(&|f| f.committed_entries_forgotten),
            forgotten_on_no_running_node_mean: mean(&|f| f.forgotten_on_no_running_node),
        }
    }

    /// Whether every damaged WAL was detected at the right offset.
    pub fn all_detected(&self) -> bool {
        self.trials
            .iter()
            .filter(|t| t.flip.is_some())
            .all(|t| t.detected())
    }
}

/// Where `node`'s WAL segment would live, for the damage report.
fn segment_name(node: NodeId) -> PathBuf {
    Path::new("sim")
        .join(format!("n{}", node.0))
        .join("0000000000000001.wal")
}

/// Damages `node`'s WAL and boots it from what recovery keeps. `node` must be down.
///
/// Encodes the node's durable records as the file WAL frames them, flips bit `bit` of byte
/// `byte_in_payload` (taken modulo the payload's length) of record `victim`'s payload, runs
/// [`wal::recover_segment`] over the bytes, and keeps in the node's storage exactly the
/// records recovery returned. Returns the flip with the detection report.
pub fn flip_and_recover<L: EntryRecords>(
    sim: &mut Simulation<L>,
    node: NodeId,
    victim: usize,
    byte_in_payload: usize,
    bit: u8,
) -> Flip {
    assert!(!sim.is_up(node), "damage a crashed node's WAL only");
    let records = sim.durable_records(node).to_vec();
    assert!(victim < records.len(), "record {victim} of {}", records.len());
    let payloads: Vec<Vec<u8>> = records
        .iter()
        .map(|r| postcard::to_allocvec(r).expect("records encode as FileStorage encodes them"))
        .collect();
    let mut bytes = wal::encode_segment(&payloads);
    let frame_at: u64 = SEGMENT_MAGIC.len() as u64
        + payloads[..victim]
            .iter()
            .map(|p| (RECORD_HEADER_LEN + p.len()) as u64)
            .sum::<u64>();
    let payload_len = payloads[victim].len();
    assert!(payload_len > 0, "a record holding an entry is never empty");
    let byte = frame_at + RECORD_HEADER_LEN as u64 + (byte_in_payload % payload_len) as u64;
    bytes[byte as usize] ^= 1 << (bit % 8);

    let recovery = wal::recover_segment(&segment_name(node), &bytes);
    let detection = match &recovery.tail {
        Tail::Clean => None,
        Tail::Damaged(d) => Some(Detection {
            offset: d.offset,
            expected_offset: frame_at,
            report: d.to_string(),
            checksum_mismatch: matches!(d.kind, DamageKind::ChecksumMismatch { .. }),
            records_recovered: recovery.records.len(),
        }),
    };
    // Decode what recovery kept, as `FileStorage::open` does, and check that it is the prefix.
    let kept: Vec<L::Record> = recovery
        .records
        .iter()
        .map(|p| postcard::from_bytes(p).expect("an intact record decodes"))
        .collect();
    assert!(
        recovery.records.iter().zip(&payloads).all(|(a, b)| a == b),
        "recovery returned records that were not written"
    );
    let held = |rs: &[L::Record]| -> std::collections::BTreeSet<(LogIndex, CmdId)> {
        rs.iter().flat_map(L::entries).collect()
    };
    let chosen = sim.invariants.chosen();
    let is_committed = |&(i, c): &(LogIndex, CmdId)| i >= 1 && chosen.get(i as usize - 1) == Some(&c);
    let before = held(&records);
    let after = held(&kept);
    let forgotten: Vec<&(LogIndex, CmdId)> = before
        .iter()
        .filter(|e| is_committed(e) && !after.contains(e))
        .collect();
    let elsewhere: Vec<_> = sim
        .members()
        .iter()
        .filter(|&&id| id != node && sim.is_up(id))
        .map(|&id| held(sim.durable_records(id)))
        .collect();
    let on_no_running_node = forgotten
        .iter()
        .filter(|e| !elsewhere.iter().any(|h| h.contains(e)))
        .count() as u64;
    let index = L::entries(&records[victim])
        .into_iter()
        .find(|e| is_committed(e))
        .map_or(0, |(i, _)| i);
    sim.storage_mut(node).truncate_durable(kept.len());
    Flip {
        records: records.len(),
        record: victim,
        index,
        byte,
        bit: bit % 8,
        detection,
        committed_entries_forgotten: forgotten.len() as u64,
        forgotten_on_no_running_node: on_no_running_node,
    }
}

/// Positions of `node`'s durable records that hold a committed entry at an index above
/// `above`.
fn committed_records<L: EntryRecords>(sim: &Simulation<L>, node: NodeId, above: LogIndex) -> Vec<usize> {
    let chosen = sim.invariants.chosen();
    sim.durable_records(node)
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            L::entries(r)
                .iter()
                .any(|&(i, c)| i > above && i >= 1 && chosen.get(i as usize - 1) == Some(&c))
        })
        .map(|(k, _)| k)
        .collect()
}

fn trial_scenario(arm: Arm) -> model::scenario::Scenario {
    let duration = match arm {
        Arm::RandomFaults => "6s",
        Arm::BareQuorum => "4s",
    };
    scenario(
        "wal-bit-flip",
        &format!(
            "duration = \"{duration}\"\nsettle = \"3s\"\n[cluster]\nnodes = {NODES}\n\
             [workload]\nclients = 8\nkeys = 10\nvalue_size = 8\nrequest_timeout = \"300ms\"\n\
             op_timeout = \"2s\"\n[workload.mix]\nread = 0.3\nwrite = 0.4\ncas = 0.3\n"
        ),
    )
}

/// When the damage happens in the random-faults arm.
const DAMAGE_AT: Nanos = 2_000 * MS;

/// One trial of `arm` for protocol `L` with `seed`.
pub fn trial<L: EntryRecords>(arm: Arm, seed: u64) -> CorruptionTrial {
    let s = trial_scenario(arm);
    let mut sim = Simulation::<L>::new(SimConfig::for_scenario(&s, seed));
    let schedule = match arm {
        Arm::RandomFaults => random_nemesis(
            &RandomNemesisSpec {
                mean_interval: Dur(500 * MS),
                kinds: vec![FaultKind::Crash, FaultKind::Isolate, FaultKind::Partition],
                fault_duration: Dur(600 * MS),
                start: Dur(DAMAGE_AT + 300 * MS),
            },
            s.duration.0,
            seed,
        ),
        Arm::BareQuorum => Vec::new(),
    };
    let driver = ScenarioDriver::start(&mut sim, &s, seed, schedule);
    let mut run = Steered {
        sim,
        driver,
        scenario: s,
        seed,
    };
    let mut rng = rng_for(seed, 0xb17f);
    let mut t = CorruptionTrial {
        protocol: Protocol::of::<L>(),
        arm,
        seed,
        target: 0,
        target_was_leader: false,
        flip: None,
        agreement_violations: 0,
        lost_acknowledged: 0,
        election_safety_violations: 0,
        protocol_assertions: 0,
        other_violations: 0,
        protocol_halted: false,
        linearizable: None,
        first_violation: None,
    };
    let n = NODES as u32;
    match arm {
        Arm::RandomFaults => {
            run.run_until(DAMAGE_AT);
            let leader = leader_of(&run.statuses());
            let target = match leader {
                Some(l) if seed.is_multiple_of(2) => l,
                Some(l) => NodeId((l.0 + 1 + rng.random_range(0..n - 1)) % n),
                None => NodeId(rng.random_range(0..n)),
            };
            t.target = target.0;
            t.target_was_leader = leader == Some(target);
            run.sim.crash(target);
            let candidates = committed_records(&run.sim, target, 0);
            if !candidates.is_empty() {
                let victim = candidates[rng.random_range(0..candidates.len())];
                let (byte, bit) = (rng.random_range(0..usize::MAX), rng.random_range(0..8u8));
                t.flip = Some(flip_and_recover(&mut run.sim, target, victim, byte, bit));
            }
            run.sim.restart(target);
            let end = run.scenario.duration.0;
            run.run_until(end);
        }
        Arm::BareQuorum => {
            let Some(l) = run.bootstrap(500 * MS) else {
                return finish(t, run);
            };
            let (x, y) = (NodeId((l.0 + 1) % n), NodeId((l.0 + 2) % n));
            t.target = x.0;
            for other in [l, x] {
                run.sim.network_mut().set_blocked(y, other, true);
                run.sim.network_mut().set_blocked(other, y, true);
            }
            let committed_at_cut = run.sim.invariants.chosen().len() as LogIndex;
            let cut_until = run.now() + 500 * MS;
            run.run_until(cut_until);
            run.sim.crash(x);
            run.sim.crash(l);
            if let Some(&victim) = committed_records(&run.sim, x, committed_at_cut).first() {
                let (byte, bit) = (rng.random_range(0..usize::MAX), rng.random_range(0..8u8));
                t.flip = Some(flip_and_recover(&mut run.sim, x, victim, byte, bit));
            }
            run.sim.network_mut().heal();
            run.sim.restart(x);
            let back = run.now() + 1_000 * MS;
            run.run_until(back);
            run.sim.restart(l);
            let end = run.scenario.duration.0.max(run.now() + 500 * MS);
            run.run_until(end);
        }
    }
    finish(t, run)
}

/// Ends the run through [`conclude`] and records what the invariants and the checker saw.
fn finish<L: ReplicatedLog>(mut t: CorruptionTrial, run: Steered<L>) -> CorruptionTrial {
    t.protocol_halted = run.sim.halted();
    let out: RunOutput = conclude(run.sim, run.driver, &run.scenario, run.seed);
    let count = |k: InvariantKind| out.violations.iter().filter(|v| v.kind == k).count();
    t.agreement_violations = count(InvariantKind::Agreement);
    t.lost_acknowledged = count(InvariantKind::LostAcknowledged);
    t.election_safety_violations = count(InvariantKind::ElectionSafety);
    t.protocol_assertions = count(InvariantKind::ProtocolAssertion);
    t.other_violations = out.violations.len()
        - t.agreement_violations
        - t.lost_acknowledged
        - t.election_safety_violations
        - t.protocol_assertions;
    t.first_violation = out
        .violations
        .first()
        .map(|v| format!("{:?} at {:.3} s: {}", v.kind, v.time_ns as f64 / 1e9, v.detail));
    t.linearizable = check_history(&out.history).linearizable;
    t
}

/// Runs both arms for both protocols (quick: 10 seeds each, otherwise 50).
pub fn run(opts: &super::ExperimentOptions) -> CorruptionData {
    run_seeds(if opts.quick { 10 } else { 50 }, opts.threads)
}

/// Runs both arms for both protocols with seeds `1..=seeds` on `threads` threads.
pub fn run_seeds(seeds: u64, threads: usize) -> CorruptionData {
    let mut jobs = Vec::new();
    for arm in Arm::ALL {
        for seed in 1..=seeds {
            jobs.push((arm, seed, Protocol::Raft));
            jobs.push((arm, seed, Protocol::Paxos));
        }
    }
    let trials = par_map(&jobs, threads, |&(arm, seed, p)| {
        if p == Protocol::Raft {
            trial::<RaftNode>(arm, seed)
        } else {
            trial::<PaxosNode>(arm, seed)
        }
    });
    CorruptionData {
        seeds,
        nodes: NODES,
        trials,
    }
}

/// The report section.
pub fn section(dir: &Path, d: &CorruptionData) -> Result<Section, ReportError> {
    plot::write_bars(
        dir,
        "dd-corruption",
        &BarChart {
            title: "A bit flipped in one node's WAL: runs that lost a committed entry".into(),
            y_label: "runs that lost or overwrote a committed entry (%)".into(),
            categories: Arm::ALL.iter().map(|a| a.label().to_string()).collect(),
            series: Protocol::COMPARED
                .into_iter()
                .map(|p| {
                    (
                        plot::protocol_label(p).to_string(),
                        plot::protocol_color(p),
                        Arm::ALL
                            .iter()
                            .map(|&a| {
                                let c = d.counts(p, a);
                                100.0 * c.lost_committed as f64 / c.damaged.max(1) as f64
                            })
                            .collect(),
                    )
                })
                .collect(),
        },
    )?;
    let mut table = Table {
        header: [
            "protocol",
            "arm",
            "damaged",
            "detected at its offset",
            "committed entries forgotten (mean)",
            "of which on no other running node (mean)",
            "lost a committed entry",
            "agreement",
            "lost acknowledged",
            "protocol assertion",
            "not linearizable",
            "election safety",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for p in Protocol::COMPARED {
        for arm in Arm::ALL {
            let c = d.counts(p, arm);
            table.rows.push(vec![
                plot::protocol_label(p).to_string(),
                arm.label().to_string(),
                format!("{} of {}", c.damaged, c.trials),
                format!("{} of {}", c.detected, c.damaged),
                format!("{:.1}", c.forgotten_mean),
                format!("{:.1}", c.forgotten_on_no_running_node_mean),
                format!("{} of {}", c.lost_committed, c.damaged),
                c.agreement.to_string(),
                c.lost_acknowledged.to_string(),
                c.protocol_assertion.to_string(),
                c.not_linearizable.to_string(),
                c.election_safety.to_string(),
            ]);
        }
    }
    Ok(Section {
        id: "dd-corruption".into(),
        title: "A bit flipped in a committed entry of one node's WAL".into(),
        paragraphs: paragraphs(d),
        plots: vec![(
            "dd-corruption".into(),
            "Share of runs, per arm, in which a committed entry was lost or overwritten after one \
             node booted from the records before its damaged one."
                .into(),
        )],
        table: Some(table),
        commands: vec!["cargo run --release -- experiment corruption".into()],
    })
}

fn paragraphs(d: &CorruptionData) -> Vec<String> {
    let mut out = vec![format!(
        "{} nodes; in each trial one node crashes, its durable records are framed exactly as the file \
         WAL frames them (length, CRC32C, payload), one bit is flipped inside a record that holds a \
         committed entry, and the WAL's own recovery reads the bytes. The node boots from the records \
         recovery returns, those before the damaged one, as a WAL that stops at the first corrupt \
         record leaves it, and rejoins. {} seeds per protocol and arm. Random faults: the damage (to \
         the leader on even seeds, a follower on odd ones) is followed by random crashes, isolations \
         and partitions. Bare quorum: a follower is cut off so that the entries committed meanwhile \
         are held by the leader and the damaged node only, and the leader crashes as the damaged \
         node reboots.",
        d.nodes, d.seeds
    )];
    let detected: usize = d.trials.iter().filter(|t| t.detected()).count();
    let damaged: usize = d.trials.iter().filter(|t| t.flip.is_some()).count();
    out.push(format!(
        "Detection: recovery reported a checksum mismatch at the damaged record's offset in {detected} of \
         {damaged} damaged logs."
    ));
    for arm in Arm::ALL {
        let r = d.counts(Protocol::Raft, arm);
        let p = d.counts(Protocol::Paxos, arm);
        out.push(format!(
            "{}: Raft lost or overwrote a committed entry in {} of {} runs, multi-Paxos in {} of {}. The \
             damaged node forgot {:.1} (Raft) and {:.1} (multi-Paxos) committed entries on average, of which \
             {:.1} and {:.1} were held by no other running node when it rebooted.",
            capitalise(arm.label()),
            r.lost_committed,
            r.damaged,
            p.lost_committed,
            p.damaged,
            r.forgotten_mean,
            p.forgotten_mean,
            r.forgotten_on_no_running_node_mean,
            p.forgotten_on_no_running_node_mean,
        ));
    }
    let paxos_asserted = d.counts(Protocol::Paxos, Arm::BareQuorum).protocol_assertion;
    if paxos_asserted > 0 {
        out.push(format!(
            "In {paxos_asserted} multi-Paxos runs of the bare-quorum arm the restarted old leader, which \
             still knew the overwritten slots chosen, was then told another value was chosen there, and \
             the protocol's own assertion that a chosen value never changes stopped the run: the damage \
             is noticed, but only after the other two nodes had committed other values in those slots."
        ));
    }
    let any_lost = d.trials.iter().any(|t| t.lost_committed());
    out.push(if any_lost {
        "Where the forgotten entries were still on a running node, the damaged node caught up from it \
         and nothing was lost; where they were not, the remaining quorum went on without them. Neither \
         protocol is safe against a node that silently forgets a suffix of its log: the votes, \
         promises and accepted entries it forgot were counted in quorums, and a later quorum that meets \
         the earlier one only in the forgetful node no longer learns of them. This is the failure \
         Alagappan et al. analyse in \"Protocol-Aware Recovery for Consensus-Based Storage\" (FAST 2018): \
         truncating the log at the first corrupt record can lose committed data, and a safe recovery \
         must fetch the damaged entries from the other replicas (or refuse to vote until it has) \
         instead of rejoining with less than it promised."
            .to_string()
    } else {
        "No run lost a committed entry in these trials; that is not a guarantee: a node that forgets \
         promises, votes or accepted entries breaks the quorum-intersection argument both protocols \
         rest on (Alagappan et al., \"Protocol-Aware Recovery for Consensus-Based Storage\", FAST 2018)."
            .to_string()
    });
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_reports_the_flipped_bit_at_the_damaged_records_offset() {
        for t in [
            trial::<RaftNode>(Arm::RandomFaults, 1),
            trial::<PaxosNode>(Arm::RandomFaults, 2),
        ] {
            let flip = t.flip.as_ref().expect("a committed record was damaged");
            let d = flip.detection.as_ref().expect("recovery reported the damage");
            assert!(t.detected(), "{}: {flip:?}", t.protocol);
            assert!(
                d.report.contains(&format!("at byte {}", d.expected_offset)),
                "{}",
                d.report
            );
        }
    }

    #[test]
    fn a_trial_is_a_pure_function_of_arm_protocol_and_seed() {
        assert_eq!(
            trial::<RaftNode>(Arm::BareQuorum, 3),
            trial::<RaftNode>(Arm::BareQuorum, 3)
        );
        assert_eq!(
            trial::<PaxosNode>(Arm::RandomFaults, 4),
            trial::<PaxosNode>(Arm::RandomFaults, 4)
        );
    }
}
