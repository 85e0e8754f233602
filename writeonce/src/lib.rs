//! `writeonce`: the drafts' write-once variable, and the algorithms that try to implement it.
//!
//! Draft 001 reframes consensus as one tiny interface, `WriteOnce<T>`: `tryInitialize(value)`
//! offers a value, `finalValue()` reads the one value that won. A consensus algorithm is an
//! implementation of that interface with four properties (agreement, validity, termination,
//! fault tolerance). The drafts then try one "obvious" implementation after another and watch
//! each one fail; this crate holds those implementations as deterministic sans-IO state
//! machines, and the explorer ([`explore`], run as `workbench explore ALGORITHM`) that searches
//! their message orders, timeouts and crashes and shows *how* each one fails.
//!
//! | module | draft idea | what it loses |
//! | --- | --- | --- |
//! | [`write_once`] | the interface: [`WriteOnce`], [`Outbox`], [`Timer`], [`Rounds`] | |
//! | [`coordinator`] | a fixed coordinator chosen by the bully rule (001 "Distributed" `WriteOnce`) | termination, when the coordinator crashes |
//! | [`majority_vote`] | peers vote for the first candidate they hear (001 part 2) | termination: split votes, and 004's window of vulnerability |
//! | [`tiebreak_vote`] | wait for every vote, then break ties by the bully rule (001 "Tiebreaking") | termination, with one crash |
//! | [`naive_failover`] | a leader, and timeout-based failover to the next node (004 "Appointing Leaders") | agreement: a partition splits the brain |
//! | [`synod`] | Paxos's single-decree synod algorithm, the workbench's one implementation of it ([`Synod`] with randomized backoff, [`SynodNoBackoff`] without) | only guaranteed termination (FLP): without backoff, proposers can duel forever |
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`explore`] | the schedule explorer: exhaustive search, random walks, verdicts, timelines and sequence diagrams, [`explore::run_cli`] for `workbench explore` |
//! | [`tally`] | vote counting shared by the two voting algorithms |
//! | [`color`] | the drafts' red/blue/green values |
//! | [`testkit`] | a FIFO cluster for unit tests |
//!
//! Tests (`writeonce/tests/`):
//!
//! | file | what it shows |
//! | --- | --- |
//! | `explore.rs` | what the explorer finds for each algorithm: the drafts' argument, one test per claim |
//! | `synod.rs` | exhaustive enumeration of the synod: agreement and validity under every schedule of two proposers with a crash-and-restart and a loss, and of three ballots; broken variants (a proposer ignoring promised values, one adopting the lowest ballot, an acceptor forgetting its state on restart) are caught |

pub mod color;
pub mod coordinator;
pub mod explore;
pub mod majority_vote;
pub mod naive_failover;
pub mod synod;
pub mod tally;
pub mod testkit;
pub mod tiebreak_vote;
pub mod write_once;

pub use color::Color;
pub use coordinator::Coordinator;
pub use majority_vote::MajorityVote;
pub use naive_failover::NaiveFailover;
pub use replog::NodeId;
pub use synod::{Synod, SynodNoBackoff};
pub use tiebreak_vote::TiebreakVote;
pub use write_once::{Outbox, Rounds, Timer, WriteOnce};
