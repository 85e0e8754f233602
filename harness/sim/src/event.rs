//! The event queue: ordered by (time, insertion sequence), so simultaneous events run in the
//! order they were scheduled and a run is a pure function of its inputs.

use model::timer::TimerToken;
use model::workload::ClientReply;
use replog::command::ClientCommand;
use replog::{ClientId, Nanos, NodeId, PersistSeq};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// Something that happens at a point in simulated time.
#[derive(Debug)]
pub enum SimEvent<M> {
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
    Driver { token: TimerToken },
}

/// A queued event's place: small and `Copy`, so the queue moves 24 bytes, not whole events (a
/// batch of entries in a message makes an `Event` several times larger). The event sits in
/// the queue's slab at `slot`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Key {
    time: Nanos,
    seq: u64,
    slot: u32,
}

impl Key {
    /// The queue's order: (time, seq), which is unique.
    #[inline]
    fn order(&self) -> (Nanos, u64) {
        (self.time, self.seq)
    }
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
        other.order().cmp(&self.order())
    }
}

/// A priority queue of events, ordered by (time, insertion sequence).
///
/// Two parts: a binary heap, and a *lane*, a FIFO of keys pushed in order. A push whose time
/// is at or after the lane's last key (or any push, when the lane is empty) joins the lane:
/// it sorts last there, since its sequence number is the largest yet. Any other goes to the
/// heap, and a pop takes the smaller of the two heads. Far-future timers, pushed at a steady offset from a clock that only moves forward
/// (a client's request timeout, usually superseded by the reply), arrive in order and fill
/// the lane, so the heap holds only the near events (messages, replies, CPU and disk
/// completions) and stays small: at 20,000 operations per second the timeouts in flight
/// made the heap ten times as deep.
pub struct EventQueue<M> {
    heap: BinaryHeap<Key>,
    lane: VecDeque<Key>,
    /// Events by slot; `None` slots are free and listed in `free`.
    slab: Vec<Option<SimEvent<M>>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<M> Default for EventQueue<M> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            lane: VecDeque::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<M> EventQueue<M> {
    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: Nanos, event: SimEvent<M>) {
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
        let key = Key { time, seq, slot };
        match self.lane.back() {
            Some(last) if time < last.time => self.heap.push(key),
            _ => self.lane.push_back(key),
        }
    }

    /// The earliest event, if it is due at or before `limit`.
    #[inline]
    pub fn pop_until(&mut self, limit: Nanos) -> Option<(Nanos, SimEvent<M>)> {
        let from_lane = match (self.heap.peek(), self.lane.front()) {
            (None, None) => return None,
            (Some(h), Some(l)) => l.order() < h.order(),
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        let head = if from_lane {
            self.lane.front()
        } else {
            self.heap.peek()
        };
        if head.expect("not empty").time > limit {
            return None;
        }
        let key = if from_lane {
            self.lane.pop_front()
        } else {
            self.heap.pop()
        }
        .expect("not empty");
        let event = self.slab[key.slot as usize].take().expect("a queued event");
        self.free.push(key.slot);
        Some((key.time, event))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lane.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_by_insertion_order() {
        let mut q = EventQueue::<()>::default();
        for (i, t) in [30u64, 10, 20, 10, 30, 10].into_iter().enumerate() {
            q.push(
                t,
                SimEvent::Driver {
                    token: TimerToken::Custom(i as u32),
                },
            );
        }
        let mut out = Vec::new();
        while let Some((
            t,
            SimEvent::Driver {
                token: TimerToken::Custom(token),
            },
        )) = q.pop_until(25)
        {
            out.push((t, token));
            // Reusing freed slots must not disturb the order.
            if token == 1 {
                q.push(
                    20,
                    SimEvent::Driver {
                        token: TimerToken::Custom(9),
                    },
                );
            }
        }
        assert_eq!(out, [(10, 1), (10, 3), (10, 5), (20, 2), (20, 9)]);
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn the_queue_pops_what_a_sorted_list_would() {
        use rand::RngExt;
        use replog::rng::rng_for;
        // Bursts of simultaneous events, near and far timers, and `pop_until` limits that
        // stop between events (after which events are scheduled at the limit).
        let mut rng = rng_for(7, 7);
        let mut q = EventQueue::<()>::default();
        let mut model: Vec<(Nanos, u32)> = Vec::new();
        let (mut now, mut token) = (0, 0);
        for round in 0..2_000 {
            for _ in 0..rng.random_range(0..40) {
                let at = match rng.random_range(0..4) {
                    0 => now,
                    1 => now + rng.random_range(0..1_000),
                    2 => now + rng.random_range(0..1_000_000),
                    _ => now + rng.random_range(0..1_000_000_000),
                };
                q.push(
                    at,
                    SimEvent::Driver {
                        token: TimerToken::Custom(token),
                    },
                );
                model.push((at, token));
                token += 1;
            }
            model.sort_unstable();
            let limit = now + rng.random_range(0..2_000_000);
            let due = model.partition_point(|&(t, _)| t <= limit);
            let expected: Vec<_> = model.drain(..due).collect();
            let mut got = Vec::new();
            while let Some((
                t,
                SimEvent::Driver {
                    token: TimerToken::Custom(token),
                },
            )) = q.pop_until(limit)
            {
                got.push((t, token));
            }
            assert_eq!(got, expected, "round {round}");
            assert_eq!(q.len(), model.len());
            now = limit;
        }
    }
}
