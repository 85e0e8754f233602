//! [`ProtocolConfig`]: the knobs both protocols share, each with one meaning for both.
//!
//! Fairness rule: a knob either means the same thing in Raft and multi-Paxos, or it is
//! named after the one protocol that has it ([`RaftOptions`]).
//!
//! A scenario's `[protocol]` table and a live cluster file deserialize straight into
//! [`ProtocolConfig`]: durations are written as text (`election_timeout_min = "150ms"`, see
//! [`crate::duration`]) and the field names drop their `_ns` unit there.

use crate::types::Nanos;
use serde::{Deserialize, Serialize};
use thiserror::Error;

const MS: Nanos = 1_000_000;

/// Knobs shared by both protocols.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolConfig {
    /// Lower end of the randomized timeout after which a follower stops trusting its leader:
    /// Raft's election timeout (§5.2), multi-Paxos's failure-detector suspicion timeout.
    #[serde(rename = "election_timeout_min", with = "crate::duration::human_ns")]
    pub election_timeout_min_ns: Nanos,
    /// Upper end of that range. Equal to the minimum means no randomization.
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
    /// How a leader answers a read (a `Get`): through the log, with a ReadIndex round, or
    /// under a lease. Same rules for both protocols; see [`ReadPath`] and [`crate::lease`].
    pub read_path: ReadPath,
    /// The clock-drift bound a lease allows for: a leader stops trusting its lease this
    /// long before it would expire by its own clock. Read only with `read_path = "lease"`.
    #[serde(rename = "lease_drift", with = "crate::duration::human_ns")]
    pub lease_drift_ns: Nanos,
    /// Options only Raft has.
    pub raft: RaftOptions,
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
            read_path: ReadPath::Log,
            lease_drift_ns: 15 * MS,
            raft: RaftOptions::default(),
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftOptions {
    /// PreVote (Raft thesis §9.6): a candidate first asks whether it could win before
    /// incrementing its term, so a partitioned node does not disrupt the cluster on return.
    pub pre_vote: bool,
    /// CheckQuorum (thesis §6.2): a leader that has not heard from a majority within an
    /// election timeout steps down; followers that heard from a leader recently ignore votes.
    pub check_quorum: bool,
    /// Fast backtracking (§5.3, the paragraph after Figure 7): a follower that rejects an
    /// AppendEntries reports the conflicting term and its first index.
    pub fast_backtrack: bool,
}

impl Default for RaftOptions {
    fn default() -> Self {
        RaftOptions {
            pre_vote: false,
            check_quorum: false,
            fast_backtrack: true,
        }
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
