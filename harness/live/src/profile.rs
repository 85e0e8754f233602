//! Where a live node's time goes, from its own counters: the benchmark's breakdown.
//!
//! The node runs its protocol loop, its peer and client connections on one thread (a
//! single-threaded tokio runtime) and its write-ahead log on another. The counters split
//! them:
//!
//! | counter | what it times |
//! | --- | --- |
//! | `cpu_ns` | the node thread's CPU time, from the kernel (`/proc/thread-self/schedstat`) |
//! | `protocol_ns` | the protocol: stepping messages, proposing, timers, durability notices (applying excluded) |
//! | `apply_ns` | applying committed commands to the key-value store and queueing the answers |
//! | `peer_send_ns` | encoding peer messages and writing them to their sockets (loopback delivery runs in the writer's system call) |
//! | `wal_append_ns`, `fsync_ns` | the WAL thread: write(2) of records, fdatasync |
//! | `persist_wait_ns` | summed over persists: from being queued to the WAL thread to being durable |
//!
//! What the node thread spends outside the timed parts (`cpu_ns` less the rest) is reading and
//! decoding frames from peers and clients, writing answers to clients, and the runtime.

use serde::{Deserialize, Serialize};

/// Cumulative counters of one node process since it booted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeProfile {
    /// CPU time of the node thread (None where the kernel does not report it).
    pub cpu_ns: Option<u64>,
    pub protocol_ns: u64,
    pub apply_ns: u64,
    pub peer_send_ns: u64,
    pub wal_append_ns: u64,
    pub fsync_ns: u64,
    pub fsyncs: u64,
    pub persists: u64,
    pub persist_wait_ns: u64,
    /// Client commands applied to the state machine.
    pub commands_applied: u64,
}

impl NodeProfile {
    /// The node thread's time not in the timed parts: socket reads, decoding, answers to
    /// clients, the runtime.
    pub fn other_ns(&self) -> Option<u64> {
        self.cpu_ns
            .map(|c| c.saturating_sub(self.protocol_ns + self.apply_ns + self.peer_send_ns))
    }

    /// The counters accumulated between `earlier` and `self`.
    pub fn since(&self, earlier: &NodeProfile) -> NodeProfile {
        NodeProfile {
            cpu_ns: self.cpu_ns.zip(earlier.cpu_ns).map(|(a, b)| a.saturating_sub(b)),
            protocol_ns: self.protocol_ns.saturating_sub(earlier.protocol_ns),
            apply_ns: self.apply_ns.saturating_sub(earlier.apply_ns),
            peer_send_ns: self.peer_send_ns.saturating_sub(earlier.peer_send_ns),
            wal_append_ns: self.wal_append_ns.saturating_sub(earlier.wal_append_ns),
            fsync_ns: self.fsync_ns.saturating_sub(earlier.fsync_ns),
            fsyncs: self.fsyncs.saturating_sub(earlier.fsyncs),
            persists: self.persists.saturating_sub(earlier.persists),
            persist_wait_ns: self.persist_wait_ns.saturating_sub(earlier.persist_wait_ns),
            commands_applied: self.commands_applied.saturating_sub(earlier.commands_applied),
        }
    }
}

/// The calling thread's CPU time in nanoseconds, from the first field of
/// `/proc/thread-self/schedstat` (Linux with scheduler statistics).
pub fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    parse_schedstat(&text)
}

/// The time on CPU from a `schedstat` line: `on_cpu_ns waiting_ns timeslices`.
pub fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_gives_the_time_on_cpu() {
        assert_eq!(parse_schedstat("123456789 5000 42\n"), Some(123_456_789));
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(parse_schedstat("x 1 2"), None);
    }

    #[test]
    fn the_untimed_rest_is_cpu_less_the_timed_parts() {
        let p = NodeProfile {
            cpu_ns: Some(1_000),
            protocol_ns: 300,
            apply_ns: 100,
            peer_send_ns: 200,
            ..NodeProfile::default()
        };
        assert_eq!(p.other_ns(), Some(400));
        let later = NodeProfile {
            cpu_ns: Some(1_500),
            protocol_ns: 400,
            ..p
        };
        let d = later.since(&p);
        assert_eq!((d.cpu_ns, d.protocol_ns, d.apply_ns), (Some(500), 100, 0));
    }
}
