//! The workload's operations on etcd through its gRPC API, with the `etcd-client` crate
//! (tonic): one client, so one HTTP/2 connection, per member, as etcd's own clients keep.
//!
//! | workload op | etcd request |
//! | --- | --- |
//! | read | `KV.Range {key}`: linearizable (etcd's default, a ReadIndex round through the leader), or serializable (the member's own state) when asked |
//! | write | `KV.Put {key, value}` |
//! | cas | `KV.Txn`: compare the value (or `create_revision == 0` for "absent"), then put |
//!
//! How each answer or error ends the operation is in [`super::outcome`].

use super::outcome::{self, Outcome};
use super::status::EtcdStatus;
use crate::events::RunEvent;
use etcd_client::{Client, Compare, CompareOp, ConnectOptions, GetOptions, Txn, TxnOp};
use model::workload::ClientReply;
use replog::command::ClientCommand;
use replog::{ClientId, KvResult, NodeId, NotLeader, Op};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long connecting to a member may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// What a read asks etcd for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadConsistency {
    /// A ReadIndex round: the read sees every write acknowledged before it started.
    #[default]
    Linearizable,
    /// The member answers from its own state, which may be stale (not linearizable).
    Serializable,
}

/// A cas's condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The key holds this value.
    Value(String),
    /// The key does not exist (`create_revision == 0`).
    Absent,
}

/// The etcd request for a workload operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Range {
        key: String,
        serializable: bool,
    },
    Put {
        key: String,
        value: String,
    },
    Txn {
        key: String,
        expected: Expected,
        new: String,
    },
}

impl Request {
    /// The request that carries out `op`.
    pub fn of(op: &Op, reads: ReadConsistency) -> Request {
        match op {
            Op::Get { key } => Request::Range {
                key: key.clone(),
                serializable: reads == ReadConsistency::Serializable,
            },
            Op::Put { key, value } => Request::Put {
                key: key.clone(),
                value: value.clone(),
            },
            Op::Cas { key, expected, new } => Request::Txn {
                key: key.clone(),
                expected: expected.clone().map_or(Expected::Absent, Expected::Value),
                new: new.clone(),
            },
        }
    }

    /// The transaction of a cas: if the condition holds, put the new value.
    fn txn(key: &str, expected: &Expected, new: &str) -> Txn {
        let compare = match expected {
            Expected::Value(v) => Compare::value(key, CompareOp::Equal, v.as_str()),
            Expected::Absent => Compare::create_revision(key, CompareOp::Equal, 0),
        };
        Txn::new().when([compare]).and_then([TxnOp::put(key, new, None)])
    }
}

/// The result of a range: the first value, if any (the workload writes UTF-8 only).
pub fn read_result(value: Option<&[u8]>) -> Result<KvResult, String> {
    match value {
        None => Ok(KvResult::Read(None)),
        Some(v) => std::str::from_utf8(v)
            .map(|s| KvResult::Read(Some(s.to_string())))
            .map_err(|_| "range: the value is not UTF-8".to_string()),
    }
}

/// One member's client.
#[derive(Clone)]
pub struct MemberClient {
    client: Client,
    addr: String,
}

impl MemberClient {
    /// A client of the member at `addr` (`host:port`); connects when first used.
    pub async fn connect(addr: &str) -> Result<MemberClient, etcd_client::Error> {
        let options = ConnectOptions::new().with_connect_timeout(CONNECT_TIMEOUT);
        let client = Client::connect([format!("http://{addr}")], Some(options)).await?;
        Ok(MemberClient {
            client,
            addr: addr.to_string(),
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends `req`, waiting at most `timeout` for the answer.
    pub async fn execute(&self, req: &Request, timeout: Duration) -> Outcome {
        match tokio::time::timeout(timeout, self.send(req)).await {
            Ok(Ok(result)) => Outcome::Ok(result),
            Ok(Err(e)) => {
                let connect_failed = outcome::is_connect_failure(&e);
                outcome::of_error(&e, connect_failed)
            }
            Err(_) => Outcome::Info(format!("no answer from {} within {timeout:?}", self.addr)),
        }
    }

    async fn send(&self, req: &Request) -> Result<KvResult, etcd_client::Error> {
        let mut kv = self.client.kv_client();
        match req {
            Request::Range { key, serializable } => {
                let options = serializable.then(|| GetOptions::new().with_serializable());
                let resp = kv.get(key.as_str(), options).await?;
                read_result(resp.kvs().first().map(|kv| kv.value())).map_err(etcd_client::Error::InvalidArgs)
            }
            Request::Put { key, value } => {
                kv.put(key.as_str(), value.as_str(), None).await?;
                Ok(KvResult::Written)
            }
            Request::Txn { key, expected, new } => {
                let resp = kv.txn(Request::txn(key, expected, new)).await?;
                Ok(KvResult::Cas {
                    applied: resp.succeeded(),
                })
            }
        }
    }

    /// The member's status (`Maintenance.Status`).
    pub async fn status(&self) -> Result<EtcdStatus, etcd_client::Error> {
        let s = self.client.maintenance_client().status().await?;
        Ok(EtcdStatus {
            member_id: s.header().map_or(0, |h| h.member_id()),
            leader: s.leader(),
            raft_term: s.raft_term(),
            raft_index: s.raft_index(),
        })
    }
}

#[derive(Debug)]
struct Attempt {
    seq: u64,
    in_flight: bool,
    /// A send of this operation may have taken effect.
    maybe_applied: bool,
}

/// The load generator's side for etcd: each request runs in its own task.
pub struct EtcdClients {
    members: Vec<MemberClient>,
    reads: ReadConsistency,
    /// Longest wait for one answer (the workload's `op_timeout`).
    timeout: Duration,
    attempts: Arc<Mutex<HashMap<ClientId, Attempt>>>,
    events: mpsc::UnboundedSender<RunEvent>,
}

impl EtcdClients {
    pub async fn connect(
        addrs: &[String],
        reads: ReadConsistency,
        timeout: Duration,
        events: mpsc::UnboundedSender<RunEvent>,
    ) -> Result<Self, etcd_client::Error> {
        let mut members = Vec::with_capacity(addrs.len());
        for a in addrs {
            members.push(MemberClient::connect(a).await?);
        }
        Ok(EtcdClients {
            members,
            reads,
            timeout,
            attempts: Arc::new(Mutex::new(HashMap::new())),
            events,
        })
    }

    /// Sends `cmd` to member `node`, unless sending it again could apply it twice.
    pub fn send(&self, node: NodeId, cmd: ClientCommand) {
        let Some(member) = self.members.get(node.index()).cloned() else {
            return;
        };
        let retry_safe = matches!(*cmd.op, Op::Get { .. });
        {
            let Ok(mut attempts) = self.attempts.lock() else {
                return;
            };
            let a = attempts.entry(cmd.client).or_insert(Attempt {
                seq: cmd.seq,
                in_flight: false,
                maybe_applied: false,
            });
            if a.seq != cmd.seq {
                *a = Attempt {
                    seq: cmd.seq,
                    in_flight: false,
                    maybe_applied: false,
                };
            }
            if a.in_flight || (a.maybe_applied && !retry_safe) {
                return;
            }
            a.in_flight = true;
        }
        let attempts = self.attempts.clone();
        let events = self.events.clone();
        let req = Request::of(&cmd.op, self.reads);
        let timeout = self.timeout;
        tokio::spawn(async move {
            let outcome = member.execute(&req, timeout).await;
            if let Ok(mut attempts) = attempts.lock()
                && let Some(a) = attempts.get_mut(&cmd.client)
                && a.seq == cmd.seq
            {
                a.in_flight = false;
                a.maybe_applied |= outcome.maybe_applied();
            }
            let result = match outcome {
                Outcome::Ok(r) => Ok(r),
                // Certainly not applied: the client backs off and tries the next member.
                Outcome::Fail(why) => {
                    tracing::debug!(client = cmd.client, seq = cmd.seq, %why, "etcd refused");
                    Err(NotLeader { hint: None })
                }
                // Maybe applied: no answer; the client's timeout decides.
                Outcome::Info(why) => {
                    tracing::debug!(client = cmd.client, seq = cmd.seq, %why, "etcd request unresolved");
                    return;
                }
            };
            let reply = ClientReply {
                node,
                seq: cmd.seq,
                result,
            };
            let _ = events.send(RunEvent::Reply {
                client: cmd.client,
                reply,
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_maps_to_its_etcd_request() {
        let get = Op::Get { key: "k1".into() };
        assert_eq!(
            Request::of(&get, ReadConsistency::Linearizable),
            Request::Range {
                key: "k1".into(),
                serializable: false
            }
        );
        assert_eq!(
            Request::of(&get, ReadConsistency::Serializable),
            Request::Range {
                key: "k1".into(),
                serializable: true
            }
        );
        let put = Op::Put {
            key: "k2".into(),
            value: "v".into(),
        };
        assert_eq!(
            Request::of(&put, ReadConsistency::Linearizable),
            Request::Put {
                key: "k2".into(),
                value: "v".into()
            }
        );
        let cas = |expected: Option<&str>| Op::Cas {
            key: "k3".into(),
            expected: expected.map(str::to_string),
            new: "n".into(),
        };
        assert_eq!(
            Request::of(&cas(Some("old")), ReadConsistency::Linearizable),
            Request::Txn {
                key: "k3".into(),
                expected: Expected::Value("old".into()),
                new: "n".into()
            }
        );
        assert_eq!(
            Request::of(&cas(None), ReadConsistency::Linearizable),
            Request::Txn {
                key: "k3".into(),
                expected: Expected::Absent,
                new: "n".into()
            }
        );
    }

    #[test]
    fn a_range_reads_the_first_value_or_none() {
        assert_eq!(read_result(None), Ok(KvResult::Read(None)));
        assert_eq!(read_result(Some(b"abc")), Ok(KvResult::Read(Some("abc".into()))));
        assert!(read_result(Some(&[0xff, 0xfe])).is_err());
    }

    /// A member that is not there: the connect fails, nothing was sent, so the operation
    /// failed and may be retried elsewhere.
    #[tokio::test]
    async fn a_member_that_refuses_connections_fails_the_request() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let member = MemberClient::connect(&format!("127.0.0.1:{port}")).await.unwrap();
        let put = Request::Put {
            key: "k".into(),
            value: "v".into(),
        };
        let outcome = member.execute(&put, Duration::from_secs(5)).await;
        assert!(matches!(outcome, Outcome::Fail(_)), "{outcome:?}");
    }

    /// A member that accepts the connection and never answers: the request may have
    /// reached it, so the write ends as info at the deadline.
    #[tokio::test]
    async fn a_member_that_never_answers_leaves_a_write_unresolved() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let member = MemberClient::connect(&addr).await.unwrap();
        let put = Request::Put {
            key: "k".into(),
            value: "v".into(),
        };
        let outcome = member.execute(&put, Duration::from_millis(300)).await;
        assert!(outcome.maybe_applied(), "{outcome:?}");
        hold.abort();
    }
}
