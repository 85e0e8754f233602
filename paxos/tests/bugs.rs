//! The deliberately unsafe variants in `ProtocolConfig::bugs` are caught by the testkit's
//! agreement check, on schedules that the correct protocol survives.

mod common;

use common::*;
use paxos::{Message, PaxosNode};
use replog::testkit::Network;
use replog::{Command, ProtocolConfig};

/// N0 leads and gets X chosen with N1's acceptance (N2 never sees the accept, and no
/// commit notice leaves N0), then crashes; N2 runs phase 1 and N1's promise, which reports
/// X, completes its quorum. Returns the network (after a second of running) and X.
fn x_chosen_then_n2_recovers_it(cfg: ProtocolConfig) -> (Network<PaxosNode>, Command) {
    let mut net = Network::<PaxosNode>::new(3, cfg, 1);
    lead(&mut net, N0);
    net.set_filter(|_, to, m| to == N2 && matches!(m, Message::Accept(_)));
    let x = put(1, 1);
    net.propose(N0, x.clone()).expect("N0 leads");
    net.deliver_all();
    assert_eq!(committed_at(&net, N0, &x), Some(1), "X is chosen");
    net.crash(N0);
    net.heal();
    lead(&mut net, N2);
    net.run_for(SEC);
    (net, x)
}

/// With `paxos_ignore_promised_values`, the new leader proposes a no-op in slot 1 although
/// N1's promise reported X there; X was chosen, so the no-op's commit breaks agreement and
/// the testkit says so. Reference: Paxos Made Simple §2.2 phase 2(a).
#[test]
#[should_panic(expected = "agreement violated")]
fn ignoring_promised_values_is_caught_by_the_agreement_check() {
    let mut cfg = ProtocolConfig::default();
    cfg.bugs.paxos_ignore_promised_values = true;
    x_chosen_then_n2_recovers_it(cfg);
}

/// The same schedule with the adoption rule: N2 proposes X again in slot 1 and commits it.
/// Reference: Paxos Made Simple §2.2 phase 2(a).
#[test]
fn with_the_adoption_rule_the_same_schedule_keeps_the_chosen_value() {
    let (net, x) = x_chosen_then_n2_recovers_it(ProtocolConfig::default());
    assert_eq!(committed_at(&net, N2, &x), Some(1));
}

/// With `ack_before_quorum`, a leader reports a command committed as soon as it proposes
/// it; cut off and replaced, its successor commits something else in that slot, and the
/// agreement check fires. Reference: Paxos Made Simple §2.2 (chosen means accepted by a
/// majority).
#[test]
#[should_panic(expected = "agreement violated")]
fn acking_before_a_quorum_is_caught_by_the_agreement_check() {
    let mut cfg = ProtocolConfig::default();
    cfg.bugs.ack_before_quorum = true;
    let mut net = Network::<PaxosNode>::new(3, cfg, 9);
    lead(&mut net, N0);
    net.isolate(N0);
    let lost = put(1, 1);
    net.propose(N0, lost.clone()).expect("N0 leads");
    assert_eq!(committed_at(&net, N0, &lost), Some(1), "the bug commits at once");
    net.crash(N0);
    net.drop_queued();
    net.heal();
    lead(&mut net, N1);
    net.propose(N1, put(2, 1)).expect("N1 leads");
    net.run_for(SEC);
}

/// N2 is cut off while N0 commits (and compacts, every 4 slots) 12 commands, then runs
/// phase 1 and takes a proposal: its prepare starts at slot 1, inside N0's and N1's
/// snapshots, so the promises must carry them.
fn lagging_candidate_runs_phase1_below_the_snapshots(cfg: ProtocolConfig) -> Network<PaxosNode> {
    let mut net = Network::<PaxosNode>::new(3, cfg, 3);
    lead(&mut net, N0);
    net.isolate(N2);
    for seq in 1..=12 {
        net.propose(N0, put(1, seq)).expect("N0 leads");
        net.deliver_all();
    }
    net.heal();
    lead(&mut net, N2);
    net.propose(N2, put(2, 1)).expect("N2 leads");
    net.run_for(SEC);
    net
}

/// With `paxos_promise_without_snapshot`, N2 sees no value for the compacted slots, takes
/// its log for complete and puts the new command in slot 1, chosen long ago with another
/// command. Reference: Paxos Made Simple §2.2 phase 2(a), §2.3.
///
/// Since acknowledgements became cumulative (a follower's reported chosen prefix counts as
/// held), N2 never sends that accept to N0 or N1, so the wrong value is never chosen and the
/// agreement check does not fire in this schedule: the run stalls with N2's state machine
/// apart from N0's instead.
#[test]
fn a_promise_without_the_snapshot_puts_a_new_command_in_a_chosen_slot() {
    let mut cfg = ProtocolConfig {
        snapshot_every: 4,
        ..ProtocolConfig::default()
    };
    cfg.bugs.paxos_promise_without_snapshot = true;
    let net = lagging_candidate_runs_phase1_below_the_snapshots(cfg);
    assert_eq!(committed_at(&net, N0, &put(1, 1)), Some(1));
    assert_eq!(
        slot_value(&net, N2, 1),
        Some(put(2, 1)),
        "N2 took slot 1, chosen with put(1, 1), for a hole"
    );
    assert_ne!(net.kv(N2), net.kv(N0));
}

/// The same schedule with the snapshot in the promise: N2 installs it, proposes after it,
/// and ends with N0's state.
#[test]
fn with_the_snapshot_in_the_promise_the_lagging_candidate_keeps_the_chosen_prefix() {
    let net = lagging_candidate_runs_phase1_below_the_snapshots(ProtocolConfig {
        snapshot_every: 4,
        ..ProtocolConfig::default()
    });
    assert_eq!(net.kv(N2), net.kv(N0));
}
