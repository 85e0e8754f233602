//! What clients propose and what the log commits.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A client (a Jepsen "process"): one outstanding operation at a time.
pub type ClientId = u64;

/// An operation on the key-value state machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Read a key. Reads go through the log, so they are linearizable.
    Get { key: String },
    /// Write a value.
    Put { key: String, value: String },
    /// Compare-and-set: write `new` only if the key holds `expected` (`None`: key absent).
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
}

impl Op {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key } | Op::Put { key, .. } | Op::Cas { key, .. } => key,
        }
    }
}

/// A command from a client, identified by (client, seq). A retry reuses the same pair so the
/// state machine applies it once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCommand {
    pub client: ClientId,
    pub seq: u64,
    /// Shared so that replicating an entry to many peers copies a pointer, not the strings.
    pub op: Arc<Op>,
}

impl fmt::Debug for ClientCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}#{}:{:?}", self.client, self.seq, self.op)
    }
}

/// The value of one log position: a client command, or a no-op that a new leader writes
/// (Raft's no-op at the start of a term, Paxos's filler for holes).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Noop,
    Client(ClientCommand),
}

impl Command {
    /// A client command.
    pub fn client(client: ClientId, seq: u64, op: Op) -> Self {
        Command::Client(ClientCommand {
            client,
            seq,
            op: Arc::new(op),
        })
    }

    /// The identity used to compare commits across nodes.
    pub fn id(&self) -> CmdId {
        match self {
            Command::Noop => CmdId::Noop,
            Command::Client(c) => CmdId::Client {
                client: c.client,
                seq: c.seq,
            },
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Noop => write!(f, "noop"),
            Command::Client(c) => c.fmt(f),
        }
    }
}

/// A command's identity: clients never reuse (client, seq) for different operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CmdId {
    Noop,
    Client { client: ClientId, seq: u64 },
}
