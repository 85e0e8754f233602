//! The synod algorithm (single-decree Paxos) as a write-once variable: where the drafts' walk
//! ends, and the workbench's one implementation of it.
//!
//! Multi-Paxos (the `paxos` crate) runs these rules once per log slot in its own code, with a
//! stable leader; this module is the single-decree algorithm alone, small enough to search
//! exhaustively. The explorer ([`crate::explore`]) searches its schedules for agreement,
//! validity and termination; `tests/synod.rs` enumerates every schedule of two proposers, a
//! crash-and-restart and a lost message, and catches broken variants of the rules.
//!
//! Messages are sent through this crate's [`Outbox`], and ballot rounds can be shifted
//! ([`Rounds`]) so that the explorer sees a duel that returns to the same situation with
//! higher ballots as a loop. Messages a node addresses to itself are handled inside the call
//! (a proposer's own acceptor answers at once), so its own promise is in
//! [`SynodNode::acceptor_state`] before any prepare leaves. The caller must make
//! `acceptor_state()` durable before sending what the call put in the outbox; everything else
//! in the node is volatile, and [`SynodNode::restore`] restarts a node from the acceptor state
//! alone.
//!
//! Every node is proposer, acceptor and learner. `try_initialize(v)` makes the node a proposer
//! of `v`; whatever value is chosen, every node learns it from a `Chosen` broadcast.
//!
//! | rule | where | source |
//! | --- | --- | --- |
//! | ballots are (round, node): unique, totally ordered | `start_ballot` | Paxos Made Simple §2.5 |
//! | phase 1(b): promise only at or above the current promise; report the last accepted | `Prepare` in `handle` | §2.2 |
//! | phase 2(a): propose the value of the highest ballot reported, else one's own | `Promise` in `handle` | §2.2 |
//! | phase 2(b): accept unless a higher ballot was promised | `Accept` in `handle` | §2.2 |
//! | chosen once a majority accepted one ballot; learners are told | `Accepted`, `Chosen` in `handle` | §2.2, §2.3 |
//! | every node is a distinguished learner and passes the news on once | `Chosen` in `handle` | §2.3 |
//! | a proposer told of a higher ballot abandons its own | `Nack` in `handle` | §2.3 |
//! | an acceptor remembers its promise and accepted proposal across a restart | [`SynodNode::restore`] | §2.2, §2.5 |
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
    /// Node `me` of `nodes` restarting from its durable acceptor state: proposer and learner
    /// start over (the value it was asked to propose and what it learned are gone).
    /// Reference: Paxos Made Simple §2.2 ("an acceptor must remember this information even if
    /// it fails and then restarts"), §2.5.
    pub fn restore(me: NodeId, nodes: usize, acceptor: AcceptorState<V>) -> Self {
        assert!(me.index() < nodes, "{me} is not one of the {nodes} nodes");
        assert!(nodes <= 64, "a NodeSet holds at most 64 nodes");
        SynodNode {
            me,
            nodes,
            max_round_seen: acceptor.promised.round,
            acceptor,
            proposer: ProposerState::Idle,
            input: None,
            chosen: None,
        }
    }

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
        Self::restore(
            me,
            nodes,
            AcceptorState {
                promised: Epoch::default(),
                accepted: None,
            },
        )
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

    #[test]
    fn a_restarted_node_keeps_its_acceptor_state_and_forgets_the_rest() {
        // Reference: Paxos Made Simple §2.2, §2.5.
        let mut cluster = Cluster::<Synod<Color>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.deliver_all();
        let before = cluster.node(NodeId(2)).acceptor_state().clone();
        let mut restarted = Synod::restore(NodeId(2), 3, before.clone());
        assert_eq!(restarted.acceptor_state(), &before);
        assert_eq!(restarted.final_value(), None);
        assert_eq!(restarted.timer(), None, "it proposes nothing until asked again");
        restarted.try_initialize(Blue, &mut Outbox::new());
        let ProposerState::Preparing { ballot, .. } = restarted.proposer_state() else {
            panic!("n2 should be preparing");
        };
        assert!(
            *ballot > before.promised,
            "a new ballot is above the promise it kept"
        );
    }

    #[test]
    fn a_restarted_proposer_adopts_the_value_already_chosen() {
        // Reference: Paxos Made Simple §2.2 (P2c).
        let mut cluster = Cluster::<Synod<Color>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.deliver_all();
        let durable = cluster.node(NodeId(2)).acceptor_state().clone();
        cluster.restart(NodeId(2), Synod::restore(NodeId(2), 3, durable));
        cluster.propose(NodeId(2), Blue);
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Red); 3]);
    }
}
