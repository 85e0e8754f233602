//! `replog`: the vocabulary Raft and multi-Paxos share.
//!
//! Both protocols implement [`ReplicatedLog`], a sans-IO state machine: the caller feeds in
//! time, messages and proposals, and takes out [`Action`]s (persist these records, send this
//! message, this index is committed). Nothing in a protocol reads a clock, spawns a thread
//! or touches a socket, so the same code runs under the deterministic simulator and on real
//! sockets.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`types`] | node ids, log indices, virtual time, epochs (term / ballot) |
//! | [`command`] | the commands clients propose and the KV operations inside them |
//! | [`config`] | [`ProtocolConfig`]: the knobs both protocols share, with one meaning |
//! | [`read`] | reads without the log: ReadIndex rounds, batching, the reads a leader holds |
//! | [`lease`] | leader leases: their length, renewal, the drift bound, the follower's promise |
//! | [`log`] | the [`ReplicatedLog`] trait, [`Action`], [`Status`] |
//! | [`host`] | [`NodeHost`]: the one executor of a protocol's actions (durability before sending) |
//! | [`invariants`] | agreement, commit order, election safety, durability, convergence |
//! | [`fnv`] | FNV-1a, the one stable hash of values that reach an output (trace, digests) |
//! | [`duration`] | durations as people write them (`"150ms"`) in scenario and cluster files |
//! | [`wire`] | [`WireSize`]: the encoded size of a message, for bytes-per-command metrics |
//! | [`quorum`] | majority arithmetic |
//! | [`snapshot`] | snapshots and log compaction: the shared rules, [`SnapshotImage`] |
//! | [`storage`] | the storage trait, the in-memory store, the file write-ahead log and snapshot files |
//! | [`kv`] | the deterministic key-value state machine with duplicate suppression |
//! | [`null`] | the no-replication baseline: a leader that commits alone |
//! | [`rng`] | the seeded RNG every random choice in a protocol comes from |
//! | [`testkit`] | a synchronous in-memory cluster for protocol unit tests |
//! | [`conformance`] | tests every `ReplicatedLog` must pass, run against both protocols |

pub mod command;
pub mod config;
pub mod conformance;
pub mod duration;
pub mod fnv;
pub mod fxhash;
pub mod host;
pub mod invariants;
pub mod kv;
pub mod lease;
pub mod log;
pub mod null;
pub mod quorum;
pub mod read;
pub mod rng;
pub mod snapshot;
pub mod storage;
pub mod testkit;
pub mod types;
pub mod wire;

pub use command::{ClientCommand, ClientId, CmdId, Command, Op};
pub use config::{Ablation, Bugs, ConfigError, ProtocolConfig, RaftOptions, ReadPath};
pub use host::{HostIo, NodeHost};
pub use kv::{KvResult, KvStore};
pub use log::{Action, NotLeader, ReplicatedLog, Role, Status, leader_of};
pub use read::{ReadId, ReadReady};
pub use snapshot::SnapshotImage;
pub use types::{Epoch, LogIndex, Nanos, NodeId, PersistSeq};
pub use wire::WireSize;
