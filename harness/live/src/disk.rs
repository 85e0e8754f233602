//! The node's disk: one OS thread owning the file write-ahead log, with group commit.
//!
//! The node loop hands over `Persist` actions as they come; the thread takes every persist
//! queued since its last fsync, appends them all, and covers them with a single fdatasync
//! ([`replog::storage::wal::Wal::sync`]), then reports the highest sequence number made
//! durable. While one fsync runs, the next batch gathers: many proposals share one fsync.
//!
//! A failed write or fsync stops the process: a node that cannot make its promises durable
//! must not make them at all (fail-stop).

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
    /// The `slow_disk` fault: sleep this long after each fsync (None: no extra delay).
    SetDelay(Option<Dist>),
}

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
}

impl<R: Serialize + DeserializeOwned + Clone + Send + 'static> Disk<R> {
    /// Starts the disk thread; `durable(upto)` is called after each fsync with the highest
    /// persist sequence it covered.
    pub fn start(
        storage: FileStorage<R>,
        rng: DetRng,
        durable: impl Fn(PersistSeq) -> bool + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let counters = Arc::new(DiskCounters::default());
        let c = counters.clone();
        std::thread::Builder::new()
            .name("wal".into())
            .spawn(move || disk_thread(storage, rx, rng, &c, durable))?;
        Ok(Disk { tx, counters })
    }

    /// Queues a persist; it is acknowledged through the `durable` callback.
    pub fn persist(&self, seq: PersistSeq, records: Vec<R>) {
        let queued = Instant::now();
        if self.tx.send(DiskJob::Persist { seq, records, queued }).is_err() {
            fail_stop("the disk thread is gone");
        }
    }

    /// Sets the extra delay after each fsync.
    pub fn set_delay(&self, delay: Option<Dist>) {
        let _ = self.tx.send(DiskJob::SetDelay(delay));
    }
}

fn disk_thread<R: Serialize + DeserializeOwned + Clone>(
    mut storage: FileStorage<R>,
    rx: mpsc::Receiver<DiskJob<R>>,
    mut rng: DetRng,
    counters: &DiskCounters,
    durable: impl Fn(PersistSeq) -> bool,
) {
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
                    if let Err(e) = storage.append(&records) {
                        fail_stop(&format!("appending to the write-ahead log: {e}"));
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
        if let Err(e) = storage.sync() {
            fail_stop(&format!("fdatasync of the write-ahead log: {e}"));
        }
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
            return; // the node loop is gone
        }
    }
}

/// Logs `why` and ends the process with exit code 3.
pub fn fail_stop(why: &str) -> ! {
    tracing::error!("fail-stop: {why}");
    eprintln!("workbench node: fail-stop: {why}");
    std::process::exit(3)
}
