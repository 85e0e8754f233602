//! A report as a reader gets it: every image the page references exists, every chart has
//! labelled ticks on both axes, and no Rust `Debug` text reaches the page.

use model::check::verdict::check_history;
use model::metrics::{Loop, summarize_with};
use model::protocol::Protocol;
use model::scenario::Scenario;
use report::{ReportInput, RunResult, ScenarioResults, SweepPoint, SweepResult, write_report};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const STEADY: &str = "name = \"tiny-steady\"\nduration = \"1s\"\nsettle = \"200ms\"\n\
                      protocols = [\"raft\", \"paxos\", \"null\"]\n[cluster]\nnodes = 3\n[workload]\nclients = 4\n";
const FAULT: &str = "name = \"tiny-crash\"\nduration = \"1200ms\"\nsettle = \"200ms\"\n[cluster]\nnodes = 3\n\
                     [workload]\nclients = 4\n[[faults]]\nat = \"800ms\"\naction = \"crash\"\ntarget = \"leader\"\n\
                     [[faults]]\nat = \"1100ms\"\naction = \"restart\"\ntarget = \"crashed\"\n";

fn runs(text: &str) -> ScenarioResults {
    let scenario = Scenario::parse(text, "inline").unwrap();
    let mut runs = Vec::new();
    for protocol in scenario.protocols() {
        for seed in 1..=2 {
            let opts = sim::RunOptions {
                seed: Some(seed),
                ..Default::default()
            };
            let output = sim::run_protocol(protocol, &scenario, &opts).unwrap();
            let summary = summarize_with(
                &output,
                Loop::of(&scenario.workload),
                check_history(&output.history),
                &Default::default(),
            );
            runs.push(RunResult { output, summary });
        }
    }
    ScenarioResults {
        scenario,
        source: "inline".into(),
        runs,
    }
}

fn sweep() -> SweepResult {
    let point = |protocol, offered: f64, achieved: f64, p99_ms: u64| SweepPoint {
        protocol,
        offered_ops_per_s: offered,
        achieved_ops_per_s: achieved,
        p50_ns: p99_ms * 700_000,
        p99_ns: p99_ms * 1_000_000,
        correct: true,
        checker_gave_up: false,
    };
    SweepResult {
        scenario: "tiny-steady".into(),
        source: "inline".into(),
        seed: 1,
        duration_ns: 1_000_000_000,
        points: [Protocol::Raft, Protocol::Paxos, Protocol::Null]
            .into_iter()
            .flat_map(|p| {
                [
                    point(p, 10_000.0, 10_000.0, 4),
                    point(p, 50_000.0, 49_000.0, 6),
                    point(p, 100_000.0, 70_000.0, 400),
                ]
            })
            .collect(),
    }
}

/// The report of two tiny scenarios (one with a crash) over two seeds, and a sweep; written
/// once for every test here.
fn written() -> &'static tempfile::TempDir {
    static REPORT: OnceLock<tempfile::TempDir> = OnceLock::new();
    REPORT.get_or_init(write)
}

fn write() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let input = ReportInput {
        title: "test".into(),
        backend_note: "test".into(),
        scenarios: vec![runs(STEADY), runs(FAULT)],
        sweeps: vec![sweep()],
        reasons: BTreeMap::new(),
        ..ReportInput::default()
    };
    write_report(dir.path(), &input).unwrap();
    dir
}

/// Values of `attr="..."` in `text`.
fn attributes<'a>(text: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!("{attr}=\"");
    text.match_indices(&key)
        .map(|(i, _)| {
            let rest = &text[i + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// One `<text>` element of an SVG: its attributes and its content.
struct SvgText {
    x: String,
    y: String,
    anchor: String,
    dy: String,
    font_size: f64,
    turned: bool,
    content: String,
}

fn svg_texts(svg: &str) -> Vec<SvgText> {
    svg.split("<text ")
        .skip(1)
        .map(|t| {
            let (head, rest) = t.split_once('>').unwrap();
            let attr = |a: &str| {
                attributes(&format!(" {head}"), &format!(" {a}"))
                    .first()
                    .map_or(String::new(), |s| s.to_string())
            };
            SvgText {
                x: attr("x"),
                y: attr("y"),
                anchor: attr("text-anchor"),
                dy: attr("dy"),
                font_size: attr("font-size").parse().unwrap_or(0.0),
                turned: head.contains("rotate(90"),
                content: rest.split("</text>").next().unwrap().trim().to_string(),
            }
        })
        .collect()
}

/// Whether each axis has labelled ticks: on the x axis at least one label on the line under
/// the plot (a bar chart of one category has one) or turned category names, on the y axis at
/// least two labels sharing their right edge.
fn labelled_axes(svg: &str) -> (bool, bool) {
    // Tick labels are the small text (13 px or less, scaled); titles and axis names are larger.
    let texts: Vec<SvgText> = svg_texts(svg)
        .into_iter()
        .filter(|t| t.font_size < 12.0)
        .collect();
    let most = |key: &dyn Fn(&SvgText) -> Option<String>| {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for t in texts.iter().filter(|t| !t.content.is_empty()) {
            if let Some(k) = key(t) {
                *by.entry(k).or_default() += 1;
            }
        }
        by.values().copied().max().unwrap_or(0)
    };
    let x_ticks = most(&|t| (t.anchor == "middle" && t.dy == "0.76em" && !t.turned).then(|| t.y.clone()));
    let turned = texts.iter().filter(|t| t.turned && !t.content.is_empty()).count();
    let y_ticks = most(&|t| (t.anchor == "end").then(|| t.x.clone()));
    (x_ticks >= 1 || turned >= 1, y_ticks >= 2)
}

#[test]
fn every_image_the_page_references_exists_and_every_chart_labels_both_axes() {
    let dir = written();
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let mut images: Vec<&str> = attributes(&html, "src");
    images.extend(
        attributes(&html, "href")
            .into_iter()
            .filter(|h| h.starts_with("plots/")),
    );
    images.extend(
        md.split("](")
            .skip(1)
            .filter_map(|s| s.split(')').next())
            .filter(|s| s.starts_with("plots/")),
    );
    assert!(images.len() >= 10, "{images:?}");
    for image in &images {
        assert!(
            dir.path().join(image).is_file(),
            "{image} is referenced but missing"
        );
    }
    for svg in images.iter().filter(|i| i.ends_with(".svg")) {
        let text = std::fs::read_to_string(dir.path().join(svg)).unwrap();
        assert_eq!(
            labelled_axes(&text),
            (true, true),
            "{svg}: ticks (x, y) not labelled"
        );
    }
}

#[test]
fn the_page_has_no_rust_debug_text() {
    let dir = written();
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    for debug in ["Dur(", " { mean", "Some(", "None", "Normal {", "Uniform {"] {
        assert!(!html.contains(debug), "the page contains {debug:?}");
    }
}

#[test]
fn the_aggregates_file_has_an_interval_per_protocol_and_metric() {
    let dir = written();
    let text = std::fs::read_to_string(dir.path().join("aggregates.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let steady = &v["scenarios"][0];
    assert_eq!(steady["scenario"], "tiny-steady");
    let throughput_raft = steady["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["protocol"] == "raft" && f["metric"] == "throughput")
        .unwrap();
    assert_eq!(throughput_raft["n"], 2);
    assert!(throughput_raft["half_width"].is_number(), "{throughput_raft}");
}
