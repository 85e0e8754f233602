//! Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm
//! (Extended Version)", 2014, and Ongaro's thesis for PreVote and CheckQuorum) as a
//! deterministic, sans-IO state machine behind [`replog::ReplicatedLog`].
//!
//! Construct a node with [`replog::ReplicatedLog::boot`]:
//!
//! ```
//! use raft::RaftNode;
//! use replog::{NodeId, ProtocolConfig, ReplicatedLog};
//!
//! let members = [NodeId(0), NodeId(1), NodeId(2)];
//! let node = RaftNode::boot(NodeId(0), &members, &ProtocolConfig::default(), Vec::new(), 7);
//! assert_eq!(node.status().role, replog::Role::Follower);
//! ```
//!
//! # Files
//!
//! The files mirror the `paxos` crate's so the two can be read side by side; a module uses
//! only modules listed below it here (`leadership` and `replication` extend [`RaftNode`]
//! with `impl` blocks, so they name `node`), and there are no import cycles.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `leadership.rs` | leader election: the election timeout, RequestVote on both sides, winning and the term's no-op, PreVote, CheckQuorum (Paxos: phase 1) |
//! | `replication.rs` | log replication: batching, AppendEntries on both sides, heartbeats, the commit rule (Paxos: phase 2, learning, catch-up) |
//! | `node.rs` | [`RaftNode`]: Figure 2's state, the `ReplicatedLog` impl, `step_follower` / `step_candidate` / `step_leader` |
//! | `read.rs` | reads without the log: the read index, confirmation rounds, leases (Paxos: the same file) |
//! | `progress.rs` | [`Progress`]: the leader's view of each follower (`next_index`, `match_index`, the pipelining window) |
//! | `snapshot.rs` | log compaction and InstallSnapshot, both sides (Paxos: `snapshot.rs`, the same helper names) |
//! | `recovery.rs` | boot: replay the write-ahead-log records (from the last checkpoint) |
//! | `log.rs` | [`RaftLog`]: the entries and the boundary between durable and unstable ones |
//! | `msg.rs` | [`Message`]: RequestVote, AppendEntries, their responses, PreVote |
//! | `durable.rs` | [`Record`]: the write-ahead-log records |
//!
//! # Rules
//!
//! Figure 2 rule by rule, then what the implementation adds; each function's doc comment
//! states the rule and cites its section (`tests/rule_table.rs` checks that every name here
//! exists in the file given).
//!
//! | rule | where | reference |
//! | --- | --- | --- |
//! | State: `current_term`, `voted_for`, `log[]` (persistent) | `RaftNode` (node.rs); written as `Record` (durable.rs), replayed by `replay` (recovery.rs) | Raft §5.1, Figure 2 |
//! | State: `commit_index`, `last_applied` (volatile); apply committed entries in order | `advance_commit_index` (node.rs) | Figure 2 |
//! | State: `next_index[]`, `match_index[]` (leaders) | `Progress` (progress.rs) | Figure 2, §5.3 |
//! | All servers: term T > currentTerm ⇒ set currentTerm = T, follower | `step`, `become_follower` (node.rs) | §5.1 |
//! | Receivers, rule 1: reply false if term < currentTerm | `reject_stale` (node.rs) | §5.1 |
//! | What each role does with a message of its term | `step_follower`, `step_candidate`, `step_leader` (node.rs) | Figure 2, Rules for Servers |
//! | Followers, candidates: election timeout elapses ⇒ start election | `tick` (node.rs), `on_election_timeout`, `start_election` (leadership.rs) | §5.2 |
//! | Randomized election timeout, drawn on each role change | `randomize_election_timeout`, `reset_election_timer` (node.rs) | §5.2 |
//! | A candidate's vote for itself is durable before its RequestVotes leave, and counts once durable | `start_election`, `on_own_vote_durable` (leadership.rs) | §5.2 |
//! | RequestVote receiver: one vote per term, persisted before the reply | `handle_request_vote` (leadership.rs), `durability_barrier` (node.rs) | §5.2, Figure 2 |
//! | Election restriction: vote only for an up-to-date log | `candidate_log_is_up_to_date` (leadership.rs) | §5.4.1 |
//! | Candidates: votes from a majority ⇒ leader | `handle_request_vote_response`, `count_vote`, `become_leader` (leadership.rs) | §5.2 |
//! | A new leader appends a no-op of its term | `become_leader` (leadership.rs) | §8 |
//! | Leaders: client command ⇒ append to the local log | `propose` (node.rs), `leader_append` (leadership.rs) | §5.3 |
//! | Batching: hold proposals up to `batch_delay_ns` or a full batch | `release_or_hold`, `release_batch` (replication.rs) | thesis §10.2.2 |
//! | Leaders: last log index ≥ nextIndex ⇒ AppendEntries from nextIndex, pipelined | `send_append_entries` (replication.rs), `on_sent` (progress.rs) | §5.3, thesis §10.2.2 |
//! | Leaders: heartbeats; a window unanswered for an interval is resent | `heartbeat`, `send_heartbeat` (replication.rs), `window_stalled`, `reset_window` (progress.rs) | §5.2, §5.3 |
//! | AppendEntries receiver, rules 2–5; success only once durable | `handle_append_entries` (replication.rs), `durability_barrier` (node.rs) | §5.3, Figure 2 |
//! | Fast backtracking: the follower's hint, the leader's use of it | `first_index_of_term`, `last_index_of_term` (log.rs), `handle_append_entries_response` (replication.rs) | §5.3 |
//! | Leaders: success ⇒ update nextIndex, matchIndex; failure ⇒ decrement nextIndex, retry | `handle_append_entries_response` (replication.rs), `on_ack`, `become_probe` (progress.rs) | §5.3 |
//! | Leaders: commit rule (only entries of the current term by counting) | `maybe_commit` (replication.rs) | §5.4.2 |
//! | The leader counts itself only for entries it has fsynced (parallel fsync) | `quorum_match_index` (node.rs), `maybe_commit` (replication.rs) | §10.2.1 |
//! | PreVote | `start_pre_vote`, `handle_pre_vote`, `handle_pre_vote_response` (leadership.rs) | thesis §9.6 |
//! | CheckQuorum: the leader steps down; followers ignore disruptive votes | `quorum_recently_active`, `in_lease` (leadership.rs), `heartbeat` (replication.rs) | thesis §6.2, §4.2.3 |
//! | ReadIndex: read index = commit index, never below the term's no-op; one round to a majority confirms leadership, shared by concurrent reads | `register_read`, `start_leader_reads`, `send_confirm_round_if_needed`, `handle_confirm`, `handle_confirm_response` (read.rs) | thesis §6.4; shared rounds: replog::read |
//! | Leases: renewed by a round at every heartbeat, from its send time; followers and the leader ignore vote requests while the lease may run; a deposed leader aborts its reads | `renew_lease`, `lease_forbids_vote`, `abort_reads` (read.rs) | thesis §6.4.1; shared arithmetic: replog::lease |
//! | Restart from the records alone | `replay` (recovery.rs) | §5.1, Figure 2 |
//! | Log compaction: the snapshot replaces the log up to an applied index; a checkpoint replaces the records before it | `take_snapshot`, `persist_checkpoint` (snapshot.rs), `compact` (log.rs) | §7 |
//! | InstallSnapshot: a follower whose next entries are compacted gets the snapshot, in stop-and-wait chunks | `send_snapshot_chunk`, `handle_install_snapshot_response` (snapshot.rs), `become_snapshot`, `on_snapshot_installed` (progress.rs) | §7 |
//! | InstallSnapshot receiver: collect the chunks; keep the entries after a matching last entry, else discard the log; restore the state machine | `handle_install_snapshot` (snapshot.rs), `install` (log.rs) | §7, Figure 13 |
//! | AppendEntries below the follower's snapshot: the compacted entries are committed, so they match | `handle_append_entries` (replication.rs) | §5.3, §7 |
//! | Boot from the snapshot and the records after it | `replay` (recovery.rs), `boot` (node.rs) | §7 |
//!
//! Beyond Figure 2: the leader's no-op at the start of its term (§8); fast backtracking
//! (§5.3); the leader's parallel fsync (§10.2.1); batching and pipelining (§10.2.2 of the
//! thesis, flow control as etcd's `Progress`); PreVote (thesis §9.6) and CheckQuorum
//! (thesis §6.2), both behind the shared switches `ProtocolConfig::pre_vote` and
//! `check_quorum` (multi-Paxos has their counterparts).
//!
//! # Snapshots (Raft §7)
//!
//! With `snapshot_every > 0` the host hands the node its state machine's image every that
//! many applied entries (`replog::NodeHost`, the same policy as Paxos's); the node drops the
//! entries up to there and writes a checkpoint (`Record::Snapshot`, term and vote, the
//! entries after it) that replaces every earlier record. A follower whose `next_index` falls
//! inside the snapshot gets InstallSnapshot: one chunk of `snapshot_chunk_bytes` at a time,
//! each answered with the bytes received; a lost chunk is resent at the next heartbeat. The
//! follower answers "installed" only once its checkpoint is durable.
//!
//! # Durability rules (binding, from [`replog::ReplicatedLog`])
//! - Votes: the term/vote record is persisted before the RequestVoteResponse that grants it
//!   (`Send { after: Some(seq) }`); a candidate's own vote is durable before its
//!   RequestVotes leave.
//! - Followers acknowledge entries only once durable (`after: Some(seq)`).
//! - The leader sends entries while its own fsync runs (`after: None`) and counts itself
//!   toward the quorum only for entries [`replog::ReplicatedLog::persisted`] confirmed.
//! - Records issued during one call (`step`, `tick`, `propose`, `persisted`) share one
//!   `Persist`; a reply that promises something waits for the last persist issued so far.
//!
//! # Design notes
//! - **Flow control** ([`progress`]): a follower is probed (one AppendEntries at a time) after
//!   election and after a rejection, and replicated to (pipelined) once the leader knows
//!   where their logs match. The window counts entry-carrying AppendEntries; heartbeats are
//!   empty AppendEntries at the follower's `match_index`, so they never fail the consistency
//!   check and never disturb the pipeline. Because the network may lose messages, a window
//!   with no acknowledgement for a heartbeat interval is emptied and replication restarts at
//!   `match_index + 1`; a follower silent for an election timeout is probed instead.
//! - **Batching**: an AppendEntries carries at most `max_batch_entries`. With
//!   `batch_delay_ns > 0` the leader appends (and persists) proposals at once but releases
//!   them for sending only when a full batch is waiting or the oldest held proposal has
//!   waited `batch_delay_ns`; with 0 every proposal is released at once and batches form
//!   from what accumulates while the window is full.
//! - **Time**: `boot` is given no clock, so a booted node asks to be ticked at once
//!   (`next_deadline() == Some(0)`) and arms its election timer from the first time it sees.
//!   The randomized timeout is drawn on each role change, not per heartbeat.
//! - **PreVote** is granted when the candidate's log is up-to-date and the voter has not
//!   heard from a leader within the minimum election timeout (thesis §9.6), regardless of
//!   CheckQuorum. **CheckQuorum**: a leader steps down at a heartbeat if fewer than a majority
//!   (itself included) answered within the minimum election timeout; followers that heard
//!   from their leader within that time ignore higher-term vote requests (as etcd).
//! - **Assertions**: the invariants (terms never decrease, commit index never decreases, a
//!   leader never truncates, committed entries never change, acknowledgements stay within the
//!   leader's log, one leader per term) are asserted where they could break. The ones about
//!   committed entries are off when a deliberately unsafe `bugs` variant is on, so that the
//!   external checker is the one seen catching it.
//!
//! # Tests
//!
//! `raft/tests/`, on `replog::testkit::Network`, which checks agreement, commit order,
//! durability before sending and one leader per term at every step. Files that test the
//! same concept as one in `paxos/tests/` have its name.
//!
//! | file | what it shows |
//! | --- | --- |
//! | `receiver_rules.rs` | Figure 2's receiver rules, one test per rule, on a single node (Paxos: `acceptor_rules.rs`) |
//! | `interaction.rs` | the scripts in `replog/testdata/interaction/`, a trace per step, side by side with Paxos's |
//! | `conformance.rs` | `replog::conformance`, the suite Paxos passes too |
//! | `leadership.rs` | one leader per term, re-election, the election restriction, the timer policy (a follower keeps its draw) |
//! | `log_repair.rs` | the follower logs of Figure 7 converge to the leader's, with and without fast backtracking |
//! | `durability.rs` | votes and entries leave only once durable; restart from the records |
//! | `flow_control.rs` | batching, the batch delay, the pipelining window, lost windows resent |
//! | `figure8.rs` | Figure 8 step by step: why earlier-term entries are not committed by counting |
//! | `prevote_checkquorum.rs` | PreVote and CheckQuorum, each switch on and off |
//! | `stale_refusals.rs` | a refusal of an earlier term's request is not counted as an answer to the current one (votes, pre-votes, AppendEntries) |
//! | `bugs.rs` | `ProtocolConfig::bugs` variants are caught by the agreement check |
//! | `stress.rs` | random faults on five nodes (the schedule Paxos runs too); nothing committed is lost |
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

pub use durable::{Entry, Record};
pub use log::RaftLog;
pub use msg::{
    AppendEntries, AppendEntriesResponse, InstallSnapshot, InstallSnapshotResponse, Message, RequestVote,
    RequestVoteResponse,
};
pub use node::RaftNode;
pub use progress::{Progress, ProgressState};
