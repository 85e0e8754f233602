//! The deliberately unsafe variants in `ProtocolConfig::bugs` are caught by the testkit's
//! checks. (`raft_commit_old_terms_by_count` is shown in `figure8.rs`.)

mod common;

use common::*;
use raft::RaftNode;
use replog::ProtocolConfig;
use replog::testkit::Network;

/// With `ack_before_quorum`, a leader reports a command committed as soon as it appends
/// it; cut off and replaced, its successor commits something else at that index, and the
/// agreement check fires. Reference: Raft §5.3 ("a log entry is committed once the leader
/// that created the entry has replicated it on a majority").
#[test]
#[should_panic(expected = "agreement violated")]
fn acking_before_a_quorum_is_caught_by_the_agreement_check() {
    let mut cfg = ProtocolConfig::default();
    cfg.bugs.ack_before_quorum = true;
    let mut net = Network::<RaftNode>::new(3, cfg, 9);
    let old = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    net.isolate(old);
    let lost = put(1, 1);
    net.propose(old, lost.clone()).expect("leader");
    assert!(
        committed_at(&net, old, &lost).is_some(),
        "the bug commits at once"
    );
    net.crash(old);
    net.drop_queued(); // what it sent never arrives
    net.heal();
    let new = net.elect(10 * SEC).expect("new leader");
    assert_ne!(new, old);
    net.propose(new, put(2, 1)).expect("leader");
    net.run_for(SEC);
}
