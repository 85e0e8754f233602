//! The interface every algorithm here implements: draft 001's `WriteOnce<T>` as a sans-IO
//! state machine.
//!
//! The drafts write `tryInitialize(value)` and `Future<T> finalValue()` over blocking remote
//! calls. Here a node never blocks and never does I/O: the caller (a test, the explorer)
//! hands it an input (`try_initialize`, a message, a timeout) and collects the messages it
//! wants sent from an [`Outbox`]. `final_value` is the future, polled: `None` until this node
//! has learned the chosen value.
//!
//! The four properties a consensus algorithm owes its callers (draft 001, "Properties of a
//! Consensus Algorithm"):
//! - **agreement**: no two nodes' `final_value` ever differ, and no node's ever changes;
//! - **validity**: `final_value` only returns a value some node passed to `try_initialize`;
//! - **termination**: once `try_initialize` has been called, every node that keeps running
//!   eventually has a `final_value`;
//! - **fault tolerance**: the three above survive crashed nodes and a misbehaving network.

use replog::NodeId;
use std::fmt::Debug;
use std::hash::Hash;

/// One node's replica of a write-once variable.
///
/// Nodes are numbered `0..nodes`. An implementation is deterministic: the same inputs in the
/// same order give the same state and the same messages out. It reads no clock: "a timeout
/// fired" is an input like any other, and [`WriteOnce::timer`] says whether the node is
/// waiting for one and what kind it is. Messages a node sends to itself are handled inside the
/// node, never put in the outbox.
pub trait WriteOnce: Clone + Eq + Hash + Debug + Rounds {
    /// The variable's type (the drafts' `T`). `Ord` so that tiebreaks can use the bully rule.
    type Value: Clone + Eq + Ord + Hash + Debug;
    /// What nodes say to each other. `Ord` so that a set of messages in flight has one
    /// canonical order.
    type Message: Clone + Eq + Ord + Hash + Debug + Rounds;

    /// The algorithm's name on the command line (`majority-vote`).
    const NAME: &'static str;

    /// A fresh node `me` in a cluster of `nodes` nodes.
    fn boot(me: NodeId, nodes: usize) -> Self;

    /// Offers `value`; a no-op for the variable if another value already won (draft 001's
    /// `tryInitialize`).
    fn try_initialize(&mut self, value: Self::Value, out: &mut Outbox<Self::Message>);

    /// The value this node has learned was chosen, if it has learned one yet (draft 001's
    /// `finalValue()` future, polled).
    fn final_value(&self) -> Option<&Self::Value>;

    /// A message from `from` arrives.
    fn on_message(&mut self, from: NodeId, msg: Self::Message, out: &mut Outbox<Self::Message>);

    /// The node's timer fires. Only called while [`WriteOnce::timer`] is `Some`.
    fn on_timeout(&mut self, out: &mut Outbox<Self::Message>) {
        let _ = out;
    }

    /// The timer the node is waiting on, if any (a failure detector's suspicion, a retry).
    fn timer(&self) -> Option<Timer> {
        None
    }

    /// A few words on where this node stands, for timelines: `voted red; red 2, blue 1`.
    fn status(&self) -> String {
        match self.final_value() {
            Some(v) => format!("decided {v:?}"),
            None => "undecided".to_string(),
        }
    }

    /// Whether this node ignores `msg` from `from`, now and whatever happens later: handling
    /// it changes nothing and sends nothing (a promise for a ballot long abandoned, a vote
    /// request after voting). The explorer drops such messages from the network at once,
    /// which shrinks the state space without changing what can happen. The default, false,
    /// is always safe.
    fn ignores(&self, from: NodeId, msg: &Self::Message) -> bool {
        let _ = (from, msg);
        false
    }
}

/// What a node's timeout is long enough to outlast, which is all a schedule explorer needs to
/// know about its length.
///
/// The nodes read no clock, so a timeout has no duration here. What matters is how it relates
/// to message delays, and there are three cases worth telling apart (draft 001, "failure
/// detectors"): a timeout the network can always outrun, one that outlasts any round trip (in
/// a network with bounded delays), and a randomized one that is sometimes long enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// May fire at any moment, even with replies on their way: in an asynchronous network no
    /// fixed timeout is long enough.
    Eager,
    /// Fires only once nothing is in flight to or from the node: the timeout outlasts every
    /// round trip, so it fires only if the other side is gone (crashed) or unreachable
    /// (partitioned); and it cannot tell those two apart.
    RoundTrip,
    /// A randomized backoff: its length is drawn at random when it is armed. A short draw may
    /// fire at any moment, like [`Timer::Eager`]; a long one fires only once nothing at all is
    /// in flight, so everything already under way has finished first. Who draws is chance, not
    /// the scheduler.
    RandomizedBackoff,
}
/// The messages a node wants sent, in the order it sent them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbox<M> {
    sends: Vec<(NodeId, M)>,
}

impl<M> Default for Outbox<M> {
    fn default() -> Self {
        Outbox { sends: Vec::new() }
    }
}

impl<M: Clone> Outbox<M> {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `msg` to `to`.
    pub fn send(&mut self, to: NodeId, msg: M) {
        self.sends.push((to, msg));
    }

    /// Sends `msg` to every node of `0..nodes` except `me` (the drafts' loop over
    /// `App.nodeIds()`, with the message to oneself handled locally).
    pub fn broadcast(&mut self, me: NodeId, nodes: usize, msg: M) {
        for to in (0..nodes as u32).map(NodeId).filter(|&to| to != me) {
            self.sends.push((to, msg.clone()));
        }
    }

    /// Takes the messages out, oldest first.
    pub fn drain(&mut self) -> std::vec::Drain<'_, (NodeId, M)> {
        self.sends.drain(..)
    }

    /// The messages waiting, oldest first.
    pub fn sends(&self) -> &[(NodeId, M)] {
        &self.sends
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty()
    }
}

/// Round (ballot, epoch) numbers held in a state or message.
///
/// An algorithm that retries in ever higher rounds never revisits a state: round 7 is not
/// round 5. But if it only ever compares rounds with each other and makes new ones as "one
/// more than the highest held", then subtracting the same constant from every round of a
/// whole cluster (nodes and messages in flight) changes nothing it will ever do. The explorer
/// subtracts the lowest round held, so that a duel of proposers that comes back to the same
/// situation with higher ballots is recognised as a loop. A node that has seen no round yet
/// holds round 0 (its next ballot will be round 1), so nothing shifts while one does.
/// Algorithms without rounds keep the defaults: no rounds.
pub trait Rounds {
    /// Appends every round number held, zeros included.
    fn rounds(&self, out: &mut Vec<u64>) {
        let _ = out;
    }

    /// Replaces every round number `r` held by `r - by` (`by` is at most the lowest held).
    fn lower_rounds(&mut self, by: u64) {
        let _ = by;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_skips_the_sender() {
        let mut out = Outbox::new();
        out.broadcast(NodeId(1), 3, 'x');
        assert_eq!(out.sends(), &[(NodeId(0), 'x'), (NodeId(2), 'x')]);
    }
}
