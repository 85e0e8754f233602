//! Production etcd as a reference: a 3-node (or n-node) etcd cluster on loopback, started
//! from the `etcd` binary, driven by the same workload through etcd's JSON gateway.
//!
//! | workload op | etcd request |
//! | --- | --- |
//! | read | `POST /v3/kv/range {key}` (linearizable: etcd's default, a ReadIndex round) |
//! | write | `POST /v3/kv/put {key, value}` |
//! | cas | `POST /v3/kv/txn` comparing the value (or `create_revision == 0` for "absent"), then put |
//!
//! etcd has no request deduplication, so a write or cas that may have reached a server is
//! never sent again (it would apply twice): the operation waits for that answer or ends as
//! `info`. Reads are retried freely. Keys and values are base64 in the gateway's JSON.
//!
//! The scenario's timing knobs map onto etcd's flags: `--election-timeout` is the scenario's
//! `election_timeout_min` (etcd randomizes in [t, 2t), like the default 150-300 ms range), and
//! `--heartbeat-interval` is the scenario's heartbeat, lowered to a fifth of the election
//! timeout if needed, because etcd refuses anything longer. Everything else keeps etcd's
//! defaults: CheckQuorum is on (a leader that hears from no majority for an election timeout
//! steps down), PreVote is off (no `--pre-vote`).
//!
//! Peer traffic goes through [`proxy`]: each member advertises its proxy's port,
//! which is where the scenario's network faults are applied.

pub mod http;
pub mod proxy;
pub mod status;

pub use status::EtcdStatus;

use crate::events::RunEvent;
use crate::supervisor::ChildSpec;
use http::{HttpConn, HttpError, base64_decode, base64_encode};
use model::workload::ClientReply;
use replog::command::ClientCommand;
use replog::{ClientId, Epoch, KvResult, NodeId, Op, ProtocolConfig, Role, Status};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Overrides the etcd executable.
pub const ETCD_BIN_ENV: &str = "ETCD_BIN";
/// Connection attempts to an etcd member give up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Idle connections kept per member.
const POOL_MAX: usize = 512;
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
/// reach it at `advertised_peer_ports[i]` (its proxy in [`super::etcd_proxy`], or
/// `peer_ports[i]` itself).
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

/// Reads a JSON uint64, which the gateway writes as a string.
fn json_u64(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
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

/// Connections to the members, pooled per member.
pub struct EtcdClient {
    addrs: Vec<String>,
    pools: Vec<Mutex<Vec<HttpConn>>>,
}

impl EtcdClient {
    pub fn new(addrs: Vec<String>) -> Self {
        let pools = addrs.iter().map(|_| Mutex::new(Vec::new())).collect();
        EtcdClient { addrs, pools }
    }

    async fn post(&self, node: usize, path: &str, body: &Value) -> Result<Value, HttpError> {
        let pooled = self.pools[node].lock().ok().and_then(|mut p| p.pop());
        let mut conn = match pooled {
            Some(c) => c,
            None => HttpConn::connect(&self.addrs[node], CONNECT_TIMEOUT).await?,
        };
        let (status, body) = conn.post(path, body.to_string().as_bytes()).await?;
        let uncertain = |reason: String| HttpError::Uncertain {
            addr: self.addrs[node].clone(),
            reason,
        };
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| uncertain(format!("{path}: response is not JSON ({e})")))?;
        if let Ok(mut pool) = self.pools[node].lock()
            && pool.len() < POOL_MAX
        {
            pool.push(conn);
        }
        if status != 200 {
            return Err(uncertain(format!("{path}: HTTP {status}: {value}")));
        }
        Ok(value)
    }

    /// Carries out one workload operation on member `node`.
    pub async fn execute(&self, node: usize, op: &Op) -> Result<KvResult, HttpError> {
        let b64 = |s: &str| base64_encode(s.as_bytes());
        match op {
            Op::Get { key } => {
                let v = self
                    .post(node, "/v3/kv/range", &json!({ "key": b64(key) }))
                    .await?;
                let value = v
                    .get("kvs")
                    .and_then(|kvs| kvs.get(0))
                    .and_then(|kv| kv.get("value"))
                    .and_then(Value::as_str)
                    .map(|s| base64_decode(s).map(|b| String::from_utf8_lossy(&b).into_owned()));
                match value {
                    None => Ok(KvResult::Read(None)),
                    Some(Some(v)) => Ok(KvResult::Read(Some(v))),
                    Some(None) => Err(HttpError::Uncertain {
                        addr: self.addrs[node].clone(),
                        reason: "range: value is not base64".into(),
                    }),
                }
            }
            Op::Put { key, value } => {
                let body = json!({ "key": b64(key), "value": b64(value) });
                self.post(node, "/v3/kv/put", &body).await?;
                Ok(KvResult::Written)
            }
            Op::Cas { key, expected, new } => {
                let compare = match expected {
                    Some(e) => {
                        json!({ "target": "VALUE", "result": "EQUAL", "key": b64(key), "value": b64(e) })
                    }
                    None => {
                        json!({ "target": "CREATE", "result": "EQUAL", "key": b64(key), "create_revision": "0" })
                    }
                };
                let body = json!({
                    "compare": [compare],
                    "success": [{ "request_put": { "key": b64(key), "value": b64(new) } }],
                });
                let v = self.post(node, "/v3/kv/txn", &body).await?;
                let applied = v.get("succeeded").and_then(Value::as_bool).unwrap_or(false);
                Ok(KvResult::Cas { applied })
            }
        }
    }

    /// `/v3/maintenance/status` of member `node`, on a connection of its own.
    pub async fn status(addr: &str) -> Result<EtcdStatus, HttpError> {
        let mut conn = HttpConn::connect(addr, CONNECT_TIMEOUT).await?;
        let (code, body) = conn.post("/v3/maintenance/status", b"{}").await?;
        let bad = |reason: String| HttpError::Uncertain {
            addr: addr.to_string(),
            reason,
        };
        let v: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("status: {e}")))?;
        if code != 200 {
            return Err(bad(format!("status: HTTP {code}: {v}")));
        }
        let header = v.get("header").cloned().unwrap_or(Value::Null);
        Ok(EtcdStatus {
            member_id: json_u64(&header, "member_id").unwrap_or(0),
            leader: json_u64(&v, "leader").unwrap_or(0),
            raft_term: json_u64(&v, "raftTerm").unwrap_or(0),
            raft_index: json_u64(&v, "raftIndex").unwrap_or(0),
        })
    }
}

#[derive(Debug)]
struct Attempt {
    seq: u64,
    in_flight: bool,
    /// A send of this operation may have reached a member.
    maybe_reached: bool,
}

/// The load generator's side for etcd: each request runs in its own task.
pub struct EtcdClients {
    client: Arc<EtcdClient>,
    attempts: Arc<Mutex<HashMap<ClientId, Attempt>>>,
    events: mpsc::UnboundedSender<RunEvent>,
}

impl EtcdClients {
    pub fn new(addrs: Vec<String>, events: mpsc::UnboundedSender<RunEvent>) -> Self {
        EtcdClients {
            client: Arc::new(EtcdClient::new(addrs)),
            attempts: Arc::new(Mutex::new(HashMap::new())),
            events,
        }
    }

    /// Sends `cmd` to member `node`, unless sending it again could apply it twice.
    pub fn send(&self, node: NodeId, cmd: ClientCommand) {
        let retry_safe = matches!(*cmd.op, Op::Get { .. });
        {
            let Ok(mut attempts) = self.attempts.lock() else {
                return;
            };
            let a = attempts.entry(cmd.client).or_insert(Attempt {
                seq: cmd.seq,
                in_flight: false,
                maybe_reached: false,
            });
            if a.seq != cmd.seq {
                *a = Attempt {
                    seq: cmd.seq,
                    in_flight: false,
                    maybe_reached: false,
                };
            }
            if a.in_flight || (a.maybe_reached && !retry_safe) {
                return;
            }
            a.in_flight = true;
        }
        let client = self.client.clone();
        let attempts = self.attempts.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let result = client.execute(node.index(), &cmd.op).await;
            if let Ok(mut attempts) = attempts.lock()
                && let Some(a) = attempts.get_mut(&cmd.client)
                && a.seq == cmd.seq
            {
                a.in_flight = false;
                if let Err(e) = &result {
                    a.maybe_reached |= e.maybe_reached();
                }
            }
            match result {
                Ok(r) => {
                    let reply = ClientReply {
                        node,
                        seq: cmd.seq,
                        result: Ok(r),
                    };
                    let _ = events.send(RunEvent::Reply {
                        client: cmd.client,
                        reply,
                    });
                }
                Err(e) => {
                    tracing::debug!(client = cmd.client, seq = cmd.seq, error = %e, "etcd request failed")
                }
            }
        });
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
                loop {
                    tick.tick().await;
                    let mut status = tokio::time::timeout(every * 5, EtcdClient::status(&addr))
                        .await
                        .ok()
                        .and_then(Result::ok);
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
