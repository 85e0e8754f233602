//! What `workbench explore` finds for each write-once algorithm: the drafts' argument, one
//! test per claim. Bounds are kept small so that the whole file runs in seconds in a debug
//! build; `workbench explore` runs the same searches with larger bounds.

use writeonce::explore::report::{Finding, Search};
use writeonce::explore::trace::Kind;
use writeonce::explore::{self, Exploration, ExploreArgs, FindingKind, Property, Settings};

fn settings(algorithm: &str, nodes: usize, tweak: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings::defaults(algorithm, nodes);
    tweak(&mut s);
    s
}

fn run(algorithm: &str, settings: &Settings) -> Exploration {
    explore::explore(algorithm, settings).expect("a known algorithm and sane settings")
}

fn finding(e: &Exploration, p: Property) -> &Finding {
    let result = e.property(p);
    assert!(!result.holds, "{}: {} should be violated", e.label(), p.name());
    result
        .finding
        .as_ref()
        .expect("a violated property comes with a counterexample")
}

fn holds(e: &Exploration, p: Property) {
    let result = e.property(p);
    assert!(
        result.holds,
        "{}: {} should hold: {}",
        e.label(),
        p.name(),
        result.note
    );
}

fn count(f: &Finding, kind: Kind) -> usize {
    f.timeline.lines.iter().filter(|l| l.kind == kind).count()
}

fn exhaustive_states(e: &Exploration) -> usize {
    match e.search {
        Search::Exhaustive { states, .. } => states,
        Search::Walks { .. } => panic!("{} was not searched exhaustively", e.label()),
    }
}

/// Draft 001, "Distributed WriteOnce": one crash of the coordinator (the bully rule's
/// highest id) and nobody can ever decide.
#[test]
fn coordinator_loses_termination_when_the_coordinator_crashes() {
    let e = run("coordinator", &settings("coordinator", 3, |_| {}));
    holds(&e, Property::Agreement);
    holds(&e, Property::Validity);
    let f = finding(&e, Property::Termination);
    assert_eq!(f.kind, FindingKind::Deadlock);
    assert_eq!(f.steps, 1, "the shortest counterexample is the crash alone");
    let first = &f.timeline.lines[0];
    assert_eq!((first.kind, first.node), (Kind::Crash, 2));
}

/// Draft 001, "Split Votes": three candidates on three nodes, each node votes for its own,
/// and no value can ever reach a majority. No fault needed.
#[test]
fn majority_vote_deadlocks_on_a_three_way_split_vote() {
    let e = run("majority-vote", &settings("majority-vote", 3, |s| s.faults = 0));
    holds(&e, Property::Agreement);
    holds(&e, Property::Validity);
    let f = finding(&e, Property::Termination);
    assert_eq!(f.kind, FindingKind::Deadlock);
    assert_eq!(f.steps, 3, "three proposals, each voting for itself, are enough");
    assert!(f.timeline.lines[..3].iter().all(|l| l.kind == Kind::Propose));
    assert!(f.timeline.lines.iter().all(|l| l.decided.is_empty()));
}

/// Draft 004, "window of vulnerability": two candidates on seven nodes, votes three to
/// three, and the seventh node crashes before it votes.
#[test]
fn majority_vote_on_seven_nodes_is_stuck_after_one_badly_timed_crash() {
    let e = run("majority-vote", &settings("majority-vote", 7, |s| s.walks = 400));
    holds(&e, Property::Agreement);
    let f = finding(&e, Property::Termination);
    assert_eq!(f.kind, FindingKind::Deadlock);
    assert_eq!(count(f, Kind::Crash), 1, "one crash does it");
    assert_eq!(count(f, Kind::Propose), 2, "two candidates");
    assert!(f.timeline.lines.iter().all(|l| l.decided.is_empty()));
}

/// Draft 001, "Tiebreaking": with every vote in, the bully rule breaks any tie...
#[test]
fn tiebreak_vote_terminates_without_faults() {
    let e = run("tiebreak-vote", &settings("tiebreak-vote", 3, |s| s.faults = 0));
    for p in [Property::Agreement, Property::Validity, Property::Termination] {
        holds(&e, p);
    }
}

/// ...but waiting for every vote means waiting forever once one voter has crashed.
#[test]
fn tiebreak_vote_loses_termination_with_one_crash() {
    let e = run(
        "tiebreak-vote",
        &settings("tiebreak-vote", 3, |s| s.partitions = false),
    );
    holds(&e, Property::Agreement);
    holds(&e, Property::Validity);
    let f = finding(&e, Property::Termination);
    assert_eq!(f.kind, FindingKind::Deadlock);
    assert_eq!(count(f, Kind::Crash), 1);
}

/// Draft 004, "Appointing Leaders is a Consensus Problem": a timeout that outlasts every
/// round trip is right about crashes...
#[test]
fn naive_failover_keeps_agreement_when_nodes_only_crash() {
    let e = run(
        "naive-failover",
        &settings("naive-failover", 3, |s| s.partitions = false),
    );
    for p in [Property::Agreement, Property::Validity, Property::Termination] {
        holds(&e, p);
    }
}

/// ...and wrong about partitions: both sides crown a leader and decide (split brain).
#[test]
fn naive_failover_splits_the_brain_under_a_partition() {
    let e = run("naive-failover", &settings("naive-failover", 3, |_| {}));
    holds(&e, Property::Validity);
    let f = finding(&e, Property::Agreement);
    assert_eq!(f.kind, FindingKind::Disagreement);
    assert_eq!(count(f, Kind::Isolate), 1);
    assert_eq!(count(f, Kind::Crash), 0);
    let deciders: Vec<String> = f
        .timeline
        .lines
        .iter()
        .flat_map(|l| l.decided.iter().map(|d| d.1.clone()))
        .collect();
    assert!(deciders.len() >= 2 && deciders.iter().any(|v| *v != deciders[0]));
    assert!(f.steps <= 5, "found in {} steps", f.steps);
}

/// Paxos Made Simple §2: whatever the schedule, crash or partition, one value at most.
#[test]
fn synod_keeps_agreement_and_validity_in_every_explored_schedule() {
    let e = run("synod", &settings("synod", 3, |s| s.max_depth = 11));
    holds(&e, Property::Agreement);
    holds(&e, Property::Validity);
    holds(&e, Property::Termination);
    assert!(exhaustive_states(&e) > 10_000, "{} states", exhaustive_states(&e));
}

fn duel_settings(algorithm: &str) -> Settings {
    settings(algorithm, 3, |s| {
        s.faults = 0;
        s.max_depth = 14;
    })
}

/// FLP, and Paxos Made Simple §2.4: two proposers that retry on a fixed timeout can
/// preempt each other forever. The explorer finds the loop.
#[test]
fn synod_without_backoff_shows_duelling_proposers_that_never_decide() {
    let e = run("synod-no-backoff", &duel_settings("synod-no-backoff"));
    holds(&e, Property::Agreement);
    holds(&e, Property::Validity);
    let f = finding(&e, Property::Termination);
    assert_eq!(f.kind, FindingKind::Livelock);
    let from = f.timeline.loop_from.expect("a livelock is a loop");
    assert!(
        f.timeline.rounds_per_loop > 0,
        "each time round, the ballots climb"
    );
    let retries: Vec<u32> = f.timeline.lines[from - 1..]
        .iter()
        .filter(|l| l.kind == Kind::Timeout)
        .map(|l| l.node)
        .collect();
    assert!(
        retries.contains(&0) && retries.contains(&1),
        "both proposers retry in the loop: {retries:?}"
    );
    assert!(f.timeline.lines.iter().all(|l| l.decided.is_empty()));
}

/// With randomized backoff and the same bounds, no scheduler can keep the duel going: from
/// every state a decision comes with probability 1.
#[test]
fn synod_with_randomized_backoff_decides() {
    let e = run("synod", &duel_settings("synod"));
    for p in [Property::Agreement, Property::Validity, Property::Termination] {
        holds(&e, p);
    }
}

#[test]
fn synod_on_seven_nodes_decides_in_every_random_walk() {
    let e = run("synod", &settings("synod", 7, |s| s.walks = 150));
    for p in [Property::Agreement, Property::Validity, Property::Termination] {
        holds(&e, p);
    }
    match e.search {
        Search::Walks { decided, walks, .. } => assert_eq!(decided, walks),
        Search::Exhaustive { .. } => panic!("7 nodes are explored by random walks"),
    }
}

fn args(algorithm: &str, out: &std::path::Path) -> ExploreArgs {
    ExploreArgs {
        algorithm: algorithm.to_string(),
        nodes: Some(3),
        proposers: None,
        faults: None,
        crashes_only: false,
        max_depth: Some(10),
        walks: Some(50),
        seed: 1,
        out: out.to_path_buf(),
        json: true,
        quiet: true,
    }
}

/// The CLI's verdict (exit code 1 on a violation) and its files: a timeline and a sequence
/// diagram per violated property, and a JSON summary.
#[test]
fn the_cli_reports_violations_and_writes_timelines_and_diagrams() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ok = explore::run_cli(&args("coordinator", dir.path())).expect("a run");
    assert!(!ok, "the coordinator's termination is violated");
    let svg = std::fs::read_to_string(dir.path().join("coordinator-3n-termination.svg")).expect("an SVG");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("crash"));
    let txt = std::fs::read_to_string(dir.path().join("coordinator-3n-termination.txt")).expect("a timeline");
    assert!(txt.contains("t1    crash n2"), "{txt}");
    let summary = std::fs::read_to_string(dir.path().join("coordinator-summary.json")).expect("a summary");
    let json: serde_json::Value = serde_json::from_str(&summary).expect("valid JSON");
    assert_eq!(json["ok"], false);
    assert_eq!(
        json["explorations"][0]["properties"][2]["finding"]["kind"],
        "deadlock"
    );
}

#[test]
fn the_cli_accepts_synod_and_shows_the_backoff_free_variant_for_contrast() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ok = explore::run_cli(&args("synod", dir.path())).expect("a run");
    assert!(ok, "every property of synod holds");
    let plan = explore::plan(&args("synod", dir.path())).expect("a plan");
    let names: Vec<(&str, bool)> = plan.iter().map(|(a, _, counts)| (a.as_str(), *counts)).collect();
    assert_eq!(names, [("synod", true), ("synod-no-backoff", false)]);
}

#[test]
fn the_cli_rejects_unknown_algorithms_and_too_many_faults() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    assert!(explore::run_cli(&args("raft", dir.path())).is_err());
    let mut too_many = args("coordinator", dir.path());
    too_many.faults = Some(2);
    assert!(explore::run_cli(&too_many).is_err());
}
