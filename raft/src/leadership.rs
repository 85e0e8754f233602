//! Leadership (leader election): the election timeout, RequestVote on both sides, winning
//! and the term's no-op (Raft §5.2, §5.4.1, §8), PreVote (thesis §9.6) and CheckQuorum
//! (thesis §6.2). The rules, each with the section it comes from, are tabled in the crate
//! root.

use crate::durable::Entry;
use crate::msg::{Message, RequestVote, RequestVoteResponse};
use crate::node::RaftNode;
use crate::progress::Progress;
use replog::{Command, LogIndex, Nanos, NodeId, PersistSeq, Role};

impl RaftNode {
    /// The election timer fired (or [`RaftNode::campaign`] was called).
    /// Reference: Raft §5.2; with PreVote, thesis §9.6.
    pub(crate) fn on_election_timeout(&mut self, now_ns: Nanos) {
        if self.cfg.pre_vote {
            self.start_pre_vote(now_ns);
        } else {
            self.start_election(now_ns);
        }
    }

    /// Asks every peer whether it would vote for this node in `current_term + 1`, without
    /// changing any durable state: a node that cannot win (partitioned, or with a stale log)
    /// then never raises the cluster's term. Reference: Raft thesis §9.6.
    pub(crate) fn start_pre_vote(&mut self, now_ns: Nanos) {
        self.set_role(Role::PreCandidate);
        self.leader_hint = None;
        self.self_vote_seq = None;
        self.randomize_election_timeout();
        self.reset_election_timer(now_ns);
        self.votes.fill(None);
        let req = RequestVote {
            term: self.current_term + 1,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for i in 0..self.peers.len() {
            let peer = self.peers[i];
            self.send(peer, Message::PreVote(req.clone()), None);
        }
        // A pre-vote promises nothing, so the node's own counts at once.
        self.count_vote(now_ns, self.id, true);
    }

    /// Figure 2, candidates: "on conversion to candidate, start election: increment
    /// currentTerm, vote for self, reset election timer, send RequestVote RPCs to all other
    /// servers". The vote for self is persisted before any RequestVote leaves, and counted
    /// only once durable, so a crash cannot make this node vote twice in the term.
    /// Reference: Raft §5.2.
    pub(crate) fn start_election(&mut self, now_ns: Nanos) {
        self.set_role(Role::Candidate);
        self.current_term += 1;
        self.voted_for = Some(self.id);
        self.leader_hint = None;
        self.leader_heard_ns = None;
        self.batch_deadline_ns = None;
        let seq = self.persist_term_and_vote();
        self.self_vote_seq = Some(seq);
        self.randomize_election_timeout();
        self.reset_election_timer(now_ns);
        self.votes.fill(None);
        let req = RequestVote {
            term: self.current_term,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for i in 0..self.peers.len() {
            let peer = self.peers[i];
            self.send(peer, Message::RequestVote(req.clone()), Some(seq));
        }
    }

    /// The candidate's own vote became durable (every persist up to `upto` is): it counts
    /// toward the majority now, so that a crash cannot make this node vote twice in the term.
    /// Reference: Raft §5.2; replog's durability rule.
    pub(crate) fn on_own_vote_durable(&mut self, now_ns: Nanos, upto: PersistSeq) {
        if self.self_vote_seq.is_some_and(|s| s <= upto) {
            self.self_vote_seq = None;
            self.count_vote(now_ns, self.id, true);
        }
    }

    /// Election restriction: the candidate's log is at least as up-to-date as this node's
    /// (a later last term, or the same last term and at least as long).
    /// Reference: Raft §5.4.1.
    pub fn candidate_log_is_up_to_date(&self, last_log_term: u64, last_log_index: LogIndex) -> bool {
        let my_term = self.log.last_term();
        last_log_term > my_term || (last_log_term == my_term && last_log_index >= self.log.last_index())
    }

    /// RequestVote receiver (Figure 2), for a request of `current_term` (the term rule in
    /// `step` has run): grant if this node has not voted for someone else in this term and
    /// the candidate's log is up-to-date. A grant is persisted before the reply leaves and
    /// resets the election timer. Reference: Raft §5.2, §5.4.1.
    pub(crate) fn handle_request_vote(&mut self, now_ns: Nanos, from: NodeId, req: RequestVote) {
        debug_assert_eq!(req.term, self.current_term);
        let may_vote = self.voted_for.is_none_or(|v| v == from);
        let granted = may_vote && self.candidate_log_is_up_to_date(req.last_log_term, req.last_log_index);
        if granted {
            if self.voted_for.is_none() {
                self.voted_for = Some(from);
                self.persist_term_and_vote();
            }
            self.reset_election_timer(now_ns);
            if self.role == Role::PreCandidate {
                // It now expects `from` to lead this term; its own round would only disrupt.
                self.become_follower(now_ns, self.current_term, None);
            }
        }
        let after = if granted { self.durability_barrier() } else { None };
        let resp = RequestVoteResponse {
            term: self.current_term,
            vote_granted: granted,
            request_term: req.term,
        };
        self.send(from, Message::RequestVoteResponse(resp), after);
    }

    /// A candidate counts an answer to its RequestVote of this term; a refusal of one of its
    /// earlier requests (sent by a node that has since reached this term) is not an answer
    /// to this election and is not counted. Reference: Raft §5.2.
    pub(crate) fn handle_request_vote_response(
        &mut self,
        now_ns: Nanos,
        from: NodeId,
        resp: RequestVoteResponse,
    ) {
        debug_assert_eq!(resp.term, self.current_term);
        if resp.request_term != self.current_term {
            return;
        }
        self.count_vote(now_ns, from, resp.vote_granted);
    }

    /// PreVote receiver: would this node vote for `from` in `req.term`? Yes if the
    /// candidate's log is up-to-date and this node has not heard from a leader within the
    /// minimum election timeout. Grants change no state and need no persist.
    /// Reference: Raft thesis §9.6.
    pub(crate) fn handle_pre_vote(&mut self, now_ns: Nanos, from: NodeId, req: RequestVote) {
        debug_assert!(req.term >= self.current_term);
        let leader_alive = self.role == Role::Leader || self.heard_from_leader_recently(now_ns);
        // Within the current term, a vote already cast elsewhere stands (as etcd).
        let may_vote = req.term > self.current_term || self.voted_for.is_none_or(|v| v == from);
        let granted = !leader_alive
            && may_vote
            && self.candidate_log_is_up_to_date(req.last_log_term, req.last_log_index);
        let resp = RequestVoteResponse {
            term: if granted { req.term } else { self.current_term },
            vote_granted: granted,
            request_term: req.term,
        };
        self.send(from, Message::PreVoteResponse(resp), None);
    }

    /// A pre-candidate counts an answer to its current PreVote (the one asking about
    /// `current_term + 1`); answers to an earlier round are not counted. A majority starts
    /// the real election. Reference: Raft thesis §9.6.
    pub(crate) fn handle_pre_vote_response(
        &mut self,
        now_ns: Nanos,
        from: NodeId,
        resp: RequestVoteResponse,
    ) {
        if resp.request_term != self.current_term + 1 {
            return;
        }
        self.count_vote(now_ns, from, resp.vote_granted);
    }

    /// Records `from`'s answer in the current (pre-)election and acts on a majority. A
    /// voter's first answer stands: a later one in the same election is a duplicate (a vote
    /// granted is durable and cannot be withdrawn). Reference: Raft §5.2; thesis §9.6.
    pub(crate) fn count_vote(&mut self, now_ns: Nanos, from: NodeId, granted: bool) {
        if self.votes[from.index()].is_some() {
            return;
        }
        self.votes[from.index()] = Some(granted);
        let yes = self
            .members
            .iter()
            .filter(|m| self.votes[m.index()] == Some(true))
            .count();
        if yes < self.majority() {
            return;
        }
        match self.role {
            Role::PreCandidate => self.start_election(now_ns),
            Role::Candidate => self.become_leader(now_ns),
            Role::Follower | Role::Leader => {}
        }
    }

    /// Figure 2, candidates: "if votes received from majority of servers: become leader".
    /// `next_index` starts after the leader's last entry and `match_index` at 0 for every
    /// follower (probing); the leader appends a no-op of its term, which lets it commit the
    /// entries of earlier terms it holds (§5.4.2, §8). Reference: Raft §5.2, §5.3, §8.
    pub(crate) fn become_leader(&mut self, now_ns: Nanos) {
        assert_eq!(self.role, Role::Candidate, "only a candidate becomes leader");
        assert_eq!(self.voted_for, Some(self.id), "a leader voted for itself");
        self.set_role(Role::Leader);
        self.leader_hint = Some(self.id);
        self.self_vote_seq = None;
        let last_index = self.log.last_index();
        for i in 0..self.peers.len() {
            let peer = self.peers[i];
            self.progress[peer.index()] = Progress::new(last_index, now_ns, self.cfg.max_inflight_msgs);
        }
        self.heartbeat_deadline_ns = now_ns + self.cfg.heartbeat_interval_ns;
        self.batch_deadline_ns = None;
        self.released_index = last_index;
        self.leader_append(Command::Noop);
        self.start_leader_reads(now_ns, self.log.last_index());
        self.release_batch(now_ns);
    }

    /// Appends a proposal of the leader's term to its log. The entry's Persist goes out
    /// now, together with (not before) the AppendEntries that carry it: the leader's fsync
    /// runs in parallel with replication. Reference: Raft §5.3, §10.2.1.
    pub(crate) fn leader_append(&mut self, cmd: Command) {
        debug_assert_eq!(self.role, Role::Leader);
        let term = self.current_term;
        self.append_to_log(vec![Entry { term, cmd }]);
        if self.cfg.bugs.ack_before_quorum {
            // Deliberately unsafe: "committed" before anyone else has the entry.
            self.advance_commit_index(self.log.last_index());
        }
    }

    /// CheckQuorum, the leader's half: whether a majority (this node included) answered
    /// within the minimum election timeout. Reference: Raft thesis §6.2.
    pub(crate) fn quorum_recently_active(&self, now_ns: Nanos) -> bool {
        let window_ns = self.cfg.election_timeout_min_ns;
        let active = 1 + self
            .peers
            .iter()
            .filter(|p| self.progress[p.index()].last_heard_ns + window_ns > now_ns)
            .count();
        active >= self.majority()
    }

    /// Whether this node heard from a leader of its term within the minimum election timeout.
    pub(crate) fn heard_from_leader_recently(&self, now_ns: Nanos) -> bool {
        self.leader_heard_ns
            .is_some_and(|heard_ns| heard_ns + self.cfg.election_timeout_min_ns > now_ns)
    }

    /// CheckQuorum, the followers' half (as etcd): while a leader is known alive, vote
    /// requests of a higher term are ignored, so a node that was partitioned away cannot
    /// depose a healthy leader. Reference: Raft thesis §6.2 and §4.2.3.
    pub(crate) fn in_lease(&self, now_ns: Nanos) -> bool {
        self.cfg.check_quorum
            && (self.role == Role::Leader
                || (self.leader_hint.is_some() && self.heard_from_leader_recently(now_ns)))
    }
}
