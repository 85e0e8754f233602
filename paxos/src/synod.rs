//! The synod algorithm: single-decree Paxos, the drafts' write-once variable.
//!
//! Each [`SynodNode`] is a proposer, an acceptor and a learner at once, like the drafts'
//! symmetric peers. It is sans-IO: [`propose`](SynodNode::propose) and
//! [`step`](SynodNode::step) return the messages to send as [`Out`]s. Messages a node
//! addresses to itself are handled inside the call (a proposer's own acceptor answers at
//! once), so its own promise is in [`acceptor_state`](SynodNode::acceptor_state) before any
//! prepare leaves. The caller must treat `acceptor_state()` as durable before sending the
//! outputs; everything else in the node is volatile and [`restore`](SynodNode::restore)
//! starts from the acceptor state alone.
//!
//! All state is explicit, cloneable, comparable and hashable, so a schedule explorer can
//! hold, compare and deduplicate whole clusters.
//!
//! | rule | where | source |
//! | --- | --- | --- |
//! | ballots are (round, node): unique, totally ordered | [`SynodNode::propose`] | Paxos Made Simple §2.5 |
//! | phase 1(b): promise only at or above the current promise; report the last accepted | [`SynodNode::step`] (`Prepare`) | Paxos Made Simple §2.2 |
//! | phase 2(a): propose the value of the highest ballot reported, else one's own | [`SynodNode::step`] (`Promise`) | Paxos Made Simple §2.2 |
//! | phase 2(b): accept unless a higher ballot was promised | [`SynodNode::step`] (`Accept`) | Paxos Made Simple §2.2 |
//! | chosen once a majority accepted one ballot; learners are told | [`SynodNode::step`] (`Accepted`, `Chosen`) | Paxos Made Simple §2.2, §2.3 |
//! | a proposer told of a higher ballot abandons its own | [`SynodNode::step`] (`Nack`) | Paxos Made Simple §2.2 (the optimisation at its end) |

use replog::{Epoch, NodeId, quorum};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};
use std::fmt::Debug;

/// What an acceptor must remember across a crash. Reference: Paxos Made Simple §2.2, §2.5.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AcceptorState<V> {
    /// The highest ballot promised (or accepted at). Never decreases.
    pub promised: Epoch,
    /// The highest-ballot proposal accepted, if any.
    pub accepted: Option<(Epoch, V)>,
}

/// A synod message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Out<V> {
    pub to: NodeId,
    pub msg: SynodMsg<V>,
}

/// The proposer's progress with its current ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProposerState<V> {
    /// Not proposing (never started, preempted, or done).
    Idle,
    /// Phase 1 at `ballot`: the acceptors that promised, and the highest-ballot proposal
    /// they reported.
    Preparing {
        ballot: Epoch,
        promises: BTreeSet<NodeId>,
        highest: Option<(Epoch, V)>,
    },
    /// Phase 2 at `ballot` with `value`: the acceptors that accepted.
    Accepting {
        ballot: Epoch,
        value: V,
        accepted: BTreeSet<NodeId>,
    },
}

/// One synod participant: proposer, acceptor and learner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SynodNode<V> {
    id: NodeId,
    /// The acceptors (this node among them), in order.
    members: Vec<NodeId>,
    acceptor: AcceptorState<V>,
    proposer: ProposerState<V>,
    /// The value this node's proposer was asked to propose.
    input: Option<V>,
    /// The highest round seen in any ballot.
    max_round_seen: u64,
    /// What this learner knows to be chosen.
    chosen: Option<V>,
}

impl<V: Clone + Eq + Debug> SynodNode<V> {
    /// A node with a fresh acceptor.
    pub fn new(id: NodeId, members: &[NodeId]) -> Self {
        Self::restore(
            id,
            members,
            AcceptorState {
                promised: Epoch::default(),
                accepted: None,
            },
        )
    }

    /// A node restarting from its durable acceptor state; proposer and learner start over.
    pub fn restore(id: NodeId, members: &[NodeId], acceptor: AcceptorState<V>) -> Self {
        assert!(members.contains(&id), "{id} must be one of the acceptors");
        let mut members = members.to_vec();
        members.sort();
        members.dedup();
        SynodNode {
            id,
            members,
            max_round_seen: acceptor.promised.round,
            acceptor,
            proposer: ProposerState::Idle,
            input: None,
            chosen: None,
        }
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The chosen value, once this learner knows it.
    pub fn chosen(&self) -> Option<&V> {
        self.chosen.as_ref()
    }

    /// What must be durable before this node's outputs are sent.
    pub fn acceptor_state(&self) -> &AcceptorState<V> {
        &self.acceptor
    }

    /// The proposer's progress.
    pub fn proposer_state(&self) -> &ProposerState<V> {
        &self.proposer
    }

    /// Starts (or restarts) proposing `value` with a ballot higher than any this node has
    /// seen: phase 1(a) to every acceptor. Phase 2 will carry `value` only if no promise
    /// reports an accepted proposal. Does nothing once the chosen value is known.
    /// Reference: Paxos Made Simple §2.2.
    pub fn propose(&mut self, value: V) -> Vec<Out<V>> {
        if self.chosen.is_some() {
            return Vec::new();
        }
        self.input = Some(value);
        let round = self.acceptor.promised.round.max(self.max_round_seen) + 1;
        let ballot = Epoch::ballot(round, self.id);
        self.proposer = ProposerState::Preparing {
            ballot,
            promises: BTreeSet::new(),
            highest: None,
        };
        let prepares = self.broadcast(SynodMsg::Prepare { ballot }, true);
        self.run(prepares)
    }

    /// Handles a message from `from` and returns what to send.
    pub fn step(&mut self, from: NodeId, msg: SynodMsg<V>) -> Vec<Out<V>> {
        let first = self.handle(from, msg);
        self.run(first)
    }

    /// Delivers messages addressed to this node at once; returns the rest.
    fn run(&mut self, outs: Vec<Out<V>>) -> Vec<Out<V>> {
        let mut queue: VecDeque<Out<V>> = outs.into();
        let mut external = Vec::new();
        while let Some(out) = queue.pop_front() {
            if out.to == self.id {
                let more = self.handle(self.id, out.msg);
                queue.extend(more);
            } else {
                external.push(out);
            }
        }
        external
    }

    fn broadcast(&self, msg: SynodMsg<V>, including_self: bool) -> Vec<Out<V>> {
        self.members
            .iter()
            .filter(|&&m| including_self || m != self.id)
            .map(|&to| Out { to, msg: msg.clone() })
            .collect()
    }

    fn handle(&mut self, from: NodeId, msg: SynodMsg<V>) -> Vec<Out<V>> {
        let majority = quorum::majority(self.members.len());
        match msg {
            // Phase 1(b), the acceptor.
            SynodMsg::Prepare { ballot } => {
                self.max_round_seen = self.max_round_seen.max(ballot.round);
                if ballot >= self.acceptor.promised {
                    self.acceptor.promised = ballot;
                    vec![Out {
                        to: from,
                        msg: SynodMsg::Promise {
                            ballot,
                            accepted: self.acceptor.accepted.clone(),
                        },
                    }]
                } else {
                    vec![self.nack(from, ballot)]
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
                    return Vec::new();
                };
                if *own != ballot {
                    return Vec::new();
                }
                promises.insert(from);
                if let Some((b, v)) = accepted
                    && highest.as_ref().is_none_or(|(hb, _)| b > *hb)
                {
                    *highest = Some((b, v));
                }
                if promises.len() < majority {
                    return Vec::new();
                }
                let value = match highest.take() {
                    Some((_, v)) => v,
                    None => self.input.clone().expect("a proposer has a value to propose"),
                };
                self.proposer = ProposerState::Accepting {
                    ballot,
                    value: value.clone(),
                    accepted: BTreeSet::new(),
                };
                self.broadcast(SynodMsg::Accept { ballot, value }, true)
            }
            // Phase 2(b), the acceptor.
            SynodMsg::Accept { ballot, value } => {
                self.max_round_seen = self.max_round_seen.max(ballot.round);
                if ballot >= self.acceptor.promised {
                    self.acceptor.promised = ballot;
                    self.acceptor.accepted = Some((ballot, value));
                    vec![Out {
                        to: from,
                        msg: SynodMsg::Accepted { ballot },
                    }]
                } else {
                    vec![self.nack(from, ballot)]
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
                    return Vec::new();
                };
                if *own != ballot {
                    return Vec::new();
                }
                accepted.insert(from);
                if accepted.len() < majority {
                    return Vec::new();
                }
                let value = value.clone();
                self.proposer = ProposerState::Idle;
                self.learn(value.clone());
                self.broadcast(SynodMsg::Chosen { value }, false)
            }
            SynodMsg::Nack { ballot, promised } => {
                self.max_round_seen = self.max_round_seen.max(promised.round);
                let own = match &self.proposer {
                    ProposerState::Preparing { ballot, .. } | ProposerState::Accepting { ballot, .. } => {
                        Some(*ballot)
                    }
                    ProposerState::Idle => None,
                };
                if own == Some(ballot) {
                    self.proposer = ProposerState::Idle;
                }
                Vec::new()
            }
            SynodMsg::Chosen { value } => {
                self.learn(value);
                self.proposer = ProposerState::Idle;
                Vec::new()
            }
        }
    }

    fn nack(&self, to: NodeId, ballot: Epoch) -> Out<V> {
        Out {
            to,
            msg: SynodMsg::Nack {
                ballot,
                promised: self.acceptor.promised,
            },
        }
    }

    /// Invariant: a chosen value never changes.
    fn learn(&mut self, value: V) {
        if let Some(known) = &self.chosen {
            assert!(
                *known == value,
                "agreement violated: {:?} learned {known:?} and then {value:?}",
                self.id
            );
        }
        self.chosen = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u32) -> Vec<NodeId> {
        (0..n).map(NodeId).collect()
    }

    /// Delivers every message, FIFO, until none remain.
    fn deliver_all(nodes: &mut [SynodNode<char>], mut queue: VecDeque<(NodeId, Out<char>)>) {
        while let Some((from, out)) = queue.pop_front() {
            let to = out.to;
            for o in nodes[to.index()].step(from, out.msg) {
                queue.push_back((to, o));
            }
        }
    }

    #[test]
    fn a_lone_proposer_gets_its_value_chosen_everywhere() {
        let members = ids(3);
        let mut nodes: Vec<_> = members.iter().map(|&id| SynodNode::new(id, &members)).collect();
        let outs = nodes[0].propose('a');
        deliver_all(&mut nodes, outs.into_iter().map(|o| (NodeId(0), o)).collect());
        assert!(nodes.iter().all(|n| n.chosen() == Some(&'a')));
    }

    #[test]
    fn a_later_proposer_adopts_the_chosen_value() {
        // Reference: Paxos Made Simple §2.2 (P2c).
        let members = ids(3);
        let mut nodes: Vec<_> = members.iter().map(|&id| SynodNode::new(id, &members)).collect();
        let outs = nodes[0].propose('a');
        deliver_all(&mut nodes, outs.into_iter().map(|o| (NodeId(0), o)).collect());
        let mut fresh = SynodNode::restore(NodeId(2), &members, nodes[2].acceptor_state().clone());
        let outs = fresh.propose('b');
        nodes[2] = fresh;
        deliver_all(&mut nodes, outs.into_iter().map(|o| (NodeId(2), o)).collect());
        assert_eq!(nodes[2].chosen(), Some(&'a'));
    }
}
