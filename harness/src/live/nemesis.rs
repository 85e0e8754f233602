//! The fault schedule on a live cluster. [`crate::faults::apply`] resolves targets and plans
//! link cuts for every backend; here it runs against a snapshot of the cluster ([`Nemesis`]),
//! which records what to do: process operations (SIGKILL, relaunch, SIGSTOP, SIGCONT) for
//! the supervisor, and the fault state each node's transport, clock and disk should have,
//! which the runner pushes over the admin links.

use super::codec::{FaultState, FsyncDelay};
use crate::faults::FaultTarget;
use replog::{Epoch, Nanos, NodeId, Role, Status};

/// Something to do to a node's process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessOp {
    Crash(NodeId),
    Restart(NodeId),
    Pause(NodeId),
    Resume(NodeId),
}

/// The cluster as the fault code sees it, and what it asked for.
pub struct Nemesis {
    pub statuses: Vec<Option<Status>>,
    pub paused: Vec<bool>,
    /// Fault state per node (its outgoing links, clock and disk).
    pub desired: Vec<FaultState>,
    pub ops: Vec<ProcessOp>,
}

impl Nemesis {
    /// A snapshot: `up[i]` says whether node i's process runs, `known[i]` is its last status.
    pub fn new(up: &[bool], known: &[Option<Status>], paused: Vec<bool>, desired: Vec<FaultState>) -> Self {
        let statuses = up
            .iter()
            .enumerate()
            .map(|(i, &up)| up.then(|| known[i].unwrap_or_else(|| booting(NodeId(i as u32)))))
            .collect();
        Nemesis {
            statuses,
            paused,
            desired,
            ops: Vec::new(),
        }
    }
}

/// The status of a node whose process runs but has not reported yet.
pub fn booting(id: NodeId) -> Status {
    Status {
        id,
        role: Role::Follower,
        leader_hint: None,
        epoch: Epoch::default(),
        commit_index: 0,
        last_index: 0,
    }
}

impl FaultTarget for Nemesis {
    fn node_count(&self) -> usize {
        self.statuses.len()
    }
    fn statuses(&self) -> Vec<Option<Status>> {
        self.statuses.clone()
    }
    fn paused(&self) -> Vec<bool> {
        self.paused.clone()
    }
    fn crash(&mut self, node: NodeId) {
        if self.statuses[node.index()].take().is_some() {
            self.paused[node.index()] = false;
            self.ops.push(ProcessOp::Crash(node));
        }
    }
    fn restart(&mut self, node: NodeId) {
        if self.statuses[node.index()].is_none() {
            self.statuses[node.index()] = Some(booting(node));
            self.ops.push(ProcessOp::Restart(node));
        }
    }
    fn pause(&mut self, node: NodeId) {
        if self.statuses[node.index()].is_some() && !self.paused[node.index()] {
            self.paused[node.index()] = true;
            self.ops.push(ProcessOp::Pause(node));
        }
    }
    fn resume(&mut self, node: NodeId) {
        if self.paused[node.index()] {
            self.paused[node.index()] = false;
            self.ops.push(ProcessOp::Resume(node));
        }
    }
    fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        self.desired[from.index()].links[to.index()].blocked = blocked;
    }
    fn heal_links(&mut self) {
        for d in &mut self.desired {
            for l in &mut d.links {
                l.blocked = false;
            }
        }
    }
    fn set_loss(&mut self, from: NodeId, to: NodeId, p: f64) {
        self.desired[from.index()].links[to.index()].loss = p;
    }
    fn set_extra_delay(&mut self, from: NodeId, to: NodeId, extra: Nanos) {
        self.desired[from.index()].links[to.index()].extra_delay_ns = extra;
    }
    fn set_duplicate(&mut self, p: f64) {
        for d in &mut self.desired {
            d.duplicate = p;
        }
    }
    fn set_clock_rate(&mut self, node: NodeId, rate: f64) {
        self.desired[node.index()].clock_rate = rate;
    }
    fn set_fsync(&mut self, node: NodeId, fsync: Option<crate::sim::dist::Dist>) {
        self.desired[node.index()].fsync_delay = fsync.as_ref().map(FsyncDelay::from_dist);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{FaultKind, FaultSpec, NamedTarget, TargetSpec};

    fn spec(action: FaultKind, target: NamedTarget) -> FaultSpec {
        let text = format!(
            "at = \"1s\"\naction = {}\ntarget = {}\n",
            serde_json::to_string(&action).unwrap(),
            serde_json::to_string(&TargetSpec::Named(target)).unwrap()
        );
        toml::from_str(&text).unwrap()
    }

    fn three_with_leader(leader: u32) -> Nemesis {
        let known: Vec<Option<Status>> = (0..3)
            .map(|i| {
                let mut s = booting(NodeId(i));
                s.epoch = Epoch::term(2);
                if i == leader {
                    s.role = Role::Leader;
                }
                Some(s)
            })
            .collect();
        Nemesis::new(
            &[true; 3],
            &known,
            vec![false; 3],
            vec![FaultState::healthy(3); 3],
        )
    }

    #[test]
    fn crashing_the_leader_kills_that_process_and_restart_brings_it_back() {
        let mut n = three_with_leader(1);
        let r = crate::faults::apply(&mut n, &spec(FaultKind::Crash, NamedTarget::Leader), 0, 1, 0);
        assert!(r.applied);
        assert_eq!(n.ops, vec![ProcessOp::Crash(NodeId(1))]);
        let r = crate::faults::apply(&mut n, &spec(FaultKind::Restart, NamedTarget::Crashed), 1, 1, 0);
        assert!(r.applied);
        assert_eq!(n.ops[1], ProcessOp::Restart(NodeId(1)));
    }

    #[test]
    fn isolating_a_node_cuts_its_links_both_ways_in_the_senders_state() {
        let mut n = three_with_leader(0);
        crate::faults::apply(&mut n, &spec(FaultKind::Isolate, NamedTarget::Leader), 0, 1, 0);
        assert!(n.desired[0].links[1].blocked && n.desired[0].links[2].blocked);
        assert!(n.desired[1].links[0].blocked && n.desired[2].links[0].blocked);
        assert!(!n.desired[1].links[2].blocked);
        crate::faults::heal_everything(&mut n);
        assert!(n.desired.iter().all(|d| d.links.iter().all(|l| !l.blocked)));
    }
}
