//! [`Protocol`]: the systems the workbench runs and compares, by name.

use replog::ReplicatedLog;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A system under test. Its lower-case name is what files, reports and the CLI use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// `raft::RaftNode`.
    Raft,
    /// `paxos::PaxosNode` (multi-Paxos).
    Paxos,
    /// `replog::null::NullLog`: the no-replication baseline, a leader that commits alone.
    Null,
    /// Production etcd, the live backend's reference system (never simulated).
    Etcd,
}

/// A name that is not a protocol the workbench knows.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("unknown protocol {name:?}: expected raft, paxos, null or etcd")]
pub struct UnknownProtocol {
    pub name: String,
}

/// A protocol asked of a backend that cannot run it.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("{protocol} runs only on the live backend (--backend live)")]
pub struct NotSimulated {
    pub protocol: Protocol,
}

impl Protocol {
    /// The two protocols every comparison is about.
    pub const COMPARED: [Protocol; 2] = [Protocol::Raft, Protocol::Paxos];
    /// Every protocol implemented in this workspace (the simulator runs these).
    pub const SIMULATED: [Protocol; 3] = [Protocol::Raft, Protocol::Paxos, Protocol::Null];

    /// The name used in files, reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Raft => "raft",
            Protocol::Paxos => "paxos",
            Protocol::Null => "null",
            Protocol::Etcd => "etcd",
        }
    }

    /// How reports title it.
    pub fn display_name(self) -> &'static str {
        match self {
            Protocol::Raft => "Raft",
            Protocol::Paxos => "Multi-Paxos",
            Protocol::Null => "No replication",
            Protocol::Etcd => "etcd",
        }
    }

    /// The protocol whose [`ReplicatedLog`] is `L`, by its name. Panics for a log the
    /// workbench does not know (a test's own toy protocol has no place in a report).
    pub fn of<L: ReplicatedLog>() -> Protocol {
        L::NAME
            .parse()
            .unwrap_or_else(|e| panic!("{e}: a ReplicatedLog the workbench does not know"))
    }

    /// Whether it is implemented here (and so runs in the simulator).
    pub fn is_simulated(self) -> bool {
        self != Protocol::Etcd
    }

    /// Where reports list it: Raft, multi-Paxos, etcd, then the baseline.
    pub fn rank(self) -> u8 {
        match self {
            Protocol::Raft => 0,
            Protocol::Paxos => 1,
            Protocol::Etcd => 2,
            Protocol::Null => 3,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Protocol {
    type Err = UnknownProtocol;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "raft" => Ok(Protocol::Raft),
            "paxos" => Ok(Protocol::Paxos),
            "null" => Ok(Protocol::Null),
            "etcd" => Ok(Protocol::Etcd),
            other => Err(UnknownProtocol {
                name: other.to_string(),
            }),
        }
    }
}

/// Evaluates `$body` with the type alias `$L` bound to the [`replog::ReplicatedLog`] type of
/// `$protocol` (a [`Protocol`]): `Ok(body)`, or `Err(NotSimulated)` for etcd. The calling crate
/// depends on `raft`, `paxos` and `replog`.
///
/// ```ignore
/// let out = model::with_protocol!(protocol, L => sim::run_sim::<L>(&scenario, &opts))?;
/// ```
#[macro_export]
macro_rules! with_protocol {
    ($protocol:expr, $L:ident => $body:expr) => {
        match $protocol {
            $crate::protocol::Protocol::Raft => {
                type $L = raft::RaftNode;
                Ok($body)
            }
            $crate::protocol::Protocol::Paxos => {
                type $L = paxos::PaxosNode;
                Ok($body)
            }
            $crate::protocol::Protocol::Null => {
                type $L = replog::null::NullLog;
                Ok($body)
            }
            protocol @ $crate::protocol::Protocol::Etcd => Err($crate::protocol::NotSimulated { protocol }),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for p in [Protocol::Raft, Protocol::Paxos, Protocol::Null, Protocol::Etcd] {
            assert_eq!(p.name().parse::<Protocol>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.name()));
        }
        assert!("zab".parse::<Protocol>().is_err());
    }
}
