//! Production etcd as a reference: a 3-node (or n-node) etcd cluster on loopback, started
//! from the `etcd` binary, driven by the same workload through etcd's gRPC API with the
//! `etcd-client` crate ([`client`]; how answers and errors end an operation: [`outcome`]).
//!
//! etcd has no request deduplication, so a write or cas that may have reached a server is
//! never sent again (it would apply twice): the operation waits for that answer or ends as
//! `info`. Reads are retried freely.
//!
//! The scenario's timing knobs map onto etcd's flags: `--election-timeout` is the scenario's
//! `election_timeout_min` (etcd randomizes in [t, 2t), like the default 150-300 ms range), and
//! `--heartbeat-interval` is the scenario's heartbeat, lowered to a fifth of the election
//! timeout if needed, because etcd refuses anything longer. Everything else keeps etcd's
//! defaults: CheckQuorum is on (a leader that hears from no majority for an election timeout
//! steps down), PreVote is off (no `--pre-vote`).
//!
//! Peer traffic goes through [`proxy`] (unless the run asks for direct peer links): each
//! member advertises its proxy's port, which is where the scenario's network faults are
//! applied.

pub mod client;
pub mod outcome;
pub mod proxy;
pub mod status;

pub use client::{EtcdClients, MemberClient, ReadConsistency};
pub use status::EtcdStatus;

use crate::events::RunEvent;
use crate::supervisor::ChildSpec;
use replog::{Epoch, NodeId, ProtocolConfig, Role, Status};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Overrides the etcd executable.
pub const ETCD_BIN_ENV: &str = "ETCD_BIN";
/// How long a leader claim under a term another member already led is held back (see
/// [`LeaderTerms`]).
const STALE_TERM_HOLD: Duration = Duration::from_secs(1);

/// etcd is not installed.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error(
    "the etcd target needs the `etcd` binary, which is not on PATH: install it with \
     `apt-get install etcd-server` (Debian/Ubuntu), or download a release from \
     https://github.com/etcd-io/etcd/releases and put `etcd` on PATH (or set ETCD_BIN)"
)]
pub struct EtcdMissing;

/// The etcd executable: `$ETCD_BIN` or `etcd` on `PATH`, with install instructions if absent.
pub fn etcd_binary() -> Result<PathBuf, EtcdMissing> {
    if let Some(p) = std::env::var_os(ETCD_BIN_ENV) {
        return Ok(PathBuf::from(p));
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("etcd"))
            .find(|p| p.is_file())
    });
    found.ok_or(EtcdMissing)
}

/// etcd's `--heartbeat-interval` and `--election-timeout` in milliseconds for `cfg`.
pub fn etcd_timing_ms(cfg: &ProtocolConfig) -> (u64, u64) {
    let election = (cfg.election_timeout_min_ns / 1_000_000).max(5);
    let heartbeat = (cfg.heartbeat_interval_ns / 1_000_000).clamp(1, election / 5);
    (heartbeat, election)
}

/// The child specs of an etcd cluster: member i listens for clients on `client_ports[i]` and
/// for peers on `peer_ports[i]`, keeping its data in `workdir/etcd-i`. It tells its peers to
/// reach it at `advertised_peer_ports[i]` (its proxy in [`proxy`], or `peer_ports[i]`
/// itself).
pub fn cluster_specs(
    etcd: &Path,
    workdir: &Path,
    client_ports: &[u16],
    peer_ports: &[u16],
    advertised_peer_ports: &[u16],
    cfg: &ProtocolConfig,
    token: &str,
) -> Vec<ChildSpec> {
    let (heartbeat, election) = etcd_timing_ms(cfg);
    let initial: Vec<String> = advertised_peer_ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("e{i}=http://127.0.0.1:{p}"))
        .collect();
    let initial = initial.join(",");
    client_ports
        .iter()
        .zip(peer_ports)
        .zip(advertised_peer_ports)
        .enumerate()
        .map(|(i, ((c, p), a))| {
            let args: Vec<String> = vec![
                format!("--name=e{i}"),
                format!("--data-dir={}", workdir.join(format!("etcd-{i}")).display()),
                format!("--listen-client-urls=http://127.0.0.1:{c}"),
                format!("--advertise-client-urls=http://127.0.0.1:{c}"),
                format!("--listen-peer-urls=http://127.0.0.1:{p}"),
                format!("--initial-advertise-peer-urls=http://127.0.0.1:{a}"),
                format!("--initial-cluster={initial}"),
                "--initial-cluster-state=new".into(),
                format!("--initial-cluster-token={token}"),
                format!("--heartbeat-interval={heartbeat}"),
                format!("--election-timeout={election}"),
                "--logger=zap".into(),
                "--log-outputs=stderr".into(),
            ];
            ChildSpec {
                name: format!("etcd-{i}"),
                program: etcd.to_path_buf(),
                args: args.into_iter().map(Into::into).collect(),
                log: workdir.join(format!("etcd-{i}.log")),
                watch_parent: false,
            }
        })
        .collect()
}

/// Converts etcd statuses (by node index) to the workbench's [`Status`].
pub fn to_status(node: usize, s: &EtcdStatus, members: &[Option<u64>]) -> Status {
    let leader_hint = members
        .iter()
        .position(|m| *m == Some(s.leader) && s.leader != 0)
        .map(|i| NodeId(i as u32));
    Status {
        id: NodeId(node as u32),
        role: if s.leader == s.member_id && s.leader != 0 {
            Role::Leader
        } else {
            Role::Follower
        },
        leader_hint,
        epoch: Epoch::term(s.raft_term),
        commit_index: s.raft_index,
        last_index: s.raft_index,
    }
}

/// The members seen leading each term.
///
/// etcd's status names the member's current leader but gives the term of the last entry it
/// *applied* (`raftTerm` is `EtcdServer.Term()`, set as entries apply), so a member that
/// has just won an election reports the previous leader's term until its first entry of
/// the new term applies: a few milliseconds, or longer when its links are delayed or it
/// cannot commit. Read naively, that would be two leaders in one term. A leader claim under
/// a term another member was already seen leading is therefore held back (reported as "no
/// leader known") until the term moves on, for at most [`STALE_TERM_HOLD`]; a claim that
/// persists longer is passed on, so real double leadership still shows.
#[derive(Debug, Default)]
pub struct LeaderTerms {
    by_term: HashMap<u64, u64>,
}

impl LeaderTerms {
    /// Filters member `s`'s status; `held` is when this member's current claim was first
    /// held back (its poller's own state).
    pub fn filter(&mut self, s: &mut EtcdStatus, held: &mut Option<(u64, Instant)>, now: Instant) {
        if s.leader == 0 || s.leader != s.member_id {
            *held = None;
            return;
        }
        let first = *self.by_term.entry(s.raft_term).or_insert(s.member_id);
        if first == s.member_id {
            *held = None;
            return;
        }
        let since = match *held {
            Some((term, since)) if term == s.raft_term => since,
            _ => {
                *held = Some((s.raft_term, now));
                now
            }
        };
        if now.duration_since(since) < STALE_TERM_HOLD {
            s.leader = 0;
        }
    }
}

/// Polls each member's status every `every`, reporting each answer (None: no answer), with
/// leader claims under a stale term held back (see [`LeaderTerms`]). The pollers end when
/// the receiver is dropped.
pub fn spawn_status_pollers(
    addrs: Vec<String>,
    every: Duration,
    events: mpsc::UnboundedSender<RunEvent>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let terms = Arc::new(Mutex::new(LeaderTerms::default()));
    addrs
        .into_iter()
        .enumerate()
        .map(|(node, addr)| {
            let events = events.clone();
            let terms = terms.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut held = None;
                // A connection of the poller's own, beside the workload's.
                let member = MemberClient::connect(&addr).await.ok();
                loop {
                    tick.tick().await;
                    let mut status = match &member {
                        Some(m) => tokio::time::timeout(every * 5, m.status())
                            .await
                            .ok()
                            .and_then(Result::ok),
                        None => None,
                    };
                    if let Some(s) = &mut status
                        && let Ok(mut terms) = terms.lock()
                    {
                        terms.filter(s, &mut held, Instant::now());
                    }
                    if events.send(RunEvent::EtcdStatus { node, status }).is_err() {
                        return;
                    }
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etcd_timing_keeps_the_election_timeout_and_caps_the_heartbeat() {
        let cfg = ProtocolConfig::default();
        assert_eq!(etcd_timing_ms(&cfg), (30, 150));
        let slow = ProtocolConfig {
            election_timeout_min_ns: 1_000_000_000,
            election_timeout_max_ns: 2_000_000_000,
            heartbeat_interval_ns: 100_000_000,
            ..cfg
        };
        assert_eq!(etcd_timing_ms(&slow), (100, 1000));
    }

    #[test]
    fn the_member_etcd_names_as_leader_is_reported_as_leader() {
        let s = EtcdStatus {
            member_id: 7,
            leader: 7,
            raft_term: 3,
            raft_index: 40,
        };
        let members = [Some(9), Some(7), None];
        let st = to_status(1, &s, &members);
        assert_eq!(st.role, Role::Leader);
        assert_eq!(st.leader_hint, Some(NodeId(1)));
        assert_eq!(st.epoch, Epoch::term(3));
    }

    #[test]
    fn a_new_leader_reporting_the_previous_leaders_term_is_held_back_until_its_term_applies() {
        let status = |member_id, leader, raft_term| EtcdStatus {
            member_id,
            leader,
            raft_term,
            raft_index: 1,
        };
        let mut terms = LeaderTerms::default();
        let (mut held_a, mut held_b) = (None, None);
        let t0 = Instant::now();
        let mut a = status(7, 7, 2);
        terms.filter(&mut a, &mut held_a, t0);
        assert_eq!(a.leader, 7, "the first leader of term 2 is reported");
        // Member 9 wins term 3 but has applied nothing of it yet: it still says term 2.
        let mut b = status(9, 9, 2);
        terms.filter(&mut b, &mut held_b, t0);
        assert_eq!(b.leader, 0, "held back");
        let mut b = status(9, 9, 3);
        terms.filter(&mut b, &mut held_b, t0 + Duration::from_millis(5));
        assert_eq!(b.leader, 9, "reported once its term applied");
        // Followers' statuses pass unchanged.
        let mut f = status(7, 9, 2);
        terms.filter(&mut f, &mut held_a, t0);
        assert_eq!(f.leader, 9);
        // A claim that stays on a term another member led is passed on after a while.
        let mut late = status(11, 11, 3);
        let mut held_c = None;
        terms.filter(&mut late, &mut held_c, t0);
        assert_eq!(late.leader, 0);
        let mut late = status(11, 11, 3);
        terms.filter(&mut late, &mut held_c, t0 + STALE_TERM_HOLD);
        assert_eq!(late.leader, 11);
    }
}
