//! The admin link between the harness and a node, both ends.
//!
//! Node side ([`AdminLog`]): the node streams what the harness needs to check a run: that it
//! booted, every status change, every commit (index and command id, in order, from index 1
//! after each boot), its traffic counters, and at the end its final state. Events produced
//! before the harness connects are kept (bounded by [`MAX_BACKLOG_COMMITS`]) and sent when it
//! does, so a restarted node's replay of its log is not missed.
//!
//! Harness side ([`AdminLink`]): connects (retrying while the process starts), forwards every
//! event to the run's driver, and sends fault settings and the final-state request.

use crate::codec::{AdminEvent, AdminRequest, ConnKind, read_frame};
use crate::transport::connect;
use replog::{CmdId, KvStore, LogIndex, NodeId};
use std::time::Duration;
use tokio::io::BufReader;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Commits kept for a harness that has not connected yet; beyond it they are dropped (and a
/// harness connecting later will see a gap).
pub const MAX_BACKLOG_COMMITS: usize = 4_000_000;

/// The node's side: events for the harness.
#[derive(Default)]
pub struct AdminLog {
    tx: Option<mpsc::UnboundedSender<AdminEvent>>,
    backlog: Vec<AdminEvent>,
    backlog_commits: usize,
    overflowed: bool,
    commits: Vec<(LogIndex, CmdId)>,
}

impl AdminLog {
    /// Sends `ev` to the harness, or keeps it until one connects.
    pub fn push(&mut self, ev: AdminEvent) {
        let unsent = match &self.tx {
            Some(tx) => tx.send(ev).err().map(|mpsc::error::SendError(ev)| ev),
            None => Some(ev),
        };
        if let Some(ev) = unsent {
            self.tx = None;
            self.keep(ev);
        }
    }

    fn keep(&mut self, ev: AdminEvent) {
        match &ev {
            AdminEvent::Commits(c) => {
                if self.backlog_commits + c.len() > MAX_BACKLOG_COMMITS {
                    if !self.overflowed {
                        tracing::warn!("no harness connected: commit reports are no longer kept");
                        self.overflowed = true;
                    }
                    return;
                }
                self.backlog_commits += c.len();
            }
            AdminEvent::Stats(_) => {
                // Only the latest counters matter.
                self.backlog.retain(|e| !matches!(e, AdminEvent::Stats(_)));
            }
            _ => {}
        }
        self.backlog.push(ev);
    }

    /// Notes a commit; reported by the next [`flush_commits`](Self::flush_commits).
    pub fn commit(&mut self, index: LogIndex, cmd: CmdId) {
        self.commits.push((index, cmd));
    }

    /// Reports the commits noted since the last flush as one event.
    pub fn flush_commits(&mut self) {
        if !self.commits.is_empty() {
            let commits = std::mem::take(&mut self.commits);
            self.push(AdminEvent::Commits(commits));
        }
    }

    /// A harness connected: it gets everything kept so far, then the live stream.
    pub fn attach(&mut self, tx: mpsc::UnboundedSender<AdminEvent>) {
        for ev in self.backlog.drain(..) {
            let _ = tx.send(ev);
        }
        self.backlog_commits = 0;
        self.tx = Some(tx);
    }
}

/// FNV-1a over every key and value, in key order: equal states hash equally.
pub fn kv_digest(kv: &KvStore) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for (k, v) in kv.entries() {
        eat(k.as_bytes());
        eat(&[0xff]);
        eat(v.as_bytes());
        eat(&[0xfe]);
    }
    h
}

/// What the harness hears from one node's admin link.
#[derive(Debug)]
pub enum LinkEvent {
    Connected,
    Event(AdminEvent),
    /// The connection ended (the process died or was killed).
    Closed,
}

/// A message from node `node`'s link; `incarnation` tells boots apart.
#[derive(Debug)]
pub struct FromNode {
    pub node: NodeId,
    pub incarnation: u64,
    pub event: LinkEvent,
}

/// The harness's side of one node's admin link. Dropping it closes the link.
pub struct AdminLink {
    tx: mpsc::UnboundedSender<AdminRequest>,
    task: JoinHandle<()>,
}

/// Retry interval while a node's process starts.
const CONNECT_RETRY: Duration = Duration::from_millis(10);

impl AdminLink {
    /// Connects to `addr` in the background; requests sent before it connects go out after.
    pub fn open(
        node: NodeId,
        incarnation: u64,
        addr: String,
        events: mpsc::UnboundedSender<FromNode>,
    ) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<AdminRequest>();
        let task = tokio::spawn(async move {
            let say = |event| {
                let _ = events.send(FromNode {
                    node,
                    incarnation,
                    event,
                });
            };
            let stream = loop {
                match connect(&addr, ConnKind::Admin).await {
                    Ok(s) => break s,
                    Err(_) => tokio::time::sleep(CONNECT_RETRY).await,
                }
            };
            say(LinkEvent::Connected);
            let (r, w) = stream.into_split();
            let (req_tx, req_rx) = mpsc::unbounded_channel();
            let writer = tokio::spawn(crate::codec::write_frames(w, req_rx));
            let forward = tokio::spawn(async move {
                while let Some(req) = rx.recv().await {
                    if req_tx.send(req).is_err() {
                        break;
                    }
                }
            });
            let mut r = BufReader::with_capacity(256 * 1024, r);
            let mut buf = Vec::new();
            loop {
                match read_frame::<_, AdminEvent>(&mut r, &mut buf).await {
                    Ok(Some(ev)) => say(LinkEvent::Event(ev)),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::debug!(%node, error = %e, "admin link lost");
                        break;
                    }
                }
            }
            forward.abort();
            writer.abort();
            say(LinkEvent::Closed);
        });
        AdminLink { tx, task }
    }

    /// Sends a request (queued until the link is up).
    pub fn send(&self, req: AdminRequest) {
        let _ = self.tx.send(req);
    }
}

impl Drop for AdminLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_before_the_harness_connects_are_delivered_in_order() {
        let mut log = AdminLog::default();
        log.commit(1, CmdId::Noop);
        log.flush_commits();
        log.push(AdminEvent::Stats(Default::default()));
        log.push(AdminEvent::Stats(Default::default()));
        let (tx, mut rx) = mpsc::unbounded_channel();
        log.attach(tx);
        log.commit(2, CmdId::Noop);
        log.flush_commits();
        let got: Vec<AdminEvent> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            got,
            vec![
                AdminEvent::Commits(vec![(1, CmdId::Noop)]),
                AdminEvent::Stats(Default::default()),
                AdminEvent::Commits(vec![(2, CmdId::Noop)]),
            ]
        );
    }

    #[test]
    fn equal_states_have_equal_digests() {
        let put = |v: &str| {
            replog::Command::client(
                1,
                1,
                replog::Op::Put {
                    key: "k".into(),
                    value: v.into(),
                },
            )
        };
        let (mut a, mut b) = (KvStore::new(), KvStore::new());
        a.apply(&put("x"));
        b.apply(&put("x"));
        assert_eq!(kv_digest(&a), kv_digest(&b));
        let mut c = KvStore::new();
        c.apply(&put("y"));
        assert_ne!(kv_digest(&a), kv_digest(&c));
    }
}
