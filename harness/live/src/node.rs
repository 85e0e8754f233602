//! One live node: a protocol behind [`ReplicatedLog`] driven by real time, real sockets and
//! the file write-ahead log, with the key-value state machine on top.
//!
//! One task owns the protocol and runs the loop the trait describes: feed in an input (a
//! peer message, a client request, an fsync completion, a timer) and let the node's
//! [`NodeHost`] carry out its actions in order. `Persist` goes to the disk thread
//! ([`crate::disk`]); a `Send` waiting for a persist is held by the host until the disk
//! confirms it (durability before acknowledgement); `Commit` is applied to the [`KvStore`]
//! and answers the client that asked, if it asked here.
//! Everything else (accepting connections, reading and writing frames) runs in small tasks
//! around it that talk to the loop through one bounded inbox.

use crate::admin::{AdminLog, kv_digest};
use crate::cluster::ClusterFile;
use crate::codec::{
    AdminEvent, AdminRequest, ClientRequest, ClientResponse, ConnKind, FinalState, Hello, read_frame,
    write_frames,
};
use crate::disk::{Disk, fail_stop};
use crate::profile::{NodeProfile, thread_cpu_ns};
use crate::transport::{PeerUp, Transport};
use anyhow::{Context, bail};
use model::run::NodeStats;
use replog::command::ClientCommand;
use replog::rng::{mix, rng_for};
use replog::storage::file::FileStorage;
use replog::storage::wal::{Tail, WalOptions};
use replog::{
    ClientId, Command, HostIo, KvResult, KvStore, LogIndex, Nanos, NodeHost, NodeId, NotLeader, Op,
    PersistSeq, ReadPath, ReplicatedLog, SnapshotImage,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::BufReader;
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

/// The open request of each client that asked this node, and where to answer it.
type Waiting = HashMap<ClientId, (u64, mpsc::UnboundedSender<ClientResponse>)>;

/// The node loop's state.
struct NodeRuntime<L: ReplicatedLog> {
    id: NodeId,
    host: NodeHost<L>,
    kv: KvStore,
    clock: LocalClock,
    transport: Transport<L::Message>,
    disk: Disk<L::Record>,
    waiting: Waiting,
    admin: AdminLog,
    msgs_received: u64,
    busy_ns: u64,
    /// Time in [`Self::handle`] and timers: the protocol and applying commits.
    handled_ns: u64,
    apply: ApplyCounters,
    /// How reads are answered (`[protocol] read_path`): other than `log`, a `Get` is
    /// registered with the node instead of proposed.
    read_path: ReadPath,
}

/// Time spent applying commits to the state machine (and queueing the answers).
#[derive(Debug, Default)]
struct ApplyCounters {
    ns: u64,
    commands: u64,
}

/// The process as the backend of the node's host: the WAL thread, the peer transport, the
/// state machine and the clients.
struct LiveIo<'a, L: ReplicatedLog> {
    id: NodeId,
    disk: &'a Disk<L::Record>,
    transport: &'a mut Transport<L::Message>,
    kv: &'a mut KvStore,
    waiting: &'a mut Waiting,
    admin: &'a mut AdminLog,
    apply: &'a mut ApplyCounters,
}

impl<L: ReplicatedLog> HostIo<L> for LiveIo<'_, L> {
    fn persist(&mut self, seq: PersistSeq, records: Vec<L::Record>) {
        self.disk.persist(seq, records);
    }

    fn send(&mut self, to: NodeId, msg: L::Message) {
        self.transport.send(to, msg);
    }

    fn commit(&mut self, index: LogIndex, cmd: Command) {
        let started = Instant::now();
        self.commit_inner(index, cmd);
        self.apply.ns += started.elapsed().as_nanos() as u64;
    }

    fn checkpoint(&mut self, seq: PersistSeq, records: Vec<L::Record>) {
        self.disk.checkpoint(seq, records);
    }

    fn image(&mut self, index: LogIndex) -> SnapshotImage {
        self.report_snapshot(index, false);
        SnapshotImage::new(self.kv.image())
    }

    fn restore(&mut self, index: LogIndex, image: &SnapshotImage) {
        match KvStore::from_image(image.bytes()) {
            Ok(kv) => *self.kv = kv,
            Err(e) => crate::disk::fail_stop(&format!("restoring the snapshot at index {index}: {e}")),
        }
        self.report_snapshot(index, true);
    }

    /// A read without the log: answered from the state machine as it is now.
    fn serve_read(&mut self, cmd: ClientCommand) {
        let value = self.kv.get(cmd.op.key()).map(str::to_string);
        self.answer(cmd, Ok(KvResult::Read(value)));
    }

    fn refuse_read(&mut self, cmd: ClientCommand, not_leader: NotLeader) {
        self.answer(cmd, Err(not_leader));
    }
}

impl<L: ReplicatedLog> LiveIo<'_, L> {
    /// Answers the client waiting on `cmd`, if it still waits on it.
    fn answer(&mut self, cmd: ClientCommand, result: Result<KvResult, NotLeader>) {
        if self
            .waiting
            .get(&cmd.client)
            .is_some_and(|(seq, _)| *seq == cmd.seq)
            && let Some((_, reply)) = self.waiting.remove(&cmd.client)
        {
            let _ = reply.send(ClientResponse {
                client: cmd.client,
                seq: cmd.seq,
                node: self.id,
                result,
            });
        }
    }
}

impl<L: ReplicatedLog> LiveIo<'_, L> {
    /// Tells the harness, after the commits before it, about a snapshot taken or restored.
    fn report_snapshot(&mut self, index: LogIndex, restored: bool) {
        self.admin.flush_commits();
        self.admin.push(AdminEvent::Snapshot {
            index,
            digest: self.kv.digest(),
            restored,
        });
    }

    fn commit_inner(&mut self, index: LogIndex, cmd: Command) {
        self.admin.commit(index, cmd.id());
        if matches!(cmd, Command::Client(_)) {
            self.apply.commands += 1;
        }
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

impl<L: ReplicatedLog> NodeRuntime<L> {
    /// Runs `f` on the host with this process as its backend.
    fn with_host(&mut self, f: impl FnOnce(&mut NodeHost<L>, &mut LiveIo<'_, L>)) {
        let mut io = LiveIo {
            id: self.id,
            disk: &self.disk,
            transport: &mut self.transport,
            kv: &mut self.kv,
            waiting: &mut self.waiting,
            admin: &mut self.admin,
            apply: &mut self.apply,
        };
        f(&mut self.host, &mut io);
    }

    fn handle(&mut self, input: Input<L::Message>) {
        let started = Instant::now();
        self.handle_inner(input);
        self.handled_ns += started.elapsed().as_nanos() as u64;
    }

    fn handle_inner(&mut self, input: Input<L::Message>) {
        let now = self.clock.now();
        match input {
            Input::Peer { from, msg } => {
                self.msgs_received += 1;
                self.with_host(|host, io| host.step(now, from, msg, io));
            }
            Input::Request { cmd, reply } => {
                let (client, seq) = (cmd.client, cmd.seq);
                let off_log = self.read_path != ReadPath::Log && matches!(*cmd.op, Op::Get { .. });
                let accepted = if off_log {
                    self.host.read(now, cmd)
                } else {
                    self.host.propose(now, Command::Client(cmd))
                };
                match accepted {
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
                self.with_host(|host, io| host.carry_out(io));
            }
            Input::Persisted(upto) => self.with_host(|host, io| host.persisted(now, upto, io)),
            Input::Admin(AdminRequest::SetFaults(f)) => {
                self.transport.set_faults(&f.links, f.duplicate);
                self.clock.set_rate(f.clock_rate);
                self.disk.set_delay(f.fsync_delay);
            }
            Input::Admin(AdminRequest::Final) => {
                let state = FinalState {
                    status: self.host.status(),
                    kv_digest: kv_digest(&self.kv),
                    kv_applied: self.kv.applied_count(),
                    stats: self.stats(),
                    profile: self.profile(),
                };
                self.admin.push(AdminEvent::Final(Box::new(state)));
            }
            Input::AdminAttach(tx) => self.admin.attach(tx),
        }
    }

    fn tick_if_due(&mut self) {
        let now = self.clock.now();
        if self.host.next_deadline().is_some_and(|d| d <= now) {
            let started = Instant::now();
            self.with_host(|host, io| host.tick(now, io));
            self.handled_ns += started.elapsed().as_nanos() as u64;
        }
    }

    /// After a burst of inputs: report commits and status changes to the harness.
    fn after_burst(&mut self) {
        self.admin.flush_commits();
        if let Some(status) = self.host.status_change() {
            tracing::debug!(role = ?status.role, epoch = %status.epoch, hint = ?status.leader_hint, "status");
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
            fsyncs: self.disk.counters.fsyncs.load(Ordering::Relaxed),
            crashes: 0,
            busy_ns: self.busy_ns,
        }
    }

    /// Where the node's time went so far (see [`crate::profile`]). Call it from the node
    /// thread: its CPU time is the calling thread's.
    fn profile(&self) -> NodeProfile {
        let d = &self.disk.counters;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        NodeProfile {
            cpu_ns: thread_cpu_ns(),
            protocol_ns: self.handled_ns.saturating_sub(self.apply.ns),
            apply_ns: self.apply.ns,
            peer_send_ns: load(&self.transport.counters.send_ns),
            wal_append_ns: load(&d.append_ns),
            fsync_ns: load(&d.fsync_ns),
            fsyncs: load(&d.fsyncs),
            persists: load(&d.persists),
            persist_wait_ns: load(&d.persist_wait_ns),
            commands_applied: self.apply.commands,
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
    let transport: Transport<L::Message> = Transport::start(id, &addrs, rng_for(seed, 0x7a45));
    let members = cluster.members();
    let host = NodeHost::<L>::boot(id, &members, &cluster.config, recovered, seed);
    let mut admin = AdminLog::default();
    admin.push(AdminEvent::Booted {
        id,
        protocol: L::NAME.to_string(),
        recovered_records,
    });
    let mut rt = NodeRuntime {
        id,
        host,
        kv: KvStore::new(),
        clock: LocalClock::new(),
        transport,
        disk,
        waiting: HashMap::new(),
        admin,
        msgs_received: 0,
        busy_ns: 0,
        handled_ns: 0,
        apply: ApplyCounters::default(),
        read_path: cluster.config.read_path,
    };
    rt.with_host(|host, io| host.carry_out(io));
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
        let deadline = rt.host.next_deadline().map_or(far, |d| rt.clock.instant_of(d));
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

/// `workbench node`: parses the cluster file and runs the node on a single-threaded runtime.
pub fn node_main(cluster_path: &Path, id: u32, data: &Path) -> anyhow::Result<()> {
    let cluster = ClusterFile::load(cluster_path)?;
    if std::env::var_os(crate::supervisor::PARENT_WATCH_ENV).is_some() {
        watch_parent();
    }
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let protocol = cluster.protocol;
    let id = NodeId(id);
    model::with_protocol!(protocol, L => rt.block_on(run_node::<L>(cluster, id, data)))?
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
