//! Validation of a parsed scenario: every relation and range the parser cannot check, so that
//! a scenario that loads runs to the end. Nothing downstream (the simulator, the fault
//! layer, the clients, the protocols) has to guard against a value this lets through.
//!
//! Limits that are not about meaning but about finishing: durations up to a day, at most
//! [`MAX_CLIENTS`] clients, an open-loop rate up to [`MAX_RATE`], a random nemesis drawing at
//! most [`MAX_NEMESIS_FAULTS`] faults, clock rates within [`CLOCK_RATES`].

use super::{Dist, FaultKind, FaultSpec, LoopMode, Scenario, ScenarioError, TargetSpec};
use crate::protocol::Protocol;
use replog::Nanos;
use replog::duration::format_duration;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;

/// The longest duration any field may hold: a simulated day. (Longer ones overflow nothing,
/// but no run that long finishes.)
pub const MAX_DURATION_NS: Nanos = 24 * 3600 * 1_000_000_000;
/// Most clients a workload may have.
pub const MAX_CLIENTS: usize = 10_000;
/// Most keys a workload may draw from.
pub const MAX_KEYS: usize = 100_000_000;
/// Highest open-loop arrival rate, per second.
pub const MAX_RATE: f64 = 1_000_000.0;
/// Most faults the random nemesis may draw in one run (duration / mean_interval).
pub const MAX_NEMESIS_FAULTS: u64 = 100_000;
/// How fast or slow a `clock_skew` fault may make a node's clock run.
pub const CLOCK_RATES: RangeInclusive<f64> = 0.001..=1000.0;
/// Most messages in flight per follower, and most entries per batch.
pub const MAX_INFLIGHT_MSGS: usize = 10_000;
pub const MAX_BATCH_ENTRIES: usize = 1_000_000;
/// Shortest period of anything that repeats until answered (a client's resend and retry
/// backoff, the heartbeat): 1 ms. Shorter ones are legal in meaning but make a run of a few
/// simulated seconds take billions of events (a 1 ns request timeout never finishes).
pub const MIN_PERIOD_NS: Nanos = 1_000_000;
/// Longest scenario name (it names files and directories).
pub const MAX_NAME_LEN: usize = 64;

type Checked = Result<(), ScenarioError>;

/// Checks `scenario`; errors name `file` and the field's path.
pub(super) fn validate(s: &Scenario, file: &str) -> Checked {
    let v = Validator { file };
    v.top(s)?;
    v.models(s)?;
    v.protocol(s)?;
    v.workload(s)?;
    for (i, f) in s.faults.schedule.iter().enumerate() {
        v.fault(s, &format!("faults[{i}]"), f)?;
    }
    v.nemesis(s)
}

struct Validator<'a> {
    file: &'a str,
}

impl Validator<'_> {
    fn fail(&self, field: &str, message: impl Into<String>) -> Checked {
        Err(ScenarioError {
            file: self.file.to_string(),
            field: field.to_string(),
            message: message.into(),
        })
    }

    fn duration(&self, field: &str, ns: Nanos) -> Checked {
        if ns > MAX_DURATION_NS {
            return self.fail(
                field,
                format!("{} is too long: at most 24h (\"1440m\")", format_duration(ns)),
            );
        }
        Ok(())
    }

    /// A period that repeats until answered: at least [`MIN_PERIOD_NS`].
    fn period(&self, field: &str, ns: Nanos) -> Checked {
        if ns < MIN_PERIOD_NS {
            return self.fail(
                field,
                format!(
                    "{} is too short: at least {} (it repeats until answered, and a run would not finish)",
                    format_duration(ns),
                    format_duration(MIN_PERIOD_NS)
                ),
            );
        }
        self.duration(field, ns)
    }

    fn positive_duration(&self, field: &str, ns: Nanos) -> Checked {
        if ns == 0 {
            return self.fail(field, "must be longer than zero");
        }
        self.duration(field, ns)
    }

    fn probability(&self, field: &str, p: f64) -> Checked {
        if (0.0..=1.0).contains(&p) {
            Ok(())
        } else {
            self.fail(
                field,
                format!("{p} is not a probability: expected a number from 0 to 1"),
            )
        }
    }

    fn dist(&self, field: &str, d: &Dist) -> Checked {
        match d.problem() {
            Some(p) => self.fail(field, p),
            None => Ok(()),
        }
    }

    fn node_ids(&self, field: &str, ids: &[u32], nodes: usize) -> Checked {
        for &id in ids {
            if id as usize >= nodes {
                return self.fail(field, format!("node {id} does not exist (nodes are 0..{nodes})"));
            }
        }
        Ok(())
    }

    fn top(&self, s: &Scenario) -> Checked {
        let name_ok = !s.name.is_empty()
            && s.name.len() <= MAX_NAME_LEN
            && s.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return self.fail(
                "name",
                format!(
                    "{:?} must be 1 to {MAX_NAME_LEN} letters, digits, '-' or '_' (it names files)",
                    s.name
                ),
            );
        }
        self.positive_duration("duration", s.duration.0)?;
        self.duration("settle", s.settle.0)?;
        let n = s.cluster.nodes;
        if !(1..=15).contains(&n) {
            return self.fail("cluster.nodes", format!("{n} is out of range: expected 1 to 15"));
        }
        if let Some(ps) = &s.protocols {
            if ps.is_empty() {
                return self.fail("protocols", "must name at least one protocol");
            }
            for (i, p) in ps.iter().enumerate() {
                if !p.is_simulated() {
                    return self.fail(
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
        Ok(())
    }

    /// The network, disk and CPU models.
    fn models(&self, s: &Scenario) -> Checked {
        let net = &s.network;
        self.probability("network.loss", net.loss)?;
        self.probability("network.duplicate", net.duplicate)?;
        self.dist("network.latency", &net.latency)?;
        self.dist("network.client_latency", &net.client_latency)?;
        if net.client_latency.always_zero() {
            return self.fail(
                "network.client_latency",
                "must not be always zero: a client and a node with no time between them can \
                 exchange requests forever at one instant",
            );
        }
        self.dist("disk.fsync", &s.disk.fsync)?;
        for (i, l) in net.links.iter().enumerate() {
            for (name, id) in [("from", l.from), ("to", l.to)] {
                self.node_ids(&format!("network.links[{i}].{name}"), &[id.0], s.cluster.nodes)?;
            }
            if l.from == l.to {
                return self.fail(
                    &format!("network.links[{i}].to"),
                    format!(
                        "a link joins two different nodes; both ends are node {}",
                        l.from.0
                    ),
                );
            }
            self.dist(&format!("network.links[{i}].latency"), &l.latency)?;
        }
        self.duration("cpu.per_input", s.cpu.per_input_ns)?;
        self.duration("cpu.per_send", s.cpu.per_send_ns)?;
        self.duration("cpu.per_kib", s.cpu.per_kib_ns)
    }

    fn protocol(&self, s: &Scenario) -> Checked {
        let p = &s.protocol;
        if let Err(e) = p.validate() {
            return self.fail(&format!("protocol.{}", e.field), e.problem);
        }
        self.period("protocol.heartbeat_interval", p.heartbeat_interval_ns)?;
        self.duration("protocol.election_timeout_max", p.election_timeout_max_ns)?;
        self.duration("protocol.batch_delay", p.batch_delay_ns)?;
        if p.max_inflight_msgs > MAX_INFLIGHT_MSGS {
            return self.fail(
                "protocol.max_inflight_msgs",
                format!("{} is too many: at most {MAX_INFLIGHT_MSGS}", p.max_inflight_msgs),
            );
        }
        if p.max_batch_entries > MAX_BATCH_ENTRIES {
            return self.fail(
                "protocol.max_batch_entries",
                format!("{} is too many: at most {MAX_BATCH_ENTRIES}", p.max_batch_entries),
            );
        }
        Ok(())
    }

    fn workload(&self, s: &Scenario) -> Checked {
        let w = &s.workload;
        let field = |name: &str| format!("workload.{name}");
        if !(1..=MAX_CLIENTS).contains(&w.clients) {
            return self.fail(
                &field("clients"),
                format!("{} is out of range: expected 1 to {MAX_CLIENTS}", w.clients),
            );
        }
        if !(1..=MAX_KEYS).contains(&w.keys) {
            return self.fail(
                &field("keys"),
                format!("{} is out of range: expected 1 to {MAX_KEYS}", w.keys),
            );
        }
        match (w.mode, w.rate) {
            (LoopMode::Open, None) => {
                return self.fail(
                    &field("rate"),
                    "is required when mode = \"open\" (operations per second)",
                );
            }
            (LoopMode::Open, Some(r)) if !(r.is_finite() && r > 0.0 && r <= MAX_RATE) => {
                return self.fail(
                    &field("rate"),
                    format!("{r} must be a positive number of operations per second, at most {MAX_RATE}"),
                );
            }
            (LoopMode::Closed, Some(_)) => {
                return self.fail(
                    &field("rate"),
                    "applies only to mode = \"open\"; closed-loop clients send as fast as replies come",
                );
            }
            _ => {}
        }
        let m = &w.mix;
        for (name, v) in [("read", m.read), ("write", m.write), ("cas", m.cas)] {
            if !(v.is_finite() && v >= 0.0) {
                return self.fail(
                    &field(&format!("mix.{name}")),
                    format!("{v} must be a weight >= 0"),
                );
            }
        }
        if !(m.read + m.write + m.cas > 0.0 && (m.read + m.write + m.cas).is_finite()) {
            return self.fail(&field("mix"), "weights must not all be zero");
        }
        if !(w.zipf_exponent.is_finite() && w.zipf_exponent > 0.0) {
            return self.fail(
                &field("zipf_exponent"),
                format!("{} must be greater than 0", w.zipf_exponent),
            );
        }
        for (name, v) in [("hotspot_keys", w.hotspot_keys), ("hotspot_ops", w.hotspot_ops)] {
            if !(v > 0.0 && v <= 1.0) {
                return self.fail(&field(name), format!("{v} must be a fraction in (0, 1]"));
            }
        }
        if w.value_size > 1 << 20 {
            return self.fail(
                &field("value_size"),
                format!("{} bytes is too large: at most 1 MiB", w.value_size),
            );
        }
        self.period(&field("request_timeout"), w.request_timeout.0)?;
        self.duration(&field("op_timeout"), w.op_timeout.0)?;
        if w.op_timeout < w.request_timeout {
            return self.fail(
                &field("op_timeout"),
                format!(
                    "({}) must be at least request_timeout ({})",
                    w.op_timeout, w.request_timeout
                ),
            );
        }
        self.period(&field("retry_backoff"), w.retry_backoff.0)?;
        self.duration(&field("think_time"), w.think_time.0)
    }

    fn fault(&self, s: &Scenario, path: &str, f: &FaultSpec) -> Checked {
        use FaultKind::*;
        let n = s.cluster.nodes;
        let at = |field: &str| format!("{path}.{field}");
        let action = f.action.name();
        if f.at > s.duration {
            return self.fail(
                &at("at"),
                format!("{} is after the workload ends ({})", f.at, s.duration),
            );
        }
        let takes = FieldsOf::action(f.action);
        let given = [
            ("target", f.target.is_some(), takes.target),
            ("groups", f.groups.is_some(), takes.groups),
            ("probability", f.probability.is_some(), takes.probability),
            ("extra", f.extra.is_some(), takes.extra),
            ("rate", f.rate.is_some(), takes.rate),
            ("fsync", f.fsync.is_some(), takes.fsync),
            ("direction", f.direction.is_some(), takes.direction),
        ];
        for (field, present, need) in given {
            if present && need == Need::No {
                return self.fail(&at(field), format!("does not apply to action \"{action}\""));
            }
        }
        if takes.target == Need::Required && f.target.is_none() {
            let what = match f.action {
                Bridge => "the node that joins the two halves",
                Partial => "the nodes to cut from the leader",
                _ => "the nodes it acts on",
            };
            return self.fail(
                &at("target"),
                format!(
                    "is required for action \"{action}\" ({what}): a node id, a list, or a name like \"leader\""
                ),
            );
        }
        if f.action == Partition && f.target.is_none() == f.groups.is_none() {
            return self.fail(
                path,
                "a partition needs exactly one of `groups` (explicit sides) or `target` (one side)",
            );
        }
        match &f.target {
            Some(TargetSpec::Node(id)) => self.node_ids(&at("target"), &[*id], n)?,
            Some(TargetSpec::Nodes(ids)) if ids.is_empty() => {
                return self.fail(&at("target"), "an empty list targets no node");
            }
            Some(TargetSpec::Nodes(ids)) => self.node_ids(&at("target"), ids, n)?,
            _ => {}
        }
        if let Some(groups) = &f.groups {
            if groups.is_empty() {
                return self.fail(&at("groups"), "an empty list of groups partitions nothing");
            }
            let mut seen = BTreeSet::new();
            for (i, grp) in groups.iter().enumerate() {
                let field = at(&format!("groups[{i}]"));
                if grp.is_empty() {
                    return self.fail(&field, "an empty group");
                }
                self.node_ids(&field, grp, n)?;
                for &id in grp {
                    if !seen.insert(id) {
                        return self.fail(&field, format!("node {id} appears in two groups"));
                    }
                }
            }
        }
        if takes.probability == Need::Required && f.probability.is_none() {
            return self.fail(
                &at("probability"),
                format!("is required for action \"{action}\" (0 to 1; 0 restores)"),
            );
        }
        if let Some(p) = f.probability {
            self.probability(&at("probability"), p)?;
        }
        if takes.extra == Need::Required && f.extra.is_none() {
            return self.fail(
                &at("extra"),
                "is required for action \"delay\" (extra latency, \"0\" restores)",
            );
        }
        if let Some(extra) = f.extra {
            self.duration(&at("extra"), extra.0)?;
        }
        if takes.rate == Need::Required {
            match f.rate {
                None => {
                    return self.fail(
                        &at("rate"),
                        "is required for clock_skew (2.0 runs twice as fast, 1.0 restores)",
                    );
                }
                Some(r) if !CLOCK_RATES.contains(&r) => {
                    return self.fail(
                        &at("rate"),
                        format!(
                            "{r} is out of range: expected {} to {} (1.0 restores)",
                            CLOCK_RATES.start(),
                            CLOCK_RATES.end()
                        ),
                    );
                }
                _ => {}
            }
        }
        if let Some(fsync) = &f.fsync {
            self.dist(&at("fsync"), fsync)?;
        }
        Ok(())
    }

    fn nemesis(&self, s: &Scenario) -> Checked {
        let Some(r) = &s.faults.random else {
            return Ok(());
        };
        self.positive_duration("faults.random.mean_interval", r.mean_interval.0)?;
        self.duration("faults.random.fault_duration", r.fault_duration.0)?;
        self.duration("faults.random.start", r.start.0)?;
        let expected = s.duration.0 / r.mean_interval.0;
        if expected > MAX_NEMESIS_FAULTS {
            return self.fail(
                "faults.random.mean_interval",
                format!(
                    "{} over {} draws about {expected} faults: at most {MAX_NEMESIS_FAULTS}",
                    r.mean_interval, s.duration
                ),
            );
        }
        if r.kinds.is_empty() {
            return self.fail("faults.random.kinds", "must name at least one kind of fault");
        }
        for (i, k) in r.kinds.iter().enumerate() {
            if matches!(k, FaultKind::Restart | FaultKind::Resume | FaultKind::Heal) {
                return self.fail(
                    &format!("faults.random.kinds[{i}]"),
                    format!(
                        "\"{}\" is a repair, not a fault: the nemesis repairs each fault it starts",
                        k.name()
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Whether an action takes a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    No,
    Optional,
    Required,
}

/// The optional fields of `[[faults]]` each action takes (see the table in docs/formats.md).
struct FieldsOf {
    target: Need,
    groups: Need,
    probability: Need,
    extra: Need,
    rate: Need,
    fsync: Need,
    direction: Need,
}

impl FieldsOf {
    fn action(kind: FaultKind) -> FieldsOf {
        use FaultKind::*;
        use Need::*;
        let none = FieldsOf {
            target: No,
            groups: No,
            probability: No,
            extra: No,
            rate: No,
            fsync: No,
            direction: No,
        };
        match kind {
            Crash | Restart | Pause | Resume | Isolate | Bridge | Partial => FieldsOf {
                target: Required,
                ..none
            },
            ClockSkew => FieldsOf {
                target: Required,
                rate: Required,
                ..none
            },
            SlowDisk => FieldsOf {
                target: Required,
                fsync: Optional,
                ..none
            },
            OneWay => FieldsOf {
                target: Required,
                direction: Optional,
                ..none
            },
            // Exactly one of the two; checked on its own.
            Partition => FieldsOf {
                target: Optional,
                groups: Optional,
                ..none
            },
            Loss => FieldsOf {
                target: Optional,
                probability: Required,
                ..none
            },
            Delay => FieldsOf {
                target: Optional,
                extra: Required,
                ..none
            },
            Duplicate => FieldsOf {
                probability: Required,
                ..none
            },
            MajoritiesRing | Heal => none,
        }
    }
}
