//! `workbench run --backend live`: a scenario on real processes.
//!
//! 1. Measure the machine's floor ([`super::baseline`]): a loopback round trip, an fdatasync.
//! 2. Start the cluster as child processes on free 127.0.0.1 ports: `workbench node` with a
//!    generated cluster file, or etcd members. Wait until every node is up and one leads;
//!    that instant is time 0 of the run.
//! 3. Drive the scenario with the same [`ScenarioDriver`] the simulator uses: its clients
//!    over TCP, its fault schedule through this cluster as a [`Backend`]: SIGKILL, relaunch
//!    on the same data directory, SIGSTOP/SIGCONT, and each node's fault layer (links, loss,
//!    delay, duplication, clock rate, fsync delay) over its admin link.
//! 4. At the scenario's duration, heal everything and stop issuing operations; after the
//!    settle time, collect every node's final state and check the invariants: agreement and
//!    commit order from the commits each node streams, election safety from status changes,
//!    no acknowledged write lost, and equal state at equal commit index.
//!
//! Every child is killed when the run ends, fails, or is interrupted with Ctrl-C.

use crate::admin::{AdminLink, FromNode, LinkEvent};
use crate::baseline::{self, Baseline};
use crate::cluster::{ClusterFile, NodeEntry};
use crate::codec::{AdminEvent, AdminRequest, FaultState, FinalState};
use crate::etcd::proxy::EtcdProxy;
use crate::etcd::{self, EtcdClients, EtcdStatus, MemberClient};
use crate::events::RunEvent;
use crate::loadgen::{NodeClients, answers, fun_of};
use crate::profile::NodeProfile;
use crate::supervisor::{ChildSpec, Supervisor, node_binary};
use crate::{EtcdPeers, LiveOptions};
use anyhow::{Context, bail};
use model::driver::{Backend, ClientRecords, ScenarioDriver};
use model::faults::{self, FaultRecord, FaultTarget};
use model::history::Fun;
use model::protocol::Protocol;
use model::run::{self, BackendKind, NodeStats, RunOutput, StatusChange};
use model::scenario::{Dist, FaultKind, Scenario};
use model::timer::TimerToken;
use model::workload::OpStatus;
use replog::command::ClientCommand;
use replog::invariants::{InvariantKind, Invariants, Violation};
use replog::{CmdId, Epoch, LogIndex, Nanos, NodeId, Role, Status};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long the cluster may take to come up with a leader.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long nodes may take to report their final state.
const FINAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How often etcd members are asked for their status.
const ETCD_POLL: Duration = Duration::from_millis(50);
/// Round trips and fsyncs measured for the baseline.
const BASELINE_SAMPLES: u32 = 100;

/// A live run that failed, naming the scenario and protocol.
#[derive(Debug, thiserror::Error)]
#[error("{scenario} ({protocol}, live): {message}")]
pub struct LiveError {
    pub scenario: String,
    pub protocol: Protocol,
    pub message: String,
}

/// What a live run measured besides its [`RunOutput`]: the machine's floor and, for the
/// workbench's nodes, where each node's time went.
#[derive(Clone, Debug)]
pub struct LiveMeasurements {
    pub baseline: Baseline,
    /// By node: the last incarnation's counters (None for etcd, or a node that did not
    /// report its final state).
    pub profiles: Vec<Option<NodeProfile>>,
}

/// Runs `scenario` on real processes with `protocol` (the workbench's own or etcd).
pub fn run_live(protocol: Protocol, scenario: &Scenario, opts: &LiveOptions) -> Result<RunOutput, LiveError> {
    run_live_measured(protocol, scenario, opts).map(|(out, _)| out)
}

/// [`run_live`], with the run's [`LiveMeasurements`].
pub fn run_live_measured(
    protocol: Protocol,
    scenario: &Scenario,
    opts: &LiveOptions,
) -> Result<(RunOutput, LiveMeasurements), LiveError> {
    let error = |message: String| LiveError {
        scenario: scenario.name.clone(),
        protocol,
        message,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| error(format!("starting the tokio runtime: {e}")))?;
    rt.block_on(async {
        tokio::select! {
            r = run(protocol, scenario, opts) => r.map_err(|e| error(format!("{e:#}"))),
            _ = tokio::signal::ctrl_c() => Err(error("interrupted; every child process was killed".into())),
        }
    })
}

/// The run's directory: node data, logs and the cluster file. A temporary one is removed
/// when the run succeeds and kept (and named in the error) when it fails.
struct WorkDir {
    path: PathBuf,
    remove: bool,
}

impl WorkDir {
    fn create(base: Option<&Path>, name: &str) -> anyhow::Result<WorkDir> {
        let (path, remove) = match base {
            Some(b) => (b.join(name), false),
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let dir = std::env::temp_dir()
                    .join(format!("workbench-live-{}-{nanos}-{name}", std::process::id()));
                (dir, true)
            }
        };
        if path.exists() {
            // Old data directories would be recovered by the new nodes.
            std::fs::remove_dir_all(&path).with_context(|| format!("clearing {}", path.display()))?;
        }
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(WorkDir { path, remove })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Ports nobody listens on now (bound to 127.0.0.1:0 and released).
pub fn free_ports(k: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..k)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// Why a fault is not applied to etcd (appended to its label), or None when the peer proxies
/// apply it: cuts (partition, isolate, bridge, majorities_ring, one_way, partial) and delay.
fn etcd_not_applied(kind: FaultKind, proxied: bool) -> Option<&'static str> {
    match kind {
        FaultKind::Partition
        | FaultKind::Isolate
        | FaultKind::Bridge
        | FaultKind::MajoritiesRing
        | FaultKind::Partial
        | FaultKind::OneWay
        | FaultKind::Delay
            if !proxied =>
        {
            Some(" (not applied: etcd's peers are linked directly in this run)")
        }
        FaultKind::Loss | FaultKind::Duplicate => {
            Some(" (not applied: etcd's peer traffic is TCP, which hides message loss and duplication)")
        }
        FaultKind::ClockSkew | FaultKind::SlowDisk => Some(" (skipped: etcd processes have no fault layer)"),
        _ => None,
    }
}

/// The readable log of a run (saved as `trace.log` beside its history).
#[derive(Default)]
struct RunLog {
    text: String,
}

impl RunLog {
    fn line(&mut self, at_ns: Nanos, what: impl std::fmt::Display) {
        use std::fmt::Write;
        let _ = writeln!(self.text, "[{:>9.3}s] {what}", at_ns as f64 / 1e9);
    }
}

async fn run(
    protocol: Protocol,
    scenario: &Scenario,
    opts: &LiveOptions,
) -> anyhow::Result<(RunOutput, LiveMeasurements)> {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let mut work = WorkDir::create(
        opts.workdir.as_deref(),
        &format!("{}-{protocol}-seed{seed}", scenario.name),
    )?;
    let result = run_in(protocol, scenario, seed, opts, &work.path).await;
    if result.is_err() {
        work.remove = false;
    }
    result.with_context(|| format!("node logs and data are in {}", work.path.display()))
}

async fn run_in(
    protocol: Protocol,
    scenario: &Scenario,
    seed: u64,
    opts: &LiveOptions,
    dir: &Path,
) -> anyhow::Result<(RunOutput, LiveMeasurements)> {
    let mut log = RunLog::default();
    let baseline = baseline::measure(dir, BASELINE_SAMPLES, scenario.cluster.nodes as u32)
        .await
        .context("measuring the loopback round trip and fdatasync")?;
    tracing::info!(%baseline, "machine baseline");
    log.line(0, format_args!("baseline: {baseline}"));
    let (events_tx, events) = mpsc::unbounded_channel();
    let n = scenario.cluster.nodes;
    let cluster = if protocol == Protocol::Etcd {
        LiveCluster::start_etcd(scenario, dir, opts.etcd_peers, events_tx.clone(), &mut log)?
    } else {
        LiveCluster::start_nodes(protocol, scenario, seed, dir, events_tx.clone(), &mut log)?
    };
    let clients = match cluster.kind {
        Kind::Etcd => Clients::Etcd(
            EtcdClients::connect(
                &cluster.addrs,
                opts.etcd_reads,
                Duration::from_nanos(scenario.workload.op_timeout.0),
                events_tx.clone(),
            )
            .await
            .context("creating the etcd clients")?,
        ),
        Kind::Nodes => Clients::Nodes(NodeClients::start(&cluster.addrs, events_tx.clone())),
    };
    let backend = LiveBackend {
        protocol,
        n,
        start: None,
        timers: BinaryHeap::new(),
        timer_seq: 0,
        invariants: Invariants::new(n),
        status_log: Vec::new(),
        known: vec![None; n],
        desired: vec![FaultState::healthy(n); n],
        told: vec![FaultState::healthy(n); n],
        cluster,
        clients,
        expected: vec![None; scenario.workload.clients],
        stats_base: vec![NodeStats::default(); n],
        stats_now: vec![NodeStats::default(); n],
        finals: vec![None; n],
        etcd_members: vec![None; n],
        log,
        events_seen: 0,
        baseline,
        events_tx,
        error: None,
    };
    LiveRun::run(backend, scenario, seed, events).await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Nodes,
    Etcd,
}

/// The cluster's processes and links.
struct LiveCluster {
    kind: Kind,
    sup: Supervisor,
    /// Where clients connect, by node.
    addrs: Vec<String>,
    links: Vec<Option<AdminLink>>,
    incarnation: Vec<u64>,
    pollers: Vec<tokio::task::JoinHandle<()>>,
    /// etcd's peer traffic goes through it; network faults are applied there.
    proxy: Option<EtcdProxy>,
}

impl Drop for LiveCluster {
    fn drop(&mut self) {
        for p in &self.pollers {
            p.abort();
        }
    }
}

impl LiveCluster {
    fn start_nodes(
        protocol: Protocol,
        scenario: &Scenario,
        seed: u64,
        dir: &Path,
        events: mpsc::UnboundedSender<RunEvent>,
        log: &mut RunLog,
    ) -> anyhow::Result<LiveCluster> {
        let n = scenario.cluster.nodes;
        let ports = free_ports(n).context("finding free ports")?;
        let cluster = ClusterFile {
            protocol,
            seed,
            config: scenario.protocol.clone(),
            nodes: ports
                .iter()
                .enumerate()
                .map(|(i, p)| NodeEntry {
                    id: i as u32,
                    addr: format!("127.0.0.1:{p}"),
                    listen: None,
                })
                .collect(),
        };
        let cluster_path = dir.join("cluster.toml");
        std::fs::write(&cluster_path, cluster.to_toml())
            .with_context(|| format!("writing {}", cluster_path.display()))?;
        let program = node_binary()?;
        let specs = (0..n)
            .map(|i| ChildSpec {
                name: format!("n{i}"),
                program: program.clone(),
                args: vec![
                    "node".into(),
                    "--cluster".into(),
                    cluster_path.clone().into(),
                    "--id".into(),
                    i.to_string().into(),
                    "--data".into(),
                    dir.join(format!("n{i}")).into(),
                ],
                log: dir.join(format!("n{i}.log")),
                watch_parent: true,
            })
            .collect();
        let mut c = LiveCluster {
            kind: Kind::Nodes,
            sup: Supervisor::new(specs),
            addrs: cluster.nodes.iter().map(|e| e.addr.clone()).collect(),
            links: (0..n).map(|_| None).collect(),
            incarnation: vec![0; n],
            pollers: Vec::new(),
            proxy: None,
        };
        for i in 0..n {
            c.launch(i, &events, &FaultState::healthy(n))?;
            log.line(0, format_args!("started n{i} on {}", c.addrs[i]));
        }
        Ok(c)
    }

    fn start_etcd(
        scenario: &Scenario,
        dir: &Path,
        peers: EtcdPeers,
        events: mpsc::UnboundedSender<RunEvent>,
        log: &mut RunLog,
    ) -> anyhow::Result<LiveCluster> {
        let n = scenario.cluster.nodes;
        let bin = etcd::etcd_binary()?;
        let ports = free_ports(2 * n).context("finding free ports")?;
        let (client_ports, peer_ports) = ports.split_at(n);
        let token = format!(
            "workbench-{}",
            dir.file_name().map_or("run".into(), |f| f.to_string_lossy())
        );
        let proxy = match peers {
            EtcdPeers::Proxied => {
                Some(EtcdProxy::start(peer_ports).context("starting the etcd peer proxies")?)
            }
            EtcdPeers::Direct => None,
        };
        let advertised = proxy.as_ref().map_or(peer_ports, |p| p.ports());
        let specs = etcd::cluster_specs(
            &bin,
            dir,
            client_ports,
            peer_ports,
            advertised,
            &scenario.protocol,
            &token,
        );
        let addrs: Vec<String> = client_ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let mut c = LiveCluster {
            kind: Kind::Etcd,
            sup: Supervisor::new(specs),
            addrs: addrs.clone(),
            links: (0..n).map(|_| None).collect(),
            incarnation: vec![0; n],
            pollers: Vec::new(),
            proxy: None,
        };
        for (i, addr) in addrs.iter().enumerate() {
            let pid = c.sup.spawn(i)?;
            let through = match &proxy {
                Some(p) => format!("through the proxy on port {}", p.ports()[i]),
                None => "directly (no network faults)".into(),
            };
            log.line(
                0,
                format_args!(
                    "started etcd member e{i} (pid {pid}) on {addr}, peers on port {} {through}",
                    peer_ports[i]
                ),
            );
        }
        c.proxy = proxy;
        let (hb, et) = etcd::etcd_timing_ms(&scenario.protocol);
        log.line(
            0,
            format_args!("etcd --heartbeat-interval={hb} --election-timeout={et}"),
        );
        c.pollers = etcd::spawn_status_pollers(addrs, ETCD_POLL, events);
        Ok(c)
    }

    /// Starts node `i` (a new incarnation) and its admin link, handing it `faults`.
    fn launch(
        &mut self,
        i: usize,
        events: &mpsc::UnboundedSender<RunEvent>,
        faults: &FaultState,
    ) -> anyhow::Result<u32> {
        let pid = self.sup.spawn(i)?;
        if self.kind == Kind::Nodes {
            self.incarnation[i] += 1;
            let (tx, mut rx) = mpsc::unbounded_channel::<FromNode>();
            let forward = events.clone();
            tokio::spawn(async move {
                while let Some(ev) = rx.recv().await {
                    if forward.send(RunEvent::Node(ev)).is_err() {
                        return;
                    }
                }
            });
            let link = AdminLink::open(NodeId(i as u32), self.incarnation[i], self.addrs[i].clone(), tx);
            link.send(AdminRequest::SetFaults(faults.clone()));
            self.links[i] = Some(link);
        }
        Ok(pid)
    }

    fn kill(&mut self, i: usize) {
        self.sup.kill(i);
        self.links[i] = None;
    }
}

/// The clients' way to the cluster.
pub enum Clients {
    Nodes(NodeClients),
    Etcd(EtcdClients),
}

impl Clients {
    pub fn send(&self, node: NodeId, cmd: ClientCommand) {
        match self {
            Clients::Nodes(c) => c.send(node, cmd),
            Clients::Etcd(c) => c.send(node, cmd),
        }
    }
}

/// A timer of the live run: the scenario driver's, or the end of the workload or the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LiveTimer {
    Driver(TimerToken),
    /// The workload's duration is over: stop and heal.
    Stop,
    /// The settle time is over.
    End,
}

/// The live cluster as the scenario driver's backend: clients over TCP, faults as process
/// operations and node fault layers, and everything the nodes report.
struct LiveBackend {
    protocol: Protocol,
    n: usize,
    /// Time 0 of the run (None until the cluster is ready).
    start: Option<Instant>,
    timers: BinaryHeap<Reverse<(Nanos, u64, LiveTimer)>>,
    timer_seq: u64,
    invariants: Invariants,
    status_log: Vec<StatusChange>,
    /// Last status each running node reported.
    known: Vec<Option<Status>>,
    /// The fault state each node should have (its outgoing links, clock and disk).
    desired: Vec<FaultState>,
    /// What each node was last told.
    told: Vec<FaultState>,
    cluster: LiveCluster,
    clients: Clients,
    /// Each client's open request (seq and kind), to refuse replies that do not fit.
    expected: Vec<Option<(u64, Fun)>>,
    /// Counters of earlier incarnations, and of the current one.
    stats_base: Vec<NodeStats>,
    stats_now: Vec<NodeStats>,
    finals: Vec<Option<FinalState>>,
    etcd_members: Vec<Option<u64>>,
    log: RunLog,
    events_seen: u64,
    baseline: Baseline,
    events_tx: mpsc::UnboundedSender<RunEvent>,
    /// The first failure of a process operation (the fault code cannot return one).
    error: Option<anyhow::Error>,
}

/// The run's event loop: the scenario driver, and node reports.
struct LiveRun {
    backend: LiveBackend,
    driver: ScenarioDriver,
    ended: bool,
}

impl LiveRun {
    async fn run(
        mut backend: LiveBackend,
        scenario: &Scenario,
        seed: u64,
        mut events: mpsc::UnboundedReceiver<RunEvent>,
    ) -> anyhow::Result<(RunOutput, LiveMeasurements)> {
        backend.wait_ready(&mut events).await?;
        backend.start = Some(Instant::now());
        backend.log.line(0, "cluster ready: workload starts");
        let duration = scenario.duration.0;
        let end = duration + scenario.settle.0;
        backend.set_live_timer(duration, LiveTimer::Stop);
        backend.set_live_timer(end, LiveTimer::End);
        let driver = ScenarioDriver::start(&mut backend, scenario, seed, scenario.fault_schedule(seed));
        let mut run = LiveRun {
            backend,
            driver,
            ended: false,
        };
        let far = Instant::now() + Duration::from_secs(86_400);
        while !run.ended {
            let next = run
                .backend
                .timers
                .peek()
                .map_or(far, |Reverse((at, _, _))| run.backend.instant_of(*at));
            tokio::select! {
                ev = events.recv() => {
                    let Some(ev) = ev else { bail!("the run's event channel closed") };
                    run.handle(ev);
                    while let Ok(ev) = events.try_recv() {
                        run.handle(ev);
                    }
                    run.fire_due_timers();
                }
                _ = tokio::time::sleep_until(next) => run.fire_due_timers(),
            }
            if let Some(e) = run.backend.error.take() {
                return Err(e);
            }
        }
        let records = run.driver.finish(end);
        run.backend.collect_finals(&mut events).await;
        let measured = LiveMeasurements {
            baseline: run.backend.baseline,
            profiles: run
                .backend
                .finals
                .iter()
                .map(|f| f.as_ref().map(|f| f.profile))
                .collect(),
        };
        Ok((run.backend.output(scenario, seed, end, records), measured))
    }

    fn handle(&mut self, ev: RunEvent) {
        self.backend.events_seen += 1;
        match ev {
            RunEvent::Reply { client, reply } => {
                let Some(Some((seq, f))) = self.backend.expected.get(client as usize) else {
                    return;
                };
                if reply.seq != *seq {
                    return;
                }
                if let Ok(result) = &reply.result
                    && !answers(*f, result)
                {
                    tracing::warn!(
                        client,
                        ?result,
                        "a reply that does not answer the request; ignored"
                    );
                    return;
                }
                self.driver.on_reply(&mut self.backend, client, &reply);
            }
            ev => self.backend.handle_report(ev),
        }
    }

    fn fire_due_timers(&mut self) {
        loop {
            let now = self.backend.now();
            let Some(Reverse((at, _, timer))) = self.backend.timers.peek().copied() else {
                return;
            };
            if at > now || self.ended {
                return;
            }
            self.backend.timers.pop();
            match timer {
                LiveTimer::Stop => {
                    self.driver.stop(&mut self.backend);
                    self.backend.log.line(at, "workload stopped; every fault healed");
                }
                LiveTimer::End => self.ended = true,
                LiveTimer::Driver(token) => self.driver.on_timer(&mut self.backend, token),
            }
        }
    }
}

impl LiveBackend {
    fn now(&self) -> Nanos {
        self.start.map_or(0, |s| s.elapsed().as_nanos() as Nanos)
    }

    fn set_live_timer(&mut self, at: Nanos, timer: LiveTimer) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at, self.timer_seq, timer)));
    }

    fn instant_of(&self, at: Nanos) -> Instant {
        self.start.unwrap_or_else(Instant::now) + Duration::from_nanos(at)
    }

    /// Handles reports until every node runs and one of them leads.
    async fn wait_ready(&mut self, events: &mut mpsc::UnboundedReceiver<RunEvent>) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let leader = faults::leader_of(&self.known);
            let all_up = (0..self.n).all(|i| self.known[i].is_some());
            if all_up && leader.is_some() {
                return Ok(());
            }
            if let Some(dead) = (0..self.n).find(|&i| !self.cluster.sup.is_running(i)) {
                bail!(
                    "{} exited while the cluster was starting\n{}",
                    self.node_name(dead),
                    self.log_tails()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "the cluster did not come up with a leader within {READY_TIMEOUT:?} (statuses: {:?})\n{}",
                    self.known,
                    self.log_tails()
                );
            }
            // Wake up now and then to notice a process that died.
            let slice = (Instant::now() + Duration::from_millis(200)).min(deadline);
            match tokio::time::timeout_at(slice, events.recv()).await {
                Ok(Some(ev)) => {
                    self.events_seen += 1;
                    self.handle_report(ev);
                }
                Ok(None) => bail!("the run's event channel closed"),
                Err(_) => {}
            }
        }
    }

    /// The last lines of every child's log, for errors.
    fn log_tails(&self) -> String {
        (0..self.n)
            .map(|i| {
                format!(
                    "--- last lines of {}'s log ---\n{}",
                    self.node_name(i),
                    self.cluster.sup.log_tail(i, 8)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn node_name(&self, i: usize) -> String {
        match self.cluster.kind {
            Kind::Nodes => format!("n{i}"),
            Kind::Etcd => format!("etcd-{i}"),
        }
    }

    /// A report from a node (or an etcd member's status); replies go to the driver.
    fn handle_report(&mut self, ev: RunEvent) {
        let now = self.now();
        match ev {
            RunEvent::Reply { .. } => {}
            RunEvent::Node(FromNode {
                node,
                incarnation,
                event,
            }) => {
                let i = node.index();
                if i >= self.n || self.cluster.incarnation[i] != incarnation {
                    return;
                }
                self.on_node_event(i, now, event);
            }
            RunEvent::EtcdStatus { node, status } => self.on_etcd_status(node, now, status),
        }
    }

    fn on_node_event(&mut self, i: usize, now: Nanos, event: LinkEvent) {
        let node = NodeId(i as u32);
        match event {
            LinkEvent::Connected => {}
            LinkEvent::Event(AdminEvent::Booted {
                id,
                protocol,
                recovered_records,
            }) => {
                if id != node || protocol != self.protocol.name() {
                    tracing::warn!(%node, %id, %protocol, "a node reports a different identity");
                }
                self.invariants.on_boot(node);
                self.log.line(
                    now,
                    format_args!(
                        "{node} booted ({protocol}, {recovered_records} records recovered from its WAL)"
                    ),
                );
            }
            LinkEvent::Event(AdminEvent::Status(s)) => {
                if s.id != node {
                    return;
                }
                self.observe_status(now, s);
            }
            LinkEvent::Event(AdminEvent::Commits(commits)) => {
                for (index, cmd) in commits {
                    self.invariants.on_commit(now, node, index, cmd);
                }
            }
            LinkEvent::Event(AdminEvent::Stats(s)) => self.stats_now[i] = s,
            LinkEvent::Event(AdminEvent::Final(f)) => {
                self.stats_now[i] = f.stats.clone();
                self.finals[i] = Some(*f);
            }
            LinkEvent::Closed => {
                if !self.cluster.sup.is_running(i) {
                    let tail = self.cluster.sup.log_tail(i, 5);
                    tracing::warn!(%node, "node process exited on its own");
                    self.log.line(
                        now,
                        format_args!("{node} exited on its own; last log lines:\n{tail}"),
                    );
                    self.mark_down(i, now);
                    self.cluster.links[i] = None;
                }
            }
        }
    }

    fn observe_status(&mut self, now: Nanos, s: Status) {
        let i = s.id.index();
        let changed = self.known[i]
            .is_none_or(|k| k.role != s.role || k.epoch != s.epoch || k.leader_hint != s.leader_hint);
        self.known[i] = Some(s);
        if changed {
            self.invariants.on_status(now, &s);
            self.status_log.push(StatusChange {
                time: now,
                status: s,
                up: true,
            });
            if s.role == Role::Leader {
                self.log
                    .line(now, format_args!("{} leads epoch {}", s.id, s.epoch));
            }
        }
    }

    fn on_etcd_status(&mut self, node: usize, now: Nanos, status: Option<EtcdStatus>) {
        let Some(s) = status else { return };
        if node >= self.n || !self.cluster.sup.is_running(node) || self.cluster.sup.is_paused(node) {
            return;
        }
        self.etcd_members[node] = Some(s.member_id);
        if let Some(proxy) = &self.cluster.proxy {
            proxy.learn_member(s.member_id, node);
        }
        let st = etcd::to_status(node, &s, &self.etcd_members);
        self.observe_status(now, st);
    }

    /// Records node `i` as down (crashed or exited).
    fn mark_down(&mut self, i: usize, now: Nanos) {
        let last = self.known[i].take().unwrap_or_else(|| booting(NodeId(i as u32)));
        self.status_log.push(StatusChange {
            time: now,
            status: last,
            up: false,
        });
        let current = std::mem::take(&mut self.stats_now[i]);
        let base = self.stats_base[i].plus(&current);
        self.stats_base[i] = NodeStats {
            crashes: base.crashes + 1,
            ..base
        };
    }

    /// Remembers the first failure of a process operation; the run stops with it.
    fn fail(&mut self, e: anyhow::Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Asks every running node for its final state and waits (bounded) for the answers.
    async fn collect_finals(&mut self, events: &mut mpsc::UnboundedReceiver<RunEvent>) {
        let now = self.now();
        match self.cluster.kind {
            Kind::Nodes => {
                let mut waiting = 0;
                for i in 0..self.n {
                    if let Some(link) = &self.cluster.links[i] {
                        link.send(AdminRequest::Final);
                        waiting += 1;
                    }
                }
                let deadline = Instant::now() + FINAL_TIMEOUT;
                while self.finals.iter().filter(|f| f.is_some()).count() < waiting {
                    match tokio::time::timeout_at(deadline, events.recv()).await {
                        Ok(Some(ev)) => {
                            self.events_seen += 1;
                            self.handle_report(ev);
                        }
                        _ => break,
                    }
                }
            }
            Kind::Etcd => {
                for i in 0..self.n {
                    let status = async {
                        let member = MemberClient::connect(&self.cluster.addrs[i]).await?;
                        member.status().await
                    };
                    if self.cluster.sup.is_running(i)
                        && let Ok(Ok(s)) = tokio::time::timeout(FINAL_TIMEOUT, status).await
                    {
                        self.etcd_members[i] = Some(s.member_id);
                        let st = etcd::to_status(i, &s, &self.etcd_members);
                        self.observe_status(now, st);
                    }
                }
            }
        }
        if let Some(proxy) = &self.cluster.proxy {
            self.log
                .line(self.now(), format_args!("etcd peer proxies: {}", proxy.counters));
        }
        self.log
            .line(self.now(), "final states collected; stopping every process");
        self.cluster.sup.kill_all();
    }

    fn output(mut self, scenario: &Scenario, seed: u64, end: Nanos, records: ClientRecords) -> RunOutput {
        let commit_index_per_node: Vec<Option<LogIndex>> = match self.cluster.kind {
            Kind::Nodes => self
                .finals
                .iter()
                .map(|f| f.as_ref().map(|f| f.status.commit_index))
                .collect(),
            Kind::Etcd => self.known.iter().map(|s| s.map(|s| s.commit_index)).collect(),
        };
        let mut extra_violations = Vec::new();
        let (committed_entries, committed_commands) = match self.cluster.kind {
            Kind::Nodes => {
                self.invariants.finish(end, &[]);
                extra_violations = self.check_convergence(end);
                run::committed_counts(&self.invariants)
            }
            Kind::Etcd => {
                let entries = commit_index_per_node.iter().flatten().max().copied().unwrap_or(0);
                let acked = records.ops.iter().filter(|o| o.status == OpStatus::Ok).count();
                (entries, acked as u64)
            }
        };
        let node_stats: Vec<NodeStats> = (0..self.n)
            .map(|i| self.stats_base[i].plus(&self.stats_now[i]))
            .collect();
        let mut violations = self.invariants.violations().to_vec();
        violations.extend(extra_violations.iter().cloned());
        let violation_count = self.invariants.violation_count() + extra_violations.len();
        let now = self.now();
        self.log.line(
            now,
            format_args!(
                "done: {} operations, {committed_commands} commands committed, {violation_count} invariant violations; {}",
                records.ops.len(),
                self.baseline
            ),
        );
        RunOutput {
            scenario: scenario.name.clone(),
            protocol: self.protocol,
            backend: BackendKind::Live,
            seed,
            nodes: self.n,
            duration_ns: scenario.duration.0,
            end_ns: end,
            history: records.history,
            ops: records.ops,
            faults: records.faults,
            status_log: std::mem::take(&mut self.status_log),
            node_stats,
            committed_entries,
            committed_commands,
            converged: run::converged(&commit_index_per_node),
            commit_index_per_node,
            violations,
            violation_count,
            leader_elections: self.invariants.leader_elections(),
            trace_hash: 0,
            events: self.events_seen,
            trace_text: Some(std::mem::take(&mut self.log.text)),
        }
    }

    /// Nodes that committed equally far must hold equal state.
    fn check_convergence(&self, end: Nanos) -> Vec<Violation> {
        let mut violations = Vec::new();
        let mut by_index: BTreeMap<LogIndex, (usize, u64)> = BTreeMap::new();
        for (i, f) in self.finals.iter().enumerate() {
            let Some(f) = f else { continue };
            match by_index.get(&f.status.commit_index) {
                Some(&(other, digest)) if digest != f.kv_digest => violations.push(Violation {
                    time_ns: end,
                    kind: InvariantKind::Convergence,
                    detail: format!(
                        "n{i} and n{other} both committed up to {} but hold different states",
                        f.status.commit_index
                    ),
                }),
                Some(_) => {}
                None => {
                    by_index.insert(f.status.commit_index, (i, f.kv_digest));
                }
            }
        }
        violations
    }
}

/// The status of a node whose process runs but has not reported yet.
fn booting(id: NodeId) -> Status {
    Status {
        id,
        role: Role::Follower,
        leader_hint: None,
        epoch: Epoch::default(),
        commit_index: 0,
        last_index: 0,
    }
}

/// Faults act on the processes at once (SIGKILL, relaunch, SIGSTOP, SIGCONT); link, clock and
/// disk faults change the nodes' desired fault state, which [`Backend::fault_applied`] sends.
impl FaultTarget for LiveBackend {
    fn node_count(&self) -> usize {
        self.n
    }
    fn statuses(&mut self) -> Vec<Option<Status>> {
        (0..self.n)
            .map(|i| {
                let running = self.cluster.sup.is_running(i);
                running.then(|| self.known[i].unwrap_or_else(|| booting(NodeId(i as u32))))
            })
            .collect()
    }
    fn paused(&mut self) -> Vec<bool> {
        (0..self.n).map(|i| self.cluster.sup.is_paused(i)).collect()
    }
    fn crash(&mut self, node: NodeId) {
        let i = node.index();
        if !self.cluster.sup.is_running(i) {
            return;
        }
        let now = self.now();
        self.cluster.kill(i);
        self.mark_down(i, now);
        self.log.line(now, format_args!("SIGKILL {}", self.node_name(i)));
    }
    fn restart(&mut self, node: NodeId) {
        let i = node.index();
        if self.cluster.sup.is_running(i) {
            return;
        }
        let now = self.now();
        let faults = self.desired[i].clone();
        match self.cluster.launch(i, &self.events_tx, &faults) {
            Ok(pid) => {
                self.told[i] = faults;
                self.log
                    .line(now, format_args!("relaunched {} (pid {pid})", self.node_name(i)));
            }
            Err(e) => self.fail(e),
        }
    }
    fn pause(&mut self, node: NodeId) {
        let i = node.index();
        if !self.cluster.sup.is_running(i) || self.cluster.sup.is_paused(i) {
            return;
        }
        let now = self.now();
        match self.cluster.sup.pause(i) {
            Ok(()) => self.log.line(now, format_args!("SIGSTOP {}", self.node_name(i))),
            Err(e) => self.fail(e.into()),
        }
    }
    fn resume(&mut self, node: NodeId) {
        let i = node.index();
        if !self.cluster.sup.is_paused(i) {
            return;
        }
        let now = self.now();
        match self.cluster.sup.resume(i) {
            Ok(()) => self.log.line(now, format_args!("SIGCONT {}", self.node_name(i))),
            Err(e) => self.fail(e.into()),
        }
    }
    fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        self.desired[from.index()].links[to.index()].blocked = blocked;
    }
    fn heal_links(&mut self) {
        for d in &mut self.desired {
            for l in &mut d.links {
                l.blocked = false;
            }
        }
    }
    fn set_loss(&mut self, from: NodeId, to: NodeId, p: f64) {
        self.desired[from.index()].links[to.index()].loss = p;
    }
    fn set_extra_delay(&mut self, from: NodeId, to: NodeId, extra: Nanos) {
        self.desired[from.index()].links[to.index()].extra_delay_ns = extra;
    }
    fn set_duplicate(&mut self, p: f64) {
        for d in &mut self.desired {
            d.duplicate = p;
        }
    }
    fn set_clock_rate(&mut self, node: NodeId, rate: f64) {
        self.desired[node.index()].clock_rate = rate;
    }
    fn set_fsync(&mut self, node: NodeId, fsync: Option<Dist>) {
        self.desired[node.index()].fsync_delay = fsync;
    }
}

impl Backend for LiveBackend {
    fn now(&self) -> Nanos {
        LiveBackend::now(self)
    }

    fn send_request(&mut self, node: NodeId, cmd: ClientCommand) {
        if let Some(slot) = self.expected.get_mut(cmd.client as usize) {
            *slot = Some((cmd.seq, fun_of(&cmd.op)));
        }
        self.clients.send(node, cmd);
    }

    fn set_timer(&mut self, at: Nanos, token: TimerToken) {
        self.set_live_timer(at, LiveTimer::Driver(token));
    }

    fn acknowledged(&mut self, cmd: CmdId) {
        // etcd's commits are not streamed to the harness, so there is no committed sequence
        // to hold its acknowledgements against.
        if self.cluster.kind == Kind::Nodes {
            let now = self.now();
            self.invariants.on_acknowledged(now, cmd);
        }
    }

    fn fault_applied(&mut self, index: Option<usize>, record: &mut FaultRecord) {
        let now = self.now();
        let changed: Vec<usize> = (0..self.n).filter(|&i| self.desired[i] != self.told[i]).collect();
        if !changed.is_empty() {
            match self.cluster.kind {
                Kind::Nodes => {
                    for &i in &changed {
                        if let Some(link) = &self.cluster.links[i] {
                            link.send(AdminRequest::SetFaults(self.desired[i].clone()));
                        }
                    }
                }
                Kind::Etcd => {
                    // Links (cuts, delays) go to the peer proxies; the rest has no
                    // counterpart for etcd.
                    if let Some(proxy) = &self.cluster.proxy {
                        proxy.set_faults(&self.desired);
                    }
                    let proxied = self.cluster.proxy.is_some();
                    if let Some(reason) = etcd_not_applied(record.kind, proxied) {
                        record.applied = false;
                        record.label += reason;
                    }
                }
            }
            self.told = self.desired.clone();
        }
        if index.is_some() {
            tracing::info!(at_ns = now, label = %record.label, applied = record.applied, "fault");
            self.log.line(now, format_args!("fault: {}", record.label));
        }
    }
}
