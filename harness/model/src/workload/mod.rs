//! Clients, as a sans-IO state machine shared by the simulator and the live load generator.
//!
//! Each client is a Jepsen process with one operation outstanding. It sends to the node it
//! believes leads, follows `NotLeader` hints, resends the same (client, seq) after
//! `request_timeout` to the next node (the state machine applies it once), and after
//! `op_timeout` gives up and records `info`: the operation may or may not have happened. A
//! client that gave up continues under a fresh process id, as in Jepsen, so the history
//! keeps one open operation per process.
//!
//! Closed loop: a client starts its next operation when the last one ends (after
//! `think_time`). Open loop: operations arrive as a Poisson process at `rate`; an idle client
//! takes each arrival, and latency is measured from the arrival (the intended start), so a
//! backlog shows up in latency instead of vanishing (no coordinated omission).

pub mod keys;

use crate::history::{Call, Event, Fun, Outcome, Value};
use crate::scenario::{LoopMode, WorkloadSpec};
use crate::timer::TimerToken;
use keys::{KeyChooser, key_name};
use rand::RngExt;
use replog::command::ClientCommand;
use replog::fxhash::FxHashMap;
use replog::rng::{DetRng, rng_for};
use replog::{ClientId, CmdId, KvResult, Nanos, NodeId, NotLeader, Op};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// A node's answer to a client's request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientReply {
    /// The node that answered.
    pub node: NodeId,
    /// The request's sequence number.
    pub seq: u64,
    /// The result, or a redirect.
    pub result: Result<KvResult, NotLeader>,
}

/// What the workload asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAction {
    /// Send this request to `node`.
    Send { node: NodeId, cmd: ClientCommand },
    /// Call [`Workload::on_timer`] with `token` at `at`.
    Timer { at: Nanos, token: TimerToken },
    /// A client saw `cmd` take effect (for the durability invariant).
    Acknowledged(CmdId),
}

/// How an operation ended, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    Ok,
    Fail,
    Info,
}

/// One finished operation, for latency and throughput metrics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    pub process: u64,
    pub f: Fun,
    /// When the operation was meant to start (open loop: its arrival).
    pub intended_ns: Nanos,
    /// When the client sent it.
    pub invoke_ns: Nanos,
    /// When it ended (for `info`: when the client gave up).
    pub end_ns: Nanos,
    pub status: OpStatus,
    /// Sends of the request, the first included.
    pub attempts: u32,
}

impl OpRecord {
    /// Latency from the intended start, which is what a user waiting for it experiences.
    pub fn latency_ns(&self) -> Nanos {
        self.end_ns - self.intended_ns
    }
}

#[derive(Debug)]
enum Phase {
    /// Waiting to start an operation (closed loop) or for an arrival (open loop).
    Idle,
    /// Sent; waiting for a reply or the request timeout.
    InFlight,
    /// No leader known: waiting `retry_backoff` before resending.
    Backoff,
}

#[derive(Debug)]
struct Pending {
    cmd: ClientCommand,
    key: Arc<str>,
    key_index: usize,
    /// Where its invocation is in the history (which holds the value it writes).
    invoke_event: u32,
    call: Call,
    intended: Nanos,
    invoked: Nanos,
    deadline: Nanos,
    attempts: u32,
    redirects: u32,
}

#[derive(Debug)]
struct Client {
    id: ClientId,
    process: u64,
    rng: DetRng,
    seq: u64,
    target: NodeId,
    phase: Phase,
    op: Option<Pending>,
    /// Which of the client's timers is current (see [`TimerToken::Client`]).
    timer_generation: u32,
    /// The last value this client knows each key held, used as a cas's expected value.
    last_seen: LastSeen,
}

/// Per key, the history event holding the last value a client saw the key hold (a read's
/// completion, or the invocation of a write or cas that took effect). Integers, not the
/// values: a client overwrites an entry on almost every operation, and dropping the value it
/// replaced touched memory written long before; the value is looked up only for a cas.
#[derive(Debug)]
enum LastSeen {
    /// Indexed by key; [`NOT_SEEN`] where unknown. For small key spaces.
    Dense(Vec<u32>),
    Sparse(FxHashMap<usize, u32>),
}

const NOT_SEEN: u32 = u32::MAX;

impl LastSeen {
    fn new(keys: usize, clients: usize) -> Self {
        if keys.saturating_mul(clients) <= 1 << 20 {
            LastSeen::Dense(vec![NOT_SEEN; keys])
        } else {
            LastSeen::Sparse(FxHashMap::default())
        }
    }

    fn get(&self, key: usize) -> Option<u32> {
        match self {
            LastSeen::Dense(v) => v.get(key).copied().filter(|&e| e != NOT_SEEN),
            LastSeen::Sparse(m) => m.get(&key).copied(),
        }
    }

    fn set(&mut self, key: usize, event: usize) {
        let event = u32::try_from(event).expect("fewer than 2^32 history events");
        match self {
            LastSeen::Dense(v) => {
                if key >= v.len() {
                    v.resize(key + 1, NOT_SEEN);
                }
                v[key] = event;
            }
            LastSeen::Sparse(m) => {
                m.insert(key, event);
            }
        }
    }

    fn forget(&mut self, key: usize) {
        match self {
            LastSeen::Dense(v) => {
                if let Some(e) = v.get_mut(key) {
                    *e = NOT_SEEN;
                }
            }
            LastSeen::Sparse(m) => {
                m.remove(&key);
            }
        }
    }
}

/// The value a last-seen event holds: a read's result, or what a write or cas wrote.
fn seen_value(e: &Event) -> Option<Arc<str>> {
    match &e.value {
        Value::Str(v) | Value::Pair(_, v) => Some(Arc::clone(v)),
        _ => None,
    }
}

/// All clients of a run.
pub struct Workload {
    spec: WorkloadSpec,
    nodes: usize,
    keys: KeyChooser,
    clients: Vec<Client>,
    idle: VecDeque<usize>,
    backlog: VecDeque<Nanos>,
    arrivals: DetRng,
    stopped: bool,
    /// The history, in the order events happened.
    pub history: Vec<Event>,
    /// Finished operations.
    pub ops: Vec<OpRecord>,
    value_pad: String,
    /// Key names by index, made on first use and shared by every event that names the key.
    key_names: Vec<Option<Arc<str>>>,
    /// Replies that could not answer anything: for a client that does not exist, or with a
    /// result of the wrong kind for the operation (a read answered by "written"). Ignored.
    pub unanswerable_replies: u64,
    /// Reads are answered without going through the log (`read_path` other than `log`): an
    /// answered read is then no command the log must keep.
    reads_off_log: bool,
}

impl Workload {
    /// Clients for a cluster of `nodes`; every random choice derives from `seed`, per client,
    /// so both protocols see the same operations in the same order from each client.
    pub fn new(spec: &WorkloadSpec, nodes: usize, seed: u64) -> Self {
        let clients = (0..spec.clients)
            .map(|i| Client {
                id: i as ClientId,
                process: i as u64,
                rng: rng_for(seed, 0xc11e_0000 + i as u64),
                seq: 0,
                target: NodeId((i % nodes) as u32),
                phase: Phase::Idle,
                op: None,
                timer_generation: 0,
                last_seen: LastSeen::new(spec.keys, spec.clients),
            })
            .collect();
        Workload {
            keys: KeyChooser::new(spec),
            spec: spec.clone(),
            nodes,
            clients,
            idle: VecDeque::new(),
            backlog: VecDeque::new(),
            arrivals: rng_for(seed, 0xa441),
            stopped: false,
            history: Vec::new(),
            ops: Vec::new(),
            value_pad: "x".repeat(spec.value_size),
            key_names: Vec::new(),
            unanswerable_replies: 0,
            reads_off_log: false,
        }
    }

    /// Reads are served off the log (`read_path = "read_index"` or `"lease"`), so an answered
    /// read is not reported as a command the log must keep.
    pub fn with_reads_off_log(mut self, reads_off_log: bool) -> Self {
        self.reads_off_log = reads_off_log;
        self
    }

    /// The shared name of key `i`.
    fn key_name(&mut self, i: usize) -> Arc<str> {
        if i >= self.key_names.len() {
            self.key_names.resize(i + 1, None);
        }
        Arc::clone(self.key_names[i].get_or_insert_with(|| key_name(i).into()))
    }

    /// Starts the clients at `now`.
    pub fn start(&mut self, now: Nanos, out: &mut Vec<ClientAction>) {
        match self.spec.mode {
            LoopMode::Closed => {
                for i in 0..self.clients.len() {
                    // Stagger starts over a millisecond so clients do not move in lockstep.
                    let at = now + self.clients[i].rng.random_range(0..1_000_000);
                    self.set_timer(i, at, out);
                }
            }
            LoopMode::Open => {
                self.idle.extend(0..self.clients.len());
                let at = now + self.next_gap();
                out.push(ClientAction::Timer {
                    at,
                    token: TimerToken::Arrival,
                });
            }
        }
    }

    /// No new operations from now on; those in flight continue.
    pub fn stop(&mut self) {
        self.stopped = true;
        self.backlog.clear();
    }

    /// Ends the run: operations still open are recorded as `info`.
    pub fn finish(&mut self, now: Nanos) {
        for i in 0..self.clients.len() {
            if self.clients[i].op.is_some() {
                self.end_op(i, now, Outcome::Info);
            }
        }
    }

    /// Operations in flight.
    pub fn in_flight(&self) -> usize {
        self.clients.iter().filter(|c| c.op.is_some()).count()
    }

    fn next_gap(&mut self) -> Nanos {
        let rate = self.spec.rate.expect("open loop has a rate");
        let u: f64 = self.arrivals.random();
        (-(1.0 - u).ln() / rate * 1e9) as Nanos
    }

    fn set_timer(&mut self, i: usize, at: Nanos, out: &mut Vec<ClientAction>) {
        let c = &mut self.clients[i];
        c.timer_generation = c.timer_generation.wrapping_add(1);
        let token = TimerToken::Client {
            client: u32::try_from(i).expect("fewer than 2^32 clients"),
            generation: c.timer_generation,
        };
        out.push(ClientAction::Timer { at, token });
    }

    /// A timer set by the workload fired. Tokens that are not the workload's are ignored.
    pub fn on_timer(&mut self, now: Nanos, token: TimerToken, out: &mut Vec<ClientAction>) {
        let i = match token {
            TimerToken::Arrival => return self.on_arrival(now, out),
            TimerToken::Client { client, generation } => {
                let i = client as usize;
                if self
                    .clients
                    .get(i)
                    .is_none_or(|c| c.timer_generation != generation)
                {
                    return; // superseded
                }
                i
            }
            TimerToken::Fault { .. } | TimerToken::Custom(_) => return,
        };
        match self.clients[i].phase {
            Phase::Idle => {
                if !self.stopped && self.spec.mode == LoopMode::Closed {
                    self.begin_op(i, now, now, out);
                }
            }
            Phase::Backoff => self.send(i, now, out),
            Phase::InFlight => {
                let deadline = self.clients[i].op.as_ref().expect("in flight").deadline;
                if now >= deadline {
                    self.end_op(i, now, Outcome::Info);
                    self.next_op(i, now, out);
                } else {
                    // No answer: try the next node with the same (client, seq).
                    let c = &mut self.clients[i];
                    c.target = NodeId((c.target.0 + 1) % self.nodes as u32);
                    self.send(i, now, out);
                }
            }
        }
    }

    /// An open-loop arrival: an idle client takes it, or it waits in the backlog.
    fn on_arrival(&mut self, now: Nanos, out: &mut Vec<ClientAction>) {
        if self.stopped {
            return;
        }
        self.backlog.push_back(now);
        let at = now + self.next_gap();
        out.push(ClientAction::Timer {
            at,
            token: TimerToken::Arrival,
        });
        if let Some(i) = self.idle.pop_front() {
            let intended = self.backlog.pop_front().expect("just pushed");
            self.begin_op(i, now, intended, out);
        }
    }

    /// A reply reached client `client`.
    pub fn on_reply(
        &mut self,
        now: Nanos,
        client: ClientId,
        reply: &ClientReply,
        out: &mut Vec<ClientAction>,
    ) {
        let i = client as usize;
        let Some(c) = self.clients.get_mut(i) else {
            self.unanswerable_replies += 1;
            return;
        };
        let Some(op) = c.op.as_mut() else { return };
        if op.cmd.seq != reply.seq || !matches!(c.phase, Phase::InFlight) {
            return; // an answer to an earlier attempt or operation
        }
        match &reply.result {
            Err(not_leader) => {
                op.redirects += 1;
                match not_leader.hint {
                    Some(h) if h != reply.node && op.redirects <= self.nodes as u32 => {
                        c.target = h;
                        self.send(i, now, out);
                    }
                    _ => {
                        c.target = NodeId((reply.node.0 + 1) % self.nodes as u32);
                        c.phase = Phase::Backoff;
                        let at = now + self.spec.retry_backoff.0;
                        self.set_timer(i, at, out);
                    }
                }
            }
            Ok(result) => {
                let key_index = op.key_index;
                // A read's completion is the next event: `end_op` pushes it below.
                let completion = self.history.len();
                let outcome = match (&op.call, result) {
                    (Call::Read, KvResult::Read(v)) => {
                        c.last_seen.set(key_index, completion);
                        Outcome::Ok(v.as_deref().map(Arc::from))
                    }
                    (Call::Write(_), KvResult::Written)
                    | (Call::Cas { .. }, KvResult::Cas { applied: true }) => {
                        c.last_seen.set(key_index, op.invoke_event as usize);
                        Outcome::Ok(None)
                    }
                    (Call::Cas { .. }, KvResult::Cas { applied: false }) => {
                        c.last_seen.forget(key_index);
                        Outcome::Fail
                    }
                    (call, result) => {
                        // Not an answer to this operation: left open, as if lost, so it
                        // completes by a later reply or times out to `info`; never recorded
                        // with a result it did not get.
                        tracing::warn!(
                            client,
                            ?call,
                            ?result,
                            "a reply that does not answer the operation"
                        );
                        self.unanswerable_replies += 1;
                        return;
                    }
                };
                c.target = reply.node;
                let id = CmdId::Client {
                    client: c.id,
                    seq: op.cmd.seq,
                };
                if !(self.reads_off_log && matches!(op.call, Call::Read)) {
                    out.push(ClientAction::Acknowledged(id));
                }
                self.end_op(i, now, outcome);
                self.next_op(i, now, out);
            }
        }
    }

    fn next_op(&mut self, i: usize, now: Nanos, out: &mut Vec<ClientAction>) {
        if self.stopped {
            return;
        }
        match self.spec.mode {
            LoopMode::Closed => {
                if self.spec.think_time.0 == 0 {
                    self.begin_op(i, now, now, out);
                } else {
                    self.set_timer(i, now + self.spec.think_time.0, out);
                }
            }
            LoopMode::Open => match self.backlog.pop_front() {
                Some(intended) => self.begin_op(i, now, intended, out),
                None => self.idle.push_back(i),
            },
        }
    }

    fn begin_op(&mut self, i: usize, now: Nanos, intended: Nanos, out: &mut Vec<ClientAction>) {
        let key_i = self.keys.pick(&mut self.clients[i].rng);
        let key = self.key_name(key_i);
        let mix = &self.spec.mix;
        let c = &mut self.clients[i];
        c.seq += 1;
        let roll = c.rng.random::<f64>() * (mix.read + mix.write + mix.cas);
        let unique = || {
            use std::fmt::Write;
            let mut v = String::with_capacity(self.spec.value_size.max(24));
            let _ = write!(v, "{}-{}", c.id, c.seq);
            if v.len() < self.spec.value_size {
                v.push_str(&self.value_pad[..self.spec.value_size - v.len()]);
            }
            v
        };
        // The operation carries its own strings (the replicated command's format); the call,
        // the history and the client's memory share one copy of each value.
        let (call, op) = if roll < mix.read {
            (Call::Read, Op::Get { key: key.to_string() })
        } else if roll < mix.read + mix.write {
            let v = unique();
            (
                Call::Write(v.as_str().into()),
                Op::Put {
                    key: key.to_string(),
                    value: v,
                },
            )
        } else {
            let new = unique();
            let expected = c
                .last_seen
                .get(key_i)
                .and_then(|e| self.history.get(e as usize))
                .and_then(seen_value);
            (
                Call::Cas {
                    expected: expected.clone(),
                    new: new.as_str().into(),
                },
                Op::Cas {
                    key: key.to_string(),
                    expected: expected.as_deref().map(str::to_string),
                    new,
                },
            )
        };
        let invoke_event = u32::try_from(self.history.len()).expect("fewer than 2^32 history events");
        self.history.push(Event::invoke(c.process, &key, &call, now));
        c.op = Some(Pending {
            cmd: ClientCommand {
                client: c.id,
                seq: c.seq,
                op: Arc::new(op),
            },
            key,
            key_index: key_i,
            invoke_event,
            call,
            intended,
            invoked: now,
            deadline: now + self.spec.op_timeout.0,
            attempts: 0,
            redirects: 0,
        });
        self.send(i, now, out);
    }

    fn send(&mut self, i: usize, now: Nanos, out: &mut Vec<ClientAction>) {
        let c = &mut self.clients[i];
        let op = c.op.as_mut().expect("sending with no operation");
        op.attempts += 1;
        c.phase = Phase::InFlight;
        out.push(ClientAction::Send {
            node: c.target,
            cmd: op.cmd.clone(),
        });
        let at = (now + self.spec.request_timeout.0).min(op.deadline);
        self.set_timer(i, at, out);
    }

    fn end_op(&mut self, i: usize, now: Nanos, outcome: Outcome) {
        let clients = self.clients.len() as u64;
        let c = &mut self.clients[i];
        let op = c.op.take().expect("ending an operation that is not open");
        c.phase = Phase::Idle;
        c.timer_generation = c.timer_generation.wrapping_add(1); // cancels the request timer
        let process = c.process;
        self.history
            .push(Event::complete(process, &op.key, &op.call, &outcome, now));
        let status = match outcome {
            Outcome::Ok(_) => OpStatus::Ok,
            Outcome::Fail => OpStatus::Fail,
            Outcome::Info => {
                // The operation may still take effect: continue as a new process.
                c.process += clients;
                OpStatus::Info
            }
        };
        let f = match op.call {
            Call::Read => Fun::Read,
            Call::Write(_) => Fun::Write,
            Call::Cas { .. } => Fun::Cas,
        };
        self.ops.push(OpRecord {
            process,
            f,
            intended_ns: op.intended,
            invoke_ns: op.invoked,
            end_ns: now,
            status,
            attempts: op.attempts,
        });
    }
}

#[cfg(test)]
mod tests;
