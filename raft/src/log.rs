//! The in-memory log: every entry with its term, and the boundary between the prefix that
//! is durable and the unstable tail whose persist has not been confirmed yet (etcd's
//! `log.go` + `log_unstable.go`, without snapshots: the log keeps every entry).

use crate::durable::Entry;
use crate::msg::ShortCommand;
use replog::{LogIndex, PersistSeq};
use std::collections::VecDeque;
use std::fmt;

/// A Raft log. Index 1 is the first entry; index 0 is the empty prefix, whose term is 0.
#[derive(Debug, Default)]
pub struct RaftLog {
    /// `entries[i]` is the entry at index `i + 1`.
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
            entries,
            durable_index: self.durable_index,
            unstable: self.unstable.clone(),
        }
    }
}

impl RaftLog {
    /// A log recovered from stable storage: everything in it is durable.
    pub(crate) fn recovered(entries: Vec<Entry>) -> Self {
        let durable_index = entries.len() as LogIndex;
        let log = RaftLog {
            entries,
            durable_index,
            unstable: VecDeque::new(),
        };
        log.debug_check_terms_monotonic();
        log
    }

    /// Index of the last entry (0 when empty).
    pub fn last_index(&self) -> LogIndex {
        self.entries.len() as LogIndex
    }

    /// Term of the last entry (0 when empty).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// Term of the entry at `index`; `Some(0)` for index 0, `None` past the end.
    pub fn term(&self, index: LogIndex) -> Option<u64> {
        match index {
            0 => Some(0),
            i if i <= self.last_index() => Some(self.entries[i as usize - 1].term),
            _ => None,
        }
    }

    /// The entry at `index` (1-based). Panics outside the log.
    pub fn entry(&self, index: LogIndex) -> &Entry {
        assert!(
            index >= 1 && index <= self.last_index(),
            "entry {index} outside the log (last index {})",
            self.last_index()
        );
        &self.entries[index as usize - 1]
    }

    /// Entries `lo..=hi` (empty when `lo > hi`).
    pub fn slice(&self, lo: LogIndex, hi: LogIndex) -> &[Entry] {
        if lo > hi {
            return &[];
        }
        assert!(
            lo >= 1 && hi <= self.last_index(),
            "slice {lo}..={hi} outside the log"
        );
        &self.entries[lo as usize - 1..hi as usize]
    }

    /// Every entry, index 1 first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
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
        self.entries.truncate(from as usize - 1);
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
        let upto = &self.entries[..at as usize];
        upto.partition_point(|e| e.term < term) as LogIndex + 1
    }

    /// The last index at or before `at` whose entry has `term`, if the log holds that term
    /// there. Reference: Raft §5.3 (fast backtracking, the leader's side).
    pub fn last_index_of_term(&self, term: u64, at: LogIndex) -> Option<LogIndex> {
        let at = at.min(self.last_index());
        let upto = &self.entries[..at as usize];
        let p = upto.partition_point(|e| e.term <= term);
        (p > 0 && upto[p - 1].term == term).then_some(p as LogIndex)
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
        for (i, e) in self.entries.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{}@t{} {}", i + 1, e.term, ShortCommand(&e.cmd))?;
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
