//! A leader with timeout-based failover: the rescue draft 004 tries for the leader-based
//! algorithm ("Appointing Leaders is a Consensus Problem"), and the timeout idea at the end of
//! draft 001's part 2.
//!
//! The leader starts as the bully rule's choice (the highest id) and decides the first value
//! it is asked to store, telling everyone. A node waiting on the leader arms a timer; when it
//! fires, the node takes the leader to have failed and fails over to the next node down the
//! id order, re-sending its value there. A node asked to store a value takes that as its
//! promotion: somebody's failure detector says it leads now.
//!
//! **Holds**: validity, and termination while a majority can talk.
//! **Loses**: agreement. A timeout cannot tell "the leader is dead" from "the leader is fine
//! but I cannot hear it" (draft 001, "Fault-Tolerant Tiebreaking": perfect failure detectors
//! do not exist). Partition the old leader away from the rest and both sides have a leader:
//! the old one decided its value, the new one decides another. That is *split brain*. The
//! timer here gets every advantage ([`Timer::RoundTrip`]: it outlasts any round trip, so it
//! never fires while an answer is on its way), and then a crash alone cannot break agreement,
//! but one partition does. Deciding who leads is itself a consensus problem.

use crate::write_once::{Outbox, Rounds, Timer, WriteOnce};
use replog::NodeId;
use std::fmt::Debug;
use std::hash::Hash;

/// Messages of naive failover.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailoverMsg<V> {
    /// "You lead: store this value" (a `try_initialize` sent to whoever the sender thinks
    /// leads).
    Propose(V),
    /// A leader's decision, to everyone.
    Decided(V),
}

impl<V> Rounds for FailoverMsg<V> {}

/// One node of naive failover.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NaiveFailover<V> {
    me: NodeId,
    nodes: usize,
    /// Who this node believes leads.
    leader: NodeId,
    /// This node's own `try_initialize` value, re-sent on every failover.
    proposal: Option<V>,
    decided: Option<V>,
}

impl<V> Rounds for NaiveFailover<V> {}

impl<V: Clone + Eq + Ord + Hash + Debug> NaiveFailover<V> {
    /// Who this node believes leads.
    pub fn leader(&self) -> NodeId {
        self.leader
    }

    /// The leader's rule: the first value it is asked to store is the value; tell everyone.
    fn lead(&mut self, value: V, out: &mut Outbox<FailoverMsg<V>>) {
        self.leader = self.me;
        if self.decided.is_none() {
            self.decided = Some(value.clone());
            out.broadcast(self.me, self.nodes, FailoverMsg::Decided(value));
        }
    }

    /// Sends this node's value to whoever it believes leads, or stores it if that is itself.
    fn ask_leader(&mut self, out: &mut Outbox<FailoverMsg<V>>) {
        let Some(value) = self.proposal.clone() else {
            return;
        };
        if self.leader == self.me {
            self.lead(value, out);
        } else {
            out.send(self.leader, FailoverMsg::Propose(value));
        }
    }
}

impl<V: Clone + Eq + Ord + Hash + Debug> WriteOnce for NaiveFailover<V> {
    type Value = V;
    type Message = FailoverMsg<V>;
    const NAME: &'static str = "naive-failover";

    fn boot(me: NodeId, nodes: usize) -> Self {
        NaiveFailover {
            me,
            nodes,
            leader: crate::coordinator::bully(nodes),
            proposal: None,
            decided: None,
        }
    }

    fn try_initialize(&mut self, value: V, out: &mut Outbox<Self::Message>) {
        if self.decided.is_none() && self.proposal.is_none() {
            self.proposal = Some(value);
            self.ask_leader(out);
        }
    }

    fn final_value(&self) -> Option<&V> {
        self.decided.as_ref()
    }

    fn status(&self) -> String {
        let leader = if self.leader == self.me {
            "leads".to_string()
        } else {
            format!("follows {}", self.leader)
        };
        match &self.decided {
            Some(v) => format!("{leader}; decided {v:?}"),
            None => format!("{leader}; undecided"),
        }
    }

    /// A decision once decided: the first one stays.
    fn ignores(&self, _from: NodeId, msg: &Self::Message) -> bool {
        matches!(msg, FailoverMsg::Decided(_)) && self.decided.is_some()
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Message, out: &mut Outbox<Self::Message>) {
        match msg {
            FailoverMsg::Propose(value) => match &self.decided {
                // Whoever asks late learns the answer instead.
                Some(decided) => out.send(from, FailoverMsg::Decided(decided.clone())),
                None => self.lead(value, out),
            },
            FailoverMsg::Decided(value) => {
                // A node that already decided keeps its value: were there two leaders, this is
                // where the split brain would have to be noticed, and nothing here can undo it.
                self.decided.get_or_insert(value);
            }
        }
    }

    /// The failure detector's verdict: the leader is gone; fail over to the next node down.
    fn on_timeout(&mut self, out: &mut Outbox<Self::Message>) {
        debug_assert!(self.timer().is_some());
        // The order runs down from the bully's choice and reaches this node before it wraps.
        self.leader = NodeId(self.leader.0 - 1);
        self.ask_leader(out);
    }

    /// Armed while this node waits on another node to store its value. The timeout is the
    /// most generous one there is: it outlasts any round trip, so it never fires while the
    /// leader's answer is on its way.
    fn timer(&self) -> Option<Timer> {
        let waiting = self.decided.is_none() && self.proposal.is_some() && self.leader != self.me;
        waiting.then_some(Timer::RoundTrip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Color::{self, Green, Red};
    use crate::testkit::Cluster;

    #[test]
    fn without_faults_the_bully_leader_decides_for_everyone() {
        let mut cluster = Cluster::<NaiveFailover<Color>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Red); 3]);
    }

    #[test]
    fn a_timeout_fails_over_to_the_next_node_down() {
        let mut cluster = Cluster::<NaiveFailover<Color>>::new(3);
        cluster.propose(NodeId(0), Red);
        cluster.crash(NodeId(2));
        cluster.timeout(NodeId(0));
        cluster.deliver_all();
        assert_eq!(cluster.final_values()[..2], [Some(Red), Some(Red)]);
    }

    #[test]
    fn a_partition_from_the_leader_splits_the_brain() {
        let mut cluster = Cluster::<NaiveFailover<Color>>::new(3);
        cluster.propose(NodeId(2), Green);
        cluster.isolate(NodeId(2));
        cluster.propose(NodeId(0), Red);
        cluster.timeout(NodeId(0));
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Red), Some(Red), Some(Green)]);
    }
}
