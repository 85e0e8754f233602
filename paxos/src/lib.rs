//! `paxos`: multi-Paxos, as a sans-IO state machine.
//!
//! - Single-decree Paxos (Paxos Made Simple §2, the synod algorithm), the drafts' write-once
//!   variable, is `writeonce::synod`, with its schedule explorer and exhaustive enumeration.
//! - [`PaxosNode`]: multi-Paxos behind [`replog::ReplicatedLog`], in the style Howard and
//!   Mortier compare with Raft ("Paxos vs Raft: Have we reached consensus on distributed
//!   consensus?", 2020): a stable leader runs phase 1 once for every slot from its first
//!   unchosen one, then phase 2 per slot. Any node may become leader; it recovers
//!   uncommitted slots from a majority and fills holes with no-ops.
//!
//! The files mirror the `raft` crate's so the two can be read side by side:
//!
//! | file | what it holds |
//! | --- | --- |
//! | `node.rs` | [`PaxosNode`], the `ReplicatedLog` impl, `step_follower` / `step_candidate` / `step_leader` |
//! | `msg.rs` | [`Message`]: `Prepare`, `Promise`, `Nack`, `Accept`, `Accepted`, `Heartbeat`, `HeartbeatReply`, `Learn`, `Learned` |
//! | `leadership.rs` | failure detector, phase 1, adoption of promised values, hole filling, preemption |
//! | `replication.rs` | phase 2, batching, pipelining window, chosen detection, commit notices, catch-up |
//! | `paxos_log.rs` | [`SlotLog`]: per-slot accepted values and the chosen prefix |
//! | `durable.rs` | [`Record`]: the write-ahead-log records |
//! | `recovery.rs` | boot from records |
//!
//! Each rule in one place:
//!
//! | rule | function | source |
//! | --- | --- | --- |
//! | suspect a silent leader after a randomized timeout | `PaxosNode::reset_suspicion`, `tick` | Howard & Mortier §3 |
//! | new ballot = (highest round seen + 1, own id), durable before prepares leave | [`PaxosNode::start_phase1`] | Paxos Made Simple §2.2, §2.5 |
//! | promise at or above the current promise, reporting accepted values | `PaxosNode::on_prepare` | Paxos Made Simple §2.2 1(b) |
//! | adopt the highest-ballot value per slot, keep known-chosen values, no-ops in holes | `PaxosNode::become_leader` | Paxos Made Simple §2.2 2(a), §3 |
//! | a proposer that sees a higher ballot steps down and backs off | `PaxosNode::observe_ballot`, `PaxosNode::step_down` | Paxos Made Simple §2.2, §2.4 |
//! | accept unless a higher ballot was promised; answer only once durable | `PaxosNode::on_accept`, `PaxosNode::reply_after` | Paxos Made Simple §2.2 2(b), §2.5 |
//! | chosen when a majority accepted one ballot (leader counts itself once durable) | `PaxosNode::record_acks`, `PaxosNode::on_own_accepts_durable` | Paxos Made Simple §2.2 |
//! | commit notice marks chosen only values accepted at the notice's ballot | `PaxosNode::apply_notice` | Paxos Made Simple §2.3 |
//! | lagging learners get chosen values from the leader | `PaxosNode::send_to`, `PaxosNode::on_learn` | Paxos Made Simple §2.3 |
//! | apply chosen slots in order, once per boot | `PaxosNode::apply_chosen` | Paxos Made Simple §3 |
//! | batching, pipelining, retransmission | `PaxosNode::release`, `PaxosNode::send_to`, `PaxosNode::heartbeat` | shared knobs |
//! | gap detection: the acceptor reports its first missing slot (the counterpart of Raft's consistency-check rejection) and the leader resends at once; exists for fairness with Raft | `PaxosNode::first_missing`, `PaxosNode::on_gap` | Raft §5.3, mirrored |
//! | restart from the records alone | [`recovery::replay`] | Paxos Made Simple §2.2, §2.5 |
//!
//! Invariants asserted inside the protocol (a violation stops the run at the step that broke
//! it): a promised ballot never decreases; an acceptor never accepts below its promise; a
//! value known chosen never changes ("agreement violated"); the chosen prefix never shrinks.
//!
//! Tests (`paxos/tests/`, on `replog::testkit::Network`, which checks agreement, commit
//! order, durability before sending and one leader per ballot at every step):
//!
//! | file | what it shows |
//! | --- | --- |
//! | `conformance.rs` | `replog::conformance`, the suite Raft passes too |
//! | `recovery.rs` | phase 1 recovery: minority values re-proposed, the highest ballot's value adopted, holes filled with no-ops |
//! | `leadership.rs` | preemption and backoff, duelling proposers settle, `NotLeader` hints, any node may lead |
//! | `durability.rs` | promises and acceptances leave only once durable; restart from the records alone |
//! | `catch_up.rs` | commit notices, catch-up of lagging learners |
//! | `flow_control.rs` | batching, the batch delay, the pipelining window (the same tests as Raft's) |
//! | `gap_detection.rs` | a lost accept is resent as soon as the next answer reports the gap; duplicated and reordered reports resend once |
//! | `bugs.rs` | `ProtocolConfig::bugs` variants are caught by the agreement check |
//! | `stress.rs` | random faults on five nodes (Raft's schedule generator); nothing committed is lost |

pub mod durable;
pub mod leadership;
pub mod msg;
pub mod node;
pub mod paxos_log;
pub mod recovery;
pub mod replication;

pub use durable::Record;
pub use msg::Message;
pub use node::PaxosNode;
pub use paxos_log::{Entry, SlotLog};
