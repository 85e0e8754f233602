//! Latency percentiles from an HDR histogram (3 significant digits, up to an hour).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The percentiles every report shows, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean_ns: u64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
}

/// A latency histogram.
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            hist: Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds"),
        }
    }
}

impl Latencies {
    /// Records one latency (clamped into the histogram's range).
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns.max(1));
    }

    /// Records `ns` corrected for coordinated omission at `interval_ns`: with the values
    /// `ns - interval_ns`, `ns - 2·interval_ns`, ... down to `interval_ns` (see
    /// [`super::window::open_loop_equivalent`]).
    pub fn record_correct(&mut self, ns: u64, interval_ns: u64) {
        let ns = ns.clamp(1, self.hist.high());
        // Only an out-of-range value fails, and `ns` was clamped into range.
        let _ = self.hist.record_correct(ns, interval_ns);
    }

    /// Forgets every value recorded (keeps the histogram's memory for reuse).
    pub fn clear(&mut self) {
        self.hist.reset();
    }

    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// The value at quantile `q` (0..=1).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.value_at_quantile(q)
        }
    }

    /// The standard percentiles.
    pub fn percentiles(&self) -> Percentiles {
        if self.hist.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: self.hist.len(),
            mean_ns: self.hist.mean() as u64,
            p50_ns: self.hist.value_at_quantile(0.5),
            p90_ns: self.hist.value_at_quantile(0.9),
            p99_ns: self.hist.value_at_quantile(0.99),
            p999_ns: self.hist.value_at_quantile(0.999),
            max_ns: self.hist.max(),
        }
    }

    /// Points of the cumulative distribution: (latency, fraction at or below it), for plots.
    pub fn cdf(&self) -> Vec<(u64, f64)> {
        let total = self.hist.len() as f64;
        if total == 0.0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut seen = 0u64;
        for v in self.hist.iter_recorded() {
            seen += v.count_at_value();
            out.push((v.value_iterated_to(), seen as f64 / total));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_thousand() {
        let mut l = Latencies::default();
        (1..=1000).for_each(|v| l.record(v * 1000));
        let p = l.percentiles();
        assert_eq!(p.count, 1000);
        assert!((p.p50_ns as i64 - 500_000).abs() < 1000, "{p:?}");
        assert!((p.p99_ns as i64 - 990_000).abs() < 1000, "{p:?}");
        assert_eq!(l.cdf().last().map(|&(_, f)| f), Some(1.0));
    }
}
