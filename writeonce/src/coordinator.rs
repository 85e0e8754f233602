//! A fixed coordinator: draft 001's `DistributedWriteOnce` (and draft 004's "leader-based
//! algorithm").
//!
//! Every node runs the bully rule over the same member list ("the biggest guy wins") and so
//! agrees, without a single message, that the highest id coordinates. Everyone sends their
//! `try_initialize` to the coordinator; it keeps the first value it hears (the multithreaded
//! write-once variable behind a lock, moved onto one machine) and tells everyone.
//!
//! **Holds**: agreement (one node decides, everyone copies it) and validity.
//! **Loses**: termination. There is no provision for the coordinator going away: if it
//! crashes before it has told the others, they wait for it forever. One fault is enough, so
//! the algorithm is not fault tolerant. The explorer's counterexample is one step long: the
//! coordinator crashes first.

use crate::write_once::{Outbox, Rounds, WriteOnce};
use replog::NodeId;
use std::fmt::Debug;
use std::hash::Hash;

/// Messages of the fixed-coordinator algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoordinatorMsg<V> {
    /// A node's `try_initialize(value)`, forwarded to the coordinator.
    Initialize(V),
    /// The coordinator's answer to everyone: this is the value.
    Decided(V),
}

impl<V> Rounds for CoordinatorMsg<V> {}

/// One node of the fixed-coordinator algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coordinator<V> {
    me: NodeId,
    nodes: usize,
    coordinator: NodeId,
    decided: Option<V>,
}

impl<V> Rounds for Coordinator<V> {}

/// The bully rule: the highest id among the members (draft 000's `bullyAlgorithm`).
pub fn bully(nodes: usize) -> NodeId {
    assert!(nodes > 0, "a cluster needs members");
    NodeId(nodes as u32 - 1)
}

impl<V: Clone + Eq + Ord + Hash + Debug> Coordinator<V> {
    /// The node every other node asks.
    pub fn coordinator(&self) -> NodeId {
        self.coordinator
    }

    /// The coordinator's rule: the first value wins, and everyone is told at once.
    fn coordinate(&mut self, value: V, out: &mut Outbox<CoordinatorMsg<V>>) {
        debug_assert_eq!(self.me, self.coordinator);
        if self.decided.is_none() {
            self.decided = Some(value.clone());
            out.broadcast(self.me, self.nodes, CoordinatorMsg::Decided(value));
        }
    }
}

impl<V: Clone + Eq + Ord + Hash + Debug> WriteOnce for Coordinator<V> {
    type Value = V;
    type Message = CoordinatorMsg<V>;
    const NAME: &'static str = "coordinator";

    fn boot(me: NodeId, nodes: usize) -> Self {
        Coordinator {
            me,
            nodes,
            coordinator: bully(nodes),
            decided: None,
        }
    }

    fn try_initialize(&mut self, value: V, out: &mut Outbox<Self::Message>) {
        if self.me == self.coordinator {
            self.coordinate(value, out);
        } else if self.decided.is_none() {
            out.send(self.coordinator, CoordinatorMsg::Initialize(value));
        }
    }

    fn final_value(&self) -> Option<&V> {
        self.decided.as_ref()
    }

    fn status(&self) -> String {
        let role = if self.me == self.coordinator {
            "coordinator".to_string()
        } else {
            format!("asks {}", self.coordinator)
        };
        match &self.decided {
            Some(v) => format!("{role}; decided {v:?}"),
            None => format!("{role}; undecided"),
        }
    }

    /// Everything once decided (the first value stays), and requests at a non-coordinator.
    fn ignores(&self, _from: NodeId, msg: &Self::Message) -> bool {
        match msg {
            CoordinatorMsg::Initialize(_) => self.me != self.coordinator || self.decided.is_some(),
            CoordinatorMsg::Decided(_) => self.decided.is_some(),
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Self::Message, out: &mut Outbox<Self::Message>) {
        match msg {
            CoordinatorMsg::Initialize(value) if self.me == self.coordinator => self.coordinate(value, out),
            // Only the coordinator is ever asked; the bully rule gives every node the same answer.
            CoordinatorMsg::Initialize(_) => {}
            CoordinatorMsg::Decided(value) => {
                self.decided.get_or_insert(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Color::{Blue, Red};
    use crate::testkit::Cluster;

    #[test]
    fn the_bully_rule_makes_the_highest_id_coordinator() {
        let node = Coordinator::<u8>::boot(NodeId(0), 5);
        assert_eq!(node.coordinator(), NodeId(4));
    }

    #[test]
    fn the_first_value_to_reach_the_coordinator_wins_everywhere() {
        let mut cluster = Cluster::<Coordinator<_>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.propose(NodeId(1), Blue);
        cluster.deliver_first(|from, _, _| from == NodeId(1));
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Blue); 3]);
    }

    #[test]
    fn nobody_decides_once_the_coordinator_has_crashed() {
        let mut cluster = Cluster::<Coordinator<_>>::new(3);
        cluster.crash(NodeId(2));
        cluster.propose(NodeId(0), Red);
        cluster.deliver_all();
        assert_eq!(cluster.final_values()[..2], [None, None]);
    }
}
