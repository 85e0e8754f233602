//! [`RunEvent`]: what a live run's loop hears from its cluster, besides its own timers.

use crate::admin::FromNode;
use crate::etcd::status::EtcdStatus;
use model::workload::ClientReply;
use replog::ClientId;

/// Everything the run's driver reacts to besides its own timers.
#[derive(Debug)]
pub enum RunEvent {
    /// A reply for one of the workload's clients.
    Reply { client: ClientId, reply: ClientReply },
    /// Something from a node's admin link.
    Node(FromNode),
    /// An etcd member's status (None: it did not answer).
    EtcdStatus { node: usize, status: Option<EtcdStatus> },
}
