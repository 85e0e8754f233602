//! Per-node clocks, so a `clock_skew` fault can make one node's timers run fast or slow.
//!
//! A node sees local time `local(t) = anchor_local + (t - anchor_sim) * rate`. Protocols only
//! use time to measure timeouts, so a rate is what matters; changing it re-anchors so local
//! time stays continuous and monotonic.

use replog::Nanos;

/// One node's clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock {
    rate: f64,
    anchor_sim: Nanos,
    anchor_local: Nanos,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            rate: 1.0,
            anchor_sim: 0,
            anchor_local: 0,
        }
    }
}

impl Clock {
    /// Local time at simulated time `t` (t at or after the last re-anchoring).
    pub fn local(&self, t: Nanos) -> Nanos {
        let dt = t.saturating_sub(self.anchor_sim);
        if self.rate == 1.0 {
            self.anchor_local + dt
        } else {
            self.anchor_local + (dt as f64 * self.rate) as Nanos
        }
    }

    /// The earliest simulated time at which local time reaches `local`.
    pub fn sim_time(&self, local: Nanos) -> Nanos {
        let dl = local.saturating_sub(self.anchor_local);
        if self.rate == 1.0 {
            self.anchor_sim + dl
        } else {
            let mut t = self.anchor_sim + (dl as f64 / self.rate).ceil() as Nanos;
            // Float rounding may land one short; step until local time has arrived.
            while self.local(t) < local {
                t += 1;
            }
            t
        }
    }

    /// From simulated time `t` on, local time advances `rate` times as fast as real time.
    pub fn set_rate(&mut self, t: Nanos, rate: f64) {
        assert!(rate > 0.0 && rate.is_finite(), "clock rate must be positive");
        self.anchor_local = self.local(t);
        self.anchor_sim = t;
        self.rate = rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_clock_reaches_deadlines_early_and_stays_continuous() {
        let mut c = Clock::default();
        assert_eq!(c.local(1_000), 1_000);
        c.set_rate(1_000, 2.0);
        assert_eq!(c.local(1_000), 1_000);
        assert_eq!(c.local(1_500), 2_000);
        assert_eq!(c.sim_time(2_000), 1_500);
        c.set_rate(2_000, 0.5);
        assert_eq!(c.local(2_000), 3_000);
        assert_eq!(c.sim_time(3_500), 3_000);
    }
}
