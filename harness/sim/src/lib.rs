//! The deterministic discrete-event simulator.
//!
//! A run is a pure function of (configuration, protocol, seed): one seeded ChaCha RNG draws
//! every latency and loss, events are ordered by (time, sequence), and only ordered maps and
//! vectors are iterated. Protocols are driven through [`replog::ReplicatedLog`] only.
//!
//! Models:
//! - **network** ([`network`]): per-link one-way latency (constant, uniform, normal,
//!   lognormal), loss, duplication, extra delay, and a link matrix for partitions.
//! - **disk** ([`disk`]): an fsync takes a sampled time; persists issued while one is in flight
//!   share the next (group commit). A crash keeps only records an fsync covered.
//! - **CPU** ([`CpuConfig`]): each input a node handles costs service time, plus a cost per
//!   message it sends, so a busy leader queues work and throughput saturates.
//! - **clocks** ([`clock`]): a node's timers can run fast or slow.
//! - **crash / restart / pause**: a crash loses volatile state and unsynced records; a restart
//!   boots from the durable records; a pause stops processing but keeps state and queues input.
//!
//! Clients and faults are the [`Driver`]'s business: it gets replies and its own timers, and
//! acts on the simulation through its public methods.

pub mod blame;
pub mod clock;
pub mod event;
pub mod network;
pub mod properties;
pub mod runner;
pub mod trace;

use blame::{HarnessCode, Origin, ProtocolCode};
use clock::Clock;
use event::{EventQueue, SimEvent};
use model::run::{NodeStats, StatusChange};
use model::scenario::{CpuConfig, DiskConfig, Dist, NetworkConfig, Scenario};
use model::timer::TimerToken;
use model::workload::ClientReply;
use network::Network;
use replog::command::ClientCommand;
use replog::invariants::Invariants;
use replog::kv::{KvResult, KvStore};
use replog::rng::{DetRng, mix, rng_for};
use replog::storage::Storage;
use replog::storage::mem::MemStorage;
use replog::{
    ClientId, Command, HostIo, LogIndex, Nanos, NodeHost, NodeId, NotLeader, Op, PersistSeq, ProtocolConfig,
    ReadPath, ReplicatedLog, Role, SnapshotImage, Status, WireSize,
};
use std::collections::{BTreeSet, VecDeque};
use trace::{Trace, TraceKind};

pub use blame::{HarnessError, HarnessPanic};
pub use runner::{RunOptions, SimError, conclude, run_protocol, run_sim};

/// Everything fixed at the start of a simulation.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub nodes: usize,
    pub seed: u64,
    pub protocol: ProtocolConfig,
    pub network: NetworkConfig,
    pub disk: DiskConfig,
    pub cpu: CpuConfig,
    /// Keep a readable event log of up to this many bytes (0: none).
    pub trace_log_bytes: usize,
}

impl SimConfig {
    /// `nodes` nodes with default models.
    pub fn new(nodes: usize, seed: u64) -> Self {
        SimConfig {
            nodes,
            seed,
            protocol: ProtocolConfig::default(),
            network: NetworkConfig::default(),
            disk: DiskConfig::default(),
            cpu: CpuConfig::default(),
            trace_log_bytes: 0,
        }
    }

    /// The cluster, network, disk, CPU and protocol of `scenario`, with `seed`.
    pub fn for_scenario(scenario: &Scenario, seed: u64) -> Self {
        SimConfig {
            nodes: scenario.cluster.nodes,
            seed,
            protocol: scenario.protocol.clone(),
            network: scenario.network.clone(),
            disk: scenario.disk.clone(),
            cpu: scenario.cpu.clone(),
            trace_log_bytes: 0,
        }
    }
}

/// What drives a simulation from outside: clients and faults. It gets the replies to the
/// requests it sent and the timers it set.
pub trait Driver<L: ReplicatedLog> {
    /// A reply reached `client`.
    fn on_reply(&mut self, sim: &mut Simulation<L>, client: ClientId, reply: ClientReply);
    /// A timer the driver set with [`Simulation::set_timer`] fired.
    fn on_timer(&mut self, sim: &mut Simulation<L>, token: TimerToken);
}

/// A driver that does nothing (for runs fed only by direct calls).
pub struct NoDriver;

impl<L: ReplicatedLog> Driver<L> for NoDriver {
    fn on_reply(&mut self, _: &mut Simulation<L>, _: ClientId, _: ClientReply) {}
    fn on_timer(&mut self, _: &mut Simulation<L>, _: TimerToken) {}
}

enum Input<M> {
    /// `size` is the message's wire size, computed once when it was sent.
    Msg {
        from: NodeId,
        msg: M,
        size: usize,
    },
    Tick,
    Persisted {
        upto: PersistSeq,
    },
    Request {
        cmd: ClientCommand,
    },
}

struct Slot<L: ReplicatedLog> {
    /// The node and its executor; None while crashed.
    host: Option<NodeHost<L>>,
    /// Incarnation: bumped at each crash, so events of an earlier life are ignored.
    inc: u64,
    storage: MemStorage<L::Record>,
    /// Persists not yet covered by a completed fsync: (seq, storage length after it).
    unsynced: VecDeque<(PersistSeq, usize)>,
    fsync_inflight: bool,
    inbox: VecDeque<Input<L::Message>>,
    cpu_free_at: Nanos,
    run_scheduled: bool,
    paused: bool,
    timer_at: Option<Nanos>,
    clock: Clock,
    fsync_override: Option<Dist>,
    kv: KvStore,
    /// Requests this node accepted in this boot and must answer when they commit.
    waiting: BTreeSet<(ClientId, u64)>,
    stats: NodeStats,
}

/// The simulator as the backend of one node's [`NodeHost`] during one input: records go to
/// memory (durable once an fsync covers them), messages to the outbox, commits to the state
/// machine and the invariants, with the client's reply scheduled after the CPU work so far.
struct SimIo<'a, L: ReplicatedLog> {
    id: NodeId,
    now: Nanos,
    cpu: &'a CpuConfig,
    storage: &'a mut MemStorage<L::Record>,
    unsynced: &'a mut VecDeque<(PersistSeq, usize)>,
    kv: &'a mut KvStore,
    waiting: &'a mut BTreeSet<(ClientId, u64)>,
    invariants: &'a mut Invariants,
    queue: &'a mut EventQueue<L::Message>,
    net: &'a Network,
    rng: &'a mut DetRng,
    outbox: &'a mut Vec<(NodeId, L::Message, usize)>,
    /// Records were appended: an fsync must cover them.
    need_fsync: bool,
    /// CPU the replies to clients cost so far.
    cost: Nanos,
}

impl<L: ReplicatedLog> HostIo<L> for SimIo<'_, L> {
    fn persist(&mut self, seq: PersistSeq, records: Vec<L::Record>) {
        let _harness = HarnessCode::enter();
        self.storage.append(&records).expect("memory storage");
        self.unsynced.push_back((seq, self.storage.appended_len()));
        self.need_fsync = true;
    }

    fn send(&mut self, to: NodeId, msg: L::Message) {
        // `wire_size` is the message's own code: still the protocol's.
        let size = msg.wire_size();
        let _harness = HarnessCode::enter();
        self.outbox.push((to, msg, size));
    }

    fn commit(&mut self, index: LogIndex, cmd: Command) {
        let _harness = HarnessCode::enter();
        self.invariants.on_commit(self.now, self.id, index, cmd.id());
        // Every replica applies; only the one a client waits on copies the result out of the
        // store.
        let applied = self.kv.apply_shared(&cmd);
        if let Command::Client(c) = &cmd
            && let Some(result) = applied.result()
            && self.waiting.remove(&(c.client, c.seq))
        {
            let result = Ok(result.to_result());
            self.reply(c.client, c.seq, result);
        }
    }

    fn checkpoint(&mut self, seq: PersistSeq, records: Vec<L::Record>) {
        let _harness = HarnessCode::enter();
        self.storage.checkpoint(&records).expect("memory storage");
        self.unsynced.push_back((seq, self.storage.appended_len()));
        self.need_fsync = true;
    }

    /// Encoding the image costs CPU by its size, as a message of that size would.
    fn image(&mut self, index: LogIndex) -> SnapshotImage {
        let _harness = HarnessCode::enter();
        self.invariants
            .on_snapshot(self.now, self.id, index, self.kv.digest());
        let image = SnapshotImage::new(self.kv.image());
        self.cost += self.cpu.bytes_ns(image.len());
        image
    }

    fn restore(&mut self, index: LogIndex, image: &SnapshotImage) {
        // An image that does not decode was put together by the protocol: its fault.
        *self.kv = KvStore::from_image(image.bytes()).unwrap_or_else(|e| panic!("{}: {e}", self.id));
        let _harness = HarnessCode::enter();
        self.cost += self.cpu.bytes_ns(image.len());
        self.invariants
            .on_restore(self.now, self.id, index, self.kv.digest());
    }

    /// A read without the log: answered from this node's state machine as it is now.
    fn serve_read(&mut self, cmd: ClientCommand) {
        let value = self.kv.get(cmd.op.key()).map(str::to_string);
        self.reply(cmd.client, cmd.seq, Ok(KvResult::Read(value)));
    }

    fn refuse_read(&mut self, cmd: ClientCommand, not_leader: NotLeader) {
        self.reply(cmd.client, cmd.seq, Err(not_leader));
    }
}

impl<L: ReplicatedLog> SimIo<'_, L> {
    /// Schedules the answer to a client after the CPU work so far and one client hop.
    fn reply(&mut self, client: ClientId, seq: u64, result: Result<KvResult, NotLeader>) {
        self.cost += self.cpu.per_send_ns;
        let reply = ClientReply {
            node: self.id,
            seq,
            result,
        };
        let at = self.now + self.cost + self.net.client_hop(self.rng);
        self.queue.push(at, SimEvent::Reply { client, reply });
    }
}

thread_local! {
    static CATCHING_PROTOCOL_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic on this thread now would be a protocol assertion that the run records as
/// a violation: inside [`Simulation::run_until`], in protocol code. The binary's panic hook
/// stays quiet for those, so a run that catches a broken protocol does not also spray
/// backtraces; a harness panic is printed in full.
pub fn catching_protocol_panics() -> bool {
    CATCHING_PROTOCOL_PANICS.with(|c| c.get()) && blame::in_protocol_code()
}

/// What an event was, kept (cheaply: no allocation) while it is handled, to name it if the
/// harness panics.
#[derive(Clone, Copy, Debug)]
enum EventName {
    Deliver {
        from: NodeId,
        to: NodeId,
    },
    NodeRun(NodeId),
    Timer(NodeId),
    FsyncDone(NodeId),
    Request {
        node: NodeId,
        client: ClientId,
        seq: u64,
    },
    Reply {
        client: ClientId,
        seq: u64,
    },
    Driver(model::timer::TimerToken),
}

impl EventName {
    fn of<M>(event: &SimEvent<M>) -> Self {
        match *event {
            SimEvent::Deliver { to, from, .. } => EventName::Deliver { from, to },
            SimEvent::NodeRun { node, .. } => EventName::NodeRun(node),
            SimEvent::Timer { node, .. } => EventName::Timer(node),
            SimEvent::FsyncDone { node, .. } => EventName::FsyncDone(node),
            SimEvent::Request { node, ref cmd } => EventName::Request {
                node,
                client: cmd.client,
                seq: cmd.seq,
            },
            SimEvent::Reply { client, ref reply } => EventName::Reply {
                client,
                seq: reply.seq,
            },
            SimEvent::Driver { token } => EventName::Driver(token),
        }
    }
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use model::timer::TimerToken;
        match *self {
            EventName::Deliver { from, to } => write!(f, "handling a message from {from} to {to}"),
            EventName::NodeRun(n) => write!(f, "running the next input of {n}"),
            EventName::Timer(n) => write!(f, "firing the protocol timer of {n}"),
            EventName::FsyncDone(n) => write!(f, "completing an fsync of {n}"),
            EventName::Request { node, client, seq } => {
                write!(f, "delivering request {seq} of client {client} to {node}")
            }
            EventName::Reply { client, seq } => {
                write!(f, "handing client {client} the reply to request {seq}")
            }
            EventName::Driver(TimerToken::Fault { index }) => {
                write!(
                    f,
                    "applying fault {index} of the schedule (faults[{index}] or the nemesis)"
                )
            }
            EventName::Driver(TimerToken::Client { client, .. }) => {
                write!(f, "firing a timer of client {client}")
            }
            EventName::Driver(TimerToken::Arrival) => write!(f, "an open-loop arrival"),
            EventName::Driver(TimerToken::Custom(n)) => write!(f, "firing custom driver timer {n}"),
        }
    }
}

/// A simulated cluster running protocol `L`.
pub struct Simulation<L: ReplicatedLog> {
    cfg: SimConfig,
    members: Vec<NodeId>,
    now: Nanos,
    queue: EventQueue<L::Message>,
    rng: DetRng,
    net: Network,
    slots: Vec<Slot<L>>,
    /// Correctness checks fed by every commit and status change.
    pub invariants: Invariants,
    /// Every role/epoch change, in time order.
    pub status_log: Vec<StatusChange>,
    trace: Trace,
    /// Messages the running node sends: (to, message, wire size). The size is computed once
    /// per message here and carried with it, since walking a batch of entries is not free.
    outbox: Vec<(NodeId, L::Message, usize)>,
    /// Set when a protocol's own assertion failed: the state may be torn, so nothing more runs.
    halted: bool,
}

impl<L: ReplicatedLog> Simulation<L> {
    /// Boots a cluster. Node i's protocol seed derives from the run seed and i.
    pub fn new(cfg: SimConfig) -> Self {
        let members: Vec<NodeId> = (0..cfg.nodes as u32).map(NodeId).collect();
        let net = Network::new(cfg.nodes, &cfg.network);
        let trace = if cfg.trace_log_bytes > 0 {
            Trace::with_log(cfg.trace_log_bytes)
        } else {
            Trace::default()
        };
        let mut sim = Simulation {
            rng: rng_for(cfg.seed, 0x5151),
            invariants: Invariants::new(cfg.nodes),
            members: members.clone(),
            now: 0,
            queue: EventQueue::default(),
            net,
            slots: Vec::new(),
            status_log: Vec::new(),
            halted: false,
            trace,
            outbox: Vec::new(),
            cfg,
        };
        for &id in &members {
            sim.slots.push(Slot {
                host: None,
                inc: 0,
                storage: MemStorage::new(),
                unsynced: VecDeque::new(),
                fsync_inflight: false,
                inbox: VecDeque::new(),
                cpu_free_at: 0,
                run_scheduled: false,
                paused: false,
                timer_at: None,
                clock: Clock::default(),
                fsync_override: None,
                kv: KvStore::new(),
                waiting: BTreeSet::new(),
                stats: NodeStats::default(),
            });
            if let Err(caught) = blame::catch(|| sim.boot(id)) {
                match caught.origin {
                    Origin::Protocol(node) => sim.protocol_panicked(node, &caught.message),
                    Origin::Harness => std::panic::resume_unwind(caught.payload),
                }
            }
        }
        sim
    }

    // ---------------------------------------------------------------- running

    /// Processes events up to and including time `until`, then sets the clock to `until`.
    ///
    /// A panic inside protocol code (one of its invariant assertions) is caught, recorded as a
    /// [`InvariantKind::ProtocolAssertion`](replog::invariants::InvariantKind) violation,
    /// and halts the simulation: the run still ends with its history and trace, so a broken
    /// protocol is reported and saved like any other violation instead of aborting a campaign.
    ///
    /// A panic anywhere else (the driver, the fault layer, the simulator) is the harness's
    /// own bug and no finding about the protocol: it continues unwinding as a
    /// [`HarnessPanic`] naming the time and the event, for the caller to report
    /// ([`run_protocol`] makes it a [`HarnessError`]).
    pub fn run_until(&mut self, until: Nanos, driver: &mut impl Driver<L>) {
        let outer = CATCHING_PROTOCOL_PANICS.replace(true);
        while !self.halted {
            let Some((time, event)) = self.queue.pop_until(until) else {
                break;
            };
            debug_assert!(time >= self.now, "time went backwards");
            self.now = time;
            let name = EventName::of(&event);
            let Err(caught) = blame::catch(|| self.handle(event, driver)) else {
                continue;
            };
            match caught.origin {
                Origin::Protocol(node) => {
                    self.protocol_panicked(node, &caught.message);
                }
                Origin::Harness => {
                    CATCHING_PROTOCOL_PANICS.set(outer);
                    if caught.payload.is::<HarnessPanic>() {
                        std::panic::resume_unwind(caught.payload); // a nested run's, already named
                    }
                    std::panic::resume_unwind(Box::new(HarnessPanic {
                        at_ns: self.now,
                        event: name.to_string(),
                        message: caught.message,
                    }));
                }
            }
        }
        CATCHING_PROTOCOL_PANICS.set(outer);
        self.now = self.now.max(until);
    }

    /// The protocol of `node` failed one of its own assertions: recorded, and nothing more
    /// runs (its state may be torn).
    fn protocol_panicked(&mut self, node: NodeId, message: &str) {
        self.invariants
            .on_protocol_panic(self.now, format!("{node}: {message}"));
        self.halted = true;
    }

    /// Whether a protocol assertion stopped the run.
    pub fn halted(&self) -> bool {
        self.halted
    }

    fn handle(&mut self, event: SimEvent<L::Message>, driver: &mut impl Driver<L>) {
        match event {
            SimEvent::Deliver { to, from, msg, size } => {
                let slot = &mut self.slots[to.index()];
                if slot.host.is_none() || self.net.is_blocked(from, to) {
                    // Down, or the link was cut while the message was in flight.
                    slot.stats.msgs_dropped += 1;
                    return;
                }
                self.trace.record(
                    self.now,
                    TraceKind::Deliver,
                    from.0 as u64,
                    to.0 as u64,
                    size as u64,
                );
                self.enqueue(to, Input::Msg { from, msg, size });
            }
            SimEvent::NodeRun { node, inc } => {
                let slot = &mut self.slots[node.index()];
                if slot.inc != inc {
                    return;
                }
                slot.run_scheduled = false;
                self.run_next(node);
            }
            SimEvent::Timer { node, inc } => {
                let slot = &mut self.slots[node.index()];
                if slot.inc != inc || slot.timer_at != Some(self.now) {
                    return; // superseded
                }
                slot.timer_at = None;
                self.trace.record(self.now, TraceKind::Timer, node.0 as u64, 0, 0);
                self.enqueue(node, Input::Tick);
            }
            SimEvent::FsyncDone { node, inc, seq, len } => {
                let slot = &mut self.slots[node.index()];
                if slot.inc != inc {
                    return; // the crash already discarded what this fsync covered
                }
                slot.storage.sync_prefix(len);
                slot.fsync_inflight = false;
                while slot.unsynced.front().is_some_and(|&(s, _)| s <= seq) {
                    slot.unsynced.pop_front();
                }
                self.trace
                    .record(self.now, TraceKind::FsyncDone, node.0 as u64, seq, len as u64);
                self.start_fsync(node);
                self.enqueue(node, Input::Persisted { upto: seq });
            }
            SimEvent::Request { node, cmd } => {
                if self.slots[node.index()].host.is_none() {
                    return; // the client will time out
                }
                self.trace
                    .record(self.now, TraceKind::Request, node.0 as u64, cmd.client, cmd.seq);
                self.enqueue(node, Input::Request { cmd });
            }
            SimEvent::Reply { client, reply } => {
                self.trace
                    .record(self.now, TraceKind::Reply, client, reply.seq, reply.node.0 as u64);
                driver.on_reply(self, client, reply);
            }
            SimEvent::Driver { token } => {
                self.trace
                    .record(self.now, TraceKind::DriverTimer, token.trace_code(), 0, 0);
                driver.on_timer(self, token);
            }
        }
    }

    fn enqueue(&mut self, id: NodeId, input: Input<L::Message>) {
        let slot = &mut self.slots[id.index()];
        slot.inbox.push_back(input);
        self.kick(id);
    }

    /// Runs the node's next input now if its CPU is idle, or schedules it for when it is.
    fn kick(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if slot.paused || slot.run_scheduled || slot.inbox.is_empty() || slot.host.is_none() {
            return;
        }
        if slot.cpu_free_at <= self.now {
            self.run_next(id);
        } else {
            slot.run_scheduled = true;
            let (at, inc) = (slot.cpu_free_at, slot.inc);
            self.queue.push(at, SimEvent::NodeRun { node: id, inc });
        }
    }

    /// Handles one input at the current time, charging its CPU cost.
    fn run_next(&mut self, id: NodeId) {
        let cpu = self.cfg.cpu.clone();
        let now = self.now;
        let slot = &mut self.slots[id.index()];
        if slot.paused || slot.host.is_none() {
            return;
        }
        let Some(input) = slot.inbox.pop_front() else {
            return;
        };
        let local = slot.clock.local(now);
        let mut cost = cpu.per_input_ns;
        cost += match input {
            Input::Msg { from, msg, size } => {
                cost += cpu.bytes_ns(size);
                slot.stats.msgs_received += 1;
                self.carry_out(id, |host, io| host.step(local, from, msg, io))
            }
            Input::Tick => self.carry_out(id, |host, io| host.tick(local, io)),
            Input::Persisted { upto } => self.carry_out(id, |host, io| host.persisted(local, upto, io)),
            Input::Request { cmd } => {
                let key = (cmd.client, cmd.seq);
                let host = slot.host.as_mut().expect("checked above");
                // Under read_index and lease, a read is registered with the node rather than
                // proposed; the host answers it (or refuses it) among its effects.
                let off_log =
                    self.cfg.protocol.read_path != ReadPath::Log && matches!(*cmd.op, Op::Get { .. });
                // The proposal is noted before its effects are carried out: it may commit at
                // once, and the commit answers the client.
                let accepted = {
                    let _protocol = ProtocolCode::enter(id);
                    if off_log {
                        host.read(local, cmd)
                    } else {
                        host.propose(local, Command::Client(cmd))
                    }
                };
                match accepted {
                    Ok(()) if off_log => {}
                    Ok(()) => {
                        slot.waiting.insert(key);
                    }
                    Err(not_leader) => {
                        let reply = ClientReply {
                            node: id,
                            seq: key.1,
                            result: Err(not_leader),
                        };
                        cost += cpu.per_send_ns;
                        let at = now + cost + self.net.client_hop(&mut self.rng);
                        self.queue.push(at, SimEvent::Reply { client: key.0, reply });
                    }
                }
                self.carry_out(id, |host, io| host.carry_out(io))
            }
        };
        let slot = &mut self.slots[id.index()];
        slot.cpu_free_at = now + cost;
        slot.stats.busy_ns += cost;
        self.flush_outbox(id, now + cost);
        self.observe_status(id);
        self.schedule_timer(id);
        self.kick(id);
    }

    /// Runs `f` on the node's host with the simulator as its backend, starts an fsync for
    /// what it appended, and returns the CPU its effects cost beyond the input itself (replies
    /// to clients and every message in the outbox).
    fn carry_out(&mut self, id: NodeId, f: impl FnOnce(&mut NodeHost<L>, &mut SimIo<'_, L>)) -> Nanos {
        let Simulation {
            cfg,
            now,
            queue,
            rng,
            net,
            slots,
            invariants,
            outbox,
            ..
        } = self;
        let Slot {
            host,
            storage,
            unsynced,
            kv,
            waiting,
            ..
        } = &mut slots[id.index()];
        let Some(host) = host.as_mut() else { return 0 };
        let mut io = SimIo {
            id,
            now: *now,
            cpu: &cfg.cpu,
            storage,
            unsynced,
            kv,
            waiting,
            invariants,
            queue,
            net,
            rng,
            outbox,
            need_fsync: false,
            cost: 0,
        };
        {
            let _protocol = ProtocolCode::enter(id);
            f(host, &mut io);
        }
        let (need_fsync, mut cost) = (io.need_fsync, io.cost);
        if need_fsync {
            self.start_fsync(id);
        }
        for &(_, _, size) in &self.outbox {
            cost += self.cfg.cpu.per_send_ns + self.cfg.cpu.bytes_ns(size);
        }
        cost
    }

    /// Puts every message in the outbox on the network, departing at `depart`.
    fn flush_outbox(&mut self, from: NodeId, depart: Nanos) {
        let mut outbox = std::mem::take(&mut self.outbox);
        for (to, msg, size) in outbox.drain(..) {
            let stats = &mut self.slots[from.index()].stats;
            stats.msgs_sent += 1;
            stats.bytes_sent += size as u64;
            let (delays, copies) = self.net.route(depart, from, to, &mut self.rng);
            if copies == 0 {
                stats.msgs_dropped += 1;
                continue;
            }
            if copies == 2 {
                self.queue.push(
                    depart + delays[1],
                    SimEvent::Deliver {
                        to,
                        from,
                        msg: msg.clone(),
                        size,
                    },
                );
            }
            self.queue
                .push(depart + delays[0], SimEvent::Deliver { to, from, msg, size });
        }
        self.outbox = outbox;
    }

    /// Starts an fsync covering everything appended, unless one is in flight.
    fn start_fsync(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if slot.fsync_inflight || slot.host.is_none() {
            return;
        }
        let Some(&(seq, len)) = slot.unsynced.back() else {
            return;
        };
        slot.fsync_inflight = true;
        slot.stats.fsyncs += 1;
        let latency = slot
            .fsync_override
            .as_ref()
            .unwrap_or(&self.cfg.disk.fsync)
            .sample(&mut self.rng);
        let inc = slot.inc;
        self.queue.push(
            self.now + latency,
            SimEvent::FsyncDone {
                node: id,
                inc,
                seq,
                len,
            },
        );
    }

    fn schedule_timer(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        let next_deadline = {
            let _protocol = ProtocolCode::enter(id);
            slot.host.as_ref().and_then(NodeHost::next_deadline)
        };
        let Some(deadline) = next_deadline else {
            return;
        };
        let at = slot.clock.sim_time(deadline).max(self.now);
        if slot.timer_at.is_none_or(|t| at < t) {
            slot.timer_at = Some(at);
            let inc = slot.inc;
            self.queue.push(at, SimEvent::Timer { node: id, inc });
        }
    }

    /// Records a change of the node's role, epoch or leader hint: in the trace, the
    /// invariants and the status log.
    fn observe_status(&mut self, id: NodeId) {
        let change = {
            let _protocol = ProtocolCode::enter(id);
            self.slots[id.index()]
                .host
                .as_mut()
                .and_then(NodeHost::status_change)
        };
        let Some(status) = change else {
            return;
        };
        self.trace.record(
            self.now,
            TraceKind::Status,
            id.0 as u64,
            status.epoch.round,
            status.role as u64,
        );
        if self.trace.logging() {
            self.trace.line(
                self.now,
                format_args!(
                    "{id} {:?} {} hint={:?}",
                    status.role, status.epoch, status.leader_hint
                ),
            );
        }
        self.invariants.on_status(self.now, &status);
        self.status_log.push(StatusChange {
            time: self.now,
            status,
            up: true,
        });
    }

    fn boot(&mut self, id: NodeId) {
        let seed = mix(mix(self.cfg.seed, id.0 as u64 + 1), self.slots[id.index()].inc);
        let slot = &mut self.slots[id.index()];
        let records = slot.storage.durable().to_vec();
        slot.host = Some({
            let _protocol = ProtocolCode::enter(id);
            NodeHost::boot(id, &self.members, &self.cfg.protocol, records, seed)
        });
        slot.cpu_free_at = slot.cpu_free_at.max(self.now);
        self.invariants.on_boot(id);
        self.trace
            .record(self.now, TraceKind::Boot, id.0 as u64, slot.inc, 0);
        let cost = self.carry_out(id, |host, io| host.carry_out(io));
        self.flush_outbox(id, self.now + cost);
        self.observe_status(id);
        self.schedule_timer(id);
    }

    // ---------------------------------------------------------------- driver API

    /// Current simulated time.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The run's configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The cluster's members.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// Sends a client request to `node`; it arrives after one client hop.
    pub fn send_request(&mut self, node: NodeId, cmd: ClientCommand) {
        let at = self.now + self.net.client_hop(&mut self.rng);
        self.queue.push(at, SimEvent::Request { node, cmd });
    }

    /// Calls the driver's `on_timer(token)` at `at`.
    pub fn set_timer(&mut self, at: Nanos, token: TimerToken) {
        self.queue.push(at.max(self.now), SimEvent::Driver { token });
    }

    /// The status of every node (None when down).
    pub fn statuses(&self) -> Vec<Option<Status>> {
        self.slots
            .iter()
            .zip(&self.members)
            .map(|(s, &id)| {
                let _protocol = ProtocolCode::enter(id);
                s.host.as_ref().map(NodeHost::status)
            })
            .collect()
    }

    /// Every node's status at the end of a run (None when down). A protocol that panics
    /// answering is recorded like any of its assertions, and its node counts as down.
    pub fn final_statuses(&mut self) -> Vec<Option<Status>> {
        match blame::catch(|| self.statuses()) {
            Ok(statuses) => statuses,
            Err(caught) => match caught.origin {
                Origin::Protocol(node) => {
                    self.protocol_panicked(node, &caught.message);
                    vec![None; self.members.len()]
                }
                Origin::Harness => std::panic::resume_unwind(caught.payload),
            },
        }
    }

    /// The live leader with the highest epoch, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.statuses()
            .into_iter()
            .flatten()
            .filter(|s| s.role == Role::Leader)
            .max_by_key(|s| s.epoch)
            .map(|s| s.id)
    }

    /// Whether `id` is running (crashed nodes are not; paused ones are).
    pub fn is_up(&self, id: NodeId) -> bool {
        self.slots[id.index()].host.is_some()
    }

    /// Whether `id` is paused.
    pub fn is_paused(&self, id: NodeId) -> bool {
        self.slots[id.index()].paused
    }

    /// The protocol state of `id`, for inspection.
    pub fn node(&self, id: NodeId) -> Option<&L> {
        self.slots[id.index()].host.as_ref().map(NodeHost::node)
    }

    /// The state machine of `id`.
    pub fn kv(&self, id: NodeId) -> &KvStore {
        &self.slots[id.index()].kv
    }

    /// Traffic counters of `id`.
    pub fn stats(&self, id: NodeId) -> &NodeStats {
        &self.slots[id.index()].stats
    }

    /// The durable records of `id`.
    pub fn durable_records(&self, id: NodeId) -> &[L::Record] {
        self.slots[id.index()].storage.durable()
    }

    /// Storage of `id`, for corruption experiments.
    pub fn storage_mut(&mut self, id: NodeId) -> &mut MemStorage<L::Record> {
        &mut self.slots[id.index()].storage
    }

    /// The network, for faults.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The network, for faults.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// The event trace (hash and optional log).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Adds a line to the trace log (faults, client events), if one is kept.
    pub fn note(&mut self, text: std::fmt::Arguments<'_>) {
        let now = self.now;
        self.trace.line(now, text);
    }

    /// Folds a driver event into the trace hash.
    pub fn trace_record(&mut self, kind: TraceKind, a: u64, b: u64, c: u64) {
        let now = self.now;
        self.trace.record(now, kind, a, b, c);
    }

    /// Crashes `id`: volatile state, queued input and unsynced records are lost.
    pub fn crash(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        let Some(host) = slot.host.take() else {
            return;
        };
        let last = host.reported_status().expect("a running node has a status");
        slot.inc += 1;
        slot.storage.crash();
        slot.unsynced.clear();
        slot.fsync_inflight = false;
        slot.inbox.clear();
        slot.run_scheduled = false;
        slot.paused = false;
        slot.timer_at = None;
        slot.kv = KvStore::new();
        slot.waiting.clear();
        slot.stats.crashes += 1;
        self.trace.record(self.now, TraceKind::Crash, id.0 as u64, 0, 0);
        self.trace.line(self.now, format_args!("{id} crashed"));
        self.status_log.push(StatusChange {
            time: self.now,
            status: last,
            up: false,
        });
    }

    /// Boots a crashed node from its durable records.
    pub fn restart(&mut self, id: NodeId) {
        if self.slots[id.index()].host.is_some() {
            return;
        }
        self.trace.line(self.now, format_args!("{id} restarted"));
        self.boot(id);
    }

    /// Stops `id` from processing anything; input queues up (a SIGSTOP).
    pub fn pause(&mut self, id: NodeId) {
        self.slots[id.index()].paused = true;
        self.trace.record(self.now, TraceKind::Pause, id.0 as u64, 0, 0);
    }

    /// Lets a paused node run again: queued input and overdue timers are handled.
    pub fn resume(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if !slot.paused {
            return;
        }
        slot.paused = false;
        slot.timer_at = None;
        self.trace.record(self.now, TraceKind::Resume, id.0 as u64, 0, 0);
        self.schedule_timer(id);
        self.kick(id);
    }

    /// From now on, `id`'s clock runs `rate` times as fast as real time.
    pub fn set_clock_rate(&mut self, id: NodeId, rate: f64) {
        let now = self.now;
        let slot = &mut self.slots[id.index()];
        slot.clock.set_rate(now, rate);
        slot.timer_at = None;
        self.schedule_timer(id);
    }

    /// Overrides `id`'s fsync latency (None: back to the disk model).
    pub fn set_fsync(&mut self, id: NodeId, fsync: Option<Dist>) {
        self.slots[id.index()].fsync_override = fsync;
    }
}

#[cfg(test)]
mod tests;
