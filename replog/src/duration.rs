//! Durations as people write them in scenario and cluster files: `"150ms"`, `"10s"`,
//! `"500us"`, `"1.5s"`, `"2m"`, `"0"`. In human-readable formats (TOML, JSON) a duration is
//! such a string; in binary formats (postcard, on the wire) it is its nanoseconds.

use crate::types::Nanos;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// A duration, in nanoseconds, read and written as text like `"150ms"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Dur(pub Nanos);

/// The units a duration may carry, longest suffix first so "ms" is not read as "s".
const UNITS: [(&str, f64); 6] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
];

/// Text that is not a duration; the message shows what was expected.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error(
    "invalid duration {text:?}: expected a number and a unit, like \"150ms\", \"10s\", \"500us\" or \"2m\""
)]
pub struct DurationError {
    pub text: String,
}

/// Parses `"150ms"`-style text; the error says what was expected.
pub fn parse_duration(text: &str) -> Result<Nanos, DurationError> {
    let t = text.trim();
    if t == "0" {
        return Ok(0);
    }
    for (suffix, scale) in UNITS {
        if let Some(number) = t.strip_suffix(suffix) {
            // "5ms" also ends in "s"; only accept a suffix whose prefix is a plain number.
            if let Ok(v) = number.trim().parse::<f64>() {
                if !(v.is_finite() && v >= 0.0) {
                    break;
                }
                return Ok((v * scale).round() as Nanos);
            }
        }
    }
    Err(DurationError {
        text: text.to_string(),
    })
}

/// Formats nanoseconds the way a person writes them.
pub fn format_duration(ns: Nanos) -> String {
    if ns == 0 {
        "0".into()
    } else if ns.is_multiple_of(60_000_000_000) {
        format!("{}m", ns / 60_000_000_000)
    } else if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        human_ns::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        human_ns::deserialize(d).map(Dur)
    }
}

/// Serde for a [`Nanos`] field written as a duration string in human-readable formats:
/// `#[serde(with = "replog::duration::human_ns")]`.
pub mod human_ns {
    use super::{Nanos, format_duration, parse_duration};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(ns: &Nanos, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&format_duration(*ns))
        } else {
            s.serialize_u64(*ns)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Nanos, D::Error> {
        /// `human`: numbers other than 0 are refused, since "150" could mean any unit.
        struct V {
            human: bool,
        }
        impl serde::de::Visitor<'_> for V {
            type Value = Nanos;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string like \"150ms\" or \"10s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Nanos, E> {
                parse_duration(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Nanos, E> {
                if v == 0 || !self.human {
                    Ok(v)
                } else {
                    Err(E::custom(format!(
                        "bare number {v} is ambiguous: write a duration with its unit, like \"{v}ms\""
                    )))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Nanos, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("{v} is negative: a duration cannot be"))),
                }
            }
        }
        if d.is_human_readable() {
            d.deserialize_any(V { human: true })
        } else {
            d.deserialize_u64(V { human: false })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_every_unit() {
        let cases = [
            ("150ms", 150_000_000),
            ("10s", 10_000_000_000),
            ("500us", 500_000),
            ("1.5s", 1_500_000_000),
            ("2m", 120_000_000_000),
            ("7ns", 7),
            ("0", 0),
        ];
        for (text, ns) in cases {
            assert_eq!(parse_duration(text), Ok(ns), "{text}");
        }
    }

    #[test]
    fn a_duration_without_unit_is_rejected_with_an_example() {
        let err = parse_duration("150").unwrap_err();
        assert!(err.to_string().contains("\"150ms\""), "{err}");
    }

    #[test]
    fn formatting_round_trips() {
        for ns in [0, 7, 500_000, 150_000_000, 10_000_000_000, 120_000_000_000] {
            assert_eq!(parse_duration(&format_duration(ns)), Ok(ns));
        }
    }
}
