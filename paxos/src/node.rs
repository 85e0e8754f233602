//! [`PaxosNode`]: the state of one multi-Paxos node, the [`ReplicatedLog`] implementation that
//! drives it, and one step function per role (`step_follower`, `step_candidate`,
//! `step_leader`).
//!
//! Every node plays all three of Paxos Made Simple's roles at once. The acceptor and the
//! learner behave the same whatever the node's role; what a node does as a *proposer*
//! depends on whether it follows, runs phase 1 (candidate) or leads:
//! - `step_follower`: answers prepares, accepts, heartbeats and catch-up; ignores replies
//!   meant for a proposer.
//! - `step_candidate`: collects promises (a pre-candidate, pre-promises); answers requests
//!   as an acceptor.
//! - `step_leader`: collects acceptances and heartbeat replies, detects chosen slots, feeds
//!   lagging followers; answers requests as an acceptor.
//!
//! The rules that apply whatever the role live in [`ReplicatedLog::step`], as in Raft:
//! `observe_ballot` makes a proposer that sees a ballot above its own step down
//! (preemption), and `reject_stale` turns down a request below the promise. Everything a
//! role does with a message is in its step function, which calls into [`crate::leadership`]
//! (phase 1) and [`crate::replication`] (phase 2, learning, catch-up). The state those
//! modules work on is defined here: `RoleState` and the candidate's and leader's volatile
//! state, as Raft's `RaftNode` holds its candidate and leader state.

use crate::durable::Record;
use crate::log::SlotLog;
use crate::msg::{Message, Nack, PrePromise};
use crate::progress::Progress;
use crate::recovery;
use crate::snapshot::IncomingSnapshot;
use replog::read::ReadState;
use replog::rng::{DetRng, rng_for};
use replog::{
    Action, Command, Epoch, LogIndex, Nanos, NodeId, NotLeader, PersistSeq, ProtocolConfig, ReadId,
    ReplicatedLog, Role, Status, quorum,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// RNG stream for failure-detector timeouts and backoff.
const RNG_TIMEOUTS: u64 = 0x7061_786f_7300_0001;

/// Node ids index bitmasks of acknowledgements, so they must stay below this.
pub const MAX_NODE_ID: u32 = 64;

/// What the node is doing as a proposer.
#[derive(Clone, Debug)]
pub(crate) enum RoleState {
    /// Following a leader (or suspecting it, waiting for the timeout).
    Follower,
    /// With `pre_vote`: asking whether phase 1 could succeed, before running it.
    PreCandidate(PreCandidateState),
    /// Running phase 1.
    Candidate(CandidateState),
    /// Phase 1 done: running phase 2 for every slot from the first unchosen one.
    Leader(Box<LeaderState>),
}

/// Volatile state on pre-candidates: the pre-prepare round in progress (Raft's `votes` in
/// a PreVote round).
#[derive(Clone, Debug)]
pub(crate) struct PreCandidateState {
    /// The ballot asked about: the one phase 1 would use now.
    pub(crate) ballot: Epoch,
    /// Acceptors that would promise it (this node included), as a bitmask of node ids.
    pub(crate) granted_by: u64,
}

/// Volatile state on candidates: phase 1 in progress (Raft's `votes` and `self_vote_seq`).
#[derive(Clone, Debug)]
pub(crate) struct CandidateState {
    /// The ballot being prepared.
    pub(crate) ballot: Epoch,
    /// The first slot the prepare covers (the candidate's first unchosen slot then).
    pub(crate) from_slot: LogIndex,
    /// The `Promised` record of the candidate's own acceptor: it counts once durable.
    pub(crate) promise_seq: PersistSeq,
    /// Acceptors that promised (every part of their promise arrived), as a bitmask of node ids.
    pub(crate) promised_by: u64,
    /// Per acceptor, by node id, the parts of its promise received so far.
    pub(crate) parts_received: Vec<BTreeSet<u32>>,
    /// Per slot, the report that wins under the adoption rule (`Report::merge`) so far.
    pub(crate) reports: BTreeMap<LogIndex, Report>,
    /// Each promiser's chosen prefix, by node id.
    pub(crate) peer_chosen: Vec<Option<LogIndex>>,
}

/// What promises said about one slot.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) ballot: Epoch,
    pub(crate) chosen: bool,
    pub(crate) cmd: Command,
}

/// Volatile state on leaders: the ballot, the timers and the phase 2 bookkeeping (Raft keeps
/// the same as `RaftNode` fields: `progress`, `heartbeat_deadline_ns`, `batch_deadline_ns`,
/// `released_index`).
#[derive(Clone, Debug)]
pub(crate) struct LeaderState {
    pub(crate) ballot: Epoch,
    pub(crate) heartbeat_deadline_ns: Nanos,
    /// The chosen prefix announced by the latest heartbeat.
    pub(crate) heartbeat_upto: LogIndex,
    /// When held proposals must go out (`batch_delay_ns > 0` only).
    pub(crate) batch_deadline_ns: Option<Nanos>,
    /// Slots up to here are persisted-issued and may be sent; later ones wait for a batch.
    pub(crate) released_upto: LogIndex,
    /// The leader's own accept records not yet durable: (seq, last slot), in order.
    pub(crate) own_accepts: VecDeque<(PersistSeq, LogIndex)>,
    /// The leader's own acceptor has durably accepted every slot up to here.
    pub(crate) self_acked_upto: LogIndex,
    /// `acks[i]`: the acceptors (bitmask) that accepted slot `acks_base + i` at `ballot`.
    /// Covers the slots from the first unchosen one to the last proposed.
    pub(crate) acks_base: LogIndex,
    pub(crate) acks: VecDeque<u64>,
    /// Per follower, by node id.
    pub(crate) progress: Vec<Progress>,
}

impl LeaderState {
    /// The state of a leader that just completed phase 1 at `ballot`. Followers that
    /// promised start from their reported chosen prefix; the others are probed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        ballot: Epoch,
        now_ns: Nanos,
        log: &SlotLog,
        self_acked_upto: LogIndex,
        own_accept: Option<(PersistSeq, LogIndex)>,
        peers: &[NodeId],
        peer_chosen: &[Option<LogIndex>],
        max_inflight: usize,
    ) -> Self {
        let chosen = log.chosen_upto();
        let mut progress = vec![Progress::new(chosen, max_inflight, now_ns); peer_chosen.len()];
        for &p in peers {
            if let Some(c) = peer_chosen[p.index()] {
                progress[p.index()].on_promise(c, chosen);
            }
        }
        LeaderState {
            ballot,
            heartbeat_deadline_ns: now_ns,
            heartbeat_upto: chosen,
            batch_deadline_ns: None,
            released_upto: log.last_slot(),
            own_accepts: own_accept.into_iter().collect(),
            self_acked_upto,
            acks_base: chosen + 1,
            acks: std::iter::repeat_n(0, (log.last_slot() - chosen) as usize).collect(),
            progress,
        }
    }

    /// Whether `peer` accepted `slot` at this leader's ballot.
    pub(crate) fn acked(&self, peer: NodeId, slot: LogIndex) -> bool {
        slot >= self.acks_base
            && self
                .acks
                .get((slot - self.acks_base) as usize)
                .is_some_and(|a| a & PaxosNode::bit(peer) != 0)
    }
}

/// One multi-Paxos node: proposer, acceptor and learner.
#[derive(Clone, Debug)]
pub struct PaxosNode {
    pub(crate) id: NodeId,
    /// Every member but this node.
    pub(crate) peers: Vec<NodeId>,
    /// `member_by_id[id]`: whether `id` belongs to the cluster.
    member_by_id: Vec<bool>,
    pub(crate) cluster_size: usize,
    pub(crate) cfg: ProtocolConfig,
    pub(crate) rng: DetRng,

    // Acceptor (durable: mirrored by records).
    /// The highest ballot promised or accepted at. Never decreases.
    pub(crate) promised: Epoch,
    /// Accepted values per slot, and the learner's chosen prefix.
    pub(crate) log: SlotLog,

    // Learner (volatile).
    /// Slots handed to the state machine as `Commit` in this boot.
    pub(crate) applied: LogIndex,

    // Proposer (volatile).
    pub(crate) role: RoleState,
    pub(crate) leader_hint: Option<NodeId>,
    /// The highest round seen in any ballot: a new ballot goes above it.
    pub(crate) max_round_seen: u64,

    // Timers.
    /// `boot` has no clock: timers start at the first call that brings one.
    clock_started: bool,
    /// This node's randomized suspicion timeout, drawn on each role change and each new
    /// candidacy (the timer policy both protocols share, as Raft's election timeout).
    pub(crate) suspicion_timeout_ns: Nanos,
    /// Follower: suspect the leader at this time. Candidate: give up on this ballot and
    /// retry with a higher one. Also the backoff after being preempted.
    pub(crate) suspicion_deadline_ns: Nanos,
    /// When this node last heard from the leader it follows (leader stickiness).
    pub(crate) leader_heard_ns: Option<Nanos>,

    // Persistence.
    /// The last `Persist` issued (0: none this boot).
    pub(crate) last_seq: PersistSeq,
    /// Every `Persist` up to here is durable.
    pub(crate) durable_seq: PersistSeq,
    /// The chosen prefix covered by the last `ChosenUpto` record issued.
    pub(crate) chosen_mark_issued: LogIndex,
    pub(crate) actions: Vec<Action<Message, Record>>,

    /// The snapshot whose chunks are arriving (catch-up by snapshot).
    pub(crate) incoming_snapshot: Option<IncomingSnapshot>,
    /// Reads without the log: rounds, the lease, the acceptor's promise (`read.rs`).
    pub(crate) reads: ReadState,
}

impl PaxosNode {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The acceptor's promise: the highest ballot it promised or accepted at.
    pub fn promised(&self) -> Epoch {
        self.promised
    }

    /// The slots as this node holds them (accepted values, chosen flags, chosen prefix).
    pub fn log(&self) -> &SlotLog {
        &self.log
    }

    /// The ballot this node proposes with, while it is a candidate or leader.
    pub fn own_ballot(&self) -> Option<Epoch> {
        match &self.role {
            RoleState::Follower | RoleState::PreCandidate(_) => None,
            RoleState::Candidate(c) => Some(c.ballot),
            RoleState::Leader(l) => Some(l.ballot),
        }
    }

    /// The acknowledgement bit of `id`.
    pub(crate) fn bit(id: NodeId) -> u64 {
        1u64 << id.0
    }

    /// Acceptors needed for a quorum.
    pub(crate) fn majority(&self) -> usize {
        quorum::majority(self.cluster_size)
    }

    pub(crate) fn send(&mut self, to: NodeId, msg: Message, after: Option<PersistSeq>) {
        self.actions.push(Action::Send { to, msg, after });
    }

    /// Issues `records` for persistence and returns their sequence number. A `ChosenUpto`
    /// mark rides along (last, after the values it covers) whenever the chosen prefix moved
    /// since the last one: chosen marks cost no write of their own while the node is busy.
    pub(crate) fn persist(&mut self, mut records: Vec<Record>) -> PersistSeq {
        let chosen = self.log.chosen_upto();
        if chosen > self.chosen_mark_issued {
            records.push(Record::ChosenUpto { upto: chosen });
            self.chosen_mark_issued = chosen;
        }
        self.last_seq += 1;
        self.actions.push(Action::Persist {
            seq: self.last_seq,
            records,
        });
        self.last_seq
    }

    /// The chosen prefix as the records issued so far have it: what a reply that waits for
    /// [`durability_barrier`](Self::durability_barrier) may report, since it leaves only once
    /// those records are durable. (The prefix in memory may be ahead; a restart would lose
    /// that part, and a leader must never count on it.)
    pub(crate) fn durable_chosen_upto(&self) -> LogIndex {
        self.chosen_mark_issued
    }

    /// Writes a chosen mark if the prefix moved and no other write carried it. Called at
    /// most once per heartbeat interval, so an idle node's chosen marks cost one write per
    /// interval at most.
    pub(crate) fn flush_chosen_mark(&mut self) {
        if self.log.chosen_upto() > self.chosen_mark_issued {
            self.persist(Vec::new());
        }
    }

    /// The persist a reply must wait for so that it promises only durable state: the last
    /// one issued, if it is not yet confirmed. An acceptor's answer never gets ahead of its
    /// disk. Reference: Paxos Made Simple §2.5.
    pub(crate) fn durability_barrier(&self) -> Option<PersistSeq> {
        (self.last_seq > self.durable_seq).then_some(self.last_seq)
    }

    /// Raises the promise. Invariant: a promised ballot never decreases.
    pub(crate) fn set_promised(&mut self, ballot: Epoch) {
        assert!(
            ballot >= self.promised,
            "{}: promise would go back from {:?} to {ballot:?}",
            self.id,
            self.promised
        );
        self.promised = ballot;
    }

    /// Hands every newly chosen slot of the prefix to the state machine, in slot order,
    /// once per boot. Reference: Paxos Made Simple §3 (a server executes command i once it
    /// has learned commands 1 through i).
    pub(crate) fn apply_chosen(&mut self) {
        while self.applied < self.log.chosen_upto() {
            self.applied += 1;
            let cmd: Command = self
                .log
                .get(self.applied)
                .expect("the chosen prefix holds values")
                .cmd
                .clone();
            self.actions.push(Action::Commit {
                index: self.applied,
                cmd,
            });
        }
    }

    /// The failure detector fires now (or a test says so): with `pre_vote`, a pre-prepare
    /// round asks whether phase 1 could succeed; without, phase 1 starts at once. Public so
    /// that tests and explorers can start a candidacy at a chosen moment (Raft's `campaign`).
    /// Reference: Howard & Mortier §3; Raft thesis §9.6 for the pre-round.
    pub fn campaign(&mut self, now_ns: Nanos) {
        self.on_suspicion_timeout(now_ns);
    }

    /// The first call that tells the node the time starts its failure detector.
    fn start_clock(&mut self, now_ns: Nanos) {
        self.reads.observe(&self.cfg, now_ns);
        if !self.clock_started {
            self.clock_started = true;
            self.reset_suspicion_timer(now_ns);
        }
    }

    /// The leader's volatile state. Panics on a non-leader.
    pub(crate) fn leader_state(&mut self) -> &mut LeaderState {
        match &mut self.role {
            RoleState::Leader(l) => l,
            _ => unreachable!("{}: leader bookkeeping on a non-leader", self.id),
        }
    }

    /// Whether `msg` is a request a proposer sends to acceptors and learners (as opposed
    /// to a reply to one).
    fn is_request(msg: &Message) -> bool {
        match msg {
            Message::Prepare(_)
            | Message::PrePrepare(_)
            | Message::Accept(_)
            | Message::Heartbeat(_)
            | Message::Learn(_)
            | Message::LearnSnapshot(_)
            | Message::Confirm(_) => true,
            Message::Promise(_)
            | Message::PrePromise(_)
            | Message::Nack(_)
            | Message::Accepted(_)
            | Message::HeartbeatReply(_)
            | Message::Learned(_)
            | Message::LearnedSnapshot(_)
            | Message::ConfirmReply(_) => false,
        }
    }

    /// Whether `msg` proposes or teaches no value at all: an `Accept` or `Learn` without
    /// slots. A leader never sends one; one that arrives anyway changes nothing (not the
    /// promise, not the failure detector), since there is nothing to make durable with it.
    fn is_empty(msg: &Message) -> bool {
        match msg {
            Message::Accept(m) => m.cmds.is_empty(),
            Message::Learn(m) => m.cmds.is_empty(),
            _ => false,
        }
    }

    /// Whether `msg` asks this node to help elect another leader: a prepare or pre-prepare
    /// of a ballot above its promise.
    fn is_election_request(&self, msg: &Message) -> bool {
        matches!(msg, Message::Prepare(_) | Message::PrePrepare(_)) && msg.ballot() > self.promised
    }

    /// Turns down a request whose `ballot` is below this acceptor's promise, naming the
    /// promise so that its sender learns it has been preempted (a pre-prepare is answered
    /// with a refused pre-promise, which names it too). Whatever the role, and before
    /// anything else: an acceptor promised "not to accept any more proposals numbered less
    /// than n". Reference: Paxos Made Simple §2.2 (phase 1(b), phase 2(b), and the
    /// optimisation of telling the proposer to abandon its proposal).
    fn reject_stale(&mut self, from: NodeId, msg: &Message) {
        let promised = self.promised;
        let reply = match msg {
            Message::PrePrepare(m) => Message::PrePromise(PrePromise {
                ballot: m.ballot,
                granted: false,
                promised,
            }),
            _ => Message::Nack(Nack {
                ballot: msg.ballot(),
                promised,
            }),
        };
        self.send(from, reply, None);
    }

    /// What a follower does with a message that is not a stale request: the acceptor and
    /// learner answer; replies meant for a proposer are stale.
    fn step_follower(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::Prepare(m) => self.handle_prepare(now_ns, from, m),
            Message::PrePrepare(m) => self.handle_pre_prepare(now_ns, from, m),
            Message::Accept(m) => self.handle_accept(now_ns, from, m),
            Message::Heartbeat(m) => self.handle_heartbeat(now_ns, from, m),
            Message::Learn(m) => self.handle_learn(now_ns, from, m),
            Message::LearnSnapshot(m) => self.handle_learn_snapshot(now_ns, from, m),
            Message::Confirm(m) => self.handle_confirm(now_ns, from, m),
            Message::Promise(_)
            | Message::PrePromise(_)
            | Message::Nack(_)
            | Message::Accepted(_)
            | Message::HeartbeatReply(_)
            | Message::Learned(_)
            | Message::LearnedSnapshot(_)
            | Message::ConfirmReply(_) => {}
        }
    }

    /// What a candidate or pre-candidate does with a message that is not a stale request:
    /// promises count toward phase 1 (pre-promises toward the pre-round); the acceptor and
    /// learner answer requests (one of a higher ballot has already made a candidate step
    /// down).
    fn step_candidate(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        let pre = matches!(self.role, RoleState::PreCandidate(_));
        match msg {
            Message::Promise(m) if !pre => self.handle_promise(now_ns, from, m),
            Message::PrePromise(m) if pre => self.handle_pre_promise(now_ns, from, m),
            Message::Prepare(m) => self.handle_prepare(now_ns, from, m),
            Message::PrePrepare(m) => self.handle_pre_prepare(now_ns, from, m),
            Message::Accept(m) => self.handle_accept(now_ns, from, m),
            Message::Heartbeat(m) => self.handle_heartbeat(now_ns, from, m),
            Message::Learn(m) => self.handle_learn(now_ns, from, m),
            Message::LearnSnapshot(m) => self.handle_learn_snapshot(now_ns, from, m),
            Message::Confirm(m) => self.handle_confirm(now_ns, from, m),
            Message::Promise(_)
            | Message::PrePromise(_)
            | Message::Nack(_)
            | Message::Accepted(_)
            | Message::HeartbeatReply(_)
            | Message::Learned(_)
            | Message::LearnedSnapshot(_)
            | Message::ConfirmReply(_) => {}
        }
    }

    /// What a leader does with a message that is not a stale request: acceptances decide
    /// slots, replies drive the per-follower windows; the acceptor and learner answer requests.
    fn step_leader(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::Accepted(m) => self.handle_accepted(now_ns, from, m),
            Message::Learned(m) => self.handle_learned(now_ns, from, m),
            Message::HeartbeatReply(m) => self.handle_heartbeat_reply(now_ns, from, m),
            Message::ConfirmReply(m) => self.handle_confirm_reply(now_ns, from, m),
            Message::Confirm(m) => self.handle_confirm(now_ns, from, m),
            Message::Prepare(m) => self.handle_prepare(now_ns, from, m),
            Message::PrePrepare(m) => self.handle_pre_prepare(now_ns, from, m),
            Message::Accept(m) => self.handle_accept(now_ns, from, m),
            Message::Heartbeat(m) => self.handle_heartbeat(now_ns, from, m),
            Message::Learn(m) => self.handle_learn(now_ns, from, m),
            Message::LearnedSnapshot(m) => self.handle_learned_snapshot(now_ns, from, m),
            // Late promises (phase 1 is over), nacks of ballots no higher than ours, and a
            // snapshot at our own ballot (only this node sends those).
            Message::Promise(_) | Message::PrePromise(_) | Message::Nack(_) | Message::LearnSnapshot(_) => {}
        }
    }

    /// Whether `id` belongs to the cluster.
    pub(crate) fn is_member(&self, id: NodeId) -> bool {
        self.member_by_id.get(id.index()).copied().unwrap_or(false)
    }
}

impl ReplicatedLog for PaxosNode {
    type Message = Message;
    type Record = Record;
    const NAME: &'static str = "paxos";

    fn boot(id: NodeId, members: &[NodeId], cfg: &ProtocolConfig, recovered: Vec<Record>, seed: u64) -> Self {
        assert!(members.contains(&id), "{id} is not a member of {members:?}");
        let mut member_by_id = vec![false; MAX_NODE_ID as usize];
        for &m in members {
            assert!(m.0 < MAX_NODE_ID, "node ids must be below {MAX_NODE_ID}");
            assert!(!member_by_id[m.index()], "{m} listed twice");
            member_by_id[m.index()] = true;
        }
        let state = recovery::replay(recovered);
        let mut node = PaxosNode {
            id,
            peers: members.iter().copied().filter(|&m| m != id).collect(),
            member_by_id,
            cluster_size: members.len(),
            cfg: cfg.clone(),
            rng: rng_for(seed, RNG_TIMEOUTS),
            promised: state.promised,
            chosen_mark_issued: state.log.chosen_upto(),
            log: state.log,
            applied: 0,
            role: RoleState::Follower,
            leader_hint: None,
            max_round_seen: state.promised.round,
            clock_started: false,
            suspicion_timeout_ns: cfg.election_timeout_max_ns,
            suspicion_deadline_ns: 0,
            leader_heard_ns: None,
            last_seq: 0,
            durable_seq: 0,
            actions: Vec::new(),
            incoming_snapshot: None,
            reads: ReadState::new(cfg),
        };
        node.randomize_suspicion_timeout();
        // The state machine is volatile: start it from the snapshot, if there is one, and
        // replay the durable chosen prefix after it into it.
        if let Some((upto, image)) = node.log.snapshot() {
            let image = image.clone();
            node.applied = upto;
            node.actions.push(Action::Restore { index: upto, image });
        }
        node.apply_chosen();
        node
    }

    /// Leaders: a command takes the next slot. Reference: Paxos Made Simple §3.
    fn propose(&mut self, now_ns: Nanos, cmd: Command) -> Result<(), NotLeader> {
        self.start_clock(now_ns);
        match self.role {
            RoleState::Leader(_) => {
                self.leader_append(cmd);
                self.release_or_hold(now_ns);
                Ok(())
            }
            _ => Err(NotLeader {
                hint: self.leader_hint,
            }),
        }
    }

    /// ReadIndex or a lease read; see `read.rs`. Reference: Raft thesis §6.4, applied alike.
    fn read(&mut self, now_ns: Nanos) -> Result<ReadId, NotLeader> {
        self.start_clock(now_ns);
        self.register_read(now_ns)
    }

    /// The rules for every role (preemption by a higher ballot, then the refusal of a
    /// request below the promise), then the role's own. With `check_quorum`, a node that
    /// hears from a live leader first ignores requests to elect another, ballot included
    /// (Raft's CheckQuorum does the same with vote requests). A pre-prepare and its answer
    /// concern a ballot nobody has promised, so they preempt nobody.
    /// Reference: Paxos Made Simple §2.2; Raft thesis §6.2, §9.6 for the stickiness rules.
    fn step(&mut self, now_ns: Nanos, from: NodeId, msg: Message) {
        self.start_clock(now_ns);
        if from == self.id || !self.is_member(from) || Self::is_empty(&msg) {
            return;
        }
        if self.is_election_request(&msg) && self.in_lease(now_ns) {
            return;
        }
        let ballot = msg.ballot();
        if matches!(msg, Message::Prepare(_)) && ballot > self.promised && self.lease_forbids_promise(now_ns)
        {
            return;
        }
        match &msg {
            Message::PrePrepare(_) => {}
            Message::PrePromise(m) => self.max_round_seen = self.max_round_seen.max(m.promised.round),
            _ => self.observe_ballot(now_ns, ballot),
        }
        if ballot < self.promised && Self::is_request(&msg) {
            self.reject_stale(from, &msg);
            return;
        }
        match self.role {
            RoleState::Follower => self.step_follower(now_ns, from, msg),
            RoleState::PreCandidate(_) | RoleState::Candidate(_) => self.step_candidate(now_ns, from, msg),
            RoleState::Leader(_) => self.step_leader(now_ns, from, msg),
        }
    }

    /// Followers and candidates: the failure detector suspects the leader (or a candidacy
    /// times out) and phase 1 starts with a higher ballot. Leaders: a held batch goes out,
    /// heartbeats are due. Reference: Howard & Mortier §3.
    fn tick(&mut self, now_ns: Nanos) {
        if !self.clock_started {
            self.start_clock(now_ns);
            return;
        }
        match self.role {
            RoleState::Follower | RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                if now_ns >= self.suspicion_deadline_ns {
                    self.on_suspicion_timeout(now_ns);
                }
            }
            RoleState::Leader(_) => {
                if self
                    .leader_state()
                    .batch_deadline_ns
                    .is_some_and(|deadline_ns| deadline_ns <= now_ns)
                {
                    self.release_batch(now_ns);
                }
                if self.leader_state().heartbeat_deadline_ns <= now_ns {
                    self.heartbeat(now_ns);
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Nanos> {
        if !self.clock_started {
            return Some(0);
        }
        match &self.role {
            RoleState::Follower | RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                Some(self.suspicion_deadline_ns)
            }
            RoleState::Leader(l) => Some(match l.batch_deadline_ns {
                Some(batch_ns) => batch_ns.min(l.heartbeat_deadline_ns),
                None => l.heartbeat_deadline_ns,
            }),
        }
    }

    fn take_actions(&mut self, out: &mut Vec<Action<Message, Record>>) {
        out.append(&mut self.actions);
    }

    /// Storage confirms persists up to `upto`: a candidate's own promise and a leader's own
    /// accepts count from now on. Reference: Paxos Made Simple §2.5.
    fn persisted(&mut self, now_ns: Nanos, upto: PersistSeq) {
        self.start_clock(now_ns);
        assert!(
            upto <= self.last_seq,
            "{}: storage confirmed persist {upto}, never issued",
            self.id
        );
        if upto <= self.durable_seq {
            return;
        }
        self.durable_seq = upto;
        match self.role {
            RoleState::Candidate(_) => self.on_own_promise_durable(now_ns),
            RoleState::Leader(_) => self.on_own_accepts_durable(now_ns),
            RoleState::Follower | RoleState::PreCandidate(_) => {}
        }
    }

    /// Log compaction. Reference: Raft §7, applied to the chosen prefix.
    fn compact(&mut self, index: LogIndex, image: replog::SnapshotImage) {
        self.take_snapshot(index, image);
    }

    fn status(&self) -> Status {
        let role = match self.role {
            RoleState::Follower => Role::Follower,
            RoleState::PreCandidate(_) => Role::PreCandidate,
            RoleState::Candidate(_) => Role::Candidate,
            RoleState::Leader(_) => Role::Leader,
        };
        if let Some(own) = self.own_ballot() {
            debug_assert_eq!(own, self.promised, "a proposer's own ballot is its promise");
        }
        Status {
            id: self.id,
            role,
            leader_hint: match self.role {
                RoleState::Leader(_) => Some(self.id),
                _ => self.leader_hint,
            },
            epoch: self.promised,
            commit_index: self.log.chosen_upto(),
            last_index: self.log.last_slot(),
        }
    }
}
