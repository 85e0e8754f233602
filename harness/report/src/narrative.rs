//! The generated paragraph under each scenario: which protocol did better on each metric and
//! by how much, claimed only as far as the runs support it.
//!
//! - A difference is called a difference only when the two 95 % intervals over seeds separate
//!   ([`model::stats::Interval::separated_from`]); otherwise the sentence says "no significant
//!   difference" and gives both intervals. With one seed there is no interval and no claim.
//! - "X % higher" and "X % lower" are percentages of the figure compared against (the other
//!   protocol's); from twice the other figure on, the sentence gives the ratio ("2.6×").
//! - In a fault scenario the sentences are about availability (unavailability, open-loop p99)
//!   and facts such as "both protocols completed nothing for the whole fault" are stated.

use super::ScenarioResults;
use super::aggregate::{self, Comparison, Metric, format_ms};
use super::plot::protocol_label;
use model::metrics::availability::OUTAGE_MIN_NS;
use model::metrics::window::WARMUP_NS;
use model::protocol::Protocol;
use model::stats::{Magnitude, Significance, percent_lower};

/// The figures an interval is printed with in a sentence: `8877 ± 40 ops/s`.
fn with_interval(m: Metric, c: &Comparison, p: Protocol) -> String {
    let i = c.of_protocol(p);
    match i.half_width {
        Some(h) => format!("{} ± {}", m.format(i.mean), m.format(h)),
        None => m.format(i.mean),
    }
}

/// One sentence comparing two protocols on one metric.
pub fn sentence(c: &Comparison) -> String {
    let m = c.metric;
    let (a, b) = (c.a.0, c.b.0);
    let both = format!(
        "{} {}, {} {}",
        protocol_label(a),
        with_interval(m, c, a),
        protocol_label(b),
        with_interval(m, c, b)
    );
    let Some(lead) = c.lead else {
        return format!("Both protocols had the same {} ({both}).", m.name());
    };
    let (w, l) = (c.of_protocol(lead.ahead).mean, c.of_protocol(lead.behind).mean);
    let (wn, ln) = (protocol_label(lead.ahead), protocol_label(lead.behind));
    let claim = match (c.magnitude(), m.higher_is_better()) {
        (Some(Magnitude::Times(r)), true) => format!("{wn}'s {} was {r:.1}× {ln}'s", m.name()),
        (Some(Magnitude::Times(r)), false) => format!("{ln}'s {} was {r:.1}× {wn}'s", m.name()),
        (Some(Magnitude::Percent(p)), true) => {
            format!("{wn}'s {} was {p:.1} % higher than {ln}'s", m.name())
        }
        (Some(Magnitude::Percent(_)), false) => format!(
            "{wn}'s {} was {:.1} % lower than {ln}'s",
            m.name(),
            percent_lower(w, l)
        ),
        // A zero on one side, or an interval reaching zero: no ratio worth giving.
        (None, _) => format!(
            "{wn}'s {} was {} against {ln}'s {}",
            m.name(),
            m.format(w),
            m.format(l)
        ),
    };
    match c.significance {
        Significance::Separated => format!("{claim} ({both}; the 95 % intervals separate)."),
        Significance::Overlapping => format!(
            "No significant difference in {} ({both}; the 95 % intervals overlap).",
            m.name()
        ),
        Significance::TooFewSamples => {
            format!("{claim} ({both}; one seed, so no interval and no claim of a difference).")
        }
    }
}

/// The metrics a scenario's paragraph compares: availability first when it injects faults.
pub fn headline_metrics(sr: &ScenarioResults) -> Vec<Metric> {
    if aggregate::has_faults(sr) {
        vec![
            Metric::Unavailable,
            Metric::Throughput,
            Metric::P99OpenLoop,
            Metric::MessagesPerCommand,
        ]
    } else {
        vec![
            Metric::Throughput,
            Metric::P50,
            Metric::P99,
            Metric::MessagesPerCommand,
            Metric::BytesPerCommand,
        ]
    }
}

fn seeds_text(n: usize) -> String {
    if n == 1 {
        "1 seed".into()
    } else {
        format!("{n} seeds")
    }
}

/// Sentences comparing the protocols of one scenario.
pub fn compare(sr: &ScenarioResults) -> Vec<String> {
    let mut out = Vec::new();
    let protocols = sr.protocols();
    let mut failed = Vec::new();
    for &p in &protocols {
        let bad: Vec<String> = sr
            .runs_of(p)
            .filter(|r| !r.summary.correct)
            .map(|r| r.summary.seed.to_string())
            .collect();
        if !bad.is_empty() {
            failed.push(format!(
                "{} failed a check in seed{} {}",
                protocol_label(p),
                if bad.len() == 1 { "" } else { "s" },
                bad.join(", ")
            ));
        }
    }
    let seeds = sr
        .runs_of(protocols.first().copied().unwrap_or(Protocol::Raft))
        .count();
    if failed.is_empty() {
        out.push(format!(
            "Every run passed the linearizability checker and every invariant ({} per protocol).",
            seeds_text(seeds)
        ));
    } else {
        out.push(format!(
            "{}: see the verdicts below; the other numbers of a failed run are not a fair comparison.",
            failed.join("; ")
        ));
    }
    let unavailable_everywhere_zero = protocols.iter().all(|&p| {
        aggregate::interval(sr, p, Metric::Unavailable).is_some_and(|i| i.mean == 0.0 && i.lo() == 0.0)
    });
    for m in headline_metrics(sr) {
        if m == Metric::Unavailable && unavailable_everywhere_zero {
            out.push(format!(
                "Neither protocol had an outage: no stretch of {} or more without a completed operation in any seed.",
                format_ms(OUTAGE_MIN_NS as f64 / 1e6)
            ));
            continue;
        }
        if let Some(c) = aggregate::compare(sr, m) {
            out.push(sentence(&c));
        }
    }
    out.extend(fault_facts(sr));
    if protocols.contains(&Protocol::Null)
        && let Some(i) = aggregate::interval(sr, Protocol::Null, Metric::P50)
    {
        out.push(format!(
            "The no-replication baseline's median latency, {}, is the floor here (a client round trip and one \
             fsync); its capacity is measured at saturation in the load sweep, not at this scenario's fixed \
             client count.",
            Metric::P50.format(i.mean)
        ));
    }
    out
}

/// Which protocols completed nothing from a fault to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Down {
    Both,
    Only(Protocol),
}

/// Facts a mean hides: faults during which a protocol completed nothing at all. With a fixed
/// schedule, fault *i* is the same fault in every seed and one sentence covers all of them.
pub fn fault_facts(sr: &ScenarioResults) -> Vec<String> {
    let [a, b] = Protocol::COMPARED;
    let runs_b: Vec<_> = sr.runs_of(b).collect();
    let fixed = aggregate::same_schedule_every_seed(sr);
    // (fault index, label, at, length, who, seeds)
    let mut facts: Vec<(usize, String, u64, u64, Down, Vec<u64>)> = Vec::new();
    let mut seeds = 0;
    for ra in sr.runs_of(a) {
        let Some(rb) = runs_b.iter().find(|r| r.summary.seed == ra.summary.seed) else {
            continue;
        };
        seeds += 1;
        let (ua, ub) = (&ra.summary.unavailability, &rb.summary.unavailability);
        for (i, (fa, fb)) in ua.iter().zip(ub).enumerate() {
            let who = match (fa.down_throughout(), fb.down_throughout()) {
                (true, true) => Down::Both,
                (true, false) => Down::Only(a),
                (false, true) => Down::Only(b),
                (false, false) => continue,
            };
            let seed = ra.summary.seed;
            match facts.iter_mut().find(|f| fixed && f.0 == i && f.4 == who) {
                Some(f) => f.5.push(seed),
                None => facts.push((
                    i,
                    fa.fault.clone(),
                    fa.at_ns,
                    fa.until_ns - fa.at_ns,
                    who,
                    vec![seed],
                )),
            }
        }
    }
    let mut sentences: Vec<String> = facts
        .iter()
        .map(|(_, label, at, len, who, with)| {
            let which = match with.len() {
                1 => format!("in seed {}", with[0]),
                n if n == seeds => format!("in every one of {n} seeds"),
                n => format!("in {n} of {seeds} seeds"),
            };
            let what = match who {
                Down::Both => "both protocols completed nothing for the whole of it".to_string(),
                Down::Only(p) => format!(
                    "{} completed nothing for the whole of it while {} did",
                    protocol_label(*p),
                    protocol_label(if *p == a { b } else { a })
                ),
            };
            format!(
                "During \"{label}\" at {} {which}, {what} ({} until the next fault or the end of the workload).",
                format_ms(*at as f64 / 1e6),
                format_ms(*len as f64 / 1e6)
            )
        })
        .collect();
    const MAX: usize = 6;
    if sentences.len() > MAX {
        let more = sentences.len() - MAX;
        sentences.truncate(MAX);
        sentences.push(format!(
            "{more} more such fault{} in the table below.",
            if more == 1 { " is" } else { "s are" }
        ));
    }
    sentences
}

/// How the steady-state figures were measured, for the top of the report.
pub fn method_note() -> String {
    format!(
        "Figures are means over seeds with their 95 % confidence interval (Student's t, mean ± t·s/√n), \
         measured over each run's steady window: from {} after the first leader was elected (the start-up \
         election and warm-up excluded) to the end of the workload. A difference is called one only when \
         the two intervals do not overlap. Unavailability counts stretches of at least {} with no completed \
         operation. Open-loop p99 is what a client arriving at a fixed rate would have waited: closed-loop \
         latencies corrected for coordinated omission (each latency longer than a client's healthy cycle \
         also counts the arrivals it held up).",
        format_ms(WARMUP_NS as f64 / 1e6),
        format_ms(OUTAGE_MIN_NS as f64 / 1e6)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::stats::Interval;

    fn cmp(m: Metric, raft: &[f64], paxos: &[f64]) -> String {
        sentence(&Comparison::of(
            m,
            (Protocol::Raft, Interval::of(raft).unwrap()),
            (Protocol::Paxos, Interval::of(paxos).unwrap()),
        ))
    }

    /// The bridge figures: 8877 against 7479 ops/s is 18.7 % higher (not 16 %).
    #[test]
    fn a_higher_figure_is_a_percentage_of_the_lower_one() {
        let s = cmp(Metric::Throughput, &[8877.0; 3], &[7479.0; 3]);
        assert!(
            s.starts_with("Raft's throughput was 18.7 % higher than Multi-Paxos's"),
            "{s}"
        );
    }

    /// loss-20pct: 2447 against 941 ops/s is 2.6 times, not "62 % higher".
    #[test]
    fn past_twice_the_other_figure_the_sentence_gives_the_ratio() {
        let s = cmp(Metric::Throughput, &[2447.0; 3], &[941.0; 3]);
        assert!(s.starts_with("Raft's throughput was 2.6× Multi-Paxos's"), "{s}");
    }

    #[test]
    fn a_lower_latency_is_a_percentage_of_the_other_protocols() {
        let s = cmp(Metric::P99, &[3.0, 3.0, 3.0], &[4.0, 4.0, 4.0]);
        assert!(
            s.starts_with("Raft's p99 latency was 25.0 % lower than Multi-Paxos's"),
            "{s}"
        );
    }

    #[test]
    fn a_latency_more_than_twice_the_other_is_given_as_a_ratio_of_the_slower() {
        let s = cmp(Metric::P99, &[57.3; 2], &[150.1; 2]);
        assert!(s.starts_with("Multi-Paxos's p99 latency was 2.6× Raft's"), "{s}");
    }

    #[test]
    fn overlapping_intervals_are_no_significant_difference() {
        let s = cmp(Metric::P99, &[3.0, 5.0, 4.0], &[4.0, 4.5, 4.2]);
        assert!(s.starts_with("No significant difference in p99 latency"), "{s}");
    }

    #[test]
    fn one_seed_makes_no_claim() {
        let s = cmp(Metric::Throughput, &[1000.0], &[1300.0]);
        assert!(s.contains("one seed, so no interval and no claim"), "{s}");
    }
}
