//! The event trace: a running hash of every event the simulator processes (for the
//! determinism check) and, when asked, a readable log of them (for failing runs).

use replog::Nanos;
use std::fmt::Write;

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
    pub fn record(&mut self, time: Nanos, kind: u8, a: u64, b: u64, c: u64) {
        self.events += 1;
        for word in [time, kind as u64, a, b, c] {
            for byte in word.to_le_bytes() {
                self.hash ^= byte as u64;
                self.hash = self.hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
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
