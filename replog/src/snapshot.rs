//! Snapshots and log compaction, as both protocols share them.
//!
//! A snapshot is the state machine's image after applying every command up to an index
//! (Raft §7; for multi-Paxos, the chosen prefix replaced by its result). The rules both
//! protocols follow, each written once:
//!
//! | rule | where |
//! | --- | --- |
//! | when: every `snapshot_every` applied entries (0: never), the same policy for both protocols | [`crate::NodeHost::carry_out`] (after a `Commit`) |
//! | what: the state machine's image at exactly that index, handed to the protocol | [`crate::HostIo::image`], [`crate::ReplicatedLog::compact`] |
//! | the protocol drops its log up to the index and persists a checkpoint (its snapshot and the state after it) that replaces every earlier record | [`crate::Action::Checkpoint`], [`crate::storage::Storage::checkpoint`] |
//! | a node that boots from a snapshot, or installs one from a peer, replaces its state machine; the next commit is the index after it | [`crate::Action::Restore`], [`crate::HostIo::restore`] |
//! | snapshots travel in chunks of at most `snapshot_chunk_bytes` | [`SnapshotImage::chunk`] |
//! | replicas agree on the state at every snapshot index | [`crate::invariants::Invariants::on_snapshot`], [`crate::invariants::Invariants::on_restore`] |

use crate::wire::WireSize;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A state machine image ([`crate::KvStore::image`]), shared: cloning copies a pointer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SnapshotImage(pub Arc<[u8]>);

impl SnapshotImage {
    pub fn new(bytes: Vec<u8>) -> Self {
        SnapshotImage(bytes.into())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The chunk that starts at byte `offset`: at most `chunk_bytes` bytes (at least one).
    pub fn chunk(&self, offset: u64, chunk_bytes: usize) -> &[u8] {
        let start = (offset as usize).min(self.len());
        let end = start.saturating_add(chunk_bytes.max(1)).min(self.len());
        &self.0[start..end]
    }
}

impl fmt::Debug for SnapshotImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "image({} B)", self.len())
    }
}

impl WireSize for SnapshotImage {
    fn wire_size(&self) -> usize {
        self.len().wire_size() + self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_image_in_order() {
        let image = SnapshotImage::new((0..10).collect());
        let mut offset = 0;
        let mut joined = Vec::new();
        while offset < image.len() as u64 {
            let c = image.chunk(offset, 4);
            joined.extend_from_slice(c);
            offset += c.len() as u64;
        }
        assert_eq!(joined, image.bytes());
    }
}
