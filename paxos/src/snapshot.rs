//! Log compaction and catch-up by snapshot: a node replaces the chosen slots up to an
//! applied one with the state machine's image, and a leader whose follower needs slots it
//! has compacted sends the snapshot instead, in chunks, through the catch-up path. A
//! candidate whose prepare reaches below an acceptor's compacted prefix gets the snapshot
//! in the promise and starts phase 1 from it. The counterpart of Raft's InstallSnapshot
//! (Raft §7); the same helper names as `raft/src/snapshot.rs`.
//!
//! When to snapshot is the host's policy, the same for both protocols (`replog::NodeHost`,
//! every `snapshot_every` entries). The chunked transfer is stop-and-wait: one chunk in the
//! follower's window; each answer says how many bytes the follower holds, and a chunk left
//! unanswered is sent again once the window is presumed lost (the heartbeat rule).

use crate::durable::Record;
use crate::msg::{LearnSnapshot, LearnedSnapshot, Message, PromisedSnapshot};
use crate::node::{PaxosNode, RoleState};
use replog::{Action, LogIndex, Nanos, NodeId, PersistSeq, SnapshotImage};

/// A snapshot arriving in chunks: the learner's side of a transfer.
#[derive(Clone, Debug)]
pub(crate) struct IncomingSnapshot {
    pub(crate) index: LogIndex,
    pub(crate) size: u64,
    pub(crate) bytes: Vec<u8>,
}

impl PaxosNode {
    /// Log compaction: `image` is the state machine after every slot up to `index` (at most
    /// the last applied, so all chosen); those slots are replaced by the snapshot, durably.
    /// Reference: Raft §7, applied to the chosen prefix (Paxos Made Simple §3).
    pub(crate) fn take_snapshot(&mut self, index: LogIndex, image: SnapshotImage) {
        if index <= self.log.snapshot_upto() {
            return;
        }
        assert!(
            index <= self.applied,
            "{}: snapshot at {index} beyond the last applied slot {}",
            self.id,
            self.applied
        );
        self.log.compact(index, image);
        self.persist_checkpoint();
    }

    /// Persists the node's whole durable state as a checkpoint that replaces every record
    /// before it: the snapshot, the promise, every slot after the snapshot holding a value
    /// (each at the ballot it was accepted at; chosen ones as learned) and the chosen prefix.
    /// Reference: Paxos Made Simple §2.2 (what an acceptor must remember).
    pub(crate) fn persist_checkpoint(&mut self) -> PersistSeq {
        let (upto, image) = self.log.snapshot().expect("a checkpoint follows a snapshot");
        let mut records = vec![
            Record::Snapshot {
                upto,
                image: image.clone(),
            },
            Record::Promised {
                ballot: self.promised,
            },
        ];
        for (slot, e) in self.log.entries_from(upto + 1) {
            let (ballot, first_slot, cmds) = (e.ballot, slot, vec![e.cmd.clone()]);
            records.push(if e.chosen {
                Record::Learned {
                    ballot,
                    first_slot,
                    cmds,
                }
            } else {
                Record::Accepted {
                    ballot,
                    first_slot,
                    cmds,
                }
            });
        }
        let chosen = self.log.chosen_upto();
        records.push(Record::ChosenUpto { upto: chosen });
        self.chosen_mark_issued = chosen;
        self.last_seq += 1;
        self.actions.push(Action::Checkpoint {
            seq: self.last_seq,
            records,
        });
        self.last_seq
    }

    /// Replaces the slots up to `upto` (chosen: a peer compacted them) with `image`, the
    /// state after them: the state machine restarts from it, durably.
    fn install_snapshot(&mut self, upto: LogIndex, image: SnapshotImage) -> PersistSeq {
        self.log.install(upto, image.clone());
        self.applied = upto;
        self.actions.push(Action::Restore { index: upto, image });
        let seq = self.persist_checkpoint();
        self.advance_and_apply();
        seq
    }

    /// Leaders: the slots `peer` needs next are compacted, so it gets the snapshot: the
    /// chunk from the offset it confirmed, at most `snapshot_chunk_bytes`, one at a time.
    /// A new snapshot taken meanwhile restarts the transfer. Reference: Paxos Made Simple
    /// §2.3 (catch-up), Raft §7 (chunks).
    pub(crate) fn send_snapshot_chunk(&mut self, peer: NodeId, now_ns: Nanos) {
        let chunk_bytes = self.cfg.snapshot_chunk_bytes;
        let (upto, image) = self
            .log
            .snapshot()
            .expect("slots are compacted only into a snapshot");
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        let p = &mut l.progress[peer.index()];
        if p.snapshot_upto != upto {
            p.snapshot_upto = upto;
            p.snapshot_offset = 0;
        }
        let offset = p.snapshot_offset;
        let msg = LearnSnapshot {
            ballot: l.ballot,
            upto,
            offset,
            size: image.len() as u64,
            data: image.chunk(offset, chunk_bytes).to_vec(),
        };
        p.on_snapshot_sent(upto, now_ns);
        self.send(peer, Message::LearnSnapshot(msg), None);
    }

    /// The learner's side: collect the chunks in order; once the image is whole, the slots
    /// up to it are replaced (all chosen), the state machine restarts from it, and the
    /// answer waits until that is durable. A snapshot inside the chosen prefix is answered at
    /// once. The sender's ballot raises the promise, as a `Learn` does. Reference: Paxos Made
    /// Simple §2.3.
    pub(crate) fn handle_learn_snapshot(&mut self, now_ns: Nanos, from: NodeId, m: LearnSnapshot) {
        debug_assert!(m.ballot >= self.promised, "stale learns are rejected in step");
        self.set_promised(m.ballot);
        self.follow_leader(now_ns, m.ballot, from);
        if m.upto <= self.log.chosen_upto() {
            self.incoming_snapshot = None;
            self.answer_snapshot(from, m.ballot, m.upto, m.size, None);
            return;
        }
        if m.offset == 0 {
            self.incoming_snapshot = Some(IncomingSnapshot {
                index: m.upto,
                size: m.size,
                bytes: Vec::with_capacity(m.size as usize),
            });
        }
        let received = match &mut self.incoming_snapshot {
            Some(s)
                if (s.index, s.size) == (m.upto, m.size)
                    && s.bytes.len() as u64 == m.offset
                    && m.offset + m.data.len() as u64 <= m.size =>
            {
                s.bytes.extend_from_slice(&m.data);
                s.bytes.len() as u64
            }
            Some(s) if s.index == m.upto => s.bytes.len() as u64,
            _ => 0,
        };
        if received < m.size {
            self.answer_snapshot(from, m.ballot, m.upto, received, None);
            return;
        }
        let s = self.incoming_snapshot.take().expect("matched above");
        let seq = self.install_snapshot(m.upto, SnapshotImage::new(s.bytes));
        self.answer_snapshot(from, m.ballot, m.upto, received, Some(seq));
    }

    fn answer_snapshot(
        &mut self,
        to: NodeId,
        ballot: replog::Epoch,
        upto: LogIndex,
        received: u64,
        after: Option<PersistSeq>,
    ) {
        // Only durable state: the answer waits for the records that carry it.
        let chosen_upto = self.durable_chosen_upto();
        let after = after.or(self.durability_barrier());
        let resp = LearnedSnapshot {
            ballot,
            upto,
            received,
            chosen_upto,
        };
        self.send(to, Message::LearnedSnapshot(resp), after);
    }

    /// The leader's side of a `LearnedSnapshot`: the window slot is freed; installed, the
    /// follower's chosen prefix covers the snapshot and catch-up continues after it;
    /// otherwise the next chunk goes from the offset the follower holds. Reference: Paxos
    /// Made Simple §2.3.
    pub(crate) fn handle_learned_snapshot(&mut self, now_ns: Nanos, from: NodeId, m: LearnedSnapshot) {
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        if m.ballot != l.ballot {
            return;
        }
        let p = &mut l.progress[from.index()];
        // Installed, the follower holds (chosen, durably) every slot up to its chosen prefix.
        let held = (m.chosen_upto >= m.upto).then_some(m.chosen_upto);
        p.on_answer(m.upto, m.chosen_upto, held, now_ns);
        if p.snapshot_upto == m.upto && m.chosen_upto < m.upto {
            p.snapshot_offset = m.received;
        }
        self.send_accepts(from, now_ns);
    }

    /// The acceptor's snapshot for a promise, when the prepare reaches into it.
    pub(crate) fn promised_snapshot(&self, from_slot: LogIndex) -> Option<PromisedSnapshot> {
        let (upto, image) = self.log.snapshot()?;
        (from_slot <= upto).then(|| PromisedSnapshot {
            upto,
            image: image.clone(),
        })
    }

    /// A candidate learns from a promise that slots it has not learned are compacted (so
    /// chosen): it installs the snapshot, and phase 1 continues from the slot after it.
    /// Reference: Paxos Made Simple §2.3 (a value known chosen is learned, not proposed).
    pub(crate) fn adopt_promised_snapshot(&mut self, s: PromisedSnapshot) {
        if s.upto > self.log.chosen_upto() {
            self.install_snapshot(s.upto, s.image);
        }
    }
}
