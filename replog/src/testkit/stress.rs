//! The randomized fault schedule both protocols' stress tests run on a [`Network`]: random
//! proposals, in-order, reordered and duplicated deliveries, time passing, crashes and
//! restarts, partitions, message loss, held-back persistence and dropped queues. The
//! network's own checks (agreement, commit order, durability, one leader per epoch) run at
//! every step; the caller adds its protocol's structural check (`check`, called every 20
//! steps and at the end: Log Matching for Raft, agreement on chosen slots for Paxos).
//!
//! After the schedule everything is healed and every node restarted; one more command must
//! commit in a new epoch, every index committed during the run must be committed again with
//! the same command, and every node must catch up with the leader.

use super::Network;
use crate::command::{Command, Op};
use crate::config::ProtocolConfig;
use crate::log::{ReplicatedLog, Role};
use crate::rng::{DetRng, RngExt, rng_for};
use crate::types::{Nanos, NodeId};
use std::collections::BTreeSet;

const MS: Nanos = 1_000_000;
const SEC: Nanos = 1_000_000_000;

/// A client write with a unique (client, seq).
fn put(client: u64, seq: u64) -> Command {
    Command::client(
        client,
        seq,
        Op::Put {
            key: format!("k{seq}"),
            value: format!("{client}-{seq}"),
        },
    )
}

/// Runs `steps` random steps of the schedule from `seed` on `nodes` nodes, under the
/// configuration `config` draws from the seed's stream (first, so the schedule that follows
/// depends on it), then heals and checks that nothing committed was lost. Panics at the
/// first broken rule.
pub fn run<L: ReplicatedLog>(
    seed: u64,
    nodes: usize,
    steps: usize,
    config: fn(&mut DetRng) -> ProtocolConfig,
    check: fn(&Network<L>),
) {
    let mut rng = rng_for(seed, 0x5_7e55);
    let cfg = config(&mut rng);
    let mut net = Network::<L>::new(nodes, cfg, seed);
    let members: Vec<NodeId> = net.members().to_vec();
    let mut cut: BTreeSet<(NodeId, NodeId)> = BTreeSet::new();
    let mut seq = 0;
    for step in 0..steps {
        let pick = members[rng.random_range(0..nodes)];
        match rng.random_range(0..1000) {
            0..250 => {
                let target = net.leader().filter(|_| rng.random_bool(0.9)).unwrap_or(pick);
                if net.is_up(target) {
                    seq += 1;
                    let _ = net.propose(target, put(1, seq));
                }
            }
            250..400 => {
                net.deliver_all();
            }
            400..550 => {
                // Reordering: a random subset goes first, the rest keeps its order.
                let mut r = rng_for(seed, step as u64);
                net.deliver_matching(|_, _, _| r.random_bool(0.5));
            }
            550..600 => {
                // Duplication: a copy of a queued message arrives now (the original stays).
                let queued: Vec<_> = net.queued().cloned().collect();
                if !queued.is_empty() {
                    let (from, to, msg) = queued[rng.random_range(0..queued.len())].clone();
                    if net.is_up(to) && !cut.contains(&(from, to)) {
                        let now = net.now();
                        net.node_mut(to).expect("node is up").step(now, from, msg);
                        net.drain(to);
                    }
                }
            }
            600..900 => net.advance(rng.random_range(1..25) * MS),
            900..910 => {
                if net.is_up(pick) {
                    net.crash(pick);
                }
            }
            910..945 => {
                let down: Vec<NodeId> = members.iter().copied().filter(|&m| !net.is_up(m)).collect();
                if !down.is_empty() {
                    net.restart(down[rng.random_range(0..down.len())]);
                }
            }
            945..955 => {
                let mut shuffled = members.clone();
                for i in (1..shuffled.len()).rev() {
                    shuffled.swap(i, rng.random_range(0..=i));
                }
                let split = rng.random_range(1..nodes);
                let (left, right) = shuffled.split_at(split);
                net.partition(&[left, right]);
                for &a in left {
                    for &b in right {
                        cut.insert((a, b));
                        cut.insert((b, a));
                    }
                }
            }
            955..975 => {
                net.heal();
                cut.clear();
            }
            975..980 => {
                let p = [0.05, 0.2, 0.5][rng.random_range(0..3)];
                let mut r = rng_for(seed, 1_000_000 + step as u64);
                net.set_filter(move |_, _, _| r.random_bool(p));
            }
            980..985 => net.set_auto_persist(pick, false),
            985..995 => net.sync(pick),
            995..998 => net.set_auto_persist(pick, true),
            _ => net.drop_queued(),
        }
        if step % 20 == 0 {
            check(&net);
        }
    }
    check(&net);

    // Heal everything; every index committed during the run must be committed again, with
    // the same command, once one more command commits in a new epoch.
    let chosen_before = net.chosen().clone();
    net.heal();
    for &m in &members {
        if !net.is_up(m) {
            net.restart(m);
        }
        net.set_auto_persist(m, true);
    }
    let last = put(2, 1);
    let committed_at = |n: &Network<L>, id: NodeId| n.commits(id).iter().any(|(_, c)| *c == last);
    let mut committed = false;
    for _ in 0..20 {
        let Some(leader) = net.elect(10 * SEC) else {
            continue;
        };
        if net.propose(leader, last.clone()).is_ok() && net.run_until(2 * SEC, |n| committed_at(n, leader)) {
            committed = true;
            break;
        }
    }
    assert!(committed, "no progress after healing");
    net.run_for(2 * SEC);
    check(&net);
    let leader = net.leader().expect("leader");
    assert_eq!(net.status(leader).expect("up").role, Role::Leader);
    let commits = net.commits(leader);
    for (&index, &id) in &chosen_before {
        let now = commits.get(index as usize - 1).map(|(i, c)| (*i, c.id()));
        assert_eq!(
            now,
            Some((index, id)),
            "index {index} committed earlier is lost or changed"
        );
    }
    for &m in &members {
        assert_eq!(
            net.commits(m).len(),
            commits.len(),
            "{m:?} did not catch up with the leader"
        );
    }
}
