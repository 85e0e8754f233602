//! Markdown and HTML from one document model, so the two never disagree.

use super::aggregate::{self, Metric, format_ms};
use super::charts::{Figure, Figures, fault_label};
use super::plot::{self, protocol_label};
use super::{ReportInput, ScenarioResults, Section, SweepResult, Table, narrative, summary, sweep};
use model::metrics::availability::OUTAGE_MIN_NS;
use model::metrics::window::WARMUP_NS;
use model::protocol::Protocol;
use model::scenario::format_duration;
use model::stats::Interval;

enum Block {
    Heading(u8, String, String),
    Para(String),
    List(Vec<String>),
    Table(Table),
    Figure(Figure),
    Code(String),
}

/// A time for a sentence or a table: `0.84 ms`, `412 ms`, `1.19 s`.
fn time(ns: u64) -> String {
    format_ms(ns as f64 / 1e6)
}

fn verdict(sr: &ScenarioResults, p: Protocol) -> String {
    let runs: Vec<_> = sr.runs_of(p).collect();
    let bad = runs.iter().filter(|r| !r.summary.correct).count();
    let unknown = runs
        .iter()
        .filter(|r| r.summary.checker.linearizable.is_none())
        .count();
    if bad == 0 {
        format!("pass ({}/{})", runs.len(), runs.len())
    } else if unknown == bad {
        format!("checker gave up on {unknown}/{}", runs.len())
    } else {
        format!("**FAIL** ({bad}/{})", runs.len())
    }
}

/// A workload knob's name as written in a scenario file.
fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn setup(sr: &ScenarioResults) -> Vec<String> {
    let s = &sr.scenario;
    let w = &s.workload;
    let mut setup = vec![
        format!(
            "{} nodes; workload {} with {} {} clients{}, {} keys ({}), mix read {} / write {} / cas {}, {}-byte values; \
             then {} to settle (not measured).",
            s.cluster.nodes,
            time(s.duration.0),
            w.clients,
            match w.mode {
                model::scenario::LoopMode::Closed => "closed-loop",
                model::scenario::LoopMode::Open => "open-loop",
            },
            w.rate.map(|r| format!(" at {r:.0} ops/s")).unwrap_or_default(),
            w.keys,
            word(&w.distribution),
            w.mix.read,
            w.mix.write,
            w.mix.cas,
            w.value_size,
            time(s.settle.0)
        ),
        format!(
            "Network latency {}, loss {}, duplication {}; fsync {}.",
            s.network.latency, s.network.loss, s.network.duplicate, s.disk.fsync
        ),
    ];
    let p = &s.protocol;
    setup.push(format!(
        "Protocol knobs (both): election/suspicion timeout {}–{}, heartbeat {}, batch up to {} entries (delay {}), \
         {} messages in flight per follower, pre_vote {}, check_quorum {}.",
        time(p.election_timeout_min_ns),
        time(p.election_timeout_max_ns),
        time(p.heartbeat_interval_ns),
        p.max_batch_entries,
        time(p.batch_delay_ns),
        p.max_inflight_msgs,
        if p.pre_vote { "on" } else { "off" },
        if p.check_quorum { "on" } else { "off" }
    ));
    let seed = sr.runs.first().map_or(s.seed, |r| r.summary.seed);
    let schedule = s.fault_schedule(seed);
    if !schedule.is_empty() {
        let numbered = schedule.len() > 8;
        let faults: Vec<String> = schedule
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let n = if numbered {
                    format!("#{} ", i + 1)
                } else {
                    String::new()
                };
                format!("{n}{} at {}", fault_label(f), time(f.at.0))
            })
            .collect();
        let whose = if aggregate::same_schedule_every_seed(sr) {
            "every seed".to_string()
        } else {
            format!("seed {seed}; each seed draws its own")
        };
        setup.push(format!("Faults ({whose}): {}.", faults.join("; ")));
    }
    setup
}

/// The per-protocol table of a scenario: each figure's mean over seeds ± its 95 % interval.
fn figures_table(sr: &ScenarioResults) -> Table {
    let faults = aggregate::has_faults(sr);
    let metrics: Vec<Metric> = if faults {
        vec![
            Metric::Throughput,
            Metric::P50,
            Metric::P99,
            Metric::P99OpenLoop,
            Metric::Unavailable,
            Metric::LongestOutage,
            Metric::LeaderChanges,
            Metric::MessagesPerCommand,
        ]
    } else {
        vec![
            Metric::Throughput,
            Metric::P50,
            Metric::P99,
            Metric::LeaderChanges,
            Metric::MessagesPerCommand,
            Metric::BytesPerCommand,
        ]
    };
    let mut header = vec!["protocol".to_string(), "seeds".into(), "checks".into()];
    header.extend(metrics.iter().map(|m| m.header().to_string()));
    header.push("info ops".into());
    let mut t = Table {
        header,
        rows: Vec::new(),
    };
    for proto in sr.protocols() {
        let mut row = vec![
            protocol_label(proto).to_string(),
            sr.runs_of(proto).count().to_string(),
            verdict(sr, proto),
        ];
        for &m in &metrics {
            row.push(aggregate::interval(sr, proto, m).map_or("–".into(), |i| m.cell(&i)));
        }
        let info: Vec<f64> = sr.runs_of(proto).map(|r| r.summary.ops.info as f64).collect();
        row.push(Interval::of(&info).map_or("–".into(), |i| format!("{:.0}", i.mean)));
        t.rows.push(row);
    }
    t
}

/// Unavailability after each fault. With a fixed schedule, fault *i* is the same in every
/// seed: its outage is a mean over seeds with its interval, and "down throughout" counts
/// seeds. With a random nemesis each seed has its own faults: the first seed is shown.
fn fault_table(sr: &ScenarioResults) -> Option<(String, Table)> {
    let protocols: Vec<Protocol> = sr
        .protocols()
        .into_iter()
        .filter(|p| sr.runs_of(*p).any(|r| !r.summary.unavailability.is_empty()))
        .collect();
    if protocols.is_empty() {
        return None;
    }
    let fixed = aggregate::same_schedule_every_seed(sr);
    let seed = sr.runs.first().map_or(sr.scenario.seed, |r| r.summary.seed);
    let runs_for = |p: Protocol| -> Vec<&model::metrics::Summary> {
        sr.runs_of(p)
            .filter(|r| fixed || r.summary.seed == seed)
            .map(|r| &r.summary)
            .collect()
    };
    let schedule = sr.scenario.fault_schedule(seed);
    let numbered = schedule.len() > 8;
    let mut header = vec!["fault".to_string(), "at".to_string()];
    for &p in &protocols {
        let l = protocol_label(p);
        header.push(format!("{l}: outage ms"));
        header.push(format!("{l}: down throughout"));
        header.push(format!("{l}: new leader after ms"));
    }
    let mut t = Table {
        header,
        rows: Vec::new(),
    };
    let n = protocols
        .iter()
        .flat_map(|&p| runs_for(p).into_iter().map(|s| s.unavailability.len()))
        .max()
        .unwrap_or(0);
    for i in 0..n {
        let Some(u0) = protocols
            .iter()
            .flat_map(|&p| runs_for(p))
            .find_map(|s| s.unavailability.get(i))
        else {
            continue;
        };
        let label = match schedule.iter().position(|f| f.at.0 == u0.at_ns) {
            Some(k) if numbered => format!("#{} {}", k + 1, u0.fault),
            _ => u0.fault.clone(),
        };
        let mut row = vec![label, time(u0.at_ns)];
        for &p in &protocols {
            let us: Vec<_> = runs_for(p)
                .into_iter()
                .filter_map(|s| s.unavailability.get(i))
                .collect();
            let outage: Vec<f64> = us.iter().map(|u| u.outage_ns as f64 / 1e6).collect();
            row.push(Interval::of(&outage).map_or("–".into(), |i| Metric::Unavailable.cell(&i)));
            let down = us.iter().filter(|u| u.down_throughout()).count();
            row.push(if us.len() == 1 {
                if down == 1 { "**yes**".into() } else { "no".into() }
            } else if down > 0 {
                format!("**{down} of {}**", us.len())
            } else {
                format!("0 of {}", us.len())
            });
            let leader: Vec<f64> = us
                .iter()
                .filter_map(|u| u.new_leader_ns)
                .map(|t| t as f64 / 1e6)
                .collect();
            row.push(match Interval::of(&leader) {
                None => "–".into(),
                Some(i) if leader.len() == us.len() => Metric::P50.cell(&i),
                Some(i) => format!("{} ({} of {})", Metric::P50.cell(&i), leader.len(), us.len()),
            });
        }
        t.rows.push(row);
    }
    let intro = format!(
        "Unavailability after each fault, up to the next fault or the end of the workload: the longest stretch with \
         no completed operation if it lasted {} or more (0 otherwise), whether nothing completed at all until the \
         next fault, and how long until a leader of a newer term/ballot appeared (– if none did). {} Fault targets \
         are resolved per protocol when the fault fires, so \"leader\" may be a different node in each run.",
        time(OUTAGE_MIN_NS),
        if fixed {
            "Means over seeds ± 95 % interval; every seed ran this schedule."
        } else {
            "Seed shown only: each seed draws its own schedule (the table above has the totals over seeds)."
        }
    );
    Some((intro, t))
}

fn scenario_blocks(sr: &ScenarioResults, figures: &[Figure]) -> Vec<Block> {
    let s = &sr.scenario;
    let mut b = vec![Block::Heading(2, s.name.clone(), format!("scenario-{}", s.name))];
    if !s.description.is_empty() {
        b.push(Block::Para(s.description.clone()));
    }
    b.push(Block::List(setup(sr)));
    b.push(Block::Para(narrative::compare(sr).join(" ")));
    b.push(Block::Table(figures_table(sr)));
    b.push(Block::Para(
        "Mean over seeds ± the 95 % confidence interval (Student's t), over each run's measured window; \
         `info ops` are operations that timed out with an unknown outcome (mean per run)."
            .into(),
    ));
    for f in figures {
        b.push(Block::Figure(f.clone()));
    }
    if let Some((intro, t)) = fault_table(sr) {
        b.push(Block::Para(intro));
        b.push(Block::Table(t));
    }

    let mut details = Vec::new();
    for r in &sr.runs {
        for d in &r.summary.invariant_details {
            details.push(format!(
                "{} seed {}: {d}",
                protocol_label(r.summary.protocol),
                r.summary.seed
            ));
        }
        if let Some(c) = &r.summary.checker.counterexample {
            details.push(format!(
                "{} seed {}: not linearizable: {c}",
                protocol_label(r.summary.protocol),
                r.summary.seed
            ));
        }
    }
    if !details.is_empty() {
        b.push(Block::Para("Violations found:".into()));
        b.push(Block::List(details));
    }
    let cmds: Vec<String> = sr
        .protocols()
        .into_iter()
        .filter_map(|p| {
            let seeds: Vec<u64> = sr.runs_of(p).map(|r| r.summary.seed).collect();
            let first = *seeds.first()?;
            Some(format!(
                "cargo run --release -- run {} --protocol {p} --seed {first}{}",
                sr.source,
                if seeds.len() > 1 {
                    format!(" --seeds {}", seeds.len())
                } else {
                    String::new()
                }
            ))
        })
        .collect();
    b.push(Block::Para("Reproduce these runs:".into()));
    b.push(Block::Code(cmds.join("\n")));
    b
}

fn sweep_blocks(sw: &SweepResult, figures: &[Figure]) -> Vec<Block> {
    let mut b = vec![Block::Heading(
        2,
        format!("Load sweep: {}", sw.scenario),
        format!("sweep-{}", sw.scenario),
    )];
    let mut protocols: Vec<Protocol> = sw.points.iter().map(|p| p.protocol).collect();
    protocols.sort_by_key(|p| p.rank());
    protocols.dedup();
    let mut knees = Vec::new();
    for &p in &protocols {
        let label = protocol_label(p);
        let past = if sweep::saturated(sw, p) {
            ""
        } else {
            " (the sweep did not reach a rate that broke the bound: the knee is at least this)"
        };
        knees.push(match sweep::knee(sw, p) {
            Some(k) => format!(
                "{label}: {} ops/s at p99 {}{past}",
                plot::format_number(k.achieved_ops_per_s.round()),
                time(k.p99_ns)
            ),
            None => format!(
                "{label}: no rate kept p99 under {}",
                format_ms(sweep::KNEE_P99_MS)
            ),
        });
    }
    b.push(Block::Para(format!(
        "Open-loop Poisson arrivals from light load to past saturation, {} of workload per point with enough clients \
         (1024) that the protocol, not the client count, limits throughput; figures over each run's measured window \
         (from {} after the first leader). The knee is the highest achieved throughput with p99 under {}, among \
         the rates swept: {}.",
        if sw.duration_ns > 0 { time(sw.duration_ns) } else { "a few seconds".into() },
        time(WARMUP_NS),
        format_ms(sweep::KNEE_P99_MS),
        knees.join("; ")
    )));
    let saturated: Vec<(Protocol, f64)> = protocols
        .iter()
        .filter(|&&p| sweep::reached_capacity(sw, p))
        .filter_map(|&p| Some((p, sweep::capacity(sw, p)?)))
        .collect();
    if !saturated.is_empty() {
        let list: Vec<String> = saturated
            .iter()
            .map(|(p, c)| format!("{} {} ops/s", protocol_label(*p), plot::format_number(c.round())))
            .collect();
        let base = saturated.iter().find(|(p, _)| *p == Protocol::Null).map(|x| x.1);
        let floors: Vec<String> = saturated
            .iter()
            .filter(|(p, _)| *p != Protocol::Null)
            .filter_map(|(p, c)| Some(format!("{} {:.0} %", protocol_label(*p), c / base? * 100.0)))
            .collect();
        b.push(Block::Para(format!(
            "Capacity, the highest throughput reached once the offered load outran it: {}.{} One seed per point, so \
             no interval: differences of a few percent are within what another seed could move.",
            list.join(", "),
            if floors.is_empty() {
                String::new()
            } else {
                format!(
                    " Against the no-replication baseline's capacity (the floor of what replication costs): {}.",
                    floors.join(", ")
                )
            }
        )));
    }
    let mut t = Table {
        header: [
            "protocol",
            "offered ops/s",
            "achieved ops/s",
            "p50 ms",
            "p99 ms",
            "checks",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for &p in &protocols {
        for x in sweep::points_of(sw, p) {
            t.rows.push(vec![
                protocol_label(p).to_string(),
                format!("{:.0}", x.offered_ops_per_s),
                format!("{:.0}", x.achieved_ops_per_s),
                format!("{:.2}", x.p50_ns as f64 / 1e6),
                format!("{:.2}", x.p99_ns as f64 / 1e6),
                if x.correct {
                    "pass".into()
                } else if x.checker_gave_up {
                    "unknown (checker budget)".into()
                } else {
                    "**FAIL**".into()
                },
            ]);
        }
    }
    for f in figures {
        b.push(Block::Figure(f.clone()));
    }
    b.push(Block::Table(t));
    let rates: Vec<String> = {
        let mut r: Vec<f64> = sw.points.iter().map(|p| p.offered_ops_per_s).collect();
        r.sort_by(f64::total_cmp);
        r.dedup();
        r.iter().map(|x| format!("{x:.0}")).collect()
    };
    b.push(Block::Code(format!(
        "cargo run --release -- sweep {} --rates {} --seed {}{}",
        sw.source,
        rates.join(","),
        sw.seed,
        if sw.duration_ns > 0 {
            format!(" --duration {}", format_duration(sw.duration_ns))
        } else {
            String::new()
        }
    )));
    b
}

fn section_blocks(s: &Section) -> Vec<Block> {
    let mut b = vec![Block::Heading(2, s.title.clone(), s.id.clone())];
    for p in &s.paragraphs {
        b.push(Block::Para(p.clone()));
    }
    for (stem, caption) in &s.plots {
        b.push(Block::Figure(Figure {
            stem: stem.clone(),
            title: String::new(),
            caption: caption.clone(),
        }));
    }
    if let Some(t) = &s.table {
        b.push(Block::Table(t.clone()));
    }
    if !s.commands.is_empty() {
        b.push(Block::Code(s.commands.join("\n")));
    }
    b
}

fn document(input: &ReportInput, figures: &Figures) -> Vec<Block> {
    let v = &input.versions;
    let mut b = vec![Block::Heading(1, input.title.clone(), "top".into())];
    b.push(Block::Para(format!(
        "Raft and multi-Paxos under identical workloads and fault schedules ({}). Produced by workbench {} \
         (git {}, {}). Every number comes from the runs saved under `runs/` beside this file; regenerate with {}.",
        input.backend_note, v.workbench, v.git, v.rustc, input.regenerate
    )));
    if !input.scenarios.is_empty() {
        b.push(Block::Para(narrative::method_note()));
        let wins = summary::who_wins(input);
        if !wins.rows.is_empty() {
            b.push(Block::Heading(2, "Who wins where".into(), "who-wins".into()));
            b.push(Block::Para(format!(
                "Per scenario, which protocol is ahead and by how much. **Bold**: the 95 % intervals over seeds \
                 separate, so the difference is significant; \"no significant difference\" where they overlap. \
                 Percentages are of the other protocol's figure; from twice it on, the ratio is given. Tail \
                 latency in fault scenarios (scheduled faults, a nemesis, or steady message loss) is the open-loop \
                 p99 (closed-loop p99 hides outages). {}",
                if input.reasons.is_empty() {
                    "This table does not say whether a lead comes from the design or from tuning; the parity \
                     ablation (a section below, where it ran) and the design-difference sections measure \
                     individual mechanisms."
                } else {
                    "The reason column comes from the parity ablation (design or tuning) where it ran; – where it \
                     is not known."
                }
            )));
            b.push(Block::Table(wins));
        }
    }
    let mut overview = Table {
        header: ["scenario", "nodes", "faults", "Raft", "Multi-Paxos"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    for sr in &input.scenarios {
        let faults = sr.scenario.fault_schedule(sr.scenario.seed).len();
        let cell = |p: Protocol| {
            if sr.runs_of(p).next().is_none() {
                return "–".to_string();
            }
            let get = |m: Metric| aggregate::interval(sr, p, m).map_or("–".into(), |i| m.cell(&i));
            format!(
                "{} · {} ops/s · p99 {} ms",
                verdict(sr, p),
                get(Metric::Throughput),
                get(Metric::P99)
            )
        };
        overview.rows.push(vec![
            format!("[{}](#scenario-{})", sr.scenario.name, sr.scenario.name),
            sr.scenario.cluster.nodes.to_string(),
            if faults > 0 && !aggregate::same_schedule_every_seed(sr) {
                format!(
                    "{faults} (seed {})",
                    sr.runs.first().map_or(sr.scenario.seed, |r| r.summary.seed)
                )
            } else {
                faults.to_string()
            },
            cell(Protocol::Raft),
            cell(Protocol::Paxos),
        ]);
    }
    if !overview.rows.is_empty() {
        b.push(Block::Heading(2, "Overview".into(), "overview".into()));
        b.push(Block::Table(overview));
        for f in &figures.overall {
            b.push(Block::Figure(f.clone()));
        }
    }
    for s in &input.sections {
        b.extend(section_blocks(s));
    }
    for sw in &input.sweeps {
        b.extend(sweep_blocks(
            sw,
            figures.sweeps.get(&sw.scenario).map_or(&[], Vec::as_slice),
        ));
    }
    for sr in &input.scenarios {
        b.extend(scenario_blocks(
            sr,
            figures
                .per_scenario
                .get(&sr.scenario.name)
                .map_or(&[], Vec::as_slice),
        ));
    }
    b
}

/// The report as Markdown.
pub fn markdown(input: &ReportInput, figures: &Figures) -> String {
    let mut out = String::new();
    for block in document(input, figures) {
        match block {
            Block::Heading(level, text, id) => {
                out += &format!("{} {text} <a id=\"{id}\"></a>\n\n", "#".repeat(level as usize));
            }
            Block::Para(text) => out += &format!("{text}\n\n"),
            Block::List(items) => {
                for i in items {
                    out += &format!("- {i}\n");
                }
                out += "\n";
            }
            Block::Table(t) => {
                out += &format!("| {} |\n", t.header.join(" | "));
                out += &format!("|{}\n", " --- |".repeat(t.header.len()));
                for r in &t.rows {
                    out += &format!("| {} |\n", r.join(" | "));
                }
                out += "\n";
            }
            Block::Figure(f) => {
                out += &format!(
                    "![{}](plots/{}.png)\n\n*{}* ([SVG](plots/{}.svg))\n\n",
                    f.title, f.stem, f.caption, f.stem
                );
            }
            Block::Code(text) => out += &format!("```\n{text}\n```\n\n"),
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Inline Markdown used in generated text: `code`, **bold** and [links](#x).
fn inline(s: &str) -> String {
    let mut out = String::new();
    let e = esc(s);
    let mut rest = e.as_str();
    while let Some(i) = rest.find(['`', '*', '[']) {
        out += &rest[..i];
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix('`')
            && let Some(j) = t.find('`')
        {
            out += &format!("<code>{}</code>", &t[..j]);
            rest = &t[j + 1..];
        } else if let Some(t) = tail.strip_prefix("**")
            && let Some(j) = t.find("**")
        {
            out += &format!("<strong>{}</strong>", &t[..j]);
            rest = &t[j + 2..];
        } else if let Some(t) = tail.strip_prefix('[')
            && let Some(j) = t.find("](")
            && let Some(k) = t[j..].find(')')
        {
            out += &format!("<a href=\"{}\">{}</a>", &t[j + 2..j + k], &t[..j]);
            rest = &t[j + k + 1..];
        } else {
            out += &tail[..1];
            rest = &tail[1..];
        }
    }
    out + rest
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{border-bottom:2px solid #ddd}h2{margin-top:2.2em;border-bottom:1px solid #eee}\
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
td:first-child,th:first-child{text-align:left}th{background:#f4f4f4}\
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:14px;color:#555}\
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:13px}code{background:#f6f8fa;padding:0 3px}\
nav{font-size:14px;columns:3}nav a{display:block}";

/// The report as a standalone HTML page.
pub fn html(input: &ReportInput, figures: &Figures) -> String {
    let blocks = document(input, figures);
    let mut nav = String::new();
    for b in &blocks {
        if let Block::Heading(2, text, id) = b {
            nav += &format!("<a href=\"#{id}\">{}</a>", esc(text));
        }
    }
    let mut body = String::new();
    let mut first_h1 = true;
    for block in blocks {
        match block {
            Block::Heading(level, text, id) => {
                body += &format!("<h{level} id=\"{id}\">{}</h{level}>\n", esc(&text));
                if level == 1 && first_h1 {
                    first_h1 = false;
                    body += "<!--NAV-->";
                }
            }
            Block::Para(text) => body += &format!("<p>{}</p>\n", inline(&text)),
            Block::List(items) => {
                body += "<ul>";
                for i in items {
                    body += &format!("<li>{}</li>", inline(&i));
                }
                body += "</ul>\n";
            }
            Block::Table(t) => {
                body += "<table><tr>";
                for h in &t.header {
                    body += &format!("<th>{}</th>", esc(h));
                }
                body += "</tr>";
                for r in &t.rows {
                    body += "<tr>";
                    for c in r {
                        body += &format!("<td>{}</td>", inline(c));
                    }
                    body += "</tr>";
                }
                body += "</table>\n";
            }
            Block::Figure(f) => {
                body += &format!(
                    "<figure><img src=\"plots/{}.svg\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                    f.stem,
                    esc(if f.title.is_empty() { &f.stem } else { &f.title }),
                    inline(&f.caption)
                );
            }
            Block::Code(text) => body += &format!("<pre>{}</pre>\n", esc(&text)),
        }
    }
    let body = body.replacen("<!--NAV-->", &format!("<nav>{nav}</nav>"), 1);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head>\n<body>\n{body}</body></html>\n",
        esc(&input.title)
    )
}
