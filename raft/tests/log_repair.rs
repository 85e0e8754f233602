//! Log repair: the follower logs of the paper's Figure 7 converge to the leader's, with fast
//! backtracking on and off. Multi-Paxos's counterpart is `paxos/tests/log_repair.rs` (a new
//! leader completes its log from the promises).

mod common;

use common::*;
use raft::{Message, RaftNode};
use replog::testkit::Network;
use replog::{NodeId, ProtocolConfig, Role};

const LEADER: NodeId = NodeId(0);
const HELPER: NodeId = NodeId(1);
const FOLLOWER: NodeId = NodeId(2);

/// The leader's log in Figure 7 (the leader is about to start term 8).
const LEADER_LOG: &[u64] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6];

/// Figure 7's follower logs (a)–(f).
const CASES: [(&str, &[u64]); 6] = [
    ("a: one entry missing", &[1, 1, 1, 4, 4, 5, 5, 6, 6]),
    ("b: many entries missing", &[1, 1, 1, 4]),
    (
        "c: one extra uncommitted entry",
        &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    ),
    (
        "d: extra entries of a later term",
        &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    ),
    ("e: missing and extra entries", &[1, 1, 1, 4, 4, 4, 4]),
    ("f: conflicting terms 2 and 3", &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
];

/// Builds the Figure 7 cluster: the leader, a helper with the leader's log (so the leader
/// wins even against case (d)'s longer log), and the follower in `case`. The leader wins
/// term 8 and replication runs to quiescence. Returns the network with traffic recorded.
fn repair(follower_log: &[u64], fast_backtrack: bool) -> Network<RaftNode> {
    let mut cfg = ProtocolConfig::default();
    cfg.raft.fast_backtrack = fast_backtrack;
    let mut net = Network::<RaftNode>::new(3, cfg.clone(), 7);
    boot_with(&mut net, &cfg, LEADER, records(7, None, LEADER_LOG));
    boot_with(&mut net, &cfg, HELPER, records(7, None, LEADER_LOG));
    boot_with(&mut net, &cfg, FOLLOWER, records(7, None, follower_log));
    net.record_traffic = true;
    assert!(campaign_until_leader(&mut net, LEADER, 1));
    assert_eq!(raft(&net, LEADER).current_term(), 8);
    net.deliver_all();
    net.run_for(SEC);
    assert_eq!(net.status(LEADER).expect("up").role, Role::Leader);
    net
}

fn rejections(net: &Network<RaftNode>) -> usize {
    net.delivered
        .iter()
        .filter(|(from, _, m)| {
            *from == FOLLOWER && matches!(m, Message::AppendEntriesResponse(r) if !r.success)
        })
        .count()
}

/// Each Figure 7 follower ends with exactly the leader's log: missing entries filled,
/// extra and conflicting entries deleted. Reference: Raft §5.3, Figure 7.
#[test]
fn figure_7_followers_converge_to_the_leaders_log_with_fast_backtracking() {
    for (name, log) in CASES {
        let net = repair(log, true);
        assert_eq!(log_terms(&net, FOLLOWER), log_terms(&net, LEADER), "case {name}");
    }
}

/// The same without fast backtracking: `next_index` goes back one entry per rejection.
/// Reference: Raft §5.3, Figure 7, Figure 2 ("decrement nextIndex and retry").
#[test]
fn figure_7_followers_converge_to_the_leaders_log_without_fast_backtracking() {
    for (name, log) in CASES {
        let net = repair(log, false);
        assert_eq!(log_terms(&net, FOLLOWER), log_terms(&net, LEADER), "case {name}");
    }
}

/// Case (f) takes one rejection per conflicting term with fast backtracking (terms 3 and
/// 2: two) and one per conflicting entry without it (indices 10 down to 4: seven).
/// Reference: Raft §5.3 (the paragraph after Figure 7).
#[test]
fn fast_backtracking_skips_a_whole_conflicting_term_per_rejection() {
    let f = CASES[5].1;
    let counts = (rejections(&repair(f, true)), rejections(&repair(f, false)));
    assert_eq!(counts, (2, 7));
}

/// The repaired follower commits exactly what the leader commits, index by index.
/// Reference: Raft §5.3 (Log Matching), §5.4.
#[test]
fn repaired_follower_commits_the_leaders_entries() {
    for (name, log) in CASES {
        let net = repair(log, true);
        let leader_commits: Vec<_> = net.commits(LEADER).iter().map(|(i, c)| (*i, c.id())).collect();
        let follower_commits: Vec<_> = net.commits(FOLLOWER).iter().map(|(i, c)| (*i, c.id())).collect();
        assert_eq!(follower_commits, leader_commits, "case {name}");
    }
}
