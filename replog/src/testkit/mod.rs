//! A synchronous in-memory cluster for protocol unit tests, in the spirit of raft-rs's test
//! `Network`: messages are delivered in FIFO order with no latency, persistence completes at
//! once unless a test holds it back, and time moves only when the test says so.
//!
//! The network checks the shared rules as it goes and panics at the step that breaks one:
//! - a message waiting on a `Persist` leaves only once that persist is durable;
//! - each node commits indices in order from 1, once each per boot;
//! - every node commits the same command at the same index (across crashes too);
//! - at most one node is leader in any one epoch.
//!
//! ```
//! use replog::testkit::Network;
//! use replog::{null::NullLog, Command, NodeId, Op, ProtocolConfig};
//!
//! let mut net = Network::<NullLog>::new(3, ProtocolConfig::default(), 7);
//! net.propose(NodeId(0), Command::client(1, 1, Op::Get { key: "k".into() })).unwrap();
//! net.deliver_all();
//! assert_eq!(net.commits(NodeId(0)).len(), 1);
//! ```

pub mod script;
pub mod stress;

use crate::command::{ClientCommand, CmdId, Command};
use crate::config::ProtocolConfig;
use crate::host::{HostIo, NodeHost};
use crate::invariants::Invariants;
use crate::kv::KvStore;
use crate::log::{NotLeader, ReplicatedLog, Status};
use crate::rng::mix;
use crate::snapshot::SnapshotImage;
use crate::storage::Storage;
use crate::storage::mem::MemStorage;
use crate::types::{LogIndex, Nanos, NodeId, PersistSeq};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A predicate deciding whether a message in flight is dropped.
pub type DropFilter<M> = Box<dyn FnMut(NodeId, NodeId, &M) -> bool>;

/// A message in flight: (from, to, message).
type InFlight<M> = (NodeId, NodeId, M);

struct Slot<L: ReplicatedLog> {
    host: Option<NodeHost<L>>,
    storage: MemStorage<L::Record>,
    /// Persists appended but not yet durable: (seq, storage length after it).
    unsynced: Vec<(PersistSeq, usize)>,
    commits: Vec<(LogIndex, Command)>,
    /// The state machine the commits are applied to (snapshots are taken from it).
    kv: KvStore,
    /// The index the state machine stands at: the last commit or restored snapshot.
    applied: LogIndex,
    reads: Vec<ReadOutcome>,
    auto_persist: bool,
    incarnation: u64,
}

/// What the test cluster does with one node's effects: storage in memory, sends into the
/// FIFO queue, commits into the node's list and the invariants.
struct SlotIo<'a, L: ReplicatedLog> {
    id: NodeId,
    now: Nanos,
    storage: &'a mut MemStorage<L::Record>,
    unsynced: &'a mut Vec<(PersistSeq, usize)>,
    commits: &'a mut Vec<(LogIndex, Command)>,
    kv: &'a mut KvStore,
    applied: &'a mut LogIndex,
    reads: &'a mut Vec<ReadOutcome>,
    queue: &'a mut VecDeque<InFlight<L::Message>>,
    invariants: &'a mut Invariants,
}

impl<L: ReplicatedLog> HostIo<L> for SlotIo<'_, L> {
    fn persist(&mut self, seq: PersistSeq, records: Vec<L::Record>) {
        self.storage.append(&records).expect("memory storage cannot fail");
        self.unsynced.push((seq, self.storage.appended_len()));
    }

    fn send(&mut self, to: NodeId, msg: L::Message) {
        self.queue.push_back((self.id, to, msg));
    }

    fn commit(&mut self, index: LogIndex, cmd: Command) {
        self.invariants.on_commit(self.now, self.id, index, cmd.id());
        self.kv.apply(&cmd);
        *self.applied = index;
        self.commits.push((index, cmd));
    }

    fn checkpoint(&mut self, seq: PersistSeq, records: Vec<L::Record>) {
        self.storage
            .checkpoint(&records)
            .expect("memory storage cannot fail");
        self.unsynced.push((seq, self.storage.appended_len()));
    }

    fn image(&mut self, index: LogIndex) -> SnapshotImage {
        self.invariants
            .on_snapshot(self.now, self.id, index, self.kv.digest());
        SnapshotImage::new(self.kv.image())
    }

    fn restore(&mut self, index: LogIndex, image: &SnapshotImage) {
        *self.kv = KvStore::from_image(image.bytes()).unwrap_or_else(|e| panic!("{}: {e}", self.id));
        *self.applied = index;
        self.invariants
            .on_restore(self.now, self.id, index, self.kv.digest());
    }

    fn serve_read(&mut self, cmd: ClientCommand) {
        let applied = *self.applied;
        self.reads.push(ReadOutcome::Served {
            seq: cmd.seq,
            applied,
        });
    }

    fn refuse_read(&mut self, cmd: ClientCommand, _: NotLeader) {
        self.reads.push(ReadOutcome::Refused { seq: cmd.seq });
    }
}

/// What became of a read handed to [`Network::read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Answered from the state machine, which had applied through `applied`.
    Served { seq: u64, applied: LogIndex },
    /// The node lost leadership first.
    Refused { seq: u64 },
}

/// An in-memory cluster of `L` nodes numbered 0..n.
pub struct Network<L: ReplicatedLog> {
    now: Nanos,
    cfg: ProtocolConfig,
    seed: u64,
    members: Vec<NodeId>,
    slots: Vec<Slot<L>>,
    queue: VecDeque<InFlight<L::Message>>,
    cut: BTreeSet<(NodeId, NodeId)>,
    filter: Option<DropFilter<L::Message>>,
    /// Agreement, commit order and one leader per epoch, checked at every step; the first
    /// violation panics there.
    invariants: Invariants,
    /// Every message delivered: (from, to, message), for tests that inspect traffic.
    pub delivered: Vec<InFlight<L::Message>>,
    /// Whether to record `delivered`.
    pub record_traffic: bool,
}

impl<L: ReplicatedLog> Network<L> {
    /// Boots `n` nodes with `cfg`; node i's seed is derived from `seed` and i.
    pub fn new(n: usize, cfg: ProtocolConfig, seed: u64) -> Self {
        let members: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
        let mut net = Network {
            now: 0,
            cfg,
            seed,
            members: members.clone(),
            slots: Vec::new(),
            queue: VecDeque::new(),
            cut: BTreeSet::new(),
            filter: None,
            invariants: Invariants::new(n),
            delivered: Vec::new(),
            record_traffic: false,
        };
        for &id in &members {
            let host = NodeHost::boot(id, &members, &net.cfg, Vec::new(), mix(seed, id.0 as u64));
            net.slots.push(Slot {
                host: Some(host),
                storage: MemStorage::new(),
                unsynced: Vec::new(),
                commits: Vec::new(),
                kv: KvStore::new(),
                applied: 0,
                reads: Vec::new(),
                auto_persist: true,
                incarnation: 0,
            });
        }
        for id in members {
            net.drain(id);
        }
        net
    }

    /// Current virtual time.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The cluster's members.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The node, if it is up.
    pub fn node(&self, id: NodeId) -> Option<&L> {
        self.slots[id.index()].host.as_ref().map(NodeHost::node)
    }

    /// The node, mutably, for protocol-specific test hooks. Call [`drain`](Self::drain) after.
    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut L> {
        self.slots[id.index()].host.as_mut().map(NodeHost::node_mut)
    }

    /// The node's status, if it is up.
    pub fn status(&self, id: NodeId) -> Option<Status> {
        self.node(id).map(L::status)
    }

    /// What `id` has committed since it last booted, in order.
    pub fn commits(&self, id: NodeId) -> &[(LogIndex, Command)] {
        &self.slots[id.index()].commits
    }

    /// The state machine of `id` (the commits since it booted, or since the snapshot it
    /// restored).
    pub fn kv(&self, id: NodeId) -> &KvStore {
        &self.slots[id.index()].kv
    }

    /// The command first committed at each index by any node.
    pub fn chosen(&self) -> BTreeMap<LogIndex, CmdId> {
        (1..).zip(self.invariants.chosen().iter().copied()).collect()
    }

    /// The live leader of the highest epoch, if any.
    pub fn leader(&self) -> Option<NodeId> {
        let statuses: Vec<Status> = self.members.iter().filter_map(|&id| self.status(id)).collect();
        crate::log::leader_of(&statuses)
    }

    /// Hands `cmd` to `id` and carries out what follows, except message delivery.
    pub fn propose(&mut self, id: NodeId, cmd: Command) -> Result<(), NotLeader> {
        assert!(self.is_up(id), "proposal to a crashed node");
        let result = self.with_host(id, |host, now, io| {
            let result = host.propose(now, cmd);
            host.carry_out(io);
            result
        });
        self.after_step(id);
        result
    }

    /// Hands the read `get(key)` with sequence number `seq` to `id` (which must run a read path
    /// other than `log`) and carries out what follows, except message delivery. What became
    /// of it is in [`reads`](Self::reads).
    pub fn read(&mut self, id: NodeId, seq: u64, key: &str) -> Result<(), NotLeader> {
        assert!(self.is_up(id), "read at a crashed node");
        let cmd = ClientCommand {
            client: 0,
            seq,
            op: std::sync::Arc::new(crate::command::Op::Get { key: key.into() }),
        };
        let result = self.with_host(id, |host, now, io| {
            let result = host.read(now, cmd);
            host.carry_out(io);
            result
        });
        self.after_step(id);
        result
    }

    /// The reads `id` answered or refused in its current boot, in order.
    pub fn reads(&self, id: NodeId) -> &[ReadOutcome] {
        &self.slots[id.index()].reads
    }

    /// Delivers queued messages (FIFO) until none remain. Returns how many were delivered.
    pub fn deliver_all(&mut self) -> usize {
        let mut count = 0;
        while let Some((from, to, msg)) = self.queue.pop_front() {
            count += 1;
            assert!(count < 10_000_000, "message storm: protocol never quiesces");
            if self.cut.contains(&(from, to)) || !self.is_up(to) {
                continue;
            }
            if let Some(f) = self.filter.as_mut()
                && f(from, to, &msg)
            {
                continue;
            }
            if self.record_traffic {
                self.delivered.push((from, to, msg.clone()));
            }
            self.step(from, to, msg);
        }
        count
    }

    /// Delivers `msg` to `to` and carries out what follows.
    fn step(&mut self, from: NodeId, to: NodeId, msg: L::Message) {
        self.with_host(to, |host, now, io| host.step(now, from, msg, io));
        self.after_step(to);
    }

    /// Delivers only the messages queued now whose (from, to, msg) matches `pick`; the rest
    /// stay queued in order. For hand-built interleavings.
    pub fn deliver_matching(&mut self, mut pick: impl FnMut(NodeId, NodeId, &L::Message) -> bool) -> usize {
        let queued: Vec<_> = self.queue.drain(..).collect();
        let mut keep = VecDeque::new();
        let mut take = Vec::new();
        for (from, to, msg) in queued {
            if pick(from, to, &msg) {
                take.push((from, to, msg));
            } else {
                keep.push_back((from, to, msg));
            }
        }
        let n = take.len();
        for (from, to, msg) in take {
            if self.cut.contains(&(from, to)) || !self.is_up(to) {
                continue;
            }
            self.step(from, to, msg);
        }
        // Messages produced meanwhile go after the ones that were waiting.
        keep.extend(self.queue.drain(..));
        self.queue = keep;
        n
    }

    /// Discards every queued message.
    pub fn drop_queued(&mut self) {
        self.queue.clear();
    }

    /// Messages queued and not yet delivered.
    pub fn queued(&self) -> impl Iterator<Item = &InFlight<L::Message>> {
        self.queue.iter()
    }

    /// Moves time forward by `dt`, firing the timers that fall due (without delivering).
    pub fn advance(&mut self, dt: Nanos) {
        self.now += dt;
        for id in self.members.clone() {
            let now = self.now;
            if let Some(host) = &self.slots[id.index()].host
                && host.next_deadline().is_some_and(|d| d <= now)
            {
                self.with_host(id, |host, now, io| host.tick(now, io));
                self.after_step(id);
            }
        }
    }

    /// Jumps to the earliest timer among live nodes and fires it.
    pub fn advance_to_next_deadline(&mut self) -> bool {
        let next = self
            .slots
            .iter()
            .filter_map(|s| s.host.as_ref()?.next_deadline())
            .min();
        match next {
            Some(t) => {
                self.advance(t.saturating_sub(self.now));
                true
            }
            None => false,
        }
    }

    /// Alternates delivery and timers until `done` holds or `limit` of virtual time passes.
    /// Returns whether `done` held.
    pub fn run_until(&mut self, limit: Nanos, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = self.now + limit;
        loop {
            self.deliver_all();
            if done(self) {
                return true;
            }
            if self.now >= deadline || !self.advance_to_next_deadline() {
                return done(self);
            }
        }
    }

    /// Runs until some node leads, for at most `limit`. Returns the leader.
    pub fn elect(&mut self, limit: Nanos) -> Option<NodeId> {
        self.run_until(limit, |n| n.leader().is_some());
        self.leader()
    }

    /// Runs for `dt` of virtual time, delivering and firing timers.
    pub fn run_for(&mut self, dt: Nanos) {
        let end = self.now + dt;
        loop {
            self.deliver_all();
            let next = self
                .slots
                .iter()
                .filter_map(|s| s.host.as_ref()?.next_deadline())
                .min();
            match next {
                Some(t) if t <= end => self.advance(t.saturating_sub(self.now)),
                _ => {
                    self.advance(end - self.now);
                    self.deliver_all();
                    return;
                }
            }
        }
    }

    /// Crashes `id`: volatile state and unsynced records are lost, held sends vanish.
    pub fn crash(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        slot.host = None;
        slot.storage.crash();
        slot.unsynced.clear();
        slot.commits.clear();
        slot.kv = KvStore::new();
        slot.applied = 0;
        slot.reads.clear();
        self.queue.retain(|(_, to, _)| *to != id);
    }

    /// Boots `id` again from its durable records.
    pub fn restart(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        assert!(slot.host.is_none(), "restart of a running node");
        slot.incarnation += 1;
        let records = slot.storage.durable().to_vec();
        let seed = mix(mix(self.seed, id.0 as u64), slot.incarnation);
        slot.host = Some(NodeHost::boot(id, &self.members, &self.cfg, records, seed));
        self.invariants.on_boot(id);
        self.drain(id);
    }

    /// Whether `id` is up.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.slots[id.index()].host.is_some()
    }

    /// The durable records of `id`.
    pub fn durable_records(&self, id: NodeId) -> &[L::Record] {
        self.slots[id.index()].storage.durable()
    }

    /// Cuts both directions between `a` and `b`.
    pub fn cut(&mut self, a: NodeId, b: NodeId) {
        self.cut.insert((a, b));
        self.cut.insert((b, a));
    }

    /// Cuts only messages from `from` to `to`.
    pub fn cut_one_way(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    /// Cuts `id` off from every other node.
    pub fn isolate(&mut self, id: NodeId) {
        for other in self.members.clone() {
            if other != id {
                self.cut(id, other);
            }
        }
    }

    /// Splits the cluster: nodes in different groups cannot talk.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        for (i, a) in groups.iter().enumerate() {
            for b in &groups[i + 1..] {
                for &x in *a {
                    for &y in *b {
                        self.cut(x, y);
                    }
                }
            }
        }
    }

    /// Removes every cut and filter.
    pub fn heal(&mut self) {
        self.cut.clear();
        self.filter = None;
    }

    /// Drops messages for which `f(from, to, msg)` is true, until [`heal`](Self::heal).
    pub fn set_filter(&mut self, f: impl FnMut(NodeId, NodeId, &L::Message) -> bool + 'static) {
        self.filter = Some(Box::new(f));
    }

    /// With `false`, `id`'s persists stay unsynced until [`sync`](Self::sync): a slow disk, or
    /// the window in which a crash loses writes.
    pub fn set_auto_persist(&mut self, id: NodeId, on: bool) {
        self.slots[id.index()].auto_persist = on;
        if on {
            self.sync(id);
        }
    }

    /// Completes every outstanding persist of `id` (an fsync returns).
    pub fn sync(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if let Some(&(seq, len)) = slot.unsynced.last() {
            slot.storage.sync_prefix(len);
            slot.unsynced.clear();
            if slot.host.is_some() {
                self.with_host(id, |host, now, io| host.persisted(now, seq, io));
                self.after_step(id);
            }
        }
    }

    /// Carries out everything `id` has asked for. Call after touching a node through
    /// [`node_mut`](Self::node_mut).
    pub fn drain(&mut self, id: NodeId) {
        if self.is_up(id) {
            self.with_host(id, |host, _, io| host.carry_out(io));
            self.after_step(id);
        }
    }

    /// Runs `f` on `id`'s host with the cluster as its backend. `id` must be up.
    fn with_host<T>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut NodeHost<L>, Nanos, &mut SlotIo<'_, L>) -> T,
    ) -> T {
        let now = self.now;
        let Slot {
            host,
            storage,
            unsynced,
            commits,
            kv,
            applied,
            reads,
            ..
        } = &mut self.slots[id.index()];
        let host = host.as_mut().expect("the node is up");
        let mut io = SlotIo {
            id,
            now,
            storage,
            unsynced,
            commits,
            kv,
            applied,
            reads,
            queue: &mut self.queue,
            invariants: &mut self.invariants,
        };
        f(host, now, &mut io)
    }

    /// After a node acted: its persists complete at once unless held back, and the invariants
    /// must still hold.
    fn after_step(&mut self, id: NodeId) {
        let slot = &self.slots[id.index()];
        if slot.auto_persist && !slot.unsynced.is_empty() {
            self.sync(id);
        }
        if let Some(status) = self.slots[id.index()]
            .host
            .as_mut()
            .and_then(NodeHost::status_change)
        {
            self.invariants.on_status(self.now, &status);
        }
        if let Some(v) = self.invariants.violations().first() {
            panic!("{v}");
        }
    }
}
