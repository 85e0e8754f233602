//! A small in-memory cluster for unit tests: a FIFO network the test steps by hand.
//!
//! Tests use it to play one chosen schedule (the explorer searches all of them):
//!
//! ```
//! use writeonce::{testkit::Cluster, Color, MajorityVote, NodeId};
//!
//! let mut cluster = Cluster::<MajorityVote<Color>>::new(3);
//! cluster.propose(NodeId(0), Color::Red);
//! cluster.deliver_all();
//! assert_eq!(cluster.final_values(), vec![Some(Color::Red); 3]);
//! ```

use crate::write_once::{Outbox, WriteOnce};
use replog::NodeId;
use std::collections::VecDeque;

/// `nodes` replicas of `A` joined by a FIFO network.
#[derive(Clone, Debug)]
pub struct Cluster<A: WriteOnce> {
    nodes: Vec<A>,
    crashed: Vec<bool>,
    /// Nodes cut off from everyone else (an isolating partition).
    isolated: Vec<bool>,
    queue: VecDeque<(NodeId, NodeId, A::Message)>,
}

impl<A: WriteOnce> Cluster<A> {
    /// Boots nodes `0..nodes`.
    pub fn new(nodes: usize) -> Self {
        Cluster {
            nodes: (0..nodes as u32).map(|i| A::boot(NodeId(i), nodes)).collect(),
            crashed: vec![false; nodes],
            isolated: vec![false; nodes],
            queue: VecDeque::new(),
        }
    }

    /// Calls `try_initialize(value)` on `node`.
    pub fn propose(&mut self, node: NodeId, value: A::Value) {
        let mut out = Outbox::new();
        self.nodes[node.index()].try_initialize(value, &mut out);
        self.enqueue(node, out);
    }

    /// Delivers the oldest message in flight; false if there was none.
    pub fn deliver_one(&mut self) -> bool {
        self.deliver_first(|_, _, _| true)
    }

    /// Delivers the oldest message matching `pick(from, to, msg)`; false if none matches.
    pub fn deliver_first(&mut self, mut pick: impl FnMut(NodeId, NodeId, &A::Message) -> bool) -> bool {
        let Some(at) = self
            .queue
            .iter()
            .position(|(from, to, msg)| pick(*from, *to, msg))
        else {
            return false;
        };
        let (from, to, msg) = self.queue.remove(at).expect("position is in range");
        let mut out = Outbox::new();
        self.nodes[to.index()].on_message(from, msg, &mut out);
        self.enqueue(to, out);
        true
    }

    /// Delivers messages until none is in flight.
    pub fn deliver_all(&mut self) {
        while self.deliver_one() {}
    }

    /// Fires `node`'s timer; panics if it is not armed, as the explorer never fires one then.
    pub fn timeout(&mut self, node: NodeId) {
        assert!(
            self.nodes[node.index()].timer().is_some(),
            "{node}'s timer is not armed"
        );
        let mut out = Outbox::new();
        self.nodes[node.index()].on_timeout(&mut out);
        self.enqueue(node, out);
    }

    /// Crash-stops `node`: messages to it are lost from now on; those it sent still arrive.
    pub fn crash(&mut self, node: NodeId) {
        self.crashed[node.index()] = true;
        self.queue.retain(|(_, to, _)| *to != node);
    }

    /// Restarts `node` as `state`, which the algorithm rebuilt from what it keeps durable (a
    /// crash and recovery rather than a crash-stop); messages in flight to it still arrive.
    pub fn restart(&mut self, node: NodeId, state: A) {
        self.nodes[node.index()] = state;
    }

    /// Cuts `node` off from every other node: messages between them, in flight or later, are
    /// lost.
    pub fn isolate(&mut self, node: NodeId) {
        self.isolated[node.index()] = true;
        let isolated = &self.isolated;
        self.queue
            .retain(|(from, to, _)| isolated[from.index()] == isolated[to.index()]);
    }

    /// Every node's `final_value()`.
    pub fn final_values(&self) -> Vec<Option<A::Value>> {
        self.nodes.iter().map(|n| n.final_value().cloned()).collect()
    }

    /// One node's state.
    pub fn node(&self, node: NodeId) -> &A {
        &self.nodes[node.index()]
    }

    /// Messages in flight, oldest first.
    pub fn in_flight(&self) -> impl Iterator<Item = &(NodeId, NodeId, A::Message)> {
        self.queue.iter()
    }

    fn enqueue(&mut self, from: NodeId, mut out: Outbox<A::Message>) {
        if self.crashed[from.index()] {
            return;
        }
        for (to, msg) in out.drain() {
            let cut = self.isolated[from.index()] != self.isolated[to.index()];
            if !cut && !self.crashed[to.index()] {
                self.queue.push_back((from, to, msg));
            }
        }
    }
}
