//! [`TimerToken`]: the timers a run's driver sets on its backend, and what each is for.

/// A timer the driver asked a backend for; the backend hands it back when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerToken {
    /// Client `client`'s timer (start the next operation, resend, give up). A client sets a
    /// new timer whenever its plans change; `generation` tells the current one from stale ones.
    Client { client: u32, generation: u32 },
    /// The next open-loop arrival.
    Arrival,
    /// Fault number `index` of the schedule is due.
    Fault { index: u32 },
    /// A timer of a driver that wraps the scenario's (a test's power losses, say).
    Custom(u32),
}

impl TimerToken {
    /// The token as one number, for the simulator's trace hash. The encoding is older than
    /// this type (clients in the top byte 1, arrivals 2, faults 3), and kept so that every
    /// trace hash stays what it was.
    pub fn trace_code(self) -> u64 {
        match self {
            TimerToken::Client { client, generation } => {
                (1 << 56) | (u64::from(client & 0xff_ffff) << 32) | u64::from(generation)
            }
            TimerToken::Arrival => 2 << 56,
            TimerToken::Fault { index } => (3 << 56) + u64::from(index),
            TimerToken::Custom(n) => (4 << 56) + u64::from(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_codes_of_different_tokens_differ() {
        let tokens = [
            TimerToken::Client {
                client: 0,
                generation: 1,
            },
            TimerToken::Client {
                client: 1,
                generation: 1,
            },
            TimerToken::Arrival,
            TimerToken::Fault { index: 0 },
            TimerToken::Fault { index: 1 },
            TimerToken::Custom(0),
        ];
        let codes: std::collections::BTreeSet<u64> = tokens.iter().map(|t| t.trace_code()).collect();
        assert_eq!(codes.len(), tokens.len());
    }
}
