//! Turning a scheduled fault into changes to a cluster. Targets are resolved when the fault
//! fires, from what nodes report through `Status` (never from protocol internals), so the
//! same schedule means "crash whoever leads then" for both protocols. Link plans
//! (partitions, bridges, rings) are computed here for every backend.

use crate::scenario::{Direction, Dist, FaultKind, FaultSpec, NamedTarget, TargetSpec, format_duration};
use rand::RngExt;
use replog::rng::{DetRng, rng_for};
use replog::{Nanos, NodeId, Role, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A fault as it happened, for the report's timelines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub at_ns: Nanos,
    pub kind: FaultKind,
    /// The nodes it hit (empty for cluster-wide faults or when the target did not exist).
    pub nodes: Vec<NodeId>,
    /// A short label such as "crash n2 (leader)".
    pub label: String,
    /// False when the target resolved to no node (e.g. "leader" while there was none).
    pub applied: bool,
}

/// What a backend can be asked to do; the simulator and the live runtime implement it.
pub trait FaultTarget {
    fn node_count(&self) -> usize;
    /// Each node's status, None for a node that is down. (`&mut`: a live backend reaps
    /// exited processes to answer.)
    fn statuses(&mut self) -> Vec<Option<Status>>;
    fn paused(&mut self) -> Vec<bool>;
    fn crash(&mut self, node: NodeId);
    fn restart(&mut self, node: NodeId);
    fn pause(&mut self, node: NodeId);
    fn resume(&mut self, node: NodeId);
    fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool);
    fn heal_links(&mut self);
    fn set_loss(&mut self, from: NodeId, to: NodeId, p: f64);
    fn set_extra_delay(&mut self, from: NodeId, to: NodeId, extra: Nanos);
    fn set_duplicate(&mut self, p: f64);
    fn set_clock_rate(&mut self, node: NodeId, rate: f64);
    fn set_fsync(&mut self, node: NodeId, fsync: Option<Dist>);
}

/// The live leader of the highest epoch.
pub fn leader_of(statuses: &[Option<Status>]) -> Option<NodeId> {
    statuses
        .iter()
        .flatten()
        .filter(|s| s.role == Role::Leader)
        .max_by_key(|s| s.epoch)
        .map(|s| s.id)
}

fn pick(rng: &mut DetRng, from: &mut Vec<NodeId>, k: usize) -> Vec<NodeId> {
    let mut out = Vec::new();
    while out.len() < k && !from.is_empty() {
        let i = rng.random_range(0..from.len());
        out.push(from.remove(i));
    }
    out.sort();
    out
}

/// Resolves a target to nodes, now.
pub fn resolve(
    target: &TargetSpec,
    statuses: &[Option<Status>],
    paused: &[bool],
    rng: &mut DetRng,
) -> Vec<NodeId> {
    let n = statuses.len();
    let exists = |id: &u32| (*id as usize) < n;
    let all: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
    let leader = leader_of(statuses);
    let mut followers: Vec<NodeId> = all
        .iter()
        .copied()
        .filter(|&id| statuses[id.index()].is_some() && Some(id) != leader)
        .collect();
    let minority = n.saturating_sub(1) / 2;
    match target {
        // Validation keeps ids in range; one that is not resolves to nothing.
        TargetSpec::Node(id) => Some(*id).filter(exists).map(NodeId).into_iter().collect(),
        TargetSpec::Nodes(ids) => ids.iter().copied().filter(exists).map(NodeId).collect(),
        TargetSpec::Named(name) => match name {
            NamedTarget::Leader => leader.into_iter().collect(),
            NamedTarget::Follower => pick(rng, &mut followers, 1),
            NamedTarget::Minority => pick(rng, &mut followers, minority),
            NamedTarget::MinorityWithLeader => match leader {
                Some(l) => {
                    let mut side = pick(rng, &mut followers, minority.saturating_sub(1));
                    side.push(l);
                    side.sort();
                    side
                }
                None => Vec::new(),
            },
            NamedTarget::All => all,
            NamedTarget::Crashed => all
                .into_iter()
                .filter(|id| statuses[id.index()].is_none())
                .collect(),
            NamedTarget::Paused => all
                .into_iter()
                .filter(|id| paused.get(id.index()).copied().unwrap_or(false))
                .collect(),
        },
    }
}

/// Directed links to cut so that nodes in different groups cannot talk.
pub fn split_links(groups: &[Vec<NodeId>]) -> Vec<(NodeId, NodeId)> {
    let mut cut = Vec::new();
    for (i, a) in groups.iter().enumerate() {
        for (j, b) in groups.iter().enumerate() {
            if i != j {
                for &x in a {
                    for &y in b {
                        cut.push((x, y));
                    }
                }
            }
        }
    }
    cut
}

/// `side` against everyone else.
pub fn side_links(n: usize, side: &[NodeId]) -> Vec<(NodeId, NodeId)> {
    let rest: Vec<NodeId> = (0..n as u32)
        .map(NodeId)
        .filter(|id| !side.contains(id))
        .collect();
    split_links(&[side.to_vec(), rest])
}

/// Two halves that reach each other only through `bridge` (Jepsen's bridge nemesis).
pub fn bridge_links(n: usize, bridge: NodeId) -> Vec<(NodeId, NodeId)> {
    let others: Vec<NodeId> = (0..n as u32).map(NodeId).filter(|&id| id != bridge).collect();
    let (a, b) = others.split_at(others.len() / 2);
    split_links(&[a.to_vec(), b.to_vec()])
}

/// Jepsen's majorities ring: nodes on a shuffled ring each see their neighbours within
/// distance k, enough to see a majority, but no two see the same majority.
pub fn ring_links(n: usize, rng: &mut DetRng) -> Vec<(NodeId, NodeId)> {
    let mut order: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
    let mut shuffled = Vec::new();
    while !order.is_empty() {
        let i = rng.random_range(0..order.len());
        shuffled.push(order.remove(i));
    }
    let k = replog::quorum::majority(n) / 2;
    let mut cut = Vec::new();
    for (i, &a) in shuffled.iter().enumerate() {
        for (j, &b) in shuffled.iter().enumerate() {
            let d = i.abs_diff(j);
            if i != j && d.min(n - d) > k {
                cut.push((a, b));
            }
        }
    }
    cut
}

/// Every directed link touching `nodes` (all links when `nodes` is None).
fn links_touching(n: usize, nodes: Option<&[NodeId]>) -> Vec<(NodeId, NodeId)> {
    let mut out = Vec::new();
    for a in 0..n as u32 {
        for b in 0..n as u32 {
            let (a, b) = (NodeId(a), NodeId(b));
            if a != b && nodes.is_none_or(|set| set.contains(&a) || set.contains(&b)) {
                out.push((a, b));
            }
        }
    }
    out
}

fn names(nodes: &[NodeId]) -> String {
    nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")
}

/// Applies fault number `index` of the schedule to `backend` at time `now`.
pub fn apply(
    backend: &mut impl FaultTarget,
    spec: &FaultSpec,
    index: usize,
    seed: u64,
    now: Nanos,
) -> FaultRecord {
    use FaultKind::*;
    let n = backend.node_count();
    // One RNG per fault: the same draws for every protocol, whatever happened before.
    let mut rng = rng_for(seed, 0xf000_0000 + index as u64);
    let statuses = backend.statuses();
    let paused = backend.paused();
    let targets = spec
        .target
        .as_ref()
        .map(|t| resolve(t, &statuses, &paused, &mut rng));
    let who = match &spec.target {
        Some(TargetSpec::Named(name)) => format!(
            " {} ({})",
            names(targets.as_deref().unwrap_or(&[])),
            serde_json::to_value(name)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        Some(_) => format!(" {}", names(targets.as_deref().unwrap_or(&[]))),
        None => String::new(),
    };
    let kind_name = spec.action.name();
    let mut record = FaultRecord {
        at_ns: now,
        kind: spec.action,
        nodes: targets.clone().unwrap_or_default(),
        label: format!("{kind_name}{who}"),
        applied: true,
    };
    let targeted = targets.clone().unwrap_or_default();
    if spec.target.is_some()
        && targeted.is_empty()
        && !matches!(spec.action, Restart | Resume | ClockSkew | SlowDisk)
    {
        record.applied = false;
        record.label = format!("{kind_name}: no node matched the target, skipped");
        return record;
    }
    let cut = |backend: &mut dyn FnMut(NodeId, NodeId), links: Vec<(NodeId, NodeId)>| {
        for (a, b) in links {
            backend(a, b);
        }
    };
    // Validation requires every field an action needs; a spec built elsewhere without one is
    // skipped, never half applied.
    let skip = |record: &mut FaultRecord, missing: &str| {
        record.applied = false;
        record.label = format!("{kind_name}: no {missing} given, skipped");
    };
    match spec.action {
        Crash => targeted.iter().for_each(|&id| backend.crash(id)),
        Restart => targeted.iter().for_each(|&id| backend.restart(id)),
        Pause => targeted.iter().for_each(|&id| backend.pause(id)),
        Resume => targeted.iter().for_each(|&id| backend.resume(id)),
        Heal => backend.heal_links(),
        Partition => {
            let links = match &spec.groups {
                Some(groups) => {
                    let mut groups: Vec<Vec<NodeId>> = groups
                        .iter()
                        .map(|g| g.iter().map(|&i| NodeId(i)).collect())
                        .collect();
                    let listed: BTreeSet<NodeId> = groups.iter().flatten().copied().collect();
                    let rest: Vec<NodeId> = (0..n as u32)
                        .map(NodeId)
                        .filter(|id| !listed.contains(id))
                        .collect();
                    if !rest.is_empty() {
                        groups.push(rest);
                    }
                    record.label = format!(
                        "partition {}",
                        groups
                            .iter()
                            .map(|g| format!("[{}]", names(g)))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                    split_links(&groups)
                }
                None => side_links(n, &targeted),
            };
            cut(&mut |a, b| backend.set_blocked(a, b, true), links);
        }
        Isolate => cut(
            &mut |a, b| backend.set_blocked(a, b, true),
            side_links(n, &targeted),
        ),
        Bridge => match targeted.first() {
            Some(&bridge) => cut(
                &mut |a, b| backend.set_blocked(a, b, true),
                bridge_links(n, bridge),
            ),
            None => skip(&mut record, "target"),
        },
        MajoritiesRing => cut(
            &mut |a, b| backend.set_blocked(a, b, true),
            ring_links(n, &mut rng),
        ),
        Partial => match leader_of(&statuses) {
            Some(l) => {
                for &t in targeted.iter().filter(|&&t| t != l) {
                    backend.set_blocked(t, l, true);
                    backend.set_blocked(l, t, true);
                }
                record.label = format!("partial: {} cut from leader {l}", names(&targeted));
            }
            None => {
                record.applied = false;
                record.label = "partial: no leader to cut from, skipped".into();
            }
        },
        OneWay => {
            for &t in &targeted {
                for other in (0..n as u32).map(NodeId).filter(|&o| o != t) {
                    match spec.direction.unwrap_or(Direction::Receive) {
                        Direction::Receive => backend.set_blocked(other, t, true),
                        Direction::Send => backend.set_blocked(t, other, true),
                    }
                }
            }
        }
        Loss => match spec.probability {
            Some(p) => {
                for (a, b) in links_touching(n, targets.as_deref()) {
                    backend.set_loss(a, b, p);
                }
                record.label = format!("{kind_name} {:.0}%{who}", p * 100.0);
            }
            None => skip(&mut record, "probability"),
        },
        Delay => match spec.extra {
            Some(extra) => {
                for (a, b) in links_touching(n, targets.as_deref()) {
                    backend.set_extra_delay(a, b, extra.0);
                }
                record.label = format!("{kind_name} +{}{who}", format_duration(extra.0));
            }
            None => skip(&mut record, "extra"),
        },
        Duplicate => match spec.probability {
            Some(p) => {
                backend.set_duplicate(p);
                record.label = format!("{kind_name} {:.0}%", p * 100.0);
            }
            None => skip(&mut record, "probability"),
        },
        ClockSkew => match spec.rate {
            Some(rate) => {
                targeted.iter().for_each(|&id| backend.set_clock_rate(id, rate));
                record.label = format!("{kind_name} x{rate}{who}");
            }
            None => skip(&mut record, "rate"),
        },
        SlowDisk => {
            let fsync = spec.fsync.clone();
            targeted
                .iter()
                .for_each(|&id| backend.set_fsync(id, fsync.clone()));
            if fsync.is_none() {
                record.label = format!("disk restored{who}");
            }
        }
    }
    record
}

/// Undoes every fault: links, loss, delay, duplication, clocks, disks, pauses and crashes.
pub fn heal_everything(backend: &mut impl FaultTarget) {
    let n = backend.node_count();
    backend.heal_links();
    for (a, b) in links_touching(n, None) {
        backend.set_loss(a, b, 0.0);
        backend.set_extra_delay(a, b, 0);
    }
    backend.set_duplicate(0.0);
    let statuses = backend.statuses();
    let paused = backend.paused();
    for id in (0..n as u32).map(NodeId) {
        backend.set_clock_rate(id, 1.0);
        backend.set_fsync(id, None);
        if paused.get(id.index()).copied().unwrap_or(false) {
            backend.resume(id);
        }
        if statuses.get(id.index()).is_some_and(Option::is_none) {
            backend.restart(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(n: usize, cut: &[(NodeId, NodeId)], a: NodeId) -> usize {
        (0..n as u32)
            .map(NodeId)
            .filter(|&b| b == a || !cut.contains(&(a, b)))
            .count()
    }

    #[test]
    fn in_a_majorities_ring_everyone_sees_a_majority_but_no_two_the_same() {
        for n in [5, 7, 9] {
            let cut = ring_links(n, &mut rng_for(n as u64, 1));
            let mut seen = BTreeSet::new();
            for a in (0..n as u32).map(NodeId) {
                assert!(reach(n, &cut, a) >= replog::quorum::majority(n), "n={n} {a}");
                let view: Vec<NodeId> = (0..n as u32)
                    .map(NodeId)
                    .filter(|&b| b == a || !cut.contains(&(a, b)))
                    .collect();
                assert!(seen.insert(view), "n={n}: two nodes see the same majority");
            }
        }
    }

    #[test]
    fn a_bridge_node_reaches_both_halves_which_cannot_reach_each_other() {
        let cut = bridge_links(5, NodeId(2));
        assert_eq!(reach(5, &cut, NodeId(2)), 5);
        assert!(cut.contains(&(NodeId(0), NodeId(4))));
        assert!(!cut.contains(&(NodeId(0), NodeId(1))));
    }

    #[test]
    fn minority_with_leader_puts_the_leader_on_the_small_side() {
        let status = |id: u32, role| {
            Some(Status {
                id: NodeId(id),
                role,
                leader_hint: None,
                epoch: replog::Epoch::term(1),
                commit_index: 0,
                last_index: 0,
            })
        };
        let statuses = vec![
            status(0, Role::Follower),
            status(1, Role::Follower),
            status(2, Role::Leader),
            status(3, Role::Follower),
            status(4, Role::Follower),
        ];
        let t = TargetSpec::Named(NamedTarget::MinorityWithLeader);
        let side = resolve(&t, &statuses, &[false; 5], &mut rng_for(1, 1));
        assert_eq!(side.len(), 2);
        assert!(side.contains(&NodeId(2)));
    }
}
