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
/// fired" is an input like any other, and [`WriteOnce::timer_armed`] says whether the node is
/// waiting for one. Messages a node sends to itself are handled inside the node, never put in
/// the outbox.
pub trait WriteOnce: Clone + Eq + Hash + Debug + Rounds {
    /// The variable's type (the drafts' `T`). `Ord` so that tiebreaks can use the bully rule.
    type Value: Clone + Eq + Ord + Hash + Debug;
    /// What nodes say to each other.
    type Message: Clone + Eq + Hash + Debug + Rounds;

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

    /// The node's timer fires. Only called while [`WriteOnce::timer_armed`] is true.
    fn on_timeout(&mut self, out: &mut Outbox<Self::Message>) {
        let _ = out;
    }

    /// Whether the node is waiting for a timeout (a failure detector's suspicion, a retry).
    fn timer_armed(&self) -> bool {
        false
    }
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
/// round 5. But if it only ever compares rounds and raises them by at most
/// [`Rounds::ROUND_STEP`] above a round it holds, then renumbering every round of a whole
/// cluster while keeping their order (and every gap up to `ROUND_STEP`) changes nothing it
/// will ever do. The explorer renumbers that way so that a duel of proposers that returns to
/// the same situation with higher ballots is recognised as a loop. Algorithms without rounds
/// keep the default: no rounds.
pub trait Rounds {
    /// The most one step raises a round above the highest round the node holds.
    const ROUND_STEP: u64 = 1;

    /// Appends every round number held (0 may stand for "none"; it is never renumbered).
    fn rounds(&self, out: &mut Vec<u64>) {
        let _ = out;
    }

    /// Replaces every round number `r` held by `rename(r)`.
    fn map_rounds(&mut self, rename: &dyn Fn(u64) -> u64) {
        let _ = rename;
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
