//! Log repair by a new leader (phase 1 recovery): values accepted by a minority, competing
//! values from different ballots, and holes. Raft's counterpart is `raft/tests/log_repair.rs`
//! (a follower's log converges to the leader's); here the leader's own log is completed from
//! the promises, since any node may lead. Each schedule is built by hand: only phase 1 traffic is
//! delivered while a candidate collects promises, and filters decide which acceptors see
//! which accepts. The testkit checks agreement at every commit.

mod common;

use common::*;
use paxos::{Message, PaxosNode};
use replog::testkit::Network;
use replog::{Command, ProtocolConfig};

/// Drops every accept to anyone but `keep`.
fn accepts_only_to(net: &mut Network<PaxosNode>, keep: replog::NodeId) {
    net.set_filter(move |_, to, m| matches!(m, Message::Accept(_)) && to != keep);
}

/// Leader N0 (of five) gets X accepted by itself and N1 only, a minority, and crashes.
/// Returns the network and X.
fn x_accepted_by_a_minority() -> (Network<PaxosNode>, Command) {
    let mut net = Network::<PaxosNode>::new(5, ProtocolConfig::default(), 1);
    lead(&mut net, N0);
    accepts_only_to(&mut net, N1);
    let x = put(1, 1);
    net.propose(N0, x.clone()).expect("N0 leads");
    net.deliver_all();
    assert_eq!(slot_value(&net, N1, 1), Some(x.clone()), "N1 accepted X");
    assert!(net.chosen().is_empty(), "two of five is not a majority");
    net.crash(N0);
    net.heal();
    (net, x)
}

/// A value accepted by a minority may have been chosen as far as a new leader can tell, so
/// when a promise reports it, the new leader proposes it again in its slot, and X is what
/// every node commits there. Reference: Paxos Made Simple §2.2 phase 2(a), §3.
#[test]
fn a_new_leader_re_proposes_a_value_a_promise_reports() {
    let (mut net, x) = x_accepted_by_a_minority();
    lead(&mut net, N2); // N1's promise arrives first and is in the quorum
    net.run_for(SEC);
    for id in [N1, N2, N3, N4] {
        assert_eq!(committed_at(&net, id, &x), Some(1), "{id:?}");
    }
}

/// When the new leader's quorum excludes every node that accepted X, nothing tells it about
/// X, which cannot have been chosen (the minority that holds it and the quorum do not meet
/// except in nodes that never saw it): the slot gets a no-op, and N1's X is replaced.
/// Reference: Paxos Made Simple §3 ("a no-op ... command").
#[test]
fn a_value_no_quorum_member_accepted_is_replaced_by_a_no_op() {
    let (mut net, x) = x_accepted_by_a_minority();
    net.cut(N2, N1);
    lead(&mut net, N2);
    // The quorum {N2, N3, N4} reported nothing, so there is nothing to recover; a new
    // command goes to slot 1.
    let y = put(2, 1);
    net.propose(N2, y.clone()).expect("N2 leads");
    net.heal();
    net.run_for(SEC);
    for id in [N1, N2, N3, N4] {
        assert_eq!(
            (committed_at(&net, id, &y), committed_at(&net, id, &x)),
            (Some(1), None),
            "{id:?}"
        );
    }
}

/// Promises report X (ballot 1) from two acceptors and Y (ballot 2) from one; Y was in fact
/// chosen at ballot 2 (the leader of ballot 2 committed it before crashing, nobody else
/// heard). The new leader must adopt the value of the highest ballot reported, Y, not the
/// majority of reports. Reference: Paxos Made Simple §2.2 (P2c).
#[test]
fn a_new_leader_adopts_the_value_of_the_highest_ballot_reported() {
    let (mut net, x) = x_accepted_by_a_minority();
    // N2 leads at ballot 2 without N1 (which holds X), and gets Y chosen by N2, N3 and N4.
    net.cut(N2, N1);
    lead(&mut net, N2);
    let y = put(2, 1);
    net.propose(N2, y.clone()).expect("N2 leads");
    net.deliver_all();
    assert_eq!(committed_at(&net, N2, &y), Some(1), "Y is chosen at ballot 2");
    assert_eq!(
        paxos(&net, N3).log().chosen_upto(),
        0,
        "no commit notice reached N3"
    );
    net.crash(N2);
    net.heal();
    // N0 comes back with X (ballot 1) and leads with the quorum {N0, N1, N3}: reports are
    // X@1 (N0), X@1 (N1), Y@2 (N3).
    net.restart(N0);
    net.cut(N0, N4);
    lead(&mut net, N0);
    net.run_for(SEC);
    assert_eq!(
        (committed_at(&net, N0, &y), committed_at(&net, N0, &x)),
        (Some(1), None)
    );
}

/// A leader gets slots 1 and 3 chosen, while slot 2 reaches no acceptor but its own; it
/// crashes. The next leader learns slots 1 and 3 from promises and finds slot 2 empty in
/// every promise: it fills it with a no-op, and serves new commands after slot 3.
/// Reference: Paxos Made Simple §3 (gaps filled with no-op commands).
#[test]
fn holes_are_filled_with_no_ops_before_new_commands() {
    let cfg = ProtocolConfig {
        max_batch_entries: 1,
        ..ProtocolConfig::default()
    };
    let mut net = Network::<PaxosNode>::new(3, cfg, 2);
    lead(&mut net, N0);
    net.set_filter(|_, _, m| matches!(m, Message::Accept(a) if a.first_slot == 2));
    let (a, b, c) = (put(1, 1), put(1, 2), put(1, 3));
    for cmd in [&a, &b, &c] {
        net.propose(N0, cmd.clone()).expect("N0 leads");
    }
    net.deliver_all();
    assert_eq!(committed(&net, N0), vec![a.clone()], "slot 2 is not chosen");
    net.crash(N0);
    net.heal();
    lead(&mut net, N1);
    let d = put(2, 1);
    net.propose(N1, d.clone()).expect("N1 leads");
    net.run_for(SEC);
    assert_eq!(committed(&net, N1), vec![a, Command::Noop, c, d]);
}

/// A new leader whose own log lags far behind (it missed every accept) still learns every
/// chosen value from the promises and keeps them: any node may lead, unlike Raft's election
/// restriction. Reference: Paxos Made Simple §3; Howard & Mortier, "Paxos vs Raft" (the
/// election restriction Raft adds and Paxos does without).
#[test]
fn a_leader_with_an_empty_log_recovers_every_chosen_value() {
    let mut net = Network::<PaxosNode>::new(3, ProtocolConfig::default(), 3);
    lead(&mut net, N0);
    net.isolate(N2);
    let cmds: Vec<Command> = (1..=5).map(|seq| put(1, seq)).collect();
    for cmd in &cmds {
        net.propose(N0, cmd.clone()).expect("N0 leads");
    }
    net.deliver_all();
    assert_eq!(paxos(&net, N2).log().last_slot(), 0, "N2 holds nothing");
    net.crash(N0);
    net.heal();
    lead(&mut net, N2);
    net.run_for(SEC);
    assert_eq!(committed(&net, N2), cmds);
}

/// Multi-Paxos's log-gap pitfall with several holes at once. Leader N0 (of five) pipelines
/// six slots, one accept per slot, and crashes after only some reached a quorum: slots 1, 4
/// and 6 are chosen, slot 2 is accepted by a minority (N0, N1), slots 3 and 5 by N0 alone.
/// N4 leads next with the quorum {N2, N3, N4}, which holds every chosen value but neither
/// X (slot 2) nor anything in slots 3 and 5: it keeps the three chosen values in their
/// slots, fills the three holes with no-ops (N1's X is replaced), and serves a new command
/// after them. Every node then commits each slot once, all the same value.
/// Reference: Paxos Made Simple §3 (gaps filled with no-ops); Howard & Mortier, "Paxos vs
/// Raft" §3 (multi-Paxos recovery from phase 1).
#[test]
fn pipelined_slots_cut_short_by_a_crash_leave_holes_that_become_no_ops_decided_once() {
    let cfg = ProtocolConfig {
        max_batch_entries: 1,
        ..ProtocolConfig::default()
    };
    let mut net = Network::<PaxosNode>::new(5, cfg, 4);
    lead(&mut net, N0);
    // Who receives each slot's accept (N0 accepts its own); catch-up traffic is dropped too,
    // so nobody learns more than its accepts.
    let reach = |slot: u64| -> &'static [replog::NodeId] {
        match slot {
            1 => &[N1, N2, N3, N4],
            2 => &[N1],
            4 => &[N1, N2],
            6 => &[N2, N3],
            _ => &[],
        }
    };
    net.set_filter(move |_, to, m| match m {
        Message::Accept(a) => a.cmds.len() == 1 && !reach(a.first_slot).contains(&to),
        Message::Learn(_) => true,
        _ => false,
    });
    let cmds: Vec<Command> = (1..=6).map(|seq| put(1, seq)).collect();
    for cmd in &cmds {
        net.propose(N0, cmd.clone()).expect("N0 leads");
    }
    net.deliver_all();
    let chosen: Vec<u64> = (1..=6).filter(|&s| paxos(&net, N0).log().is_chosen(s)).collect();
    assert_eq!(chosen, vec![1, 4, 6], "N0 knew slots 1, 4 and 6 chosen");
    assert_eq!(
        slot_value(&net, N1, 2),
        Some(cmds[1].clone()),
        "N1 accepted X in slot 2"
    );
    net.crash(N0);
    net.heal();
    net.cut(N4, N1);
    lead(&mut net, N4);
    let new = put(2, 1);
    net.propose(N4, new.clone()).expect("N4 leads");
    net.heal();
    net.run_for(SEC);

    let noop = Command::Noop;
    let expected = vec![
        cmds[0].clone(),
        noop.clone(),
        noop.clone(),
        cmds[3].clone(),
        noop,
        cmds[5].clone(),
        new,
    ];
    for id in [N1, N2, N3, N4] {
        let slots: Vec<u64> = net.commits(id).iter().map(|(i, _)| *i).collect();
        assert_eq!(
            (slots, committed(&net, id)),
            ((1..=7).collect::<Vec<u64>>(), expected.clone()),
            "{id:?} commits each slot once, with the value every node commits there"
        );
    }
}
