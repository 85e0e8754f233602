//! The messages of Figure 2: the RequestVote and AppendEntries RPCs and their results, plus
//! the PreVote round of thesis §9.6.
//!
//! Raft's RPCs carry the sender's id (`candidateId`, `leaderId`); here the transport's `from`
//! carries it, so the structs leave it out. Every message carries the sender's `term`, which
//! the rule "if RPC request or response contains term T > currentTerm: set currentTerm = T,
//! convert to follower" (Figure 2, Rules for Servers) reads before anything else.

use crate::durable::Entry;
use replog::wire::WireSize;
use replog::{Command, LogIndex, Op};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A message between two Raft nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// Invoked by candidates to gather votes. Reference: Raft §5.2.
    RequestVote(RequestVote),
    /// The result of a RequestVote.
    RequestVoteResponse(RequestVoteResponse),
    /// Invoked by the leader to replicate log entries; also the heartbeat. Reference: Raft §5.3.
    AppendEntries(AppendEntries),
    /// The result of an AppendEntries.
    AppendEntriesResponse(AppendEntriesResponse),
    /// "Could I win an election for `term`?", asked before incrementing the term; `term` is
    /// the pre-candidate's `current_term + 1`. Reference: Raft thesis §9.6.
    PreVote(RequestVote),
    /// The answer to a PreVote: when granted, `term` echoes the term asked about.
    PreVoteResponse(RequestVoteResponse),
    /// Invoked by the leader to send a follower a chunk of its snapshot, when the entries
    /// the follower needs are compacted. Reference: Raft §7.
    InstallSnapshot(InstallSnapshot),
    /// The result of an InstallSnapshot.
    InstallSnapshotResponse(InstallSnapshotResponse),
    /// "Am I still your leader?": one confirmation round of ReadIndex, or a lease renewal
    /// (`read_path = "read_index"` or `"lease"` only). Reference: Raft thesis §6.4, §6.4.1.
    Confirm(Confirm),
    /// A follower of `term` acknowledges the round.
    ConfirmResponse(Confirm),
}

/// InstallSnapshot arguments (§7, Figure 13), with the image's total `size` so the follower
/// knows when the last chunk arrived (Figure 13's `done`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstallSnapshot {
    /// The leader's term.
    pub term: u64,
    /// The snapshot replaces all entries up through and including this index.
    pub last_included_index: LogIndex,
    /// Term of `last_included_index`.
    pub last_included_term: u64,
    /// Byte offset of this chunk in the image.
    pub offset: u64,
    /// The image's size in bytes.
    pub size: u64,
    /// Raw bytes of the chunk, starting at `offset` (at most `snapshot_chunk_bytes`).
    pub data: Vec<u8>,
}

/// InstallSnapshot results (§7, Figure 13's `term`), with what a chunked transfer needs: how
/// many bytes of the image the follower holds, and whether it installed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotResponse {
    /// `current_term`, for the leader to update itself.
    pub term: u64,
    /// The snapshot this answers.
    pub last_included_index: LogIndex,
    /// Bytes of the image the follower holds in order: the leader sends from here.
    pub received: u64,
    /// The follower's log now matches the leader's up to `last_included_index`.
    pub installed: bool,
}

/// A confirmation round (etcd sends it as a heartbeat with a context).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirm {
    /// The leader's term (in a response, the follower's).
    pub term: u64,
    /// The leader's round number, echoed in the response.
    pub round: u64,
}

/// RequestVote arguments (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVote {
    /// The candidate's term.
    pub term: u64,
    /// Index of the candidate's last log entry (§5.4).
    pub last_log_index: LogIndex,
    /// Term of the candidate's last log entry (§5.4).
    pub last_log_term: u64,
}

/// RequestVote results (Figure 2), with the term of the request answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteResponse {
    /// `current_term`, for the candidate to update itself.
    pub term: u64,
    /// True means the candidate received the vote.
    pub vote_granted: bool,
    /// The `term` of the RequestVote (or PreVote) this answers. Not in Figure 2: a node that
    /// refuses a request of an earlier term answers with its own, later `term`, which the
    /// candidate may by then have reached; this tells such a stale refusal from an answer to
    /// the candidate's current request, so only the latter is counted.
    pub request_term: u64,
}

/// AppendEntries arguments (Figure 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppendEntries {
    /// The leader's term.
    pub term: u64,
    /// Index of the log entry immediately preceding the new ones.
    pub prev_log_index: LogIndex,
    /// Term of the `prev_log_index` entry.
    pub prev_log_term: u64,
    /// Entries to store (empty for a heartbeat), at `prev_log_index + 1` onwards. At most
    /// `max_batch_entries` of them. Their commands share the leader's `Arc`s.
    pub entries: Vec<Entry>,
    /// The leader's `commit_index`.
    pub leader_commit: LogIndex,
}

/// AppendEntries results (Figure 2), with the fast-backtracking hint of §5.3, and the term
/// and index the leader needs to match a response to the request it answers when requests
/// are pipelined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesResponse {
    /// `current_term`, for the leader to update itself.
    pub term: u64,
    /// True if the follower contained an entry matching `prev_log_index` and `prev_log_term`.
    pub success: bool,
    /// On success, `prev_log_index + entries.len()`: the follower's log now matches the
    /// leader's up to here. On failure, the `prev_log_index` that was rejected.
    pub index: LogIndex,
    /// On failure with fast backtracking: the term of the follower's entry at
    /// `prev_log_index`, or 0 when the follower's log is shorter than that.
    pub conflict_term: u64,
    /// On failure with fast backtracking: the first index the follower holds for
    /// `conflict_term`, or its last index + 1 when its log is too short. 0 otherwise.
    pub conflict_index: LogIndex,
    /// The `term` of the AppendEntries this answers (see [`RequestVoteResponse::request_term`]):
    /// the leader acts only on answers to requests of its current term.
    pub request_term: u64,
}

impl Message {
    /// The sender's term, as every Raft message carries it.
    pub fn term(&self) -> u64 {
        match self {
            Message::RequestVote(m) | Message::PreVote(m) => m.term,
            Message::RequestVoteResponse(m) | Message::PreVoteResponse(m) => m.term,
            Message::AppendEntries(m) => m.term,
            Message::AppendEntriesResponse(m) => m.term,
            Message::InstallSnapshot(m) => m.term,
            Message::InstallSnapshotResponse(m) => m.term,
            Message::Confirm(m) | Message::ConfirmResponse(m) => m.term,
        }
    }

    /// Whether this asks for a vote (real or pre-vote).
    pub fn is_vote_request(&self) -> bool {
        matches!(self, Message::RequestVote(_) | Message::PreVote(_))
    }
}

/// One line per message, for traces and the interaction scripts
/// (`replog/testdata/interaction/`): `RequestVote{term:2, last_log:1@t1}`,
/// `AppendEntries{term:2, prev:1@t1, entries:[2@t2 noop], commit:1}`. `i@tT` is the entry
/// at index i of term T. (`paxos::Message` formats the same way.)
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::RequestVote(m) => write!(f, "RequestVote{m}"),
            Message::PreVote(m) => write!(f, "PreVote{m}"),
            Message::RequestVoteResponse(m) => write!(f, "RequestVoteResponse{m}"),
            Message::PreVoteResponse(m) => write!(f, "PreVoteResponse{m}"),
            Message::Confirm(m) => write!(f, "Confirm{{term:{}, round:{}}}", m.term, m.round),
            Message::ConfirmResponse(m) => write!(f, "ConfirmResponse{{term:{}, round:{}}}", m.term, m.round),
            Message::AppendEntries(m) => {
                write!(
                    f,
                    "AppendEntries{{term:{}, prev:{}@t{}, entries:[",
                    m.term, m.prev_log_index, m.prev_log_term
                )?;
                for (k, e) in m.entries.iter().enumerate() {
                    let sep = if k == 0 { "" } else { ", " };
                    write!(
                        f,
                        "{sep}{}@t{} {}",
                        m.prev_log_index + 1 + k as LogIndex,
                        e.term,
                        ShortCommand(&e.cmd)
                    )?;
                }
                write!(f, "], commit:{}}}", m.leader_commit)
            }
            Message::AppendEntriesResponse(m) => {
                if m.success {
                    write!(f, "AppendEntriesResponse{{term:{}, ok, index:{}", m.term, m.index)?;
                } else if (m.conflict_term, m.conflict_index) == (0, 0) {
                    write!(
                        f,
                        "AppendEntriesResponse{{term:{}, reject, index:{}",
                        m.term, m.index
                    )?;
                } else {
                    write!(
                        f,
                        "AppendEntriesResponse{{term:{}, reject, index:{}, hint:{}@t{}",
                        m.term, m.index, m.conflict_index, m.conflict_term
                    )?;
                }
                write_request_term(f, m.term, m.request_term)
            }
            Message::InstallSnapshot(m) => write!(
                f,
                "InstallSnapshot{{term:{}, last:{}@t{}, bytes:{}..{} of {}}}",
                m.term,
                m.last_included_index,
                m.last_included_term,
                m.offset,
                m.offset + m.data.len() as u64,
                m.size
            ),
            Message::InstallSnapshotResponse(m) => write!(
                f,
                "InstallSnapshotResponse{{term:{}, last:{}, received:{}{}}}",
                m.term,
                m.last_included_index,
                m.received,
                if m.installed { ", installed" } else { "" }
            ),
        }
    }
}

/// `, for:tR}` when the answer is to a request of another term R than its own, else `}`.
fn write_request_term(f: &mut fmt::Formatter<'_>, term: u64, request_term: u64) -> fmt::Result {
    if request_term == term {
        write!(f, "}}")
    } else {
        write!(f, ", for:t{request_term}}}")
    }
}

impl fmt::Display for RequestVote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{term:{}, last_log:{}@t{}}}",
            self.term, self.last_log_index, self.last_log_term
        )
    }
}

impl fmt::Display for RequestVoteResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let answer = if self.vote_granted { "granted" } else { "rejected" };
        write!(f, "{{term:{}, {answer}", self.term)?;
        write_request_term(f, self.term, self.request_term)
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
        // postcard writes the variant index as a varint; eight variants fit in one byte.
        1 + match self {
            Message::RequestVote(m) | Message::PreVote(m) => m.wire_size(),
            Message::RequestVoteResponse(m) | Message::PreVoteResponse(m) => m.wire_size(),
            Message::AppendEntries(m) => m.wire_size(),
            Message::AppendEntriesResponse(m) => m.wire_size(),
            Message::InstallSnapshot(m) => {
                m.term.wire_size()
                    + m.last_included_index.wire_size()
                    + m.last_included_term.wire_size()
                    + m.offset.wire_size()
                    + m.size.wire_size()
                    + m.data.len().wire_size()
                    + m.data.len()
            }
            Message::InstallSnapshotResponse(m) => {
                m.term.wire_size()
                    + m.last_included_index.wire_size()
                    + m.received.wire_size()
                    + m.installed.wire_size()
            }
            Message::Confirm(m) | Message::ConfirmResponse(m) => m.term.wire_size() + m.round.wire_size(),
        }
    }
}

impl WireSize for RequestVote {
    fn wire_size(&self) -> usize {
        self.term.wire_size() + self.last_log_index.wire_size() + self.last_log_term.wire_size()
    }
}

impl WireSize for RequestVoteResponse {
    fn wire_size(&self) -> usize {
        self.term.wire_size() + self.vote_granted.wire_size() + self.request_term.wire_size()
    }
}

impl WireSize for AppendEntries {
    fn wire_size(&self) -> usize {
        self.term.wire_size()
            + self.prev_log_index.wire_size()
            + self.prev_log_term.wire_size()
            + self.entries.wire_size()
            + self.leader_commit.wire_size()
    }
}

impl WireSize for AppendEntriesResponse {
    fn wire_size(&self) -> usize {
        self.term.wire_size()
            + self.success.wire_size()
            + self.index.wire_size()
            + self.conflict_term.wire_size()
            + self.conflict_index.wire_size()
            + self.request_term.wire_size()
    }
}

impl WireSize for Entry {
    fn wire_size(&self) -> usize {
        self.term.wire_size() + self.cmd.wire_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::{Command, Op};

    fn postcard_len(m: &Message) -> usize {
        postcard::to_allocvec(m).expect("messages encode").len()
    }

    fn entries() -> Vec<Entry> {
        vec![
            Entry {
                term: 7,
                cmd: Command::Noop,
            },
            Entry {
                term: 300,
                cmd: Command::client(
                    42,
                    70_000,
                    Op::Put {
                        key: "user:1234".into(),
                        value: "v".repeat(200),
                    },
                ),
            },
            Entry {
                term: 300,
                cmd: Command::client(
                    u64::MAX,
                    1,
                    Op::Cas {
                        key: "k".into(),
                        expected: Some("old".into()),
                        new: "new".into(),
                    },
                ),
            },
            Entry {
                term: 300,
                cmd: Command::client(9, 2, Op::Get { key: "k".into() }),
            },
        ]
    }

    /// The simulator's byte counts use `wire_size`; the live runtime sends postcard. They
    /// must agree for every kind of message.
    #[test]
    fn wire_size_equals_postcard_length_for_every_message_kind() {
        let vote = RequestVote {
            term: 1_000,
            last_log_index: 123_456_789,
            last_log_term: 999,
        };
        let vote_response = RequestVoteResponse {
            term: 1_000,
            vote_granted: true,
            request_term: 1_000,
        };
        let messages = [
            Message::RequestVote(vote.clone()),
            Message::RequestVoteResponse(vote_response.clone()),
            Message::InstallSnapshot(InstallSnapshot {
                term: 300,
                last_included_index: 4_000_000,
                last_included_term: 299,
                offset: 200_000,
                size: 300_000,
                data: vec![5; 200],
            }),
            Message::InstallSnapshotResponse(InstallSnapshotResponse {
                term: 300,
                last_included_index: 4_000_000,
                received: 200_200,
                installed: true,
            }),
            Message::PreVote(vote),
            Message::PreVoteResponse(RequestVoteResponse {
                term: 0,
                vote_granted: false,
                request_term: 1,
            }),
            Message::AppendEntries(AppendEntries {
                term: 300,
                prev_log_index: 5_000_000,
                prev_log_term: 299,
                entries: entries(),
                leader_commit: 4_999_990,
            }),
            Message::AppendEntries(AppendEntries {
                term: 3,
                prev_log_index: 0,
                prev_log_term: 0,
                entries: Vec::new(),
                leader_commit: 0,
            }),
            Message::AppendEntriesResponse(AppendEntriesResponse {
                term: 300,
                success: true,
                index: 5_000_004,
                conflict_term: 0,
                conflict_index: 0,
                request_term: 300,
            }),
            Message::AppendEntriesResponse(AppendEntriesResponse {
                term: 300,
                success: false,
                index: 5_000_000,
                conflict_term: 17,
                conflict_index: 4_000_001,
                request_term: 299,
            }),
        ];
        for m in &messages {
            assert_eq!(m.wire_size(), postcard_len(m), "{m:?}");
        }
    }

    /// Every message formats on one line, with the fields a trace reader needs.
    #[test]
    fn every_message_kind_formats_on_one_line() {
        let append = Message::AppendEntries(AppendEntries {
            term: 300,
            prev_log_index: 3,
            prev_log_term: 299,
            entries: vec![entries()[0].clone(), entries()[3].clone()],
            leader_commit: 2,
        });
        let reject = Message::AppendEntriesResponse(AppendEntriesResponse {
            term: 300,
            success: false,
            index: 3,
            conflict_term: 17,
            conflict_index: 2,
            request_term: 300,
        });
        let vote = Message::PreVote(RequestVote {
            term: 2,
            last_log_index: 1,
            last_log_term: 1,
        });
        let stale_refusal = Message::RequestVoteResponse(RequestVoteResponse {
            term: 2,
            vote_granted: false,
            request_term: 1,
        });
        assert_eq!(
            [
                append.to_string(),
                reject.to_string(),
                vote.to_string(),
                stale_refusal.to_string()
            ],
            [
                "AppendEntries{term:300, prev:3@t299, entries:[4@t7 noop, 5@t300 get(k)], commit:2}",
                "AppendEntriesResponse{term:300, reject, index:3, hint:2@t17}",
                "PreVote{term:2, last_log:1@t1}",
                "RequestVoteResponse{term:2, rejected, for:t1}",
            ]
        );
    }
}
