//! Log compaction and InstallSnapshot (Raft §7): a node replaces the entries up to an
//! applied index with the state machine's image, and a leader whose follower needs entries
//! it has compacted sends the snapshot instead, in chunks.
//!
//! When to snapshot is the host's policy, the same for both protocols
//! (`replog::NodeHost`, every `snapshot_every` entries); what the protocol does with it is
//! here. The chunked transfer is stop-and-wait: one chunk outstanding; each answer says how
//! many bytes the follower holds, and a chunk left unanswered is sent again at the next
//! heartbeat, so loss, duplication and reordering only cost time.

use crate::durable::Record;
use crate::msg::{InstallSnapshot, InstallSnapshotResponse, Message};
use crate::node::RaftNode;
use crate::progress::ProgressState;
use replog::{Action, LogIndex, Nanos, NodeId, PersistSeq, Role, SnapshotImage};

/// A snapshot arriving in chunks: the follower's side of a transfer.
#[derive(Clone, Debug)]
pub(crate) struct IncomingSnapshot {
    pub(crate) index: LogIndex,
    pub(crate) term: u64,
    pub(crate) size: u64,
    pub(crate) bytes: Vec<u8>,
}

impl RaftNode {
    /// Log compaction: `image` is the state machine after every entry up to `index` (at most
    /// the last applied); the entries up to there are replaced by the snapshot, durably.
    /// Reference: Raft §7 ("each server takes snapshots independently, covering just the
    /// committed entries in its log").
    pub(crate) fn take_snapshot(&mut self, index: LogIndex, image: SnapshotImage) {
        if index <= self.log.snapshot_index() {
            return;
        }
        assert!(
            index <= self.last_applied,
            "{:?}: snapshot at {index} beyond the last applied entry {}",
            self.id,
            self.last_applied
        );
        let term = self.log.term(index).expect("an applied entry is in the log");
        self.log.compact(index, term, image);
        self.persist_checkpoint();
    }

    /// Persists the node's whole durable state as a checkpoint that replaces every record
    /// before it: the snapshot, `current_term` and `voted_for`, and the entries after the
    /// snapshot. Reference: Raft §7, Figure 2 (persistent state).
    pub(crate) fn persist_checkpoint(&mut self) -> PersistSeq {
        let (index, term, image) = self.log.snapshot().expect("a checkpoint follows a snapshot");
        let mut records = vec![
            Record::Snapshot {
                last_included_index: index,
                last_included_term: term,
                image: image.clone(),
            },
            Record::TermAndVote {
                current_term: self.current_term,
                voted_for: self.voted_for,
            },
        ];
        if !self.log.entries().is_empty() {
            records.push(Record::Entries {
                first_index: index + 1,
                entries: self.log.entries().to_vec(),
            });
        }
        let seq = self.issue_checkpoint(records);
        self.log.on_checkpoint(seq);
        seq
    }

    /// Leaders: the entries `peer` needs next are compacted, so it gets the snapshot: the
    /// chunk from the offset it confirmed, at most `snapshot_chunk_bytes`. A new snapshot
    /// taken meanwhile restarts the transfer. Reference: Raft §7 (InstallSnapshot, "split
    /// into chunks").
    pub(crate) fn send_snapshot_chunk(&mut self, peer: NodeId) {
        let (index, term, image) = self
            .log
            .snapshot()
            .expect("entries are compacted only into a snapshot");
        let pr = &mut self.progress[peer.index()];
        if pr.state != ProgressState::Snapshot || pr.snapshot_index != index {
            pr.become_snapshot(index);
        }
        if pr.is_paused() {
            return;
        }
        let offset = pr.snapshot_offset;
        let msg = InstallSnapshot {
            term: self.current_term,
            last_included_index: index,
            last_included_term: term,
            offset,
            size: image.len() as u64,
            data: image.chunk(offset, self.cfg.snapshot_chunk_bytes).to_vec(),
        };
        pr.on_sent(index, 0);
        self.send(peer, Message::InstallSnapshot(msg), None);
    }

    /// InstallSnapshot receiver, for a request of `current_term` from its leader: collect
    /// the chunks in order; once the image is whole, keep the log entries after it if the
    /// log holds its last entry, else discard the log; replace the state machine; persist;
    /// answer once durable. A snapshot the follower has already committed past is answered
    /// as installed at once. Reference: Raft §7, Figure 13.
    pub(crate) fn handle_install_snapshot(&mut self, now_ns: Nanos, from: NodeId, m: InstallSnapshot) {
        debug_assert_eq!(m.term, self.current_term);
        debug_assert_eq!(self.role, Role::Follower);
        self.leader_hint = Some(from);
        self.leader_heard_ns = Some(now_ns);
        self.reset_election_timer(now_ns);
        let index = m.last_included_index;
        if index <= self.commit_index {
            self.incoming_snapshot = None;
            let after = self.durability_barrier();
            self.answer_snapshot(from, index, m.size, true, after);
            return;
        }
        if m.offset == 0 {
            self.incoming_snapshot = Some(IncomingSnapshot {
                index,
                term: m.last_included_term,
                size: m.size,
                bytes: Vec::with_capacity(m.size as usize),
            });
        }
        let received = match &mut self.incoming_snapshot {
            Some(s)
                if (s.index, s.term, s.size) == (index, m.last_included_term, m.size)
                    && s.bytes.len() as u64 == m.offset
                    && m.offset + m.data.len() as u64 <= m.size =>
            {
                s.bytes.extend_from_slice(&m.data);
                s.bytes.len() as u64
            }
            Some(s) if s.index == index => s.bytes.len() as u64,
            _ => 0,
        };
        if received < m.size {
            self.answer_snapshot(from, index, received, false, None);
            return;
        }
        let s = self.incoming_snapshot.take().expect("matched above");
        let image = SnapshotImage::new(s.bytes);
        self.log.install(index, s.term, image.clone());
        self.commit_index = index;
        self.last_applied = index;
        self.actions.push(Action::Restore { index, image });
        let seq = self.persist_checkpoint();
        self.answer_snapshot(from, index, received, true, Some(seq));
    }

    fn answer_snapshot(
        &mut self,
        to: NodeId,
        index: LogIndex,
        received: u64,
        installed: bool,
        after: Option<PersistSeq>,
    ) {
        let resp = InstallSnapshotResponse {
            term: self.current_term,
            last_included_index: index,
            received,
            installed,
        };
        self.send(to, Message::InstallSnapshotResponse(resp), after);
    }

    /// The leader's side of an InstallSnapshot result: installed, the follower's log
    /// matches up to the snapshot and replication resumes after it; otherwise the next
    /// chunk goes from the offset the follower holds. Answers to another transfer are
    /// ignored. Reference: Raft §7.
    pub(crate) fn handle_install_snapshot_response(
        &mut self,
        now_ns: Nanos,
        from: NodeId,
        resp: InstallSnapshotResponse,
    ) {
        debug_assert_eq!(resp.term, self.current_term);
        let pr = &mut self.progress[from.index()];
        pr.last_heard_ns = now_ns;
        if pr.state != ProgressState::Snapshot || resp.last_included_index != pr.snapshot_index {
            return;
        }
        if resp.installed {
            if pr.on_snapshot_installed(resp.last_included_index) {
                self.maybe_commit();
            }
        } else {
            pr.on_snapshot_received(resp.received);
        }
        self.send_append_entries(from, now_ns);
    }
}
