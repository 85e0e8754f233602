//! [`PaxosNode`]: multi-Paxos behind [`ReplicatedLog`], with one step function per role.
//!
//! Every node plays all three of Paxos Made Simple's roles at once. The acceptor and the
//! learner behave the same whatever the node's role; what a node does as a *proposer*
//! depends on whether it follows, runs phase 1 (candidate) or leads:
//! - `step_follower`: answers prepares, accepts, heartbeats and catch-up; ignores replies
//!   meant for a proposer.
//! - `step_candidate`: collects promises; as an acceptor turns down lower ballots.
//! - `step_leader`: collects acceptances and heartbeat replies, detects chosen slots, feeds
//!   lagging followers; as an acceptor turns down lower ballots.
//!
//! Before any of them runs, `observe_ballot` makes a proposer that sees a ballot above its
//! own step down (preemption).

use crate::durable::Record;
use crate::leadership::Candidacy;
use crate::msg::Message;
use crate::paxos_log::SlotLog;
use crate::recovery;
use crate::replication::Leadership;
use replog::rng::{DetRng, rng_for};
use replog::{
    Action, Command, Epoch, LogIndex, Nanos, NodeId, NotLeader, PersistSeq, ProtocolConfig, ReplicatedLog,
    Role, Status, quorum,
};

/// RNG stream for failure-detector timeouts and backoff.
const RNG_TIMEOUTS: u64 = 0x7061_786f_7300_0001;

/// Node ids index bitmasks of acknowledgements, so they must stay below this.
pub const MAX_NODE_ID: u32 = 64;

/// What the node is doing as a proposer.
#[derive(Clone, Debug)]
pub(crate) enum RoleState {
    /// Following a leader (or suspecting it, waiting for the timeout).
    Follower,
    /// Running phase 1.
    Candidate(Candidacy),
    /// Phase 1 done: running phase 2 for every slot from the first unchosen one.
    Leader(Box<Leadership>),
}

/// One multi-Paxos node: proposer, acceptor and learner.
#[derive(Clone, Debug)]
pub struct PaxosNode {
    pub(crate) id: NodeId,
    /// Every member but this node.
    pub(crate) peers: Vec<NodeId>,
    /// `is_member[id]`: whether `id` belongs to the cluster.
    is_member: Vec<bool>,
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
    /// Follower: suspect the leader at this time. Candidate: give up on this ballot and
    /// retry with a higher one. Also the backoff after being preempted.
    pub(crate) suspicion_deadline: Nanos,

    // Persistence.
    /// The last `Persist` issued (0: none this boot).
    pub(crate) last_seq: PersistSeq,
    /// Every `Persist` up to here is durable.
    pub(crate) durable_seq: PersistSeq,
    /// The chosen prefix covered by the last `ChosenUpto` record issued.
    pub(crate) chosen_mark_issued: LogIndex,
    pub(crate) actions: Vec<Action<Message, Record>>,
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
            RoleState::Follower => None,
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

    /// Writes a chosen mark if the prefix moved and no other write carried it. Called at
    /// most once per heartbeat interval, so an idle node's chosen marks cost one write per
    /// interval at most.
    pub(crate) fn flush_chosen_mark(&mut self) {
        if self.log.chosen_upto() > self.chosen_mark_issued {
            self.persist(Vec::new());
        }
    }

    /// What a reply must wait for: every record issued so far. An acceptor's answer never
    /// gets ahead of its disk. Reference: Paxos Made Simple §2.5.
    pub(crate) fn reply_after(&self) -> Option<PersistSeq> {
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

    fn start_clock(&mut self, now: Nanos) {
        if !self.clock_started {
            self.clock_started = true;
            self.reset_suspicion(now);
        }
    }

    /// Follower: the acceptor and learner answer; replies meant for a proposer are stale.
    fn step_follower(&mut self, now: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::Prepare(m) => self.on_prepare(now, from, m),
            Message::Accept(m) => self.on_accept(now, from, m),
            Message::Heartbeat(m) => self.on_heartbeat(now, from, m),
            Message::Learn(m) => self.on_learn(now, from, m),
            Message::Promise(_)
            | Message::Nack(_)
            | Message::Accepted(_)
            | Message::HeartbeatReply(_)
            | Message::Learned(_) => {}
        }
    }

    /// Candidate: promises count toward phase 1; the acceptor turns down lower ballots (a
    /// higher one has already made this node step down).
    fn step_candidate(&mut self, now: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::Promise(m) => self.on_promise(now, from, m),
            Message::Prepare(m) => self.on_prepare(now, from, m),
            Message::Accept(m) => self.on_accept(now, from, m),
            Message::Heartbeat(m) => self.on_heartbeat(now, from, m),
            Message::Learn(m) => self.on_learn(now, from, m),
            Message::Nack(_) | Message::Accepted(_) | Message::HeartbeatReply(_) | Message::Learned(_) => {}
        }
    }

    /// Leader: acceptances decide slots, replies drive the per-follower windows; the acceptor
    /// turns down lower ballots.
    fn step_leader(&mut self, now: Nanos, from: NodeId, msg: Message) {
        match msg {
            Message::Accepted(m) => self.on_accepted(now, from, m),
            Message::Learned(m) => self.on_learned(now, from, m),
            Message::HeartbeatReply(m) => self.on_heartbeat_reply(now, from, m),
            Message::Prepare(m) => self.on_prepare(now, from, m),
            Message::Accept(m) => self.on_accept(now, from, m),
            Message::Heartbeat(m) => self.on_heartbeat(now, from, m),
            Message::Learn(m) => self.on_learn(now, from, m),
            // Late promises (phase 1 is over) and nacks of ballots no higher than ours.
            Message::Promise(_) | Message::Nack(_) => {}
        }
    }

    fn member(&self, id: NodeId) -> bool {
        self.is_member.get(id.index()).copied().unwrap_or(false)
    }
}

impl ReplicatedLog for PaxosNode {
    type Message = Message;
    type Record = Record;
    const NAME: &'static str = "paxos";

    fn boot(id: NodeId, members: &[NodeId], cfg: &ProtocolConfig, recovered: Vec<Record>, seed: u64) -> Self {
        assert!(members.contains(&id), "{id} is not a member of {members:?}");
        let mut is_member = vec![false; MAX_NODE_ID as usize];
        for &m in members {
            assert!(m.0 < MAX_NODE_ID, "node ids must be below {MAX_NODE_ID}");
            assert!(!is_member[m.index()], "{m} listed twice");
            is_member[m.index()] = true;
        }
        let state = recovery::replay(recovered);
        let mut node = PaxosNode {
            id,
            peers: members.iter().copied().filter(|&m| m != id).collect(),
            is_member,
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
            suspicion_deadline: 0,
            last_seq: 0,
            durable_seq: 0,
            actions: Vec::new(),
        };
        // The state machine is volatile: replay the durable chosen prefix into it.
        node.apply_chosen();
        node
    }

    fn propose(&mut self, now: Nanos, cmd: Command) -> Result<(), NotLeader> {
        self.start_clock(now);
        match self.role {
            RoleState::Leader(_) => {
                self.propose_as_leader(now, cmd);
                Ok(())
            }
            _ => Err(NotLeader {
                hint: self.leader_hint,
            }),
        }
    }

    fn step(&mut self, now: Nanos, from: NodeId, msg: Message) {
        self.start_clock(now);
        if from == self.id || !self.member(from) {
            return;
        }
        self.observe_ballot(now, msg.ballot());
        match self.role {
            RoleState::Follower => self.step_follower(now, from, msg),
            RoleState::Candidate(_) => self.step_candidate(now, from, msg),
            RoleState::Leader(_) => self.step_leader(now, from, msg),
        }
    }

    fn tick(&mut self, now: Nanos) {
        if !self.clock_started {
            self.start_clock(now);
            return;
        }
        match self.role {
            RoleState::Follower | RoleState::Candidate(_) => {
                if now >= self.suspicion_deadline {
                    self.start_phase1(now);
                }
            }
            RoleState::Leader(_) => self.on_leader_tick(now),
        }
    }

    fn next_deadline(&self) -> Option<Nanos> {
        if !self.clock_started {
            return Some(0);
        }
        match &self.role {
            RoleState::Follower | RoleState::Candidate(_) => Some(self.suspicion_deadline),
            RoleState::Leader(l) => Some(match l.batch_deadline {
                Some(b) => b.min(l.heartbeat_deadline),
                None => l.heartbeat_deadline,
            }),
        }
    }

    fn take_actions(&mut self, out: &mut Vec<Action<Message, Record>>) {
        out.append(&mut self.actions);
    }

    fn persisted(&mut self, now: Nanos, upto: PersistSeq) {
        self.start_clock(now);
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
            RoleState::Candidate(_) => self.on_self_promise_durable(now),
            RoleState::Leader(_) => self.on_own_accepts_durable(now),
            RoleState::Follower => {}
        }
    }

    fn status(&self) -> Status {
        let role = match self.role {
            RoleState::Follower => Role::Follower,
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
