//! In-memory storage with explicit crash semantics, for the simulator and tests.

use super::{Storage, StorageError};

/// Records split into a durable prefix and a volatile tail. A crash keeps only the prefix.
///
/// Positions ([`appended_len`](Self::appended_len), [`durable_len`](Self::durable_len),
/// [`sync_prefix`](Self::sync_prefix)) count every record ever appended, compacted ones
/// included, so a position taken before a compaction still means the same record after it.
/// A [`checkpoint`](Storage::checkpoint) is appended like records; once an fsync covers all
/// of it, the records before it are dropped (log compaction) and recovery starts from it.
#[derive(Clone, Debug)]
pub struct MemStorage<R> {
    /// The records from position `base` on.
    records: Vec<R>,
    /// Records dropped by compaction: `records[0]` is at position `base`.
    base: usize,
    durable_len: usize,
    /// Checkpoints appended but not yet durable: (first position, end position).
    checkpoints: Vec<(usize, usize)>,
}

impl<R> Default for MemStorage<R> {
    fn default() -> Self {
        MemStorage {
            records: Vec::new(),
            base: 0,
            durable_len: 0,
            checkpoints: Vec::new(),
        }
    }
}

impl<R: Clone> MemStorage<R> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of records appended (durable or not), compacted ones included.
    pub fn appended_len(&self) -> usize {
        self.base + self.records.len()
    }

    /// Number of durable records, compacted ones included.
    pub fn durable_len(&self) -> usize {
        self.durable_len
    }

    /// Records dropped by compaction so far.
    pub fn compacted_len(&self) -> usize {
        self.base
    }

    /// Makes the first `len` records durable: an fsync that started when `len` records had
    /// been appended covers exactly those. A checkpoint it covers whole replaces everything
    /// before it.
    pub fn sync_prefix(&mut self, len: usize) {
        assert!(len <= self.appended_len(), "cannot sync records never appended");
        self.durable_len = self.durable_len.max(len);
        let durable = self.durable_len;
        if let Some(i) = self.checkpoints.iter().rposition(|&(_, end)| end <= durable) {
            let (start, _) = self.checkpoints[i];
            self.records.drain(..start - self.base);
            self.base = start;
            self.checkpoints.drain(..=i);
        }
    }

    /// Loses every record that was appended but not synced.
    pub fn crash(&mut self) {
        self.records.truncate(self.durable_len - self.base);
        self.checkpoints.clear();
    }

    /// Drops every durable record from `i` on (counted from the first record of
    /// [`durable`](Self::durable)), as a WAL recovery that stopped at a corrupt record at
    /// that position would.
    pub fn truncate_durable(&mut self, i: usize) {
        self.records.truncate(i);
        self.durable_len = self.durable_len.min(self.base + i);
        let end = self.appended_len();
        self.checkpoints.retain(|&(_, e)| e <= end);
    }

    /// The durable records (since the last durable checkpoint), without copying.
    pub fn durable(&self) -> &[R] {
        &self.records[..self.durable_len - self.base]
    }
}

impl<R: Clone> Storage<R> for MemStorage<R> {
    fn append(&mut self, records: &[R]) -> Result<(), StorageError> {
        self.records.extend_from_slice(records);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.sync_prefix(self.appended_len());
        Ok(())
    }

    fn load(&self) -> Result<Vec<R>, StorageError> {
        Ok(self.durable().to_vec())
    }

    fn checkpoint(&mut self, records: &[R]) -> Result<(), StorageError> {
        let start = self.appended_len();
        self.records.extend_from_slice(records);
        self.checkpoints.push((start, self.appended_len()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_only_synced_records() {
        let mut s = MemStorage::new();
        s.append(&[1, 2]).unwrap();
        s.sync().unwrap();
        s.append(&[3]).unwrap();
        s.crash();
        assert_eq!(s.load().unwrap(), vec![1, 2]);
    }

    #[test]
    fn a_synced_checkpoint_replaces_the_records_before_it() {
        let mut s = MemStorage::new();
        s.append(&[1, 2, 3]).unwrap();
        s.checkpoint(&[10]).unwrap();
        s.append(&[4]).unwrap();
        s.sync().unwrap();
        assert_eq!(s.load().unwrap(), vec![10, 4]);
        assert_eq!((s.compacted_len(), s.appended_len()), (3, 5));
    }

    #[test]
    fn a_crash_before_the_checkpoint_is_synced_keeps_the_records_it_would_replace() {
        let mut s = MemStorage::new();
        s.append(&[1, 2]).unwrap();
        s.sync().unwrap();
        s.checkpoint(&[10]).unwrap();
        s.sync_prefix(2);
        s.crash();
        assert_eq!(s.load().unwrap(), vec![1, 2]);
        s.append(&[3]).unwrap();
        s.sync().unwrap();
        assert_eq!(s.load().unwrap(), vec![1, 2, 3], "the lost checkpoint stays lost");
    }

    #[test]
    fn fsync_covers_only_records_appended_before_it_started() {
        let mut s = MemStorage::new();
        s.append(&[1, 2]).unwrap();
        let covered = s.appended_len();
        s.append(&[3]).unwrap(); // arrives while the fsync is in flight
        s.sync_prefix(covered);
        s.crash();
        assert_eq!(s.load().unwrap(), vec![1, 2]);
    }
}
