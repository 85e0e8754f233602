//! Markdown and HTML from one document model, so the two never disagree.

use super::charts::{Figure, Figures, fault_label};
use super::narrative;
use super::plot::protocol_label;
use super::{ReportInput, ScenarioResults, Section, SweepResult, Table};
use model::protocol::Protocol;
use model::scenario::format_duration;

enum Block {
    Heading(u8, String, String),
    Para(String),
    List(Vec<String>),
    Table(Table),
    Figure(Figure),
    Code(String),
}

fn ms(ns: u64) -> String {
    format!("{:.2}", ns as f64 / 1e6)
}

fn mean_of(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
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

fn scenario_blocks(sr: &ScenarioResults, figures: &[Figure]) -> Vec<Block> {
    let s = &sr.scenario;
    let mut b = vec![Block::Heading(2, s.name.clone(), format!("scenario-{}", s.name))];
    if !s.description.is_empty() {
        b.push(Block::Para(s.description.clone()));
    }
    let w = &s.workload;
    let mut setup = vec![
        format!(
            "{} nodes; workload {} s with {} {} clients{}, {} keys ({:?}), mix read {} / write {} / cas {}, {}-byte values; settle {}.",
            s.cluster.nodes,
            s.duration.0 as f64 / 1e9,
            w.clients,
            match w.mode {
                model::scenario::LoopMode::Closed => "closed-loop",
                model::scenario::LoopMode::Open => "open-loop",
            },
            w.rate.map(|r| format!(" at {r:.0} ops/s")).unwrap_or_default(),
            w.keys,
            w.distribution,
            w.mix.read,
            w.mix.write,
            w.mix.cas,
            w.value_size,
            s.settle
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
        format_duration(p.election_timeout_min_ns),
        format_duration(p.election_timeout_max_ns),
        format_duration(p.heartbeat_interval_ns),
        p.max_batch_entries,
        format_duration(p.batch_delay_ns),
        p.max_inflight_msgs,
        if p.pre_vote { "on" } else { "off" },
        if p.check_quorum { "on" } else { "off" }
    ));
    let schedule = s.fault_schedule(sr.runs.first().map_or(s.seed, |r| r.summary.seed));
    if !schedule.is_empty() {
        let faults: Vec<String> = schedule
            .iter()
            .map(|f| format!("{} at {}", fault_label(f), f.at))
            .collect();
        setup.push(format!("Faults: {}.", faults.join("; ")));
    }
    b.push(Block::List(setup));
    b.push(Block::Para(narrative::compare(sr).join(" ")));

    let mut t = Table {
        header: [
            "protocol",
            "seeds",
            "checks",
            "ops/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "info ops",
            "leader changes",
            "msgs/cmd",
            "bytes/cmd",
            "fsyncs/cmd",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for proto in sr.protocols() {
        let runs: Vec<_> = sr.runs_of(proto).map(|r| &r.summary).collect();
        let m = |f: &dyn Fn(&model::metrics::Summary) -> f64| mean_of(runs.iter().map(|s| f(s)));
        t.rows.push(vec![
            protocol_label(proto).to_string(),
            runs.len().to_string(),
            verdict(sr, proto),
            format!("{:.0}", m(&|s| s.throughput_ops_per_s)),
            format!("{:.2}", m(&|s| s.latency.all.p50_ns as f64) / 1e6),
            format!("{:.2}", m(&|s| s.latency.all.p99_ns as f64) / 1e6),
            format!("{:.2}", m(&|s| s.latency.all.p999_ns as f64) / 1e6),
            format!("{:.2}", m(&|s| s.latency.all.max_ns as f64) / 1e6),
            format!("{:.0}", m(&|s| s.ops.info as f64)),
            format!("{:.1}", m(&|s| s.elections.leader_changes as f64)),
            format!("{:.2}", m(&|s| s.messages.messages_per_command)),
            format!("{:.0}", m(&|s| s.messages.bytes_per_command)),
            format!("{:.2}", m(&|s| s.messages.fsyncs_per_command)),
        ]);
    }
    b.push(Block::Table(t));
    if sr.runs.len() > sr.protocols().len() {
        b.push(Block::Para("Table values are means over seeds.".into()));
    }
    for f in figures {
        b.push(Block::Figure(f.clone()));
    }

    let protocols = sr.protocols();
    let firsts: Vec<_> = protocols.iter().filter_map(|&p| sr.runs_of(p).next()).collect();
    if firsts.iter().any(|r| !r.summary.unavailability.is_empty()) {
        let mut header = vec!["fault (first seed)".to_string(), "at".to_string()];
        for r in &firsts {
            let l = protocol_label(r.summary.protocol);
            header.push(format!("{l}: longest gap ms"));
            header.push(format!("{l}: new leader after ms"));
        }
        let mut t = Table {
            header,
            rows: Vec::new(),
        };
        let n = firsts
            .iter()
            .map(|r| r.summary.unavailability.len())
            .max()
            .unwrap_or(0);
        for i in 0..n {
            let Some(u0) = firsts.iter().find_map(|r| r.summary.unavailability.get(i)) else {
                continue;
            };
            let mut row = vec![u0.fault.clone(), format_duration(u0.at_ns)];
            for r in &firsts {
                match r.summary.unavailability.get(i) {
                    Some(u) => {
                        row.push(ms(u.longest_gap_ns));
                        row.push(u.new_leader_ns.map_or("–".into(), ms));
                    }
                    None => row.extend(["–".to_string(), "–".to_string()]),
                }
            }
            t.rows.push(row);
        }
        b.push(Block::Para(
            "Unavailability after each fault: the longest stretch with no completed operation until the next fault, \
             and how long until a leader of a newer term/ballot appeared (– if none did). Fault targets are resolved \
             per protocol when the fault fires, so 'leader' may be a different node in each run."
                .into(),
        ));
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
        .runs
        .iter()
        .map(|r| {
            format!(
                "cargo run --release -- run {} --protocol {} --seed {}",
                sr.source, r.summary.protocol, r.summary.seed
            )
        })
        .collect();
    b.push(Block::Para("Reproduce any run:".into()));
    b.push(Block::Code(cmds.join("\n")));
    b
}

fn sweep_blocks(sw: &SweepResult, figures: &[Figure]) -> Vec<Block> {
    let mut b = vec![Block::Heading(
        2,
        format!("Load sweep: {}", sw.scenario),
        format!("sweep-{}", sw.scenario),
    )];
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
    let mut points = sw.points.clone();
    points.sort_by(|a, b| {
        (a.protocol.rank(), a.offered_ops_per_s)
            .partial_cmp(&(b.protocol.rank(), b.offered_ops_per_s))
            .expect("finite")
    });
    for p in &points {
        t.rows.push(vec![
            protocol_label(p.protocol).to_string(),
            format!("{:.0}", p.offered_ops_per_s),
            format!("{:.0}", p.achieved_ops_per_s),
            ms(p.p50_ns),
            ms(p.p99_ns),
            if p.correct {
                "pass".into()
            } else {
                "**FAIL**".into()
            },
        ]);
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
        "cargo run --release -- sweep {} --rates {} --seed {}",
        sw.source,
        rates.join(","),
        sw.seed
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
    let mut overview = Table {
        header: ["scenario", "nodes", "faults", "Raft", "Multi-Paxos"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    for sr in &input.scenarios {
        let faults = sr.scenario.fault_schedule(sr.scenario.seed).len();
        let cell = |p: Protocol| {
            let runs: Vec<_> = sr.runs_of(p).collect();
            if runs.is_empty() {
                return "–".to_string();
            }
            format!(
                "{} · {:.0} ops/s · p99 {:.1} ms",
                verdict(sr, p),
                mean_of(runs.iter().map(|r| r.summary.throughput_ops_per_s)),
                mean_of(runs.iter().map(|r| r.summary.latency.all.p99_ns as f64)) / 1e6
            )
        };
        overview.rows.push(vec![
            format!("[{}](#scenario-{})", sr.scenario.name, sr.scenario.name),
            sr.scenario.cluster.nodes.to_string(),
            faults.to_string(),
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
