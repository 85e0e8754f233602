//! What multi-Paxos makes durable: the acceptor's promise, the values it accepted in each
//! slot, and what the node knows to be chosen, written as an append-only sequence of
//! write-ahead-log records.
//!
//! The storage layer keeps records in the order they were persisted and knows nothing about
//! them; [`crate::recovery`] replays them on boot. A node issues a record before it acts on
//! the state the record describes, and never answers a proposer before the record is durable
//! (`Send { after: Some(seq) }`): "an acceptor must remember this information even if it
//! fails and then restarts" (Paxos Made Simple §2.2; "an acceptor records its intended response
//! in stable storage before actually sending the response", §2.5).

use replog::{Command, Epoch, LogIndex, SnapshotImage};
use serde::{Deserialize, Serialize};

/// One write-ahead-log record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// The acceptor promised `ballot`: it will accept nothing lower from now on. Written
    /// before a promise (or a candidate's prepares) goes out. Reference: Paxos Made Simple
    /// §2.2, phase 1(b).
    Promised { ballot: Epoch },
    /// The acceptor accepted `cmds[i]` in slot `first_slot + i` at `ballot` (which also
    /// raises its promise to `ballot`). Reference: Paxos Made Simple §2.2, phase 2(b).
    Accepted {
        ballot: Epoch,
        first_slot: LogIndex,
        cmds: Vec<Command>,
    },
    /// The learner found out from the leader of `ballot` that `cmds[i]` is chosen in slot
    /// `first_slot + i` (catch-up), and raised its promise to `ballot`. Reference: Paxos Made
    /// Simple §2.3.
    ///
    /// Why the promise: a value chosen at ballot b is the value of every proposal numbered b
    /// or higher (P2b), but a stale leader below b may still propose another value for the
    /// slot. Every way of knowing a slot is chosen (a quorum of acknowledgements, a commit
    /// notice matching an accepted ballot, a promise report, this record) leaves the knower
    /// promised at least b, so such a stale accept is refused, and an accept that reaches a
    /// chosen slot always carries the chosen value (`SlotLog::accept` asserts it).
    Learned {
        ballot: Epoch,
        first_slot: LogIndex,
        cmds: Vec<Command>,
    },
    /// Every slot up to `upto` is chosen, with the value the log holds for it. Always
    /// written after the records that put those values in the log.
    ChosenUpto { upto: LogIndex },
    /// Every slot up to `upto` is chosen and replaced by `image`, the state after them
    /// (log compaction, as Raft §7). First record of a checkpoint
    /// (`replog::Action::Checkpoint`), which replaces every record before it; the promise,
    /// the slots after `upto` and the chosen prefix follow it there.
    Snapshot { upto: LogIndex, image: SnapshotImage },
}
