//! Reads without the log (`read_path = "read_index"` or `"lease"`): Raft's part. The shared
//! bookkeeping (rounds, batching, the lease) is `replog::read` and `replog::lease`; here are
//! what Raft's read index is and the messages that carry a round (`Confirm`,
//! `ConfirmResponse`). Paxos's counterpart is `paxos/src/read.rs`.

use crate::msg::{Confirm, Message};
use crate::node::RaftNode;
use replog::{Action, Nanos, NodeId, NotLeader, ReadId, ReadPath, Role};

impl RaftNode {
    /// ReadIndex (Raft thesis §6.4): the leader notes its commit index as the read index
    /// (never below its term's no-op, step 1: until an entry of its own term is committed it
    /// cannot know that its commit index is current), then confirms it still leads with one
    /// round (step 3, shared by every read waiting for it); the host answers once applied
    /// through the read index (step 4). Under a held lease the round is skipped (§6.4.1).
    pub(crate) fn register_read(&mut self, now_ns: Nanos) -> Result<ReadId, NotLeader> {
        if self.role != Role::Leader {
            return Err(NotLeader {
                hint: if self.role == Role::Follower {
                    self.leader_hint
                } else {
                    None
                },
            });
        }
        let id = self.reads.next_id();
        let commit_index = self.commit_index;
        let leader = self.reads.leader.as_mut().expect("a leader keeps read state");
        if let Some(ready) = leader.register(now_ns, id, commit_index) {
            self.reads.on_ready(ready);
            self.actions.push(Action::ReadReady {
                upto: ready.upto,
                index: ready.index,
            });
        }
        self.send_confirm_round_if_needed(now_ns);
        Ok(id)
    }

    /// The read state of a leader just elected: its reads must see its term's no-op at
    /// `noop_index`. Reference: Raft thesis §6.4, step 1.
    pub(crate) fn start_leader_reads(&mut self, now_ns: Nanos, noop_index: replog::LogIndex) {
        let members = self.members.len();
        self.reads
            .on_become_leader(&self.cfg, members, now_ns, noop_index);
    }

    /// Sends a confirmation round if reads wait for one (or the last one is presumed lost
    /// after a heartbeat interval). Reference: Raft thesis §6.4, step 3.
    pub(crate) fn send_confirm_round_if_needed(&mut self, now_ns: Nanos) {
        let retry_ns = self.cfg.heartbeat_interval_ns;
        let Some(leader) = self.reads.leader.as_mut() else {
            return;
        };
        if let Some(round) = leader.round_to_send(now_ns, retry_ns) {
            self.send_confirm_round(round);
        }
    }

    /// At every heartbeat under `read_path = "lease"`: a round that renews the lease from
    /// now. Reference: Raft thesis §6.4.1.
    pub(crate) fn renew_lease(&mut self, now_ns: Nanos) {
        if self.reads.path() != ReadPath::Lease {
            return self.send_confirm_round_if_needed(now_ns);
        }
        let Some(leader) = self.reads.leader.as_mut() else {
            return;
        };
        let round = leader.start_round(now_ns);
        self.send_confirm_round(round);
    }

    fn send_confirm_round(&mut self, round: u64) {
        let term = self.current_term;
        for i in 0..self.peers.len() {
            let peer = self.peers[i];
            self.send(peer, Message::Confirm(Confirm { term, round }), None);
        }
        if let Some(ready) = self.reads.leader.as_mut().and_then(|l| l.confirm_alone()) {
            self.emit_ready(ready);
        }
    }

    fn emit_ready(&mut self, ready: replog::ReadReady) {
        self.reads.on_ready(ready);
        self.actions.push(Action::ReadReady {
            upto: ready.upto,
            index: ready.index,
        });
    }

    /// A follower (or a candidate, now following) hears a round from the leader of its
    /// term: the leader is alive, so the election timer restarts and, under leases, the
    /// follower promises to support no other leader for a lease length; it acknowledges.
    /// Reference: Raft thesis §6.4, §6.4.1.
    pub(crate) fn handle_confirm(&mut self, now_ns: Nanos, from: NodeId, m: Confirm) {
        debug_assert_eq!(m.term, self.current_term);
        debug_assert_eq!(self.role, Role::Follower);
        assert!(
            self.leader_hint.is_none_or(|l| l == from),
            "{:?}: Confirm from {from:?} and {:?} in term {}: two leaders in one term",
            self.id,
            self.leader_hint,
            self.current_term
        );
        self.leader_hint = Some(from);
        self.leader_heard_ns = Some(now_ns);
        self.reset_election_timer(now_ns);
        self.reads.on_leader_heard(&self.cfg, now_ns);
        let reply = Confirm {
            term: self.current_term,
            round: m.round,
        };
        self.send(from, Message::ConfirmResponse(reply), None);
    }

    /// The leader counts an acknowledgement of its term; a majority confirms the round.
    /// Reference: Raft thesis §6.4, step 3.
    pub(crate) fn handle_confirm_response(&mut self, now_ns: Nanos, from: NodeId, m: Confirm) {
        debug_assert_eq!(m.term, self.current_term);
        self.progress[from.index()].last_heard_ns = now_ns;
        let Some(ready) = self.reads.leader.as_mut().and_then(|l| l.on_ack(from, m.round)) else {
            return;
        };
        self.emit_ready(ready);
        // Reads that arrived while the round was out go in the next one at once.
        self.send_confirm_round_if_needed(now_ns);
    }

    /// The node stopped leading: every read it has not made ready is aborted, for the
    /// client to retry at the new leader.
    pub(crate) fn abort_reads(&mut self) {
        if let Some(upto) = self.reads.on_step_down() {
            self.actions.push(Action::ReadAborted { upto });
        }
    }

    /// Under leases, a node that acknowledged a leader within a lease length (or booted
    /// within one) ignores vote requests of a higher term, and so does a leader: a majority
    /// that renewed the lease elects no one else before it runs out.
    /// Reference: Raft thesis §6.4.1 (and §6.2, the same rule under CheckQuorum).
    pub(crate) fn lease_forbids_vote(&self, now_ns: Nanos) -> bool {
        self.reads.path() == ReadPath::Lease
            && (self.role == Role::Leader || self.reads.promise_binds(now_ns))
    }
}
