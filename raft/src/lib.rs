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
//! # Figure 2, rule by rule
//!
//! | Figure 2 | where |
//! | --- | --- |
//! | State: `current_term`, `voted_for`, `log[]` (persistent) | [`RaftNode`] fields; written as [`Record`]s ([`durable`]), replayed by [`recovery::replay`] |
//! | State: `commit_index`, `last_applied` (volatile) | [`RaftNode`]; `Commit` actions from `advance_commit_index` |
//! | State: `next_index[]`, `match_index[]` (leaders) | [`Progress`] ([`progress`]) |
//! | AppendEntries RPC (arguments, results) | [`AppendEntries`], [`AppendEntriesResponse`] ([`msg`]) |
//! | AppendEntries receiver rule 1 (stale term) | `reject_stale` in `step` ([`node`]) |
//! | AppendEntries receiver rules 2–5 | `handle_append_entries` ([`replication`]) |
//! | RequestVote RPC | [`RequestVote`], [`RequestVoteResponse`] ([`msg`]) |
//! | RequestVote receiver (one vote per term, §5.4.1 restriction) | `handle_request_vote`, `candidate_log_is_up_to_date` ([`leadership`]) |
//! | All servers: apply committed entries | `advance_commit_index` ([`node`]) |
//! | All servers: term T > currentTerm ⇒ follower | `step` and `become_follower` ([`node`]) |
//! | Followers: respond to RPCs; time out ⇒ candidate | `step_follower`, `tick` ([`node`]), `election_timeout` ([`leadership`]) |
//! | Candidates: start election, win, lose, time out | `start_election`, `count_vote`, `become_leader`, `step_candidate` |
//! | Leaders: heartbeats | `heartbeat` ([`replication`]) |
//! | Leaders: client command ⇒ append | `propose`, `leader_append` |
//! | Leaders: last log index ≥ nextIndex ⇒ send entries | `send_append` ([`replication`]) |
//! | Leaders: success/failure ⇒ update / decrement nextIndex | `handle_append_entries_response` ([`replication`]) |
//! | Leaders: commit rule (§5.4.2) | `maybe_commit` ([`replication`]) |
//!
//! Beyond Figure 2: the leader's no-op at the start of its term (§8); fast backtracking
//! (§5.3); the leader's parallel fsync (§10.2.1); batching and pipelining (§10.2.2 of the
//! thesis, flow control as etcd's `Progress`); PreVote (thesis §9.6) and CheckQuorum
//! (thesis §6.2), both behind [`replog::RaftOptions`].
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

pub mod durable;
pub mod leadership;
pub mod msg;
pub mod node;
pub mod progress;
pub mod raft_log;
pub mod recovery;
pub mod replication;

pub use durable::{Entry, Record};
pub use msg::{AppendEntries, AppendEntriesResponse, Message, RequestVote, RequestVoteResponse};
pub use node::RaftNode;
pub use progress::{Progress, ProgressState};
pub use raft_log::RaftLog;
