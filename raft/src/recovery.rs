//! Restart from durable state: replay the write-ahead-log records in order to rebuild
//! Figure 2's persistent state. Everything else (`commit_index`, the role, the leader's
//! progress) is volatile and starts over: a restarted node is a follower that commits
//! again from index 1 as it learns the commit index from a leader.
//! Reference: Raft §5.1 ("persistent state ... updated on stable storage before responding
//! to RPCs"), Figure 2.

use crate::durable::{Entry, Record};
use replog::{LogIndex, NodeId, SnapshotImage};

/// Figure 2's persistent state, as the records left it.
#[derive(Debug, Default)]
pub struct Recovered {
    pub current_term: u64,
    pub voted_for: Option<NodeId>,
    /// The latest snapshot: (last included index, its term, the image). Raft §7.
    pub snapshot: Option<(LogIndex, u64, SnapshotImage)>,
    /// The entries after the snapshot (from index 1 without one).
    pub entries: Vec<Entry>,
}

impl Recovered {
    fn snapshot_index(&self) -> LogIndex {
        self.snapshot.as_ref().map_or(0, |s| s.0)
    }
}

/// Replays `records` in the order they were persisted.
pub fn replay(records: Vec<Record>) -> Recovered {
    let mut state = Recovered::default();
    for record in records {
        match record {
            Record::TermAndVote {
                current_term,
                voted_for,
            } => {
                assert!(
                    current_term >= state.current_term,
                    "WAL: term went back from {} to {current_term}",
                    state.current_term
                );
                assert!(
                    current_term > state.current_term
                        || state.voted_for.is_none()
                        || state.voted_for == voted_for,
                    "WAL: vote changed within term {current_term}"
                );
                state.current_term = current_term;
                state.voted_for = voted_for;
            }
            Record::Entries { first_index, entries } => {
                let next = state.snapshot_index() + state.entries.len() as LogIndex + 1;
                assert_eq!(
                    first_index, next,
                    "WAL: entries at {first_index} do not follow the log's last index"
                );
                state.entries.extend(entries);
            }
            Record::TruncateFrom { from_index } => {
                let base = state.snapshot_index();
                assert!(
                    from_index > base,
                    "WAL: truncation at {from_index}, in the snapshot (up to {base})"
                );
                state
                    .entries
                    .truncate((from_index - 1 - base).min(state.entries.len() as LogIndex) as usize);
            }
            Record::Snapshot {
                last_included_index,
                last_included_term,
                image,
            } => {
                // A checkpoint starts here: what follows it describes the log after it.
                state.entries.clear();
                state.snapshot = Some((last_included_index, last_included_term, image));
            }
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::Command;

    fn entry(term: u64) -> Entry {
        Entry {
            term,
            cmd: Command::Noop,
        }
    }

    #[test]
    fn replay_applies_terms_entries_and_truncations_in_order() {
        let records = vec![
            Record::TermAndVote {
                current_term: 2,
                voted_for: Some(NodeId(1)),
            },
            Record::Entries {
                first_index: 1,
                entries: vec![entry(1), entry(2), entry(2)],
            },
            Record::TruncateFrom { from_index: 2 },
            Record::TermAndVote {
                current_term: 3,
                voted_for: None,
            },
            Record::Entries {
                first_index: 2,
                entries: vec![entry(3)],
            },
        ];
        let r = replay(records);
        assert_eq!(r.current_term, 3);
        assert_eq!(r.voted_for, None);
        assert_eq!(r.entries, vec![entry(1), entry(3)]);
    }
}
