//! The event queue: ordered by (time, insertion sequence), so simultaneous events run in the
//! order they were scheduled and a run is a pure function of its inputs.

use replog::command::ClientCommand;
use replog::{ClientId, KvResult, Nanos, NodeId, NotLeader, PersistSeq};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A client's answer from a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientReply {
    /// The node that answered.
    pub node: NodeId,
    /// The request's sequence number.
    pub seq: u64,
    /// The result, or a redirect.
    pub result: Result<KvResult, NotLeader>,
}

/// Something that happens at a point in simulated time.
#[derive(Debug)]
pub enum Event<M> {
    /// A message reaches a node.
    Deliver { to: NodeId, from: NodeId, msg: M },
    /// A node's CPU is free to take its next input.
    NodeRun { node: NodeId, inc: u64 },
    /// A node's protocol timer falls due.
    Timer { node: NodeId, inc: u64 },
    /// An fsync that covered records up to `len` (the last persist being `seq`) completes.
    FsyncDone {
        node: NodeId,
        inc: u64,
        seq: PersistSeq,
        len: usize,
    },
    /// A client request reaches a node.
    Request { node: NodeId, cmd: ClientCommand },
    /// A reply reaches a client.
    Reply { client: ClientId, reply: ClientReply },
    /// A timer the driver set (client timeouts, fault schedule, arrivals).
    Driver { token: u64 },
}

struct Entry<M> {
    time: Nanos,
    seq: u64,
    event: Event<M>,
}

impl<M> PartialEq for Entry<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<M> Eq for Entry<M> {}
impl<M> PartialOrd for Entry<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Entry<M> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A priority queue of events.
pub struct EventQueue<M> {
    heap: BinaryHeap<Entry<M>>,
    next_seq: u64,
}

impl<M> Default for EventQueue<M> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<M> EventQueue<M> {
    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: Nanos, event: Event<M>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// The earliest event, if it is due at or before `limit`.
    #[inline]
    pub fn pop_until(&mut self, limit: Nanos) -> Option<(Nanos, Event<M>)> {
        if self.heap.peek()?.time > limit {
            return None;
        }
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
