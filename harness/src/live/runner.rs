//! `workbench run --backend live`: a scenario on real processes.
//!
//! 1. Measure the machine's floor ([`super::baseline`]): a loopback round trip, an fdatasync.
//! 2. Start the cluster as child processes on free 127.0.0.1 ports: `workbench node` with a
//!    generated cluster file, or etcd members. Wait until every node is up and one leads;
//!    that instant is time 0 of the run.
//! 3. Drive the scenario's clients (the same [`Workload`] state machine the simulator drives)
//!    over TCP, and fire the fault schedule at its times through [`crate::faults::apply`]:
//!    SIGKILL, relaunch on the same data directory, SIGSTOP/SIGCONT, and each node's fault
//!    layer (links, loss, delay, duplication, clock rate, fsync delay) over its admin link.
//! 4. At the scenario's duration, heal everything and stop issuing operations; after the
//!    settle time, collect every node's final state and check the invariants: agreement and
//!    commit order from the commits each node streams, election safety from status changes,
//!    no acknowledged write lost, and equal state at equal commit index.
//!
//! Every child is killed when the run ends, fails, or is interrupted with Ctrl-C.

use super::LiveOptions;
use super::admin::{AdminLink, FromNode, LinkEvent};
use super::baseline::{self, Baseline};
use super::cluster::{ClusterFile, NodeEntry};
use super::codec::{AdminEvent, AdminRequest, FaultState, FinalState};
use super::etcd::{self, EtcdClient, EtcdClients, EtcdStatus};
use super::etcd_proxy::EtcdProxy;
use super::loadgen::{Clients, DriverEvent, NodeClients, answers, fun_of};
use super::nemesis::{Nemesis, ProcessOp, booting};
use super::supervisor::{ChildSpec, Supervisor, node_binary};
use crate::check::invariants::{InvariantKind, Invariants, Violation};
use crate::faults::{self, FaultRecord};
use crate::history::Fun;
use crate::run::RunOutput;
use crate::scenario::{FaultKind, FaultSpec, Scenario};
use crate::sim::{NodeStats, StatusChange};
use crate::workload::{ClientAction, TOKEN_DRIVER_BASE, Workload};
use anyhow::{Context, anyhow, bail};
use replog::{CmdId, LogIndex, Nanos, NodeId, Role, Status};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

const TOKEN_FAULT: u64 = TOKEN_DRIVER_BASE;
const TOKEN_STOP: u64 = TOKEN_DRIVER_BASE + (1 << 40);
const TOKEN_END: u64 = TOKEN_STOP + 1;
/// How long the cluster may take to come up with a leader.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long nodes may take to report their final state.
const FINAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How often etcd members are asked for their status.
const ETCD_POLL: Duration = Duration::from_millis(50);
/// Round trips and fsyncs measured for the baseline.
const BASELINE_SAMPLES: u32 = 100;

/// Runs `scenario` on real processes with `protocol` ("raft", "paxos", "null" or "etcd").
pub fn run_live(protocol: &str, scenario: &Scenario, opts: &LiveOptions) -> Result<RunOutput, String> {
    if !matches!(protocol, "raft" | "paxos" | "null" | "etcd") {
        return Err(format!(
            "unknown protocol {protocol:?} for the live backend: expected raft, paxos, null or etcd"
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the tokio runtime: {e}"))?;
    rt.block_on(async {
        tokio::select! {
            r = run(protocol, scenario, opts) => r.map_err(|e| format!("{} ({protocol}, live): {e:#}", scenario.name)),
            _ = tokio::signal::ctrl_c() => Err(format!(
                "{} ({protocol}, live): interrupted; every child process was killed", scenario.name
            )),
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
fn etcd_not_applied(kind: FaultKind) -> Option<&'static str> {
    match kind {
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

async fn run(protocol: &str, scenario: &Scenario, opts: &LiveOptions) -> anyhow::Result<RunOutput> {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let mut work = WorkDir::create(
        opts.workdir.as_deref(),
        &format!("{}-{protocol}-seed{seed}", scenario.name),
    )?;
    let result = run_in(protocol, scenario, seed, &work.path).await;
    if result.is_err() {
        work.remove = false;
    }
    result.with_context(|| format!("node logs and data are in {}", work.path.display()))
}

async fn run_in(protocol: &str, scenario: &Scenario, seed: u64, dir: &Path) -> anyhow::Result<RunOutput> {
    let mut log = RunLog::default();
    let baseline = baseline::measure(dir, BASELINE_SAMPLES, scenario.cluster.nodes as u32)
        .await
        .context("measuring the loopback round trip and fdatasync")?;
    tracing::info!(%baseline, "machine baseline");
    log.line(0, format_args!("baseline: {baseline}"));
    let (events_tx, events) = mpsc::unbounded_channel();
    let n = scenario.cluster.nodes;
    let cluster = if protocol == "etcd" {
        LiveCluster::start_etcd(scenario, dir, events_tx.clone(), &mut log)?
    } else {
        LiveCluster::start_nodes(protocol, scenario, seed, dir, events_tx.clone(), &mut log)?
    };
    let clients = match cluster.kind {
        Kind::Etcd => Clients::Etcd(EtcdClients::new(cluster.addrs.clone(), events_tx.clone())),
        Kind::Nodes => Clients::Nodes(NodeClients::start(&cluster.addrs, events_tx.clone())),
    };
    let driver = Driver {
        protocol: protocol.to_string(),
        n,
        seed,
        start: None,
        workload: Workload::new(&scenario.workload, n, seed),
        actions: Vec::new(),
        timers: BinaryHeap::new(),
        timer_seq: 0,
        invariants: Invariants::new(n),
        extra_violations: Vec::new(),
        status_log: Vec::new(),
        known: vec![None; n],
        records: Vec::new(),
        schedule: scenario.fault_schedule(seed),
        desired: vec![FaultState::healthy(n); n],
        cluster,
        clients,
        expected: vec![None; scenario.workload.clients],
        stats_base: vec![NodeStats::default(); n],
        stats_now: vec![NodeStats::default(); n],
        finals: vec![None; n],
        etcd_members: vec![None; n],
        log,
        events_seen: 0,
        stopped: false,
        ended: false,
        baseline,
        events_tx,
    };
    driver.run(scenario, events).await
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
        protocol: &str,
        scenario: &Scenario,
        seed: u64,
        dir: &Path,
        events: mpsc::UnboundedSender<DriverEvent>,
        log: &mut RunLog,
    ) -> anyhow::Result<LiveCluster> {
        let n = scenario.cluster.nodes;
        let ports = free_ports(n).context("finding free ports")?;
        let cluster = ClusterFile {
            protocol: protocol.to_string(),
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
        let program = node_binary().map_err(|e| anyhow!(e))?;
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
        events: mpsc::UnboundedSender<DriverEvent>,
        log: &mut RunLog,
    ) -> anyhow::Result<LiveCluster> {
        let n = scenario.cluster.nodes;
        let bin = etcd::etcd_binary().map_err(|e| anyhow!(e))?;
        let ports = free_ports(2 * n).context("finding free ports")?;
        let (client_ports, peer_ports) = ports.split_at(n);
        let token = format!(
            "workbench-{}",
            dir.file_name().map_or("run".into(), |f| f.to_string_lossy())
        );
        let proxy = EtcdProxy::start(peer_ports).context("starting the etcd peer proxies")?;
        let specs = etcd::cluster_specs(
            &bin,
            dir,
            client_ports,
            peer_ports,
            proxy.ports(),
            &scenario.protocol.to_config(),
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
            log.line(
                0,
                format_args!(
                    "started etcd member e{i} (pid {pid}) on {addr}, peers on port {} through the proxy on port {}",
                    peer_ports[i],
                    proxy.ports()[i]
                ),
            );
        }
        c.proxy = Some(proxy);
        let (hb, et) = etcd::etcd_timing_ms(&scenario.protocol.to_config());
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
        events: &mpsc::UnboundedSender<DriverEvent>,
        faults: &FaultState,
    ) -> anyhow::Result<u32> {
        let pid = self.sup.spawn(i)?;
        if self.kind == Kind::Nodes {
            self.incarnation[i] += 1;
            let (tx, mut rx) = mpsc::unbounded_channel::<FromNode>();
            let forward = events.clone();
            tokio::spawn(async move {
                while let Some(ev) = rx.recv().await {
                    if forward.send(DriverEvent::Node(ev)).is_err() {
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

/// The run's event loop: clients, faults and node reports.
struct Driver {
    protocol: String,
    n: usize,
    seed: u64,
    /// Time 0 of the run (None until the cluster is ready).
    start: Option<Instant>,
    workload: Workload,
    actions: Vec<ClientAction>,
    timers: BinaryHeap<Reverse<(Nanos, u64, u64)>>,
    timer_seq: u64,
    invariants: Invariants,
    extra_violations: Vec<Violation>,
    status_log: Vec<StatusChange>,
    /// Last status each running node reported.
    known: Vec<Option<Status>>,
    records: Vec<FaultRecord>,
    schedule: Vec<FaultSpec>,
    desired: Vec<FaultState>,
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
    stopped: bool,
    ended: bool,
    baseline: Baseline,
    events_tx: mpsc::UnboundedSender<DriverEvent>,
}

impl Driver {
    fn now(&self) -> Nanos {
        self.start.map_or(0, |s| s.elapsed().as_nanos() as Nanos)
    }

    fn set_timer(&mut self, at: Nanos, token: u64) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at, self.timer_seq, token)));
    }

    async fn run(
        mut self,
        scenario: &Scenario,
        mut events: mpsc::UnboundedReceiver<DriverEvent>,
    ) -> anyhow::Result<RunOutput> {
        self.wait_ready(&mut events).await?;
        self.start = Some(Instant::now());
        self.log.line(0, "cluster ready: workload starts");
        for i in 0..self.schedule.len() {
            let at = self.schedule[i].at.0;
            self.set_timer(at, TOKEN_FAULT + i as u64);
        }
        let duration = scenario.duration.0;
        let end = duration + scenario.settle.0;
        self.set_timer(duration, TOKEN_STOP);
        self.set_timer(end, TOKEN_END);
        self.workload.start(0, &mut self.actions);
        self.carry_out();

        let far = Instant::now() + Duration::from_secs(86_400);
        while !self.ended {
            let next = self
                .timers
                .peek()
                .map_or(far, |Reverse((at, _, _))| self.instant_of(*at));
            tokio::select! {
                ev = events.recv() => {
                    let Some(ev) = ev else { bail!("the run's event channel closed") };
                    self.handle(ev)?;
                    while let Ok(ev) = events.try_recv() {
                        self.handle(ev)?;
                    }
                    self.fire_due_timers()?;
                }
                _ = tokio::time::sleep_until(next) => self.fire_due_timers()?,
            }
        }
        self.workload.finish(end);
        self.collect_finals(&mut events).await;
        Ok(self.output(scenario, end))
    }

    fn instant_of(&self, at: Nanos) -> Instant {
        self.start.unwrap_or_else(Instant::now) + Duration::from_nanos(at)
    }

    /// Handles events until every node runs and one of them leads.
    async fn wait_ready(&mut self, events: &mut mpsc::UnboundedReceiver<DriverEvent>) -> anyhow::Result<()> {
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
                Ok(Some(ev)) => self.handle(ev)?,
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

    fn handle(&mut self, ev: DriverEvent) -> anyhow::Result<()> {
        self.events_seen += 1;
        let now = self.now();
        match ev {
            DriverEvent::Reply { client, reply } => {
                let Some(Some((seq, f))) = self.expected.get(client as usize) else {
                    return Ok(());
                };
                if reply.seq != *seq {
                    return Ok(());
                }
                if let Ok(result) = &reply.result
                    && !answers(*f, result)
                {
                    tracing::warn!(
                        client,
                        ?result,
                        "a reply that does not answer the request; ignored"
                    );
                    return Ok(());
                }
                self.workload.on_reply(now, client, &reply, &mut self.actions);
                self.carry_out();
            }
            DriverEvent::Node(FromNode {
                node,
                incarnation,
                event,
            }) => {
                let i = node.index();
                if i >= self.n || self.cluster.incarnation[i] != incarnation {
                    return Ok(());
                }
                self.on_node_event(i, now, event);
            }
            DriverEvent::EtcdStatus { node, status } => self.on_etcd_status(node, now, status),
        }
        Ok(())
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
                if id != node || protocol != self.protocol {
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
                self.finals[i] = Some(f);
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
        let base = &mut self.stats_base[i];
        base.msgs_sent += current.msgs_sent;
        base.bytes_sent += current.bytes_sent;
        base.msgs_received += current.msgs_received;
        base.msgs_dropped += current.msgs_dropped;
        base.fsyncs += current.fsyncs;
        base.busy_ns += current.busy_ns;
        base.crashes += 1;
    }

    fn carry_out(&mut self) {
        let now = self.now();
        for action in std::mem::take(&mut self.actions) {
            match action {
                ClientAction::Send { node, cmd } => {
                    if let Some(slot) = self.expected.get_mut(cmd.client as usize) {
                        *slot = Some((cmd.seq, fun_of(&cmd.op)));
                    }
                    self.clients.send(node, cmd);
                }
                ClientAction::Timer { at, token } => self.set_timer(at, token),
                ClientAction::Acknowledged(cmd) => {
                    if self.cluster.kind == Kind::Nodes {
                        self.invariants.on_acknowledged(now, cmd);
                    }
                }
            }
        }
    }

    fn fire_due_timers(&mut self) -> anyhow::Result<()> {
        loop {
            let now = self.now();
            let Some(Reverse((at, _, token))) = self.timers.peek().copied() else {
                return Ok(());
            };
            if at > now || self.ended {
                return Ok(());
            }
            self.timers.pop();
            match token {
                TOKEN_STOP => self.stop(at)?,
                TOKEN_END => self.ended = true,
                t if t >= TOKEN_FAULT => {
                    let i = (t - TOKEN_FAULT) as usize;
                    if !self.stopped && i < self.schedule.len() {
                        let spec = self.schedule[i].clone();
                        self.apply_fault(&spec, i, now)?;
                    }
                }
                t => {
                    self.workload.on_timer(now, t, &mut self.actions);
                    self.carry_out();
                }
            }
        }
    }

    fn nemesis(&mut self) -> Nemesis {
        let up: Vec<bool> = (0..self.n).map(|i| self.cluster.sup.is_running(i)).collect();
        let paused: Vec<bool> = (0..self.n).map(|i| self.cluster.sup.is_paused(i)).collect();
        Nemesis::new(&up, &self.known, paused, self.desired.clone())
    }

    fn apply_fault(&mut self, spec: &FaultSpec, index: usize, now: Nanos) -> anyhow::Result<()> {
        let mut nemesis = self.nemesis();
        let mut record = faults::apply(&mut nemesis, spec, index, self.seed, now);
        self.execute(nemesis, &mut record, now)?;
        tracing::info!(at_ns = now, label = %record.label, applied = record.applied, "fault");
        self.log.line(now, format_args!("fault: {}", record.label));
        self.records.push(record);
        Ok(())
    }

    /// Carries out what the fault code asked of the nemesis.
    fn execute(&mut self, nemesis: Nemesis, record: &mut FaultRecord, now: Nanos) -> anyhow::Result<()> {
        for op in nemesis.ops {
            match op {
                ProcessOp::Crash(node) => {
                    let i = node.index();
                    self.cluster.kill(i);
                    self.mark_down(i, now);
                    self.log.line(now, format_args!("SIGKILL {}", self.node_name(i)));
                }
                ProcessOp::Restart(node) => {
                    let i = node.index();
                    let faults = nemesis.desired[i].clone();
                    let pid = self.cluster.launch(i, &self.events_tx, &faults)?;
                    self.log
                        .line(now, format_args!("relaunched {} (pid {pid})", self.node_name(i)));
                }
                ProcessOp::Pause(node) => {
                    self.cluster.sup.pause(node.index())?;
                    self.log
                        .line(now, format_args!("SIGSTOP {}", self.node_name(node.index())));
                }
                ProcessOp::Resume(node) => {
                    self.cluster.sup.resume(node.index())?;
                    self.log
                        .line(now, format_args!("SIGCONT {}", self.node_name(node.index())));
                }
            }
        }
        let changed: Vec<usize> = (0..self.n)
            .filter(|&i| nemesis.desired[i] != self.desired[i])
            .collect();
        if !changed.is_empty() {
            match self.cluster.kind {
                Kind::Nodes => {
                    for &i in &changed {
                        if let Some(link) = &self.cluster.links[i] {
                            link.send(AdminRequest::SetFaults(nemesis.desired[i].clone()));
                        }
                    }
                }
                Kind::Etcd => {
                    // Links (cuts, delays) go to the peer proxies; the rest has no
                    // counterpart for etcd.
                    if let Some(proxy) = &self.cluster.proxy {
                        proxy.set_faults(&nemesis.desired);
                    }
                    if let Some(reason) = etcd_not_applied(record.kind) {
                        record.applied = false;
                        record.label += reason;
                    }
                }
            }
        }
        self.desired = nemesis.desired;
        Ok(())
    }

    /// The workload's end: no new operations, every fault healed.
    fn stop(&mut self, at: Nanos) -> anyhow::Result<()> {
        self.stopped = true;
        self.workload.stop();
        let mut nemesis = self.nemesis();
        faults::heal_everything(&mut nemesis);
        let mut record = FaultRecord {
            at_ns: at,
            kind: FaultKind::Heal,
            nodes: Vec::new(),
            label: "settle: every fault healed".into(),
            applied: true,
        };
        self.execute(nemesis, &mut record, at)?;
        self.log.line(at, "workload stopped; every fault healed");
        self.records.push(record);
        Ok(())
    }

    /// Asks every running node for its final state and waits (bounded) for the answers.
    async fn collect_finals(&mut self, events: &mut mpsc::UnboundedReceiver<DriverEvent>) {
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
                            let _ = self.handle(ev);
                        }
                        _ => break,
                    }
                }
            }
            Kind::Etcd => {
                for i in 0..self.n {
                    if self.cluster.sup.is_running(i)
                        && let Ok(Ok(s)) =
                            tokio::time::timeout(FINAL_TIMEOUT, EtcdClient::status(&self.cluster.addrs[i]))
                                .await
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

    fn output(mut self, scenario: &Scenario, end: Nanos) -> RunOutput {
        let commit_index_per_node: Vec<Option<LogIndex>> = match self.cluster.kind {
            Kind::Nodes => self
                .finals
                .iter()
                .map(|f| f.as_ref().map(|f| f.status.commit_index))
                .collect(),
            Kind::Etcd => self.known.iter().map(|s| s.map(|s| s.commit_index)).collect(),
        };
        let converged = commit_index_per_node
            .iter()
            .all(|c| c.is_some() && *c == commit_index_per_node[0]);
        let (committed_entries, committed_commands) = match self.cluster.kind {
            Kind::Nodes => {
                self.invariants.finish(end, &[]);
                self.check_convergence(end);
                let chosen = self.invariants.chosen();
                let commands = chosen
                    .iter()
                    .filter(|c| matches!(c, CmdId::Client { .. }))
                    .count();
                (chosen.len() as u64, commands as u64)
            }
            Kind::Etcd => {
                let entries = commit_index_per_node.iter().flatten().max().copied().unwrap_or(0);
                let acked = self
                    .workload
                    .ops
                    .iter()
                    .filter(|o| o.status == crate::workload::OpStatus::Ok)
                    .count();
                (entries, acked as u64)
            }
        };
        let node_stats: Vec<NodeStats> = (0..self.n)
            .map(|i| {
                let (b, c) = (&self.stats_base[i], &self.stats_now[i]);
                NodeStats {
                    msgs_sent: b.msgs_sent + c.msgs_sent,
                    bytes_sent: b.bytes_sent + c.bytes_sent,
                    msgs_received: b.msgs_received + c.msgs_received,
                    msgs_dropped: b.msgs_dropped + c.msgs_dropped,
                    fsyncs: b.fsyncs + c.fsyncs,
                    crashes: b.crashes,
                    busy_ns: b.busy_ns + c.busy_ns,
                }
            })
            .collect();
        let mut violations = self.invariants.violations().to_vec();
        violations.extend(self.extra_violations.iter().cloned());
        let violation_count = self.invariants.violation_count() + self.extra_violations.len();
        let ok = self.workload.ops.len();
        let now = self.now();
        self.log.line(
            now,
            format_args!(
                "done: {ok} operations, {committed_commands} commands committed, {violation_count} invariant violations; {}",
                self.baseline
            ),
        );
        RunOutput {
            scenario: scenario.name.clone(),
            protocol: self.protocol.clone(),
            backend: "live".to_string(),
            seed: self.seed,
            nodes: self.n,
            duration_ns: scenario.duration.0,
            end_ns: end,
            history: std::mem::take(&mut self.workload.history),
            ops: std::mem::take(&mut self.workload.ops),
            faults: std::mem::take(&mut self.records),
            status_log: std::mem::take(&mut self.status_log),
            node_stats,
            committed_entries,
            committed_commands,
            converged,
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
    fn check_convergence(&mut self, end: Nanos) {
        let mut by_index: BTreeMap<LogIndex, (usize, u64)> = BTreeMap::new();
        for (i, f) in self.finals.iter().enumerate() {
            let Some(f) = f else { continue };
            match by_index.get(&f.status.commit_index) {
                Some(&(other, digest)) if digest != f.kv_digest => self.extra_violations.push(Violation {
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
    }
}
