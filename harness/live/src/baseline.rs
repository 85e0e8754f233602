//! What the machine itself costs, measured in the same run as the cluster: one loopback TCP
//! round trip and one fdatasync of a small append in the run's work directory. A replicated
//! write cannot be faster than a client round trip plus a durable write, so these are the
//! floor the live latencies are read against.
//!
//! The fdatasync is measured twice: from one writer alone, and from one writer per node at
//! once (as a cluster's nodes sync). On ext4 the two differ a lot: a lone writer waits for
//! the journal's next commit (about 4 ms on the machine this was written on), while
//! concurrent writers share commits and each sees a fraction of that.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Medians of the floor measurements, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub loopback_rtt_ns_p50: u64,
    /// One writer alone.
    pub fdatasync_ns_p50: u64,
    /// Each of `parallel_writers` writers, syncing at the same time.
    pub fdatasync_parallel_ns_p50: u64,
    pub parallel_writers: u32,
    pub samples: u32,
}

impl std::fmt::Display for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "loopback round trip p50 {:.1} us, fdatasync p50 {:.1} us alone and {:.1} us with {} writers at once ({} samples each)",
            self.loopback_rtt_ns_p50 as f64 / 1e3,
            self.fdatasync_ns_p50 as f64 / 1e3,
            self.fdatasync_parallel_ns_p50 as f64 / 1e3,
            self.parallel_writers,
            self.samples
        )
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Measures `samples` round trips and fsyncs, alone and from `writers` writers at once (the
/// fsync files go in `dir` and are removed).
pub async fn measure(dir: &Path, samples: u32, writers: u32) -> std::io::Result<Baseline> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let echo = tokio::spawn(async move {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let _ = s.set_nodelay(true);
        let mut b = [0u8; 64];
        while let Ok(n @ 1..) = s.read(&mut b).await {
            if s.write_all(&b[..n]).await.is_err() {
                return;
            }
        }
    });
    let mut c = TcpStream::connect(addr).await?;
    c.set_nodelay(true)?;
    let mut rtts = Vec::with_capacity(samples as usize);
    let mut b = [0u8; 64];
    for _ in 0..samples {
        let t = Instant::now();
        c.write_all(&b[..16]).await?;
        c.read_exact(&mut b[..16]).await?;
        rtts.push(t.elapsed().as_nanos() as u64);
    }
    drop(c);
    echo.abort();

    let alone = fsync_latencies(dir, 1, samples).await?;
    let writers = writers.max(1);
    let parallel = fsync_latencies(dir, writers, samples).await?;
    Ok(Baseline {
        loopback_rtt_ns_p50: median(rtts),
        fdatasync_ns_p50: median(alone),
        fdatasync_parallel_ns_p50: median(parallel),
        parallel_writers: writers,
        samples,
    })
}

/// [`measure`] from outside a tokio runtime (on one of its own).
pub fn measure_blocking(dir: &Path, samples: u32, writers: u32) -> std::io::Result<Baseline> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(measure(dir, samples, writers))
}

/// `samples` append-and-fdatasync latencies from each of `writers` threads at once, each on
/// its own file in `dir` (removed afterwards).
async fn fsync_latencies(dir: &Path, writers: u32, samples: u32) -> std::io::Result<Vec<u64>> {
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let path = dir.join(format!("baseline-fsync-{w}.tmp"));
            tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u64>> {
                let mut f = std::fs::File::create(&path)?;
                let mut out = Vec::with_capacity(samples as usize);
                for _ in 0..samples {
                    let t = Instant::now();
                    f.write_all(&[0x5a; 72])?;
                    f.sync_data()?;
                    out.push(t.elapsed().as_nanos() as u64);
                }
                drop(f);
                let _ = std::fs::remove_file(&path);
                Ok(out)
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.map_err(std::io::Error::other)??);
    }
    Ok(all)
}
