//! Scenario files: loading, validation with errors that name the file and field, the
//! simulator configuration they describe, and the fault schedule they expand to (the random
//! nemesis included), identical for every protocol.

pub mod dist;
pub mod spec;

pub use dist::Dist;
pub use replog::duration::{Dur, format_duration, parse_duration};
pub use spec::*;

use crate::protocol::Protocol;
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

    /// Parses and validates scenario text; `file` labels errors.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError {
            file: file.to_string(),
            field: syntax_field(text, &e),
            message: e.message().to_string() + &location(text, &e),
        })?;
        scenario.validate(file)?;
        Ok(scenario)
    }

    /// Checks every relation a parser cannot.
    pub fn validate(&self, file: &str) -> Result<(), ScenarioError> {
        let err = |field: &str, message: String| {
            Err(ScenarioError {
                file: file.to_string(),
                field: field.to_string(),
                message,
            })
        };
        let n = self.cluster.nodes;
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return err(
                "name",
                format!(
                    "{:?} must be non-empty letters, digits, '-' or '_' (it names files)",
                    self.name
                ),
            );
        }
        if self.duration.0 == 0 {
            return err("duration", "must be longer than zero".into());
        }
        if !(1..=15).contains(&n) {
            return err("cluster.nodes", format!("{n} is out of range: expected 1 to 15"));
        }
        if let Some(ps) = &self.protocols {
            for (i, p) in ps.iter().enumerate() {
                if !p.is_simulated() {
                    return err(
                        &format!("protocols[{i}]"),
                        format!(
                            "{p} cannot be listed: a scenario names the workbench's own protocols \
                             ({}); `run --backend live` adds etcd by itself",
                            Protocol::SIMULATED.map(|p| p.name()).join(", ")
                        ),
                    );
                }
            }
        }
        let prob = |field: &str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                err(
                    field,
                    format!("{p} is not a probability: expected a number from 0 to 1"),
                )
            }
        };
        prob("network.loss", self.network.loss)?;
        prob("network.duplicate", self.network.duplicate)?;
        let dist = |field: &str, d: &Dist| match d.problem() {
            Some(p) => err(field, p),
            None => Ok(()),
        };
        dist("network.latency", &self.network.latency)?;
        dist("network.client_latency", &self.network.client_latency)?;
        dist("disk.fsync", &self.disk.fsync)?;
        for (i, l) in self.network.links.iter().enumerate() {
            for (name, id) in [("from", l.from), ("to", l.to)] {
                if id.index() >= n {
                    return err(
                        &format!("network.links[{i}].{name}"),
                        format!("node {} does not exist (nodes are 0..{n})", id.0),
                    );
                }
            }
            dist(&format!("network.links[{i}].latency"), &l.latency)?;
        }
        if let Err(e) = self.protocol.validate() {
            return err(&format!("protocol.{}", e.field), e.problem);
        }
        self.validate_workload(file)?;
        for (i, f) in self.faults.schedule.iter().enumerate() {
            self.validate_fault(file, &format!("faults[{i}]"), f)?;
        }
        if let Some(r) = &self.faults.random {
            if r.mean_interval.0 == 0 {
                return err("faults.random.mean_interval", "must be longer than zero".into());
            }
            if r.kinds.is_empty() {
                return err(
                    "faults.random.kinds",
                    "must name at least one kind of fault".into(),
                );
            }
            for (i, k) in r.kinds.iter().enumerate() {
                if matches!(k, FaultKind::Restart | FaultKind::Resume | FaultKind::Heal) {
                    return err(
                        &format!("faults.random.kinds[{i}]"),
                        format!("{k:?} is a repair, not a fault: the nemesis repairs each fault it starts"),
                    );
                }
            }
        }
        Ok(())
    }

    fn validate_workload(&self, file: &str) -> Result<(), ScenarioError> {
        let w = &self.workload;
        let err = |field: &str, message: String| {
            Err(ScenarioError {
                file: file.to_string(),
                field: format!("workload.{field}"),
                message,
            })
        };
        if w.clients == 0 {
            return err("clients", "must be at least 1".into());
        }
        if w.keys == 0 {
            return err("keys", "must be at least 1".into());
        }
        match (w.mode, w.rate) {
            (LoopMode::Open, None) => {
                return err(
                    "rate",
                    "is required when mode = \"open\" (operations per second)".into(),
                );
            }
            (LoopMode::Open, Some(r)) if !(r.is_finite() && r > 0.0) => {
                return err(
                    "rate",
                    format!("{r} must be a positive number of operations per second"),
                );
            }
            (LoopMode::Closed, Some(_)) => {
                return err(
                    "rate",
                    "applies only to mode = \"open\"; closed-loop clients send as fast as replies come"
                        .into(),
                );
            }
            _ => {}
        }
        let m = &w.mix;
        for (name, v) in [("read", m.read), ("write", m.write), ("cas", m.cas)] {
            if !(v.is_finite() && v >= 0.0) {
                return err(&format!("mix.{name}"), format!("{v} must be a weight >= 0"));
            }
        }
        if m.read + m.write + m.cas <= 0.0 {
            return err("mix", "weights must not all be zero".into());
        }
        if !(w.zipf_exponent.is_finite() && w.zipf_exponent > 0.0) {
            return err(
                "zipf_exponent",
                format!("{} must be greater than 0", w.zipf_exponent),
            );
        }
        for (name, v) in [("hotspot_keys", w.hotspot_keys), ("hotspot_ops", w.hotspot_ops)] {
            if !(v > 0.0 && v <= 1.0) {
                return err(name, format!("{v} must be a fraction in (0, 1]"));
            }
        }
        if w.value_size > 1 << 20 {
            return err(
                "value_size",
                format!("{} bytes is too large: at most 1 MiB", w.value_size),
            );
        }
        if w.request_timeout.0 == 0 {
            return err("request_timeout", "must be longer than zero".into());
        }
        if w.op_timeout < w.request_timeout {
            return err(
                "op_timeout",
                format!(
                    "({}) must be at least request_timeout ({})",
                    w.op_timeout, w.request_timeout
                ),
            );
        }
        Ok(())
    }

    fn validate_fault(&self, file: &str, path: &str, f: &FaultSpec) -> Result<(), ScenarioError> {
        use FaultKind::*;
        let n = self.cluster.nodes as u32;
        let err = |field: &str, message: String| {
            Err(ScenarioError {
                file: file.to_string(),
                field: if field.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}.{field}")
                },
                message,
            })
        };
        if f.at > self.duration {
            return err(
                "at",
                format!("{} is after the workload ends ({})", f.at, self.duration),
            );
        }
        let action = format!("{:?}", f.action).to_lowercase();
        // Which optional fields each action takes: (target, groups, probability, extra, rate, fsync, direction).
        let (t, g, p, e, r, d, dir) = match f.action {
            Crash | Restart | Pause | Resume | Isolate | ClockSkew => {
                (true, false, false, false, f.action == ClockSkew, false, false)
            }
            SlowDisk => (true, false, false, false, false, true, false),
            Partition => (true, true, false, false, false, false, false),
            Bridge => (true, false, false, false, false, false, false),
            OneWay => (true, false, false, false, false, false, true),
            Partial => (true, false, false, false, false, false, false),
            MajoritiesRing | Heal => (false, false, false, false, false, false, false),
            Loss => (true, false, true, false, false, false, false),
            Delay => (true, false, false, true, false, false, false),
            Duplicate => (false, false, true, false, false, false, false),
        };
        let given = [
            ("target", f.target.is_some(), t),
            ("groups", f.groups.is_some(), g),
            ("probability", f.probability.is_some(), p),
            ("extra", f.extra.is_some(), e),
            ("rate", f.rate.is_some(), r),
            ("fsync", f.fsync.is_some(), d),
            ("direction", f.direction.is_some(), dir),
        ];
        for (field, present, allowed) in given {
            if present && !allowed {
                return err(field, format!("does not apply to action \"{action}\""));
            }
        }
        let needs_target = matches!(
            f.action,
            Crash | Restart | Pause | Resume | Isolate | ClockSkew | SlowDisk | OneWay
        );
        if needs_target && f.target.is_none() {
            return err(
                "target",
                format!(
                    "is required for action \"{action}\": {}",
                    "a node id, a list, or a name like \"leader\""
                ),
            );
        }
        if f.action == Partition && f.target.is_none() == f.groups.is_none() {
            return err(
                "",
                "a partition needs exactly one of `groups` (explicit sides) or `target` (one side)".into(),
            );
        }
        if matches!(f.action, Loss | Duplicate) && f.probability.is_none() {
            return err(
                "probability",
                format!("is required for action \"{action}\" (0 to 1; 0 restores)"),
            );
        }
        if let Some(p) = f.probability
            && !(0.0..=1.0).contains(&p)
        {
            return err(
                "probability",
                format!("{p} is not a probability: expected 0 to 1"),
            );
        }
        if f.action == Delay && f.extra.is_none() {
            return err(
                "extra",
                "is required for action \"delay\" (extra latency, \"0\" restores)".into(),
            );
        }
        if f.action == ClockSkew {
            match f.rate {
                None => {
                    return err(
                        "rate",
                        "is required for clock_skew (2.0 runs twice as fast, 1.0 restores)".into(),
                    );
                }
                Some(r) if !(r.is_finite() && r > 0.0) => {
                    return err("rate", format!("{r} must be positive"));
                }
                _ => {}
            }
        }
        let check_ids = |field: &str, ids: &[u32]| {
            for &id in ids {
                if id >= n {
                    return err(field, format!("node {id} does not exist (nodes are 0..{n})"));
                }
            }
            Ok(())
        };
        match &f.target {
            Some(TargetSpec::Node(id)) => check_ids("target", &[*id])?,
            Some(TargetSpec::Nodes(ids)) => check_ids("target", ids)?,
            _ => {}
        }
        if let Some(groups) = &f.groups {
            let mut seen = std::collections::BTreeSet::new();
            for (i, grp) in groups.iter().enumerate() {
                check_ids(&format!("groups[{i}]"), grp)?;
                for &id in grp {
                    if !seen.insert(id) {
                        return err(
                            &format!("groups[{i}]"),
                            format!("node {id} appears in two groups"),
                        );
                    }
                }
            }
        }
        Ok(())
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
        return "(syntax)".to_string();
    };
    // Qualify it with the table it sits in, read off the nearest header above the error.
    let start = e.span().map_or(0, |s| s.start.min(text.len()));
    let section = text[..start]
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

fn location(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let src = text.lines().nth(line - 1).unwrap_or("").trim();
            format!(" (line {line}: `{src}`)")
        }
        None => String::new(),
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
    let mut t = r.start.0;
    let named = |n: NamedTarget| Some(TargetSpec::Named(n));
    loop {
        let gap: f64 = -(1.0 - rng.random::<f64>()).ln() * r.mean_interval.0 as f64;
        t += gap as u64;
        if t >= run_ns {
            break;
        }
        let kind = r.kinds[rng.random_range(0..r.kinds.len())];
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
