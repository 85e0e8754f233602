//! Counting votes: the part majority voting and tiebreak voting share.

use replog::quorum::majority;
use std::collections::BTreeMap;

/// The votes a node has counted so far, per candidate value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tally<V: Ord> {
    votes: BTreeMap<V, u32>,
    counted: u32,
}

impl<V: Ord> Default for Tally<V> {
    fn default() -> Self {
        Tally {
            votes: BTreeMap::new(),
            counted: 0,
        }
    }
}

impl<V: Ord + Clone> Tally<V> {
    /// Counts one vote for `value` and returns the votes it now has.
    pub fn add(&mut self, value: V) -> u32 {
        self.counted += 1;
        let votes = self.votes.entry(value).or_insert(0);
        *votes += 1;
        *votes
    }

    /// How many votes have been counted, for every value together.
    pub fn counted(&self) -> usize {
        self.counted as usize
    }

    /// The value holding a majority of a `nodes`-node cluster's votes, if one does. At most
    /// one can: two majorities of one cluster would share a voter, and each node votes once.
    pub fn majority_winner(&self, nodes: usize) -> Option<&V> {
        self.votes
            .iter()
            .find(|&(_, &votes)| votes as usize >= majority(nodes))
            .map(|(value, _)| value)
    }

    /// The bully rule over every value that got a vote: the greatest wins (draft 001,
    /// "Tiebreaking": `Collections.max(tally.keySet())`).
    pub fn bully_winner(&self) -> Option<&V> {
        self.votes.keys().next_back()
    }

    /// `red 2, blue 1`: the votes per value, in value order.
    pub fn describe(&self) -> String
    where
        V: std::fmt::Debug,
    {
        if self.votes.is_empty() {
            return "no votes".to_string();
        }
        let parts: Vec<String> = self.votes.iter().map(|(v, n)| format!("{v:?} {n}")).collect();
        parts.join(", ")
    }

    /// Votes per value, in value order.
    pub fn votes(&self) -> impl Iterator<Item = (&V, u32)> {
        self.votes.iter().map(|(value, &votes)| (value, votes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_majority_needs_more_than_half_of_the_cluster() {
        let mut tally = Tally::default();
        tally.add('r');
        tally.add('r');
        tally.add('b');
        assert_eq!(
            (tally.majority_winner(5), tally.majority_winner(3)),
            (None, Some(&'r'))
        );
    }

    #[test]
    fn the_bully_rule_picks_the_greatest_value_voted_for() {
        let mut tally = Tally::default();
        for v in ['b', 'c', 'a'] {
            tally.add(v);
        }
        assert_eq!(tally.bully_winner(), Some(&'c'));
    }
}
