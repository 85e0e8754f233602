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
//! # Files
//!
//! The files mirror the `raft` crate's so the two can be read side by side; a module uses
//! only modules listed below it here (`leadership` and `replication` extend [`PaxosNode`]
//! with `impl` blocks, so they name `node`), and there are no import cycles.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `leadership.rs` | phase 1: the failure detector, prepares and promises on both sides, adoption of reported values, hole filling, preemption; leader stickiness: the pre-prepare round and the quorum check (Raft: leader election, PreVote, CheckQuorum) |
//! | `replication.rs` | phase 2: batching, accepts on both sides, chosen detection, commit notices, catch-up, gap detection (Raft: log replication) |
//! | `node.rs` | [`PaxosNode`]: the acceptor's, learner's and proposer's state (the candidate's and leader's too), the `ReplicatedLog` impl, `step_follower` / `step_candidate` / `step_leader` |
//! | `progress.rs` | [`Progress`]: the leader's view of each follower (next slot, the slots it holds, its chosen prefix, the pipelining window) |
//! | `snapshot.rs` | log compaction, catch-up by snapshot, phase 1 from a promised snapshot (Raft: `snapshot.rs`, the same helper names) |
//! | `read.rs` | reads without the log: the read index, confirmation rounds, leases (Raft: the same file) |
//! | `recovery.rs` | boot: replay the write-ahead-log records (from the last checkpoint) |
//! | `log.rs` | [`SlotLog`]: per-slot accepted values and the chosen prefix |
//! | `msg.rs` | [`Message`]: `Prepare`, `Promise`, `Nack`, `Accept`, `Accepted`, `Heartbeat`, `HeartbeatReply`, `Learn`, `Learned`, `LearnSnapshot`, `LearnedSnapshot`, `PrePrepare`, `PrePromise`, `Confirm`, `ConfirmReply` |
//! | `durable.rs` | [`Record`]: the write-ahead-log records |
//!
//! # Rules
//!
//! Each rule in one place; each function's doc comment states the rule and cites its
//! section (`tests/rule_table.rs` checks that every name here exists in the file given).
//! "PMS" is Paxos Made Simple; "H&M" is Howard & Mortier.
//!
//! | rule | where | reference |
//! | --- | --- | --- |
//! | Acceptor state: the promise and the accepted values (durable) | `PaxosNode` (node.rs); written as `Record` (durable.rs), replayed by `replay` (recovery.rs) | PMS §2.2, §2.5 |
//! | Learner state: the chosen prefix; apply chosen slots in order, once per boot | `SlotLog` (log.rs), `advance_and_apply` (replication.rs), `apply_chosen` (node.rs) | PMS §3 |
//! | Leader state: each follower's next slot and window | `Progress` (progress.rs), `LeaderState` (node.rs) | shared knobs |
//! | All roles: a ballot above one's own ⇒ preempted: follower, backing off | `step` (node.rs), `observe_ballot`, `become_follower` (leadership.rs) | PMS §2.2, §2.4 |
//! | Acceptors: refuse a request below the promise (a `Nack` naming it) | `reject_stale` (node.rs) | PMS §2.2 |
//! | An `Accept` or `Learn` without slots changes nothing | `is_empty`, `step` (node.rs) | hygiene |
//! | What each role does with a message | `step_follower`, `step_candidate`, `step_leader` (node.rs) | H&M §3 |
//! | Followers, candidates: suspect a silent leader after a randomized timeout | `tick` (node.rs), `on_suspicion_timeout`, `reset_suspicion_timer` (leadership.rs) | H&M §3, PMS §2.4 |
//! | The timeout is drawn on each role change and new candidacy, kept while following (Raft's rule too) | `randomize_suspicion_timeout`, `become_follower`, `start_phase1` (leadership.rs) | Raft §5.2, applied alike |
//! | Pre-prepare (with `pre_vote`): ask before phase 1; refused while a live leader is heard | `start_pre_prepare`, `handle_pre_prepare`, `handle_pre_promise` (leadership.rs) | Raft thesis §9.6, applied alike |
//! | Quorum check (with `check_quorum`): a leader not heard by a majority steps down; followers hearing a leader ignore prepares | `quorum_recently_active`, `in_lease` (leadership.rs), `heartbeat` (replication.rs), `step` (node.rs) | Raft thesis §6.2, applied alike |
//! | Phase 1(a): a ballot above any seen, promised to oneself durably before prepares leave, for every slot from the first unchosen one | `start_phase1`, `on_own_promise_durable` (leadership.rs) | PMS §2.2, §2.5, §3 |
//! | Phase 1(b): promise, reporting accepted values in bounded parts, persisted before the reply | `handle_prepare` (leadership.rs), `durability_barrier` (node.rs) | PMS §2.2 |
//! | Candidates: promises (every part) from a majority ⇒ leader | `handle_promise`, `check_phase1_quorum`, `become_leader` (leadership.rs) | PMS §2.2 |
//! | Phase 2(a) values: a chosen value stays, else the highest ballot's, else a no-op | `merge`, `become_leader` (leadership.rs) | PMS §2.2, §3 |
//! | Leaders: client command ⇒ the next slot | `propose` (node.rs), `leader_append` (replication.rs) | PMS §3 |
//! | Batching: hold proposals up to `batch_delay_ns` or a full batch | `release_or_hold`, `release_batch` (replication.rs) | shared knobs |
//! | Phase 2(a): accepts (and learns) from the next slot, pipelined | `send_accepts` (replication.rs), `on_sent` (progress.rs) | PMS §2.2, §3 |
//! | Leaders: heartbeats with a commit notice; a window whose oldest message is unanswered for an interval restarts from the last acknowledged slot (whole window if the follower answers, else a probe) | `heartbeat` (replication.rs), `window_stalled`, `reset_window`, `become_probe` (progress.rs) | H&M §3; Raft §5.3, applied alike |
//! | Phase 2(b): accept (raising the promise), persisted before the reply | `handle_accept` (replication.rs), `durability_barrier` (node.rs) | PMS §2.2, §2.5 |
//! | Heartbeats raise the promise too, durably; every reply waits for what it reports to be durable | `handle_heartbeat`, `handle_learn` (replication.rs) | PMS §2.2, §2.5 |
//! | Gap detection: the acceptor reports its first missing slot, the leader resends at once | `first_missing`, `rewind_to_gap` (replication.rs) | Raft §5.3, mirrored for fairness |
//! | Leaders: a slot is chosen once a majority accepted it at one ballot | `handle_accepted`, `record_acks` (replication.rs) | PMS §2.2 |
//! | Acknowledgements are cumulative (up to the gap or the last slot); the view of a follower only grows | `answer_window` (replication.rs), `on_answer` (progress.rs) | Raft §5.3, applied alike |
//! | The leader counts its own accept only once durable (parallel write) | `release_batch`, `on_own_accepts_durable` (replication.rs) | Raft §10.2.1, applied alike |
//! | Learners: a commit notice marks chosen only values accepted at its ballot | `apply_notice`, `handle_heartbeat` (replication.rs) | PMS §2.3 |
//! | Learners lagging behind get chosen values from the leader | `send_accepts`, `handle_learn`, `handle_learned`, `handle_heartbeat_reply` (replication.rs) | PMS §2.3 |
//! | ReadIndex, as Raft's: read index = chosen prefix, never below the last slot phase 1 recovered; one round to a majority at the leader's ballot confirms it, shared by concurrent reads | `register_read`, `start_leader_reads`, `send_confirm_round_if_needed`, `handle_confirm`, `handle_confirm_reply` (read.rs) | Raft thesis §6.4, applied alike; shared rounds: replog::read |
//! | Leases, as Raft's: renewed by a round at every heartbeat, from its send time; acceptors and the leader make no promise to a higher ballot while the lease may run; a preempted leader aborts its reads | `renew_lease`, `lease_forbids_promise`, `abort_reads` (read.rs) | Raft thesis §6.4.1, applied alike; shared arithmetic: replog::lease |
//! | Restart from the records alone | `replay` (recovery.rs) | PMS §2.2, §2.5 |
//! | Log compaction: the snapshot replaces the chosen slots up to an applied one; a checkpoint replaces the records before it | `take_snapshot`, `persist_checkpoint` (snapshot.rs), `compact` (log.rs) | Raft §7, PMS §3 |
//! | Catch-up by snapshot: a follower whose next slots are compacted gets the snapshot, in stop-and-wait chunks | `send_snapshot_chunk`, `handle_learned_snapshot` (snapshot.rs), `on_snapshot_sent` (progress.rs), `send_accepts` (replication.rs) | PMS §2.3, Raft §7 |
//! | The learner installs a snapshot: the slots up to it are chosen; the state machine restarts from it | `handle_learn_snapshot` (snapshot.rs), `install` (log.rs) | PMS §2.3 |
//! | Phase 1 below an acceptor's snapshot: the promise carries it; the candidate installs it and phase 1 continues after it | `promised_snapshot`, `adopt_promised_snapshot` (snapshot.rs), `handle_promise` (leadership.rs) | PMS §2.2, §2.3 |
//! | Accepts and learns inside the snapshot store nothing (those slots are chosen) | `accept`, `learn` (log.rs) | PMS §2.2 |
//! | Boot from the snapshot and the records after it | `replay` (recovery.rs), `boot` (node.rs) | PMS §2.5 |
//!
//! Snapshots: with `snapshot_every > 0` the host hands the node its state machine's image
//! every that many applied slots (`replog::NodeHost`, the same policy as Raft's); the node
//! drops the chosen slots up to there and writes a checkpoint (`Record::Snapshot`, the
//! promise, the slots after it, the chosen prefix) that replaces every earlier record. A
//! follower whose next slot falls inside the snapshot gets it on the catch-up path
//! (`LearnSnapshot`, stop-and-wait chunks of `snapshot_chunk_bytes`); a candidate whose
//! prepare starts inside an acceptor's snapshot gets it whole in the promise, installs it,
//! and runs phase 1 from the slot after it.
//!
//! Invariants asserted inside the protocol (a violation stops the run at the step that broke
//! it): a promised ballot never decreases; an acceptor never accepts below its promise; a
//! value known chosen never changes ("agreement violated"); the chosen prefix never shrinks.
//!
//! # Tests
//!
//! `paxos/tests/`, on `replog::testkit::Network`, which checks agreement, commit order,
//! durability before sending and one leader per ballot at every step. Files that test the
//! same concept as one in `raft/tests/` have its name.
//!
//! | file | what it shows |
//! | --- | --- |
//! | `acceptor_rules.rs` | the acceptor's and learner's rules, one test per rule, on a single node (Raft: `receiver_rules.rs`) |
//! | `interaction.rs` | the scripts in `replog/testdata/interaction/`, a trace per step, side by side with Raft's |
//! | `conformance.rs` | `replog::conformance`, the suite Raft passes too |
//! | `log_repair.rs` | phase 1 recovery of a new leader's log: minority values re-proposed, the highest ballot's value adopted, holes filled with no-ops |
//! | `leadership.rs` | preemption and backoff, duelling proposers settle, `NotLeader` hints, any node may lead |
//! | `durability.rs` | promises and acceptances leave only once durable; restart from the records alone |
//! | `catch_up.rs` | commit notices, catch-up of lagging learners |
//! | `flow_control.rs` | batching, the batch delay, the pipelining window (the same tests as Raft's) |
//! | `gap_detection.rs` | a lost accept is resent as soon as the next answer reports the gap; duplicated and reordered reports resend once |
//! | `parity.rs` | the equalisations with Raft, each beside its control with the `ablation` switch on: cumulative acknowledgements, stall recovery, the timer policy; and the hygiene rules (heartbeats raise the promise, empty messages change nothing, replies wait for their writes, bounded promises) |
//! | `prevote_checkquorum.rs` | leader stickiness: the pre-prepare round and the quorum check, each switch on and off (Raft's PreVote and CheckQuorum tests, same schedules) |
//! | `bugs.rs` | `ProtocolConfig::bugs` variants are caught by the agreement check |
//! | `stress.rs` | random faults on five nodes (Raft's schedule generator); nothing committed is lost |
//! | `rule_table.rs` | every function the rule table above names exists in the file it gives |

pub mod durable;
pub mod leadership;
pub mod log;
pub mod msg;
pub mod node;
pub mod progress;
pub mod read;
pub mod recovery;
pub mod replication;
pub mod snapshot;

pub use durable::Record;
pub use log::{Entry, SlotLog};
pub use msg::Message;
pub use node::PaxosNode;
pub use progress::{Progress, ProgressState};
