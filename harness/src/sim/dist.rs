//! Latency distributions for the network and disk models.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal};
use replog::Nanos;
use replog::rng::DetRng;
use serde::{Deserialize, Serialize};

/// A distribution of durations in nanoseconds. Samples are never negative.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case")]
pub enum Dist {
    /// Always `ns`.
    Constant { ns: Nanos },
    /// Uniform in `[min_ns, max_ns]`.
    Uniform { min_ns: Nanos, max_ns: Nanos },
    /// Normal, truncated at zero.
    Normal { mean_ns: Nanos, stddev_ns: Nanos },
    /// Log-normal with the given median and shape `sigma` (a long right tail).
    LogNormal { median_ns: Nanos, sigma: f64 },
}

impl Dist {
    /// A constant distribution.
    pub const fn constant(ns: Nanos) -> Self {
        Dist::Constant { ns }
    }

    /// Draws one duration.
    pub fn sample(&self, rng: &mut DetRng) -> Nanos {
        match *self {
            Dist::Constant { ns } => ns,
            Dist::Uniform { min_ns, max_ns } => rng.random_range(min_ns..=max_ns),
            Dist::Normal { mean_ns, stddev_ns } => {
                let d = Normal::new(mean_ns as f64, stddev_ns as f64).expect("validated stddev");
                d.sample(rng).max(0.0) as Nanos
            }
            Dist::LogNormal { median_ns, sigma } => {
                let d = LogNormal::new((median_ns.max(1) as f64).ln(), sigma).expect("validated sigma");
                d.sample(rng).max(0.0) as Nanos
            }
        }
    }

    /// The distribution's mean (for reports and sanity checks).
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant { ns } => ns as f64,
            Dist::Uniform { min_ns, max_ns } => (min_ns + max_ns) as f64 / 2.0,
            Dist::Normal { mean_ns, .. } => mean_ns as f64,
            Dist::LogNormal { median_ns, sigma } => median_ns as f64 * (sigma * sigma / 2.0).exp(),
        }
    }

    /// Why the parameters are unusable, if they are.
    pub fn problem(&self) -> Option<String> {
        match *self {
            Dist::Uniform { min_ns, max_ns } if min_ns > max_ns => {
                Some(format!("min ({min_ns} ns) exceeds max ({max_ns} ns)"))
            }
            Dist::LogNormal { sigma, .. } if !(sigma.is_finite() && sigma >= 0.0) => {
                Some(format!("sigma must be a finite number >= 0, found {sigma}"))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::rng::rng_for;

    #[test]
    fn samples_stay_in_range_and_near_the_mean() {
        let mut rng = rng_for(1, 2);
        for d in [
            Dist::Uniform {
                min_ns: 10,
                max_ns: 20,
            },
            Dist::Normal {
                mean_ns: 1000,
                stddev_ns: 100,
            },
            Dist::LogNormal {
                median_ns: 1000,
                sigma: 0.3,
            },
        ] {
            let n = 20_000;
            let sum: f64 = (0..n).map(|_| d.sample(&mut rng) as f64).sum();
            let mean = sum / n as f64;
            assert!((mean - d.mean()).abs() / d.mean() < 0.05, "{d:?}: mean {mean}");
        }
    }
}
