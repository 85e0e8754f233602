//! Tiebreak voting: draft 001's `TiebreakVoting` ("Tiebreaking").
//!
//! Majority voting plus a way out of split votes: once *every* node's vote is in and no value
//! has a majority, every node holds the same tally, so the same deterministic rule over it
//! gives every node the same winner. The rule is the bully rule again: the greatest value
//! that got a vote.
//!
//! **Holds**: agreement (a majority, if there is one, is seen before the tally is complete;
//! otherwise all tallies are identical) and validity (only voted-for values win), and
//! termination as long as nobody crashes.
//! **Loses**: termination with a single crash, so it is not fault tolerant. Waiting for every
//! vote means waiting for the crashed node's vote, which never comes. The explorer's
//! counterexample: one node crashes before voting and the other two vote differently. To
//! tiebreak earlier, a node would have to know the missing vote will never arrive, which
//! takes a perfect failure detector, and those do not exist (draft 001, "Fault-Tolerant
//! Tiebreaking"); tiebreaking on a partial tally can disagree with a late majority.

use crate::tally::Tally;
use crate::write_once::{Outbox, Rounds, WriteOnce};
use replog::NodeId;
use std::fmt::Debug;
use std::hash::Hash;

pub use crate::majority_vote::VoteMsg;

/// One node of tiebreak voting.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TiebreakVote<V: Ord> {
    me: NodeId,
    nodes: usize,
    my_vote: Option<V>,
    tally: Tally<V>,
    decided: Option<V>,
}

impl<V: Ord> Rounds for TiebreakVote<V> {}

impl<V: Clone + Eq + Ord + Hash + Debug> TiebreakVote<V> {
    /// The votes this node has counted.
    pub fn tally(&self) -> &Tally<V> {
        &self.tally
    }

    /// The voting rule, unchanged from majority voting: the first candidate heard gets the vote.
    fn on_candidate(&mut self, value: V, out: &mut Outbox<VoteMsg<V>>) {
        if self.my_vote.is_some() {
            return;
        }
        self.my_vote = Some(value.clone());
        out.broadcast(self.me, self.nodes, VoteMsg::Vote(value.clone()));
        self.on_vote(value);
    }

    /// The counting rule: a majority wins at once; failing that, once all `nodes` votes are
    /// in, the bully rule picks among the values voted for.
    fn on_vote(&mut self, value: V) {
        self.tally.add(value);
        if self.decided.is_some() {
            return;
        }
        self.decided = match self.tally.majority_winner(self.nodes) {
            Some(winner) => Some(winner.clone()),
            None if self.tally.counted() == self.nodes => self.tally.bully_winner().cloned(),
            None => None,
        };
    }
}

impl<V: Clone + Eq + Ord + Hash + Debug> WriteOnce for TiebreakVote<V> {
    type Value = V;
    type Message = VoteMsg<V>;
    const NAME: &'static str = "tiebreak-vote";

    fn boot(me: NodeId, nodes: usize) -> Self {
        TiebreakVote {
            me,
            nodes,
            my_vote: None,
            tally: Tally::default(),
            decided: None,
        }
    }

    fn try_initialize(&mut self, value: V, out: &mut Outbox<Self::Message>) {
        out.broadcast(self.me, self.nodes, VoteMsg::Candidate(value.clone()));
        self.on_candidate(value, out);
    }

    fn final_value(&self) -> Option<&V> {
        self.decided.as_ref()
    }

    fn status(&self) -> String {
        let vote = match &self.my_vote {
            Some(v) => format!("voted {v:?}"),
            None => "not voted".to_string(),
        };
        let decided = match &self.decided {
            Some(v) => format!("; decided {v:?}"),
            None => String::new(),
        };
        format!("{vote}; tally {}{decided}", self.tally.describe())
    }

    /// A candidate after this node voted: votes are never changed.
    fn ignores(&self, _from: NodeId, msg: &Self::Message) -> bool {
        matches!(msg, VoteMsg::Candidate(_)) && self.my_vote.is_some()
    }

    fn on_message(&mut self, _from: NodeId, msg: Self::Message, out: &mut Outbox<Self::Message>) {
        match msg {
            VoteMsg::Candidate(value) => self.on_candidate(value, out),
            VoteMsg::Vote(value) => self.on_vote(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Color::{self, Blue, Green, Red};
    use crate::testkit::Cluster;

    #[test]
    fn a_three_way_split_goes_to_the_greatest_colour() {
        let mut cluster = Cluster::<TiebreakVote<Color>>::new(3);
        for (node, value) in [Red, Blue, Green].into_iter().enumerate() {
            cluster.propose(NodeId(node as u32), value);
        }
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Green); 3]);
    }

    #[test]
    fn one_crash_before_voting_leaves_a_split_undecided() {
        let mut cluster = Cluster::<TiebreakVote<Color>>::new(3);
        cluster.crash(NodeId(2));
        cluster.propose(NodeId(0), Red);
        cluster.propose(NodeId(1), Blue);
        cluster.deliver_all();
        assert_eq!(cluster.final_values()[..2], [None, None]);
    }
}
