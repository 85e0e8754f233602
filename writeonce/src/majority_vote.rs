//! Majority-rules voting: draft 001's `MajorityRulesVoting` (part 2, "Basic Voting
//! Algorithm"), draft 004's "Majority-Rules Voting Algorithm".
//!
//! No coordinator: `try_initialize` offers the value to every node as a *candidate*; each node
//! votes for the first candidate it hears, never changes its vote, and tells everyone. A value
//! that gets votes from a majority of the cluster wins.
//!
//! **Holds**: agreement (two majorities share a voter, and nobody votes twice) and validity
//! (only candidates get votes, and only `try_initialize` makes candidates).
//! **Loses**: termination. Nothing forces a majority to form:
//! - a *split vote*: with three candidates on three nodes, each node can vote for its own, and
//!   once every vote is in, no value can ever reach two;
//! - the *window of vulnerability* (draft 004): even with two candidates on seven nodes, the
//!   votes can stand at three to three while the seventh node has not voted yet; if that node
//!   crashes then, four votes are out of reach for good. One badly timed crash, and it stops.

use crate::tally::Tally;
use crate::write_once::{Outbox, Rounds, WriteOnce};
use replog::NodeId;
use std::fmt::Debug;
use std::hash::Hash;

/// Messages of majority-rules voting.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VoteMsg<V> {
    /// A value offered for the vote (the drafts' `onCandidate`).
    Candidate(V),
    /// The sender has voted for this value (`onVote`).
    Vote(V),
}

impl<V> Rounds for VoteMsg<V> {}

/// One node of majority-rules voting.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MajorityVote<V: Ord> {
    me: NodeId,
    nodes: usize,
    my_vote: Option<V>,
    tally: Tally<V>,
    decided: Option<V>,
}

impl<V: Ord> Rounds for MajorityVote<V> {}

impl<V: Clone + Eq + Ord + Hash + Debug> MajorityVote<V> {
    /// What this node voted for, if it has voted.
    pub fn my_vote(&self) -> Option<&V> {
        self.my_vote.as_ref()
    }

    /// The votes this node has counted.
    pub fn tally(&self) -> &Tally<V> {
        &self.tally
    }

    /// The voting rule: vote for the first candidate heard, and never change the vote.
    fn on_candidate(&mut self, value: V, out: &mut Outbox<VoteMsg<V>>) {
        if self.my_vote.is_some() {
            return;
        }
        self.my_vote = Some(value.clone());
        out.broadcast(self.me, self.nodes, VoteMsg::Vote(value.clone()));
        self.on_vote(value);
    }

    /// The counting rule: a value with a majority of the cluster's votes wins.
    fn on_vote(&mut self, value: V) {
        self.tally.add(value);
        if self.decided.is_none() {
            self.decided = self.tally.majority_winner(self.nodes).cloned();
        }
    }
}

impl<V: Clone + Eq + Ord + Hash + Debug> WriteOnce for MajorityVote<V> {
    type Value = V;
    type Message = VoteMsg<V>;
    const NAME: &'static str = "majority-vote";

    fn boot(me: NodeId, nodes: usize) -> Self {
        MajorityVote {
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
    fn a_lone_candidate_wins_everywhere() {
        let mut cluster = Cluster::<MajorityVote<Color>>::new(5);
        cluster.propose(NodeId(3), Green);
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![Some(Green); 5]);
    }

    #[test]
    fn a_three_way_split_vote_never_decides() {
        let mut cluster = Cluster::<MajorityVote<Color>>::new(3);
        for (node, value) in [Red, Blue, Green].into_iter().enumerate() {
            cluster.propose(NodeId(node as u32), value);
        }
        cluster.deliver_all();
        assert_eq!(cluster.final_values(), vec![None; 3]);
    }

    #[test]
    fn a_crash_in_the_window_of_vulnerability_leaves_seven_nodes_stuck() {
        let mut cluster = Cluster::<MajorityVote<Color>>::new(7);
        cluster.propose(NodeId(0), Red);
        cluster.propose(NodeId(1), Blue);
        // Nodes 2 and 3 hear red first, 4 and 5 blue; node 6 crashes before it votes.
        let first = |to: u32| if to <= 3 { NodeId(0) } else { NodeId(1) };
        while cluster.deliver_first(|from, to, msg| {
            matches!(msg, VoteMsg::Candidate(_)) && (2..=5).contains(&to.0) && from == first(to.0)
        }) {}
        cluster.crash(NodeId(6));
        cluster.deliver_all();
        assert_eq!(cluster.final_values()[..6], [None; 6]);
    }
}
