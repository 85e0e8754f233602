//! Scenario files: loading, validation with errors that name the file, the field and the
//! line, the simulator configuration they describe, and the fault schedule they expand to
//! (the random nemesis included), identical for every protocol.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`spec`] | the file format: one type per table |
//! | [`dist`] | latency distributions |
//! | [`validate`] | every rule a parser cannot check, and the limits that make runs finish |
//! | `locate` | the line of a field, for errors found after parsing |

pub mod dist;
mod locate;
pub mod spec;
pub mod validate;

pub use dist::Dist;
pub use replog::duration::{Dur, format_duration, parse_duration};
pub use spec::*;

use crate::protocol::Protocol;
use locate::{field_location, line_location};
use rand::RngExt;
use replog::rng::rng_for;
use std::path::Path;
use thiserror::Error;

/// A scenario that cannot be used, naming the file and the field.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{file}: {field}: {message}")]
pub struct ScenarioError {
    pub file: String,
    /// A dotted path such as `faults[2].probability`, or `(syntax)` for parse errors.
    pub field: String,
    pub message: String,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            field: "(file)".into(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &file)
    }

    /// Parses and validates scenario text; `file` labels errors, which name the line.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError {
            file: file.to_string(),
            field: syntax_field(text, &e),
            message: e.message().to_string()
                + &e.span().map_or(String::new(), |s| line_location(text, s.start)),
        })?;
        scenario.validate(file).map_err(|mut e| {
            e.message += &field_location(text, &e.field);
            e
        })?;
        Ok(scenario)
    }

    /// Checks every relation and range a parser cannot (see [`validate`]).
    pub fn validate(&self, file: &str) -> Result<(), ScenarioError> {
        validate::validate(self, file)
    }

    /// Protocols this scenario runs.
    pub fn protocols(&self) -> Vec<Protocol> {
        self.protocols
            .clone()
            .unwrap_or_else(|| Protocol::COMPARED.to_vec())
    }

    /// The full fault schedule for `seed`: the `[[faults]]` entries plus what the random
    /// nemesis draws, in time order. The same for every protocol.
    pub fn fault_schedule(&self, seed: u64) -> Vec<FaultSpec> {
        let mut all = self.faults.schedule.clone();
        if let Some(r) = &self.faults.random {
            all.extend(random_nemesis(r, self.duration.0, seed));
        }
        all.sort_by_key(|f| f.at);
        all
    }
}

fn syntax_field(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message();
    // serde names the offending field in backticks ("unknown field `foo`, expected ...").
    let key = msg
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    let Some(key) = key else {
        // A value of the wrong type or form: the field that holds it.
        return e
            .span()
            .and_then(|s| locate::field_at(text, s.start))
            .unwrap_or_else(|| "(syntax)".to_string());
    };
    // Qualify it with the table it sits in, read off the nearest header above the error.
    let start = e.span().map_or(0, |s| s.start);
    let section = text
        .get(..start)
        .unwrap_or(text)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|h| h.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    match section {
        Some(s) if !s.is_empty() => format!("{s}.{key}"),
        _ => key.to_string(),
    }
}

fn fault(at: u64, action: FaultKind) -> FaultSpec {
    FaultSpec {
        at: Dur(at),
        action,
        target: None,
        groups: None,
        probability: None,
        extra: None,
        rate: None,
        fsync: None,
        direction: None,
    }
}

/// Draws a schedule of non-overlapping faults, each healed after its duration: one fault at
/// a time, so the cluster always has a chance to recover between them (Jepsen's start/stop
/// nemesis cycle).
pub fn random_nemesis(r: &RandomNemesisSpec, run_ns: u64, seed: u64) -> Vec<FaultSpec> {
    use FaultKind::*;
    let mut rng = rng_for(seed, 0xfa17);
    let mut out = Vec::new();
    // Validation refuses both; a nemesis built in code that has them draws nothing.
    if r.kinds.is_empty() || r.mean_interval.0 == 0 {
        return out;
    }
    let mut t = r.start.0;
    let named = |n: NamedTarget| Some(TargetSpec::Named(n));
    loop {
        let gap: f64 = -(1.0 - rng.random::<f64>()).ln() * r.mean_interval.0 as f64;
        t += gap as u64;
        if t >= run_ns {
            break;
        }
        let Some(&kind) = r.kinds.get(rng.random_range(0..r.kinds.len())) else {
            break;
        };
        let length = (r.fault_duration.0 as f64 * rng.random_range(0.5..1.5)) as u64;
        let end = (t + length).min(run_ns);
        let leader_or_follower = if rng.random_bool(0.5) {
            NamedTarget::Leader
        } else {
            NamedTarget::Follower
        };
        let mut start = fault(t, kind);
        let mut stop = fault(end, Heal);
        match kind {
            Crash => {
                start.target = named(leader_or_follower);
                stop.action = Restart;
                stop.target = named(NamedTarget::Crashed);
            }
            Pause => {
                start.target = named(leader_or_follower);
                stop.action = Resume;
                stop.target = named(NamedTarget::Paused);
            }
            Partition => {
                let side = if rng.random_bool(0.5) {
                    NamedTarget::Minority
                } else {
                    NamedTarget::MinorityWithLeader
                };
                start.target = named(side);
            }
            Isolate | OneWay => start.target = named(leader_or_follower),
            Bridge | Partial => start.target = named(NamedTarget::Follower),
            MajoritiesRing | Heal | Restart | Resume => {}
            Loss => {
                start.probability = Some(rng.random_range(0.05..0.3));
                stop.action = Loss;
                stop.probability = Some(0.0);
            }
            Delay => {
                start.extra = Some(Dur(rng.random_range(5..50) * 1_000_000));
                stop.action = Delay;
                stop.extra = Some(Dur(0));
            }
            Duplicate => {
                start.probability = Some(rng.random_range(0.1..0.3));
                stop.action = Duplicate;
                stop.probability = Some(0.0);
            }
            ClockSkew => {
                start.target = named(leader_or_follower);
                start.rate = Some(if rng.random_bool(0.5) { 0.5 } else { 2.0 });
                stop.action = ClockSkew;
                stop.target = start.target.clone();
                stop.rate = Some(1.0);
                // The target is resolved again at the stop, so restore every clock.
                stop.target = named(NamedTarget::All);
            }
            SlowDisk => {
                start.target = named(leader_or_follower);
                start.fsync = Some(Dist::constant(rng.random_range(20..100) * 1_000_000));
                stop.action = SlowDisk;
                stop.target = named(NamedTarget::All);
            }
        }
        out.push(start);
        out.push(stop);
        t = end;
    }
    out
}

#[cfg(test)]
mod tests;
