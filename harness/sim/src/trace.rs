//! The event trace: a running hash of every event the simulator processes (for the
//! determinism check) and, when asked, a readable log of them (for failing runs).

use replog::Nanos;
use std::fmt::Write;

const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// `FNV_PRIME` to the powers 0 to 8.
const FNV_POWERS: [u64; 9] = {
    let mut p = [1u64; 9];
    let mut i = 1;
    while i < 9 {
        p[i] = p[i - 1].wrapping_mul(FNV_PRIME);
        i += 1;
    }
    p
};

/// FNV-1a over the 8 little-endian bytes of `word`, exactly. A zero byte only multiplies the
/// hash by the prime, so the run of zero bytes at the top of a small number (most fields are
/// small) folds in with one multiplication by a power of it: the byte-by-byte chain of
/// dependent multiplications was a sixth of the simulator's own time per message.
#[inline]
fn fnv_word(mut h: u64, word: u64) -> u64 {
    let significant = 8 - (word.leading_zeros() / 8) as usize;
    let mut rest = word;
    for _ in 0..significant {
        h = (h ^ (rest & 0xff)).wrapping_mul(FNV_PRIME);
        rest >>= 8;
    }
    h.wrapping_mul(FNV_POWERS[8 - significant])
}

/// What an event in the trace was. The numbers are part of every trace hash: keep them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TraceKind {
    /// A message reached a node.
    Deliver = 1,
    /// A node's protocol timer fired.
    Timer = 2,
    /// An fsync completed.
    FsyncDone = 3,
    /// A client request reached a node.
    Request = 4,
    /// A reply reached a client.
    Reply = 5,
    /// A driver's timer fired.
    DriverTimer = 6,
    /// A node's role, epoch or leader hint changed.
    Status = 7,
    /// A node booted.
    Boot = 8,
    /// A node crashed.
    Crash = 9,
    /// A node was paused.
    Pause = 10,
    /// A paused node resumed.
    Resume = 11,
    /// The driver applied a scheduled fault.
    Fault = 12,
}

/// FNV-1a over the fields of each event.
#[derive(Clone, Debug)]
pub struct Trace {
    hash: u64,
    events: u64,
    log: Option<String>,
    log_limit: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            hash: 0xcbf2_9ce4_8422_2325,
            events: 0,
            log: None,
            log_limit: 0,
        }
    }
}

impl Trace {
    /// Also keeps a text log of up to `limit` bytes.
    pub fn with_log(limit: usize) -> Self {
        Trace {
            log: Some(String::new()),
            log_limit: limit,
            ..Self::default()
        }
    }

    /// Folds one event into the hash: its time, a kind tag and up to three numbers.
    #[inline]
    pub fn record(&mut self, time: Nanos, kind: TraceKind, a: u64, b: u64, c: u64) {
        self.events += 1;
        let mut h = self.hash;
        for word in [time, kind as u64, a, b, c] {
            h = fnv_word(h, word);
        }
        self.hash = h;
    }

    /// Whether a text log is kept (so callers can skip formatting otherwise).
    #[inline]
    pub fn logging(&self) -> bool {
        self.log.is_some()
    }

    /// Appends a line to the text log, if one is kept.
    pub fn line(&mut self, time: Nanos, text: std::fmt::Arguments<'_>) {
        if let Some(log) = self.log.as_mut()
            && log.len() < self.log_limit
        {
            let _ = writeln!(log, "{:>12.6}s {}", time as f64 / 1e9, text);
        }
    }

    /// The hash of everything recorded so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The text log, if kept.
    pub fn text(&self) -> Option<&str> {
        self.log.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fnv_bytes(mut h: u64, word: u64) -> u64 {
        for byte in word.to_le_bytes() {
            h ^= byte as u64;
            h = h.wrapping_mul(FNV_PRIME);
        }
        h
    }

    #[test]
    fn folding_a_word_is_fnv_over_its_bytes() {
        let mut words = vec![
            0,
            1,
            0xff,
            0x100,
            0x1_0000_0000,
            u64::MAX,
            1 << 63,
            0x00ff_0000_ff00,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for shift in 0..64 {
            x = x.rotate_left(7).wrapping_mul(0x2545_f491_4f6c_dd1d);
            words.push(x >> shift);
        }
        for (i, &w) in words.iter().enumerate() {
            let h = 0xcbf2_9ce4_8422_2325u64.wrapping_add(i as u64);
            assert_eq!(fnv_word(h, w), fnv_bytes(h, w), "{w:#x}");
        }
    }
}
