//! [`ProtocolConfig`]: the knobs both protocols share, each with one meaning for both.
//!
//! Fairness rule: a knob either means the same thing in Raft and multi-Paxos, or it is
//! named after the one protocol that has it ([`RaftOptions`]).
//!
//! A scenario's `[protocol]` table and a live cluster file deserialize straight into
//! [`ProtocolConfig`]: durations are written as text (`election_timeout_min = "150ms"`, see
//! [`crate::duration`]) and the field names drop their `_ns` unit there. `pre_vote` and
//! `check_quorum` used to be Raft-only and lived in `[protocol.raft]`; that spelling is still
//! accepted (and means the same shared switch), so older scenario files and saved runs read
//! back unchanged.

use crate::types::Nanos;
use serde::{Deserialize, Serialize};
use thiserror::Error;

const MS: Nanos = 1_000_000;

/// Knobs shared by both protocols.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ProtocolTable")]
pub struct ProtocolConfig {
    /// Lower end of the randomized timeout after which a follower stops trusting its leader:
    /// Raft's election timeout (§5.2), multi-Paxos's failure-detector suspicion timeout.
    /// Also the window of leader stickiness: a node that heard from a leader within it
    /// refuses a pre-vote, and a leader must have heard from a majority within it.
    #[serde(rename = "election_timeout_min", with = "crate::duration::human_ns")]
    pub election_timeout_min_ns: Nanos,
    /// Upper end of that range. Equal to the minimum means no randomization. Both protocols
    /// draw a node's timeout from the range on each change of role (and each new candidacy)
    /// and keep it while the node follows one leader.
    #[serde(rename = "election_timeout_max", with = "crate::duration::human_ns")]
    pub election_timeout_max_ns: Nanos,
    /// How often a leader tells followers it is alive (Raft's empty AppendEntries, Paxos's
    /// heartbeat carrying the chosen prefix).
    #[serde(rename = "heartbeat_interval", with = "crate::duration::human_ns")]
    pub heartbeat_interval_ns: Nanos,
    /// Most log entries (commands) carried by one replication message: Raft's AppendEntries,
    /// Paxos's Accept. 1 turns batching off.
    pub max_batch_entries: usize,
    /// How long a leader may hold new proposals to fill a batch before sending. 0 sends at
    /// once (batches then form only from proposals that arrive while the window is full).
    #[serde(rename = "batch_delay", with = "crate::duration::human_ns")]
    pub batch_delay_ns: Nanos,
    /// Replication messages a leader may have outstanding to one follower (pipelining
    /// window). 1 is stop-and-wait.
    pub max_inflight_msgs: usize,
    /// Log compaction: a node snapshots its state machine every this many applied entries
    /// and drops its log (and write-ahead log) before the snapshot; a follower too far
    /// behind receives the snapshot (Raft's InstallSnapshot, §7; Paxos's catch-up). 0 (the
    /// default) never compacts. See [`crate::snapshot`].
    pub snapshot_every: u64,
    /// Most image bytes one snapshot message carries (Raft §7: "split into chunks").
    pub snapshot_chunk_bytes: usize,
    /// Leader stickiness, first half: before starting an election a node asks whether it
    /// could win, changing no durable state, and nodes that heard from a live leader within
    /// `election_timeout_min` say no. Raft: PreVote (thesis §9.6). Multi-Paxos: a pre-prepare
    /// round before phase 1.
    pub pre_vote: bool,
    /// Leader stickiness, second half: a leader that has not heard from a majority (itself
    /// included) within `election_timeout_min` steps down, and nodes that heard from a live
    /// leader within that time ignore requests to elect another (Raft's RequestVote of a
    /// higher term, Paxos's prepare of a higher ballot). Raft: CheckQuorum (thesis §6.2).
    pub check_quorum: bool,
    /// How a leader answers a read (a `Get`): through the log, with a ReadIndex round, or
    /// under a lease. Same rules for both protocols; see [`ReadPath`] and [`crate::lease`].
    pub read_path: ReadPath,
    /// The clock-drift bound a lease allows for: a leader stops trusting its lease this
    /// long before it would expire by its own clock. Read only with `read_path = "lease"`.
    #[serde(rename = "lease_drift", with = "crate::duration::human_ns")]
    pub lease_drift_ns: Nanos,
    /// Options only Raft has.
    pub raft: RaftOptions,
    /// The parity experiment's switches: each undoes one equalisation. All off by default
    /// (and then left out when a config is written).
    #[serde(skip_serializing_if = "Ablation::is_off")]
    pub ablation: Ablation,
    /// Deliberately broken variants, for showing that the checker and invariants catch bugs.
    /// All off by default; never turn one on outside a test or a pitfall scenario.
    pub bugs: Bugs,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            election_timeout_min_ns: 150 * MS,
            election_timeout_max_ns: 300 * MS,
            heartbeat_interval_ns: 50 * MS,
            max_batch_entries: 64,
            batch_delay_ns: 0,
            max_inflight_msgs: 8,
            snapshot_every: 0,
            snapshot_chunk_bytes: 64 << 10,
            pre_vote: false,
            check_quorum: false,
            read_path: ReadPath::Log,
            lease_drift_ns: 15 * MS,
            raft: RaftOptions::default(),
            ablation: Ablation::default(),
            bugs: Bugs::default(),
        }
    }
}

/// How a leader answers reads. The same three paths, with the same meaning, in both
/// protocols; the write path is unchanged by the choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPath {
    /// A read is a command like any other: it is replicated, committed and applied in log
    /// order, then answered.
    #[default]
    Log,
    /// The leader notes its commit point, confirms with one round of messages to a majority
    /// that it still leads (concurrent reads share the round), waits until it has applied
    /// that point, then answers from its state machine. Raft thesis §6.4.
    ReadIndex,
    /// The leader answers from its state machine while it holds a lease renewed by majority
    /// acknowledgements, minus `lease_drift_ns`; without a valid lease it falls back to a
    /// ReadIndex round. Raft thesis §6.4.1; [`crate::lease`].
    Lease,
}

impl ReadPath {
    /// Every path, in the order reports list them.
    pub const ALL: [ReadPath; 3] = [ReadPath::Log, ReadPath::ReadIndex, ReadPath::Lease];

    /// The name used in scenario files and reports (`"read_index"`).
    pub fn name(self) -> &'static str {
        match self {
            ReadPath::Log => "log",
            ReadPath::ReadIndex => "read_index",
            ReadPath::Lease => "lease",
        }
    }
}

/// Raft-only options. They have no Paxos equivalent and the report says so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaftOptions {
    /// Fast backtracking (§5.3, the paragraph after Figure 7): a follower that rejects an
    /// AppendEntries reports the conflicting term and its first index. (Multi-Paxos's
    /// acceptors report their first missing slot instead; see `paxos::replication`.)
    pub fast_backtrack: bool,
}

impl Default for RaftOptions {
    fn default() -> Self {
        RaftOptions { fast_backtrack: true }
    }
}

/// The equalisations of issue 15 switched off one at a time, for the `parity` ablation
/// experiment only (`workbench experiment parity`): each `true` restores the multi-Paxos
/// behaviour from before that equalisation, so the experiment can show how much of a
/// measured difference was implementation rather than design. Leader stickiness is not here:
/// its switches are the real knobs `pre_vote` and `check_quorum`. All off by default; no
/// suite scenario turns one on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ablation {
    /// Paxos: an `Accepted` acknowledges only the slots of the `Accept` it answers and frees
    /// only that message's place in the window (instead of everything up to its last slot).
    pub paxos_per_message_acks: bool,
    /// Paxos: a stalled window restarts one message at a time from the follower's chosen
    /// prefix (instead of refilling the whole window from the last acknowledged slot).
    pub paxos_probe_after_stall: bool,
    /// Paxos: the suspicion timeout is redrawn at every reset of the timer (instead of once
    /// per role change, as Raft draws its election timeout).
    pub paxos_redraw_timeout_on_reset: bool,
}

impl Ablation {
    /// Whether every equalisation is in place (nothing switched off).
    pub fn is_off(&self) -> bool {
        *self == Ablation::default()
    }
}

/// `[protocol]` as written in a file: [`ProtocolConfig`]'s fields, plus `pre_vote` and
/// `check_quorum` also accepted in `[protocol.raft]` (where they lived when only Raft had
/// them). [`ProtocolConfig`] is built from it, so every reader sees one place.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ProtocolTable {
    #[serde(with = "crate::duration::human_ns")]
    election_timeout_min: Nanos,
    #[serde(with = "crate::duration::human_ns")]
    election_timeout_max: Nanos,
    #[serde(with = "crate::duration::human_ns")]
    heartbeat_interval: Nanos,
    max_batch_entries: usize,
    #[serde(with = "crate::duration::human_ns")]
    batch_delay: Nanos,
    max_inflight_msgs: usize,
    snapshot_every: u64,
    snapshot_chunk_bytes: usize,
    pre_vote: Option<bool>,
    check_quorum: Option<bool>,
    read_path: ReadPath,
    #[serde(with = "crate::duration::human_ns")]
    lease_drift: Nanos,
    raft: RaftTable,
    ablation: Ablation,
    bugs: Bugs,
}

impl Default for ProtocolTable {
    fn default() -> Self {
        let d = ProtocolConfig::default();
        ProtocolTable {
            election_timeout_min: d.election_timeout_min_ns,
            election_timeout_max: d.election_timeout_max_ns,
            heartbeat_interval: d.heartbeat_interval_ns,
            max_batch_entries: d.max_batch_entries,
            batch_delay: d.batch_delay_ns,
            max_inflight_msgs: d.max_inflight_msgs,
            snapshot_every: d.snapshot_every,
            snapshot_chunk_bytes: d.snapshot_chunk_bytes,
            pre_vote: None,
            check_quorum: None,
            read_path: d.read_path,
            lease_drift: d.lease_drift_ns,
            raft: RaftTable::default(),
            ablation: Ablation::default(),
            bugs: Bugs::default(),
        }
    }
}

/// `[protocol.raft]` as written in a file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RaftTable {
    /// Alias of `[protocol] pre_vote`.
    pre_vote: Option<bool>,
    /// Alias of `[protocol] check_quorum`.
    check_quorum: Option<bool>,
    fast_backtrack: bool,
}

impl Default for RaftTable {
    fn default() -> Self {
        RaftTable {
            pre_vote: None,
            check_quorum: None,
            fast_backtrack: RaftOptions::default().fast_backtrack,
        }
    }
}

/// One switch given in both `[protocol]` and its `[protocol.raft]` alias, with different values.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "`{field}` is {shared} in [protocol] but {alias} in [protocol.raft]; it is one switch for both \
     protocols: set it once, in [protocol]"
)]
pub struct AliasConflict {
    pub field: &'static str,
    pub shared: bool,
    pub alias: bool,
}

/// A switch from `[protocol]` or its `[protocol.raft]` alias (default off).
fn one_switch(field: &'static str, shared: Option<bool>, alias: Option<bool>) -> Result<bool, AliasConflict> {
    match (shared, alias) {
        (Some(shared), Some(alias)) if shared != alias => Err(AliasConflict { field, shared, alias }),
        (shared, alias) => Ok(shared.or(alias).unwrap_or(false)),
    }
}

impl TryFrom<ProtocolTable> for ProtocolConfig {
    type Error = AliasConflict;

    fn try_from(t: ProtocolTable) -> Result<Self, AliasConflict> {
        Ok(ProtocolConfig {
            election_timeout_min_ns: t.election_timeout_min,
            election_timeout_max_ns: t.election_timeout_max,
            heartbeat_interval_ns: t.heartbeat_interval,
            max_batch_entries: t.max_batch_entries,
            batch_delay_ns: t.batch_delay,
            max_inflight_msgs: t.max_inflight_msgs,
            snapshot_every: t.snapshot_every,
            snapshot_chunk_bytes: t.snapshot_chunk_bytes,
            pre_vote: one_switch("pre_vote", t.pre_vote, t.raft.pre_vote)?,
            check_quorum: one_switch("check_quorum", t.check_quorum, t.raft.check_quorum)?,
            read_path: t.read_path,
            lease_drift_ns: t.lease_drift,
            raft: RaftOptions {
                fast_backtrack: t.raft.fast_backtrack,
            },
            ablation: t.ablation,
            bugs: t.bugs,
        })
    }
}

/// Test-only unsafe variants. Each one breaks a rule the papers give, so the workbench can
/// show that its checker and invariants notice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bugs {
    /// Raft: commit an entry from an earlier term once it is on a majority (the rule §5.4.2
    /// and Figure 8 forbid).
    pub raft_commit_old_terms_by_count: bool,
    /// Both: a leader treats an entry as committed as soon as it has appended it, without
    /// waiting for a majority.
    pub ack_before_quorum: bool,
    /// Paxos: a new leader ignores the values reported in promises and proposes its own (the
    /// rule of Paxos Made Simple §2.2 that makes phase 1 safe).
    pub paxos_ignore_promised_values: bool,
    /// Paxos: an acceptor whose snapshot covers slots a prepare asks about leaves the
    /// snapshot out of its promise, so the candidate takes those chosen slots for holes.
    pub paxos_promise_without_snapshot: bool,
}

/// A [`ProtocolConfig`] value that makes no sense.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("protocol config: `{field}` {problem}")]
pub struct ConfigError {
    pub field: &'static str,
    pub problem: String,
}

impl ProtocolConfig {
    /// Checks the relations between knobs; an error names the field at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, problem: String| Err(ConfigError { field, problem });
        if self.election_timeout_min_ns == 0 {
            return err("election_timeout_min", "must be greater than zero".into());
        }
        if self.election_timeout_max_ns < self.election_timeout_min_ns {
            return err(
                "election_timeout_max",
                format!(
                    "({} ns) must be at least election_timeout_min ({} ns)",
                    self.election_timeout_max_ns, self.election_timeout_min_ns
                ),
            );
        }
        if self.heartbeat_interval_ns == 0 || self.heartbeat_interval_ns >= self.election_timeout_min_ns {
            return err(
                "heartbeat_interval",
                format!(
                    "({} ns) must be positive and shorter than election_timeout_min ({} ns)",
                    self.heartbeat_interval_ns, self.election_timeout_min_ns
                ),
            );
        }
        if self.max_batch_entries == 0 {
            return err("max_batch_entries", "must be at least 1".into());
        }
        if self.max_inflight_msgs == 0 {
            return err("max_inflight_msgs", "must be at least 1".into());
        }
        if self.snapshot_chunk_bytes == 0 {
            return err("snapshot_chunk_bytes", "must be at least 1".into());
        }
        if self.read_path == ReadPath::Lease && self.lease_drift_ns >= self.election_timeout_min_ns {
            return err(
                "lease_drift",
                format!(
                    "({} ns) must be shorter than election_timeout_min ({} ns), the lease's length",
                    self.lease_drift_ns, self.election_timeout_min_ns
                ),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        assert_eq!(ProtocolConfig::default().validate(), Ok(()));
    }

    #[test]
    fn inverted_timeout_range_names_the_field() {
        let cfg = ProtocolConfig {
            election_timeout_max_ns: 1,
            ..ProtocolConfig::default()
        };
        assert_eq!(cfg.validate().unwrap_err().field, "election_timeout_max");
    }

    fn parse(text: &str) -> Result<ProtocolConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn stickiness_switches_are_read_from_the_shared_table() {
        let cfg = parse("pre_vote = true\ncheck_quorum = true\n").unwrap();
        assert_eq!((cfg.pre_vote, cfg.check_quorum), (true, true));
    }

    #[test]
    fn the_raft_table_is_an_alias_for_the_stickiness_switches() {
        let cfg = parse("[raft]\npre_vote = true\ncheck_quorum = true\nfast_backtrack = false\n").unwrap();
        assert_eq!(
            (cfg.pre_vote, cfg.check_quorum, cfg.raft.fast_backtrack),
            (true, true, false)
        );
    }

    #[test]
    fn a_switch_set_differently_in_both_places_is_an_error_naming_it() {
        let err = parse("check_quorum = false\n[raft]\ncheck_quorum = true\n").unwrap_err();
        assert!(
            err.contains("`check_quorum` is false in [protocol] but true in [protocol.raft]"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_knob_is_an_error_naming_it() {
        let err = parse("pre_vot = true\n").unwrap_err();
        assert!(err.contains("pre_vot"), "{err}");
    }

    #[test]
    fn a_written_config_reads_back_the_same() {
        let cfg = ProtocolConfig {
            pre_vote: true,
            ablation: Ablation {
                paxos_per_message_acks: true,
                ..Ablation::default()
            },
            ..ProtocolConfig::default()
        };
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<ProtocolConfig>(&json).unwrap(), cfg);
    }

    #[test]
    fn a_drift_bound_as_long_as_the_lease_names_the_field() {
        let cfg = ProtocolConfig {
            read_path: ReadPath::Lease,
            lease_drift_ns: ProtocolConfig::default().election_timeout_min_ns,
            ..ProtocolConfig::default()
        };
        assert_eq!(cfg.validate().unwrap_err().field, "lease_drift");
    }
}
