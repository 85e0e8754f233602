//! The generated paragraph under each scenario: which protocol did better on each metric and
//! by how much, claimed only as far as the runs support it. With several seeds a difference
//! is claimed only when every seed of one protocol beats every seed of the other; with one
//! seed, differences under 5% are called even and the rest carry a one-seed caveat.

use super::ScenarioResults;
use super::plot::protocol_label;
use model::metrics::Summary;
use model::protocol::Protocol;

/// Differences smaller than this (relative) are reported as even on a single seed.
pub const EVEN_WITHIN: f64 = 0.05;

struct Metric {
    name: &'static str,
    higher_is_better: bool,
    unit: &'static str,
    get: fn(&Summary) -> Option<f64>,
}

fn fmt(v: f64, unit: &str) -> String {
    match unit {
        "ms" => format!("{v:.2} ms"),
        "ops/s" => format!("{v:.0} ops/s"),
        _ => format!("{v:.1}{unit}"),
    }
}

const METRICS: [Metric; 6] = [
    Metric {
        name: "throughput",
        higher_is_better: true,
        unit: "ops/s",
        get: |s| Some(s.throughput_ops_per_s),
    },
    Metric {
        name: "median latency",
        higher_is_better: false,
        unit: "ms",
        get: |s| (s.latency.all.count > 0).then(|| s.latency.all.p50_ns as f64 / 1e6),
    },
    Metric {
        name: "p99 latency",
        higher_is_better: false,
        unit: "ms",
        get: |s| (s.latency.all.count > 0).then(|| s.latency.all.p99_ns as f64 / 1e6),
    },
    Metric {
        name: "messages per command",
        higher_is_better: false,
        unit: "",
        get: |s| (s.committed_commands > 0).then_some(s.messages.messages_per_command),
    },
    Metric {
        name: "bytes per command",
        higher_is_better: false,
        unit: " B",
        get: |s| (s.committed_commands > 0).then_some(s.messages.bytes_per_command),
    },
    Metric {
        name: "worst unavailability after a fault",
        higher_is_better: false,
        unit: "ms",
        get: |s| {
            s.unavailability
                .iter()
                .filter(|u| !u.fault.starts_with("settle"))
                .map(|u| u.longest_gap_ns as f64 / 1e6)
                .reduce(f64::max)
        },
    },
];

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn compare_metric(m: &Metric, a_name: &str, a: &[f64], b_name: &str, b: &[f64]) -> Option<String> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (ma, mb) = (mean(a), mean(b));
    let seeds = a.len().min(b.len());
    let (better, mbetter, mworse) = if (ma > mb) == m.higher_is_better {
        (a_name, ma, mb)
    } else {
        (b_name, mb, ma)
    };
    let rel = if mworse.max(mbetter) == 0.0 {
        0.0
    } else {
        (mbetter - mworse).abs() / mworse.max(mbetter)
    };
    let word = if m.higher_is_better { "higher" } else { "lower" };
    if seeds >= 2 {
        let (amin, amax) = (
            a.iter().copied().fold(f64::INFINITY, f64::min),
            a.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let (bmin, bmax) = (
            b.iter().copied().fold(f64::INFINITY, f64::min),
            b.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        if amax < bmin || bmax < amin {
            Some(format!(
                "{better}'s {} was {word} in every one of {seeds} seeds (mean {} against {}, {:.0}% {word}).",
                m.name,
                fmt(mbetter, m.unit),
                fmt(mworse, m.unit),
                rel * 100.0
            ))
        } else {
            Some(format!(
                "No consistent difference in {} across {seeds} seeds ({a_name} {}–{}, {b_name} {}–{}).",
                m.name,
                fmt(amin, m.unit),
                fmt(amax, m.unit),
                fmt(bmin, m.unit),
                fmt(bmax, m.unit)
            ))
        }
    } else if rel < EVEN_WITHIN {
        Some(format!(
            "{} was about even ({a_name} {}, {b_name} {}; within {:.0}%).",
            capitalize(m.name),
            fmt(ma, m.unit),
            fmt(mb, m.unit),
            EVEN_WITHIN * 100.0
        ))
    } else {
        Some(format!(
            "{better}'s {} was {:.0}% {word} ({} against {}; one seed).",
            m.name,
            rel * 100.0,
            fmt(mbetter, m.unit),
            fmt(mworse, m.unit)
        ))
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// Sentences comparing the protocols of one scenario.
pub fn compare(sr: &ScenarioResults) -> Vec<String> {
    let mut out = Vec::new();
    let protocols = sr.protocols();
    let mut failed = Vec::new();
    for &p in &protocols {
        let runs: Vec<_> = sr.runs_of(p).collect();
        let bad: Vec<u64> = runs
            .iter()
            .filter(|r| !r.summary.correct)
            .map(|r| r.summary.seed)
            .collect();
        if !bad.is_empty() {
            failed.push(format!("{} failed a check in seed(s) {bad:?}", protocol_label(p)));
        }
    }
    let seeds = sr
        .runs
        .iter()
        .map(|r| r.summary.seed)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if failed.is_empty() {
        out.push(format!(
            "Every run passed the linearizability checker and every invariant ({} seed{}).",
            seeds,
            if seeds == 1 { "" } else { "s" }
        ));
    } else {
        out.push(format!(
            "{}: see the verdicts below; the other numbers of a failed run are not a fair comparison.",
            failed.join("; ")
        ));
    }
    let values =
        |p: Protocol, m: &Metric| -> Vec<f64> { sr.runs_of(p).filter_map(|r| (m.get)(&r.summary)).collect() };
    let [a, b] = Protocol::COMPARED;
    if protocols.contains(&a) && protocols.contains(&b) {
        for m in &METRICS {
            let (va, vb) = (values(a, m), values(b, m));
            if let Some(s) = compare_metric(m, protocol_label(a), &va, protocol_label(b), &vb) {
                out.push(s);
            }
        }
    }
    if protocols.contains(&Protocol::Null) {
        let base = values(Protocol::Null, &METRICS[0]);
        for p in Protocol::COMPARED {
            let v = values(p, &METRICS[0]);
            if !base.is_empty() && !v.is_empty() && mean(&base) > 0.0 {
                out.push(format!(
                    "{} reached {:.0}% of the no-replication baseline's throughput.",
                    protocol_label(p),
                    mean(&v) / mean(&base) * 100.0
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_small_differences_are_called_even() {
        let s = compare_metric(&METRICS[0], "Raft", &[1000.0], "Multi-Paxos", &[1030.0]).unwrap();
        assert!(s.starts_with("Throughput was about even"), "{s}");
    }

    #[test]
    fn overlapping_seed_ranges_claim_no_difference() {
        let s = compare_metric(&METRICS[2], "Raft", &[3.0, 5.0], "Multi-Paxos", &[4.0, 4.5]).unwrap();
        assert!(s.starts_with("No consistent difference"), "{s}");
    }

    #[test]
    fn separated_seed_ranges_claim_the_better_protocol() {
        let s = compare_metric(&METRICS[2], "Raft", &[3.0, 3.2], "Multi-Paxos", &[4.0, 4.5]).unwrap();
        assert!(
            s.starts_with("Raft's p99 latency was lower in every one of 2 seeds"),
            "{s}"
        );
    }
}
