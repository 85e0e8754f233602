//! The interaction scripts in `replog/testdata/interaction/` (etcd's datadriven style: a
//! command per step, the expected trace below it), run against Raft: each step's output must
//! equal the script's `raft:` section. The same scripts hold multi-Paxos's reactions to the
//! same steps in their `paxos:` sections (`paxos/tests/interaction.rs`).
//!
//! After a deliberate change of behaviour, regenerate this protocol's sections with
//! `REWRITE=1 cargo test -p raft --test interaction` and review the diff.

use raft::RaftNode;
use replog::testkit::script::{Hooks, run_dir};

#[test]
fn interaction_scripts() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../replog/testdata/interaction");
    let hooks = Hooks {
        campaign: RaftNode::campaign,
        log: |node: &RaftNode| node.log().to_string(),
        epoch: |term| format!("t{}", term.round),
    };
    run_dir::<RaftNode>(dir, &hooks);
}
