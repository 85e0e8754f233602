//! A whole cluster of write-once nodes and its network, as one value the explorer can copy,
//! compare and hash; and the events that move it.
//!
//! The network is a bag: any message in flight may arrive next, so "delivery order" is the
//! scheduler's choice. Messages are never lost, duplicated or corrupted, except by the faults
//! the scheduler may inject, at most `faults` of them per run:
//! - `crash n`: n stops for good; messages in flight to it are lost, those it already sent
//!   still arrive (crash-stop);
//! - `isolate n`: a partition cuts n off from the rest for good; messages between n and the
//!   rest, in flight or sent later, are lost. n keeps running. (Nodes isolated one after the
//!   other end up on the same side, together.)
//!
//! Timers fire as the node's [`Timer`] kind allows (see there); a randomized backoff's length
//! is drawn by chance, not by the scheduler, when the timer is armed.

use crate::{NodeId, Outbox, Rounds, Timer, WriteOnce};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// What a run starts from: cluster size, who proposes what, how many faults the scheduler may
/// inject.
#[derive(Clone, Debug)]
pub struct Setup<V> {
    pub nodes: usize,
    /// `(node, value)`: `node` calls `try_initialize(value)` at a moment of the scheduler's
    /// choosing (unless it crashed first).
    pub proposals: Vec<(NodeId, V)>,
    /// Crashes plus isolations, at most a minority of the nodes.
    pub faults: usize,
    /// Whether the faults may be partitions too, not only crashes.
    pub partitions: bool,
}

/// The length chance drew for a randomized backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Draw {
    /// Shorter than the messages in flight: may fire at any moment.
    Short,
    /// Long enough for everything under way to finish: fires once nothing is in flight.
    Long,
}

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Envelope<M> {
    pub from: NodeId,
    pub to: NodeId,
    pub msg: M,
}

/// One thing the scheduler can make happen next. `Deliver` indexes the (sorted) messages in
/// flight, which makes events independent of the round shift the explorer applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Move {
    /// The `i`-th proposal of the scenario: its node calls `try_initialize`.
    Propose(u8),
    Deliver(u16),
    Timeout(NodeId),
    Crash(NodeId),
    Isolate(NodeId),
}

impl Move {
    /// Crashes and partitions: the scheduler's limited budget of faults.
    pub fn is_fault(self) -> bool {
        matches!(self, Move::Crash(_) | Move::Isolate(_))
    }
}

/// What one event did besides changing node states: for timelines and diagrams.
#[derive(Clone, Debug)]
pub struct Effects<M> {
    /// The message delivered, if the event was a delivery.
    pub delivered: Option<Envelope<M>>,
    /// Messages put in flight.
    pub sent: Vec<Envelope<M>>,
    /// Messages sent but lost at once to a partition.
    pub cut: Vec<Envelope<M>>,
    /// Messages that were in flight and are lost by this event (crash or partition).
    pub dropped: Vec<Envelope<M>>,
    /// Messages in flight that their receiver now ignores for good (see
    /// [`WriteOnce::ignores`]): taken out of the network, as delivering them changes nothing.
    pub ignored: Vec<Envelope<M>>,
}

/// The whole cluster: every node's state, faults so far, proposals made, messages in flight,
/// and the backoff lengths chance has drawn.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World<A: WriteOnce> {
    pub nodes: Vec<A>,
    /// Bit n: node n crashed.
    pub crashed: u64,
    /// Bit n: node n is cut off from every other node.
    pub isolated: u64,
    /// Bit i: the scenario's i-th proposal has been made.
    pub proposed: u64,
    /// Sorted, so that two worlds with the same bag of messages are equal.
    pub in_flight: Vec<Envelope<A::Message>>,
    /// Per node, the length drawn for its armed randomized backoff.
    pub draws: Vec<Option<Draw>>,
}

/// The Fx hash (rustc's): fast, not keyed, a second opinion next to SipHash.
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

fn bit(n: NodeId) -> u64 {
    1 << n.0
}

impl<A: WriteOnce> World<A> {
    /// Boots every node; nothing proposed, nothing in flight.
    pub fn boot(scenario: &Setup<A::Value>) -> Self {
        assert!(scenario.nodes <= 64, "the explorer handles at most 64 nodes");
        assert!(scenario.proposals.len() <= 64, "at most 64 proposals");
        World {
            nodes: (0..scenario.nodes as u32)
                .map(|i| A::boot(NodeId(i), scenario.nodes))
                .collect(),
            crashed: 0,
            isolated: 0,
            proposed: 0,
            in_flight: Vec::new(),
            draws: vec![None; scenario.nodes],
        }
    }

    pub fn is_crashed(&self, n: NodeId) -> bool {
        self.crashed & bit(n) != 0
    }

    pub fn is_isolated(&self, n: NodeId) -> bool {
        self.isolated & bit(n) != 0
    }

    /// Neither crashed nor cut off: a node the algorithm owes a decision.
    pub fn is_correct(&self, n: NodeId) -> bool {
        (self.crashed | self.isolated) & bit(n) == 0
    }

    pub fn faults_used(&self) -> usize {
        (self.crashed | self.isolated).count_ones() as usize
    }

    fn ids(&self) -> impl Iterator<Item = NodeId> + use<A> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Whether a partition lies between `a` and `b`.
    fn cut(&self, a: NodeId, b: NodeId) -> bool {
        self.is_isolated(a) != self.is_isolated(b)
    }

    /// Whether `n`'s timer may fire now, given its kind and what is in flight.
    pub fn timer_ready(&self, n: NodeId) -> bool {
        if self.is_crashed(n) {
            return false;
        }
        match self.nodes[n.index()].timer() {
            None => false,
            Some(Timer::Eager) => true,
            Some(Timer::RoundTrip) => !self.in_flight.iter().any(|e| e.from == n || e.to == n),
            Some(Timer::RandomizedBackoff) => match self.draws[n.index()] {
                Some(Draw::Short) => true,
                Some(Draw::Long) => self.in_flight.is_empty(),
                None => unreachable!("a backoff's length is drawn when it is armed"),
            },
        }
    }

    /// Every event the scheduler may choose now, in a fixed order (proposals, deliveries in
    /// message order, timeouts, crashes, isolations) so that searches are deterministic and
    /// the first counterexample of a given length is the plainest one.
    pub fn moves(&self, scenario: &Setup<A::Value>) -> Vec<Move> {
        let mut events = Vec::new();
        for (i, (node, _)) in scenario.proposals.iter().enumerate() {
            if self.proposed & (1 << i) == 0 && !self.is_crashed(*node) {
                events.push(Move::Propose(i as u8));
            }
        }
        for (i, envelope) in self.in_flight.iter().enumerate() {
            // Two copies of one message lead to the same place.
            if i == 0 || self.in_flight[i - 1] != *envelope {
                events.push(Move::Deliver(i as u16));
            }
        }
        events.extend(self.ids().filter(|&n| self.timer_ready(n)).map(Move::Timeout));
        if self.faults_used() < scenario.faults {
            events.extend(self.ids().filter(|&n| self.is_correct(n)).map(Move::Crash));
            if scenario.partitions {
                events.extend(self.ids().filter(|&n| self.is_correct(n)).map(Move::Isolate));
            }
        }
        events
    }

    /// Applies one enabled event. Randomized backoffs armed by it are left undrawn: follow
    /// with [`World::draw_choices`] and [`World::set_draws`].
    pub fn apply(&mut self, scenario: &Setup<A::Value>, event: Move) -> Effects<A::Message> {
        let mut effects = Effects {
            delivered: None,
            sent: Vec::new(),
            cut: Vec::new(),
            dropped: Vec::new(),
            ignored: Vec::new(),
        };
        let mut out = Outbox::new();
        let actor = match event {
            Move::Propose(i) => {
                let (node, value) = scenario.proposals[i as usize].clone();
                self.proposed |= 1 << i;
                self.nodes[node.index()].try_initialize(value, &mut out);
                Some(node)
            }
            Move::Deliver(i) => {
                let envelope = self.in_flight.remove(i as usize);
                let to = envelope.to;
                self.nodes[to.index()].on_message(envelope.from, envelope.msg.clone(), &mut out);
                effects.delivered = Some(envelope);
                Some(to)
            }
            Move::Timeout(node) => {
                debug_assert!(self.timer_ready(node));
                self.nodes[node.index()].on_timeout(&mut out);
                Some(node)
            }
            Move::Crash(node) => {
                self.crashed |= bit(node);
                let (lost, kept) = std::mem::take(&mut self.in_flight)
                    .into_iter()
                    .partition(|e| e.to == node);
                self.in_flight = kept;
                effects.dropped = lost;
                None
            }
            Move::Isolate(node) => {
                self.isolated |= bit(node);
                let (lost, kept) = std::mem::take(&mut self.in_flight)
                    .into_iter()
                    .partition(|e| self.cut(e.from, e.to));
                self.in_flight = kept;
                effects.dropped = lost;
                None
            }
        };
        if let Some(from) = actor {
            for (to, msg) in out.drain() {
                let envelope = Envelope { from, to, msg };
                if self.cut(from, to) {
                    effects.cut.push(envelope);
                } else if self.is_crashed(to) {
                    effects.dropped.push(envelope);
                } else {
                    effects.sent.push(envelope.clone());
                    self.in_flight.push(envelope);
                }
            }
            self.in_flight.sort();
        }
        effects.ignored = self.drop_ignored();
        // A backoff's draw lasts while that backoff is armed.
        for n in 0..self.nodes.len() {
            if self.nodes[n].timer() != Some(Timer::RandomizedBackoff) || self.is_crashed(NodeId(n as u32)) {
                self.draws[n] = None;
            }
        }
        effects
    }

    /// Takes out of the network every message its receiver ignores for good.
    fn drop_ignored(&mut self) -> Vec<Envelope<A::Message>> {
        let nodes = &self.nodes;
        let ignored = |e: &Envelope<A::Message>| nodes[e.to.index()].ignores(e.from, &e.msg);
        if !self.in_flight.iter().any(ignored) {
            return Vec::new();
        }
        let (gone, kept) = std::mem::take(&mut self.in_flight).into_iter().partition(ignored);
        self.in_flight = kept;
        if cfg!(debug_assertions) {
            for e in &gone {
                let mut probe = self.nodes[e.to.index()].clone();
                let mut out = Outbox::new();
                probe.on_message(e.from, e.msg.clone(), &mut out);
                assert!(
                    probe == self.nodes[e.to.index()] && out.is_empty(),
                    "{} claims to ignore {e:?} but it would act on it",
                    A::NAME
                );
            }
        }
        gone
    }

    /// Nodes whose randomized backoff was just armed and awaits chance's draw.
    pub fn undrawn(&self) -> Vec<NodeId> {
        self.ids()
            .filter(|&n| {
                !self.is_crashed(n)
                    && self.draws[n.index()].is_none()
                    && self.nodes[n.index()].timer() == Some(Timer::RandomizedBackoff)
            })
            .collect()
    }

    /// Every way chance can draw the undrawn backoffs, in a fixed order (short before long,
    /// lowest node first). One empty choice when there is nothing to draw.
    pub fn draw_choices(&self) -> Vec<Vec<(NodeId, Draw)>> {
        let mut choices = vec![Vec::new()];
        for n in self.undrawn() {
            choices = choices
                .into_iter()
                .flat_map(|c| {
                    [Draw::Short, Draw::Long].map(|d| {
                        let mut c = c.clone();
                        c.push((n, d));
                        c
                    })
                })
                .collect();
        }
        choices
    }

    pub fn set_draws(&mut self, draws: &[(NodeId, Draw)]) {
        for &(n, d) in draws {
            self.draws[n.index()] = Some(d);
        }
    }

    /// Shifts every round number down so the lowest is 0: worlds that differ only by how high
    /// their ballots have climbed become equal (see [`Rounds`]). Returns the shift.
    pub fn shift_rounds(&mut self) -> u64 {
        let by = self.lowest_round();
        if by > 0 {
            for node in &mut self.nodes {
                node.lower_rounds(by);
            }
            for e in &mut self.in_flight {
                e.msg.lower_rounds(by);
            }
        }
        by
    }

    /// The lowest round number held anywhere, 0 if none is.
    pub fn lowest_round(&self) -> u64 {
        let mut rounds = Vec::new();
        for node in &self.nodes {
            node.rounds(&mut rounds);
        }
        for e in &self.in_flight {
            e.msg.rounds(&mut rounds);
        }
        rounds.into_iter().min().unwrap_or(0)
    }

    /// A 128-bit fingerprint: two different hashes of the whole world, so that two worlds
    /// the search tells apart share one with negligible probability (about n²/2¹²⁸).
    pub fn fingerprint(&self) -> u128 {
        let mut a = DefaultHasher::new();
        self.hash(&mut a);
        let mut b = Fx(0);
        self.hash(&mut b);
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }

    /// Every correct node has decided: the goal termination asks for.
    pub fn decided(&self) -> bool {
        self.ids()
            .all(|n| !self.is_correct(n) || self.nodes[n.index()].final_value().is_some())
    }

    /// Correct nodes that have not decided.
    pub fn waiting(&self) -> Vec<NodeId> {
        self.ids()
            .filter(|&n| self.is_correct(n) && self.nodes[n.index()].final_value().is_none())
            .collect()
    }

    /// Agreement and validity in this world, over every node, crashed and cut-off ones too
    /// (what they decided before may have been read).
    pub fn safety_violation(&self, scenario: &Setup<A::Value>) -> Option<PropertyViolation<A::Value>> {
        let decided: Vec<(NodeId, &A::Value)> = self
            .ids()
            .filter_map(|n| self.nodes[n.index()].final_value().map(|v| (n, v)))
            .collect();
        for &(n, v) in &decided {
            let proposed = scenario
                .proposals
                .iter()
                .enumerate()
                .any(|(i, (_, p))| self.proposed & (1 << i) != 0 && p == v);
            if !proposed {
                return Some(PropertyViolation::Invalid {
                    node: n,
                    value: v.clone(),
                });
            }
        }
        if let Some(&(a, va)) = decided.first()
            && let Some(&(b, vb)) = decided.iter().find(|(_, v)| *v != va)
        {
            return Some(PropertyViolation::Disagreement {
                a: (a, va.clone()),
                b: (b, vb.clone()),
            });
        }
        None
    }

    /// A node whose final value changed between `self` and `next`: agreement with itself.
    pub fn changed_mind(&self, next: &Self) -> Option<PropertyViolation<A::Value>> {
        self.ids().find_map(|n| {
            let before = self.nodes[n.index()].final_value()?;
            let after = next.nodes[n.index()].final_value();
            (after != Some(before)).then(|| PropertyViolation::ChangedMind {
                node: n,
                before: before.clone(),
                after: after.cloned(),
            })
        })
    }
}

/// A broken safety property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertyViolation<V> {
    /// Two nodes decided differently.
    Disagreement { a: (NodeId, V), b: (NodeId, V) },
    /// A node's final value changed (or vanished).
    ChangedMind {
        node: NodeId,
        before: V,
        after: Option<V>,
    },
    /// A node decided a value nobody proposed.
    Invalid { node: NodeId, value: V },
}

impl<V: std::fmt::Debug> PropertyViolation<V> {
    pub fn is_validity(&self) -> bool {
        matches!(self, PropertyViolation::Invalid { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            PropertyViolation::Disagreement { a, b } => {
                format!("{} decided {:?} but {} decided {:?}", a.0, a.1, b.0, b.1)
            }
            PropertyViolation::ChangedMind { node, before, after } => {
                format!("{node} decided {before:?} and then {after:?}")
            }
            PropertyViolation::Invalid { node, value } => {
                format!("{node} decided {value:?}, which nobody proposed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Color, MajorityVote, SynodNoBackoff};

    fn scenario(faults: usize) -> Setup<Color> {
        Setup {
            nodes: 3,
            proposals: vec![(NodeId(0), Color::Red), (NodeId(1), Color::Blue)],
            faults,
            partitions: true,
        }
    }

    #[test]
    fn a_crash_loses_messages_to_the_node_but_not_from_it() {
        let sc = scenario(1);
        let mut w = World::<MajorityVote<Color>>::boot(&sc);
        w.apply(&sc, Move::Propose(0));
        let effects = w.apply(&sc, Move::Crash(NodeId(0)));
        assert!(effects.dropped.is_empty());
        assert!(w.in_flight.iter().all(|e| e.from == NodeId(0)));
        // The scenario allows one fault, and it has happened.
        assert!(!w.moves(&sc).iter().any(|e| e.is_fault()));
    }

    #[test]
    fn a_partition_cuts_messages_both_ways() {
        let sc = scenario(1);
        let mut w = World::<MajorityVote<Color>>::boot(&sc);
        w.apply(&sc, Move::Propose(0));
        let effects = w.apply(&sc, Move::Isolate(NodeId(2)));
        assert_eq!(effects.dropped.len(), 2, "candidate and vote to n2");
        let effects = w.apply(&sc, Move::Propose(1));
        // n1 offers blue and, not having voted yet, votes for it: both messages to n2 are cut.
        assert_eq!(
            effects.cut.len(),
            2,
            "n1's candidate and vote to n2 are cut at once"
        );
        assert!(!w.is_correct(NodeId(2)));
    }

    #[test]
    fn worlds_that_differ_only_in_how_high_ballots_climbed_are_one_state() {
        let sc = scenario(0);
        let mut w = World::<SynodNoBackoff<Color>>::boot(&sc);
        w.apply(&sc, Move::Propose(0));
        w.apply(&sc, Move::Propose(1));
        // Every node has now seen a ballot, so every round is at least 1.
        let deliver_all = |w: &mut World<SynodNoBackoff<Color>>| {
            while !w.in_flight.is_empty() {
                w.apply(&sc, Move::Deliver(0));
            }
        };
        deliver_all(&mut w);
        let mut shifted = w.clone();
        let by = shifted.shift_rounds();
        assert!(by > 0);
        assert_eq!(shifted.lowest_round(), 0);
        assert_eq!(shifted.fingerprint(), {
            let mut again = shifted.clone();
            again.shift_rounds();
            again.fingerprint()
        });
    }
}
