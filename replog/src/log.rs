//! The [`ReplicatedLog`] trait: the one interface both protocols implement.

use crate::command::Command;
use crate::config::ProtocolConfig;
use crate::read::ReadId;
use crate::snapshot::SnapshotImage;
use crate::types::{Epoch, LogIndex, Nanos, NodeId, PersistSeq};
use crate::wire::WireSize;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// A replicated log as a deterministic, sans-IO state machine.
///
/// The driver (simulator or live runtime) owns time, the network and the disk. It calls
/// [`boot`](Self::boot) with what storage recovered, then feeds [`propose`](Self::propose),
/// [`step`](Self::step), [`tick`](Self::tick) and [`persisted`](Self::persisted), and after
/// each call drains [`take_actions`](Self::take_actions) and carries the actions out in order.
///
/// Rules every implementation obeys (the conformance suite and the harness check them):
/// - Durability before acknowledgement: anything a node promises a peer (a vote, a promise,
///   an accepted entry) is persisted first, expressed as `Send { after: Some(seq) }`.
/// - `Commit` actions come in index order starting at 1, once per index per boot, and the
///   command at an index is the same on every node. After a restart a node commits again
///   from index 1 (the state machine is volatile and is rebuilt from the log), or from the
///   index after the snapshot it restored (`Restore`, see [`crate::snapshot`]).
/// - All randomness comes from the `seed` given to `boot`.
pub trait ReplicatedLog: Sized + Send + 'static {
    /// Messages between nodes.
    type Message: Clone + Debug + Serialize + DeserializeOwned + WireSize + Send + 'static;
    /// What the protocol makes durable, as write-ahead-log records. Recovery replays them in
    /// the order they were persisted.
    type Record: Clone + Debug + Serialize + DeserializeOwned + Send + 'static;

    /// Short name used in reports and file names ("raft", "paxos").
    const NAME: &'static str;

    /// Starts a node from the records it made durable before (empty on first boot).
    fn boot(
        id: NodeId,
        members: &[NodeId],
        cfg: &ProtocolConfig,
        recovered: Vec<Self::Record>,
        seed: u64,
    ) -> Self;

    /// A client asks the node to replicate `cmd`. Only a leader accepts.
    fn propose(&mut self, now: Nanos, cmd: Command) -> Result<(), NotLeader>;

    /// A client's read (a `Get`) under `read_path = "read_index"` or `"lease"`: the leader
    /// registers it and later answers through [`Action::ReadReady`] or
    /// [`Action::ReadAborted`]. Only a leader accepts. (Under `read_path = "log"` the host
    /// proposes reads like any command and never calls this.) See [`crate::read`].
    fn read(&mut self, now: Nanos) -> Result<ReadId, NotLeader>;

    /// A message from a peer arrives.
    fn step(&mut self, now: Nanos, from: NodeId, msg: Self::Message);

    /// Fires every timer due at or before `now`.
    fn tick(&mut self, now: Nanos);

    /// The earliest time at which [`tick`](Self::tick) has work to do.
    fn next_deadline(&self) -> Option<Nanos>;

    /// Moves pending actions into `out`, in the order they must be carried out. A `Persist`
    /// always comes before any `Send` that waits for it.
    fn take_actions(&mut self, out: &mut Vec<Action<Self::Message, Self::Record>>);

    /// Storage confirms that every `Persist` with `seq <= upto` is durable.
    fn persisted(&mut self, now: Nanos, upto: PersistSeq);

    /// What the node believes about itself, for clients, fault targeting and invariants.
    fn status(&self) -> Status;

    /// Log compaction: `image` is the state machine after applying every command up to
    /// `index` (at most the last index committed). The protocol drops its log up to there
    /// and persists a checkpoint ([`Action::Checkpoint`]). [`NodeHost`](crate::NodeHost)
    /// calls it every `snapshot_every` entries. A protocol without a log (the no-replication
    /// baseline) ignores it.
    fn compact(&mut self, index: LogIndex, image: SnapshotImage) {
        let _ = (index, image);
    }
}

/// An effect the driver must carry out.
#[derive(Clone, Debug)]
pub enum Action<M, R> {
    /// Append `records` to stable storage; confirm through `persisted(seq)` once durable.
    Persist { seq: PersistSeq, records: Vec<R> },
    /// Send `msg` to `to`, but not before `Persist { seq: after }` is durable.
    Send {
        to: NodeId,
        msg: M,
        after: Option<PersistSeq>,
    },
    /// `cmd` is committed at `index`: apply it to the state machine.
    Commit { index: LogIndex, cmd: Command },
    /// Log compaction: `records` replace every record persisted before them
    /// ([`crate::storage::Storage::checkpoint`]). Numbered and confirmed like a `Persist`.
    Checkpoint { seq: PersistSeq, records: Vec<R> },
    /// Replace the state machine with `image`, the state after every command up to `index`
    /// (a snapshot booted from or installed from a peer). The next `Commit` is `index + 1`.
    Restore { index: LogIndex, image: SnapshotImage },
    /// Reads registered with ids up to `upto` may be answered once the state machine has
    /// applied through `index` (see [`crate::read`]).
    ReadReady { upto: ReadId, index: LogIndex },
    /// The node stopped leading: reads registered with ids up to `upto` and not yet ready
    /// will not be answered here.
    ReadAborted { upto: ReadId },
}

/// A node's role. Paxos's proposer running phase 1 reports `Candidate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Follower,
    /// With `pre_vote`: asking whether it could win before starting an election (Raft's
    /// PreVote, Paxos's pre-prepare).
    PreCandidate,
    Candidate,
    Leader,
}

/// What a node reports about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub id: NodeId,
    pub role: Role,
    /// Who the node thinks leads (itself when leader).
    pub leader_hint: Option<NodeId>,
    /// Raft's current term or Paxos's current (promised or own) ballot.
    pub epoch: Epoch,
    /// Highest index known committed (chosen).
    pub commit_index: LogIndex,
    /// Highest index holding an entry (Raft's last log index, Paxos's highest accepted slot).
    pub last_index: LogIndex,
}

impl Status {
    /// Whether this status tells a different story from `before`: another role, epoch or
    /// leader. (A commit index moving on is not a change of status.)
    pub fn differs_from(&self, before: &Status) -> bool {
        self.role != before.role || self.epoch != before.epoch || self.leader_hint != before.leader_hint
    }
}

/// The leader of the highest epoch among `statuses`: the one clients and fault targets mean
/// by "the leader" (a deposed leader that has not heard of its successor may still think it
/// leads a lower epoch).
pub fn leader_of<'a>(statuses: impl IntoIterator<Item = &'a Status>) -> Option<NodeId> {
    statuses
        .into_iter()
        .filter(|s| s.role == Role::Leader)
        .max_by_key(|s| s.epoch)
        .map(|s| s.id)
}

/// A proposal reached a node that is not the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("not the leader (hint: {hint:?})")]
pub struct NotLeader {
    /// The node this one believes leads, if any.
    pub hint: Option<NodeId>,
}
