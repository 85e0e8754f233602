//! Key choice: uniform, zipfian (a few keys take most operations) or hotspot.

use crate::scenario::{KeyDistribution, WorkloadSpec};
use rand::RngExt;
use rand_distr::{Distribution, Zipf};
use replog::rng::DetRng;

/// Draws key indices in `0..keys`.
#[derive(Clone, Debug)]
pub enum KeyChooser {
    Uniform { keys: usize },
    Zipfian { zipf: Zipf<f64> },
    Hotspot { keys: usize, hot: usize, hot_ops: f64 },
}

impl KeyChooser {
    pub fn new(spec: &WorkloadSpec) -> Self {
        match spec.distribution {
            KeyDistribution::Uniform => KeyChooser::Uniform { keys: spec.keys },
            KeyDistribution::Zipfian => KeyChooser::Zipfian {
                zipf: Zipf::new(spec.keys as f64, spec.zipf_exponent).expect("validated exponent"),
            },
            KeyDistribution::Hotspot => KeyChooser::Hotspot {
                keys: spec.keys,
                hot: ((spec.keys as f64 * spec.hotspot_keys).ceil() as usize).clamp(1, spec.keys),
                hot_ops: spec.hotspot_ops,
            },
        }
    }

    /// One key index.
    pub fn pick(&self, rng: &mut DetRng) -> usize {
        match self {
            KeyChooser::Uniform { keys } => rng.random_range(0..*keys),
            KeyChooser::Zipfian { zipf } => zipf.sample(rng) as usize - 1,
            KeyChooser::Hotspot { keys, hot, hot_ops } => {
                if *hot == *keys || rng.random_bool(*hot_ops) {
                    rng.random_range(0..*hot)
                } else {
                    rng.random_range(*hot..*keys)
                }
            }
        }
    }
}

/// The name of key `i`.
pub fn key_name(i: usize) -> String {
    format!("k{i}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::rng::rng_for;

    fn share_of_top_key(spec: WorkloadSpec) -> f64 {
        let chooser = KeyChooser::new(&spec);
        let mut rng = rng_for(1, 1);
        let mut counts = vec![0usize; spec.keys];
        for _ in 0..100_000 {
            counts[chooser.pick(&mut rng)] += 1;
        }
        *counts.iter().max().expect("keys") as f64 / 100_000.0
    }

    #[test]
    fn zipfian_concentrates_on_few_keys_and_uniform_does_not() {
        let base = WorkloadSpec {
            keys: 100,
            ..WorkloadSpec::default()
        };
        let uniform = share_of_top_key(base.clone());
        let zipf = share_of_top_key(WorkloadSpec {
            distribution: KeyDistribution::Zipfian,
            ..base
        });
        assert!(uniform < 0.02, "{uniform}");
        assert!(zipf > 0.15, "{zipf}");
    }

    #[test]
    fn hotspot_sends_the_configured_share_to_hot_keys() {
        let spec = WorkloadSpec {
            keys: 100,
            distribution: KeyDistribution::Hotspot,
            hotspot_keys: 0.1,
            hotspot_ops: 0.9,
            ..WorkloadSpec::default()
        };
        let chooser = KeyChooser::new(&spec);
        let mut rng = rng_for(2, 2);
        let hot = (0..50_000).filter(|_| chooser.pick(&mut rng) < 10).count() as f64 / 50_000.0;
        assert!((hot - 0.9).abs() < 0.01, "{hot}");
    }
}
