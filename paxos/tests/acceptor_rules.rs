//! The acceptor's and learner's rules, one test per rule, on a single node: feed it one
//! message and assert on the actions it emits (openraft's habit), not on private fields.
//! The counterpart of Raft's `raft/tests/receiver_rules.rs`: Paxos Made Simple §2.2 (phase
//! 1(b) and phase 2(b)) and §2.3 (learning), and the rules multi-Paxos adds per slot (§3).
//!
//! The node under test is n0 of three; n1 leads ballot b2.1 (round 2 of node 1) unless a
//! test says otherwise.

mod common;

use common::*;
use paxos::msg::{Accept, Accepted, Heartbeat, Learn, Learned, Prepare, Promise};
use paxos::{Message, PaxosNode, Record};
use replog::{Action, Command, Epoch, LogIndex, NodeId, ProtocolConfig, ReplicatedLog};

type Actions = Vec<Action<Message, Record>>;

fn b(round: u64, node: u32) -> Epoch {
    Epoch::ballot(round, NodeId(node))
}

/// The leader's ballot in most tests.
fn b21() -> Epoch {
    b(2, 1)
}

/// n0, having promised `promised` and accepted `cmds[i]` in slot `first + i` at the ballot
/// given with each (slot, ballot, command), booted from those records.
fn acceptor(promised: Epoch, accepted: &[(LogIndex, Epoch, Command)]) -> PaxosNode {
    let mut records = vec![Record::Promised { ballot: promised }];
    for (slot, ballot, cmd) in accepted {
        records.push(Record::Accepted {
            ballot: *ballot,
            first_slot: *slot,
            cmds: vec![cmd.clone()],
        });
    }
    let mut node = boot(N0, 3, records);
    node.take_actions(&mut Vec::new()); // the commits of the durable chosen prefix, if any
    node
}

fn step(node: &mut PaxosNode, from: NodeId, msg: Message) -> Actions {
    node.step(0, from, msg);
    let mut out = Vec::new();
    node.take_actions(&mut out);
    out
}

/// The messages among `actions`, each with the persist it waits for.
fn sends(actions: &Actions) -> Vec<(Message, Option<u64>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { msg, after, .. } => Some((msg.clone(), *after)),
            _ => None,
        })
        .collect()
}

/// The one message sent, with the persist it waits for.
fn reply(actions: &Actions) -> (Message, Option<u64>) {
    let sent = sends(actions);
    assert_eq!(sent.len(), 1, "one reply: {sent:?}");
    sent.into_iter().next().expect("one")
}

/// The seq of the persist that writes a record `pick` accepts, if any.
fn persist_of(actions: &Actions, pick: impl Fn(&Record) -> bool) -> Option<u64> {
    actions.iter().find_map(|a| match a {
        Action::Persist { seq, records } if records.iter().any(&pick) => Some(*seq),
        _ => None,
    })
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

/// A message's kind, for tables.
fn kind(msg: &Message) -> &'static str {
    match msg {
        Message::Prepare(_) => "Prepare",
        Message::Promise(_) => "Promise",
        Message::Nack(_) => "Nack",
        Message::Accept(_) => "Accept",
        Message::Accepted(_) => "Accepted",
        Message::Heartbeat(_) => "Heartbeat",
        Message::HeartbeatReply(_) => "HeartbeatReply",
        Message::Learn(_) => "Learn",
        Message::Learned(_) => "Learned",
        Message::LearnSnapshot(_) => "LearnSnapshot",
        Message::LearnedSnapshot(_) => "LearnedSnapshot",
        Message::PrePrepare(_) => "PrePrepare",
        Message::PrePromise(_) => "PrePromise",
        Message::Confirm(_) => "Confirm",
        Message::ConfirmReply(_) => "ConfirmReply",
    }
}

fn accept(ballot: Epoch, first_slot: LogIndex, cmds: Vec<Command>, chosen_upto: LogIndex) -> Message {
    Message::Accept(Accept {
        ballot,
        first_slot,
        cmds,
        chosen_upto,
    })
}

/// Phase 1(b): an acceptor promises a ballot at least as high as its promise and refuses a
/// lower one with a Nack that names its promise (which tells the proposer to abandon its
/// proposal); the promise only ever rises. Ballots order by round, then node.
/// Reference: Paxos Made Simple §2.2 (phase 1(b), P1a, and the Nack optimisation).
#[test]
fn an_acceptor_promises_only_a_ballot_at_or_above_its_promise() {
    let cases = [
        // (prepare's ballot) -> (answer, promise afterwards)
        (b(1, 2), ("Nack", b21())),
        (b(2, 0), ("Nack", b21())),
        (b(2, 1), ("Promise", b21())),
        (b(2, 2), ("Promise", b(2, 2))),
        (b(3, 0), ("Promise", b(3, 0))),
    ];
    for (ballot, want) in cases {
        let mut node = acceptor(b21(), &[]);
        // The acceptor goes by the ballot alone, whoever delivers the request.
        let (msg, _) = reply(&step(
            &mut node,
            N2,
            Message::Prepare(Prepare { ballot, from_slot: 1 }),
        ));
        assert_eq!((kind(&msg), node.promised()), want, "prepare at {ballot:?}");
    }
}

/// Phase 1(b): the promise carries "the highest-numbered proposal (if any) that it has
/// accepted", for every slot from the prepare's `from_slot` on at once, each with its ballot
/// and whether it is known chosen; holes are left out. Reference: Paxos Made Simple §2.2
/// (phase 1(b)), §3 (phase 1 for infinitely many instances).
#[test]
fn a_promise_reports_every_value_accepted_from_the_first_slot_asked() {
    let (x, y, z) = (put(1, 1), put(1, 2), put(1, 3));
    let held = [
        (1, b(1, 0), x.clone()),
        (2, b21(), y.clone()),
        (4, b21(), z.clone()),
    ];
    let cases = [
        // (from_slot) -> (slot, ballot, command) reported
        (
            1,
            vec![
                (1, b(1, 0), x.clone()),
                (2, b21(), y.clone()),
                (4, b21(), z.clone()),
            ],
        ),
        (2, vec![(2, b21(), y.clone()), (4, b21(), z.clone())]),
        (3, vec![(4, b21(), z.clone())]),
        (5, vec![]),
    ];
    for (from_slot, want) in cases {
        let mut node = acceptor(b21(), &held);
        let prepare = Message::Prepare(Prepare {
            ballot: b(3, 2),
            from_slot,
        });
        let (msg, _) = reply(&step(&mut node, N2, prepare));
        let Message::Promise(Promise { accepted, .. }) = msg else {
            panic!("a promise: {msg:?}");
        };
        let got: Vec<_> = accepted.into_iter().map(|p| (p.slot, p.ballot, p.cmd)).collect();
        assert_eq!(got, want, "from slot {from_slot}");
    }
}

/// Phase 1(b): a value known chosen is reported as chosen, so the new leader keeps it
/// whatever the ballots say. Reference: Paxos Made Simple §2.3 (a chosen value is never
/// replaced), §3.
#[test]
fn a_promise_marks_the_values_known_chosen() {
    let mut node = boot(
        N0,
        3,
        vec![
            Record::Accepted {
                ballot: b(1, 0),
                first_slot: 1,
                cmds: vec![put(1, 1), put(1, 2)],
            },
            Record::ChosenUpto { upto: 1 },
        ],
    );
    node.take_actions(&mut Vec::new());
    let prepare = Message::Prepare(Prepare {
        ballot: b(3, 2),
        from_slot: 1,
    });
    let (msg, _) = reply(&step(&mut node, N2, prepare));
    let Message::Promise(Promise {
        chosen_upto,
        accepted,
        ..
    }) = msg
    else {
        panic!("a promise: {msg:?}");
    };
    let chosen: Vec<(LogIndex, bool)> = accepted.iter().map(|p| (p.slot, p.chosen)).collect();
    assert_eq!((chosen_upto, chosen), (1, vec![(1, true), (2, false)]));
}

/// Phase 1(b): the acceptor records its promise in stable storage before the promise
/// leaves. Reference: Paxos Made Simple §2.5 ("an acceptor records its intended response in
/// stable storage before actually sending the response").
#[test]
fn a_promise_waits_for_the_persist_of_the_promise() {
    let mut node = acceptor(b21(), &[]);
    let actions = step(
        &mut node,
        N2,
        Message::Prepare(Prepare {
            ballot: b(3, 2),
            from_slot: 1,
        }),
    );
    let written = persist_of(&actions, |r| *r == Record::Promised { ballot: b(3, 2) });
    let (_, after) = reply(&actions);
    assert_eq!((written.is_some(), after), (true, written));
}

/// Phase 2(b): an acceptor accepts a proposal unless it promised a higher ballot; accepting
/// raises its promise to the proposal's ballot. A refused accept gets a Nack and changes
/// nothing. Reference: Paxos Made Simple §2.2 (phase 2(b), P1a).
#[test]
fn an_acceptor_accepts_unless_it_promised_a_higher_ballot() {
    let cases = [
        // (accept's ballot) -> (answer, promise afterwards, value in slot 1)
        (b(1, 0), ("Nack", b21(), None)),
        (b(2, 1), ("Accepted", b21(), Some(b21()))),
        (b(3, 2), ("Accepted", b(3, 2), Some(b(3, 2)))),
    ];
    for (ballot, want) in cases {
        let mut node = acceptor(b21(), &[]);
        let (msg, _) = reply(&step(&mut node, N2, accept(ballot, 1, vec![put(1, 1)], 0)));
        let slot1 = node.log().get(1).map(|e| e.ballot);
        assert_eq!((kind(&msg), node.promised(), slot1), want, "accept at {ballot:?}");
    }
}

/// Phase 2(b): the acceptor records the accepted values in stable storage before its
/// answer leaves. Reference: Paxos Made Simple §2.5.
#[test]
fn an_accepted_waits_for_the_persist_of_the_values() {
    let mut node = acceptor(b21(), &[]);
    let actions = step(&mut node, N1, accept(b21(), 1, vec![put(1, 1), put(1, 2)], 0));
    let written = persist_of(
        &actions,
        |r| matches!(r, Record::Accepted { first_slot: 1, cmds, .. } if cmds.len() == 2),
    );
    let (msg, after) = reply(&actions);
    let Message::Accepted(Accepted {
        first_slot,
        last_slot,
        ..
    }) = msg
    else {
        panic!("an Accepted: {msg:?}");
    };
    assert_eq!(
        (written.is_some(), (first_slot, last_slot), after),
        (true, (1, 2), written)
    );
}

/// Per slot, a value accepted at a higher ballot replaces one accepted at a lower ballot
/// that is not known chosen: each slot is its own instance of the synod, and an acceptor
/// remembers "the highest-numbered proposal it has accepted". Reference: Paxos Made Simple
/// §2.2 (phase 1(b)), §3.
#[test]
fn a_higher_ballot_replaces_an_unchosen_value_in_its_slot() {
    let mut node = acceptor(b21(), &[(1, b21(), put(1, 1))]);
    step(&mut node, N2, accept(b(3, 2), 1, vec![put(2, 1)], 0));
    let slot1 = node.log().get(1).map(|e| (e.ballot, e.cmd.clone()));
    assert_eq!(slot1, Some((b(3, 2), put(2, 1))));
}

/// A request (accept, heartbeat, learn) whose ballot is below the promise is refused with
/// a Nack naming the promise, whatever the node's role, and changes nothing: its sender has
/// been preempted. Reference: Paxos Made Simple §2.2 (P1a, and telling the proposer to
/// abandon its proposal).
#[test]
fn every_request_below_the_promise_is_refused_with_the_promise() {
    let stale = b(1, 2);
    let requests = [
        accept(stale, 1, vec![put(1, 1)], 0),
        Message::Heartbeat(Heartbeat {
            ballot: stale,
            chosen_upto: 0,
        }),
        Message::Learn(Learn {
            ballot: stale,
            first_slot: 1,
            cmds: vec![put(1, 1)],
        }),
    ];
    for request in requests {
        let mut node = acceptor(b21(), &[]);
        let what = kind(&request);
        let (msg, _) = reply(&step(&mut node, N2, request));
        let answer = match msg {
            Message::Nack(n) => Some((n.ballot, n.promised)),
            _ => None,
        };
        assert_eq!(
            (answer, node.log().last_slot()),
            (Some((stale, b21())), 0),
            "{what}"
        );
    }
}

/// Learning from a commit notice ("chosen up to s" from the leader of ballot b, on an
/// accept or a heartbeat): a slot is marked chosen only if its value was accepted at b,
/// since only then is it the value b's leader got chosen; the scan stops at the first slot
/// that does not qualify. Reference: Paxos Made Simple §2.3 (a learner learns a value once
/// it knows a majority accepted that very proposal).
#[test]
fn a_commit_notice_marks_chosen_only_values_accepted_at_its_ballot() {
    let cases = [
        // (ballots of slots 1 and 2) -> slots committed on "chosen up to 2" from b2.1
        ([b21(), b21()], vec![1, 2]),
        ([b21(), b(1, 0)], vec![1]),
        ([b(1, 0), b21()], vec![]),
    ];
    for (ballots, want) in cases {
        let held = [(1, ballots[0], put(1, 1)), (2, ballots[1], put(1, 2))];
        let mut node = acceptor(b21(), &held);
        let notice = Message::Heartbeat(Heartbeat {
            ballot: b21(),
            chosen_upto: 2,
        });
        let actions = step(&mut node, N1, notice);
        assert_eq!(commits(&actions), want, "slots accepted at {ballots:?}");
    }
}

/// The learner hands chosen values to the state machine in slot order, each once, and only
/// the contiguous chosen prefix: a value chosen beyond a gap waits for the gap to be
/// learned. Reference: Paxos Made Simple §3 (a server executes command i once it has
/// learned commands 1 through i).
#[test]
fn the_learner_commits_only_the_contiguous_chosen_prefix_in_order() {
    let learn = |first_slot, cmds| {
        Message::Learn(Learn {
            ballot: b21(),
            first_slot,
            cmds,
        })
    };
    let mut node = acceptor(b21(), &[]);
    let beyond_the_gap = commits(&step(&mut node, N1, learn(2, vec![put(1, 2), put(1, 3)])));
    let gap_filled = commits(&step(&mut node, N1, learn(1, vec![put(1, 1)])));
    assert_eq!((beyond_the_gap, gap_filled), (vec![], vec![1, 2, 3]));
}

/// Catch-up: values the leader knows to be chosen are stored as chosen, written as a
/// `Learned` record, and raise the learner's promise to the leader's ballot (so that a stale
/// leader's accept for those slots is refused); the answer reports the new chosen prefix.
/// Reference: Paxos Made Simple §2.3.
#[test]
fn learned_values_are_chosen_durable_and_raise_the_promise() {
    let mut node = acceptor(b(1, 0), &[]);
    let actions = step(
        &mut node,
        N1,
        Message::Learn(Learn {
            ballot: b21(),
            first_slot: 1,
            cmds: vec![put(1, 1), put(1, 2)],
        }),
    );
    let written = persist_of(&actions, |r| matches!(r, Record::Learned { first_slot: 1, .. }));
    let (msg, _) = reply(&actions);
    let Message::Learned(Learned { chosen_upto, .. }) = msg else {
        panic!("a Learned: {msg:?}");
    };
    assert_eq!(
        (
            written.is_some(),
            node.promised(),
            node.log().chosen_upto(),
            chosen_upto
        ),
        (true, b21(), 2, 2)
    );
}

/// Gap detection (multi-Paxos, mirroring Raft's consistency check): an acceptor answering
/// an `Accept` reports the first slot above its chosen prefix and below the accept's first
/// slot that holds no value accepted at the accept's ballot, so the leader resends it at
/// once. Reference: Raft §5.3 (the check this mirrors), for fairness between the two.
#[test]
fn an_accepted_reports_the_first_slot_missing_below_the_accept() {
    let cases = [
        // (slots held, at which ballot) and the accept's first slot -> missing_from
        (vec![(1, b21()), (2, b21())], 3, None),
        (vec![(1, b21())], 3, Some(2)),
        (vec![(1, b(1, 0)), (2, b21())], 3, Some(1)),
        (vec![], 1, None),
    ];
    for (held, first_slot, want) in cases {
        let held: Vec<_> = held
            .into_iter()
            .map(|(s, ballot)| (s, ballot, put(1, s)))
            .collect();
        let mut node = acceptor(b21(), &held);
        let (msg, _) = reply(&step(
            &mut node,
            N1,
            accept(b21(), first_slot, vec![put(2, 1)], 0),
        ));
        let Message::Accepted(Accepted { missing_from, .. }) = msg else {
            panic!("an Accepted: {msg:?}");
        };
        assert_eq!(
            missing_from, want,
            "holding {held:?}, accept at slot {first_slot}"
        );
    }
}

/// A follower that hears from the leader of its promised ballot follows it: the leader hint
/// names it and the failure detector starts a fresh randomized timeout, no shorter than
/// the minimum. Reference: Howard & Mortier, "Paxos vs Raft" §3 (leader failure
/// detection).
#[test]
fn a_heartbeat_from_the_leader_restarts_the_failure_detector() {
    let mut node = acceptor(b21(), &[]);
    let now_ns = 40 * MS;
    node.step(
        now_ns,
        N1,
        Message::Heartbeat(Heartbeat {
            ballot: b21(),
            chosen_upto: 0,
        }),
    );
    let deadline_ns = node.next_deadline().expect("a timer");
    let min_ns = ProtocolConfig::default().election_timeout_min_ns;
    assert_eq!(
        (node.status().leader_hint, deadline_ns >= now_ns + min_ns),
        (Some(N1), true)
    );
}
