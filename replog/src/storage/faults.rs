//! A fault-injecting file layer: the write-ahead log's writes and fsyncs go through it, and
//! it can make them fail as a full disk (ENOSPC, after a short write) or a failing device
//! (EIO) does. A failed fsync also loses what it should have made durable, as Linux may when
//! it drops the dirty pages of a failed writeback: the file is cut back to its length at the
//! last fsync that succeeded. For tests that show a node never acknowledges what it did not
//! persist.
//!
//! A [`DiskFaults`] handle is shared: the test keeps one copy to arm faults, and the log
//! (through [`WalOptions::faults`](super::wal::WalOptions)) holds another.

use std::fs::File;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// Faults armed for one log's disk. Cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct DiskFaults {
    plan: Arc<Mutex<Plan>>,
}

#[derive(Debug, Default)]
struct Plan {
    /// Bytes that still fit on the disk; a write beyond them is cut short and fails.
    space_bytes: Option<u64>,
    /// Writes that still succeed before every later one fails with EIO.
    writes_left: Option<u64>,
    /// Fsyncs that still succeed before every later one fails with EIO.
    syncs_left: Option<u64>,
    /// Bytes written to the current file since its last successful fsync.
    unsynced_bytes: u64,
}

impl DiskFaults {
    /// No faults armed.
    pub fn new() -> Self {
        DiskFaults::default()
    }

    /// The disk fills up after `bytes` more bytes: the write that crosses the line writes
    /// what fits and fails with "no space left on device", as write(2) does.
    pub fn fill_after(&self, bytes: u64) {
        self.plan().space_bytes = Some(bytes);
    }

    /// After `writes` more successful writes, every write fails with an I/O error.
    pub fn fail_writes_after(&self, writes: u64) {
        self.plan().writes_left = Some(writes);
    }

    /// After `syncs` more successful fsyncs, every fsync fails with an I/O error.
    pub fn fail_syncs_after(&self, syncs: u64) {
        self.plan().syncs_left = Some(syncs);
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        // A panic while holding the lock cannot leave the plan half changed.
        self.plan.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes all of `buf` to `file`, or fails as the armed faults say.
    pub(crate) fn write_all(&self, file: &mut File, buf: &[u8]) -> io::Result<()> {
        let mut plan = self.plan();
        if let Some(left) = plan.writes_left.as_mut() {
            if *left == 0 {
                return Err(io::Error::other("input/output error (injected)"));
            }
            *left -= 1;
        }
        if let Some(space) = plan.space_bytes.as_mut() {
            let fits = (*space).min(buf.len() as u64);
            *space -= fits;
            if fits < buf.len() as u64 {
                plan.unsynced_bytes += fits;
                file.write_all(&buf[..fits as usize])?;
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "no space left on device (injected)",
                ));
            }
        }
        plan.unsynced_bytes += buf.len() as u64;
        file.write_all(buf)
    }

    /// Fsyncs `file`, or fails as the armed faults say: without syncing, and losing what was
    /// written since the last fsync that succeeded.
    pub(crate) fn sync_data(&self, file: &File) -> io::Result<()> {
        let mut plan = self.plan();
        if let Some(left) = plan.syncs_left.as_mut() {
            if *left == 0 {
                let len = file.metadata()?.len();
                file.set_len(len.saturating_sub(plan.unsynced_bytes))?;
                plan.unsynced_bytes = 0;
                return Err(io::Error::other("input/output error on fsync (injected)"));
            }
            *left -= 1;
        }
        file.sync_data()?;
        plan.unsynced_bytes = 0;
        Ok(())
    }
}

/// The file operations of the log, through `faults` when there are any.
pub(crate) fn write_all(faults: Option<&DiskFaults>, file: &mut File, buf: &[u8]) -> io::Result<()> {
    match faults {
        Some(f) => f.write_all(file, buf),
        None => file.write_all(buf),
    }
}

pub(crate) fn sync_data(faults: Option<&DiskFaults>, file: &File) -> io::Result<()> {
    match faults {
        Some(f) => f.sync_data(file),
        None => file.sync_data(),
    }
}
