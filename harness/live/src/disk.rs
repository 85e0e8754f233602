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

/// Work for the disk thread.
pub enum DiskJob<R> {
    Persist {
        seq: PersistSeq,
        records: Vec<R>,
    },
    /// The `slow_disk` fault: sleep this long after each fsync (None: no extra delay).
    SetDelay(Option<Dist>),
}

/// The node loop's handle on its disk.
pub struct Disk<R> {
    tx: mpsc::Sender<DiskJob<R>>,
    pub fsyncs: Arc<AtomicU64>,
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
        let fsyncs = Arc::new(AtomicU64::new(0));
        let counter = fsyncs.clone();
        std::thread::Builder::new()
            .name("wal".into())
            .spawn(move || disk_thread(storage, rx, rng, counter, durable))?;
        Ok(Disk { tx, fsyncs })
    }

    /// Queues a persist; it is acknowledged through the `durable` callback.
    pub fn persist(&self, seq: PersistSeq, records: Vec<R>) {
        if self.tx.send(DiskJob::Persist { seq, records }).is_err() {
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
    fsyncs: Arc<AtomicU64>,
    durable: impl Fn(PersistSeq) -> bool,
) {
    let mut delay: Option<Dist> = None;
    while let Ok(first) = rx.recv() {
        let mut upto: Option<PersistSeq> = None;
        let mut job = Some(first);
        while let Some(j) = job {
            match j {
                DiskJob::Persist { seq, records } => {
                    if let Err(e) = storage.append(&records) {
                        fail_stop(&format!("appending to the write-ahead log: {e}"));
                    }
                    upto = Some(upto.map_or(seq, |u: PersistSeq| u.max(seq)));
                }
                DiskJob::SetDelay(d) => delay = d,
            }
            job = rx.try_recv().ok();
        }
        let Some(upto) = upto else { continue };
        if let Err(e) = storage.sync() {
            fail_stop(&format!("fdatasync of the write-ahead log: {e}"));
        }
        fsyncs.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = &delay {
            let ns = d.sample(&mut rng);
            std::thread::sleep(std::time::Duration::from_nanos(ns));
        }
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
