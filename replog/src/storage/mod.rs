//! Stable storage behind one trait, with two implementations:
//! - [`mem::MemStorage`]: for the simulator, which decides what a crash keeps (only records
//!   that were synced, never those only appended);
//! - [`wal::Wal`] / [`file::FileStorage`]: an append-only file write-ahead log with per-record
//!   CRC32C, length prefixes, fdatasync on demand and recovery that stops at a torn tail;
//! - [`snapshot`]: checkpoint files that replace the log before them (log compaction), written
//!   atomically with a checksum; recovery reads the newest intact one, then the segments after it.
//!   CRC32C, length prefixes, fdatasync on demand and recovery that stops at a torn tail. A
//!   write or fsync that fails leaves the log refusing every later one ([`StorageError::Failed`]):
//!   after a failed fsync the kernel may have dropped the dirty pages, so a retry that
//!   "succeeds" would claim durability for data that is gone;
//! - [`faults::DiskFaults`]: the log's disk failing on purpose (full, or EIO), for tests.
//!
//! Storage knows nothing about either protocol: it keeps opaque records in order.

pub mod faults;
pub mod file;
pub mod mem;
pub mod snapshot;
pub mod wal;

use std::path::PathBuf;
use thiserror::Error;

/// Ordered, append-only record storage.
pub trait Storage<R> {
    /// Buffers `records` after everything appended so far. Not durable until [`sync`](Self::sync).
    fn append(&mut self, records: &[R]) -> Result<(), StorageError>;
    /// Makes every appended record durable (one fdatasync covers them all: group commit).
    fn sync(&mut self) -> Result<(), StorageError>;
    /// Every durable record in append order: exactly what a node boots from after a crash.
    /// After a [`checkpoint`](Self::checkpoint), the checkpoint's records come first.
    fn load(&self) -> Result<Vec<R>, StorageError>;
    /// Log compaction: `records` replace every record appended before them (the protocol's
    /// snapshot and the state after it). Durable, like appends, once a later
    /// [`sync`](Self::sync) (or the checkpoint's own write) covers it; until then a crash
    /// keeps the records it replaces.
    fn checkpoint(&mut self, records: &[R]) -> Result<(), StorageError>;
}

/// A storage failure. Each variant names where the problem is.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: record at byte {offset} has a valid checksum but does not decode: {reason}")]
    Decode {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("record does not encode: {0}")]
    Encode(String),
    #[error("record of {len} bytes exceeds the WAL's limit of {max} bytes")]
    RecordTooLarge { len: usize, max: usize },
    #[error(
        "{path}: the log starts at segment {first_segment}; the records before it were compacted into snapshot files, and none is intact"
    )]
    MissingSnapshot { path: PathBuf, first_segment: u64 },
    #[error(
        "{path}: the log failed earlier ({first}) and takes no more writes: what reached the disk \
         is known only after reopening it"
    )]
    Failed { path: PathBuf, first: String },
}

impl StorageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io {
            path: path.into(),
            source,
        }
    }
}
