//! Durability before acknowledgement: votes and entries are promised only once persisted,
//! and a restarted node keeps its promises.

mod common;

use common::*;
use raft::{Message, RaftNode};
use replog::testkit::Network;
use replog::{NodeId, ProtocolConfig, Role};

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);

/// B votes for A in term 1, crashes and restarts; C (still in term 0) then campaigns for
/// term 1 and B refuses it: the vote survived the crash. Reference: Raft §5.2, Figure 2
/// ("votedFor ... persistent state").
#[test]
fn a_restarted_node_does_not_vote_twice_in_one_term() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 1);
    net.cut(A, C);
    assert!(campaign_until_leader(&mut net, A, 1));
    assert_eq!(raft(&net, B).voted_for(), Some(A));
    net.crash(B);
    net.restart(B);
    net.crash(A);
    net.heal();
    assert_eq!(raft(&net, C).current_term(), 0);
    campaign(&mut net, C);
    deliver_votes(&mut net);
    assert_eq!(
        (raft(&net, C).current_term(), net.status(C).expect("up").role),
        (1, Role::Candidate),
        "B must not grant C a second vote in term 1"
    );
}

/// With B's disk slow, B's grant stays held until the vote record is durable, so A cannot
/// win on it; once B's fsync completes the grant leaves and A wins.
/// Reference: Raft §5.2; replog's durability-before-acknowledgement rule.
#[test]
fn a_vote_is_sent_only_after_it_is_durable() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 2);
    net.cut(A, C);
    net.set_auto_persist(B, false);
    campaign(&mut net, A);
    net.sync(A);
    deliver_votes(&mut net);
    let before = net.status(A).expect("up").role;
    net.sync(B);
    deliver_votes(&mut net);
    let after = net.status(A).expect("up").role;
    assert_eq!((before, after), (Role::Candidate, Role::Leader));
}

/// A vote that was never made durable was never sent; after a crash that loses it, the
/// node may vote in that term again (for C here), and A, who never got the grant, does not
/// lead. Reference: Raft §5.2.
#[test]
fn a_vote_lost_before_its_fsync_was_never_promised() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 3);
    net.cut(A, C);
    net.set_auto_persist(B, false);
    campaign(&mut net, A);
    deliver_votes(&mut net);
    net.crash(B);
    net.restart(B);
    net.set_auto_persist(B, true);
    net.crash(A);
    net.heal();
    assert_eq!(raft(&net, B).voted_for(), None);
    assert!(campaign_until_leader(&mut net, C, 1));
}

/// A follower acknowledges entries only once they are durable: with its disk stalled no
/// success leaves it, and the leader (which counts only its own durable entries plus
/// acknowledgements) cannot commit with that follower alone. Reference: Raft §5.3, §10.2.1.
#[test]
fn a_follower_acknowledges_entries_only_after_persisting_them() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 4);
    let leader = net.elect(10 * SEC).expect("leader");
    net.run_for(SEC);
    let followers: Vec<_> = [A, B, C].into_iter().filter(|&n| n != leader).collect();
    net.cut(leader, followers[1]);
    net.set_auto_persist(followers[0], false);
    net.record_traffic = true;
    let cmd = put(1, 1);
    net.propose(leader, cmd.clone()).expect("leader");
    net.deliver_all();
    let early_acks = net
        .delivered
        .iter()
        .filter(|(f, _, m)| {
            *f == followers[0] && matches!(m, Message::AppendEntriesResponse(r) if r.success && r.index > 1)
        })
        .count();
    let committed_early = committed_at(&net, leader, &cmd);
    net.sync(followers[0]);
    net.deliver_all();
    assert_eq!(
        (
            early_acks,
            committed_early,
            committed_at(&net, leader, &cmd).is_some()
        ),
        (0, None, true)
    );
}

/// A restarted node rebuilds its term, vote and log from its records and commits again from
/// index 1 as it learns the commit index. Reference: Raft §5.1, Figure 2.
#[test]
fn a_restarted_node_recovers_term_vote_and_log_and_commits_again_from_index_1() {
    let mut net = Network::<RaftNode>::new(3, ProtocolConfig::default(), 5);
    let leader = net.elect(10 * SEC).expect("leader");
    for seq in 1..=5 {
        net.propose(leader, put(1, seq)).expect("leader");
    }
    net.run_for(SEC);
    let follower = [A, B, C].into_iter().find(|&n| n != leader).expect("3 nodes");
    let before = (
        raft(&net, follower).current_term(),
        raft(&net, follower).voted_for(),
        log_terms(&net, follower),
    );
    net.crash(follower);
    net.restart(follower);
    let after = (
        raft(&net, follower).current_term(),
        raft(&net, follower).voted_for(),
        log_terms(&net, follower),
    );
    assert_eq!(after, before);
    net.run_for(SEC);
    assert_eq!(net.commits(follower).len(), net.commits(leader).len());
}
