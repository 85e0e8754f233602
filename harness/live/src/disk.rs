//! The node's disk: one OS thread owning the file write-ahead log, with group commit.
//!
//! The node loop hands over `Persist` actions as they come; the thread takes every persist
//! queued since its last fsync, appends them all, and covers them with a single fdatasync
//! ([`replog::storage::wal::Wal::sync`]), then reports the highest sequence number made
//! durable. While one fsync runs, the next batch gathers: many proposals share one fsync.
//!
//! A failed write or fsync (a full disk, ENOSPC; a failing device, EIO) stops the node: a
//! node that cannot make its promises durable must not make them at all (fail-stop). The
//! durable callback is never called for a persist the failure touched, so nothing that did
//! not reach the disk is acknowledged; the log line names the error and the file. (The WAL
//! itself refuses every write after its first failure, so nothing can slip through a retry.)

use model::scenario::Dist;
use replog::PersistSeq;
use replog::rng::DetRng;
use replog::storage::Storage;
use replog::storage::file::FileStorage;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Work for the disk thread.
pub enum DiskJob<R> {
    Persist {
        seq: PersistSeq,
        records: Vec<R>,
        queued: Instant,
    },
    /// Log compaction: `records` replace everything before them (a snapshot file, written
    /// and synced on its own; see `replog::storage::snapshot`).
    Checkpoint {
        seq: PersistSeq,
        records: Vec<R>,
        queued: Instant,
    },
    /// The `slow_disk` fault: sleep this long after each fsync (None: no extra delay).
    SetDelay(Option<Dist>),
}

/// What to do when the disk fails: given the reason. The node's is [`fail_stop`].
pub type OnFailure = Arc<dyn Fn(&str) + Send + Sync>;

/// What the disk thread did, for the node's stats and profile.
#[derive(Debug, Default)]
pub struct DiskCounters {
    pub fsyncs: AtomicU64,
    pub fsync_ns: AtomicU64,
    pub append_ns: AtomicU64,
    pub persists: AtomicU64,
    /// Summed over persists: from being queued to being durable.
    pub persist_wait_ns: AtomicU64,
}

/// The node loop's handle on its disk.
pub struct Disk<R> {
    tx: mpsc::Sender<DiskJob<R>>,
    pub counters: Arc<DiskCounters>,
    failed: OnFailure,
}

impl<R: Serialize + DeserializeOwned + Clone + Send + 'static> Disk<R> {
    /// Starts the disk thread; `durable(upto)` is called after each fsync with the highest
    /// persist sequence it covered. A failure of the disk ends the process ([`fail_stop`]).
    pub fn start(
        storage: FileStorage<R>,
        rng: DetRng,
        durable: impl Fn(PersistSeq) -> bool + Send + 'static,
    ) -> std::io::Result<Self> {
        Self::start_with(
            storage,
            rng,
            durable,
            Arc::new(|why: &str| -> () { fail_stop(why) }),
        )
    }

    /// [`start`](Self::start) with another answer to a failure of the disk: `failed(why)` is
    /// called once, the disk thread stops, and no persist is acknowledged any more.
    pub fn start_with(
        storage: FileStorage<R>,
        rng: DetRng,
        durable: impl Fn(PersistSeq) -> bool + Send + 'static,
        failed: OnFailure,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let counters = Arc::new(DiskCounters::default());
        let c = counters.clone();
        let on_failure = failed.clone();
        std::thread::Builder::new().name("wal".into()).spawn(move || {
            if let Err(why) = disk_thread(storage, rx, rng, &c, durable) {
                on_failure(&why);
            }
        })?;
        Ok(Disk { tx, counters, failed })
    }

    /// Queues a persist; it is acknowledged through the `durable` callback.
    pub fn persist(&self, seq: PersistSeq, records: Vec<R>) {
        let queued = Instant::now();
        if self.tx.send(DiskJob::Persist { seq, records, queued }).is_err() {
            (self.failed)("the disk thread is gone (it stopped at a failure of the disk)");
        }
    }

    /// Queues a checkpoint; it is acknowledged through the `durable` callback like a persist.
    pub fn checkpoint(&self, seq: PersistSeq, records: Vec<R>) {
        let queued = Instant::now();
        if self
            .tx
            .send(DiskJob::Checkpoint { seq, records, queued })
            .is_err()
        {
            fail_stop("the disk thread is gone");
        }
    }

    /// Sets the extra delay after each fsync.
    pub fn set_delay(&self, delay: Option<Dist>) {
        let _ = self.tx.send(DiskJob::SetDelay(delay));
    }
}

/// Appends and syncs until the node loop is gone (`Ok`) or the disk fails (`Err(why)`).
fn disk_thread<R: Serialize + DeserializeOwned + Clone>(
    mut storage: FileStorage<R>,
    rx: mpsc::Receiver<DiskJob<R>>,
    mut rng: DetRng,
    counters: &DiskCounters,
    durable: impl Fn(PersistSeq) -> bool,
) -> Result<(), String> {
    let mut delay: Option<Dist> = None;
    let mut queued_at: Vec<Instant> = Vec::new();
    let add = |c: &AtomicU64, since: Instant| {
        c.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    };
    while let Ok(first) = rx.recv() {
        let mut upto: Option<PersistSeq> = None;
        let mut job = Some(first);
        queued_at.clear();
        while let Some(j) = job {
            match j {
                DiskJob::Persist { seq, records, queued } => {
                    let started = Instant::now();
                    storage
                        .append(&records)
                        .map_err(|e| format!("appending to the write-ahead log: {e}"))?;
                    add(&counters.append_ns, started);
                    queued_at.push(queued);
                    upto = Some(upto.map_or(seq, |u: PersistSeq| u.max(seq)));
                }
                DiskJob::Checkpoint { seq, records, queued } => {
                    let started = Instant::now();
                    if let Err(e) = storage.checkpoint(&records) {
                        fail_stop(&format!("writing a snapshot of the write-ahead log: {e}"));
                    }
                    add(&counters.append_ns, started);
                    queued_at.push(queued);
                    upto = Some(upto.map_or(seq, |u: PersistSeq| u.max(seq)));
                }
                DiskJob::SetDelay(d) => delay = d,
            }
            job = rx.try_recv().ok();
        }
        let Some(upto) = upto else { continue };
        let started = Instant::now();
        storage
            .sync()
            .map_err(|e| format!("fdatasync of the write-ahead log: {e}"))?;
        add(&counters.fsync_ns, started);
        counters.fsyncs.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = &delay {
            let ns = d.sample(&mut rng);
            std::thread::sleep(std::time::Duration::from_nanos(ns));
        }
        let now = Instant::now();
        let waited: u64 = queued_at.iter().map(|q| (now - *q).as_nanos() as u64).sum();
        counters
            .persists
            .fetch_add(queued_at.len() as u64, Ordering::Relaxed);
        counters.persist_wait_ns.fetch_add(waited, Ordering::Relaxed);
        if !durable(upto) {
            return Ok(()); // the node loop is gone
        }
    }
    Ok(())
}

/// Logs `why` and ends the process with exit code 3: the node stops taking work, and what
/// it did not make durable it never acknowledged.
pub fn fail_stop(why: &str) -> ! {
    tracing::error!("fail-stop: {why}");
    eprintln!("workbench node: fail-stop: {why}; stopping, with nothing acknowledged that is not on disk");
    std::process::exit(3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::rng::rng_for;
    use replog::storage::faults::DiskFaults;
    use replog::storage::wal::WalOptions;
    use std::sync::Mutex;
    use std::time::Duration;

    type Record = (u64, Vec<u8>);

    /// What the disk reported: the highest persist acknowledged, and the failures.
    #[derive(Default)]
    struct Reports {
        acknowledged: Mutex<u64>,
        failures: Mutex<Vec<String>>,
    }

    /// Persists records 1, 2, 3, ... one at a time (each waits for its acknowledgement) on a
    /// disk with `faults` armed, until the disk fails. Returns the reports and the records a
    /// restart recovers.
    fn persist_until_the_disk_fails(arm: impl Fn(&DiskFaults)) -> (Arc<Reports>, Vec<Record>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let faults = DiskFaults::new();
        arm(&faults);
        let opts = WalOptions {
            faults: Some(faults),
            ..WalOptions::default()
        };
        let storage = FileStorage::<Record>::open(dir.path(), opts).expect("open the log");
        let reports = Arc::new(Reports::default());
        let (acked, failed) = (reports.clone(), reports.clone());
        let disk = Disk::start_with(
            storage,
            rng_for(1, 1),
            move |upto| {
                *acked.acknowledged.lock().unwrap() = upto;
                true
            },
            Arc::new(move |why: &str| failed.failures.lock().unwrap().push(why.to_string())),
        )
        .expect("start the disk thread");
        let mut seq = 0;
        while reports.failures.lock().unwrap().is_empty() && seq < 10_000 {
            seq += 1;
            disk.persist(seq, vec![(seq, vec![7; 100])]);
            // Wait for this persist's answer: acknowledged, or the disk failed.
            while *reports.acknowledged.lock().unwrap() < seq && reports.failures.lock().unwrap().is_empty() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // A persist after the failure is refused, never acknowledged.
        disk.persist(seq + 1, vec![(seq + 1, vec![7; 100])]);
        drop(disk);
        let mut restarted = FileStorage::<Record>::open(dir.path(), WalOptions::default()).expect("reopen");
        (reports, restarted.take_recovered())
    }

    fn assert_every_acknowledged_persist_survives(reports: &Reports, recovered: &[Record], error: &str) {
        let acknowledged = *reports.acknowledged.lock().unwrap();
        let failures = reports.failures.lock().unwrap().clone();
        let seqs: Vec<u64> = recovered.iter().map(|r| r.0).collect();
        assert!(
            acknowledged >= 1
                && failures.len() == 2
                && failures[0].contains(error)
                && failures[1].contains("disk thread is gone")
                && seqs.iter().copied().eq(1..=seqs.len() as u64)
                && seqs.len() as u64 >= acknowledged,
            "acknowledged up to {acknowledged}, recovered {seqs:?}, failures {failures:?}"
        );
    }

    #[test]
    fn a_full_disk_stops_the_node_and_no_acknowledged_persist_is_lost() {
        let (reports, recovered) = persist_until_the_disk_fails(|f| f.fill_after(2_000));
        assert_every_acknowledged_persist_survives(&reports, &recovered, "no space left on device");
    }

    #[test]
    fn an_fsync_error_stops_the_node_and_no_acknowledged_persist_is_lost() {
        let (reports, recovered) = persist_until_the_disk_fails(|f| f.fail_syncs_after(5));
        assert_every_acknowledged_persist_survives(&reports, &recovered, "input/output error on fsync");
        assert_eq!(*reports.acknowledged.lock().unwrap(), 5);
    }

    #[test]
    fn a_write_error_stops_the_node_and_no_acknowledged_persist_is_lost() {
        let (reports, recovered) = persist_until_the_disk_fails(|f| f.fail_writes_after(3));
        assert_every_acknowledged_persist_survives(&reports, &recovered, "input/output error");
    }
}
