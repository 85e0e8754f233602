//! The equalisations with Raft (issue 15): mechanisms Raft has that multi-Paxos got in the
//! same form, so that a measured difference between the two comes from the designs. Each
//! test that a `ProtocolConfig::ablation` switch undoes has its control beside it: the same
//! schedule with the switch on fails the property, so the test can fail.
//!
//! - cumulative acknowledgements (Raft §5.3, matchIndex);
//! - stall recovery: a window presumed lost is refilled whole from the last acknowledged
//!   slot, as Raft restarts from `match_index + 1`;
//! - one timer policy: the timeout is drawn per role change and kept while following
//!   (Raft §5.2);
//! - hygiene: heartbeats raise the promise durably, an empty `Accept` or `Learn` changes
//!   nothing, every reply waits for what it reports to be durable, promises come in bounded
//!   parts.
//!
//! Leader stickiness (pre-prepare and the quorum check) is in `prevote_checkquorum.rs`, as
//! Raft's PreVote and CheckQuorum are.

mod common;

use common::*;
use paxos::msg::{Accept, Heartbeat, Learn, PROMISE_MAX_SLOTS, Prepare};
use paxos::{Message, PaxosNode, Record};
use replog::testkit::Network;
use replog::{Ablation, Action, Epoch, LogIndex, Nanos, NodeId, ProtocolConfig, ReplicatedLog, Role};
use std::collections::BTreeSet;

/// One slot per message, `ablation` as given.
fn config(ablation: Ablation) -> ProtocolConfig {
    ProtocolConfig {
        max_batch_entries: 1,
        max_inflight_msgs: 4,
        ablation,
        ..ProtocolConfig::default()
    }
}

/// A settled cluster of three; returns it, the leader and one follower.
fn three(ablation: Ablation, seed: u64) -> (Network<PaxosNode>, NodeId, NodeId) {
    let (net, leader) = settled(3, config(ablation), seed);
    let follower = *net.members().iter().find(|&&m| m != leader).expect("3 nodes");
    (net, leader, follower)
}

/// The leader is cut off from its other follower, so `follower`'s acceptances decide. The
/// follower's answer to the first of two one-slot accepts is lost, the second arrives; no
/// time passes (no heartbeat, no stall). Returns how far the leader's log is chosen and the
/// second slot.
fn lose_the_first_of_two_answers(ablation: Ablation) -> (LogIndex, LogIndex) {
    let (mut net, leader, follower) = three(ablation, 3);
    let other = *net
        .members()
        .iter()
        .find(|&&m| m != leader && m != follower)
        .expect("3 nodes");
    net.cut(leader, other);
    let first = paxos(&net, leader).log().last_slot() + 1;
    net.set_filter(
        move |from, _, m| matches!(m, Message::Accepted(a) if from == follower && a.last_slot == first),
    );
    net.propose(leader, put(1, 1)).expect("leader");
    net.propose(leader, put(1, 2)).expect("leader");
    net.deliver_all();
    (paxos(&net, leader).log().chosen_upto(), first + 1)
}

/// An answer that reports no gap says the acceptor holds every slot up to the message's
/// last one at this ballot, durably: it acknowledges all of them, so a lost answer costs
/// nothing once a later one arrives. Reference: Raft §5.3 (an AppendEntries success covers
/// every entry up to its index), applied alike.
#[test]
fn an_answer_without_a_gap_acknowledges_every_slot_before_it() {
    let (chosen, second) = lose_the_first_of_two_answers(Ablation::default());
    assert_eq!(chosen, second);
}

/// The control: with per-message acknowledgements the first slot waits for a resend.
#[test]
fn with_per_message_acks_a_lost_answer_holds_its_slot_back() {
    let ablation = Ablation {
        paxos_per_message_acks: true,
        ..Ablation::default()
    };
    let (chosen, second) = lose_the_first_of_two_answers(ablation);
    assert!(chosen < second - 1, "chosen up to {chosen}");
}

/// The slots of every `Accept` and `Learn` queued from `from` to `to`, in queue order.
fn queued_slots(net: &Network<PaxosNode>, from: NodeId, to: NodeId) -> Vec<LogIndex> {
    let mut slots = Vec::new();
    for (f, t, m) in net.queued() {
        let (first, n) = match m {
            Message::Accept(a) => (a.first_slot, a.cmds.len()),
            Message::Learn(l) => (l.first_slot, l.cmds.len()),
            _ => continue,
        };
        if (*f, *t) == (from, to) {
            slots.extend(first..first + n as LogIndex);
        }
    }
    slots
}

/// Every one-slot accept of three to `follower` is lost while its heartbeats get through
/// (it is answering). Time then moves heartbeat by heartbeat, firing timers without
/// delivering anything, until the leader resends: returns the resent slots and the three
/// slots proposed.
fn stall_a_window(ablation: Ablation) -> (Vec<LogIndex>, Vec<LogIndex>) {
    let (mut net, leader, follower) = three(ablation, 5);
    let interval_ns = config(ablation).heartbeat_interval_ns;
    let first = paxos(&net, leader).log().last_slot() + 1;
    net.set_filter(move |from, to, m| matches!(m, Message::Accept(_)) && (from, to) == (leader, follower));
    for seq in 1..=3 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.deliver_all();
    net.heal();
    for _ in 0..3 {
        net.advance(interval_ns);
        let resent = queued_slots(&net, leader, follower);
        if !resent.is_empty() {
            return (resent, (first..first + 3).collect());
        }
    }
    (Vec::new(), (first..first + 3).collect())
}

/// A window whose oldest message went unanswered for a heartbeat interval is presumed lost
/// and resent whole, from the slot after the last one the follower acknowledged, when the
/// follower is answering. Reference: Raft §5.3 (the leader retries from `nextIndex`), as
/// Raft's `reset_window`, applied alike.
#[test]
fn a_stalled_window_is_refilled_whole_from_the_last_acknowledged_slot() {
    let (resent, proposed) = stall_a_window(Ablation::default());
    assert_eq!(resent, proposed);
}

/// The control: probing after the stall resends one message, and the rest only after its
/// answer comes back (a round trip per message).
#[test]
fn with_probe_after_stall_a_stalled_window_restarts_one_message_at_a_time() {
    let ablation = Ablation {
        paxos_probe_after_stall: true,
        ..Ablation::default()
    };
    let (resent, proposed) = stall_a_window(ablation);
    assert_eq!(resent, proposed[..1]);
}

/// The follower's failure-detector timeout right after each of five heartbeats it receives
/// (how long it would wait for the next one).
fn timeouts_while_following(ablation: Ablation) -> BTreeSet<Nanos> {
    let (mut net, leader, follower) = three(ablation, 7);
    let mut seen = BTreeSet::new();
    let mut heartbeats = 0;
    while heartbeats < 5 && net.now() < 10 * SEC {
        net.advance_to_next_deadline();
        let heartbeat = net
            .queued()
            .any(|(f, t, m)| (*f, *t) == (leader, follower) && matches!(m, Message::Heartbeat(_)));
        net.deliver_all();
        if heartbeat {
            heartbeats += 1;
            let deadline_ns = paxos(&net, follower).next_deadline().expect("a timer");
            seen.insert(deadline_ns - net.now());
        }
    }
    seen
}

/// One timer policy for both protocols: a node draws its timeout on each change of role and
/// keeps it while it follows one leader; hearing from the leader restarts the timer with
/// the same draw. Reference: Raft §5.2 (and `raft/tests/leadership.rs`, the same test).
#[test]
fn a_follower_keeps_its_drawn_timeout_while_it_follows_one_leader() {
    assert_eq!(timeouts_while_following(Ablation::default()).len(), 1);
}

/// The control: redrawing at every reset gives a new timeout after every heartbeat.
#[test]
fn with_redraw_on_reset_every_heartbeat_draws_a_new_timeout() {
    let ablation = Ablation {
        paxos_redraw_timeout_on_reset: true,
        ..Ablation::default()
    };
    assert!(timeouts_while_following(ablation).len() > 1);
}

/// A `Persist` action: its sequence number and records.
type Persisted = (u64, Vec<Record>);
/// A `Send` action: the message and the persist it waits for.
type Sent = (Message, Option<u64>);

/// The records issued and the messages sent (with what each waits for) by `node` since
/// the last call.
fn take(node: &mut PaxosNode) -> (Vec<Persisted>, Vec<Sent>) {
    let mut actions = Vec::new();
    node.take_actions(&mut actions);
    let (mut persists, mut sends) = (Vec::new(), Vec::new());
    for a in actions {
        match a {
            Action::Persist { seq, records } | Action::Checkpoint { seq, records } => {
                persists.push((seq, records))
            }
            Action::Send { msg, after, .. } => sends.push((msg, after)),
            Action::Commit { .. }
            | Action::Restore { .. }
            | Action::ReadReady { .. }
            | Action::ReadAborted { .. } => {}
        }
    }
    (persists, sends)
}

/// A heartbeat of a ballot above the promise raises it, as an accept does, and durably: the
/// reply waits for the `Promised` record. Its leader completed phase 1, so lower ballots are
/// finished. Reference: Paxos Made Simple §2.2 (phase 2(b) raises the promise), §2.5; Raft
/// §5.1 (an AppendEntries of a higher term raises the term), applied alike.
#[test]
fn a_heartbeat_of_a_higher_ballot_raises_the_promise_durably() {
    let mut node = boot(N1, 3, Vec::new());
    let ballot = Epoch::ballot(4, N0);
    node.step(
        0,
        N0,
        Message::Heartbeat(Heartbeat {
            ballot,
            chosen_upto: 0,
        }),
    );
    let (persists, sends) = take(&mut node);
    let promise_seq = persists
        .iter()
        .find(|(_, records)| records.contains(&Record::Promised { ballot }))
        .map(|(seq, _)| *seq);
    let reply_after = sends
        .iter()
        .find(|(m, _)| matches!(m, Message::HeartbeatReply(_)))
        .and_then(|(_, after)| *after);
    assert_eq!(
        (node.promised(), promise_seq.is_some(), reply_after),
        (ballot, true, promise_seq)
    );
}

/// An `Accept` or `Learn` without slots proposes and teaches nothing, so it changes
/// nothing: not the promise, not the failure detector, and it is not answered. (A leader
/// never sends one.)
#[test]
fn an_empty_accept_or_learn_changes_nothing() {
    let mut node = boot(N1, 3, Vec::new());
    node.tick(0);
    let deadline = node.next_deadline();
    let ballot = Epoch::ballot(9, N2);
    node.step(
        SEC / 10,
        N2,
        Message::Accept(Accept {
            ballot,
            first_slot: 1,
            cmds: Vec::new(),
            chosen_upto: 0,
        }),
    );
    node.step(
        SEC / 10,
        N2,
        Message::Learn(Learn {
            ballot,
            first_slot: 1,
            cmds: Vec::new(),
        }),
    );
    let (persists, sends) = take(&mut node);
    assert_eq!(
        (node.promised(), node.next_deadline(), persists.len(), sends.len()),
        (Epoch::default(), deadline, 0, 0)
    );
}

/// A `Learned` reply reports what the learner now holds, so it waits for the write that
/// records it, like every other reply. Reference: Paxos Made Simple §2.5.
#[test]
fn a_learned_reply_waits_for_its_write() {
    let mut node = boot(N1, 3, Vec::new());
    node.step(
        0,
        N0,
        Message::Learn(Learn {
            ballot: Epoch::ballot(1, N0),
            first_slot: 1,
            cmds: vec![put(1, 1)],
        }),
    );
    let (persists, sends) = take(&mut node);
    let last_seq = persists.last().map(|(seq, _)| *seq);
    let learned_after = sends
        .iter()
        .find(|(m, _)| matches!(m, Message::Learned(_)))
        .and_then(|(_, after)| *after);
    assert_eq!((last_seq.is_some(), learned_after), (true, last_seq));
}

/// An acceptor holding `slots` accepted values (one record) at ballot 1 of N2.
fn acceptor_with(id: NodeId, slots: u64) -> PaxosNode {
    let cmds = (1..=slots).map(|s| put(2, s)).collect();
    boot(
        id,
        3,
        vec![Record::Accepted {
            ballot: Epoch::ballot(1, N2),
            first_slot: 1,
            cmds,
        }],
    )
}

/// The promise `acceptor` sends for `ballot`, part by part.
fn promise_parts(acceptor: &mut PaxosNode, ballot: Epoch) -> Vec<paxos::msg::Promise> {
    acceptor.step(0, N0, Message::Prepare(Prepare { ballot, from_slot: 1 }));
    take(acceptor)
        .1
        .into_iter()
        .filter_map(|(m, _)| match m {
            Message::Promise(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// A long suffix (a candidate far behind) is promised in parts of at most
/// `PROMISE_MAX_SLOTS` values, so no promise becomes one giant frame; together they report
/// every value. Reference: TigerBeetle's explicit bounds (the style guide); Paxos Made
/// Simple §2.2 phase 1(b) for what a promise reports.
#[test]
fn a_long_suffix_is_promised_in_bounded_parts() {
    let slots = 2 * PROMISE_MAX_SLOTS as u64 + 500;
    let parts = promise_parts(&mut acceptor_with(N1, slots), Epoch::ballot(2, N0));
    let sizes: Vec<usize> = parts.iter().map(|p| p.accepted.len()).collect();
    let numbered: Vec<(u32, u32)> = parts.iter().map(|p| (p.part, p.parts)).collect();
    assert_eq!(
        (sizes, numbered),
        (
            vec![PROMISE_MAX_SLOTS, PROMISE_MAX_SLOTS, 500],
            vec![(1, 3), (2, 3), (3, 3)]
        )
    );
}

/// A candidate counts an acceptor's promise only once every part is in (it must adopt every
/// reported value before proposing), and then recovers all of them. Reference: Paxos Made
/// Simple §2.2 phase 2(a).
#[test]
fn a_candidate_counts_a_promise_only_once_every_part_is_in() {
    let slots = 2 * PROMISE_MAX_SLOTS as u64 + 500;
    // It has seen ballot 1 of N2 (the acceptor's), so its own goes above it.
    let seen = Record::Promised {
        ballot: Epoch::ballot(1, N2),
    };
    let mut candidate = boot(N0, 3, vec![seen]);
    candidate.start_phase1(0);
    let (persists, _) = take(&mut candidate);
    let own_promise = persists.last().expect("the candidate's promise").0;
    candidate.persisted(0, own_promise);
    let ballot = candidate.promised();
    let mut parts = promise_parts(&mut acceptor_with(N1, slots), ballot);
    let last = parts.pop().expect("three parts");
    for p in parts {
        candidate.step(0, N1, Message::Promise(p));
    }
    let before_last = candidate.status().role;
    candidate.step(0, N1, Message::Promise(last));
    assert_eq!(
        (before_last, candidate.status().role, candidate.log().last_slot()),
        (Role::Candidate, Role::Leader, slots)
    );
}
