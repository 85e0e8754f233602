//! Simulator tests, driven by a tiny primary-backup protocol written here: node 0 leads
//! forever, persists each command, sends it to every follower, and commits once a majority
//! (itself included) has it on disk. It also ticks a heartbeat timer so timers can be tested.

use super::*;
use replog::{Action, Epoch, KvResult, NotLeader, Op};
use serde::{Deserialize, Serialize};

const MS: Nanos = 1_000_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
enum TinyMsg {
    Append { index: LogIndex, cmd: Command },
    Ack { index: LogIndex },
}

impl WireSize for TinyMsg {
    fn wire_size(&self) -> usize {
        16
    }
}

struct Tiny {
    id: NodeId,
    n: usize,
    log: Vec<Command>,
    acks: Vec<BTreeSet<NodeId>>,
    seq: PersistSeq,
    own_persists: Vec<(PersistSeq, LogIndex)>,
    committed: LogIndex,
    next_tick: Nanos,
    ticks: u64,
    out: Vec<Action<TinyMsg, (LogIndex, Command)>>,
}

const TICK: Nanos = 10 * MS;

impl Tiny {
    fn try_commit(&mut self) {
        while (self.committed as usize) < self.log.len()
            && self.acks[self.committed as usize].len() >= replog::quorum::majority(self.n)
        {
            self.committed += 1;
            let cmd = self.log[self.committed as usize - 1].clone();
            self.out.push(Action::Commit {
                index: self.committed,
                cmd,
            });
        }
    }

    fn persist(&mut self, index: LogIndex, cmd: Command) -> PersistSeq {
        self.seq += 1;
        self.out.push(Action::Persist {
            seq: self.seq,
            records: vec![(index, cmd)],
        });
        self.seq
    }
}

impl ReplicatedLog for Tiny {
    type Message = TinyMsg;
    type Record = (LogIndex, Command);
    const NAME: &'static str = "tiny";

    fn boot(
        id: NodeId,
        members: &[NodeId],
        _: &ProtocolConfig,
        recovered: Vec<Self::Record>,
        _: u64,
    ) -> Self {
        Tiny {
            id,
            n: members.len(),
            log: recovered.into_iter().map(|(_, c)| c).collect(),
            acks: Vec::new(),
            seq: 0,
            own_persists: Vec::new(),
            committed: 0,
            next_tick: TICK,
            ticks: 0,
            out: Vec::new(),
        }
    }

    /// The simulator tests here run reads through the log only.
    fn read(&mut self, _: Nanos) -> Result<replog::ReadId, NotLeader> {
        Err(NotLeader { hint: None })
    }

    fn propose(&mut self, _: Nanos, cmd: Command) -> Result<(), NotLeader> {
        // One of the protocol's own assertions, for the tests of blame.
        if let Command::Client(c) = &cmd {
            assert!(
                !matches!(&*c.op, Op::Put { key, .. } if &**key == "poison"),
                "tiny: a poisoned command"
            );
        }
        if self.id != NodeId(0) {
            return Err(NotLeader {
                hint: Some(NodeId(0)),
            });
        }
        self.log.push(cmd.clone());
        self.acks.push(BTreeSet::new());
        let index = self.log.len() as LogIndex;
        let seq = self.persist(index, cmd.clone());
        self.own_persists.push((seq, index));
        for to in 1..self.n as u32 {
            self.out.push(Action::Send {
                to: NodeId(to),
                msg: TinyMsg::Append {
                    index,
                    cmd: cmd.clone(),
                },
                after: None,
            });
        }
        Ok(())
    }

    fn step(&mut self, _: Nanos, from: NodeId, msg: TinyMsg) {
        match msg {
            TinyMsg::Append { index, cmd } => {
                let seq = self.persist(index, cmd);
                self.out.push(Action::Send {
                    to: from,
                    msg: TinyMsg::Ack { index },
                    after: Some(seq),
                });
            }
            TinyMsg::Ack { index } => {
                self.acks[index as usize - 1].insert(from);
                self.try_commit();
            }
        }
    }

    fn tick(&mut self, now: Nanos) {
        while self.next_tick <= now {
            self.ticks += 1;
            self.next_tick += TICK;
        }
    }

    fn next_deadline(&self) -> Option<Nanos> {
        Some(self.next_tick)
    }

    fn take_actions(&mut self, out: &mut Vec<Action<TinyMsg, Self::Record>>) {
        out.append(&mut self.out);
    }

    fn persisted(&mut self, _: Nanos, upto: PersistSeq) {
        let id = self.id;
        self.own_persists.retain(|&(seq, index)| {
            if seq <= upto {
                self.acks[index as usize - 1].insert(id);
                false
            } else {
                true
            }
        });
        self.try_commit();
    }

    fn status(&self) -> Status {
        let leader = self.id == NodeId(0);
        Status {
            id: self.id,
            role: if leader { Role::Leader } else { Role::Follower },
            leader_hint: Some(NodeId(0)),
            epoch: Epoch::term(1),
            commit_index: self.committed,
            last_index: self.log.len() as LogIndex,
        }
    }
}

/// A driver that sends `requests` at time 0 and records reply times.
#[derive(Default)]
struct Recorder {
    replies: Vec<(Nanos, ClientId, ClientReply)>,
}

impl Driver<Tiny> for Recorder {
    fn on_reply(&mut self, sim: &mut Simulation<Tiny>, client: ClientId, reply: ClientReply) {
        self.replies.push((sim.now(), client, reply));
    }
    fn on_timer(&mut self, _: &mut Simulation<Tiny>, _: TimerToken) {}
}

fn put(client: ClientId) -> ClientCommand {
    let Command::Client(c) = Command::client(
        client,
        1,
        Op::Put {
            key: "k".into(),
            value: format!("{client}"),
        },
    ) else {
        unreachable!()
    };
    c
}

/// A 3-node cluster with constant latencies: 1 ms links, 0.1 ms client hops, 1 ms fsyncs.
fn exact_config() -> SimConfig {
    let mut cfg = SimConfig::new(3, 1);
    cfg.network.latency = Dist::constant(MS);
    cfg.network.client_latency = Dist::constant(MS / 10);
    cfg.disk.fsync = Dist::constant(MS);
    cfg.cpu = CpuConfig::free();
    cfg
}

#[test]
fn a_commit_takes_exactly_the_modelled_latencies() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    let mut rec = Recorder::default();
    sim.send_request(NodeId(0), put(1));
    sim.run_until(100 * MS, &mut rec);
    // 0.1 request hop + 1 link + 1 follower fsync + 1 ack link + 0.1 reply hop.
    assert_eq!(rec.replies[0].0, 3 * MS + 2 * MS / 10);
    assert_eq!(rec.replies[0].2.result, Ok(KvResult::Written));
}

#[test]
fn a_follower_redirects_a_request_to_the_leader() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    let mut rec = Recorder::default();
    sim.send_request(NodeId(2), put(1));
    sim.run_until(10 * MS, &mut rec);
    assert_eq!(
        rec.replies[0].2.result,
        Err(NotLeader {
            hint: Some(NodeId(0))
        })
    );
}

#[test]
fn a_leader_cut_off_from_every_follower_never_commits() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    sim.network_mut().set_blocked(NodeId(0), NodeId(1), true);
    sim.network_mut().set_blocked(NodeId(0), NodeId(2), true);
    let mut rec = Recorder::default();
    sim.send_request(NodeId(0), put(1));
    sim.run_until(100 * MS, &mut rec);
    assert!(rec.replies.is_empty());
}

#[test]
fn a_message_in_flight_when_its_link_is_cut_is_dropped() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    let mut rec = Recorder::default();
    sim.send_request(NodeId(0), put(1));
    sim.run_until(MS / 2, &mut rec); // the Appends are on the wire now
    sim.network_mut().set_blocked(NodeId(0), NodeId(1), true);
    sim.network_mut().set_blocked(NodeId(0), NodeId(2), true);
    sim.run_until(100 * MS, &mut rec);
    assert!(rec.replies.is_empty());
}

#[test]
fn total_loss_stops_replication() {
    let mut cfg = exact_config();
    cfg.network.loss = 1.0;
    let mut sim = Simulation::<Tiny>::new(cfg);
    let mut rec = Recorder::default();
    sim.send_request(NodeId(0), put(1));
    sim.run_until(100 * MS, &mut rec);
    assert!(rec.replies.is_empty());
}

#[test]
fn duplication_delivers_a_message_twice() {
    let mut cfg = exact_config();
    cfg.network.duplicate = 1.0;
    let mut sim = Simulation::<Tiny>::new(cfg);
    sim.send_request(NodeId(0), put(1));
    sim.run_until(100 * MS, &mut NoDriver);
    // Each follower got the Append twice and persisted it twice.
    assert_eq!(sim.durable_records(NodeId(1)).len(), 2);
}

#[test]
fn a_crash_before_the_fsync_completes_loses_the_write() {
    let mut cfg = exact_config();
    cfg.disk.fsync = Dist::constant(10 * MS);
    let mut sim = Simulation::<Tiny>::new(cfg);
    sim.send_request(NodeId(0), put(1));
    sim.run_until(5 * MS, &mut NoDriver); // appended at 1.1 ms, fsync due at 11.1 ms
    sim.crash(NodeId(1));
    sim.run_until(20 * MS, &mut NoDriver);
    sim.restart(NodeId(1));
    assert!(sim.durable_records(NodeId(1)).is_empty());
    assert_eq!(sim.durable_records(NodeId(2)).len(), 1);
}

#[test]
fn a_restarted_node_boots_from_what_it_synced() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    sim.send_request(NodeId(0), put(1));
    sim.run_until(50 * MS, &mut NoDriver);
    sim.crash(NodeId(1));
    sim.restart(NodeId(1));
    assert_eq!(sim.node(NodeId(1)).expect("up").log.len(), 1);
}

#[test]
fn persists_issued_during_an_fsync_share_the_next_one() {
    let mut cfg = exact_config();
    cfg.disk.fsync = Dist::constant(10 * MS);
    let mut sim = Simulation::<Tiny>::new(cfg);
    for c in 1..=20 {
        sim.send_request(NodeId(0), put(c));
    }
    let mut rec = Recorder::default();
    sim.run_until(200 * MS, &mut rec);
    assert_eq!(rec.replies.len(), 20);
    // All 20 arrive together: the first persist starts an fsync, the other 19 share one more.
    assert_eq!(sim.stats(NodeId(0)).fsyncs, 2);
}

#[test]
fn a_busy_leader_queues_requests_and_saturates() {
    let mut cfg = exact_config();
    cfg.cpu = CpuConfig {
        per_input_ns: MS,
        per_send_ns: 0,
        per_kib_ns: 0,
    };
    let mut sim = Simulation::<Tiny>::new(cfg);
    for c in 1..=100 {
        sim.send_request(NodeId(0), put(c));
    }
    let mut rec = Recorder::default();
    sim.run_until(2_000 * MS, &mut rec);
    assert_eq!(rec.replies.len(), 100);
    // The leader handles 100 requests, 200 acks and 200 fsync notices at most at 1 ms each,
    // at least the 100 requests and 200 acks.
    let last = rec.replies.iter().map(|r| r.0).max().expect("replies");
    assert!(last >= 300 * MS, "last reply at {last} ns: no queueing");
}

#[test]
fn a_fast_clock_fires_timers_early() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    sim.set_clock_rate(NodeId(1), 2.0);
    sim.run_until(1_000 * MS, &mut NoDriver);
    let ticks = |i| sim.node(NodeId(i)).expect("up").ticks;
    assert_eq!((ticks(0), ticks(1)), (100, 200));
}

#[test]
fn a_paused_node_does_nothing_until_resumed_then_catches_up() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    sim.pause(NodeId(1));
    sim.pause(NodeId(2));
    let mut rec = Recorder::default();
    sim.send_request(NodeId(0), put(1));
    sim.run_until(100 * MS, &mut rec);
    assert!(rec.replies.is_empty(), "paused followers acknowledged");
    sim.resume(NodeId(1));
    sim.run_until(200 * MS, &mut rec);
    assert_eq!(rec.replies.len(), 1);
    assert_eq!(
        sim.node(NodeId(1)).expect("up").ticks,
        20,
        "overdue timers fire on resume"
    );
}

#[test]
fn invariants_see_every_commit() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    for c in 1..=5 {
        sim.send_request(NodeId(0), put(c));
    }
    sim.run_until(100 * MS, &mut NoDriver);
    assert_eq!(sim.invariants.chosen().len(), 5);
    assert!(sim.invariants.violations().is_empty());
}

fn jittery_run(seed: u64) -> u64 {
    let mut cfg = SimConfig::new(5, seed);
    cfg.network.loss = 0.1;
    cfg.network.duplicate = 0.1;
    let mut sim = Simulation::<Tiny>::new(cfg);
    for c in 1..=200 {
        sim.send_request(NodeId(0), put(c));
    }
    sim.run_until(50 * MS, &mut NoDriver);
    sim.crash(NodeId(3));
    sim.run_until(500 * MS, &mut NoDriver);
    sim.trace().hash()
}

#[test]
fn the_same_seed_gives_a_byte_identical_trace() {
    assert_eq!(jittery_run(7), jittery_run(7));
}

#[test]
fn a_different_seed_gives_a_different_trace() {
    assert_ne!(jittery_run(7), jittery_run(8));
}

// ---------------------------------------------------------------------------------------------
// Blame: a protocol's panic is its assertion; the harness's panic is the harness's.

fn poison() -> ClientCommand {
    let Command::Client(c) = Command::client(
        9,
        1,
        Op::Put {
            key: "poison".into(),
            value: "x".into(),
        },
    ) else {
        unreachable!()
    };
    c
}

#[test]
fn a_panic_in_protocol_code_is_recorded_as_a_protocol_assertion_and_halts_the_run() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    sim.send_request(NodeId(0), poison());
    sim.run_until(100 * MS, &mut NoDriver);
    let kinds: Vec<_> = sim
        .invariants
        .violations()
        .iter()
        .map(|v| (v.kind, v.detail.clone()))
        .collect();
    assert_eq!(
        (sim.halted(), kinds),
        (
            true,
            vec![(
                replog::invariants::InvariantKind::ProtocolAssertion,
                "n0: tiny: a poisoned command".to_string()
            )]
        )
    );
}

/// A driver with a bug: it panics at its own timer.
struct Buggy;

impl Driver<Tiny> for Buggy {
    fn on_reply(&mut self, _: &mut Simulation<Tiny>, _: ClientId, _: ClientReply) {}
    fn on_timer(&mut self, _: &mut Simulation<Tiny>, _: TimerToken) {
        let targets: Vec<NodeId> = Vec::new();
        let _ = targets[0];
    }
}

#[test]
fn a_panic_in_the_driver_unwinds_as_a_harness_panic_naming_the_event_and_blames_no_protocol() {
    let mut sim = Simulation::<Tiny>::new(exact_config());
    sim.set_timer(5 * MS, TimerToken::Fault { index: 3 });
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim.run_until(100 * MS, &mut Buggy)
    }));
    let payload = unwound.expect_err("the driver's panic is not swallowed");
    let panic = payload.downcast_ref::<HarnessPanic>().expect("a harness panic");
    assert!(
        panic.at_ns == 5 * MS
            && panic.event.contains("fault 3")
            && panic.message.contains("index out of bounds"),
        "{panic:?}"
    );
    assert!(sim.invariants.violations().is_empty() && !sim.halted());
}
