//! The load generator's connections: the scenario's clients ([`crate::workload::Workload`],
//! the same sans-IO state machine the simulator drives) send their requests through here and
//! get their replies back as [`RunEvent`]s.
//!
//! For workbench nodes, all clients share one connection per node, with requests and replies
//! matched by (client, seq). Requests for a node that cannot be reached are dropped: the client
//! times out and retries elsewhere, exactly as it does in the simulator.

use crate::codec::{ClientRequest, ClientResponse, ConnKind, encode_frame, read_frame};
use crate::events::RunEvent;
use crate::transport::{BACKOFF_MAX, BACKOFF_MIN, connect};
use model::history::Fun;
use model::workload::ClientReply;
use replog::command::ClientCommand;
use replog::{KvResult, NodeId, Op};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One shared connection per workbench node.
pub struct NodeClients {
    conns: Vec<mpsc::UnboundedSender<ClientRequest>>,
}

impl NodeClients {
    /// Starts a connection task per address; replies go to `events`.
    pub fn start(addrs: &[String], events: mpsc::UnboundedSender<RunEvent>) -> Self {
        let conns = addrs
            .iter()
            .enumerate()
            .map(|(i, addr)| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(node_connection(
                    NodeId(i as u32),
                    addr.clone(),
                    rx,
                    events.clone(),
                ));
                tx
            })
            .collect();
        NodeClients { conns }
    }

    pub fn send(&self, node: NodeId, cmd: ClientCommand) {
        if let Some(c) = self.conns.get(node.index()) {
            let _ = c.send(ClientRequest { cmd });
        }
    }
}

async fn node_connection(
    node: NodeId,
    addr: String,
    mut rx: mpsc::UnboundedReceiver<ClientRequest>,
    events: mpsc::UnboundedSender<RunEvent>,
) {
    let mut backoff = BACKOFF_MIN;
    let mut buf = Vec::new();
    loop {
        // Connect when there is something to send; drop requests while the node is down.
        let Some(first) = rx.recv().await else { return };
        let stream = match connect(&addr, ConnKind::Client).await {
            Ok(s) => s,
            Err(e) => {
                tracing::trace!(%node, error = %e, "client connection failed");
                let until = Instant::now() + backoff;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                while tokio::time::timeout_at(until, rx.recv())
                    .await
                    .is_ok_and(|m| m.is_some())
                {}
                continue;
            }
        };
        backoff = BACKOFF_MIN;
        let (r, mut w) = stream.into_split();
        let events2 = events.clone();
        let mut reader = tokio::spawn(async move {
            let mut r = BufReader::with_capacity(64 * 1024, r);
            let mut buf = Vec::new();
            while let Ok(Some(resp)) = read_frame::<_, ClientResponse>(&mut r, &mut buf).await {
                let reply = ClientReply {
                    node,
                    seq: resp.seq,
                    result: resp.result,
                };
                if events2
                    .send(RunEvent::Reply {
                        client: resp.client,
                        reply,
                    })
                    .is_err()
                {
                    return;
                }
            }
        });
        let mut pending = Some(first);
        loop {
            let req = match pending.take() {
                Some(r) => r,
                None => tokio::select! {
                    r = rx.recv() => match r { Some(r) => r, None => { reader.abort(); return } },
                    _ = &mut reader => break,
                },
            };
            buf.clear();
            let _ = encode_frame(&req, &mut buf);
            while let Ok(more) = rx.try_recv() {
                let _ = encode_frame(&more, &mut buf);
            }
            if w.write_all(&buf).await.is_err() {
                reader.abort();
                break;
            }
        }
    }
}

/// Whether `result` is the kind of answer `op` gets (a node that answers a read with "written"
/// is broken, and its reply must not reach the workload).
pub fn answers(op: Fun, result: &KvResult) -> bool {
    matches!(
        (op, result),
        (Fun::Read, KvResult::Read(_)) | (Fun::Write, KvResult::Written) | (Fun::Cas, KvResult::Cas { .. })
    )
}

/// The kind of an operation.
pub fn fun_of(op: &Op) -> Fun {
    match op {
        Op::Get { .. } => Fun::Read,
        Op::Put { .. } => Fun::Write,
        Op::Cas { .. } => Fun::Cas,
    }
}
