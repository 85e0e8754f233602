//! Fuzzing the workbench's inputs: scenario files, `history.jsonl` and Jepsen logs, mutated
//! from the shipped ones (every `scenarios/*.toml`, the worked example and the history
//! example of `docs/formats.md`, a history the simulator writes, Jepsen's etcd logs).
//!
//! Whatever the text, the workbench must answer as its exit codes say (0 correct, 1 a check
//! failed, 2 bad input naming file and field or line) and never panic, never hang, never
//! blame a protocol for its own fault (a harness error, exit code 3, fails these tests):
//! - a scenario either parses, or its error names the file and a field; one that parses and
//!   is short enough is run in the simulator, which must end without a harness error;
//! - a history or log either pairs into operations, which the checker then decides within a
//!   budget, or its error names the file and a line that exists.
//!
//! Mutations are seeded (`replog::rng`), so a failure names its case and reproduces. Each case
//! runs under a watchdog: one that takes longer than [`CASE_LIMIT`] fails the test, naming it.
//!
//! The tests here run a bounded number of cases (CI). The long versions are ignored; run them
//! by hand:
//!
//! ```text
//! cargo test --release -p workbench --test fuzz -- --ignored --nocapture
//! ```

use model::check::jepsen;
use model::check::linearizability::Budget;
use model::check::verdict::check_operations_reporting;
use model::history::{HistoryError, parse_operations, write_jsonl};
use model::protocol::Protocol;
use model::run::BackendKind;
use model::scenario::{Dur, LoopMode, Scenario};
use rand::RngExt;
use replog::rng::{DetRng, rng_for};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use workbench::suite::{Job, quick, run_job};

/// The most one case may take before the test fails as a hang. (Generous: a case takes
/// milliseconds, a simulated run about a second in the test profile.)
const CASE_LIMIT: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---------------------------------------------------------------------------------------------
// Running cases under a watchdog.

/// Runs `case(i)` for `i` in `0..cases` on a worker thread; fails, naming the case, if one
/// panics or takes longer than [`CASE_LIMIT`]. `case` returns a description of the input,
/// shown on failure.
fn run_cases(what: &str, cases: u64, case: impl Fn(u64) -> Result<(), String> + Send + 'static) {
    let (tx, rx) = mpsc::channel::<(u64, Result<(), String>)>();
    let worker = std::thread::spawn(move || {
        for i in 0..cases {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(i))).unwrap_or_else(
                |payload| {
                    let message = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Err(format!("panicked: {message}"))
                },
            );
            if tx.send((i, outcome)).is_err() {
                return;
            }
        }
    });
    for expected in 0..cases {
        match rx.recv_timeout(CASE_LIMIT) {
            Ok((i, Ok(()))) => assert_eq!(i, expected),
            Ok((i, Err(why))) => panic!("{what} case {i}: {why}"),
            Err(_) => panic!("{what} case {expected} did not finish within {CASE_LIMIT:?} (a hang)"),
        }
    }
    worker.join().expect("the worker ends");
}

fn pick<'a>(rng: &mut DetRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

// ---------------------------------------------------------------------------------------------
// Generic text mutations.

fn lines_of(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

fn join(lines: &[String]) -> String {
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Cuts `text` at a random character boundary.
fn truncate(rng: &mut DetRng, text: &str) -> String {
    let cut = rng.random_range(0..=text.len());
    let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    text[..cut].to_string()
}

/// Deletes, duplicates or swaps lines.
fn shuffle_lines(rng: &mut DetRng, text: &str) -> String {
    let mut lines = lines_of(text);
    if lines.is_empty() {
        return text.to_string();
    }
    let i = rng.random_range(0..lines.len());
    match rng.random_range(0..4) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let line = lines[i].clone();
            lines.insert(i, line);
        }
        2 => {
            let j = rng.random_range(0..lines.len());
            lines.swap(i, j);
        }
        _ => lines.insert(i, String::new()),
    }
    join(&lines)
}

/// Deletes one occurrence of one of `chars`.
fn delete_char(rng: &mut DetRng, text: &str, chars: &[char]) -> String {
    let c = chars[rng.random_range(0..chars.len())];
    let at: Vec<usize> = text.match_indices(c).map(|(i, _)| i).collect();
    if at.is_empty() {
        return text.to_string();
    }
    let i = at[rng.random_range(0..at.len())];
    format!("{}{}", &text[..i], &text[i + c.len_utf8()..])
}

/// Replaces one run of digits (with its point and exponent) by one of `with`.
fn replace_number(rng: &mut DetRng, text: &str, with: &[&str]) -> String {
    let with = pick(rng, with);
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || matches!(bytes[i], b'.' | b'e' | b'E')) {
                i += 1;
            }
            runs.push(start..i);
        }
        i += 1;
    }
    if runs.is_empty() {
        return text.to_string();
    }
    let r = runs[rng.random_range(0..runs.len())].clone();
    format!("{}{}{}", &text[..r.start], with, &text[r.end..])
}

/// Replaces one occurrence of one of `words` by one of `with`.
fn replace_word(rng: &mut DetRng, text: &str, words: &[&str], with: &[&str]) -> String {
    let with = pick(rng, with);
    let hits: Vec<(usize, &str)> = words.iter().flat_map(|w| text.match_indices(w)).collect();
    if hits.is_empty() {
        return text.to_string();
    }
    let (i, w) = hits[rng.random_range(0..hits.len())];
    format!("{}{}{}", &text[..i], with, &text[i + w.len()..])
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

const NUMBERS: &[&str] = &[
    "-1",
    "0",
    "1",
    "3",
    "16",
    "1.5",
    "-0.5",
    "1e308",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "99999999999",
    "18446744073709551616",
    "4294967296",
    "0.000001",
];
const VALUES: &[&str] = &[
    "\"x\"",
    "\"\"",
    "[1, 2]",
    "[]",
    "{ a = 1 }",
    "true",
    "-7",
    "1e400",
    "\"10\"",
    "\"1e30s\"",
    "\"-1s\"",
    "\"nan s\"",
    "{ dist = \"uniform\", min = \"2ms\", max = \"1ms\" }",
    "{ dist = \"lognormal\", median = \"1ms\", sigma = 99 }",
    "{ dist = \"pareto\" }",
    "\"0\"",
];
const WORDS: &[&str] = &[
    "leader",
    "follower",
    "minority",
    "crashed",
    "bridge",
    "partition",
    "crash",
    "restart",
    "uniform",
    "normal",
    "closed",
    "open",
    "zipfian",
    "raft",
    "paxos",
    "10ms",
    "1s",
    "0",
];
const ACTIONS: &[&str] = &[
    "crash",
    "restart",
    "partition",
    "isolate",
    "bridge",
    "majorities_ring",
    "one_way",
    "partial",
    "heal",
    "loss",
    "delay",
    "duplicate",
    "clock_skew",
    "slow_disk",
    "pause",
    "resume",
    "explode",
];

/// A `[[faults]]` entry with a random action and the fields it needs, with values that are
/// usually (not always) in range: most of these parse, and the run applies them.
fn plausible_fault(rng: &mut DetRng, header: &str) -> String {
    let action = pick(rng, &ACTIONS[..ACTIONS.len() - 1]);
    let at = pick(
        rng,
        &["\"0\"", "\"100ms\"", "\"300ms\"", "\"600ms\"", "\"900ms\""],
    );
    let mut f = format!("\n{header}\nat = {at}\naction = \"{action}\"\n");
    let target = pick(
        rng,
        &[
            "0",
            "1",
            "2",
            "[0, 2]",
            "\"leader\"",
            "\"follower\"",
            "\"minority\"",
            "\"minority_with_leader\"",
            "\"all\"",
            "\"crashed\"",
            "\"paused\"",
        ],
    );
    let needs_target = !matches!(action, "majorities_ring" | "heal" | "duplicate");
    if action == "partition" && rng.random_bool(0.5) {
        f += "groups = [[0], [1, 2]]\n";
    } else if needs_target && rng.random_bool(0.75) {
        f += &format!("target = {target}\n");
    }
    match action {
        "loss" | "duplicate" => f += &format!("probability = {}\n", pick(rng, &["0", "0.2", "1"])),
        "delay" => f += &format!("extra = {}\n", pick(rng, &["\"0\"", "\"20ms\""])),
        "clock_skew" => f += &format!("rate = {}\n", pick(rng, &["0.5", "2.0", "1.0"])),
        "slow_disk" if rng.random_bool(0.7) => f += "fsync = \"30ms\"\n",
        "one_way" if rng.random_bool(0.5) => f += "direction = \"send\"\n",
        _ => {}
    }
    f
}

/// A `[[faults]]` entry with a random action and a random choice of fields and values.
fn random_fault(rng: &mut DetRng, header: &str) -> String {
    let mut f = format!(
        "\n{header}\nat = {}\naction = \"{}\"\n",
        pick(
            rng,
            &[
                "\"0\"",
                "\"100ms\"",
                "\"400ms\"",
                "\"900ms\"",
                "\"5s\"",
                "\"-1s\"",
                "\"1e30s\"",
            ]
        ),
        pick(rng, ACTIONS)
    );
    let fields: [(&str, f64, &[&str]); 7] = [
        (
            "target",
            0.7,
            &[
                "0",
                "2",
                "99",
                "-1",
                "\"leader\"",
                "\"follower\"",
                "\"minority\"",
                "\"minority_with_leader\"",
                "\"all\"",
                "\"crashed\"",
                "\"paused\"",
                "\"boss\"",
                "[]",
                "[0, 1]",
                "[0, 0]",
                "[7, 1]",
            ],
        ),
        (
            "groups",
            0.2,
            &["[[0], [1, 2]]", "[]", "[[]]", "[[0, 1], [1]]", "[[9]]", "[[0]]"],
        ),
        ("probability", 0.3, &["0", "0.5", "1", "1.5", "-0.1", "nan"]),
        ("rate", 0.2, &["0.5", "2.0", "0", "-1", "1e9", "inf", "0.001"]),
        ("extra", 0.2, &["\"10ms\"", "\"0\"", "\"1e30s\"", "5"]),
        (
            "fsync",
            0.2,
            &[
                "\"20ms\"",
                "{ dist = \"uniform\", min = \"2ms\", max = \"1ms\" }",
                "{ dist = \"lognormal\", median = \"1ms\", sigma = 99 }",
            ],
        ),
        ("direction", 0.1, &["\"send\"", "\"receive\"", "\"up\""]),
    ];
    for (name, p, values) in fields {
        if rng.random_bool(p) {
            f += &format!("{name} = {}\n", pick(rng, values));
        }
    }
    f
}

/// One or two random mutations of scenario `text`.
fn mutate_scenario(rng: &mut DetRng, text: &str) -> String {
    let mut t = text.to_string();
    let mutations = if rng.random_bool(0.6) { 1 } else { 2 };
    for _ in 0..mutations {
        t = match rng.random_range(0..13) {
            9..=12 => {
                let header = if t.contains("[faults]") || t.contains("faults.schedule") {
                    "[[faults.schedule]]"
                } else {
                    "[[faults]]"
                };
                t + &plausible_fault(rng, header)
            }
            0 => delete_char(rng, &t, &['"']),
            1 => replace_number(rng, &t, NUMBERS),
            2 => {
                let mut lines = lines_of(&t);
                let assignments: Vec<usize> =
                    (0..lines.len()).filter(|&i| lines[i].contains(" = ")).collect();
                if let Some(&i) = assignments.get(rng.random_range(0..assignments.len().max(1))) {
                    let key = lines[i].split(" = ").next().unwrap_or("").to_string();
                    lines[i] = format!("{key} = {}", pick(rng, VALUES));
                }
                join(&lines)
            }
            3 => {
                let header = if t.contains("[faults]") || t.contains("faults.schedule") {
                    "[[faults.schedule]]"
                } else {
                    "[[faults]]"
                };
                t + &random_fault(rng, header)
            }
            4 => truncate(rng, &t),
            5 | 6 => shuffle_lines(rng, &t),
            7 => replace_word(rng, &t, WORDS, WORDS),
            _ => replace_word(rng, &t, &["\""], &["'"]),
        };
    }
    t
}

/// The shipped scenario texts: every `scenarios/*.toml` and the worked example of
/// docs/formats.md.
fn shipped_scenarios() -> Vec<String> {
    let mut texts = Vec::new();
    let dir = root().join("scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        texts.push(std::fs::read_to_string(p).expect("a scenario"));
    }
    let doc = std::fs::read_to_string(root().join("docs/formats.md")).expect("docs/formats.md");
    texts.push(fenced_block(&doc, "### Worked example", "```toml"));
    assert!(texts.len() >= 18, "{} scenarios", texts.len());
    texts
}

/// The first block fenced by `fence` after `heading` in a markdown text.
fn fenced_block(doc: &str, heading: &str, fence: &str) -> String {
    let after = &doc[doc.find(heading).expect("the heading")..];
    let start = after.find(fence).expect("the fence") + fence.len();
    let body = &after[start..];
    body[..body.find("\n```").expect("the closing fence")]
        .trim_start()
        .to_string()
        + "\n"
}

/// The corpus: the shipped texts as they are, and each shortened to one second (so that a
/// mutation of it that still parses is cheap to run), written back as TOML.
fn scenario_corpus() -> Vec<String> {
    let shipped = shipped_scenarios();
    let mut corpus = shipped.clone();
    for text in &shipped {
        let s = Scenario::parse(text, "shipped").expect("a shipped scenario parses");
        let mut short = quick(&s, Dur(1_000_000_000));
        short.settle = Dur(500_000_000);
        corpus.push(toml::to_string(&short).expect("a scenario serializes"));
    }
    corpus
}

/// Whether a scenario is short enough to run in a fuzz case.
fn cheap_to_run(s: &Scenario) -> bool {
    let w = &s.workload;
    s.duration.0 <= 2_000_000_000
        && s.settle.0 <= 1_000_000_000
        && s.cluster.nodes <= 7
        && w.clients <= 64
        && w.value_size <= 4096
        && (w.mode == LoopMode::Closed || w.rate.is_some_and(|r| r <= 50_000.0))
        && s.faults
            .random
            .as_ref()
            .is_none_or(|r| r.mean_interval.0 >= 50_000_000)
}

/// One scenario case: the mutated text parses, or fails naming file and field; if it parses
/// and is cheap, one protocol runs it to the end with no harness error. Returns whether it ran.
fn scenario_case(corpus: &[String], seed: u64) -> Result<bool, String> {
    let mut rng = rng_for(seed, 0x5ce0);
    // Mostly the shortened texts: what parses of their mutations is cheap to run.
    let half = corpus.len() / 2;
    let base = &corpus[if rng.random_bool(0.75) {
        rng.random_range(half..corpus.len())
    } else {
        rng.random_range(0..half)
    }];
    let text = mutate_scenario(&mut rng, base);
    if std::env::var_os("FUZZ_SHOW").is_some() {
        eprintln!("--- scenario case {seed} ---\n{text}");
    }
    let shown = |why: String| format!("{why}\n--- scenario ---\n{text}");
    let scenario = match Scenario::parse(&text, "fuzz.toml") {
        Ok(s) => s,
        Err(e) => {
            return if e.file == "fuzz.toml" && !e.field.is_empty() && !e.message.is_empty() {
                Ok(false)
            } else {
                Err(shown(format!("an error that does not say where: {e:?}")))
            };
        }
    };
    if !cheap_to_run(&scenario) {
        return Ok(false);
    }
    let protocols = scenario.protocols();
    let protocol = protocols[rng.random_range(0..protocols.len())];
    let job = Job {
        scenario,
        source: "fuzz.toml".into(),
        protocol,
        seed: seed % 7 + 1,
        trace_log_bytes: 0,
        backend: BackendKind::Sim,
    };
    match run_job(&job) {
        Ok(_) => Ok(true),
        Err(e) => Err(shown(format!("the run failed: {e}"))),
    }
}

fn fuzz_scenarios(cases: u64, runs_at_least: u64) {
    let corpus = scenario_corpus();
    let (ran_tx, ran_rx) = mpsc::channel();
    run_cases("scenario", cases, move |i| {
        let ran = scenario_case(&corpus, i)?;
        ran_tx.send(ran).map_err(|e| e.to_string())
    });
    let ran = ran_rx.try_iter().filter(|&r| r).count() as u64;
    eprintln!("scenario fuzz: {cases} cases, {ran} run in the simulator");
    assert!(
        ran >= runs_at_least,
        "only {ran} of {cases} mutated scenarios were run"
    );
}

#[test]
fn mutated_scenarios_parse_or_name_the_field_and_those_that_parse_run_without_harness_errors() {
    fuzz_scenarios(1_500, 15);
}

/// One scenario case, shown and run: `FUZZ_CASE=N FUZZ_SHOW=1 cargo test --release -p
/// workbench --test fuzz one_scenario_case -- --ignored --nocapture`.
#[test]
#[ignore = "reproduces the case named by FUZZ_CASE"]
fn one_scenario_case() {
    let case: u64 = std::env::var("FUZZ_CASE")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let corpus = scenario_corpus();
    let started = Instant::now();
    let outcome = scenario_case(&corpus, case);
    eprintln!("case {case}: {outcome:?} in {:?}", started.elapsed());
}

/// The long version: `cargo test --release -p workbench --test fuzz -- --ignored --nocapture`.
#[test]
#[ignore = "long: 60,000 scenario cases; run by hand with --release --ignored"]
fn mutated_scenarios_long() {
    fuzz_scenarios(60_000, 600);
}

// ---------------------------------------------------------------------------------------------
// Histories and Jepsen logs.

/// A history the simulator writes (a crash in it, so some outcomes are unknown), and the
/// example of docs/formats.md.
fn history_corpus() -> Vec<String> {
    let text = "name = \"h\"\nduration = \"300ms\"\nsettle = \"200ms\"\n[workload]\nclients = 4\nkeys = 3\n\
                [[faults]]\nat = \"100ms\"\naction = \"crash\"\ntarget = \"leader\"\n";
    let s = Scenario::parse(text, "history-corpus").expect("valid");
    let out = sim::run_protocol(Protocol::Raft, &s, &sim::RunOptions::default()).expect("a run");
    let mut jsonl = Vec::new();
    write_jsonl(&out.history, &mut jsonl).expect("to memory");
    let doc = std::fs::read_to_string(root().join("docs/formats.md")).expect("docs/formats.md");
    vec![
        String::from_utf8(jsonl).expect("UTF-8"),
        fenced_block(&doc, "## Histories", "```json"),
    ]
}

/// One to three mutations of a JSON Lines history.
fn mutate_history(rng: &mut DetRng, text: &str) -> Vec<u8> {
    let mut t = text.to_string();
    let mut bytes = None;
    for _ in 0..rng.random_range(1..=3) {
        t = match rng.random_range(0..10) {
            0 => delete_char(rng, &t, &['{', '}', '"', ',', ':']),
            1 | 2 => shuffle_lines(rng, &t),
            3 => replace_word(
                rng,
                &t,
                &["\"read\"", "\"write\"", "\"cas\""],
                &["\"incr\"", "\"read\"", "\"cas\"", "1"],
            ),
            4 => replace_word(
                rng,
                &t,
                &["\"invoke\"", "\"ok\"", "\"fail\"", "\"info\""],
                &["\"done\"", "\"ok\"", "\"invoke\"", "\"info\"", "null"],
            ),
            5 => replace_word(
                rng,
                &t,
                &["\"value\":\"", "\"value\":null", "\"value\":["],
                &[
                    "\"value\":123,\"v\":\"",
                    "\"value\":{},\"v\":null",
                    "\"value\":true,\"v\":[",
                    "\"value\":[null],\"v\":[",
                    "\"value\":[\"a\",1],\"v\":[",
                ],
            ),
            6 => replace_number(rng, &t, &["-5", "1e30", "18446744073709551616", "0", "\"x\""]),
            7 => truncate(rng, &t),
            8 => replace_word(rng, &t, &["\"key\":"], &["\"key\":7,\"k\":"]),
            _ => {
                let mut b = t.clone().into_bytes();
                let at = rng.random_range(0..=b.len());
                b.splice(at..at, [0xff, 0xfe]);
                bytes = Some(b);
                t
            }
        };
    }
    bytes.unwrap_or_else(|| t.into_bytes())
}

/// A small budget: fuzz cases are about not panicking, not about deciding.
fn small_budget() -> Budget {
    Budget {
        steps_per_key: Some(200_000),
        states_per_key: Some(200_000),
        shrink_steps: 200_000,
        ..Budget::default()
    }
}

/// Either operations the checker decides (or gives up on) within a small budget, or an error
/// naming `name` and a line that exists.
fn judge(
    parsed: Result<Vec<model::history::Operation>, HistoryError>,
    name: &str,
    bytes: &[u8],
) -> Result<(), String> {
    let lines = bytes.split(|&b| b == b'\n').count();
    match parsed {
        Ok(ops) => {
            check_operations_reporting(&ops, &small_budget(), &mut |_| {});
            Ok(())
        }
        Err(HistoryError::Malformed { path, line, reason })
            if path == name && (1..=lines).contains(&line) =>
        {
            if reason.is_empty() {
                Err("an error without a reason".into())
            } else {
                Ok(())
            }
        }
        Err(e) => Err(format!(
            "an error that does not name a line of the input ({lines} lines): {e}\n--- input ---\n{}",
            String::from_utf8_lossy(bytes)
        )),
    }
}

fn fuzz_histories(cases: u64) {
    let corpus = history_corpus();
    run_cases("history", cases, move |i| {
        let mut rng = rng_for(i, 0x4157);
        let base = &corpus[rng.random_range(0..corpus.len())];
        let bytes = mutate_history(&mut rng, base);
        judge(parse_operations(&bytes[..], "fuzz.jsonl"), "fuzz.jsonl", &bytes)
    });
}

#[test]
fn mutated_histories_are_checked_or_rejected_naming_the_line() {
    fuzz_histories(2_000);
}

/// The long version: `cargo test --release -p workbench --test fuzz -- --ignored --nocapture`.
#[test]
#[ignore = "long: 100,000 history cases; run by hand with --release --ignored"]
fn mutated_histories_long() {
    fuzz_histories(100_000);
}

fn jepsen_corpus() -> Vec<String> {
    let dir = root().join("testdata/jepsen-etcd");
    (0..4)
        .map(|i| std::fs::read_to_string(dir.join(format!("etcd_00{i}.log"))).expect("a Jepsen log"))
        .map(|log| log.lines().take(300).map(|l| format!("{l}\n")).collect())
        .collect()
}

fn mutate_jepsen(rng: &mut DetRng, text: &str) -> Vec<u8> {
    let mut t = text.to_string();
    for _ in 0..rng.random_range(1..=3) {
        t = match rng.random_range(0..7) {
            0 | 1 => shuffle_lines(rng, &t),
            2 => replace_word(
                rng,
                &t,
                &[":invoke", ":ok", ":fail", ":info"],
                &[":begin", ":ok", ":invoke", ""],
            ),
            3 => replace_word(
                rng,
                &t,
                &[":read", ":write", ":cas"],
                &[":incr", ":read", ":cas", ":write"],
            ),
            4 => replace_number(
                rng,
                &t,
                &["banana", "-1", "99999999999999999999", ":nemesis", "[1", "nil"],
            ),
            5 => delete_char(rng, &t, &['[', ']', '\t', '-']),
            _ => truncate(rng, &t),
        };
    }
    t.into_bytes()
}

fn fuzz_jepsen(cases: u64) {
    let corpus = jepsen_corpus();
    run_cases("jepsen log", cases, move |i| {
        let mut rng = rng_for(i, 0x1e95);
        let base = &corpus[rng.random_range(0..corpus.len())];
        let bytes = mutate_jepsen(&mut rng, base);
        judge(jepsen::parse_log(&bytes[..], "fuzz.log"), "fuzz.log", &bytes)
    });
}

#[test]
fn mutated_jepsen_logs_are_checked_or_rejected_naming_the_line() {
    fuzz_jepsen(1_500);
}

/// The long version: `cargo test --release -p workbench --test fuzz -- --ignored --nocapture`.
#[test]
#[ignore = "long: 60,000 Jepsen log cases; run by hand with --release --ignored"]
fn mutated_jepsen_logs_long() {
    fuzz_jepsen(60_000);
}

// ---------------------------------------------------------------------------------------------
// The binary: exit codes.

/// Runs `workbench ARGS` in `dir`, killing it (and failing) after [`CASE_LIMIT`]. Returns the
/// exit code and stderr.
fn workbench(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the workbench binary starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting on the workbench") {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                use std::io::Read;
                err.read_to_string(&mut stderr).expect("stderr");
            }
            return (status.code().unwrap_or(-1), stderr);
        }
        if started.elapsed() > CASE_LIMIT {
            let _ = child.kill();
            panic!(
                "`workbench {}` did not finish within {CASE_LIMIT:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_bridge_without_target_exits_2_naming_the_field_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "name = \"b\"\nduration = \"10s\"\n[cluster]\nnodes = 5\n[[faults]]\nat = \"8s\"\naction = \"bridge\"\n";
    std::fs::write(dir.path().join("b.toml"), text).expect("write");
    let (code, stderr) = workbench(dir.path(), &["run", "b.toml", "--out", "out"]);
    assert!(
        code == 2 && stderr.contains("b.toml: faults[0].target: is required") && stderr.contains("(line "),
        "exit {code}: {stderr}"
    );
}

#[test]
fn one_hot_key_with_32_clients_finishes_with_a_verdict() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "name = \"hot\"\nduration = \"1s\"\n[workload]\nclients = 32\nkeys = 1\n";
    std::fs::write(dir.path().join("hot.toml"), text).expect("write");
    let (code, stderr) = workbench(dir.path(), &["--quiet", "run", "hot.toml", "--out", "out"]);
    let summary =
        std::fs::read_to_string(dir.path().join("out/runs/hot/raft-seed1/summary.json")).unwrap_or_default();
    assert!(
        code == 0 && summary.contains("\"linearizable\": true"),
        "exit {code}: {stderr}\n{summary}"
    );
}

#[test]
fn check_exits_2_naming_the_line_of_a_malformed_history_or_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let invoke = r#"{"process":1,"type":"invoke","f":"write","key":"k","value":"a","time":1}"#;
    std::fs::write(dir.path().join("h.jsonl"), format!("{invoke}\n\n{invoke}\n")).expect("write");
    std::fs::write(
        dir.path().join("j.log"),
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\tbanana\n",
    )
    .expect("write");
    let (code, stderr) = workbench(dir.path(), &["check", "h.jsonl"]);
    assert!(
        code == 2 && stderr.contains("h.jsonl:3: process 1 invokes again"),
        "exit {code}: {stderr}"
    );
    let (code, stderr) = workbench(dir.path(), &["check", "--format", "jepsen-log", "j.log"]);
    assert!(code == 2 && stderr.contains("j.log:2:"), "exit {code}: {stderr}");
}

#[test]
fn mutated_scenarios_through_the_binary_exit_0_1_or_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = scenario_corpus();
    let mut codes = [0; 3];
    for seed in 0..16 {
        let mut rng = rng_for(seed, 0xb1);
        let text = mutate_scenario(&mut rng, &corpus[corpus.len() - 1 - (seed as usize % 18)]);
        std::fs::write(dir.path().join("m.toml"), &text).expect("write");
        let (code, stderr) = workbench(
            dir.path(),
            &["--quiet", "run", "m.toml", "--protocol", "raft", "--out", "out"],
        );
        assert!(
            (0..=2).contains(&code),
            "exit {code}: {stderr}\n--- scenario ---\n{text}"
        );
        codes[code as usize] += 1;
    }
    eprintln!("exit codes 0/1/2: {codes:?}");
}
