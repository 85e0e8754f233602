//! [`RaftNode`]: the state of Figure 2, the [`ReplicatedLog`] implementation that drives it,
//! and one step function per role (`step_leader`, `step_candidate`, `step_follower`).
//!
//! The rules for servers that apply to every role (the term rule, rejecting stale requests)
//! live in [`ReplicatedLog::step`]; everything a role does with a message is in its step
//! function, which calls into [`crate::leadership`] and [`crate::replication`].

use crate::durable::{Entry, Record};
use crate::log::RaftLog;
use crate::msg::{AppendEntriesResponse, InstallSnapshotResponse, Message, RequestVoteResponse};
use crate::progress::Progress;
use crate::recovery;
use crate::snapshot::IncomingSnapshot;
use replog::read::ReadState;
use replog::rng::{DetRng, RngExt, rng_for};
use replog::{
    Action, Command, Epoch, LogIndex, Nanos, NodeId, NotLeader, PersistSeq, ProtocolConfig, ReadId,
    ReplicatedLog, Role, Status,
};

/// RNG stream for election timeouts.
const RNG_STREAM_ELECTION: u64 = 1;

/// A Raft node as a deterministic, sans-IO state machine.
///
/// Construct it with [`ReplicatedLog::boot`]; drive it with `propose`, `step`, `tick` and
/// `persisted`, and carry out what `take_actions` returns.
#[derive(Clone)]
pub struct RaftNode {
    pub(crate) id: NodeId,
    /// Every voter, this node included.
    pub(crate) members: Vec<NodeId>,
    /// Every voter but this node.
    pub(crate) peers: Vec<NodeId>,
    pub(crate) cfg: ProtocolConfig,
    rng: DetRng,
    /// Off when a deliberately unsafe variant is on: those variants exist so the external
    /// checker can be seen catching them, so internal assertions must not get there first.
    pub(crate) safety_asserts: bool,

    // Persistent state on all servers (Figure 2); every change is persisted as a Record.
    /// Latest term this node has seen. Never decreases.
    pub(crate) current_term: u64,
    /// Candidate that received this node's vote in `current_term`.
    pub(crate) voted_for: Option<NodeId>,
    /// The log.
    pub(crate) log: RaftLog,

    // Volatile state on all servers (Figure 2).
    /// Index of the highest log entry known to be committed. Starts at 0 on every boot.
    pub(crate) commit_index: LogIndex,
    /// Index of the highest log entry emitted as `Action::Commit`.
    pub(crate) last_applied: LogIndex,
    pub(crate) role: Role,
    pub(crate) leader_hint: Option<NodeId>,

    // Timers.
    /// This node's randomized election timeout, drawn on each role change and each new
    /// election (the timer policy both protocols share). Reference: §5.2.
    election_timeout_ns: Nanos,
    /// When the election timer fires; `None` until the node first learns the time (boot has
    /// no clock), in which case it asks to be ticked at once.
    pub(crate) election_deadline_ns: Option<Nanos>,
    /// When this node last heard from a leader of its current term.
    pub(crate) leader_heard_ns: Option<Nanos>,

    // Volatile state on candidates and pre-candidates: the answer of each node, by index.
    pub(crate) votes: Vec<Option<bool>>,
    /// A candidate counts its own vote once the record of it is durable.
    pub(crate) self_vote_seq: Option<PersistSeq>,

    // Volatile state on leaders (Figure 2), reinitialized after election.
    /// Per follower, by node index; entries of non-peers are unused.
    pub(crate) progress: Vec<Progress>,
    pub(crate) heartbeat_deadline_ns: Nanos,
    /// When proposals held to fill a batch must go out (`batch_delay_ns > 0` only).
    pub(crate) batch_deadline_ns: Option<Nanos>,
    /// Entries up to here may be sent; later ones are held to fill a batch.
    pub(crate) released_index: LogIndex,
    quorum_scratch: Vec<LogIndex>,

    /// Reads without the log: rounds, the lease, the follower's promise (`read.rs`).
    pub(crate) reads: ReadState,

    // Output.
    next_seq: PersistSeq,
    durable_seq: PersistSeq,
    /// Position in `actions` of the Persist that records issued during this call join.
    open_persist: Option<usize>,
    pub(crate) actions: Vec<Action<Message, Record>>,

    /// Followers: the snapshot whose chunks are arriving (Raft §7).
    pub(crate) incoming_snapshot: Option<IncomingSnapshot>,
}

impl RaftNode {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Latest term this node has seen.
    pub fn current_term(&self) -> u64 {
        self.current_term
    }

    /// Whom this node voted for in its current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// The log.
    pub fn log(&self) -> &RaftLog {
        &self.log
    }

    /// Index of the highest entry known committed (0 after boot until learnt again).
    pub fn commit_index(&self) -> LogIndex {
        self.commit_index
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// A leader's view of `peer`'s log; `None` when not leader or `peer` is no peer.
    pub fn progress(&self, peer: NodeId) -> Option<&Progress> {
        (self.role == Role::Leader && self.peers.contains(&peer)).then(|| &self.progress[peer.index()])
    }

    /// Starts an election now, exactly as when the election timer fires (etcd's `MsgHup`):
    /// with PreVote on, a pre-vote round first. For tests and tools that must pick the
    /// node that times out. Reference: Raft §5.2.
    pub fn campaign(&mut self, now_ns: Nanos) {
        self.on_election_timeout(now_ns);
    }

    pub(crate) fn is_member(&self, id: NodeId) -> bool {
        self.members.contains(&id)
    }

    pub(crate) fn majority(&self) -> usize {
        replog::quorum::majority(self.members.len())
    }

    // ----- output -----

    /// Issues `record` for stable storage. Records issued within one call share one Persist.
    pub(crate) fn persist(&mut self, record: Record) -> PersistSeq {
        if let Some(pos) = self.open_persist {
            match &mut self.actions[pos] {
                Action::Persist { seq, records } => {
                    records.push(record);
                    return *seq;
                }
                _ => unreachable!("open_persist points at a Persist"),
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.open_persist = Some(self.actions.len());
        self.actions.push(Action::Persist {
            seq,
            records: vec![record],
        });
        seq
    }

    /// Issues a checkpoint (`records` replace every record before them) under its own
    /// sequence number; records issued after it in this call go to a new Persist.
    pub(crate) fn issue_checkpoint(&mut self, records: Vec<Record>) -> PersistSeq {
        self.open_persist = None;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.actions.push(Action::Checkpoint { seq, records });
        seq
    }

    /// Persists `current_term` and `voted_for`. Reference: Raft §5.1, Figure 2.
    pub(crate) fn persist_term_and_vote(&mut self) -> PersistSeq {
        self.persist(Record::TermAndVote {
            current_term: self.current_term,
            voted_for: self.voted_for,
        })
    }

    /// Appends `entries` to the log and persists them.
    pub(crate) fn append_to_log(&mut self, entries: Vec<Entry>) {
        if entries.is_empty() {
            return;
        }
        let first_index = self.log.last_index() + 1;
        let seq = self.persist(Record::Entries {
            first_index,
            entries: entries.clone(),
        });
        self.log.append(&entries, seq);
    }

    /// Deletes the entry at `from` and all that follow it, durably.
    pub(crate) fn truncate_log_from(&mut self, from: LogIndex) {
        assert!(
            self.role != Role::Leader,
            "a leader never truncates its own log (§5.3)"
        );
        if self.safety_asserts {
            assert!(
                from > self.commit_index,
                "{:?}: truncating at {from} would change a committed entry (commit index {})",
                self.id,
                self.commit_index
            );
        }
        self.persist(Record::TruncateFrom { from_index: from });
        self.log.truncate_from(from);
    }

    /// The persist a reply must wait for so that it promises only durable state: the last
    /// one issued, if it is not yet confirmed.
    pub(crate) fn durability_barrier(&self) -> Option<PersistSeq> {
        let last = self.next_seq - 1;
        (last > self.durable_seq).then_some(last)
    }

    pub(crate) fn send(&mut self, to: NodeId, msg: Message, after: Option<PersistSeq>) {
        self.actions.push(Action::Send { to, msg, after });
    }

    // ----- commit -----

    /// Raises `commit_index` to `index` and emits the newly committed entries in order.
    /// Reference: Raft Figure 2 (all servers: apply `log[lastApplied]`).
    pub(crate) fn advance_commit_index(&mut self, index: LogIndex) {
        assert!(
            index >= self.commit_index,
            "commit index went back from {} to {index}",
            self.commit_index
        );
        assert!(
            index <= self.log.last_index(),
            "commit index {index} beyond the last index {}",
            self.log.last_index()
        );
        self.commit_index = index;
        // Figure 2: "if commitIndex > lastApplied: increment lastApplied, apply log[lastApplied]".
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let cmd = self.log.entry(self.last_applied).cmd.clone();
            self.actions.push(Action::Commit {
                index: self.last_applied,
                cmd,
            });
        }
    }

    /// The highest index a majority holds: the leader's durable index and each follower's
    /// `match_index`. Reference: Raft §5.3, §10.2.1 (the leader counts only what it fsynced).
    pub(crate) fn quorum_match_index(&mut self) -> LogIndex {
        self.quorum_scratch.clear();
        for &m in &self.members {
            let acked = if m == self.id {
                self.log.durable_index()
            } else {
                self.progress[m.index()].match_index
            };
            self.quorum_scratch.push(acked);
        }
        replog::quorum::committed_index(&self.quorum_scratch)
    }

    // ----- roles -----

    /// Draws a fresh randomized election timeout. Reference: Raft §5.2.
    pub(crate) fn randomize_election_timeout(&mut self) {
        let (min_ns, max_ns) = (self.cfg.election_timeout_min_ns, self.cfg.election_timeout_max_ns);
        self.election_timeout_ns = self.rng.random_range(min_ns..=max_ns);
    }

    /// Restarts the election timer. Reference: Raft §5.2.
    pub(crate) fn reset_election_timer(&mut self, now_ns: Nanos) {
        self.election_deadline_ns = Some(now_ns + self.election_timeout_ns);
    }

    /// Sets the role, tracing the change.
    pub(crate) fn set_role(&mut self, role: Role) {
        if self.role != role {
            tracing::debug!(node = ?self.id, term = self.current_term, from = ?self.role, to = ?role, "role change");
            self.role = role;
        }
    }

    /// Moves to `term` (which may be the current one) as a follower. A new term clears the
    /// vote, durably. Reference: Raft §5.1, Figure 2 (Rules for Servers: all servers).
    pub(crate) fn become_follower(&mut self, now_ns: Nanos, term: u64, leader: Option<NodeId>) {
        assert!(
            term >= self.current_term,
            "term went back from {} to {term}",
            self.current_term
        );
        if term > self.current_term {
            self.current_term = term;
            self.voted_for = None;
            self.leader_heard_ns = None;
            self.persist_term_and_vote();
        }
        let was = self.role;
        self.set_role(Role::Follower);
        self.leader_hint = leader;
        self.self_vote_seq = None;
        self.batch_deadline_ns = None;
        if was != Role::Follower {
            self.randomize_election_timeout();
        }
        if was == Role::Leader {
            // A leader runs no election timer; start one from now.
            self.reset_election_timer(now_ns);
            self.abort_reads();
        }
    }

    /// Answers a message from an earlier term: requests are refused with the current term
    /// so their sender learns it (and a stale leader steps down); answers are dropped. The
    /// refusal names the request's term, so a sender that has meanwhile reached this node's
    /// term does not take it for an answer to its current request (it only teaches the term).
    /// Reference: Raft §5.1, Figure 2 (receiver implementation, rule 1).
    fn reject_stale(&mut self, from: NodeId, msg: &Message) {
        let term = self.current_term;
        match msg {
            Message::AppendEntries(ae) => self.send(
                from,
                Message::AppendEntriesResponse(AppendEntriesResponse {
                    term,
                    success: false,
                    index: ae.prev_log_index,
                    conflict_term: 0,
                    conflict_index: 0,
                    request_term: ae.term,
                }),
                None,
            ),
            Message::RequestVote(req) => self.send(
                from,
                Message::RequestVoteResponse(RequestVoteResponse {
                    term,
                    vote_granted: false,
                    request_term: req.term,
                }),
                None,
            ),
            Message::PreVote(req) => self.send(
                from,
                Message::PreVoteResponse(RequestVoteResponse {
                    term,
                    vote_granted: false,
                    request_term: req.term,
                }),
                None,
            ),
            Message::InstallSnapshot(m) => self.send(
                from,
                Message::InstallSnapshotResponse(InstallSnapshotResponse {
                    term,
                    last_included_index: m.last_included_index,
                    received: 0,
                    installed: false,
                }),
                None,
            ),
            Message::Confirm(_) => self.send(
                from,
                Message::ConfirmResponse(crate::msg::Confirm { term, round: 0 }),
                None,
            ),
            Message::RequestVoteResponse(_)
            | Message::PreVoteResponse(_)
            | Message::AppendEntriesResponse(_)
            | Message::InstallSnapshotResponse(_)
            | Message::ConfirmResponse(_) => {}
        }
    }

    /// The first call that tells the node the time arms its election timer.
    fn observe(&mut self, now_ns: Nanos) {
        self.reads.observe(&self.cfg, now_ns);
        if self.election_deadline_ns.is_none() && self.role != Role::Leader {
            self.reset_election_timer(now_ns);
        }
    }

    // ----- one step function per role -----

    /// What a leader does with a message of its own term.
    fn step_leader(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::AppendEntries(_) | Message::InstallSnapshot(_) => {
                panic!(
                    "{:?}: AppendEntries from {from:?} in term {}, which this node leads: two leaders in one term",
                    self.id, self.current_term
                )
            }
            Message::AppendEntriesResponse(resp) => self.handle_append_entries_response(now_ns, from, resp),
            Message::InstallSnapshotResponse(resp) => {
                self.handle_install_snapshot_response(now_ns, from, resp)
            }
            Message::Confirm(_) => {
                panic!(
                    "{:?}: Confirm from {from:?} in term {}, which this node leads: two leaders in one term",
                    self.id, self.current_term
                )
            }
            Message::ConfirmResponse(m) => self.handle_confirm_response(now_ns, from, m),
            Message::RequestVote(req) => self.handle_request_vote(now_ns, from, req),
            Message::PreVote(req) => self.handle_pre_vote(now_ns, from, req),
            // Answers from the election this node already won.
            Message::RequestVoteResponse(_) | Message::PreVoteResponse(_) => {}
        }
    }

    /// What a candidate or pre-candidate does with a message of its own term (a pre-vote
    /// answer carries the term asked about).
    fn step_candidate(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::AppendEntries(ae) => {
                // Figure 2, candidates: "if AppendEntries RPC received from new leader:
                // convert to follower".
                self.become_follower(now_ns, self.current_term, Some(from));
                self.handle_append_entries(now_ns, from, ae);
            }
            Message::InstallSnapshot(m) => {
                self.become_follower(now_ns, self.current_term, Some(from));
                self.handle_install_snapshot(now_ns, from, m);
            }
            Message::Confirm(m) => {
                self.become_follower(now_ns, self.current_term, Some(from));
                self.handle_confirm(now_ns, from, m);
            }
            Message::RequestVote(req) => self.handle_request_vote(now_ns, from, req),
            Message::PreVote(req) => self.handle_pre_vote(now_ns, from, req),
            Message::RequestVoteResponse(resp) if self.role == Role::Candidate => {
                self.handle_request_vote_response(now_ns, from, resp)
            }
            Message::PreVoteResponse(resp) if self.role == Role::PreCandidate => {
                self.handle_pre_vote_response(now_ns, from, resp)
            }
            Message::RequestVoteResponse(_)
            | Message::PreVoteResponse(_)
            | Message::AppendEntriesResponse(_)
            | Message::InstallSnapshotResponse(_)
            | Message::ConfirmResponse(_) => {}
        }
    }

    /// What a follower does with a message of its own term.
    fn step_follower(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::AppendEntries(ae) => self.handle_append_entries(now_ns, from, ae),
            Message::InstallSnapshot(m) => self.handle_install_snapshot(now_ns, from, m),
            Message::Confirm(m) => self.handle_confirm(now_ns, from, m),
            Message::RequestVote(req) => self.handle_request_vote(now_ns, from, req),
            Message::PreVote(req) => self.handle_pre_vote(now_ns, from, req),
            Message::RequestVoteResponse(_)
            | Message::PreVoteResponse(_)
            | Message::AppendEntriesResponse(_)
            | Message::InstallSnapshotResponse(_)
            | Message::ConfirmResponse(_) => {}
        }
    }
}

impl ReplicatedLog for RaftNode {
    type Message = Message;
    type Record = Record;
    const NAME: &'static str = "raft";

    fn boot(id: NodeId, members: &[NodeId], cfg: &ProtocolConfig, recovered: Vec<Record>, seed: u64) -> Self {
        assert!(
            members.contains(&id),
            "{id:?} is not among the members {members:?}"
        );
        if let Err(e) = cfg.validate() {
            panic!("raft: {e}");
        }
        let state = recovery::replay(recovered);
        let slots = members.iter().map(|m| m.index() + 1).max().unwrap_or(0);
        let bugs = &cfg.bugs;
        let mut node = RaftNode {
            id,
            members: members.to_vec(),
            peers: members.iter().copied().filter(|&m| m != id).collect(),
            cfg: cfg.clone(),
            rng: rng_for(seed, RNG_STREAM_ELECTION),
            safety_asserts: !(bugs.raft_commit_old_terms_by_count || bugs.ack_before_quorum),
            current_term: state.current_term,
            voted_for: state.voted_for,
            log: RaftLog::recovered(state.snapshot, state.entries),
            commit_index: 0,
            last_applied: 0,
            role: Role::Follower,
            leader_hint: None,
            election_timeout_ns: cfg.election_timeout_max_ns,
            election_deadline_ns: None,
            leader_heard_ns: None,
            votes: vec![None; slots],
            self_vote_seq: None,
            progress: vec![Progress::new(0, 0, cfg.max_inflight_msgs); slots],
            heartbeat_deadline_ns: 0,
            batch_deadline_ns: None,
            released_index: 0,
            quorum_scratch: Vec::with_capacity(members.len()),
            reads: ReadState::new(cfg),
            next_seq: 1,
            durable_seq: 0,
            open_persist: None,
            actions: Vec::new(),
            incoming_snapshot: None,
        };
        // The state machine is volatile: it starts from the snapshot, if there is one.
        if let Some((index, _, image)) = node.log.snapshot() {
            let image = image.clone();
            node.commit_index = index;
            node.last_applied = index;
            node.actions.push(Action::Restore { index, image });
        }
        node.randomize_election_timeout();
        tracing::debug!(node = ?id, term = node.current_term, last_index = node.log.last_index(), "boot");
        node
    }

    /// Figure 2, leaders: "if command received from client: append entry to local log".
    fn propose(&mut self, now_ns: Nanos, cmd: Command) -> Result<(), NotLeader> {
        self.observe(now_ns);
        match self.role {
            Role::Leader => {
                self.leader_append(cmd);
                self.release_or_hold(now_ns);
                Ok(())
            }
            Role::Follower => Err(NotLeader {
                hint: self.leader_hint,
            }),
            Role::Candidate | Role::PreCandidate => Err(NotLeader { hint: None }),
        }
    }

    /// ReadIndex or a lease read; see `read.rs`. Reference: Raft thesis §6.4.
    fn read(&mut self, now_ns: Nanos) -> Result<ReadId, NotLeader> {
        self.observe(now_ns);
        self.register_read(now_ns)
    }

    /// Figure 2, Rules for Servers (all servers), then the role's own rules.
    fn step(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        self.observe(now_ns);
        if from == self.id || !self.is_member(from) {
            return;
        }
        let term = msg.term();
        if term > self.current_term {
            if msg.is_vote_request() && (self.in_lease(now_ns) || self.lease_forbids_vote(now_ns)) {
                // CheckQuorum's other half: while a leader is known alive, a higher-term
                // vote request is from a disruptive node; ignore it entirely, term included.
                // Reference: Raft thesis §6.2, §4.2.3.
                return;
            }
            match &msg {
                // A pre-vote changes no term: it asks about a term nobody has entered.
                Message::PreVote(_) => {}
                Message::PreVoteResponse(r) if r.vote_granted => {}
                Message::AppendEntries(_) | Message::InstallSnapshot(_) | Message::Confirm(_) => {
                    self.become_follower(now_ns, term, Some(from))
                }
                _ => self.become_follower(now_ns, term, None),
            }
        } else if term < self.current_term {
            self.reject_stale(from, &msg);
            return;
        }
        match self.role {
            Role::Leader => self.step_leader(now_ns, from, msg),
            Role::Candidate | Role::PreCandidate => self.step_candidate(now_ns, from, msg),
            Role::Follower => self.step_follower(now_ns, from, msg),
        }
    }

    /// Followers and candidates: the election timeout elapses and an election starts.
    /// Leaders: a held batch goes out, heartbeats are due. Reference: Raft §5.2.
    fn tick(&mut self, now_ns: Nanos) {
        if self.election_deadline_ns.is_none() && self.role != Role::Leader {
            self.observe(now_ns);
            return;
        }
        match self.role {
            Role::Leader => {
                if self
                    .batch_deadline_ns
                    .is_some_and(|deadline_ns| deadline_ns <= now_ns)
                {
                    self.release_batch(now_ns);
                }
                if self.heartbeat_deadline_ns <= now_ns {
                    self.heartbeat(now_ns);
                }
            }
            Role::Follower | Role::Candidate | Role::PreCandidate => {
                if self
                    .election_deadline_ns
                    .is_some_and(|deadline_ns| deadline_ns <= now_ns)
                {
                    // Figure 2, followers and candidates: "if election timeout elapses ...
                    // convert to candidate / start new election".
                    self.on_election_timeout(now_ns);
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Nanos> {
        match self.role {
            Role::Leader => Some(
                self.batch_deadline_ns
                    .map_or(self.heartbeat_deadline_ns, |batch_ns| {
                        batch_ns.min(self.heartbeat_deadline_ns)
                    }),
            ),
            // Not yet armed: ask for a tick now, which arms it.
            _ => Some(self.election_deadline_ns.unwrap_or(0)),
        }
    }

    fn take_actions(&mut self, out: &mut Vec<Action<Message, Record>>) {
        self.open_persist = None;
        out.append(&mut self.actions);
    }

    /// Storage confirms persists up to `upto`: a candidate's own vote and a leader's own
    /// entries count from now on. Reference: Raft §5.2, §10.2.1.
    fn persisted(&mut self, now_ns: Nanos, upto: PersistSeq) {
        self.observe(now_ns);
        assert!(upto < self.next_seq, "persist {upto} confirmed but never issued");
        if upto <= self.durable_seq {
            return;
        }
        self.durable_seq = upto;
        self.log.persisted(upto);
        match self.role {
            Role::Leader => self.maybe_commit(),
            Role::Candidate => self.on_own_vote_durable(now_ns, upto),
            Role::Follower | Role::PreCandidate => {}
        }
    }

    /// Log compaction. Reference: Raft §7.
    fn compact(&mut self, index: LogIndex, image: replog::SnapshotImage) {
        self.take_snapshot(index, image);
    }

    fn status(&self) -> Status {
        Status {
            id: self.id,
            role: self.role,
            leader_hint: match self.role {
                Role::Leader => Some(self.id),
                _ => self.leader_hint,
            },
            epoch: Epoch::term(self.current_term),
            commit_index: self.commit_index,
            last_index: self.log.last_index(),
        }
    }
}

impl std::fmt::Debug for RaftNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftNode")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("current_term", &self.current_term)
            .field("voted_for", &self.voted_for)
            .field("commit_index", &self.commit_index)
            .field("last_index", &self.log.last_index())
            .finish_non_exhaustive()
    }
}
