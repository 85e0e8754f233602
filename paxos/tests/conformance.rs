//! The shared conformance suite of `replog`, one test per property so a failure names it.
//! The testkit under each checks agreement, commit order, durability-before-send and one
//! leader per epoch at every step.

use paxos::PaxosNode;
use replog::conformance;

#[test]
fn elects_a_leader_and_replicates_in_3_nodes() {
    conformance::elects_a_leader_and_replicates::<PaxosNode>(3);
}

#[test]
fn elects_a_leader_and_replicates_in_5_nodes() {
    conformance::elects_a_leader_and_replicates::<PaxosNode>(5);
}

#[test]
fn follower_refuses_proposals_with_a_hint() {
    conformance::follower_refuses_proposals_with_a_hint::<PaxosNode>();
}

#[test]
fn committed_commands_survive_a_leader_crash() {
    conformance::committed_commands_survive_a_leader_crash::<PaxosNode>();
}

#[test]
fn minority_side_never_commits() {
    conformance::minority_side_never_commits::<PaxosNode>();
}

#[test]
fn restarted_follower_catches_up() {
    conformance::restarted_follower_catches_up::<PaxosNode>();
}

#[test]
fn acknowledged_commands_survive_a_crash_of_every_node() {
    conformance::acknowledged_commands_survive_a_crash_of_every_node::<PaxosNode>();
}

#[test]
fn same_seed_gives_the_same_run() {
    conformance::same_seed_gives_the_same_run::<PaxosNode>();
}

#[test]
fn lagging_follower_catches_up_from_a_snapshot() {
    conformance::snapshot::lagging_follower_catches_up_from_a_snapshot::<PaxosNode>();
}

#[test]
fn restart_boots_from_the_snapshot_and_the_log_after_it() {
    conformance::snapshot::restart_boots_from_the_snapshot_and_the_log_after_it::<PaxosNode>();
}

#[test]
fn crash_before_the_checkpoint_is_durable_recovers_the_state_before_it() {
    conformance::snapshot::crash_before_the_checkpoint_is_durable_recovers_the_state_before_it::<PaxosNode>();
}

#[test]
fn snapshots_racing_with_leader_changes_keep_agreement() {
    conformance::snapshot::snapshots_racing_with_leader_changes_keep_agreement::<PaxosNode>();
}
