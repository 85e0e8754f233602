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
    /// A message reaches a node; `size` is its wire size, computed once when it was sent.
    Deliver {
        to: NodeId,
        from: NodeId,
        msg: M,
        size: usize,
    },
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

/// A heap key: small and `Copy`, so sifting moves 24 bytes, not whole events (a batch of
/// entries in a message makes an `Event` several times larger). The event sits in the
/// queue's slab at `slot`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    time: Nanos,
    seq: u64,
    slot: u32,
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first. (time, seq) is
        // unique, so `slot` never decides the order.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A priority queue of events, ordered by (time, insertion sequence).
pub struct EventQueue<M> {
    heap: BinaryHeap<Key>,
    /// Events by slot; `None` slots are free and listed in `free`.
    slab: Vec<Option<Event<M>>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<M> Default for EventQueue<M> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
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
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slab.push(Some(event));
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 events in flight")
            }
        };
        self.heap.push(Key { time, seq, slot });
    }

    /// The earliest event, if it is due at or before `limit`.
    #[inline]
    pub fn pop_until(&mut self, limit: Nanos) -> Option<(Nanos, Event<M>)> {
        if self.heap.peek()?.time > limit {
            return None;
        }
        let key = self.heap.pop()?;
        let event = self.slab[key.slot as usize].take().expect("a queued event");
        self.free.push(key.slot);
        Some((key.time, event))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_by_insertion_order() {
        let mut q = EventQueue::<()>::default();
        for (i, t) in [30u64, 10, 20, 10, 30, 10].into_iter().enumerate() {
            q.push(t, Event::Driver { token: i as u64 });
        }
        let mut out = Vec::new();
        while let Some((t, Event::Driver { token })) = q.pop_until(25) {
            out.push((t, token));
            // Reusing freed slots must not disturb the order.
            if token == 1 {
                q.push(20, Event::Driver { token: 9 });
            }
        }
        assert_eq!(out, [(10, 1), (10, 3), (10, 5), (20, 2), (20, 9)]);
        assert_eq!(q.len(), 2);
    }
}
