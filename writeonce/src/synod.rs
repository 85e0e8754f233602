//! The synod algorithm (single-decree Paxos) as a write-once variable: where the drafts' walk
//! ends.
//!
//! The protocol rules are those of [`paxos::synod::SynodNode`], restated on this crate's
//! [`Outbox`] so that the explorer can shift ballot rounds ([`Rounds`]) and see a duel that
//! returns to the same situation with higher ballots as a loop. One rule is added: a node that
//! hears `Chosen` first passes it on to the others (every node a distinguished learner, Paxos
//! Made Simple §2.3), so that one lost broadcast cannot leave a correct node undecided forever.
//! A differential test below drives both with the same random schedules and checks that they
//! send the same messages (those relays aside) and choose the same values, so the two cannot
//! drift apart.
//!
//! Every node is proposer, acceptor and learner. `try_initialize(v)` makes the node a proposer
//! of `v`; whatever value is chosen, every node learns it from a `Chosen` broadcast.
//!
//! | rule | where | source |
//! | --- | --- | --- |
//! | ballots are (round, node): unique, totally ordered | [`SynodNode::start_ballot`] | Paxos Made Simple §2.5 |
//! | phase 1(b): promise only at or above the current promise; report the last accepted | `Prepare` in `handle` | §2.2 |
//! | phase 2(a): propose the value of the highest ballot reported, else one's own | `Promise` in `handle` | §2.2 |
//! | phase 2(b): accept unless a higher ballot was promised | `Accept` in `handle` | §2.2 |
//! | chosen once a majority accepted one ballot; learners are told | `Accepted`, `Chosen` in `handle` | §2.2, §2.3 |
//! | every node is a distinguished learner and passes the news on once | `Chosen` in `handle` | §2.3 |
//! | a proposer told of a higher ballot abandons its own | `Nack` in `handle` | §2.3 |
//! | progress needs one distinguished proposer; a retry must not always preempt the other | [`SynodNode::timer`] | §2.4 |
//!
//! **Holds**: agreement and validity under any schedule, crash or partition.
//! **Loses**: guaranteed termination, as FLP says every such algorithm must. Two proposers that
//! retry as soon as they are preempted can preempt each other forever: each one's phase 1
//! completes between the other's phase 1 and phase 2. Paxos Made Simple §2.4 answers with a
//! distinguished proposer, elected with "randomness or real time"; the classic form is a
//! randomized backoff before retrying. With it ([`Synod`]), each retry waits long enough for the
//! rival to finish with some probability, so a decision comes with probability 1; without it
//! ([`SynodNoBackoff`]), the scheduler can keep the duel going forever.

use crate::write_once::{Outbox, Rounds, Timer, WriteOnce};
use replog::{Epoch, NodeId, quorum};
use std::fmt::{self, Debug};
use std::hash::Hash;

/// Single-decree Paxos whose proposers back off for a random time before retrying.
pub type Synod<V> = SynodNode<V, true>;

/// Single-decree Paxos whose proposers retry after a fixed timeout, which an asynchronous
/// network can always make too short.
pub type SynodNoBackoff<V> = SynodNode<V, false>;

/// What an acceptor must remember across a crash. Reference: Paxos Made Simple §2.3.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AcceptorState<V> {
    /// The highest ballot promised (or accepted at). Never decreases.
    pub promised: Epoch,
    /// The highest-ballot proposal accepted, if any.
    pub accepted: Option<(Epoch, V)>,
}

/// A synod message.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SynodMsg<V> {
    /// Phase 1(a).
    Prepare { ballot: Epoch },
    /// Phase 1(b): the promise, with the acceptor's highest-ballot accepted proposal.
    Promise {
        ballot: Epoch,
        accepted: Option<(Epoch, V)>,
    },
    /// Phase 2(a).
    Accept { ballot: Epoch, value: V },
    /// Phase 2(b).
    Accepted { ballot: Epoch },
    /// The request at `ballot` was turned down: the acceptor promised `promised`.
    Nack { ballot: Epoch, promised: Epoch },
    /// A learner is told the chosen value.
    Chosen { value: V },
}

// One short line per message in timelines: `Promise(b2.1, accepted b1.0=red)`.
impl<V: Debug> Debug for SynodMsg<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SynodMsg::Prepare { ballot } => write!(f, "Prepare({ballot:?})"),
            SynodMsg::Promise {
                ballot,
                accepted: None,
            } => write!(f, "Promise({ballot:?})"),
            SynodMsg::Promise {
                ballot,
                accepted: Some((b, v)),
            } => write!(f, "Promise({ballot:?}, accepted {b:?}={v:?})"),
            SynodMsg::Accept { ballot, value } => write!(f, "Accept({ballot:?}, {value:?})"),
            SynodMsg::Accepted { ballot } => write!(f, "Accepted({ballot:?})"),
            SynodMsg::Nack { ballot, promised } => write!(f, "Nack({ballot:?}, promised {promised:?})"),
            SynodMsg::Chosen { value } => write!(f, "Chosen({value:?})"),
        }
    }
}

impl<V> Rounds for SynodMsg<V> {
    fn rounds(&self, out: &mut Vec<u64>) {
        match self {
            SynodMsg::Prepare { ballot }
            | SynodMsg::Accept { ballot, .. }
            | SynodMsg::Accepted { ballot } => out.push(ballot.round),
            SynodMsg::Promise { ballot, accepted } => {
                out.push(ballot.round);
                out.extend(accepted.iter().map(|(b, _)| b.round));
            }
            SynodMsg::Nack { ballot, promised } => out.extend([ballot.round, promised.round]),
            SynodMsg::Chosen { .. } => {}
        }
    }

    fn lower_rounds(&mut self, by: u64) {
        match self {
            SynodMsg::Prepare { ballot }
            | SynodMsg::Accept { ballot, .. }
            | SynodMsg::Accepted { ballot } => ballot.round -= by,
            SynodMsg::Promise { ballot, accepted } => {
                ballot.round -= by;
                if let Some((b, _)) = accepted {
                    b.round -= by;
                }
            }
            SynodMsg::Nack { ballot, promised } => {
                ballot.round -= by;
                promised.round -= by;
            }
            SynodMsg::Chosen { .. } => {}
        }
    }
}

/// A set of nodes (ids below 64) as a bitmask: cheap to copy and hash, which a schedule
/// explorer holding millions of states appreciates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeSet(u64);

impl NodeSet {
    pub fn insert(&mut self, n: NodeId) {
        self.0 |= 1 << n.0;
    }

    pub fn contains(&self, n: NodeId) -> bool {
        self.0 & (1 << n.0) != 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// The proposer's progress with its current ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProposerState<V> {
    /// Not proposing: never asked, preempted, or done.
    Idle,
    /// Phase 1 at `ballot`: the acceptors that promised, and the highest-ballot proposal
    /// they reported.
    Preparing {
        ballot: Epoch,
        promises: NodeSet,
        highest: Option<(Epoch, V)>,
    },
    /// Phase 2 at `ballot` with `value`: the acceptors that accepted.
    Accepting {
        ballot: Epoch,
        value: V,
        accepted: NodeSet,
    },
}

/// One synod participant: proposer, acceptor and learner. `RANDOMIZED_BACKOFF` says how a
/// preempted proposer waits before it retries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SynodNode<V, const RANDOMIZED_BACKOFF: bool> {
    me: NodeId,
    nodes: usize,
    acceptor: AcceptorState<V>,
    proposer: ProposerState<V>,
    /// The value this node's proposer was asked to propose.
    input: Option<V>,
    /// The highest round seen in any ballot.
    max_round_seen: u64,
    /// What this learner knows to be chosen.
    chosen: Option<V>,
}

impl<V: Clone + Eq + Ord + Hash + Debug, const B: bool> SynodNode<V, B> {
    /// What must be durable before this node's messages are sent.
    pub fn acceptor_state(&self) -> &AcceptorState<V> {
        &self.acceptor
    }

    /// The proposer's progress.
    pub fn proposer_state(&self) -> &ProposerState<V> {
        &self.proposer
    }

    /// Phase 1(a) with a ballot higher than any this node has seen, to every acceptor.
    /// Reference: Paxos Made Simple §2.2, §2.5.
    fn start_ballot(&mut self, out: &mut Outbox<SynodMsg<V>>) {
        let round = self.acceptor.promised.round.max(self.max_round_seen) + 1;
        let ballot = Epoch::ballot(round, self.me);
        self.proposer = ProposerState::Preparing {
            ballot,
            promises: NodeSet::default(),
            highest: None,
        };
        self.broadcast_including_self(SynodMsg::Prepare { ballot }, out);
    }

    /// Sends `msg` to every node, this one first, handling its own copy at once (its own
    /// acceptor answers before anything leaves) and everything that answer sets off.
    fn broadcast_including_self(&mut self, msg: SynodMsg<V>, out: &mut Outbox<SynodMsg<V>>) {
        out.broadcast(self.me, self.nodes, msg.clone());
        self.handle(self.me, msg, out);
    }

    /// Sends `msg` to `to`, handling it here if `to` is this node.
    fn send(&mut self, to: NodeId, msg: SynodMsg<V>, out: &mut Outbox<SynodMsg<V>>) {
        if to == self.me {
            self.handle(to, msg, out);
        } else {
            out.send(to, msg);
        }
    }

    fn handle(&mut self, from: NodeId, msg: SynodMsg<V>, out: &mut Outbox<SynodMsg<V>>) {
        let majority = quorum::majority(self.nodes);
        match msg {
            // Phase 1(b), the acceptor.
            SynodMsg::Prepare { ballot } => {
                self.max_round_seen = self.max_round_seen.max(ballot.round);
                if ballot >= self.acceptor.promised {
                    self.acceptor.promised = ballot;
                    let accepted = self.acceptor.accepted.clone();
                    self.send(from, SynodMsg::Promise { ballot, accepted }, out);
                } else {
                    self.nack(from, ballot, out);
                }
            }
            // Phase 2(a), the proposer: with a majority of promises, propose the value of the
            // highest-ballot proposal reported, or its own if none was.
            SynodMsg::Promise { ballot, accepted } => {
                let ProposerState::Preparing {
                    ballot: own,
                    promises,
                    highest,
                } = &mut self.proposer
                else {
                    return;
                };
                if *own != ballot {
                    return;
                }
                promises.insert(from);
                if let Some((b, v)) = accepted
                    && highest.as_ref().is_none_or(|(hb, _)| b > *hb)
                {
                    *highest = Some((b, v));
                }
                if promises.len() < majority {
                    return;
                }
                let value = match highest.take() {
                    Some((_, v)) => v,
                    None => self.input.clone().expect("a proposer has a value to propose"),
                };
                self.proposer = ProposerState::Accepting {
                    ballot,
                    value: value.clone(),
                    accepted: NodeSet::default(),
                };
                self.broadcast_including_self(SynodMsg::Accept { ballot, value }, out);
            }
            // Phase 2(b), the acceptor.
            SynodMsg::Accept { ballot, value } => {
                self.max_round_seen = self.max_round_seen.max(ballot.round);
                if ballot >= self.acceptor.promised {
                    self.acceptor.promised = ballot;
                    self.acceptor.accepted = Some((ballot, value));
                    self.send(from, SynodMsg::Accepted { ballot }, out);
                } else {
                    self.nack(from, ballot, out);
                }
            }
            // The proposer as distinguished learner: a majority accepted one ballot.
            SynodMsg::Accepted { ballot } => {
                let ProposerState::Accepting {
                    ballot: own,
                    value,
                    accepted,
                } = &mut self.proposer
                else {
                    return;
                };
                if *own != ballot {
                    return;
                }
                accepted.insert(from);
                if accepted.len() < majority {
                    return;
                }
                let value = value.clone();
                self.proposer = ProposerState::Idle;
                self.learn(value.clone());
                out.broadcast(self.me, self.nodes, SynodMsg::Chosen { value });
            }
            SynodMsg::Nack { ballot, promised } => {
                self.max_round_seen = self.max_round_seen.max(promised.round);
                if self.current_ballot() == Some(ballot) {
                    self.proposer = ProposerState::Idle;
                }
            }
            // Every node is a distinguished learner: the first to hear passes it on, so the
            // news survives the loss of the proposer's own broadcast (§2.3).
            SynodMsg::Chosen { value } => {
                let news = self.chosen.is_none();
                self.learn(value.clone());
                self.proposer = ProposerState::Idle;
                if news {
                    for to in (0..self.nodes as u32)
                        .map(NodeId)
                        .filter(|&to| to != self.me && to != from)
                    {
                        out.send(to, SynodMsg::Chosen { value: value.clone() });
                    }
                }
            }
        }
    }

    fn current_ballot(&self) -> Option<Epoch> {
        match &self.proposer {
            ProposerState::Preparing { ballot, .. } | ProposerState::Accepting { ballot, .. } => {
                Some(*ballot)
            }
            ProposerState::Idle => None,
        }
    }

    fn nack(&mut self, to: NodeId, ballot: Epoch, out: &mut Outbox<SynodMsg<V>>) {
        let promised = self.acceptor.promised;
        self.send(to, SynodMsg::Nack { ballot, promised }, out);
    }

    /// Invariant: a chosen value never changes.
    fn learn(&mut self, value: V) {
        if let Some(known) = &self.chosen {
            assert!(
                *known == value,
                "agreement violated: {} learned {known:?} and then {value:?}",
                self.me
            );
        }
        self.chosen = Some(value);
    }
}

impl<V, const B: bool> Rounds for SynodNode<V, B> {
    fn rounds(&self, out: &mut Vec<u64>) {
        out.push(self.acceptor.promised.round);
        out.extend(self.acceptor.accepted.iter().map(|(b, _)| b.round));
        out.push(self.max_round_seen);
        match &self.proposer {
            ProposerState::Idle => {}
            ProposerState::Preparing { ballot, highest, .. } => {
                out.push(ballot.round);
                out.extend(highest.iter().map(|(b, _)| b.round));
            }
            ProposerState::Accepting { ballot, .. } => out.push(ballot.round),
        }
    }

    fn lower_rounds(&mut self, by: u64) {
        self.acceptor.promised.round -= by;
        if let Some((b, _)) = &mut self.acceptor.accepted {
            b.round -= by;
        }
        self.max_round_seen -= by;
        match &mut self.proposer {
            ProposerState::Idle => {}
            ProposerState::Preparing { ballot, highest, .. } => {
                ballot.round -= by;
                if let Some((b, _)) = highest {
                    b.round -= by;
                }
            }
            ProposerState::Accepting { ballot, .. } => ballot.round -= by,
        }
    }
}

impl<V: Clone + Eq + Ord + Hash + Debug, const B: bool> WriteOnce for SynodNode<V, B> {
    type Value = V;
    type Message = SynodMsg<V>;
    const NAME: &'static str = if B { "synod" } else { "synod-no-backoff" };

    fn boot(me: NodeId, nodes: usize) -> Self {
        assert!(me.index() < nodes, "{me} is not one of the {nodes} nodes");
        assert!(nodes <= 64, "a NodeSet holds at most 64 nodes");
        SynodNode {
            me,
            nodes,
            acceptor: AcceptorState {
                promised: Epoch::default(),
                accepted: None,
            },
            proposer: ProposerState::Idle,
            input: None,
            max_round_seen: 0,
            chosen: None,
        }
    }

    /// Becomes a proposer of `value` (the first value offered; later offers are ignored).
    fn try_initialize(&mut self, value: V, out: &mut Outbox<Self::Message>) {
        if self.chosen.is_none() && self.input.is_none() {
            self.input = Some(value);
            self.start_ballot(out);
        }
    }

    fn final_value(&self) -> Option<&V> {
        self.chosen.as_ref()
    }

    /// `promised b2.1, accepted b1.0=red; preparing b3.0`.
    fn status(&self) -> String {
        let accepted = match &self.acceptor.accepted {
            Some((b, v)) => format!("accepted {b:?}={v:?}"),
            None => "accepted nothing".to_string(),
        };
        let proposer = match (&self.proposer, &self.chosen, &self.input) {
            (_, Some(v), _) => format!("chosen {v:?}"),
            (ProposerState::Preparing { ballot, .. }, ..) => format!("preparing {ballot:?}"),
            (ProposerState::Accepting { ballot, value, .. }, ..) => format!("accepting {ballot:?}={value:?}"),
            (ProposerState::Idle, None, Some(_)) => "preempted, will retry".to_string(),
            (ProposerState::Idle, None, None) => "not proposing".to_string(),
        };
        format!("promised {:?}, {accepted}; {proposer}", self.acceptor.promised)
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Message, out: &mut Outbox<Self::Message>) {
        self.handle(from, msg, out);
    }

    /// Answers to ballots this proposer has left behind (ballots never come back), nacks
    /// that teach it no higher round, and news it already has.
    fn ignores(&self, _from: NodeId, msg: &Self::Message) -> bool {
        match msg {
            SynodMsg::Promise { ballot, .. } => {
                !matches!(&self.proposer, ProposerState::Preparing { ballot: own, .. } if own == ballot)
            }
            SynodMsg::Accepted { ballot } => {
                !matches!(&self.proposer, ProposerState::Accepting { ballot: own, .. } if own == ballot)
            }
            SynodMsg::Nack { ballot, promised } => {
                self.current_ballot() != Some(*ballot) && promised.round <= self.max_round_seen
            }
            SynodMsg::Chosen { .. } => self.chosen.is_some(),
            SynodMsg::Prepare { .. } | SynodMsg::Accept { .. } => false,
        }
    }

    /// Retries with a higher ballot.
    fn on_timeout(&mut self, out: &mut Outbox<Self::Message>) {
        debug_assert!(self.timer().is_some());
        self.start_ballot(out);
    }

    /// A proposer that has not learned the outcome always has a timer. While its ballot is
    /// under way the timeout outlasts a round trip: it only fires if answers were lost. Once
    /// the ballot was preempted, it waits before retrying: a fixed timeout, which the network
    /// can always outrun, or a randomized backoff. Reference: Paxos Made Simple §2.4.
    fn timer(&self) -> Option<Timer> {
        if self.chosen.is_some() || self.input.is_none() {
            return None;
        }
        Some(match (&self.proposer, B) {
            (ProposerState::Idle, true) => Timer::RandomizedBackoff,
            (ProposerState::Idle, false) => Timer::Eager,
            _ => Timer::RoundTrip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Color::{self, Blue, Red};
    use crate::testkit::Cluster;
    use paxos::synod as reference;

    #[test]
    fn a_lone_proposer_gets_its_value_chosen_everywhere() {
        let mut cluster = Cluster::<Synod<Color>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Red); 3]);
    }

    #[test]
    fn a_later_proposer_adopts_the_value_already_accepted() {
        // Reference: Paxos Made Simple §2.2 (P2c).
        let mut cluster = Cluster::<Synod<Color>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.deliver_all();
        cluster.propose(NodeId(1), Blue);
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Red); 3]);
    }

    #[test]
    fn a_preempted_proposer_retries_with_a_higher_ballot() {
        // Reference: Paxos Made Simple §2.3.
        let mut cluster = Cluster::<SynodNoBackoff<Color>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.propose(NodeId(1), Blue);
        // n0's prepare reaches n1 after n1 promised its own higher ballot: nacked.
        cluster.deliver_first(|from, to, _| from == NodeId(0) && to == NodeId(1));
        cluster.deliver_first(|from, to, msg| {
            from == NodeId(1) && to == NodeId(0) && matches!(msg, SynodMsg::Nack { .. })
        });
        assert_eq!(cluster.node(NodeId(0)).timer(), Some(Timer::Eager));
        cluster.timeout(NodeId(0));
        let ProposerState::Preparing { ballot, .. } = cluster.node(NodeId(0)).proposer_state() else {
            panic!("n0 should be preparing again");
        };
        assert_eq!(*ballot, Epoch::ballot(2, NodeId(0)));
    }

    /// A tiny deterministic generator (splitmix64) for the differential test.
    struct Mix(u64);

    impl Mix {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % n as u64) as usize
        }
    }

    fn to_reference(msg: &SynodMsg<Color>) -> reference::SynodMsg<Color> {
        match msg.clone() {
            SynodMsg::Prepare { ballot } => reference::SynodMsg::Prepare { ballot },
            SynodMsg::Promise { ballot, accepted } => reference::SynodMsg::Promise { ballot, accepted },
            SynodMsg::Accept { ballot, value } => reference::SynodMsg::Accept { ballot, value },
            SynodMsg::Accepted { ballot } => reference::SynodMsg::Accepted { ballot },
            SynodMsg::Nack { ballot, promised } => reference::SynodMsg::Nack { ballot, promised },
            SynodMsg::Chosen { value } => reference::SynodMsg::Chosen { value },
        }
    }

    /// Drives this crate's synod and `paxos::synod::SynodNode` through the same random
    /// schedules (proposals, deliveries in any order, retries) and checks that every step
    /// sends the same messages and leaves the same acceptor state and chosen value.
    #[test]
    fn behaves_exactly_like_the_paxos_crates_synod() {
        let nodes = 3;
        let members: Vec<NodeId> = (0..nodes as u32).map(NodeId).collect();
        for seed in 0..300 {
            let mut rng = Mix(seed);
            let mut ours: Vec<SynodNoBackoff<Color>> =
                members.iter().map(|&m| WriteOnce::boot(m, nodes)).collect();
            let mut theirs: Vec<_> = members
                .iter()
                .map(|&m| reference::SynodNode::new(m, &members))
                .collect();
            let mut in_flight: Vec<(NodeId, NodeId, SynodMsg<Color>)> = Vec::new();
            for _ in 0..60 {
                let node = rng.below(nodes);
                let mut delivered_chosen = false;
                let (from, ours_out, theirs_out) = match rng.below(5) {
                    0 if ours[node].timer().is_some() || ours[node].input.is_none() => {
                        let value = Color::nth(node);
                        let mut out = Outbox::new();
                        if ours[node].input.is_none() {
                            ours[node].try_initialize(value, &mut out);
                        } else {
                            ours[node].on_timeout(&mut out);
                        }
                        (NodeId(node as u32), out, theirs[node].propose(value))
                    }
                    _ if !in_flight.is_empty() => {
                        let (from, to, msg) = in_flight.swap_remove(rng.below(in_flight.len()));
                        delivered_chosen = matches!(msg, SynodMsg::Chosen { .. });
                        if ours[to.index()].ignores(from, &msg) {
                            let mut probe = ours[to.index()].clone();
                            let mut out = Outbox::new();
                            probe.on_message(from, msg.clone(), &mut out);
                            assert!(
                                probe == ours[to.index()] && out.is_empty(),
                                "seed {seed}: ignored {msg:?}"
                            );
                        }
                        let mut out = Outbox::new();
                        ours[to.index()].on_message(from, msg.clone(), &mut out);
                        let theirs_out = theirs[to.index()].step(from, to_reference(&msg));
                        (to, out, theirs_out)
                    }
                    _ => continue,
                };
                let relay = |m: &SynodMsg<Color>| delivered_chosen && matches!(m, SynodMsg::Chosen { .. });
                let sent: Vec<_> = ours_out
                    .sends()
                    .iter()
                    .filter(|(_, m)| !relay(m))
                    .map(|(to, m)| (*to, to_reference(m)))
                    .collect();
                let expected: Vec<_> = theirs_out.into_iter().map(|o| (o.to, o.msg)).collect();
                assert_eq!(sent, expected, "seed {seed}: messages sent by {from}");
                in_flight.extend(ours_out.sends().iter().map(|(to, m)| (from, *to, m.clone())));
                for (a, b) in ours.iter().zip(&theirs) {
                    assert_eq!(a.final_value(), b.chosen(), "seed {seed}");
                    assert_eq!(a.acceptor.promised, b.acceptor_state().promised, "seed {seed}");
                    assert_eq!(a.acceptor.accepted, b.acceptor_state().accepted, "seed {seed}");
                }
            }
        }
    }
}
