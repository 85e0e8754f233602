//! The paper's Figure 8, driven step by step: why a leader must not count replicas to commit
//! an entry from an earlier term.
//!
//! Nodes S1..S5 are n0..n4. Every leader appends a no-op when its term starts, so indices
//! shift by one against the figure: the figure's index 2 is our index 3 (after each term-2/3
//! leader's no-op at index 2). The schedule:
//! - term 1: S1 leads; its no-op (index 1) reaches everyone.
//! - (a) term 2: S1 leads; index 2 (no-op) and 3 (command X) reach S2 only; S1 crashes.
//! - (b) term 3: S5 leads with votes from S3, S4, S5; it appends index 2 (no-op) and 3
//!   (command Y), which reach nobody; S5 crashes.
//! - (c) term 4: S1 restarts and leads with votes from S2, S3, S4. It appends its no-op at
//!   index 4 and replicates indices 2–3 (term 2) to S3: X is now on a majority (S1, S2, S3),
//!   and S1 has learnt that S2 and S3 hold it.
//! - (d) S1 crashes; S5 restarts and wins term 5 with votes from S2, S3, S4 (its last term
//!   3 beats their last term 2), and overwrites indices 2–3 everywhere with its own.
//! - (e) instead of (d): S1 first replicates its term-4 no-op to a majority, which commits
//!   X; then S5 can never win and X stays.

mod common;

use common::*;
use raft::{Message, RaftNode};
use replog::testkit::Network;
use replog::{Command, NodeId, ProtocolConfig, Role};

const S1: NodeId = NodeId(0);
const S2: NodeId = NodeId(1);
const S3: NodeId = NodeId(2);
const S4: NodeId = NodeId(3);
const S5: NodeId = NodeId(4);

fn config(commit_old_terms_by_count: bool) -> ProtocolConfig {
    let mut cfg = ProtocolConfig {
        // S1's probe to S3 then carries exactly the two term-2 entries (indices 2 and 3).
        max_batch_entries: 2,
        ..ProtocolConfig::default()
    };
    cfg.bugs.raft_commit_old_terms_by_count = commit_old_terms_by_count;
    cfg
}

fn term_of(net: &Network<RaftNode>, id: NodeId) -> u64 {
    raft(net, id).current_term()
}

/// Runs term 1, (a), (b) and (c). Returns the network, X and Y.
fn run_until_c(cfg: ProtocolConfig) -> (Network<RaftNode>, Command, Command) {
    let (x, y) = (put(1, 1), put(5, 1));
    let mut net = Network::<RaftNode>::new(5, cfg, 8);

    // Term 1: S1 leads; its no-op reaches everyone.
    assert!(campaign_until_leader(&mut net, S1, 1));
    net.deliver_all();
    assert_eq!(term_of(&net, S1), 1);

    // (a) Term 2: S1 leads; its no-op and X reach S2 only.
    assert!(campaign_until_leader(&mut net, S1, 1));
    assert_eq!(term_of(&net, S1), 2);
    for s in [S3, S4, S5] {
        net.cut(S1, s);
    }
    net.propose(S1, x.clone()).expect("S1 leads");
    net.deliver_all();
    assert_eq!(log_terms(&net, S2), [1, 2, 2]);
    assert_eq!(log_terms(&net, S3), [1]);
    net.crash(S1);
    net.heal();

    // (b) Term 3: S5 leads with S3 and S4; its no-op and Y reach nobody.
    assert!(campaign_until_leader(&mut net, S5, 1));
    assert_eq!(term_of(&net, S5), 3);
    net.propose(S5, y.clone()).expect("S5 leads");
    net.drop_queued();
    assert_eq!(log_terms(&net, S5), [1, 3, 3]);
    net.crash(S5);

    // (c) Term 4: S1 restarts and leads with S2, S3 and S4 (a term-3 attempt loses first).
    net.restart(S1);
    assert!(campaign_until_leader(&mut net, S1, 3));
    assert_eq!(term_of(&net, S1), 4);
    assert_eq!(log_terms(&net, S1), [1, 2, 2, 4]);
    let probes: Vec<_> = net.queued().cloned().collect();
    net.drop_queued();
    let probe_to = |to: NodeId| {
        probes
            .iter()
            .find_map(|(f, t, m)| match m {
                Message::AppendEntries(ae) if *f == S1 && *t == to => Some(ae.clone()),
                _ => None,
            })
            .expect("S1 probes every live follower")
    };
    // S2 gets S1's probe without its term-4 entry, as a heartbeat (in the figure S1 has no
    // term-4 entry yet at this point): S2 confirms it holds index 3 and stays as drawn.
    let mut heartbeat = probe_to(S2);
    heartbeat.entries.clear();
    inject(&mut net, S1, S2, Message::AppendEntries(heartbeat));
    // S3 gets the probe, rejects it (its log is too short); S4's is lost.
    inject(&mut net, S1, S3, Message::AppendEntries(probe_to(S3)));
    net.deliver_matching(|_, to, _| to == S1);
    // S1 backs up and sends S3 indices 2 and 3 (term 2) only; S3 acknowledges them.
    let term_2_entries = |m: &Message| matches!(m, Message::AppendEntries(ae) if ae.entries.iter().all(|e| e.term == 2) && !ae.entries.is_empty());
    assert_eq!(
        net.deliver_matching(|f, t, m| f == S1 && t == S3 && term_2_entries(m)),
        1
    );
    net.deliver_matching(|f, t, _| f == S3 && t == S1);
    for s in [S1, S2, S3] {
        assert_eq!(raft(&net, s).log().term(3), Some(2), "{s:?} holds X at index 3");
    }
    (net, x, y)
}

/// (d): S1 crashes, S5 restarts and wins term 5, and replicates its log.
fn run_d(net: &mut Network<RaftNode>) {
    net.drop_queued();
    net.crash(S1);
    net.restart(S5);
    assert!(campaign_until_leader(net, S5, 3));
    assert_eq!(term_of(net, S5), 5);
    net.deliver_all();
}

/// In (c), X (term 2) is on S1, S2 and S3, a majority, and S1 knows it; S1 still does not
/// count it committed, because no entry of S1's own term is on a majority.
/// Reference: Raft §5.4.2, Figure 8 (c).
#[test]
fn an_earlier_term_entry_on_a_majority_is_not_committed_by_counting() {
    let (net, _, _) = run_until_c(config(false));
    assert_eq!(raft(&net, S1).commit_index(), 0);
}

/// In (d), S5 legally overwrites index 3: X was never committed, so no node ever reports it
/// committed, and Y is committed at index 3 instead. Reference: Raft §5.4.2, Figure 8 (d).
#[test]
fn the_overwritten_entry_was_never_reported_committed() {
    let (mut net, x, y) = run_until_c(config(false));
    run_d(&mut net);
    assert_eq!(net.status(S5).expect("up").role, Role::Leader);
    assert_eq!(
        (committed_at(&net, S5, &y), net.chosen().get(&3).copied()),
        (Some(3), Some(y.id())),
        "X = {x:?} must not have been chosen"
    );
}

/// In (e), once S1's term-4 entry is on a majority, X is committed with it and survives:
/// S5 cannot win, and every node ends up committing X at index 3.
/// Reference: Raft §5.4.2, Figure 8 (e); Leader Completeness, §5.4.3.
#[test]
fn an_earlier_term_entry_committed_through_a_current_term_entry_is_never_lost() {
    let (mut net, x, _) = run_until_c(config(false));
    net.deliver_all();
    assert!(
        raft(&net, S1).commit_index() >= 4,
        "S1 commits its term-4 entry and X with it"
    );
    net.crash(S1);
    net.restart(S5);
    assert!(
        !campaign_until_leader(&mut net, S5, 3),
        "S5 lacks committed X and cannot win"
    );
    net.restart(S1);
    let leader = net.elect(10 * SEC).expect("a leader with X");
    net.propose(leader, put(9, 9)).expect("leader");
    net.run_for(2 * SEC);
    for s in [S1, S2, S3, S4, S5] {
        assert_eq!(committed_at(&net, s, &x), Some(3), "{s:?}");
    }
}

/// The same schedule with the unsafe "commit earlier-term entries by counting" variant: S1
/// commits X in (c), S5 commits Y at the same index in (d), and the testkit's agreement
/// check catches it. This proves the test machinery sees the bug Figure 8 is about.
/// Reference: Raft §5.4.2, Figure 8.
#[test]
#[should_panic(expected = "agreement violated")]
fn committing_an_earlier_term_entry_by_counting_is_caught_by_the_agreement_check() {
    let (mut net, x, _) = run_until_c(config(true));
    assert_eq!(
        committed_at(&net, S1, &x),
        Some(3),
        "the bug commits X by counting"
    );
    run_d(&mut net);
}
