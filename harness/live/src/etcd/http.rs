//! A minimal HTTP/1.1 client (POST with a JSON body, keep-alive, `Content-Length` or chunked
//! responses) and base64, enough to talk to etcd's JSON gateway without an HTTP stack.

use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Largest response accepted.
const MAX_BODY_BYTES: usize = 16 << 20;
/// Longest status or header line accepted.
const MAX_LINE_BYTES: usize = 16 << 10;

/// How a request failed, and whether it may have reached the server.
#[derive(Debug, Error)]
pub enum HttpError {
    /// Nothing was sent: the request certainly had no effect.
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The request may have been received and acted upon.
    #[error("request to {addr}: {reason}")]
    Uncertain { addr: String, reason: String },
}

impl HttpError {
    /// True when the request may have had an effect.
    pub fn maybe_reached(&self) -> bool {
        matches!(self, HttpError::Uncertain { .. })
    }
}

/// One keep-alive connection to `addr`.
pub struct HttpConn {
    addr: String,
    stream: BufReader<TcpStream>,
}

impl HttpConn {
    pub async fn connect(addr: &str, timeout: Duration) -> Result<HttpConn, HttpError> {
        let err = |source| HttpError::Connect {
            addr: addr.to_string(),
            source,
        };
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| err(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out")))?
            .map_err(err)?;
        stream.set_nodelay(true).map_err(err)?;
        Ok(HttpConn {
            addr: addr.to_string(),
            stream: BufReader::new(stream),
        })
    }

    /// POSTs `body` to `path`; returns the status code and the response body. After an error
    /// the connection must be dropped.
    pub async fn post(&mut self, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), HttpError> {
        let addr = self.addr.clone();
        let uncertain = |reason: String| HttpError::Uncertain {
            addr: addr.clone(),
            reason,
        };
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        self.stream
            .get_mut()
            .write_all(&req)
            .await
            .map_err(|e| uncertain(format!("writing: {e}")))?;
        let status_line = self.line().await.map_err(uncertain)?;
        let status = parse_status(&status_line)
            .ok_or_else(|| uncertain(format!("bad status line {status_line:?}")))?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            let line = self.line().await.map_err(uncertain)?;
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                }
            }
        }
        let body = if chunked {
            self.chunked_body().await.map_err(uncertain)?
        } else {
            let len = length.ok_or_else(|| uncertain("response without a length".into()))?;
            if len > MAX_BODY_BYTES {
                return Err(uncertain(format!("response of {len} bytes is too large")));
            }
            let mut body = vec![0; len];
            self.stream
                .read_exact(&mut body)
                .await
                .map_err(|e| uncertain(format!("reading the body: {e}")))?;
            body
        };
        Ok((status, body))
    }

    async fn line(&mut self) -> Result<String, String> {
        let mut line = Vec::new();
        let n = (&mut self.stream)
            .take(MAX_LINE_BYTES as u64)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| format!("reading: {e}"))?;
        if n == 0 {
            return Err("connection closed".into());
        }
        if line.last() != Some(&b'\n') {
            return Err("header line too long or cut short".into());
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        String::from_utf8(line).map_err(|_| "header is not UTF-8".to_string())
    }

    async fn chunked_body(&mut self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let line = self.line().await?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
            if body.len() + size > MAX_BODY_BYTES {
                return Err("chunked response too large".into());
            }
            if size == 0 {
                // Trailers, then the blank line.
                while !self.line().await?.is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.stream
                .read_exact(&mut body[start..])
                .await
                .map_err(|e| format!("reading a chunk: {e}"))?;
            let mut crlf = [0u8; 2];
            self.stream
                .read_exact(&mut crlf)
                .await
                .map_err(|e| format!("reading a chunk: {e}"))?;
        }
    }
}

fn parse_status(line: &str) -> Option<u16> {
    let mut parts = line.split_whitespace();
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` on any other character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_test_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert!(base64_decode("a*b").is_none());
    }

    #[tokio::test]
    async fn a_chunked_response_is_reassembled() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await.unwrap();
            s.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n",
            )
            .await
            .unwrap();
        });
        let mut c = HttpConn::connect(&addr, Duration::from_secs(1)).await.unwrap();
        let (status, body) = c.post("/x", b"{}").await.unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"{\"a\":1}"[..]));
    }
}
