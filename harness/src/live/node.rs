//! One live node: a protocol behind [`ReplicatedLog`] driven by real time, real sockets and
//! the file write-ahead log, with the key-value state machine on top.
//!
//! One task owns the protocol and runs the loop the trait describes: feed in an input (a
//! peer message, a client request, an fsync completion, a timer), drain the actions and carry
//! them out in order. `Persist` goes to the disk thread ([`super::disk`]); a `Send` waiting
//! for a persist is held until the disk confirms it (durability before acknowledgement);
//! `Commit` is applied to the [`KvStore`] and answers the client that asked, if it asked here.
//! Everything else (accepting connections, reading and writing frames) runs in small tasks
//! around it that talk to the loop through one bounded inbox.

use super::admin::{AdminLog, kv_digest};
use super::cluster::ClusterFile;
use super::codec::{
    AdminEvent, AdminRequest, ClientRequest, ClientResponse, ConnKind, FinalState, Hello, encode_frame,
    read_frame,
};
use super::disk::{Disk, fail_stop};
use super::transport::{PeerUp, Transport};
use crate::sim::NodeStats;
use anyhow::{Context, bail};
use replog::command::ClientCommand;
use replog::rng::{mix, rng_for};
use replog::storage::file::FileStorage;
use replog::storage::wal::{Tail, WalOptions};
use replog::{Action, ClientId, Command, KvStore, Nanos, NodeId, PersistSeq, ReplicatedLog, Status};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Inputs queued for the node loop before readers wait.
pub const INBOX: usize = 64 * 1024;
/// Inputs handled before the loop carries out side effects that batch (admin reports).
const BURST: usize = 512;
/// How often a node reports its counters to the harness.
const STATS_EVERY: Duration = Duration::from_millis(250);
/// How long a new connection may take to say what it is.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// What the node loop reacts to.
enum Input<M> {
    Peer {
        from: NodeId,
        msg: M,
    },
    Request {
        cmd: ClientCommand,
        reply: mpsc::UnboundedSender<ClientResponse>,
    },
    Persisted(PersistSeq),
    Admin(AdminRequest),
    AdminAttach(mpsc::UnboundedSender<AdminEvent>),
}

/// A node's clock: real time since the process started, running `rate` times as fast (the
/// `clock_skew` fault). Protocol deadlines are in this clock.
struct LocalClock {
    origin: Instant,
    anchor_real: Nanos,
    anchor_local: Nanos,
    rate: f64,
}

impl LocalClock {
    fn new() -> Self {
        LocalClock {
            origin: Instant::now(),
            anchor_real: 0,
            anchor_local: 0,
            rate: 1.0,
        }
    }

    fn real(&self) -> Nanos {
        self.origin.elapsed().as_nanos() as Nanos
    }

    fn now(&self) -> Nanos {
        let real = self.real().max(self.anchor_real);
        self.anchor_local + ((real - self.anchor_real) as f64 * self.rate) as Nanos
    }

    /// The real instant at which this clock reads `local`.
    fn instant_of(&self, local: Nanos) -> Instant {
        let ahead = local.saturating_sub(self.anchor_local) as f64 / self.rate;
        // Rounded up, so that at the instant the clock has reached `local`.
        self.origin + Duration::from_nanos(self.anchor_real + ahead.ceil() as Nanos + 1)
    }

    fn set_rate(&mut self, rate: f64) {
        if !(rate.is_finite() && rate > 0.0) || rate == self.rate {
            return;
        }
        let local = self.now();
        self.anchor_real = self.real();
        self.anchor_local = local;
        self.rate = rate;
    }
}

/// The node loop's state.
struct NodeRuntime<L: ReplicatedLog> {
    id: NodeId,
    node: L,
    kv: KvStore,
    clock: LocalClock,
    transport: Transport<L::Message>,
    disk: Disk<L::Record>,
    durable_seq: PersistSeq,
    /// Messages waiting for a persist: released once `durable_seq` reaches the key.
    held: BTreeMap<PersistSeq, Vec<(NodeId, L::Message)>>,
    /// The open request of each client that asked this node, and where to answer it.
    waiting: HashMap<ClientId, (u64, mpsc::UnboundedSender<ClientResponse>)>,
    admin: AdminLog,
    last_status: Option<Status>,
    actions: Vec<Action<L::Message, L::Record>>,
    msgs_received: u64,
    busy_ns: u64,
}

impl<L: ReplicatedLog> NodeRuntime<L> {
    fn handle(&mut self, input: Input<L::Message>) {
        let now = self.clock.now();
        match input {
            Input::Peer { from, msg } => {
                self.msgs_received += 1;
                self.node.step(now, from, msg);
            }
            Input::Request { cmd, reply } => {
                let (client, seq) = (cmd.client, cmd.seq);
                match self.node.propose(now, Command::Client(cmd)) {
                    Ok(()) => {
                        self.waiting.insert(client, (seq, reply));
                    }
                    Err(not_leader) => {
                        let _ = reply.send(ClientResponse {
                            client,
                            seq,
                            node: self.id,
                            result: Err(not_leader),
                        });
                    }
                }
            }
            Input::Persisted(upto) => {
                self.durable_seq = self.durable_seq.max(upto);
                self.node.persisted(now, upto);
                let still_held = self.held.split_off(&(self.durable_seq + 1));
                for (_, msgs) in std::mem::replace(&mut self.held, still_held) {
                    for (to, msg) in msgs {
                        self.transport.send(to, msg);
                    }
                }
            }
            Input::Admin(AdminRequest::SetFaults(f)) => {
                self.transport.set_faults(&f.links, f.duplicate);
                self.clock.set_rate(f.clock_rate);
                self.disk.set_delay(f.fsync_delay);
            }
            Input::Admin(AdminRequest::Final) => {
                let state = FinalState {
                    status: self.node.status(),
                    kv_digest: kv_digest(&self.kv),
                    kv_applied: self.kv.applied_count(),
                    stats: self.stats(),
                };
                self.admin.push(AdminEvent::Final(state));
            }
            Input::AdminAttach(tx) => self.admin.attach(tx),
        }
        self.carry_out();
    }

    fn tick_if_due(&mut self) {
        let now = self.clock.now();
        if self.node.next_deadline().is_some_and(|d| d <= now) {
            self.node.tick(now);
            self.carry_out();
        }
    }

    /// Drains the protocol's actions and carries them out in order.
    fn carry_out(&mut self) {
        let mut actions = std::mem::take(&mut self.actions);
        self.node.take_actions(&mut actions);
        for action in actions.drain(..) {
            match action {
                Action::Persist { seq, records } => self.disk.persist(seq, records),
                Action::Send { to, msg, after } => match after {
                    Some(seq) if seq > self.durable_seq => self.held.entry(seq).or_default().push((to, msg)),
                    _ => self.transport.send(to, msg),
                },
                Action::Commit { index, cmd } => {
                    self.admin.commit(index, cmd.id());
                    let applied = self.kv.apply(&cmd);
                    if let Command::Client(c) = &cmd
                        && let Some(result) = applied.result()
                        && self.waiting.get(&c.client).is_some_and(|(seq, _)| *seq == c.seq)
                        && let Some((_, reply)) = self.waiting.remove(&c.client)
                    {
                        let _ = reply.send(ClientResponse {
                            client: c.client,
                            seq: c.seq,
                            node: self.id,
                            result: Ok(result.clone()),
                        });
                    }
                }
            }
        }
        self.actions = actions;
    }

    /// After a burst of inputs: report commits and status changes to the harness.
    fn after_burst(&mut self) {
        self.admin.flush_commits();
        let status = self.node.status();
        let changed = self.last_status.is_none_or(|s| {
            s.role != status.role || s.epoch != status.epoch || s.leader_hint != status.leader_hint
        });
        if changed {
            tracing::debug!(role = ?status.role, epoch = %status.epoch, hint = ?status.leader_hint, "status");
            self.last_status = Some(status);
            self.admin.push(AdminEvent::Status(status));
        }
    }

    fn stats(&self) -> NodeStats {
        let c = &self.transport.counters;
        NodeStats {
            msgs_sent: c.msgs_sent.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            msgs_received: self.msgs_received,
            msgs_dropped: c.msgs_dropped.load(Ordering::Relaxed),
            fsyncs: self.disk.fsyncs.load(Ordering::Relaxed),
            crashes: 0,
            busy_ns: self.busy_ns,
        }
    }
}

/// Runs node `id` of `cluster` with protocol `L` until the process is killed.
pub async fn run_node<L: ReplicatedLog>(cluster: ClusterFile, id: NodeId, data: &Path) -> anyhow::Result<()> {
    let Some(me) = cluster.node(id).cloned() else {
        bail!(
            "node {} is not in the cluster file (ids 0..{})",
            id.0,
            cluster.nodes.len()
        );
    };
    let wal_dir = data.join("wal");
    let mut storage: FileStorage<L::Record> = FileStorage::open(&wal_dir, WalOptions::default())
        .with_context(|| format!("opening the write-ahead log in {}", wal_dir.display()))?;
    if let Tail::Damaged(d) = storage.tail() {
        tracing::warn!(damage = %d, "recovered the write-ahead log up to a damaged tail");
    }
    let recovered = storage.take_recovered();
    let recovered_records = recovered.len() as u64;
    let listener = TcpListener::bind(me.listen_addr())
        .await
        .with_context(|| format!("binding {}", me.listen_addr()))?;
    tracing::info!(
        node = %id,
        protocol = L::NAME,
        listen = me.listen_addr(),
        recovered_records,
        "node starting"
    );

    let (inbox_tx, mut inbox) = mpsc::channel::<Input<L::Message>>(INBOX);
    // Timers differ from one boot to the next, and from node to node, but derive from the seed.
    let boot_nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let seed = mix(mix(cluster.seed, id.0 as u64 + 1), boot_nanos);
    let durable_tx = inbox_tx.clone();
    let disk = Disk::start(storage, rng_for(seed, 0xd15c), move |upto| {
        durable_tx.blocking_send(Input::Persisted(upto)).is_ok()
    })
    .context("starting the disk thread")?;
    let addrs: Vec<String> = cluster.nodes.iter().map(|n| n.addr.clone()).collect();
    let transport = Transport::start(id, &addrs, rng_for(seed, 0x7a45));
    let members = cluster.members();
    let node = L::boot(id, &members, &cluster.protocol_config(), recovered, seed);
    let mut admin = AdminLog::default();
    admin.push(AdminEvent::Booted {
        id,
        protocol: L::NAME.to_string(),
        recovered_records,
    });
    let mut rt = NodeRuntime {
        id,
        node,
        kv: KvStore::new(),
        clock: LocalClock::new(),
        transport,
        disk,
        durable_seq: 0,
        held: BTreeMap::new(),
        waiting: HashMap::new(),
        admin,
        last_status: None,
        actions: Vec::new(),
        msgs_received: 0,
        busy_ns: 0,
    };
    rt.carry_out();
    rt.after_burst();

    let peer_up = rt.transport.peer_up();
    tokio::spawn(accept_loop::<L::Message>(
        listener,
        id,
        members.len(),
        inbox_tx,
        peer_up,
    ));
    let mut stats_every = tokio::time::interval(STATS_EVERY);
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    loop {
        let deadline = rt.node.next_deadline().map_or(far, |d| rt.clock.instant_of(d));
        tokio::select! {
            input = inbox.recv() => {
                let Some(input) = input else { break };
                let started = Instant::now();
                rt.handle(input);
                for _ in 0..BURST {
                    match inbox.try_recv() {
                        Ok(input) => rt.handle(input),
                        Err(_) => break,
                    }
                }
                rt.tick_if_due();
                rt.after_burst();
                rt.busy_ns += started.elapsed().as_nanos() as u64;
            }
            _ = tokio::time::sleep_until(deadline) => {
                let started = Instant::now();
                rt.tick_if_due();
                rt.after_burst();
                rt.busy_ns += started.elapsed().as_nanos() as u64;
            }
            _ = stats_every.tick() => {
                let stats = rt.stats();
                rt.admin.push(AdminEvent::Stats(stats));
            }
        }
    }
    Ok(())
}

/// Accepts connections and starts a task for each, by the kind its hello names.
async fn accept_loop<M: ReplicatedMessage>(
    listener: TcpListener,
    me: NodeId,
    nodes: usize,
    inbox: mpsc::Sender<Input<M>>,
    peer_up: PeerUp,
) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let inbox = inbox.clone();
        let peer_up = peer_up.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, me, nodes, inbox, peer_up).await {
                tracing::debug!(%from, error = %e, "connection closed");
            }
        });
    }
}

/// What a peer message must be to cross the wire.
pub trait ReplicatedMessage: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {}
impl<T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static> ReplicatedMessage for T {}

async fn serve_connection<M: ReplicatedMessage>(
    stream: TcpStream,
    me: NodeId,
    nodes: usize,
    inbox: mpsc::Sender<Input<M>>,
    peer_up: PeerUp,
) -> anyhow::Result<()> {
    let (r, w) = stream.into_split();
    let mut r = BufReader::with_capacity(64 * 1024, r);
    let mut buf = Vec::new();
    let hello: Hello = match tokio::time::timeout(HELLO_TIMEOUT, read_frame(&mut r, &mut buf)).await {
        Ok(Ok(Some(h))) => h,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(e)) => bail!("reading hello: {e}"),
        Err(_) => bail!("no hello within {HELLO_TIMEOUT:?}"),
    };
    if let Some(p) = hello.problem() {
        bail!("refused: {p}");
    }
    match hello.kind {
        ConnKind::Peer { from } => {
            if from.index() >= nodes || from == me {
                bail!("refused: peer {from} is not another member of this cluster");
            }
            peer_up.notify(from);
            while let Some(msg) = read_frame::<_, M>(&mut r, &mut buf).await? {
                if inbox.send(Input::Peer { from, msg }).await.is_err() {
                    break;
                }
            }
        }
        ConnKind::Client => {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_frames(w, rx));
            while let Some(req) = read_frame::<_, ClientRequest>(&mut r, &mut buf).await? {
                let input = Input::Request {
                    cmd: req.cmd,
                    reply: tx.clone(),
                };
                if inbox.send(input).await.is_err() {
                    break;
                }
            }
        }
        ConnKind::Admin => {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_frames(w, rx));
            if inbox.send(Input::AdminAttach(tx)).await.is_err() {
                return Ok(());
            }
            while let Some(req) = read_frame::<_, AdminRequest>(&mut r, &mut buf).await? {
                if inbox.send(Input::Admin(req)).await.is_err() {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Writes every message from `rx` as a frame, gathering what is queued into one write.
pub async fn write_frames<T: serde::Serialize, W: tokio::io::AsyncWrite + Unpin>(
    mut w: W,
    mut rx: mpsc::UnboundedReceiver<T>,
) {
    let mut buf = Vec::new();
    while let Some(first) = rx.recv().await {
        buf.clear();
        if encode_frame(&first, &mut buf).is_err() {
            continue;
        }
        while buf.len() < 256 * 1024 {
            match rx.try_recv() {
                Ok(m) => {
                    let _ = encode_frame(&m, &mut buf);
                }
                Err(_) => break,
            }
        }
        if w.write_all(&buf).await.is_err() {
            return;
        }
    }
}

/// `workbench node`: parses the cluster file and runs the node on a single-threaded runtime.
pub fn node_main(cluster_path: &Path, id: u32, data: &Path) -> anyhow::Result<()> {
    let cluster = ClusterFile::load(cluster_path)?;
    if std::env::var_os(super::supervisor::PARENT_WATCH_ENV).is_some() {
        watch_parent();
    }
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let protocol = cluster.protocol.clone();
    let id = NodeId(id);
    crate::with_protocol!(protocol.as_str(), L => rt.block_on(run_node::<L>(cluster, id, data)))
        .map_err(anyhow::Error::msg)?
}

/// Ends the process when its stdin closes: the harness holds the other end, so a harness that
/// dies, even by SIGKILL, takes its nodes with it.
fn watch_parent() {
    let spawned = std::thread::Builder::new().name("parent-watch".into()).spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        loop {
            match std::io::Read::read(&mut stdin, &mut sink) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
    if spawned.is_err() {
        fail_stop("cannot start the parent-watch thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_clock_reaches_a_deadline_sooner_in_real_time() {
        let mut c = LocalClock::new();
        c.set_rate(2.0);
        let now = c.now();
        let at = c.instant_of(now + 100_000_000);
        let real = at.saturating_duration_since(Instant::now());
        assert!(real <= Duration::from_millis(51), "{real:?}");
    }
}
