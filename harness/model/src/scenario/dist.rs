//! Latency distributions for the network and disk: what a scenario file says and what the
//! simulator and the live fault layer sample from, one type for both.
//!
//! In a scenario file a distribution is a duration (`"1ms"`, constant) or a table such as
//! `{ dist = "normal", mean = "500us", stddev = "50us" }`. In binary formats (the live
//! runtime's admin link) it is the plain enum with nanoseconds.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal};
use replog::Nanos;
use replog::duration::{Dur, format_duration};
use replog::rng::DetRng;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The longest duration a distribution may be given or draw: a simulated day.
pub const MAX_DURATION_NS: Nanos = super::validate::MAX_DURATION_NS;
/// The largest lognormal shape: `sigma = 5` already puts the 99th percentile 100,000 times
/// above the median.
pub const MAX_SIGMA: f64 = 5.0;

/// A distribution of durations in nanoseconds. Samples are never negative.
#[derive(Clone, Debug, PartialEq)]
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

    /// Draws one duration, at most [`MAX_DURATION_NS`] (a long-tailed distribution may draw
    /// beyond it; clamping keeps every sum of times far from overflow).
    pub fn sample(&self, rng: &mut DetRng) -> Nanos {
        self.sample_unclamped(rng).min(MAX_DURATION_NS)
    }

    fn sample_unclamped(&self, rng: &mut DetRng) -> Nanos {
        match *self {
            Dist::Constant { ns } => ns,
            Dist::Uniform { min_ns, max_ns } => rng.random_range(min_ns..=max_ns),
            // `new` refuses only a negative or NaN shape, which validation rules out (a
            // distribution from elsewhere with one degenerates to its centre).
            Dist::Normal { mean_ns, stddev_ns } => match Normal::new(mean_ns as f64, stddev_ns as f64) {
                Ok(d) => d.sample(rng).max(0.0) as Nanos,
                Err(_) => mean_ns,
            },
            Dist::LogNormal { median_ns, sigma } => {
                match LogNormal::new((median_ns.max(1) as f64).ln(), sigma) {
                    Ok(d) => d.sample(rng).max(0.0) as Nanos,
                    Err(_) => median_ns,
                }
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
        let params: &[Nanos] = match self {
            Dist::Constant { ns } => &[*ns],
            Dist::Uniform { min_ns, max_ns } => &[*min_ns, *max_ns],
            Dist::Normal { mean_ns, stddev_ns } => &[*mean_ns, *stddev_ns],
            Dist::LogNormal { median_ns, .. } => &[*median_ns],
        };
        if let Some(&ns) = params.iter().find(|&&ns| ns > MAX_DURATION_NS) {
            return Some(format!(
                "{} is too long: at most 24h (\"1440m\")",
                format_duration(ns)
            ));
        }
        match *self {
            Dist::Uniform { min_ns, max_ns } if min_ns > max_ns => {
                Some(format!("min ({min_ns} ns) exceeds max ({max_ns} ns)"))
            }
            Dist::LogNormal { sigma, .. } if !(sigma.is_finite() && (0.0..=MAX_SIGMA).contains(&sigma)) => {
                Some(format!(
                    "sigma must be a number from 0 to {MAX_SIGMA}, found {sigma}"
                ))
            }
            _ => None,
        }
    }

    /// Whether every sample is zero.
    pub fn always_zero(&self) -> bool {
        match *self {
            Dist::Constant { ns } => ns == 0,
            Dist::Uniform { max_ns, .. } => max_ns == 0,
            Dist::Normal { mean_ns, stddev_ns } => mean_ns == 0 && stddev_ns == 0,
            Dist::LogNormal { .. } => false,
        }
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |ns: Nanos| format_duration(ns);
        match *self {
            Dist::Constant { ns } => write!(f, "{}", d(ns)),
            Dist::Uniform { min_ns, max_ns } => write!(f, "uniform {} to {}", d(min_ns), d(max_ns)),
            Dist::Normal { mean_ns, stddev_ns } => {
                write!(f, "normal, mean {}, stddev {}", d(mean_ns), d(stddev_ns))
            }
            Dist::LogNormal { median_ns, sigma } => {
                write!(f, "lognormal, median {}, sigma {sigma}", d(median_ns))
            }
        }
    }
}

/// The table form of a scenario file.
#[derive(Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
enum DistTable {
    Constant { value: Dur },
    Uniform { min: Dur, max: Dur },
    Normal { mean: Dur, stddev: Dur },
    Lognormal { median: Dur, sigma: f64 },
}

/// The binary form.
#[derive(Serialize, Deserialize)]
enum DistWire {
    Constant { ns: Nanos },
    Uniform { min_ns: Nanos, max_ns: Nanos },
    Normal { mean_ns: Nanos, stddev_ns: Nanos },
    LogNormal { median_ns: Nanos, sigma: f64 },
}

impl From<DistTable> for Dist {
    fn from(t: DistTable) -> Dist {
        match t {
            DistTable::Constant { value } => Dist::Constant { ns: value.0 },
            DistTable::Uniform { min, max } => Dist::Uniform {
                min_ns: min.0,
                max_ns: max.0,
            },
            DistTable::Normal { mean, stddev } => Dist::Normal {
                mean_ns: mean.0,
                stddev_ns: stddev.0,
            },
            DistTable::Lognormal { median, sigma } => Dist::LogNormal {
                median_ns: median.0,
                sigma,
            },
        }
    }
}

impl From<&Dist> for DistTable {
    fn from(d: &Dist) -> DistTable {
        match *d {
            Dist::Constant { ns } => DistTable::Constant { value: Dur(ns) },
            Dist::Uniform { min_ns, max_ns } => DistTable::Uniform {
                min: Dur(min_ns),
                max: Dur(max_ns),
            },
            Dist::Normal { mean_ns, stddev_ns } => DistTable::Normal {
                mean: Dur(mean_ns),
                stddev: Dur(stddev_ns),
            },
            Dist::LogNormal { median_ns, sigma } => DistTable::Lognormal {
                median: Dur(median_ns),
                sigma,
            },
        }
    }
}

impl From<DistWire> for Dist {
    fn from(w: DistWire) -> Dist {
        match w {
            DistWire::Constant { ns } => Dist::Constant { ns },
            DistWire::Uniform { min_ns, max_ns } => Dist::Uniform { min_ns, max_ns },
            DistWire::Normal { mean_ns, stddev_ns } => Dist::Normal { mean_ns, stddev_ns },
            DistWire::LogNormal { median_ns, sigma } => Dist::LogNormal { median_ns, sigma },
        }
    }
}

impl From<&Dist> for DistWire {
    fn from(d: &Dist) -> DistWire {
        match *d {
            Dist::Constant { ns } => DistWire::Constant { ns },
            Dist::Uniform { min_ns, max_ns } => DistWire::Uniform { min_ns, max_ns },
            Dist::Normal { mean_ns, stddev_ns } => DistWire::Normal { mean_ns, stddev_ns },
            Dist::LogNormal { median_ns, sigma } => DistWire::LogNormal { median_ns, sigma },
        }
    }
}

impl Serialize for Dist {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            DistTable::from(self).serialize(s)
        } else {
            DistWire::from(self).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Dist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration like \"1ms\" or a table like { dist = \"normal\", mean = \"1ms\", stddev = \"100us\" } \
                     (dist: constant, uniform, normal, lognormal)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dist, E> {
                let ns = replog::duration::parse_duration(v).map_err(E::custom)?;
                Ok(Dist::Constant { ns })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Dist, A::Error> {
                DistTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(Dist::from)
            }
        }
        if d.is_human_readable() {
            d.deserialize_any(V)
        } else {
            DistWire::deserialize(d).map(Dist::from)
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

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        d: Dist,
    }

    #[test]
    fn a_distribution_round_trips_through_toml_and_postcard() {
        for d in [
            Dist::constant(1_000_000),
            Dist::Uniform {
                min_ns: 10_000_000,
                max_ns: 40_000_000,
            },
            Dist::Normal {
                mean_ns: 500_000,
                stddev_ns: 50_000,
            },
            Dist::LogNormal {
                median_ns: 1_000_000,
                sigma: 0.5,
            },
        ] {
            let h = Holder { d };
            let text = toml::to_string(&h).unwrap();
            assert_eq!(toml::from_str::<Holder>(&text).unwrap(), h, "{text}");
            let bytes = postcard::to_stdvec(&h).unwrap();
            assert_eq!(postcard::from_bytes::<Holder>(&bytes).unwrap(), h);
        }
    }

    #[test]
    fn a_bare_duration_is_a_constant() {
        let h: Holder = toml::from_str("d = \"2ms\"").unwrap();
        assert_eq!(h.d, Dist::constant(2_000_000));
    }
}
