//! Figure 2's receiver rules, one test per rule, on a single node: feed it one message and
//! assert on the actions it emits (openraft's habit), not on private fields. The
//! counterpart of multi-Paxos's `paxos/tests/acceptor_rules.rs`.

mod common;

use common::*;
use raft::{AppendEntries, AppendEntriesResponse, Entry, Message, RaftNode, Record, RequestVote};
use replog::{Action, Command, LogIndex, NodeId, ProtocolConfig, ReplicatedLog};

const LEADER: NodeId = NodeId(1);
const ME: NodeId = NodeId(0);
type Actions = Vec<Action<Message, Record>>;

/// A follower in term 3 whose log has one entry per term in `terms` (client commands).
fn follower(terms: &[u64]) -> RaftNode {
    let members = [NodeId(0), NodeId(1), NodeId(2)];
    let entries = terms
        .iter()
        .enumerate()
        .map(|(i, &term)| Entry {
            term,
            cmd: put(term, i as u64 + 1),
        })
        .collect();
    let records = vec![
        Record::TermAndVote {
            current_term: 3,
            voted_for: None,
        },
        Record::Entries {
            first_index: 1,
            entries,
        },
    ];
    RaftNode::boot(ME, &members, &ProtocolConfig::default(), records, 1)
}

fn step(node: &mut RaftNode, from: NodeId, msg: Message) -> Actions {
    node.step(0, from, msg);
    let mut out = Vec::new();
    node.take_actions(&mut out);
    out
}

fn append(prev_log_index: LogIndex, prev_log_term: u64, terms: &[u64], leader_commit: LogIndex) -> Message {
    Message::AppendEntries(AppendEntries {
        term: 3,
        prev_log_index,
        prev_log_term,
        entries: terms
            .iter()
            .map(|&term| Entry {
                term,
                cmd: Command::Noop,
            })
            .collect(),
        leader_commit,
    })
}

/// The AppendEntriesResponse among `actions`, with the persist it waits for.
fn response(actions: &Actions) -> (AppendEntriesResponse, Option<u64>) {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Send {
                msg: Message::AppendEntriesResponse(r),
                after,
                ..
            } => Some((r.clone(), *after)),
            _ => None,
        })
        .expect("an AppendEntriesResponse")
}

fn commits(actions: &Actions) -> Vec<LogIndex> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Commit { index, .. } => Some(*index),
            _ => None,
        })
        .collect()
}

/// Rule 1: reply false if term < currentTerm. Reference: Raft §5.1, Figure 2.
#[test]
fn append_entries_from_an_earlier_term_is_refused_with_the_current_term() {
    let mut node = follower(&[1, 1]);
    let mut ae = append(2, 1, &[], 0);
    if let Message::AppendEntries(a) = &mut ae {
        a.term = 2;
    }
    let (r, _) = response(&step(&mut node, LEADER, ae));
    assert_eq!((r.success, r.term), (false, 3));
}

/// Rule 2: reply false if the log has no entry at prevLogIndex whose term matches
/// prevLogTerm; the hint names the conflicting term and its first index (or the log's end).
/// Reference: Raft §5.3, Figure 2.
#[test]
fn consistency_check_failures_carry_the_fast_backtracking_hint() {
    let cases = [
        // (follower log, prev_log_index, prev_log_term) -> (conflict_term, conflict_index)
        ((&[1, 1, 2, 2][..], 6, 3), (0, 5)), // too short
        ((&[1, 1, 2, 2][..], 4, 3), (2, 3)), // term 2 at index 4, from index 3
        ((&[1, 1, 2, 2][..], 2, 2), (1, 1)), // term 1 at index 2, from index 1
    ];
    for ((log, prev, prev_term), want) in cases {
        let mut node = follower(log);
        let (r, _) = response(&step(&mut node, LEADER, append(prev, prev_term, &[3], 0)));
        assert_eq!(
            (r.success, r.index, (r.conflict_term, r.conflict_index)),
            (false, prev, want),
            "log {log:?}, prev ({prev}, {prev_term})"
        );
    }
}

/// Rule 3: an existing entry that conflicts with a new one is deleted with all that follow
/// it, but a matching prefix (a stale or duplicated request) deletes nothing.
/// Reference: Raft §5.3, Figure 2.
#[test]
fn only_conflicting_entries_are_truncated() {
    let mut node = follower(&[1, 1, 2, 2, 2]);
    step(&mut node, LEADER, append(1, 1, &[1], 0));
    let kept = node.log().terms();
    step(&mut node, LEADER, append(2, 1, &[3], 0));
    assert_eq!((kept, node.log().terms()), (vec![1, 1, 2, 2, 2], vec![1, 1, 3]));
}

/// Rule 5: commitIndex = min(leaderCommit, index of last new entry). A follower whose log
/// runs past what this request verified must not commit those entries, even when the
/// leader's commit index covers their indices. Reference: Raft §5.3, Figure 2.
#[test]
fn follower_commits_only_up_to_the_last_entry_the_request_verified() {
    let mut node = follower(&[1, 1, 1, 2, 2]);
    // A heartbeat at prev_log_index 3 (the leader's match index for this follower) while
    // the leader has committed index 5 of its own (term 3) log.
    let actions = step(&mut node, LEADER, append(3, 1, &[], 5));
    assert_eq!(commits(&actions), vec![1, 2, 3]);
}

/// A follower acknowledges new entries only once they are durable: its success waits for
/// the persist that writes them. Reference: Raft §5.3; replog's durability rule.
#[test]
fn success_waits_for_the_persist_of_the_new_entries() {
    let mut node = follower(&[1]);
    let actions = step(&mut node, LEADER, append(1, 1, &[3, 3], 0));
    let persist_seq = actions.iter().find_map(|a| match a {
        Action::Persist { seq, .. } => Some(*seq),
        _ => None,
    });
    let (r, after) = response(&actions);
    assert_eq!((r.success, r.index, after), (true, 3, persist_seq));
}

/// A vote is granted once per term and only after its record is durable.
/// Reference: Raft §5.2, Figure 2 (RequestVote receiver).
#[test]
fn a_vote_grant_waits_for_the_persist_of_the_vote() {
    let mut node = follower(&[1]);
    let req = RequestVote {
        term: 4,
        last_log_index: 1,
        last_log_term: 1,
    };
    let actions = step(&mut node, NodeId(2), Message::RequestVote(req.clone()));
    let persisted_vote = actions.iter().find_map(|a| match a {
        Action::Persist { seq, records }
            if records.contains(&Record::TermAndVote {
                current_term: 4,
                voted_for: Some(NodeId(2)),
            }) =>
        {
            Some(*seq)
        }
        _ => None,
    });
    let granted_after = actions.iter().find_map(|a| match a {
        Action::Send {
            msg: Message::RequestVoteResponse(r),
            after,
            ..
        } if r.vote_granted => Some(*after),
        _ => None,
    });
    let second = step(&mut node, LEADER, Message::RequestVote(req));
    let second_granted = second
        .iter()
        .any(|a| matches!(a, Action::Send { msg: Message::RequestVoteResponse(r), .. } if r.vote_granted));
    assert_eq!(
        (persisted_vote.is_some(), granted_after, second_granted),
        (true, Some(persisted_vote), false)
    );
}

/// The leader's parallel fsync: a proposal's Persist and its AppendEntries go out together,
/// the sends not waiting for the persist. Reference: Raft §10.2.1.
#[test]
fn a_leader_sends_new_entries_without_waiting_for_its_own_fsync() {
    let cfg = ProtocolConfig::default();
    let mut net = replog::testkit::Network::<RaftNode>::new(3, cfg, 1);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let now_ns = net.now();
    let node = net.node_mut(leader).expect("up");
    node.propose(now_ns, put(1, 1)).expect("leader");
    let mut out = Vec::new();
    node.take_actions(&mut out);
    net.drain(leader);
    let persists = out.iter().filter(|a| matches!(a, Action::Persist { .. })).count();
    let sends_after: Vec<_> = out
        .iter()
        .filter_map(|a| match a {
            Action::Send {
                msg: Message::AppendEntries(ae),
                after,
                ..
            } if !ae.entries.is_empty() => Some(*after),
            _ => None,
        })
        .collect();
    assert_eq!((persists, sends_after), (1, vec![None, None]));
}
