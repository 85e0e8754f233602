//! The in-memory log: every entry with its term, and the boundary between the prefix that
//! is durable and the unstable tail whose persist has not been confirmed yet (etcd's
//! `log.go` + `log_unstable.go`). With compaction on, the entries up to the last snapshot
//! are replaced by it (Raft §7): the log keeps the snapshot's index, term and image, and the
//! entries after it.

use crate::durable::Entry;
use crate::msg::ShortCommand;
use replog::{LogIndex, PersistSeq, SnapshotImage};
use std::collections::VecDeque;
use std::fmt;

/// A Raft log. Index 1 is the first entry; index 0 is the empty prefix, whose term is 0.
#[derive(Debug, Default)]
pub struct RaftLog {
    /// The last index the snapshot replaces (0: no snapshot). Raft §7.
    snapshot_index: LogIndex,
    /// The term of the entry at `snapshot_index`.
    snapshot_term: u64,
    /// The state machine's image after `snapshot_index`.
    snapshot: Option<SnapshotImage>,
    /// `entries[i]` is the entry at index `snapshot_index + i + 1`.
    entries: Vec<Entry>,
    /// Entries `1..=durable_index` of the log as it is now are on stable storage.
    durable_index: LogIndex,
    /// Persists that carry entries and are not yet confirmed: (seq, last index written by
    /// it, clamped by later truncations). Persists complete in seq order.
    unstable: VecDeque<(PersistSeq, LogIndex)>,
}

/// A clone keeps the original's spare capacity, so appending to a clone (the step benches
/// step cloned nodes) allocates when the original would, not on the first append.
impl Clone for RaftLog {
    fn clone(&self) -> Self {
        let mut entries = Vec::with_capacity(self.entries.capacity());
        entries.extend_from_slice(&self.entries);
        RaftLog {
            snapshot_index: self.snapshot_index,
            snapshot_term: self.snapshot_term,
            snapshot: self.snapshot.clone(),
            entries,
            durable_index: self.durable_index,
            unstable: self.unstable.clone(),
        }
    }
}

impl RaftLog {
    /// A log recovered from stable storage: everything in it is durable.
    pub(crate) fn recovered(snapshot: Option<(LogIndex, u64, SnapshotImage)>, entries: Vec<Entry>) -> Self {
        let (snapshot_index, snapshot_term, snapshot) = match snapshot {
            Some((index, term, image)) => (index, term, Some(image)),
            None => (0, 0, None),
        };
        let log = RaftLog {
            durable_index: snapshot_index + entries.len() as LogIndex,
            snapshot_index,
            snapshot_term,
            snapshot,
            entries,
            unstable: VecDeque::new(),
        };
        log.debug_check_terms_monotonic();
        log
    }

    /// Index of the last entry (the snapshot's when no entry follows it; 0 when empty).
    pub fn last_index(&self) -> LogIndex {
        self.snapshot_index + self.entries.len() as LogIndex
    }

    /// Term of the last entry (0 when empty).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// The last index the snapshot replaces (0: none).
    pub fn snapshot_index(&self) -> LogIndex {
        self.snapshot_index
    }

    /// The snapshot: its last included index and term, and the image.
    pub fn snapshot(&self) -> Option<(LogIndex, u64, &SnapshotImage)> {
        self.snapshot
            .as_ref()
            .map(|image| (self.snapshot_index, self.snapshot_term, image))
    }

    /// Term of the entry at `index`; `Some(0)` for index 0, the snapshot's term at its last
    /// included index, `None` inside the snapshot and past the end.
    pub fn term(&self, index: LogIndex) -> Option<u64> {
        match index {
            i if i == self.snapshot_index => Some(self.snapshot_term),
            i if i > self.snapshot_index && i <= self.last_index() => Some(self.at(i).term),
            _ => None,
        }
    }

    fn at(&self, index: LogIndex) -> &Entry {
        &self.entries[(index - self.snapshot_index) as usize - 1]
    }

    /// The entry at `index` (1-based). Panics outside the log or inside the snapshot.
    pub fn entry(&self, index: LogIndex) -> &Entry {
        assert!(
            index > self.snapshot_index && index <= self.last_index(),
            "entry {index} outside the log (snapshot up to {}, last index {})",
            self.snapshot_index,
            self.last_index()
        );
        self.at(index)
    }

    /// Entries `lo..=hi` (empty when `lo > hi`).
    pub fn slice(&self, lo: LogIndex, hi: LogIndex) -> &[Entry] {
        if lo > hi {
            return &[];
        }
        assert!(
            lo > self.snapshot_index && hi <= self.last_index(),
            "slice {lo}..={hi} outside the log (snapshot up to {})",
            self.snapshot_index
        );
        let base = self.snapshot_index;
        &self.entries[(lo - base) as usize - 1..(hi - base) as usize]
    }

    /// Every entry after the snapshot, the first at `snapshot_index() + 1`.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Log compaction: the snapshot `image` replaces the entries up through `index`, whose
    /// term is `term`; the entries after it stay. Reference: Raft §7.
    pub(crate) fn compact(&mut self, index: LogIndex, term: u64, image: SnapshotImage) {
        assert!(
            index > self.snapshot_index && index <= self.last_index(),
            "compaction at {index} outside the log ({}..={})",
            self.snapshot_index,
            self.last_index()
        );
        debug_assert_eq!(self.term(index), Some(term));
        self.entries.drain(..(index - self.snapshot_index) as usize);
        self.snapshot_index = index;
        self.snapshot_term = term;
        self.snapshot = Some(image);
    }

    /// A snapshot from the leader: if the log holds the snapshot's last entry, the entries
    /// after it stay; otherwise the whole log is discarded. Reference: Raft §7 (Figure 13,
    /// receiver rules 6 and 7).
    pub(crate) fn install(&mut self, index: LogIndex, term: u64, image: SnapshotImage) {
        if index <= self.last_index() && self.term(index) == Some(term) {
            self.compact(index, term, image);
            return;
        }
        self.entries.clear();
        self.snapshot_index = index;
        self.snapshot_term = term;
        self.snapshot = Some(image);
        for (_, last) in self.unstable.iter_mut() {
            *last = (*last).min(index);
        }
        self.durable_index = self.durable_index.min(index);
    }

    /// A checkpoint (persist `seq`) writes the whole log as it is now.
    pub(crate) fn on_checkpoint(&mut self, seq: PersistSeq) {
        debug_assert!(self.unstable.back().is_none_or(|&(s, _)| s < seq));
        self.unstable.push_back((seq, self.last_index()));
    }

    /// The terms of every entry, index 1 first (for tests and traces).
    pub fn terms(&self) -> Vec<u64> {
        self.entries.iter().map(|e| e.term).collect()
    }

    /// The highest index up to which the log is known durable.
    pub fn durable_index(&self) -> LogIndex {
        self.durable_index
    }

    /// Appends `entries` after the last one; persist `seq` writes them.
    pub(crate) fn append(&mut self, entries: &[Entry], seq: PersistSeq) {
        if entries.is_empty() {
            return;
        }
        debug_assert!(
            entries.first().map(|e| e.term) >= Some(self.last_term()),
            "terms in a log never decrease (Log Matching, Raft §5.3)"
        );
        self.entries.extend_from_slice(entries);
        let last = self.last_index();
        match self.unstable.back_mut() {
            Some((s, l)) if *s == seq => *l = last,
            _ => {
                debug_assert!(self.unstable.back().is_none_or(|&(s, _)| s < seq));
                self.unstable.push_back((seq, last));
            }
        }
    }

    /// Deletes the entry at `from` and all that follow it.
    pub(crate) fn truncate_from(&mut self, from: LogIndex) {
        assert!(from >= 1, "index 0 is the empty prefix and cannot be truncated");
        if from > self.last_index() {
            return;
        }
        assert!(
            from > self.snapshot_index,
            "truncation at {from}, inside the snapshot (up to {})",
            self.snapshot_index
        );
        self.entries.truncate((from - self.snapshot_index) as usize - 1);
        let keep = from - 1;
        // A persist still in flight wrote entries that no longer exist; when it completes
        // it makes durable only what survives of them.
        for (_, last) in self.unstable.iter_mut() {
            *last = (*last).min(keep);
        }
        self.durable_index = self.durable_index.min(keep);
    }

    /// Storage confirms every persist up to `upto`.
    pub(crate) fn persisted(&mut self, upto: PersistSeq) {
        while let Some(&(seq, last)) = self.unstable.front() {
            if seq > upto {
                break;
            }
            self.durable_index = self.durable_index.max(last);
            self.unstable.pop_front();
        }
        assert!(
            self.durable_index <= self.last_index(),
            "durable index {} beyond the last index {}",
            self.durable_index,
            self.last_index()
        );
    }

    /// The first index holding an entry of `term` at or before `at`, whose entry has that
    /// term. Terms never decrease along a log, so this is a binary search.
    /// Reference: Raft §5.3 (fast backtracking, the follower's side).
    pub fn first_index_of_term(&self, term: u64, at: LogIndex) -> LogIndex {
        debug_assert_eq!(self.term(at), Some(term));
        let upto = &self.entries[..(at - self.snapshot_index) as usize];
        self.snapshot_index + upto.partition_point(|e| e.term < term) as LogIndex + 1
    }

    /// The last index at or before `at` whose entry has `term`, if the log holds that term
    /// there. Reference: Raft §5.3 (fast backtracking, the leader's side).
    pub fn last_index_of_term(&self, term: u64, at: LogIndex) -> Option<LogIndex> {
        let at = at.min(self.last_index());
        if at < self.snapshot_index {
            return None;
        }
        let upto = &self.entries[..(at - self.snapshot_index) as usize];
        let p = upto.partition_point(|e| e.term <= term);
        if p > 0 && upto[p - 1].term == term {
            Some(self.snapshot_index + p as LogIndex)
        } else {
            (p == 0 && self.snapshot_index > 0 && self.snapshot_term == term).then_some(self.snapshot_index)
        }
    }

    fn debug_check_terms_monotonic(&self) {
        debug_assert!(
            self.entries.windows(2).all(|w| w[0].term <= w[1].term),
            "terms in a log never decrease"
        );
    }
}

/// One line: `[1@t1 noop, 2@t1 x=1] durable:2`, each entry as index@term and its command,
/// then the last index known durable.
impl fmt::Display for RaftLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        if self.snapshot_index > 0 {
            write!(f, "snapshot:{}@t{}", self.snapshot_index, self.snapshot_term)?;
        }
        for (i, e) in self.entries.iter().enumerate() {
            let sep = if i == 0 && self.snapshot_index == 0 {
                ""
            } else {
                ", "
            };
            let index = self.snapshot_index + i as LogIndex + 1;
            write!(f, "{sep}{index}@t{} {}", e.term, ShortCommand(&e.cmd))?;
        }
        write!(f, "] durable:{}", self.durable_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::Command;

    fn log_of(terms: &[u64]) -> RaftLog {
        RaftLog::recovered(
            None,
            terms
                .iter()
                .map(|&term| Entry {
                    term,
                    cmd: Command::Noop,
                })
                .collect(),
        )
    }

    #[test]
    fn first_and_last_index_of_a_term_by_binary_search() {
        let log = log_of(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
        assert_eq!(log.first_index_of_term(6, 10), 8);
        assert_eq!(log.first_index_of_term(1, 2), 1);
        assert_eq!(log.last_index_of_term(4, 10), Some(5));
        assert_eq!(log.last_index_of_term(4, 4), Some(4));
        assert_eq!(log.last_index_of_term(3, 10), None);
    }

    #[test]
    fn after_compaction_indices_and_terms_are_unchanged() {
        let mut log = log_of(&[1, 1, 2, 2, 3]);
        log.compact(3, 2, SnapshotImage::new(vec![7]));
        assert_eq!((log.last_index(), log.last_term()), (5, 3));
        assert_eq!(
            [log.term(2), log.term(3), log.term(4), log.term(6)],
            [None, Some(2), Some(2), None]
        );
        assert_eq!(log.slice(4, 5).len(), 2);
        assert_eq!(log.first_index_of_term(2, 4), 4);
        assert_eq!(log.last_index_of_term(2, 5), Some(4));
        assert_eq!(log.last_index_of_term(2, 3), Some(3));
    }

    #[test]
    fn a_snapshot_that_does_not_match_the_log_discards_it() {
        let mut log = log_of(&[1, 1, 1]);
        log.install(5, 4, SnapshotImage::new(vec![]));
        assert_eq!(
            (log.last_index(), log.last_term(), log.entries().len()),
            (5, 4, 0)
        );
    }

    #[test]
    fn a_persist_that_completes_after_a_truncation_covers_only_the_surviving_entries() {
        let mut log = RaftLog::default();
        let e = |term| Entry {
            term,
            cmd: Command::Noop,
        };
        log.append(&[e(1), e(1), e(1)], 1);
        log.truncate_from(2);
        log.append(&[e(2)], 2);
        log.persisted(1);
        assert_eq!(log.durable_index(), 1);
        log.persisted(2);
        assert_eq!(log.durable_index(), 2);
    }
}
