//! Durations written as strings: `"150ms"`, `"10s"`, `"500us"`, `"1.5s"`, `"2m"`, `"0"`.

use replog::Nanos;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A duration from a scenario file, in nanoseconds.
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

/// Parses `"150ms"`-style text; the error says what was expected.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
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
    Err(format!(
        "invalid duration {text:?}: expected a number and a unit, like \"150ms\", \"10s\", \"500us\" or \"2m\""
    ))
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
        s.serialize_str(&format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string like \"150ms\" or \"10s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dur, E> {
                if v == 0 {
                    Ok(Dur(0))
                } else {
                    Err(E::custom(format!(
                        "bare number {v} is ambiguous: write a duration with its unit, like \"{v}ms\""
                    )))
                }
            }
        }
        d.deserialize_any(V)
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
        assert!(err.contains("\"150ms\""), "{err}");
    }

    #[test]
    fn formatting_round_trips() {
        for ns in [0, 7, 500_000, 150_000_000, 10_000_000_000, 120_000_000_000] {
            assert_eq!(parse_duration(&format_duration(ns)), Ok(ns));
        }
    }
}
