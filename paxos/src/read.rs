//! Reads without the log (`read_path = "read_index"` or `"lease"`): multi-Paxos's part, the
//! counterpart of `raft/src/read.rs` with the same functions. The shared bookkeeping
//! (rounds, batching, the lease) is `replog::read` and `replog::lease`; here are what
//! Paxos's read index is and the messages that carry a round (`Confirm`, `ConfirmReply`).

use crate::msg::{Confirm, Message};
use crate::node::{PaxosNode, RoleState};
use replog::{Action, LogIndex, Nanos, NodeId, NotLeader, ReadId, ReadPath, ReadReady};

impl PaxosNode {
    /// ReadIndex, as Raft's (Raft thesis §6.4, applied alike): the leader notes its chosen
    /// prefix as the read index (never below the last slot phase 1 recovered: until those
    /// are chosen at its ballot it cannot know its prefix holds every completed write), then
    /// confirms with one round that no higher ballot has been promised by a majority (shared
    /// by every read waiting for it); the host answers once applied through the read index.
    /// Under a held lease the round is skipped (§6.4.1).
    pub(crate) fn register_read(&mut self, now_ns: Nanos) -> Result<ReadId, NotLeader> {
        if !matches!(self.role, RoleState::Leader(_)) {
            return Err(NotLeader {
                hint: self.leader_hint,
            });
        }
        let id = self.reads.next_id();
        let chosen = self.log.chosen_upto();
        let leader = self.reads.leader.as_mut().expect("a leader keeps read state");
        if let Some(ready) = leader.register(now_ns, id, chosen) {
            self.emit_ready(ready);
        }
        self.send_confirm_round_if_needed(now_ns);
        Ok(id)
    }

    /// The read state of a leader that just completed phase 1: its reads must see every
    /// slot up to `recovered_upto`, the last it re-proposed. Reference: Raft thesis §6.4,
    /// step 1, applied alike.
    pub(crate) fn start_leader_reads(&mut self, now_ns: Nanos, recovered_upto: LogIndex) {
        let members = self.cluster_size;
        self.reads
            .on_become_leader(&self.cfg, members, now_ns, recovered_upto);
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
    /// now. Reference: Raft thesis §6.4.1, applied alike.
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
        let Some(ballot) = self.own_ballot() else {
            return;
        };
        for peer in self.peers.clone() {
            self.send(peer, Message::Confirm(Confirm { ballot, round }), None);
        }
        if let Some(ready) = self.reads.leader.as_mut().and_then(|l| l.confirm_alone()) {
            self.emit_ready(ready);
        }
    }

    fn emit_ready(&mut self, ready: ReadReady) {
        self.reads.on_ready(ready);
        self.actions.push(Action::ReadReady {
            upto: ready.upto,
            index: ready.index,
        });
    }

    /// An acceptor hears a round from a leader whose ballot is at least its promise (a lower
    /// one is refused in `step`): the leader is alive, so a follower restarts its failure
    /// detector and, under leases, promises no higher ballot for a lease length; it
    /// acknowledges. Reference: Raft thesis §6.4, §6.4.1, applied alike.
    pub(crate) fn handle_confirm(&mut self, now_ns: Nanos, from: NodeId, m: Confirm) {
        debug_assert!(m.ballot >= self.promised, "stale rounds are refused in step");
        self.follow_leader(now_ns, m.ballot, from);
        self.reads.on_leader_heard(&self.cfg, now_ns);
        self.send(from, Message::ConfirmReply(m), None);
    }

    /// The leader counts an acknowledgement at its ballot; a majority confirms the round.
    /// Reference: Raft thesis §6.4, step 3, applied alike.
    pub(crate) fn handle_confirm_reply(&mut self, now_ns: Nanos, from: NodeId, m: Confirm) {
        if self.own_ballot() != Some(m.ballot) {
            return;
        }
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

    /// Under leases, an acceptor that acknowledged a leader within a lease length (or booted
    /// within one) makes no promise to a higher ballot, and neither does a leader: a
    /// majority that renewed the lease lets no one else complete phase 1 before it runs out.
    /// Reference: Raft thesis §6.4.1, applied alike.
    pub(crate) fn lease_forbids_promise(&self, now_ns: Nanos) -> bool {
        self.reads.path() == ReadPath::Lease
            && (matches!(self.role, RoleState::Leader(_)) || self.reads.promise_binds(now_ns))
    }
}
