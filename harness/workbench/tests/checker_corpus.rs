//! The linearizability checker against an outside corpus: Jepsen's histories of etcd, with
//! the verdicts Porcupine's test suite asserts (`testdata/jepsen-etcd/VERDICTS.txt`).
//!
//! The corpus is vendored in `testdata/jepsen-etcd` at the workspace root (MIT, see its
//! LICENSE-porcupine.md), so a fresh clone tests it; `WORKBENCH_JEPSEN_ETCD=DIR` points the
//! tests elsewhere. When it is missing these tests fail and say where they looked.
//!
//! Every log is checked, shrinking included; the whole corpus takes a few seconds in the test
//! profile. `cargo test -p workbench --test checker_corpus -- --nocapture` prints each log's
//! verdict and time.

use model::check::jepsen;
use model::check::linearizability::{self, Linearizability, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CORPUS_ENV: &str = "WORKBENCH_JEPSEN_ETCD";

fn corpus_dir() -> PathBuf {
    let dir = match std::env::var_os(CORPUS_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/jepsen-etcd"),
    };
    assert!(
        dir.join("VERDICTS.txt").is_file(),
        "the Jepsen etcd corpus is missing: no VERDICTS.txt in {}.\n\
         It is vendored in testdata/jepsen-etcd at the workspace root; restore it there or \
         set {CORPUS_ENV}=DIR to where it is.",
        dir.display()
    );
    dir
}

/// `(file name, linearizable?)` for each line of `VERDICTS.txt`.
fn verdicts(dir: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(dir.join("VERDICTS.txt")).expect("VERDICTS.txt is readable");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let linearizable = match fields.as_slice() {
                [_, "linearizable"] => true,
                [_, "not-linearizable"] => false,
                _ => panic!("VERDICTS.txt: expected `FILE linearizable|not-linearizable`, found {line:?}"),
            };
            (fields[0].to_string(), linearizable)
        })
        .collect()
}

struct Checked {
    name: String,
    expected: bool,
    verdict: Verdict,
    elapsed: Duration,
}

fn check_log(dir: &Path, name: &str, expected: bool) -> Checked {
    let path = dir.join(name);
    let started = Instant::now();
    let ops = jepsen::read_log(&path).unwrap_or_else(|e| panic!("{e}"));
    let verdict = linearizability::check(&ops);
    Checked {
        name: name.to_string(),
        expected,
        verdict,
        elapsed: started.elapsed(),
    }
}

/// Checks the logs, prints one line per log and the total time, and fails naming every log
/// whose verdict disagrees with `VERDICTS.txt`.
fn check_logs(dir: &Path, logs: &[(String, bool)]) {
    let started = Instant::now();
    let mut wrong = Vec::new();
    for (name, expected) in logs {
        let c = check_log(dir, name, *expected);
        let got = c.verdict.result;
        println!(
            "{:14} {:6} ops  {:18} {:>9.1?}  (expected {})",
            c.name,
            c.verdict.operations,
            format!("{got:?}"),
            c.elapsed,
            if c.expected {
                "linearizable"
            } else {
                "not-linearizable"
            },
        );
        let want = match c.expected {
            true => Linearizability::Linearizable,
            false => Linearizability::NotLinearizable,
        };
        if got != want {
            wrong.push(format!("{}: expected {want:?}, the checker says {got:?}", c.name));
        }
        // A violation must come with a witness on the register.
        if got == Linearizability::NotLinearizable {
            let v = &c.verdict.violations[0];
            assert_eq!(v.key, jepsen::KEY, "{}", c.name);
            assert!(!v.ops.is_empty(), "{}: an empty witness", c.name);
        }
    }
    println!("{} logs checked in {:.2?}", logs.len(), started.elapsed());
    assert!(
        wrong.is_empty(),
        "verdicts that disagree with VERDICTS.txt:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_verdict_names_a_log_and_every_log_has_a_verdict_or_is_empty() {
    let dir = corpus_dir();
    let verdicts = verdicts(&dir);
    assert!(verdicts.len() >= 100, "only {} verdicts", verdicts.len());
    for (name, _) in &verdicts {
        assert!(
            dir.join(name).is_file(),
            "VERDICTS.txt names {name}, which is missing"
        );
    }
    let mut logs: Vec<String> = std::fs::read_dir(&dir)
        .expect("the corpus directory is readable")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".log"))
        .collect();
    logs.sort();
    // Porcupine's suite has no verdict for an empty log (etcd_095.log); any other log
    // without one would go unchecked.
    for name in logs.iter().filter(|&l| !verdicts.iter().any(|(v, _)| v == l)) {
        let ops = jepsen::read_log(&dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            ops.is_empty(),
            "{name} has {} operations and no verdict",
            ops.len()
        );
    }
}

#[test]
fn every_log_of_the_corpus_matches_its_verdict() {
    let dir = corpus_dir();
    let verdicts = verdicts(&dir);
    assert!(verdicts.iter().any(|(_, l)| *l) && verdicts.iter().any(|(_, l)| !*l));
    check_logs(&dir, &verdicts);
}

/// Runs `workbench` with `args`, returning its exit code and standard output.
fn workbench(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_workbench"))
        .args(args)
        .output()
        .expect("workbench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty() || out.status.code() == Some(2),
        "stderr: {stderr}"
    );
    (out.status.code(), stdout)
}

#[test]
fn workbench_check_exits_non_zero_on_a_known_bad_log_and_prints_the_witness() {
    let dir = corpus_dir();
    let verdicts = verdicts(&dir);
    let (bad, _) = verdicts.iter().find(|(_, l)| !l).expect("a not-linearizable log");
    let path = dir.join(bad);
    let (code, stdout) = workbench(&["check", "--format", "jepsen-log", path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("NOT linearizable"), "{stdout}");
    assert!(stdout.contains(&format!("key {:?}:", jepsen::KEY)), "{stdout}");
    assert!(
        stdout.contains("cannot be linearized (a minimal set)"),
        "{stdout}"
    );

    let (good, _) = verdicts.iter().find(|(_, l)| *l).expect("a linearizable log");
    let path = dir.join(good);
    let (code, stdout) = workbench(&["check", "--format", "jepsen-log", path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains(": linearizable"), "{stdout}");
}

#[test]
fn workbench_check_exits_non_zero_on_a_bad_jsonl_history_and_names_the_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("history.jsonl");
    // A stale read of "k1": "a" was overwritten by "b" before the read began.
    let lines = [
        r#"{"process":0,"type":"invoke","f":"write","key":"k1","value":"a","time":0}"#,
        r#"{"process":0,"type":"ok","f":"write","key":"k1","value":"a","time":10}"#,
        r#"{"process":0,"type":"invoke","f":"write","key":"k1","value":"b","time":20}"#,
        r#"{"process":0,"type":"ok","f":"write","key":"k1","value":"b","time":30}"#,
        r#"{"process":1,"type":"invoke","f":"read","key":"k1","value":null,"time":40}"#,
        r#"{"process":1,"type":"ok","f":"read","key":"k1","value":"a","time":50}"#,
        r#"{"process":2,"type":"invoke","f":"read","key":"k2","value":null,"time":0}"#,
        r#"{"process":2,"type":"ok","f":"read","key":"k2","value":null,"time":5}"#,
    ];
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the history");
    let (code, stdout) = workbench(&["check", path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("key \"k1\": these 3 operations cannot be linearized (a minimal set)"),
        "{stdout}"
    );
    for row in ["write a  ok", "write b  ok", "read     ok a"] {
        assert!(stdout.contains(row), "no {row:?} in\n{stdout}");
    }
}
