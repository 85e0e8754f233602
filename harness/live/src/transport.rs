//! Peer-to-peer transport of a node: one outgoing TCP connection per peer, reconnected with
//! exponential backoff, and the fault layer the harness controls (cut links, loss, extra
//! delay, duplication), applied on the sending side so that "a cannot reach b" means exactly
//! the directed link a -> b, as in the simulator.
//!
//! Messages to a peer that is unreachable are dropped, not queued: the protocols already
//! retransmit, and a flood of stale messages after a partition heals would only distort the
//! numbers. Each peer's queue is bounded by [`PEER_QUEUE`].
//!
//! A peer that connects to this node is up, so the sender to it stops waiting out its backoff
//! ([`PeerUp`]): a restarted node hears from the leader within a heartbeat, as in the
//! simulator, instead of up to [`BACKOFF_MAX`] later, when its election timer may already
//! have fired.

use crate::codec::{ConnKind, Hello, LinkFault, encode_frame};
use rand::RngExt;
use replog::rng::DetRng;
use replog::{NodeId, WireSize};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

/// Messages queued for one peer before new ones are dropped.
pub const PEER_QUEUE: usize = 16 * 1024;
/// Bytes gathered into one write.
const WRITE_BATCH_BYTES: usize = 256 * 1024;
/// First wait after a failed connection attempt; doubles up to [`BACKOFF_MAX`].
pub const BACKOFF_MIN: Duration = Duration::from_millis(5);
pub const BACKOFF_MAX: Duration = Duration::from_millis(200);
/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// A message on its way out, held until `release`.
struct Outgoing<M> {
    release: Option<Instant>,
    msg: M,
}

/// Counters shared with the node's stats.
#[derive(Debug, Default)]
pub struct TransportCounters {
    pub msgs_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub msgs_dropped: AtomicU64,
    /// Time spent encoding messages and writing them to peers' sockets.
    pub send_ns: AtomicU64,
}

/// Tells the sender to a peer that the peer is up (it just connected to this node), so that
/// a sender waiting out a reconnect backoff tries again at once.
#[derive(Clone)]
pub struct PeerUp(Arc<Vec<Notify>>);

impl PeerUp {
    fn new(nodes: usize) -> Self {
        PeerUp(Arc::new((0..nodes).map(|_| Notify::new()).collect()))
    }

    /// `peer` connected to this node.
    pub fn notify(&self, peer: NodeId) {
        if let Some(n) = self.0.get(peer.index()) {
            n.notify_one();
        }
    }

    async fn wait(&self, peer: NodeId) {
        match self.0.get(peer.index()) {
            Some(n) => n.notified().await,
            None => std::future::pending().await,
        }
    }
}

/// The sending half of a node's transport.
pub struct Transport<M> {
    peers: Vec<Option<mpsc::Sender<Outgoing<M>>>>,
    up: PeerUp,
    links: Vec<LinkFault>,
    duplicate: f64,
    rng: DetRng,
    /// Release time of the last delayed message per peer, so delayed messages stay in order.
    last_release: Vec<Option<Instant>>,
    pub counters: Arc<TransportCounters>,
}

impl<M: Serialize + WireSize + Clone + Send + 'static> Transport<M> {
    /// Starts a sender task per peer in `addrs` (indexed by node id; `me` is skipped).
    pub fn start(me: NodeId, addrs: &[String], rng: DetRng) -> Self {
        let counters = Arc::new(TransportCounters::default());
        let up = PeerUp::new(addrs.len());
        let peers = addrs
            .iter()
            .enumerate()
            .map(|(i, addr)| {
                if i == me.index() {
                    return None;
                }
                let (tx, rx) = mpsc::channel(PEER_QUEUE);
                tokio::spawn(peer_sender(
                    me,
                    NodeId(i as u32),
                    addr.clone(),
                    rx,
                    counters.clone(),
                    up.clone(),
                ));
                Some(tx)
            })
            .collect();
        Transport {
            peers,
            up,
            links: vec![LinkFault::default(); addrs.len()],
            duplicate: 0.0,
            rng,
            last_release: vec![None; addrs.len()],
            counters,
        }
    }

    /// The handle that reports peers connecting to this node (see [`PeerUp`]).
    pub fn peer_up(&self) -> PeerUp {
        self.up.clone()
    }

    /// Replaces the fault layer's settings.
    pub fn set_faults(&mut self, links: &[LinkFault], duplicate: f64) {
        for (i, l) in self.links.iter_mut().enumerate() {
            *l = links.get(i).cloned().unwrap_or_default();
        }
        self.duplicate = duplicate.clamp(0.0, 1.0);
    }

    /// Sends `msg` to `to` through the fault layer.
    pub fn send(&mut self, to: NodeId, msg: M) {
        let Some(Some(tx)) = self.peers.get(to.index()) else {
            return;
        };
        let link = &self.links[to.index()];
        if link.blocked || (link.loss > 0.0 && self.rng.random_bool(link.loss.clamp(0.0, 1.0))) {
            self.counters.msgs_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let release = if link.extra_delay_ns > 0 {
            let at = Instant::now() + Duration::from_nanos(link.extra_delay_ns);
            // A later message never overtakes an earlier one, as on one TCP stream.
            let at = self.last_release[to.index()].map_or(at, |prev| at.max(prev));
            self.last_release[to.index()] = Some(at);
            Some(at)
        } else {
            None
        };
        let duplicate = self.duplicate > 0.0 && self.rng.random_bool(self.duplicate);
        let extra = duplicate.then(|| msg.clone());
        for msg in std::iter::once(msg).chain(extra) {
            if tx.try_send(Outgoing { release, msg }).is_err() {
                self.counters.msgs_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Connects to `addr` with `TCP_NODELAY` and sends the hello for `kind`.
pub async fn connect(addr: &str, kind: ConnKind) -> std::io::Result<TcpStream> {
    let mut stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, format!("connecting to {addr}")))??;
    stream.set_nodelay(true)?;
    let mut hello = Vec::new();
    encode_frame(&Hello::new(kind), &mut hello).map_err(std::io::Error::other)?;
    stream.write_all(&hello).await?;
    Ok(stream)
}

/// Keeps a connection to one peer and writes its queued messages, in batches.
async fn peer_sender<M: Serialize + WireSize>(
    me: NodeId,
    peer: NodeId,
    addr: String,
    mut rx: mpsc::Receiver<Outgoing<M>>,
    counters: Arc<TransportCounters>,
    up: PeerUp,
) {
    let mut backoff = BACKOFF_MIN;
    let mut buf = Vec::with_capacity(WRITE_BATCH_BYTES);
    let mut carried: Option<Outgoing<M>> = None;
    loop {
        let mut stream = match connect(&addr, ConnKind::Peer { from: me }).await {
            Ok(s) => {
                tracing::debug!(%peer, %addr, "connected to peer");
                backoff = BACKOFF_MIN;
                s
            }
            Err(e) => {
                tracing::trace!(%peer, %addr, error = %e, "peer unreachable");
                // Whatever was queued while the peer was unreachable is stale: drop it.
                let deadline = Instant::now() + backoff;
                loop {
                    tokio::select! {
                        m = rx.recv() => match m {
                            Some(_) => { counters.msgs_dropped.fetch_add(1, Ordering::Relaxed); }
                            None => return,
                        },
                        _ = tokio::time::sleep_until(deadline) => break,
                        // It connected to us, so it listens again: no need to wait longer.
                        _ = up.wait(peer) => break,
                    }
                }
                if carried.take().is_some() {
                    counters.msgs_dropped.fetch_add(1, Ordering::Relaxed);
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        loop {
            let first = match carried.take() {
                Some(m) => m,
                None => match rx.recv().await {
                    Some(m) => m,
                    None => return,
                },
            };
            if let Some(at) = first.release {
                tokio::time::sleep_until(at).await;
            }
            let started = Instant::now();
            buf.clear();
            let mut batch = 1u64;
            let mut bytes = first.msg.wire_size() as u64;
            let mut ok = encode_frame(&first.msg, &mut buf).is_ok();
            while ok && buf.len() < WRITE_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(m) if m.release.is_none_or(|at| at <= Instant::now()) => {
                        bytes += m.msg.wire_size() as u64;
                        batch += 1;
                        ok = encode_frame(&m.msg, &mut buf).is_ok();
                    }
                    Ok(m) => {
                        carried = Some(m);
                        break;
                    }
                    Err(_) => break,
                }
            }
            if !ok {
                tracing::error!(%peer, "a protocol message does not encode; dropped");
                continue;
            }
            let written = stream.write_all(&buf).await;
            counters
                .send_ns
                .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            if let Err(e) = written {
                tracing::debug!(%peer, error = %e, "peer connection lost");
                counters.msgs_dropped.fetch_add(batch, Ordering::Relaxed);
                break;
            }
            counters.msgs_sent.fetch_add(batch, Ordering::Relaxed);
            counters.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
        }
    }
}
