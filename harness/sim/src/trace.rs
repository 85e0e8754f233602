//! The event trace: a running hash of every event the simulator processes (for the
//! determinism check) and, when asked, a readable log of them (for failing runs).

use replog::Nanos;
use replog::fnv::Fnv64;
use std::fmt::Write;

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
    hash: Fnv64,
    events: u64,
    log: Option<String>,
    log_limit: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            hash: Fnv64::new(),
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
        for word in [time, kind as u64, a, b, c] {
            self.hash.word(word);
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
        self.hash.finish()
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
