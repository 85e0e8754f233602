//! Identifiers and units shared by every crate.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Virtual or wall-clock time in nanoseconds. Protocols only ever see values handed to them.
pub type Nanos = u64;

/// A position in the replicated log (Raft's log index, Paxos's slot). The first entry is 1;
/// 0 means "none", as in the Raft paper.
pub type LogIndex = u64;

/// Sequence number of a [`crate::Action::Persist`]; storage confirms durability up to one
/// through [`crate::ReplicatedLog::persisted`]. Numbering restarts at 1 on every boot.
pub type PersistSeq = u64;

/// A cluster member.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The id as an index into per-node arrays (nodes are numbered 0..n).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A leadership epoch: Raft's term or Paxos's ballot.
///
/// Raft terms are not owned by any node (several candidates may run in one term and the vote
/// decides), so Raft reports `owner: None`. A Paxos ballot is a (round, node) pair, unique by
/// construction, so Paxos reports its owner. In both protocols at most one node may be leader
/// in any one epoch; the harness checks exactly that. Epochs order by round, then owner.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Epoch {
    pub round: u64,
    pub owner: Option<NodeId>,
}

impl Epoch {
    /// A Raft term.
    pub fn term(term: u64) -> Self {
        Epoch {
            round: term,
            owner: None,
        }
    }

    /// A Paxos ballot (round, node).
    pub fn ballot(round: u64, node: NodeId) -> Self {
        Epoch {
            round,
            owner: Some(node),
        }
    }
}

impl fmt::Debug for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.owner {
            None => write!(f, "t{}", self.round),
            Some(n) => write!(f, "b{}.{}", self.round, n.0),
        }
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
