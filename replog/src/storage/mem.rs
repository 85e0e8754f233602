//! In-memory storage with explicit crash semantics, for the simulator and tests.

use super::{Storage, StorageError};

/// Records split into a durable prefix and a volatile tail. A crash keeps only the prefix.
#[derive(Clone, Debug)]
pub struct MemStorage<R> {
    records: Vec<R>,
    durable_len: usize,
}

impl<R> Default for MemStorage<R> {
    fn default() -> Self {
        MemStorage {
            records: Vec::new(),
            durable_len: 0,
        }
    }
}

impl<R: Clone> MemStorage<R> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of records appended (durable or not).
    pub fn appended_len(&self) -> usize {
        self.records.len()
    }

    /// Number of durable records.
    pub fn durable_len(&self) -> usize {
        self.durable_len
    }

    /// Makes the first `len` records durable: an fsync that started when `len` records had
    /// been appended covers exactly those.
    pub fn sync_prefix(&mut self, len: usize) {
        assert!(len <= self.records.len(), "cannot sync records never appended");
        self.durable_len = self.durable_len.max(len);
    }

    /// Loses every record that was appended but not synced.
    pub fn crash(&mut self) {
        self.records.truncate(self.durable_len);
    }

    /// Drops every durable record from `i` on, as a WAL recovery that stopped at a corrupt
    /// record at position `i` would.
    pub fn truncate_durable(&mut self, i: usize) {
        self.records.truncate(i);
        self.durable_len = self.durable_len.min(i);
    }

    /// The durable records, without copying.
    pub fn durable(&self) -> &[R] {
        &self.records[..self.durable_len]
    }
}

impl<R: Clone> Storage<R> for MemStorage<R> {
    fn append(&mut self, records: &[R]) -> Result<(), StorageError> {
        self.records.extend_from_slice(records);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.durable_len = self.records.len();
        Ok(())
    }

    fn load(&self) -> Result<Vec<R>, StorageError> {
        Ok(self.durable().to_vec())
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
