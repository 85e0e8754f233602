//! Replication (log replication, Raft §5.3, and the commit rule, §5.4.2): batching and
//! pipelining, AppendEntries on both sides with fast backtracking, heartbeats, and the
//! commit rule. The rules, each with the section it comes from, are tabled in the crate
//! root; the per-follower window is in [`crate::progress`].

use crate::msg::{AppendEntries, AppendEntriesResponse, Message};
use crate::node::RaftNode;
use crate::progress::ProgressState;
use replog::{LogIndex, Nanos, NodeId, Role};

impl RaftNode {
    /// After a proposal: release the held entries now (`batch_delay_ns == 0`, or a full
    /// batch is waiting), else make sure a deadline will release them.
    /// Reference: Raft thesis §10.2.2 (batching).
    pub(crate) fn release_or_hold(&mut self, now_ns: Nanos) {
        let held = self.log.last_index() - self.released_index;
        if self.cfg.batch_delay_ns == 0 || held >= self.cfg.max_batch_entries as LogIndex {
            self.release_batch(now_ns);
        } else if self.batch_deadline_ns.is_none() {
            self.batch_deadline_ns = Some(now_ns + self.cfg.batch_delay_ns);
        }
    }

    /// Makes every entry in the log eligible to be sent and sends what the windows allow.
    /// Reference: Raft thesis §10.2.2.
    pub(crate) fn release_batch(&mut self, now_ns: Nanos) {
        debug_assert_eq!(self.role, Role::Leader);
        self.released_index = self.log.last_index();
        self.batch_deadline_ns = None;
        for i in 0..self.peers.len() {
            let peer = self.peers[i];
            self.send_append_entries(peer, now_ns);
        }
    }

    /// The AppendEntries that carries entries `next..=last` (none when `last < next`).
    fn append_entries_for(&self, next: LogIndex, last: LogIndex) -> AppendEntries {
        assert!(next >= 1, "next_index starts at 1");
        let prev_log_index = next - 1;
        AppendEntries {
            term: self.current_term,
            prev_log_index,
            prev_log_term: self
                .log
                .term(prev_log_index)
                .expect("next_index never passes the leader's last index + 1"),
            entries: self.log.slice(next, last).to_vec(),
            leader_commit: self.commit_index,
        }
    }

    /// Figure 2, leaders: "if last log index ≥ nextIndex for a follower: send AppendEntries
    /// RPC with log entries starting at nextIndex". In Probe, one message (possibly
    /// without entries); in Replicate, batches of at most `max_batch_entries` until the
    /// window is full or every released entry is out. Reference: Raft §5.3.
    pub(crate) fn send_append_entries(&mut self, peer: NodeId, now_ns: Nanos) {
        let max_batch = self.cfg.max_batch_entries as LogIndex;
        loop {
            let pr = &self.progress[peer.index()];
            if pr.is_paused() {
                return;
            }
            let (next, state) = (pr.next_index, pr.state);
            if state == ProgressState::Snapshot || next <= self.log.snapshot_index() {
                self.send_snapshot_chunk(peer);
                return;
            }
            debug_assert!(
                next <= self.released_index + 1,
                "next_index beyond what was released"
            );
            if state == ProgressState::Replicate && next > self.released_index {
                return;
            }
            let last = self.released_index.min(next + max_batch - 1);
            let msg = self.append_entries_for(next, last);
            self.progress[peer.index()].on_sent(last, now_ns);
            self.send(peer, Message::AppendEntries(msg), None);
            if state == ProgressState::Probe {
                return;
            }
        }
    }

    /// An AppendEntries without entries at `match_index`, which the follower is known to
    /// hold: it resets the follower's election timer and carries `leader_commit`, without
    /// disturbing the pipeline. Reference: Raft §5.2 (heartbeats), §5.3.
    ///
    /// A follower whose acknowledged prefix the leader has compacted gets no heartbeat of
    /// its own: its window is in flight (a stalled one is reset at the next heartbeat), or
    /// it is sent what comes next (entries, or the snapshot).
    fn send_heartbeat(&mut self, peer: NodeId, now_ns: Nanos) {
        let match_index = self.progress[peer.index()].match_index;
        if match_index < self.log.snapshot_index() {
            self.send_append_entries(peer, now_ns);
            return;
        }
        let msg = self.append_entries_for(match_index + 1, match_index);
        self.send(peer, Message::AppendEntries(msg), None);
    }

    /// Every `heartbeat_interval_ns`: CheckQuorum (if on), then to each follower a
    /// heartbeat, a re-sent probe, or, if its window has had no acknowledgement for a
    /// heartbeat interval, everything from `match_index + 1` again (the messages are
    /// presumed lost). A follower that has not answered for an election timeout is probed
    /// instead of flooded. Reference: Raft §5.2, §5.3; thesis §6.2.
    pub(crate) fn heartbeat(&mut self, now_ns: Nanos) {
        let heartbeat_interval_ns = self.cfg.heartbeat_interval_ns;
        self.heartbeat_deadline_ns = now_ns + heartbeat_interval_ns;
        if self.cfg.check_quorum && !self.quorum_recently_active(now_ns) {
            tracing::debug!(node = ?self.id, term = self.current_term, "check quorum failed: stepping down");
            self.become_follower(now_ns, self.current_term, None);
            return;
        }
        for i in 0..self.peers.len() {
            let peer = self.peers[i];
            let answering =
                self.progress[peer.index()].last_heard_ns + self.cfg.election_timeout_min_ns > now_ns;
            let pr = &mut self.progress[peer.index()];
            match pr.state {
                ProgressState::Probe | ProgressState::Snapshot => {
                    pr.unpause_probe();
                    self.send_append_entries(peer, now_ns);
                }
                ProgressState::Replicate if pr.window_stalled(now_ns, heartbeat_interval_ns) => {
                    if answering {
                        pr.reset_window(now_ns);
                    } else {
                        let next = pr.match_index + 1;
                        pr.become_probe(next);
                    }
                    self.send_append_entries(peer, now_ns);
                }
                ProgressState::Replicate => self.send_heartbeat(peer, now_ns),
            }
        }
        self.renew_lease(now_ns);
    }

    /// AppendEntries receiver (Figure 2), for a request of `current_term` from its leader:
    /// 2. reply false if the log has no entry at `prev_log_index` whose term is
    ///    `prev_log_term` (with the fast-backtracking hint: the conflicting term and the
    ///    first index this log holds for it, or the log's end when it is too short);
    /// 3. if an existing entry conflicts with a new one (same index, different terms),
    ///    delete it and all that follow it;
    /// 4. append any new entries not already in the log;
    /// 5. if `leader_commit > commit_index`, set `commit_index = min(leader_commit, index of
    ///    last new entry)`.
    ///
    /// Success is sent only once everything it acknowledges is durable. A stale or
    /// duplicated request never truncates: only a conflicting entry does.
    /// Reference: Raft §5.3, Figure 2.
    pub(crate) fn handle_append_entries(&mut self, now_ns: Nanos, from: NodeId, ae: AppendEntries) {
        debug_assert_eq!(ae.term, self.current_term);
        debug_assert_eq!(self.role, Role::Follower);
        assert!(
            self.leader_hint.is_none_or(|l| l == from),
            "{:?}: AppendEntries from {from:?} and {:?} in term {}: two leaders in one term",
            self.id,
            self.leader_hint,
            self.current_term
        );
        self.leader_hint = Some(from);
        self.leader_heard_ns = Some(now_ns);
        self.reset_election_timer(now_ns);

        // Entries up to the snapshot are committed, so they match the leader's (Log
        // Matching, §5.3): skip them, and check consistency where the log resumes.
        let (mut prev, mut prev_log_term, mut entries) = (ae.prev_log_index, ae.prev_log_term, ae.entries);
        let base = self.log.snapshot_index();
        if prev < base {
            let skip = (base - prev).min(entries.len() as LogIndex);
            entries.drain(..skip as usize);
            prev += skip;
            prev_log_term = self.log.term(prev).unwrap_or(prev_log_term);
        }
        let rejection = match self.log.term(prev) {
            _ if prev < base => None,
            None => Some((0, self.log.last_index() + 1)),
            Some(t) if t != prev_log_term => Some((t, self.log.first_index_of_term(t, prev))),
            Some(_) => None,
        };
        if let Some((conflict_term, conflict_index)) = rejection {
            let (conflict_term, conflict_index) = if self.cfg.raft.fast_backtrack {
                (conflict_term, conflict_index)
            } else {
                (0, 0)
            };
            let resp = AppendEntriesResponse {
                term: self.current_term,
                success: false,
                index: prev,
                conflict_term,
                conflict_index,
                request_term: ae.term,
            };
            self.send(from, Message::AppendEntriesResponse(resp), None);
            return;
        }

        let count = entries.len() as LogIndex;
        let mut first_new = None;
        for (k, entry) in entries.iter().enumerate() {
            let index = prev + 1 + k as LogIndex;
            match self.log.term(index) {
                Some(t) if t == entry.term => {}
                Some(_) => {
                    self.truncate_log_from(index);
                    first_new = Some(k);
                    break;
                }
                None => {
                    first_new = Some(k);
                    break;
                }
            }
        }
        if let Some(k) = first_new {
            entries.drain(..k);
            self.append_to_log(entries);
        }
        let last_new = prev + count;
        if ae.leader_commit > self.commit_index {
            let commit = ae.leader_commit.min(last_new);
            if commit > self.commit_index {
                self.advance_commit_index(commit);
            }
        }
        let resp = AppendEntriesResponse {
            term: self.current_term,
            success: true,
            index: last_new,
            conflict_term: 0,
            conflict_index: 0,
            request_term: ae.term,
        };
        let after = self.durability_barrier();
        self.send(from, Message::AppendEntriesResponse(resp), after);
    }

    /// The leader's side of an AppendEntries result. Success: `match_index` and
    /// `next_index` advance (never back: answers may be old or duplicated), the commit rule
    /// runs, and more entries go out. Failure from log inconsistency: `next_index` moves
    /// back (to the follower's hint with fast backtracking, else by one) and the leader
    /// probes again. Answers the leader has already moved past are ignored, and so are
    /// refusals of requests from an earlier term (this node's, when it led before): they
    /// say nothing about the follower's log against this term's requests.
    /// Reference: Raft §5.3, Figure 2 (Rules for Servers: leaders).
    pub(crate) fn handle_append_entries_response(
        &mut self,
        now_ns: Nanos,
        from: NodeId,
        resp: AppendEntriesResponse,
    ) {
        debug_assert_eq!(resp.term, self.current_term);
        if resp.request_term != self.current_term {
            return;
        }
        let last_index = self.log.last_index();
        let pr = &mut self.progress[from.index()];
        pr.last_heard_ns = now_ns;
        if resp.success {
            assert!(
                resp.index <= last_index,
                "{from:?} acknowledged index {} beyond the leader's last index {last_index}",
                resp.index
            );
            if pr.on_ack(resp.index, now_ns) {
                self.maybe_commit();
            }
            self.send_append_entries(from, now_ns);
            return;
        }
        let stale = resp.index <= pr.match_index
            || (pr.state == ProgressState::Probe && resp.index + 1 != pr.next_index);
        if stale {
            return;
        }
        let hint = if self.cfg.raft.fast_backtrack {
            if resp.conflict_term == 0 {
                resp.conflict_index
            } else {
                match self.log.last_index_of_term(resp.conflict_term, resp.index) {
                    Some(i) => i + 1,
                    None => resp.conflict_index,
                }
            }
        } else {
            // Figure 2: "decrement nextIndex and retry"; the rejected probe was at next - 1.
            resp.index
        };
        let pr = &mut self.progress[from.index()];
        let next = hint.clamp(pr.match_index + 1, resp.index);
        pr.become_probe(next);
        self.send_append_entries(from, now_ns);
    }

    /// Figure 2, leaders: "if there exists an N such that N > commitIndex, a majority of
    /// `matchIndex[i] ≥ N`, and `log[N].term == currentTerm`: set commitIndex = N". Entries of
    /// earlier terms are committed only indirectly, by a later entry of the current term
    /// (Figure 8). The leader counts itself only up to what it has fsynced (§10.2.1).
    /// Reference: Raft §5.4.2.
    pub(crate) fn maybe_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let n = self.quorum_match_index();
        if n <= self.commit_index {
            return;
        }
        let current = self.log.term(n) == Some(self.current_term);
        if current || self.cfg.bugs.raft_commit_old_terms_by_count {
            self.advance_commit_index(n);
        }
    }
}
