//! The interaction scripts in `replog/testdata/interaction/` (etcd's datadriven style: a
//! command per step, the expected trace below it), run against multi-Paxos: each step's
//! output must equal the script's `paxos:` section. The same scripts hold Raft's reactions
//! to the same steps in their `raft:` sections (`raft/tests/interaction.rs`).
//!
//! After a deliberate change of behaviour, regenerate this protocol's sections with
//! `REWRITE=1 cargo test -p paxos --test interaction` and review the diff.

use paxos::PaxosNode;
use replog::testkit::script::{Hooks, run_dir};

#[test]
fn interaction_scripts() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../replog/testdata/interaction");
    let hooks = Hooks {
        // The failure detector suspects the leader now: phase 1 with a new ballot (a
        // pre-prepare round first with `pre_vote`).
        campaign: PaxosNode::campaign,
        log: |node: &PaxosNode| node.log().to_string(),
        // The null ballot (nothing promised yet) as b0; others as bROUND.NODE.
        epoch: |ballot| match ballot.owner {
            Some(_) => ballot.to_string(),
            None => format!("b{}", ballot.round),
        },
    };
    run_dir::<PaxosNode>(dir, &hooks);
}
