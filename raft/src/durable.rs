//! What Raft makes durable: Figure 2's "persistent state on all servers" (`current_term`,
//! `voted_for`, `log[]`), written as an append-only sequence of write-ahead-log records.
//!
//! The storage layer keeps records in the order they were persisted and knows nothing about
//! them; [`crate::recovery`] replays them on boot. A node issues a record before it acts on
//! the state the record describes, and never acknowledges anything to a peer before the
//! record is durable (`Send { after: Some(seq) }`).

use replog::{Command, LogIndex, NodeId, SnapshotImage};
use serde::{Deserialize, Serialize};

/// A log entry: a command and the term in which the leader received it (Figure 2, `log[]`).
/// Its index is its position, so it is not stored in the entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The leader's term when the entry was created.
    pub term: u64,
    /// The command, or [`Command::Noop`] for the entry a leader appends when its term starts.
    pub cmd: Command,
}

/// One write-ahead-log record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// `current_term` and `voted_for` as they are from now on. Written whenever either
    /// changes, before a vote is granted or a RequestVote goes out. Reference: Raft §5.2.
    TermAndVote {
        current_term: u64,
        voted_for: Option<NodeId>,
    },
    /// Entries appended at `first_index`, `first_index + 1`, ...; `first_index` is always one
    /// past the last entry the log holds at that point of the record sequence.
    Entries {
        first_index: LogIndex,
        entries: Vec<Entry>,
    },
    /// Deletes the entry at `from_index` and all that follow it: a follower's conflict
    /// truncation (Figure 2, AppendEntries receiver rule 3). Never at a committed index.
    TruncateFrom { from_index: LogIndex },
    /// The log up through `last_included_index` is replaced by the state machine's image
    /// after it (Raft §7). First record of a checkpoint (`replog::Action::Checkpoint`), which
    /// replaces every record before it; the term/vote and the entries after the snapshot
    /// follow it there.
    Snapshot {
        last_included_index: LogIndex,
        last_included_term: u64,
        image: SnapshotImage,
    },
}
