//! Framing and the messages that cross a live connection.
//!
//! Every frame is a 4-byte big-endian payload length and a postcard payload:
//!
//! ```text
//! +-------------+------------------------+
//! | len: u32 BE | postcard(message): len |
//! +-------------+------------------------+
//! ```
//!
//! The first frame of a connection is a [`Hello`] naming what the connection carries: a
//! peer's protocol messages, a client's requests, or the harness's admin link. A frame longer
//! than [`MAX_FRAME_BYTES`] or one that does not decode closes the connection.

use crate::profile::NodeProfile;
use model::run::NodeStats;
use model::scenario::Dist;
use replog::command::ClientCommand;
use replog::{ClientId, CmdId, KvResult, LogIndex, NodeId, NotLeader, Status};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest frame accepted (a batch of entries fits many times over).
pub const MAX_FRAME_BYTES: usize = 64 << 20;
/// Identifies the workbench wire format in every [`Hello`].
pub const WIRE_MAGIC: u32 = 0x5742_4c56; // "WBLV"
/// Bumped whenever a message below changes shape.
pub const WIRE_VERSION: u16 = 1;

/// A framing or decoding failure.
#[derive(Debug, Error)]
pub enum CodecError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {len} bytes exceeds the limit of {MAX_FRAME_BYTES} bytes")]
    TooLarge { len: usize },
    #[error("frame does not decode: {0}")]
    Decode(postcard::Error),
    #[error("message does not encode: {0}")]
    Encode(postcard::Error),
    #[error("connection closed in the middle of a frame")]
    Truncated,
}

/// Appends `msg` as one frame to `out`; returns the payload length.
pub fn encode_frame<T: Serialize + ?Sized>(msg: &T, out: &mut Vec<u8>) -> Result<usize, CodecError> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    let taken = std::mem::take(out);
    let mut buf = postcard::to_extend(msg, taken).map_err(CodecError::Encode)?;
    let len = buf.len() - start - 4;
    if len > MAX_FRAME_BYTES {
        buf.truncate(start);
        *out = buf;
        return Err(CodecError::TooLarge { len });
    }
    buf[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
    *out = buf;
    Ok(len)
}

/// Reads one frame into `buf` and decodes it. `Ok(None)` on a clean end of stream between
/// frames.
pub async fn read_frame<R, T>(r: &mut R, buf: &mut Vec<u8>) -> Result<Option<T>, CodecError>
where
    R: AsyncRead + Unpin,
    T: DeserializeOwned,
{
    let mut len = [0u8; 4];
    match r.read_exact(&mut len[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    read_exact_or_truncated(r, &mut len[1..]).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(CodecError::TooLarge { len });
    }
    buf.clear();
    buf.resize(len, 0);
    read_exact_or_truncated(r, buf).await?;
    postcard::from_bytes(buf).map(Some).map_err(CodecError::Decode)
}

async fn read_exact_or_truncated<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> Result<(), CodecError> {
    match r.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(CodecError::Truncated),
        Err(e) => Err(e.into()),
    }
}

/// What a connection carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnKind {
    /// Protocol messages from peer `from`.
    Peer { from: NodeId },
    /// Client requests; the node answers with [`ClientResponse`]s.
    Client,
    /// The harness's admin link: [`AdminRequest`]s in, [`AdminEvent`]s out.
    Admin,
}

/// The first frame of every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub magic: u32,
    pub version: u16,
    pub kind: ConnKind,
}

impl Hello {
    pub fn new(kind: ConnKind) -> Self {
        Hello {
            magic: WIRE_MAGIC,
            version: WIRE_VERSION,
            kind,
        }
    }

    /// Why this hello cannot be accepted, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.magic != WIRE_MAGIC {
            return Some(format!("not a workbench connection (magic {:#010x})", self.magic));
        }
        if self.version != WIRE_VERSION {
            return Some(format!(
                "wire version {} but this node speaks {WIRE_VERSION}",
                self.version
            ));
        }
        None
    }
}

/// A client's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    pub cmd: ClientCommand,
}

/// A node's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientResponse {
    pub client: ClientId,
    pub seq: u64,
    pub node: NodeId,
    pub result: Result<KvResult, NotLeader>,
}

/// Faults on one outgoing link, applied by the sender's transport.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkFault {
    /// Drop everything on this link.
    pub blocked: bool,
    /// Drop each message with this probability.
    pub loss: f64,
    /// Hold each message this long before sending it.
    pub extra_delay_ns: u64,
}

/// Every fault a node applies to itself. The harness always sends the whole state, so a
/// restarted node is brought up to date with one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultState {
    /// Indexed by destination node id.
    pub links: Vec<LinkFault>,
    /// Send each message twice with this probability.
    pub duplicate: f64,
    /// The node's clock runs this many times as fast as real time.
    pub clock_rate: f64,
    /// Extra time after each fsync (the `slow_disk` fault).
    pub fsync_delay: Option<Dist>,
}

impl FaultState {
    /// No faults, for a cluster of `nodes`.
    pub fn healthy(nodes: usize) -> Self {
        FaultState {
            links: vec![LinkFault::default(); nodes],
            duplicate: 0.0,
            clock_rate: 1.0,
            fsync_delay: None,
        }
    }
}

/// From the harness to a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// Replace the node's fault state.
    SetFaults(FaultState),
    /// Answer with [`AdminEvent::Final`].
    Final,
}

/// What a node reports at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalState {
    pub status: Status,
    /// Hash of every key and value in the state machine (FNV-1a), to compare nodes.
    pub kv_digest: u64,
    pub kv_applied: u64,
    pub stats: NodeStats,
    /// Where the node's time went (see [`crate::profile`]).
    pub profile: NodeProfile,
}

/// From a node to the harness, streamed over the admin link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminEvent {
    /// First event of a link: who the node is and what it runs.
    Booted {
        id: NodeId,
        protocol: String,
        recovered_records: u64,
    },
    /// The node's role, epoch or leader hint changed.
    Status(Status),
    /// Commands committed since the last report, in index order.
    Commits(Vec<(LogIndex, CmdId)>),
    /// Traffic counters so far (sent periodically).
    Stats(NodeStats),
    Final(Box<FinalState>),
}

/// Writes every message from `rx` as a frame, gathering what is queued into one write.
pub async fn write_frames<T: serde::Serialize, W: tokio::io::AsyncWrite + Unpin>(
    mut w: W,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<T>,
) {
    let mut buf = Vec::new();
    while let Some(first) = rx.recv().await {
        buf.clear();
        if encode_frame(&first, &mut buf).is_err() {
            continue;
        }
        while buf.len() < 256 * 1024 {
            match rx.try_recv() {
                Ok(m) => {
                    let _ = encode_frame(&m, &mut buf);
                }
                Err(_) => break,
            }
        }
        if tokio::io::AsyncWriteExt::write_all(&mut w, &buf).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::Op;

    #[tokio::test]
    async fn frames_round_trip_and_end_cleanly() {
        let msgs = vec![
            ClientRequest {
                cmd: match replog::Command::client(1, 2, Op::Get { key: "k1".into() }) {
                    replog::Command::Client(c) => c,
                    replog::Command::Noop => unreachable!(),
                },
            };
            3
        ];
        let mut wire = Vec::new();
        for m in &msgs {
            encode_frame(m, &mut wire).unwrap();
        }
        let mut r = &wire[..];
        let mut buf = Vec::new();
        for m in &msgs {
            let got: ClientRequest = read_frame(&mut r, &mut buf).await.unwrap().unwrap();
            assert_eq!(&got, m);
        }
        assert!(
            read_frame::<_, ClientRequest>(&mut r, &mut buf)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_frame_cut_short_is_an_error_not_a_clean_end() {
        let mut wire = Vec::new();
        encode_frame(&Hello::new(ConnKind::Client), &mut wire).unwrap();
        wire.pop();
        let mut r = &wire[..];
        let err = read_frame::<_, Hello>(&mut r, &mut Vec::new()).await.unwrap_err();
        assert!(matches!(err, CodecError::Truncated), "{err}");
    }

    #[tokio::test]
    async fn an_oversized_length_is_refused_before_allocating() {
        let wire = (u32::MAX).to_be_bytes();
        let mut r = &wire[..];
        let err = read_frame::<_, Hello>(&mut r, &mut Vec::new()).await.unwrap_err();
        assert!(matches!(err, CodecError::TooLarge { .. }), "{err}");
    }

    #[tokio::test]
    async fn garbage_does_not_decode_into_a_hello() {
        let mut wire = Vec::new();
        encode_frame(&"not a hello at all, just text", &mut wire).unwrap();
        let mut r = &wire[..];
        match read_frame::<_, Hello>(&mut r, &mut Vec::new()).await {
            Ok(Some(h)) => assert!(h.problem().is_some()),
            Ok(None) => panic!("no frame"),
            Err(_) => {}
        }
    }
}
