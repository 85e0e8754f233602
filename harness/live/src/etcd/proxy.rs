//! The fault layer for etcd's peer traffic: one TCP proxy per member, inside the harness.
//!
//! Member i advertises its proxy's address (`--initial-advertise-peer-urls`,
//! `--initial-cluster`) instead of its real `--listen-peer-urls` port, so every peer
//! connection to member i goes through proxy i, which forwards the bytes both ways.
//!
//! etcd's rafthttp names the sending member in every raft request: stream GETs
//! (`GET /raft/stream/{message,msgapp}/<from>`), pipeline and snapshot POSTs (`POST /raft`,
//! `POST /raft/snapshot`) carry `X-Server-From: <member id in hex>` and `X-Raft-To: <member
//! id>`. The proxy reads each connection's request head before connecting upstream, and keeps
//! scanning what the client sends until it finds that header (a pipeline connection may first
//! carry a `/raft/probing` GET, which has none). `X-Raft-To` on proxy i teaches the proxy
//! member i's id; the runner also passes the ids the members report in their status.
//!
//! Which way the raft messages flow depends on the request: a stream GET from j to i carries
//! i's messages to j in its response; a POST from j to i carries j's messages to i in its
//! body. So a connection at proxy i from member j is cut when the link i→j is blocked
//! (stream) or j→i is blocked (POST), and a one-way fault cuts only the connections that
//! carry the blocked direction. A cut closes the connection at once and refuses new ones
//! (after reading their head) until healed; etcd reconnects by itself. Extra delay holds each
//! forwarded chunk for the link's delay (client to server: source→member, server to client:
//! member→source), keeping order.
//!
//! What the proxy cannot do: drop or duplicate single messages (TCP retransmits and
//! deduplicates below it), and fault connections that never name their sender (`GET
//! /members`, `GET /version`, `/raft/probing` alone), which it forwards untouched.

use crate::codec::FaultState;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

/// A request head longer than this is forwarded without waiting for its end.
const MAX_HEAD: usize = 16 * 1024;
/// How much of the client's recent bytes is kept while looking for `X-Server-From`.
const SCAN_WINDOW: usize = 16 * 1024;
/// A new connection that sends no request head within this long is closed.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Connecting to the member's real peer port gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const CHUNK: usize = 64 * 1024;

/// Which way a peer connection carries raft messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// `GET /raft/stream/...`: the member connected to writes its messages to the client.
    Stream,
    /// `POST /raft`, `POST /raft/snapshot`: the client sends its messages in the body.
    Push,
}

/// What a peer request says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerRequest {
    /// `X-Server-From`: the member that opened the connection.
    pub from: u64,
    /// `X-Raft-To`: the member it is addressed to.
    pub to: Option<u64>,
    pub flow: Flow,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// `needle` must be lowercase.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// The complete (`\r\n`-terminated) lines of `buf`, without their terminators.
fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        let i = find(rest, b"\r\n")?;
        let line = &rest[..i];
        rest = &rest[i + 2..];
        Some(line)
    })
}

/// The end of the request head at the start of `buf` (just past `\r\n\r\n`).
pub fn head_end(buf: &[u8]) -> Option<usize> {
    find(buf, b"\r\n\r\n").map(|i| i + 4)
}

/// Parses the request head at the start of `head` (complete lines only): its request line
/// and its `X-Server-From` and `X-Raft-To` headers (names compared case-insensitively).
pub fn parse_head(head: &[u8]) -> Option<PeerRequest> {
    let mut ls = lines(head);
    let request_line = ls.next()?;
    let flow = if request_line.starts_with(b"GET /raft/stream/") {
        Flow::Stream
    } else {
        Flow::Push
    };
    let (mut from, mut to) = (None, None);
    for line in ls {
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let id = || {
            std::str::from_utf8(value)
                .ok()
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        };
        if name.eq_ignore_ascii_case(b"x-server-from") {
            from = id();
        } else if name.eq_ignore_ascii_case(b"x-raft-to") {
            to = id();
        }
    }
    Some(PeerRequest {
        from: from?,
        to,
        flow,
    })
}

/// The first request in `window` that names its sender, wherever its head starts (after
/// the last `\r\n\r\n` before the header, or at the start of the window).
pub fn find_request(window: &[u8]) -> Option<PeerRequest> {
    let mut at = 0;
    while let Some(p) = find_ci(&window[at..], b"\r\nx-server-from:").map(|q| q + at) {
        let start = rfind(&window[..p], b"\r\n\r\n").map_or(0, |q| q + 4);
        if let Some(req) = parse_head(&window[start..]) {
            return Some(req);
        }
        at = p + 2;
    }
    None
}

/// Looks for the sender's name in what a client sends, chunk by chunk.
#[derive(Default)]
pub struct Scanner {
    window: Vec<u8>,
}

impl Scanner {
    pub fn feed(&mut self, bytes: &[u8]) -> Option<PeerRequest> {
        self.window.extend_from_slice(bytes);
        if let Some(req) = find_request(&self.window) {
            self.window = Vec::new();
            return Some(req);
        }
        if self.window.len() > SCAN_WINDOW {
            let extra = self.window.len() - SCAN_WINDOW;
            self.window.drain(..extra);
        }
        None
    }
}

/// What every proxy applies now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProxyState {
    /// `blocked[from][to]`: raft messages from member `from` to member `to` are cut.
    pub blocked: Vec<Vec<bool>>,
    /// `delay[from][to]`: extra latency of the bytes from `from` to `to`.
    pub delay: Vec<Vec<Duration>>,
    /// etcd member id to node index.
    pub members: HashMap<u64, usize>,
    /// The proxy is gone: every connection closes.
    pub shutdown: bool,
}

impl ProxyState {
    pub fn healthy(n: usize) -> Self {
        ProxyState {
            blocked: vec![vec![false; n]; n],
            delay: vec![vec![Duration::ZERO; n]; n],
            members: HashMap::new(),
            shutdown: false,
        }
    }

    /// Takes the links of the workbench's per-node fault state (`desired[from].links[to]`).
    pub fn set_links(&mut self, desired: &[FaultState]) {
        for (from, d) in desired.iter().enumerate() {
            for (to, l) in d.links.iter().enumerate() {
                if let Some(b) = self.blocked.get_mut(from).and_then(|r| r.get_mut(to)) {
                    *b = l.blocked;
                }
                if let Some(x) = self.delay.get_mut(from).and_then(|r| r.get_mut(to)) {
                    *x = Duration::from_nanos(l.extra_delay_ns);
                }
            }
        }
    }

    fn is_blocked(&self, from: usize, to: usize) -> bool {
        self.blocked
            .get(from)
            .and_then(|r| r.get(to))
            .copied()
            .unwrap_or(false)
    }

    fn delay_of(&self, from: usize, to: usize) -> Duration {
        self.delay
            .get(from)
            .and_then(|r| r.get(to))
            .copied()
            .unwrap_or(Duration::ZERO)
    }

    /// The node that sent `req`, when its member id is known.
    pub fn source(&self, req: &PeerRequest) -> Option<usize> {
        self.members.get(&req.from).copied()
    }

    /// Whether a connection to member `dst` carrying `req` must be closed (or refused).
    /// Connections whose sender is unknown pass.
    pub fn cut(&self, dst: usize, req: Option<&PeerRequest>) -> bool {
        if self.shutdown {
            return true;
        }
        let Some(req) = req else { return false };
        let Some(src) = self.source(req) else {
            return false;
        };
        if src == dst {
            return false;
        }
        match req.flow {
            Flow::Stream => self.is_blocked(dst, src),
            Flow::Push => self.is_blocked(src, dst),
        }
    }

    /// Extra delay of the bytes the client sends (`to_server`) or receives.
    pub fn delay(&self, dst: usize, req: Option<&PeerRequest>, to_server: bool) -> Duration {
        match req.and_then(|r| self.source(r)) {
            Some(src) if to_server => self.delay_of(src, dst),
            Some(src) => self.delay_of(dst, src),
            None => Duration::ZERO,
        }
    }
}

/// What the proxies did, for the run's log.
#[derive(Debug, Default)]
pub struct ProxyCounters {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections whose sender was identified.
    pub identified: AtomicU64,
    /// New connections refused because their link was cut.
    pub refused: AtomicU64,
    /// Open connections closed by a cut.
    pub cut: AtomicU64,
}

impl std::fmt::Display for ProxyCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        write!(
            f,
            "{} peer connections ({} naming their sender), {} refused and {} closed by cuts",
            g(&self.accepted),
            g(&self.identified),
            g(&self.refused),
            g(&self.cut)
        )
    }
}

/// The proxies of an etcd cluster, one per member, on a thread and runtime of their own (so
/// forwarding etcd's peer traffic does not queue behind the harness's clients, and the
/// clients not behind it). Dropping it closes every listener and connection.
pub struct EtcdProxy {
    state: Arc<watch::Sender<ProxyState>>,
    ports: Vec<u16>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub counters: Arc<ProxyCounters>,
}

impl EtcdProxy {
    /// Binds one proxy per member on a free loopback port; proxy i forwards to
    /// `127.0.0.1:upstream_ports[i]`.
    pub fn start(upstream_ports: &[u16]) -> std::io::Result<EtcdProxy> {
        let n = upstream_ports.len();
        let state = Arc::new(watch::Sender::new(ProxyState::healthy(n)));
        let counters = Arc::new(ProxyCounters::default());
        let mut ports = Vec::with_capacity(n);
        let mut listeners = Vec::with_capacity(n);
        for _ in 0..n {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.set_nonblocking(true)?;
            ports.push(l.local_addr()?.port());
            listeners.push(l);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let upstreams: Vec<SocketAddr> = upstream_ports
            .iter()
            .map(|&p| SocketAddr::from(([127, 0, 0, 1], p)))
            .collect();
        let (st, ct) = (state.clone(), counters.clone());
        let thread = std::thread::Builder::new()
            .name("etcd-proxy".into())
            .spawn(move || {
                rt.block_on(async move {
                    for (dst, (l, upstream)) in listeners.into_iter().zip(upstreams).enumerate() {
                        match TcpListener::from_std(l) {
                            Ok(l) => {
                                tokio::spawn(accept_loop(l, dst, upstream, st.clone(), ct.clone()));
                            }
                            Err(e) => tracing::error!(error = %e, "etcd proxy: listener"),
                        }
                    }
                    let _ = stopped.await;
                });
                // Dropping the runtime ends every connection task, closing its sockets.
            })?;
        Ok(EtcdProxy {
            state,
            ports,
            stop: Some(stop),
            thread: Some(thread),
            counters,
        })
    }

    /// The port member i advertises to its peers.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// Applies the links of the workbench's fault state: closes the connections that a new
    /// cut covers, and sets the delays of what is forwarded from now on.
    pub fn set_faults(&self, desired: &[FaultState]) {
        self.state.send_if_modified(|s| {
            let before = s.clone();
            s.set_links(desired);
            *s != before
        });
    }

    /// Member `id` is node `node`.
    pub fn learn_member(&self, id: u64, node: usize) {
        learn(&self.state, id, node);
    }

    pub fn state(&self) -> ProxyState {
        self.state.borrow().clone()
    }
}

impl Drop for EtcdProxy {
    fn drop(&mut self) {
        self.state.send_modify(|s| s.shutdown = true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn learn(state: &watch::Sender<ProxyState>, id: u64, node: usize) {
    if id != 0 {
        state.send_if_modified(|s| s.members.insert(id, node) != Some(node));
    }
}

async fn accept_loop(
    listener: TcpListener,
    dst: usize,
    upstream: SocketAddr,
    state: Arc<watch::Sender<ProxyState>>,
    counters: Arc<ProxyCounters>,
) {
    loop {
        let Ok((conn, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        counters.accepted.fetch_add(1, Ordering::Relaxed);
        let (state, counters) = (state.clone(), counters.clone());
        tokio::spawn(async move {
            let _ = conn.set_nodelay(true);
            serve(conn, dst, upstream, &state, &counters).await;
        });
    }
}

/// Which way bytes cross a proxied connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// From the member that connected to the member behind this proxy.
    ToServer,
    /// The answer.
    ToClient,
}

/// What both directions of one connection share: where it goes, and who sent it once known.
struct Link {
    dst: usize,
    state: watch::Receiver<ProxyState>,
    req: Arc<OnceLock<PeerRequest>>,
}

impl Link {
    fn delay(&self, dir: Direction) -> Duration {
        self.state
            .borrow()
            .delay(self.dst, self.req.get(), dir == Direction::ToServer)
    }
}

/// How a direction's pump ended.
#[derive(Debug, PartialEq, Eq)]
enum PumpEnd {
    /// Its source closed and everything it sent was written.
    Done,
    /// The request it identified is on a cut link.
    Cut,
}

/// Forwards one direction of a connection. While no delay applies, each chunk is written as
/// soon as it is read (the fault layer costs nothing then); while one does, or bytes delayed
/// earlier are still held, each chunk waits for its time, in order. `first` (the request
/// head, already scanned) goes out before anything is read. `scan`, on the direction toward
/// the member, looks for the request naming its sender (and ends the pump if that request is
/// on a cut link).
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    dir: Direction,
    link: Link,
    first: Vec<u8>,
    mut scan: Option<(Scanner, &ProxyCounters, &watch::Sender<ProxyState>)>,
) -> PumpEnd {
    let mut held: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut last_at: Option<Instant> = None;
    let mut buf = vec![0u8; CHUNK];
    let mut open = true;
    let mut pending = (!first.is_empty()).then_some(first);
    loop {
        // Bytes to forward: the request head handed over, or what the socket gives.
        let (chunk, scanned) = if let Some(p) = pending.take() {
            (Some(p), true)
        } else {
            let next = held.front().map(|(at, _)| *at);
            tokio::select! {
                biased;
                _ = sleep_until_some(next) => {
                    if let Some((_, bytes)) = held.pop_front()
                        && to.write_all(&bytes).await.is_err()
                    {
                        return PumpEnd::Done;
                    }
                    (None, false)
                }
                r = from.read(&mut buf), if open => match r {
                    Ok(k) if k > 0 => (Some(buf[..k].to_vec()), false),
                    _ => {
                        open = false;
                        (None, false)
                    }
                },
            }
        };
        if let Some(bytes) = chunk {
            if !scanned
                && let Some((scanner, counters, state_tx)) = &mut scan
                && link.req.get().is_none()
                && let Some(r) = scanner.feed(&bytes)
            {
                identified(&r, link.dst, counters, state_tx);
                let _ = link.req.set(r);
                if link.state.borrow().cut(link.dst, Some(&r)) {
                    counters.cut.fetch_add(1, Ordering::Relaxed);
                    return PumpEnd::Cut;
                }
            }
            let delay = link.delay(dir);
            if held.is_empty() && delay.is_zero() {
                if to.write_all(&bytes).await.is_err() {
                    return PumpEnd::Done;
                }
            } else {
                // A later chunk never overtakes an earlier one, as on one TCP stream.
                let at = Instant::now() + delay;
                let at = last_at.map_or(at, |prev| at.max(prev));
                last_at = Some(at);
                held.push_back((at, bytes));
            }
        }
        if !open && held.is_empty() {
            let _ = to.shutdown().await;
            return PumpEnd::Done;
        }
    }
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A request named its sender: count it, and learn the receiver's member id.
fn identified(r: &PeerRequest, dst: usize, counters: &ProxyCounters, state_tx: &watch::Sender<ProxyState>) {
    counters.identified.fetch_add(1, Ordering::Relaxed);
    if let Some(to) = r.to {
        learn(state_tx, to, dst);
    }
}

/// One peer connection to member `dst`.
async fn serve(
    mut client: TcpStream,
    dst: usize,
    upstream: SocketAddr,
    state_tx: &watch::Sender<ProxyState>,
    counters: &ProxyCounters,
) {
    let mut state = state_tx.subscribe();
    // The request head, before anything reaches etcd.
    let mut head = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    let deadline = Instant::now() + HEAD_TIMEOUT;
    while head_end(&head).is_none() && head.len() < MAX_HEAD {
        match tokio::time::timeout_at(deadline, client.read(&mut buf)).await {
            Ok(Ok(k)) if k > 0 => head.extend_from_slice(&buf[..k]),
            _ => return,
        }
    }
    let mut scanner = Scanner::default();
    let req = scanner.feed(&head);
    if let Some(r) = &req {
        identified(r, dst, counters, state_tx);
    }
    if state.borrow_and_update().cut(dst, req.as_ref()) {
        counters.refused.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let server = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(upstream)).await {
        Ok(Ok(s)) => s,
        _ => return,
    };
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let known = Arc::new(OnceLock::new());
    if let Some(r) = req {
        let _ = known.set(r);
    }
    let link = |state: &watch::Receiver<ProxyState>| Link {
        dst,
        state: state.clone(),
        req: known.clone(),
    };
    let scan = known.get().is_none().then_some((scanner, counters, state_tx));
    let up = pump(cr, sw, Direction::ToServer, link(&state), head, scan);
    let down = pump(sr, cw, Direction::ToClient, link(&state), Vec::new(), None);
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        tokio::select! {
            end = &mut up, if !up_done => {
                if end == PumpEnd::Cut {
                    return;
                }
                up_done = true;
            }
            _ = &mut down, if !down_done => down_done = true,
            changed = state.changed() => {
                if changed.is_err() || state.borrow_and_update().cut(dst, known.get()) {
                    counters.cut.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::FaultState;

    const STREAM: &[u8] = b"GET /raft/stream/msgapp/e285923851f2723f HTTP/1.1\r\nHost: 127.0.0.1:23800\r\n\
User-Agent: Go-http-client/1.1\r\nX-Etcd-Cluster-Id: 3e8f91ebf1bbca6a\r\nX-Min-Cluster-Version: 3.0.0\r\n\
X-Peerurls: http://127.0.0.1:23802\r\nX-Raft-To: 132c37f40d3da087\r\nX-Server-From: e285923851f2723f\r\n\
X-Server-Version: 3.4.23\r\nAccept-Encoding: gzip\r\n\r\n";

    #[test]
    fn a_stream_request_names_its_sender_and_its_receiver() {
        let req = parse_head(STREAM).unwrap();
        assert_eq!(
            req,
            PeerRequest {
                from: 0xe285923851f2723f,
                to: Some(0x132c37f40d3da087),
                flow: Flow::Stream
            }
        );
        assert_eq!(head_end(STREAM), Some(STREAM.len()));
        let post = b"POST /raft HTTP/1.1\r\nx-server-from: 1a\r\nContent-Length: 3\r\n\r\nabc";
        let req = parse_head(post).unwrap();
        assert_eq!((req.from, req.to, req.flow), (0x1a, None, Flow::Push));
    }

    #[test]
    fn requests_without_a_sender_are_not_identified() {
        assert_eq!(parse_head(b"GET /members HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        assert_eq!(parse_head(b"GET /version HTTP/1.1\r\n\r\n"), None);
        // An incomplete header line is not read.
        assert_eq!(parse_head(b"POST /raft HTTP/1.1\r\nX-Server-From: 1a"), None);
        assert_eq!(
            parse_head(b"POST /raft HTTP/1.1\r\nX-Server-From: zz\r\n\r\n"),
            None
        );
    }

    #[test]
    fn the_scanner_finds_a_sender_in_a_later_request_split_across_chunks() {
        let mut s = Scanner::default();
        assert_eq!(s.feed(b"GET /raft/probing HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        let later = b"POST /raft HTTP/1.1\r\nHost: x\r\nX-Raft-To: 2\r\nX-Server-From: 1b\r\n\r\nbody";
        let (a, b) = later.split_at(50);
        assert_eq!(s.feed(a), None);
        let req = s.feed(b).unwrap();
        assert_eq!((req.from, req.to, req.flow), (0x1b, Some(2), Flow::Push));
        // Binary bytes between requests do not hide the next head.
        let mut s = Scanner::default();
        let mut bytes = vec![0u8, 13, 10, 13, 10, 255];
        bytes.extend_from_slice(b"POST /raft HTTP/1.1\r\nX-Server-From: 7\r\n\r\n");
        assert_eq!(s.feed(&bytes).map(|r| r.from), Some(7));
    }

    /// Three members with ids 10, 11, 12; the fault state of `blocked` (from, to) links.
    fn state(blocked: &[(usize, usize)]) -> ProxyState {
        let mut desired = vec![FaultState::healthy(3); 3];
        for &(f, t) in blocked {
            desired[f].links[t].blocked = true;
        }
        desired[0].links[1].extra_delay_ns = 5_000_000;
        let mut s = ProxyState::healthy(3);
        s.set_links(&desired);
        s.members = (0..3).map(|i| (10 + i as u64, i)).collect();
        s
    }

    fn req(from: u64, flow: Flow) -> PeerRequest {
        PeerRequest { from, to: None, flow }
    }

    #[test]
    fn isolating_a_member_cuts_every_identified_connection_to_and_from_it() {
        let s = state(&[(0, 1), (0, 2), (1, 0), (2, 0)]);
        for flow in [Flow::Stream, Flow::Push] {
            // At proxy 0, from members 1 and 2; at proxies 1 and 2, from member 0.
            assert!(s.cut(0, Some(&req(11, flow))) && s.cut(0, Some(&req(12, flow))));
            assert!(s.cut(1, Some(&req(10, flow))) && s.cut(2, Some(&req(10, flow))));
            // The majority side keeps talking.
            assert!(!s.cut(1, Some(&req(12, flow))) && !s.cut(2, Some(&req(11, flow))));
        }
        // Unknown senders and connections without a sender pass.
        assert!(!s.cut(0, Some(&req(99, Flow::Push))));
        assert!(!s.cut(0, None));
        assert!(!state(&[]).cut(0, Some(&req(11, Flow::Stream))));
    }

    #[test]
    fn a_one_way_cut_closes_only_the_connections_carrying_that_direction() {
        // Messages from 0 to 1 are dropped; 1 to 0 still flow.
        let s = state(&[(0, 1)]);
        // 1 reads 0's stream (at proxy 0, from 1): carries 0→1.
        assert!(s.cut(0, Some(&req(11, Flow::Stream))));
        // 0 posts to 1 (at proxy 1, from 0): carries 0→1.
        assert!(s.cut(1, Some(&req(10, Flow::Push))));
        // 0 reads 1's stream and 1 posts to 0: carry 1→0.
        assert!(!s.cut(1, Some(&req(10, Flow::Stream))));
        assert!(!s.cut(0, Some(&req(11, Flow::Push))));
    }

    #[test]
    fn delays_follow_the_direction_of_the_bytes() {
        let s = state(&[]);
        let ms5 = Duration::from_millis(5);
        // At proxy 1 from member 0: what 0 sends is delayed, what 1 answers is not.
        assert_eq!(s.delay(1, Some(&req(10, Flow::Push)), true), ms5);
        assert_eq!(s.delay(1, Some(&req(10, Flow::Push)), false), Duration::ZERO);
        // At proxy 0 from member 1: 0's stream to 1 is delayed.
        assert_eq!(s.delay(0, Some(&req(11, Flow::Stream)), false), ms5);
        assert_eq!(s.delay(0, None, false), Duration::ZERO);
    }

    /// An echo server standing in for a member's peer port.
    async fn echo_server() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = c.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        port
    }

    /// Connects through proxy `to` as member `from` (ids 10 + index), sends a POST head.
    async fn post_as(proxy: &EtcdProxy, from: u64, to: usize) -> TcpStream {
        let mut c = TcpStream::connect(("127.0.0.1", proxy.ports()[to]))
            .await
            .unwrap();
        let head = format!(
            "POST /raft HTTP/1.1\r\nX-Raft-To: {:x}\r\nX-Server-From: {from:x}\r\n\r\n",
            10 + to
        );
        c.write_all(head.as_bytes()).await.unwrap();
        c
    }

    /// Reads until `want` bytes arrived or the connection closed; returns what came.
    async fn read_some(c: &mut TcpStream, want: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while got.len() < want {
            match tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf)).await {
                Ok(Ok(k)) if k > 0 => got.extend_from_slice(&buf[..k]),
                _ => break,
            }
        }
        got
    }

    /// Whether the connection ends (EOF or error) within 2 s, whatever it delivers first.
    async fn closed(c: &mut TcpStream) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }

    #[tokio::test]
    async fn a_cut_closes_open_connections_refuses_new_ones_and_a_heal_lets_them_in() {
        let upstream = [echo_server().await, echo_server().await, echo_server().await];
        let proxy = EtcdProxy::start(&upstream).unwrap();
        for i in 0..3 {
            proxy.learn_member(10 + i as u64, i);
        }
        let mut c = post_as(&proxy, 10, 1).await;
        let head_len = read_some(&mut c, 1).await.len();
        assert!(head_len > 0, "the head was forwarded and echoed");
        // Isolate member 0.
        let mut desired = vec![FaultState::healthy(3); 3];
        for other in 1..3 {
            desired[0].links[other].blocked = true;
            desired[other].links[0].blocked = true;
        }
        proxy.set_faults(&desired);
        assert!(closed(&mut c).await, "the open connection is closed");
        let mut refused = post_as(&proxy, 10, 2).await;
        assert!(closed(&mut refused).await, "a new connection is refused");
        // Members 1 and 2 still talk.
        let mut ok = post_as(&proxy, 11, 2).await;
        assert!(!read_some(&mut ok, 1).await.is_empty());
        proxy.set_faults(&vec![FaultState::healthy(3); 3]);
        let mut healed = post_as(&proxy, 10, 2).await;
        assert!(!read_some(&mut healed, 1).await.is_empty(), "after the heal");
        assert_eq!(proxy.counters.refused.load(Ordering::Relaxed), 1);
        assert_eq!(proxy.counters.cut.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_delay_holds_the_bytes_of_its_direction_in_order() {
        let upstream = [echo_server().await, echo_server().await];
        let proxy = EtcdProxy::start(&upstream).unwrap();
        proxy.learn_member(10, 0);
        proxy.learn_member(11, 1);
        let mut desired = vec![FaultState::healthy(2); 2];
        desired[0].links[1].extra_delay_ns = 150_000_000;
        proxy.set_faults(&desired);
        let started = Instant::now();
        let mut c = post_as(&proxy, 10, 1).await;
        for k in 0..5u8 {
            c.write_all(&[b'a' + k]).await.unwrap();
        }
        let mut all = read_some(&mut c, 1).await;
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
        while !all.ends_with(b"abcde") {
            let more = read_some(&mut c, 1).await;
            assert!(!more.is_empty(), "the echo ended early: {all:?}");
            all.extend_from_slice(&more);
        }
        assert!(all.ends_with(b"\r\n\r\nabcde"), "order kept: {all:?}");
    }
}
