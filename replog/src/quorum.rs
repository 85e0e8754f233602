//! Majority arithmetic, in one place (as etcd's `quorum/majority.go`).

use crate::types::LogIndex;

/// Votes needed for a majority of `n` voters.
pub const fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// The highest index that at least a majority of `acked` has reached: the quorum's commit
/// point. `acked` holds one entry per voter (the leader's own durable index included).
pub fn committed_index(acked: &[LogIndex]) -> LogIndex {
    assert!(!acked.is_empty(), "a quorum needs voters");
    let mut sorted: Vec<LogIndex> = acked.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted[majority(acked.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_of_odd_and_even_clusters() {
        assert_eq!([1, 2, 3, 4, 5].map(majority), [1, 2, 2, 3, 3]);
    }

    #[test]
    fn committed_index_is_the_majority_th_highest() {
        assert_eq!(committed_index(&[5, 3, 9]), 5);
        assert_eq!(committed_index(&[1, 1, 7, 7, 2]), 2);
        assert_eq!(committed_index(&[4]), 4);
    }
}
