//! The messages of multi-Paxos: the two phases of Paxos Made Simple §2.2 run for all slots at
//! once (phase 1) and per slot (phase 2), the rejection that tells a proposer it has been
//! preempted, the leader's heartbeat carrying its commit notice, and catch-up of chosen
//! values for a lagging learner.
//!
//! With `pre_vote`, a pre-prepare round (Raft's PreVote) comes before phase 1.
//!
//! Like Raft's RPCs, the sender's id travels in the transport's `from`, not in the message.
//! Every message carries a ballot: the proposer's own for requests, and the one being
//! answered for replies, so a proposer can tell a current answer from a stale one.

use replog::wire::WireSize;
use replog::{Command, Epoch, LogIndex, Op, SnapshotImage};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A message between two multi-Paxos nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// Phase 1(a), for every slot from `from_slot` on. Reference: Paxos Made Simple §3.
    Prepare(Prepare),
    /// Phase 1(b): the acceptor's promise, with what it has accepted. Reference: Paxos Made
    /// Simple §2.2.
    Promise(Promise),
    /// A prepare, accept or heartbeat arrived with a ballot below the acceptor's promise.
    /// Reference: Paxos Made Simple §2.2 (the optimisation of telling the proposer to abandon
    /// its proposal).
    Nack(Nack),
    /// Phase 2(a) for consecutive slots, with the leader's commit notice. Reference: Paxos
    /// Made Simple §2.2, §3.
    Accept(Accept),
    /// Phase 2(b): the acceptor accepted the slots of an `Accept`.
    Accepted(Accepted),
    /// The leader is alive; carries its commit notice. Reference: Howard & Mortier, "Paxos vs
    /// Raft" §3.
    Heartbeat(Heartbeat),
    /// The answer to a heartbeat: how far the follower knows the log to be chosen.
    HeartbeatReply(HeartbeatReply),
    /// Catch-up: values the leader knows to be chosen. Reference: Paxos Made Simple §2.3.
    Learn(Learn),
    /// The answer to a `Learn`.
    Learned(Learned),
    /// Catch-up of a compacted chosen prefix: a chunk of the leader's snapshot (the state
    /// after every slot up to `upto`). Reference: Paxos Made Simple §2.3, with Raft §7's
    /// snapshot in place of the values.
    LearnSnapshot(LearnSnapshot),
    /// The answer to a `LearnSnapshot`.
    LearnedSnapshot(LearnedSnapshot),
    /// "Could I win phase 1 with `ballot`?", asked before phase 1 when `pre_vote` is on; it
    /// changes no durable state and promises nothing. The counterpart of Raft's PreVote
    /// (thesis §9.6), for leader stickiness.
    PrePrepare(Prepare),
    /// The answer to a `PrePrepare`.
    PrePromise(PrePromise),
    /// "Am I still your leader?": one confirmation round of a ReadIndex read, or a lease
    /// renewal (`read_path = "read_index"` or `"lease"` only); the same round as Raft's.
    /// Reference: Raft thesis §6.4, §6.4.1, applied alike.
    Confirm(Confirm),
    /// An acceptor that has promised no higher ballot acknowledges the round.
    ConfirmReply(Confirm),
}

/// A chunk of the leader's snapshot of the chosen prefix up to `upto`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnSnapshot {
    /// The sender's ballot.
    pub ballot: Epoch,
    /// The snapshot covers every slot up to here.
    pub upto: LogIndex,
    /// Byte offset of this chunk in the image.
    pub offset: u64,
    /// The image's size in bytes.
    pub size: u64,
    /// At most `snapshot_chunk_bytes` bytes of the image, from `offset`.
    pub data: Vec<u8>,
}

/// The answer to a `LearnSnapshot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedSnapshot {
    /// The `LearnSnapshot`'s ballot.
    pub ballot: Epoch,
    /// The snapshot this answers.
    pub upto: LogIndex,
    /// Bytes of the image the learner holds in order: the leader sends from here.
    pub received: u64,
    /// The learner's chosen prefix afterwards (at least `upto` once installed).
    pub chosen_upto: LogIndex,
}

/// A compacted chosen prefix, reported whole in a promise to a candidate behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromisedSnapshot {
    pub upto: LogIndex,
    pub image: SnapshotImage,
}

/// A confirmation round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirm {
    /// The leader's ballot (echoed in the reply).
    pub ballot: Epoch,
    /// The leader's round number, echoed in the reply.
    pub round: u64,
}

/// The answer to a `PrePrepare`: whether the acceptor would promise its ballot now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrePromise {
    /// The ballot asked about.
    pub ballot: Epoch,
    /// Yes if the acceptor has promised nothing as high and has not heard from a live leader
    /// within the minimum timeout.
    pub granted: bool,
    /// The acceptor's promise, so a refused pre-candidate learns of a higher round.
    pub promised: Epoch,
}

/// Most accepted values one `Promise` reports: a longer suffix (a candidate far behind) is
/// reported in several parts, so no promise becomes one giant frame. Like every other bound
/// here it is stated, not tuned: 1024 values of the workload's size make frames of tens of
/// kilobytes.
pub const PROMISE_MAX_SLOTS: usize = 1024;

/// Phase 1(a): "prepare request with number n", sent once for all slots from `from_slot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepare {
    /// The candidate's ballot (round, node).
    pub ballot: Epoch,
    /// The candidate's first unchosen slot: acceptors report what they hold from here on.
    pub from_slot: LogIndex,
}

/// One accepted value reported in a promise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromisedSlot {
    pub slot: LogIndex,
    /// The ballot at which the acceptor accepted `cmd`.
    pub ballot: Epoch,
    /// The acceptor knows `cmd` is chosen in `slot`: the candidate must keep it whatever the
    /// ballots say.
    pub chosen: bool,
    pub cmd: Command,
}

/// Phase 1(b): "a promise not to accept any more proposals numbered less than n and with the
/// highest-numbered proposal (if any) that it has accepted", for every slot at once, sent
/// as `parts` messages of at most [`PROMISE_MAX_SLOTS`] values each. The candidate counts
/// the acceptor once it holds every part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    /// The ballot promised (the candidate's).
    pub ballot: Epoch,
    /// The acceptor's chosen prefix, so the candidate knows where it needs catching up.
    pub chosen_upto: LogIndex,
    /// This part's share of the slots at or above the prepare's `from_slot` holding a
    /// value, in slot order.
    pub accepted: Vec<PromisedSlot>,
    /// The acceptor's snapshot, when it compacted slots at or above `from_slot`: the values
    /// of those slots exist only as the state they produced (all of them chosen).
    pub snapshot: Option<PromisedSnapshot>,
    /// Which part this is, from 1.
    pub part: u32,
    /// How many parts the promise has (1 for a suffix of up to [`PROMISE_MAX_SLOTS`]).
    pub parts: u32,
}

/// A request was turned down because the acceptor promised a higher ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nack {
    /// The ballot of the request turned down.
    pub ballot: Epoch,
    /// The higher ballot the acceptor promised.
    pub promised: Epoch,
}

/// Phase 2(a): "accept request" for slots `first_slot ..= first_slot + cmds.len() - 1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accept {
    /// The leader's ballot.
    pub ballot: Epoch,
    pub first_slot: LogIndex,
    /// At most `max_batch_entries` values; they share the leader's `Arc`s.
    pub cmds: Vec<Command>,
    /// Commit notice: every slot up to here is chosen, with the value the leader proposed
    /// at `ballot` (or one it knew to be chosen before).
    pub chosen_upto: LogIndex,
}

/// Phase 2(b): the acceptor accepted slots `first_slot ..= last_slot` at `ballot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub ballot: Epoch,
    pub first_slot: LogIndex,
    pub last_slot: LogIndex,
    /// The acceptor's chosen prefix after processing the accept.
    pub chosen_upto: LogIndex,
    /// Gap detection: the first slot above the chosen prefix and below `first_slot` that
    /// holds no value accepted at `ballot` and is not known chosen, if any: an earlier
    /// `Accept` or `Learn` was lost (or is late). The counterpart of Raft's consistency-check
    /// rejection; see `replication.rs`.
    pub missing_from: Option<LogIndex>,
}

/// The leader's heartbeat and commit notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub ballot: Epoch,
    /// Commit notice, as in [`Accept::chosen_upto`].
    pub chosen_upto: LogIndex,
}

/// The answer to a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// The heartbeat's ballot.
    pub ballot: Epoch,
    /// The follower's chosen prefix after the notice.
    pub chosen_upto: LogIndex,
}

/// Catch-up: `cmds[i]` is chosen in slot `first_slot + i`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learn {
    /// The sender's ballot (learning a chosen value needs no ballot check).
    pub ballot: Epoch,
    pub first_slot: LogIndex,
    /// At most `max_batch_entries` values.
    pub cmds: Vec<Command>,
}

/// The answer to a `Learn`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learned {
    /// The `Learn`'s ballot.
    pub ballot: Epoch,
    /// The `Learn`'s last slot.
    pub last_slot: LogIndex,
    /// The learner's chosen prefix afterwards.
    pub chosen_upto: LogIndex,
    /// Gap detection, as in [`Accepted::missing_from`], for slots below the `Learn`'s first.
    pub missing_from: Option<LogIndex>,
}

impl Message {
    /// The highest ballot the message reveals: a proposer that sees one above its own has
    /// been preempted.
    pub fn ballot(&self) -> Epoch {
        match self {
            Message::Prepare(m) => m.ballot,
            Message::Promise(m) => m.ballot,
            Message::Nack(m) => m.promised.max(m.ballot),
            Message::Accept(m) => m.ballot,
            Message::Accepted(m) => m.ballot,
            Message::Heartbeat(m) => m.ballot,
            Message::HeartbeatReply(m) => m.ballot,
            Message::Learn(m) => m.ballot,
            Message::Learned(m) => m.ballot,
            Message::LearnSnapshot(m) => m.ballot,
            Message::LearnedSnapshot(m) => m.ballot,
            // A pre-prepare asks about a ballot nobody has promised; its answer reveals the
            // acceptor's promise. Neither preempts anyone (see `PaxosNode::step`).
            Message::PrePrepare(m) => m.ballot,
            Message::PrePromise(m) => m.promised,
            Message::Confirm(m) | Message::ConfirmReply(m) => m.ballot,
        }
    }
}

/// One line per message, for traces and the interaction scripts
/// (`replog/testdata/interaction/`): `Prepare{ballot:b2.0, from_slot:1}`,
/// `Accept{ballot:b2.0, slots:[1:noop, 2:x=1], chosen_upto:0}`. A ballot is `bR.N`, round R
/// of node N. (`raft::Message` formats the same way.)
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Prepare(m) => write!(f, "Prepare{{ballot:{}, from_slot:{}}}", m.ballot, m.from_slot),
            Message::Promise(m) => {
                write!(
                    f,
                    "Promise{{ballot:{}, chosen_upto:{}, accepted:[",
                    m.ballot, m.chosen_upto
                )?;
                for (k, p) in m.accepted.iter().enumerate() {
                    let sep = if k == 0 { "" } else { ", " };
                    let chosen = if p.chosen { " chosen" } else { "" };
                    write!(
                        f,
                        "{sep}{}:{} {}{chosen}",
                        p.slot,
                        ShortBallot(p.ballot),
                        ShortCommand(&p.cmd)
                    )?;
                }
                if m.parts > 1 {
                    write!(f, "], part:{}/{}}}", m.part, m.parts)
                } else {
                    write!(f, "]}}")
                }
            }
            Message::PrePrepare(m) => {
                write!(f, "PrePrepare{{ballot:{}, from_slot:{}}}", m.ballot, m.from_slot)
            }
            Message::PrePromise(m) => {
                let answer = if m.granted { "granted" } else { "rejected" };
                write!(
                    f,
                    "PrePromise{{ballot:{}, {answer}, promised:{}}}",
                    m.ballot,
                    ShortBallot(m.promised)
                )
            }
            Message::Nack(m) => write!(f, "Nack{{ballot:{}, promised:{}}}", m.ballot, m.promised),
            Message::Accept(m) => {
                write!(f, "Accept{{ballot:{}, slots:", m.ballot)?;
                write_slots(f, m.first_slot, &m.cmds)?;
                write!(f, ", chosen_upto:{}}}", m.chosen_upto)
            }
            Message::Accepted(m) => {
                write!(f, "Accepted{{ballot:{}, slots:", m.ballot)?;
                write_range(f, m.first_slot, m.last_slot)?;
                write!(f, ", chosen_upto:{}", m.chosen_upto)?;
                write_missing(f, m.missing_from)
            }
            Message::Heartbeat(m) => write!(
                f,
                "Heartbeat{{ballot:{}, chosen_upto:{}}}",
                m.ballot, m.chosen_upto
            ),
            Message::HeartbeatReply(m) => {
                write!(
                    f,
                    "HeartbeatReply{{ballot:{}, chosen_upto:{}}}",
                    m.ballot, m.chosen_upto
                )
            }
            Message::Learn(m) => {
                write!(f, "Learn{{ballot:{}, slots:", m.ballot)?;
                write_slots(f, m.first_slot, &m.cmds)?;
                write!(f, "}}")
            }
            Message::Learned(m) => {
                write!(
                    f,
                    "Learned{{ballot:{}, last_slot:{}, chosen_upto:{}",
                    m.ballot, m.last_slot, m.chosen_upto
                )?;
                write_missing(f, m.missing_from)
            }
            Message::LearnSnapshot(m) => write!(
                f,
                "LearnSnapshot{{ballot:{}, upto:{}, bytes:{}..{} of {}}}",
                m.ballot,
                m.upto,
                m.offset,
                m.offset + m.data.len() as u64,
                m.size
            ),
            Message::LearnedSnapshot(m) => write!(
                f,
                "LearnedSnapshot{{ballot:{}, upto:{}, received:{}, chosen_upto:{}}}",
                m.ballot, m.upto, m.received, m.chosen_upto
            ),
            Message::Confirm(m) => write!(f, "Confirm{{ballot:{}, round:{}}}", m.ballot, m.round),
            Message::ConfirmReply(m) => write!(f, "ConfirmReply{{ballot:{}, round:{}}}", m.ballot, m.round),
        }
    }
}

/// `[1:noop, 2:x=1]`: each command with its slot.
fn write_slots(f: &mut fmt::Formatter<'_>, first_slot: LogIndex, cmds: &[Command]) -> fmt::Result {
    write!(f, "[")?;
    for (k, cmd) in cmds.iter().enumerate() {
        let sep = if k == 0 { "" } else { ", " };
        write!(f, "{sep}{}:{}", first_slot + k as LogIndex, ShortCommand(cmd))?;
    }
    write!(f, "]")
}

/// `3` or `3-5`.
fn write_range(f: &mut fmt::Formatter<'_>, first: LogIndex, last: LogIndex) -> fmt::Result {
    if first == last {
        write!(f, "{first}")
    } else {
        write!(f, "{first}-{last}")
    }
}

/// `, missing_from:4}` or `}`.
fn write_missing(f: &mut fmt::Formatter<'_>, missing_from: Option<LogIndex>) -> fmt::Result {
    match missing_from {
        Some(slot) => write!(f, ", missing_from:{slot}}}"),
        None => write!(f, "}}"),
    }
}

/// A ballot as `bR.N`; the null ballot of a value learned without being accepted as `b0`.
pub(crate) struct ShortBallot(pub(crate) Epoch);

impl fmt::Display for ShortBallot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.owner {
            Some(_) => write!(f, "{}", self.0),
            None => write!(f, "b{}", self.0.round),
        }
    }
}

/// A command in a few characters: `noop`, `x=1` (put), `get(x)`, `cas(x:1->2)`.
pub(crate) struct ShortCommand<'a>(pub(crate) &'a Command);

impl fmt::Display for ShortCommand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Command::Noop => write!(f, "noop"),
            Command::Client(c) => match &*c.op {
                Op::Put { key, value } => write!(f, "{key}={value}"),
                Op::Get { key } => write!(f, "get({key})"),
                Op::Cas { key, expected, new } => {
                    write!(f, "cas({key}:{}->{new})", expected.as_deref().unwrap_or("-"))
                }
            },
        }
    }
}

impl WireSize for Message {
    fn wire_size(&self) -> usize {
        // postcard writes the variant index as a varint; eleven variants fit in one byte.
        1 + match self {
            Message::Prepare(m) | Message::PrePrepare(m) => m.ballot.wire_size() + m.from_slot.wire_size(),
            Message::Promise(m) => {
                m.ballot.wire_size()
                    + m.chosen_upto.wire_size()
                    + m.accepted.wire_size()
                    + 1
                    + m.snapshot
                        .as_ref()
                        .map_or(0, |s| s.upto.wire_size() + s.image.wire_size())
                    + m.part.wire_size()
                    + m.parts.wire_size()
            }
            Message::PrePromise(m) => m.ballot.wire_size() + m.granted.wire_size() + m.promised.wire_size(),
            Message::Nack(m) => m.ballot.wire_size() + m.promised.wire_size(),
            Message::Accept(m) => {
                m.ballot.wire_size()
                    + m.first_slot.wire_size()
                    + m.cmds.wire_size()
                    + m.chosen_upto.wire_size()
            }
            Message::Accepted(m) => {
                m.ballot.wire_size()
                    + m.first_slot.wire_size()
                    + m.last_slot.wire_size()
                    + m.chosen_upto.wire_size()
                    + m.missing_from.wire_size()
            }
            Message::Heartbeat(m) => m.ballot.wire_size() + m.chosen_upto.wire_size(),
            Message::Confirm(m) | Message::ConfirmReply(m) => m.ballot.wire_size() + m.round.wire_size(),
            Message::HeartbeatReply(m) => m.ballot.wire_size() + m.chosen_upto.wire_size(),
            Message::Learn(m) => m.ballot.wire_size() + m.first_slot.wire_size() + m.cmds.wire_size(),
            Message::Learned(m) => {
                m.ballot.wire_size()
                    + m.last_slot.wire_size()
                    + m.chosen_upto.wire_size()
                    + m.missing_from.wire_size()
            }
            Message::LearnSnapshot(m) => {
                m.ballot.wire_size()
                    + m.upto.wire_size()
                    + m.offset.wire_size()
                    + m.size.wire_size()
                    + m.data.len().wire_size()
                    + m.data.len()
            }
            Message::LearnedSnapshot(m) => {
                m.ballot.wire_size() + m.upto.wire_size() + m.received.wire_size() + m.chosen_upto.wire_size()
            }
        }
    }
}

impl WireSize for PromisedSlot {
    fn wire_size(&self) -> usize {
        self.slot.wire_size() + self.ballot.wire_size() + self.chosen.wire_size() + self.cmd.wire_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::{NodeId, Op};

    fn postcard_len(m: &Message) -> usize {
        postcard::to_allocvec(m).expect("messages encode").len()
    }

    fn cmds() -> Vec<Command> {
        vec![
            Command::Noop,
            Command::client(
                42,
                70_000,
                Op::Put {
                    key: "user:1234".into(),
                    value: "v".repeat(200),
                },
            ),
            Command::client(
                u64::MAX,
                1,
                Op::Cas {
                    key: "k".into(),
                    expected: Some("old".into()),
                    new: "new".into(),
                },
            ),
            Command::client(9, 2, Op::Get { key: "k".into() }),
        ]
    }

    /// The simulator's byte counts use `wire_size`; the live runtime sends postcard. They
    /// must agree for every kind of message.
    #[test]
    fn wire_size_equals_postcard_length_for_every_message_kind() {
        let high = Epoch::ballot(1_000_000, NodeId(300));
        let low = Epoch::ballot(3, NodeId(0));
        let unowned = Epoch::default();
        let promised: Vec<PromisedSlot> = cmds()
            .into_iter()
            .enumerate()
            .map(|(i, cmd)| PromisedSlot {
                slot: 5_000_000 + i as u64,
                ballot: if i % 2 == 0 { low } else { high },
                chosen: i == 0,
                cmd,
            })
            .collect();
        let messages = [
            Message::Prepare(Prepare {
                ballot: high,
                from_slot: 123_456_789,
            }),
            Message::Promise(Promise {
                ballot: high,
                chosen_upto: 4_999_999,
                accepted: promised,
                part: 300,
                parts: 70_000,
                snapshot: Some(PromisedSnapshot {
                    upto: 4_000_000,
                    image: SnapshotImage::new(vec![7; 300]),
                }),
            }),
            Message::LearnSnapshot(LearnSnapshot {
                ballot: high,
                upto: 4_000_000,
                offset: 200_000,
                size: 300_000,
                data: vec![9; 200],
            }),
            Message::LearnedSnapshot(LearnedSnapshot {
                ballot: high,
                upto: 4_000_000,
                received: 200_200,
                chosen_upto: 3,
            }),
            Message::Promise(Promise {
                ballot: low,
                chosen_upto: 0,
                accepted: Vec::new(),
                part: 1,
                parts: 1,
                snapshot: None,
            }),
            Message::PrePrepare(Prepare {
                ballot: high,
                from_slot: 77,
            }),
            Message::PrePromise(PrePromise {
                ballot: high,
                granted: false,
                promised: low,
            }),
            Message::Nack(Nack {
                ballot: low,
                promised: high,
            }),
            Message::Nack(Nack {
                ballot: unowned,
                promised: low,
            }),
            Message::Accept(Accept {
                ballot: high,
                first_slot: 5_000_000,
                cmds: cmds(),
                chosen_upto: 4_999_990,
            }),
            Message::Accepted(Accepted {
                ballot: high,
                first_slot: 5_000_000,
                last_slot: 5_000_003,
                chosen_upto: 4_999_990,
                missing_from: None,
            }),
            Message::Accepted(Accepted {
                ballot: high,
                first_slot: 5_000_000,
                last_slot: 5_000_003,
                chosen_upto: 4_999_990,
                missing_from: Some(4_999_991),
            }),
            Message::Heartbeat(Heartbeat {
                ballot: low,
                chosen_upto: 0,
            }),
            Message::HeartbeatReply(HeartbeatReply {
                ballot: high,
                chosen_upto: 77_777,
            }),
            Message::Learn(Learn {
                ballot: high,
                first_slot: 1,
                cmds: cmds(),
            }),
            Message::Learned(Learned {
                ballot: high,
                last_slot: 64,
                chosen_upto: 64,
                missing_from: None,
            }),
            Message::Learned(Learned {
                ballot: high,
                last_slot: 200,
                chosen_upto: 64,
                missing_from: Some(65),
            }),
        ];
        for m in &messages {
            assert_eq!(m.wire_size(), postcard_len(m), "{m:?}");
        }
    }

    /// Every message formats on one line, with the fields a trace reader needs.
    #[test]
    fn every_message_kind_formats_on_one_line() {
        let b = Epoch::ballot(2, NodeId(1));
        let promise = Message::Promise(Promise {
            ballot: b,
            snapshot: None,
            chosen_upto: 1,
            accepted: vec![PromisedSlot {
                slot: 1,
                ballot: Epoch::ballot(1, NodeId(0)),
                chosen: true,
                cmd: Command::Noop,
            }],
            part: 2,
            parts: 3,
        });
        let pre_promise = Message::PrePromise(PrePromise {
            ballot: b,
            granted: false,
            promised: Epoch::ballot(3, NodeId(2)),
        });
        let accept = Message::Accept(Accept {
            ballot: b,
            first_slot: 2,
            cmds: vec![cmds()[0].clone(), cmds()[3].clone()],
            chosen_upto: 1,
        });
        let accepted = Message::Accepted(Accepted {
            ballot: b,
            first_slot: 2,
            last_slot: 3,
            chosen_upto: 1,
            missing_from: Some(1),
        });
        assert_eq!(
            [
                promise.to_string(),
                pre_promise.to_string(),
                accept.to_string(),
                accepted.to_string()
            ],
            [
                "Promise{ballot:b2.1, chosen_upto:1, accepted:[1:b1.0 noop chosen], part:2/3}",
                "PrePromise{ballot:b2.1, rejected, promised:b3.2}",
                "Accept{ballot:b2.1, slots:[2:noop, 3:get(k)], chosen_upto:1}",
                "Accepted{ballot:b2.1, slots:2-3, chosen_upto:1, missing_from:1}",
            ]
        );
    }
}
