//! `writeonce`: the drafts' write-once variable, and the algorithms that try to implement it.
//!
//! Draft 001 reframes consensus as one tiny interface, `WriteOnce<T>`: `tryInitialize(value)`
//! offers a value, `finalValue()` reads the one value that won. A consensus algorithm is an
//! implementation of that interface with four properties (agreement, validity, termination,
//! fault tolerance). The drafts then try one "obvious" implementation after another and watch
//! each one fail; this crate holds those implementations as deterministic sans-IO state
//! machines, so the workbench's explorer (`workbench explore ALGORITHM`) can search their
//! message orders, timeouts and crashes and show *how* each one fails.
//!
//! | module | draft idea | what it loses |
//! | --- | --- | --- |
//! | [`write_once`] | the interface: [`WriteOnce`], [`Outbox`], [`Timer`], [`Rounds`] | |
//! | [`coordinator`] | a fixed coordinator chosen by the bully rule (001 "Distributed" `WriteOnce`) | termination, when the coordinator crashes |
//! | [`majority_vote`] | peers vote for the first candidate they hear (001 part 2) | termination: split votes, and 004's window of vulnerability |
//! | [`tiebreak_vote`] | wait for every vote, then break ties by the bully rule (001 "Tiebreaking") | termination, with one crash |
//! | [`naive_failover`] | a leader, and timeout-based failover to the next node (004 "Appointing Leaders") | agreement: a partition splits the brain |
//! | [`synod`] | Paxos's single-decree synod algorithm, the `paxos` crate's rules ([`Synod`] with randomized backoff, [`SynodNoBackoff`] without) | only guaranteed termination (FLP): without backoff, proposers can duel forever |
//!
//! Helpers: [`tally`] (vote counting shared by the two voting algorithms), [`color`] (the
//! drafts' red/blue/green values) and [`testkit`] (a FIFO cluster for unit tests).

pub mod color;
pub mod coordinator;
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
