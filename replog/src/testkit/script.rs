//! Scripted interaction tests on a [`Network`], in the style of etcd-io/raft's
//! `testdata/*.txt` (datadriven): a script is a list of steps, each a command line, a `----`
//! line and the expected output, which reads like a trace of the protocol. One script runs
//! against several protocols, and the expected output holds one section per protocol, so a
//! reader sees Raft's and multi-Paxos's reactions to the same steps side by side:
//!
//! ```text
//! # A comment. Blank lines separate steps.
//! cluster 3 seed=1
//! ----
//! raft:
//! ok
//! paxos:
//! ok
//!
//! campaign n0
//! ----
//! raft:
//! n0: follower t0 -> candidate t1
//! n0->n1 RequestVote{term:1, last_log:0@t0}
//! ...
//! paxos:
//! n0: follower b0 -> candidate b1.0
//! n0->n1 Prepare{ballot:b1.0, from_slot:1}
//! ...
//! ```
//!
//! Each protocol's test (`tests/interaction.rs` in `raft` and `paxos`) runs every script
//! with its node type through [`run_dir`] and compares only its own section (named after
//! [`ReplicatedLog::NAME`]); a difference fails the test and names the file, line and
//! command. With `REWRITE=1` in the environment the runner writes its actual output into
//! its section instead (leaving the other protocols' sections alone), to be reviewed as a
//! diff. A comment line `# only: raft` restricts a script to the protocols it names.
//!
//! # Commands
//!
//! Nodes are `n0`, `n1`, ...; durations are `250ms`, `2s`, `10us` or `7ns`.
//!
//! | command | what it does |
//! | --- | --- |
//! | `cluster <n> [seed=S] [pre_vote] [check_quorum] [no_fast_backtrack] [batch=K] [inflight=W] [batch_delay=D] [heartbeat=D] [timeout=D..D]` | a new cluster of `n` nodes (timers armed at time 0) |
//! | `campaign <n>` | `n`'s election timer (Raft) or failure detector (Paxos) fires now |
//! | `propose <n> <key>=<value>` | a client write to `n` |
//! | `deliver` | delivers queued messages one by one, in order, until none is left |
//! | `deliver <filter>` | delivers, in order, the queued messages the filter matches (not those they cause) |
//! | `drop [<filter>]` | discards the queued messages the filter matches (all without one) |
//! | `queue` | lists the queued messages |
//! | `tick` | jumps to the earliest timer and fires it |
//! | `advance <duration>` | moves time on, firing the timers that fall due (no delivery) |
//! | `run <duration>` | delivers and fires timers for that long; prints a summary |
//! | `elect` | runs until some node leads (at most 10 s); prints a summary |
//! | `crash <n>` / `restart <n>` | crash (volatile state and unsynced writes lost) / boot from the durable records |
//! | `cut <a> <b>` / `cut <a>-><b>` | cuts both directions / one direction |
//! | `isolate <n>` / `partition <a,b> <c,d,e>` / `heal` | cuts `n` off / splits the cluster / removes every cut |
//! | `disk <n> slow` / `disk <n> fast` / `sync <n>` | holds `n`'s writes unsynced / syncs at once again / completes the outstanding writes |
//! | `status` | time, and each node's role, epoch, leader, commit and last index |
//! | `log [<n> ...]` | each node's log, as the protocol formats it |
//!
//! A filter is a route (`n0->n1`, `n0->*`, `*->n1`) and/or message kinds (`RequestVote`,
//! `Accept`, ...), e.g. `deliver n0->* Prepare`.
//!
//! # Output
//!
//! One line per event, in order. A delivered message is printed as `from->to Message` (in
//! the protocol's own `Display` format), followed by what it caused, indented: role and
//! epoch changes (`n1: follower t0 -> follower t1`), commits (`n1: commit 1:noop 2:x=1`)
//! and the messages it sent. A message that reaches a cut link or a crashed node is printed
//! with `(cut)` or `(down)`. Other commands print what they caused the same way, unindented.
//! Everything is deterministic: the cluster's seed decides every random choice.

use super::Network;
use crate::command::{Command, Op};
use crate::config::ProtocolConfig;
use crate::log::{ReplicatedLog, Role, Status};
use crate::types::{Epoch, Nanos, NodeId};
use std::collections::BTreeSet;
use std::fmt::{Display, Write as _};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};

const MS: Nanos = 1_000_000;
const SEC: Nanos = 1_000_000_000;

/// The protocol-specific parts of the commands.
pub struct Hooks<L: ReplicatedLog> {
    /// `campaign n`: node n's election timer (failure detector) fires now.
    pub campaign: fn(&mut L, Nanos),
    /// `log n`: the node's log on one line.
    pub log: fn(&L) -> String,
    /// An epoch as the protocol writes it (a Raft term `t3`, a Paxos ballot `b3.1`).
    pub epoch: fn(Epoch) -> String,
}

/// Runs every `*.txt` script in `dir` (in name order) against `L` and compares each step's
/// output with the script's `L::NAME` section; with `REWRITE` set in the environment, writes
/// the actual output there instead. Panics listing every difference.
pub fn run_dir<L>(dir: impl AsRef<Path>, hooks: &Hooks<L>)
where
    L: ReplicatedLog,
    L::Message: Display,
{
    let dir =
        &std::fs::canonicalize(dir.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", dir.as_ref().display()));
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "{}: no scripts", dir.display());
    let rewrite = std::env::var_os("REWRITE").is_some_and(|v| !v.is_empty() && v != "0");
    let mut failures = Vec::new();
    for path in &scripts {
        failures.extend(run_file(path, hooks, rewrite));
    }
    assert!(
        failures.is_empty(),
        "{} step(s) of the {} interaction scripts differ:\n\n{}\n\
         If the new output is right, accept it with `REWRITE=1 cargo test -p {} --test interaction` \
         and review the diff of {}.",
        failures.len(),
        L::NAME,
        failures.join("\n"),
        L::NAME,
        dir.display()
    );
}

/// Runs one script; returns a description of each step whose output differs (none when
/// rewriting: the file is updated instead).
pub fn run_file<L>(path: &Path, hooks: &Hooks<L>, rewrite: bool) -> Vec<String>
where
    L: ReplicatedLog,
    L::Message: Display,
{
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut script = Script::parse(&text).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
    if !script.applies_to(L::NAME) {
        return Vec::new();
    }
    let mut runner = Runner::<L>::new(hooks);
    let mut failures = Vec::new();
    for step in script.steps_mut() {
        let result = catch_unwind(AssertUnwindSafe(|| runner.run(&step.command)));
        let actual = match result {
            Ok(Ok(lines)) => lines,
            Ok(Err(e)) => panic!("{}:{}: `{}`: {e}", path.display(), step.line, step.command),
            Err(panic) => {
                eprintln!(
                    "{}:{}: `{}` panicked under {}",
                    path.display(),
                    step.line,
                    step.command,
                    L::NAME
                );
                resume_unwind(panic)
            }
        };
        let expected = step.section(L::NAME);
        if rewrite {
            step.set_section(L::NAME, actual);
        } else if expected != Some(&actual) {
            failures.push(describe_difference(path, step, L::NAME, expected, &actual));
        }
    }
    if rewrite {
        let new = script.render();
        if new != text {
            std::fs::write(path, new).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            eprintln!("rewrote the {} sections of {}", L::NAME, path.display());
        }
    }
    failures
}

fn describe_difference(
    path: &Path,
    step: &Step,
    name: &str,
    expected: Option<&Vec<String>>,
    actual: &[String],
) -> String {
    let mut out = format!("{}:{}: `{}` ({name}):\n", path.display(), step.line, step.command);
    match expected {
        None => {
            let _ = writeln!(out, "  no `{name}:` section; the output is:");
            for line in actual {
                let _ = writeln!(out, "  + {line}");
            }
        }
        Some(expected) => {
            let _ = writeln!(out, "  (- expected, + actual)");
            for (sign, line) in line_diff(expected, actual) {
                let _ = writeln!(out, "  {sign} {line}");
            }
        }
    }
    out
}

/// A line diff (longest common subsequence): ' ' kept, '-' expected only, '+' actual only.
fn line_diff<'a>(expected: &'a [String], actual: &'a [String]) -> Vec<(char, &'a str)> {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out.push((' ', expected[i].as_str()));
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', expected[i].as_str()));
            i += 1;
        } else {
            out.push(('+', actual[j].as_str()));
            j += 1;
        }
    }
    out
}

// ----- the script file -----

/// A parsed script: comment and blank lines kept verbatim, so that rewriting a section
/// changes nothing else.
struct Script {
    items: Vec<Item>,
}

enum Item {
    Verbatim(String),
    Step(Step),
}

struct Step {
    /// 1-based line of the command.
    line: usize,
    command: String,
    /// (protocol, output lines), in file order.
    sections: Vec<(String, Vec<String>)>,
}

impl Step {
    fn section(&self, name: &str) -> Option<&Vec<String>> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, lines)| lines)
    }

    fn set_section(&mut self, name: &str, lines: Vec<String>) {
        match self.sections.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = lines,
            None => self.sections.push((name.to_string(), lines)),
        }
    }
}

/// Whether `line` opens the section of a protocol: a lowercase name and a colon.
fn section_header(line: &str) -> Option<&str> {
    let name = line.strip_suffix(':')?;
    (!name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    .then_some(name)
}

impl Script {
    fn parse(text: &str) -> Result<Script, String> {
        let lines: Vec<&str> = text.lines().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            if line.trim().is_empty() || line.starts_with('#') {
                items.push(Item::Verbatim(line.to_string()));
                i += 1;
                continue;
            }
            let command_line = i + 1;
            if lines.get(i + 1) != Some(&"----") {
                return Err(format!(
                    "{command_line}: `{line}` is not followed by a `----` line"
                ));
            }
            let mut step = Step {
                line: command_line,
                command: line.trim().to_string(),
                sections: Vec::new(),
            };
            i += 2;
            while i < lines.len() && !lines[i].trim().is_empty() {
                match section_header(lines[i]) {
                    Some(name) => step.sections.push((name.to_string(), Vec::new())),
                    None => match step.sections.last_mut() {
                        Some((_, out)) => out.push(lines[i].to_string()),
                        None => {
                            return Err(format!(
                                "{}: output before any `<protocol>:` section header",
                                i + 1
                            ));
                        }
                    },
                }
                i += 1;
            }
            items.push(Item::Step(step));
        }
        Ok(Script { items })
    }

    /// False if a `# only: a b` line leaves `name` out.
    fn applies_to(&self, name: &str) -> bool {
        self.items.iter().all(|item| match item {
            Item::Verbatim(line) => match line.strip_prefix("# only:") {
                Some(names) => names.split_whitespace().any(|n| n == name),
                None => true,
            },
            Item::Step(_) => true,
        })
    }

    fn steps_mut(&mut self) -> impl Iterator<Item = &mut Step> {
        self.items.iter_mut().filter_map(|item| match item {
            Item::Step(step) => Some(step),
            Item::Verbatim(_) => None,
        })
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Verbatim(line) => {
                    out.push_str(line);
                    out.push('\n');
                }
                Item::Step(step) => {
                    out.push_str(&step.command);
                    out.push_str("\n----\n");
                    for (name, lines) in &step.sections {
                        out.push_str(name);
                        out.push_str(":\n");
                        for line in lines {
                            out.push_str(line);
                            out.push('\n');
                        }
                    }
                }
            }
        }
        out
    }
}

// ----- running commands -----

/// Which queued messages a command applies to.
#[derive(Default)]
struct Filter {
    from: Option<NodeId>,
    to: Option<NodeId>,
    kinds: Vec<String>,
}

impl Filter {
    fn parse(args: &[&str]) -> Result<Filter, String> {
        let mut filter = Filter::default();
        for arg in args {
            if let Some((from, to)) = arg.split_once("->") {
                filter.from = parse_endpoint(from)?;
                filter.to = parse_endpoint(to)?;
            } else if arg.starts_with(|c: char| c.is_ascii_uppercase()) {
                filter.kinds.push(arg.to_string());
            } else {
                return Err(format!(
                    "`{arg}` is neither a route (n0->n1, n0->*, *->n1) nor a message kind"
                ));
            }
        }
        Ok(filter)
    }

    fn is_empty(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.kinds.is_empty()
    }

    fn matches<M: std::fmt::Debug>(&self, from: NodeId, to: NodeId, msg: &M) -> bool {
        self.from.is_none_or(|f| f == from)
            && self.to.is_none_or(|t| t == to)
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| *k == kind(msg)))
    }
}

/// A message's kind: its variant name, the start of its `Debug` text.
fn kind<M: std::fmt::Debug>(msg: &M) -> String {
    let text = format!("{msg:?}");
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    text[..end].to_string()
}

fn parse_endpoint(s: &str) -> Result<Option<NodeId>, String> {
    if s == "*" {
        Ok(None)
    } else {
        parse_node(s).map(Some)
    }
}

fn parse_node(s: &str) -> Result<NodeId, String> {
    s.strip_prefix('n')
        .and_then(|n| n.parse().ok())
        .map(NodeId)
        .ok_or_else(|| format!("`{s}` is not a node (n0, n1, ...)"))
}

fn parse_duration(s: &str) -> Result<Nanos, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: Nanos = number.parse().map_err(|_| format!("`{s}` is not a duration"))?;
    let scale = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => MS,
        "s" => SEC,
        _ => return Err(format!("`{s}`: the unit is one of ns, us, ms, s")),
    };
    Ok(number * scale)
}

/// `152.314ms`, `2000ms`, `0ms`: exact, in milliseconds.
fn format_time(ns: Nanos) -> String {
    let ms = ns / MS;
    let rest = ns % MS;
    if rest == 0 {
        format!("{ms}ms")
    } else {
        let frac = format!("{rest:06}");
        format!("{ms}.{}ms", frac.trim_end_matches('0'))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::PreCandidate => "pre-candidate",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// A command in a few characters: `noop`, `x=1` (put), `get(x)`, `cas(x:1->2)`.
fn short_command(cmd: &Command) -> String {
    match cmd {
        Command::Noop => "noop".to_string(),
        Command::Client(c) => match &*c.op {
            Op::Put { key, value } => format!("{key}={value}"),
            Op::Get { key } => format!("get({key})"),
            Op::Cas { key, expected, new } => {
                format!("cas({key}:{}->{new})", expected.as_deref().unwrap_or("-"))
            }
        },
    }
}

struct Runner<'h, L: ReplicatedLog> {
    hooks: &'h Hooks<L>,
    net: Option<Network<L>>,
    /// The links cut, as the runner set them (the network does not list them).
    cuts: BTreeSet<(NodeId, NodeId)>,
    /// Sequence number of the next client write.
    next_seq: u64,
    /// What was last reported of each node: its status and how many commits.
    seen_status: Vec<Option<Status>>,
    seen_commits: Vec<usize>,
}

impl<'h, L> Runner<'h, L>
where
    L: ReplicatedLog,
    L::Message: Display,
{
    fn new(hooks: &'h Hooks<L>) -> Self {
        Runner {
            hooks,
            net: None,
            cuts: BTreeSet::new(),
            next_seq: 1,
            seen_status: Vec::new(),
            seen_commits: Vec::new(),
        }
    }

    fn net(&mut self) -> Result<&mut Network<L>, String> {
        self.net
            .as_mut()
            .ok_or_else(|| "no cluster yet: start with `cluster <n>`".to_string())
    }

    fn up(&mut self, id: NodeId) -> Result<(), String> {
        let net = self.net()?;
        if id.index() >= net.members().len() {
            return Err(format!("no node {id}"));
        }
        if !net.is_up(id) {
            return Err(format!("{id} is down"));
        }
        Ok(())
    }

    /// Runs one command and returns its output lines.
    fn run(&mut self, command: &str) -> Result<Vec<String>, String> {
        let words: Vec<&str> = command.split_whitespace().collect();
        let (&name, args) = words.split_first().ok_or("empty command")?;
        let mut out = Vec::new();
        // Every send is appended to the queue: what lies beyond this was sent by the command.
        let before = self.net.as_ref().map_or(0, |net| net.queued().count());
        match (name, args) {
            ("cluster", [n, options @ ..]) => self.cluster(n, options)?,
            ("campaign", [n]) => {
                let id = parse_node(n)?;
                self.up(id)?;
                let campaign = self.hooks.campaign;
                let net = self.net()?;
                let now_ns = net.now();
                campaign(net.node_mut(id).expect("up"), now_ns);
                net.drain(id);
                self.report(before, "", &mut out);
            }
            ("propose", [n, write]) => {
                let id = parse_node(n)?;
                self.up(id)?;
                let (key, value) = write.split_once('=').ok_or("propose <n> <key>=<value>")?;
                let cmd = Command::client(
                    1,
                    self.next_seq,
                    Op::Put {
                        key: key.into(),
                        value: value.into(),
                    },
                );
                self.next_seq += 1;
                if let Err(e) = self.net()?.propose(id, cmd) {
                    match e.hint {
                        Some(hint) => out.push(format!("{id}: not leader (leader: {hint})")),
                        None => out.push(format!("{id}: not leader")),
                    }
                }
                self.report(before, "", &mut out);
            }
            ("deliver", filter) => {
                let filter = Filter::parse(filter)?;
                self.deliver(&filter, &mut out)?;
            }
            ("drop", filter) => {
                let filter = Filter::parse(filter)?;
                self.drop(&filter, &mut out)?;
            }
            ("queue", []) => {
                for (from, to, msg) in self.net()?.queued() {
                    out.push(format!("{from}->{to} {msg}"));
                }
            }
            ("tick", []) => {
                let net = self.net()?;
                if !net.advance_to_next_deadline() {
                    return Err("no timer is armed".into());
                }
                out.push(format!("time {}", format_time(net.now())));
                self.report(before, "", &mut out);
            }
            ("advance", [d]) => {
                let d = parse_duration(d)?;
                let net = self.net()?;
                net.advance(d);
                out.push(format!("time {}", format_time(net.now())));
                self.report(before, "", &mut out);
            }
            ("run", [d]) => {
                let d = parse_duration(d)?;
                let net = self.net()?;
                net.run_for(d);
                self.summary(&mut out)?;
            }
            ("elect", []) => {
                let net = self.net()?;
                net.elect(10 * SEC);
                self.summary(&mut out)?;
            }
            ("crash", [n]) => {
                let id = parse_node(n)?;
                self.up(id)?;
                self.net()?.crash(id);
                out.push(format!("{id}: crashed"));
                self.seen_status[id.index()] = None;
                self.seen_commits[id.index()] = 0;
                self.report(before, "", &mut out);
            }
            ("restart", [n]) => {
                let id = parse_node(n)?;
                if id.index() >= self.net()?.members().len() {
                    return Err(format!("no node {id}"));
                }
                if self.net()?.is_up(id) {
                    return Err(format!("{id} is up"));
                }
                let net = self.net()?;
                net.restart(id);
                let status = net.status(id).expect("just booted");
                out.push(format!(
                    "{id}: restarted as {} {}, last index {}",
                    role_name(status.role),
                    (self.hooks.epoch)(status.epoch),
                    status.last_index
                ));
                self.seen_status[id.index()] = Some(status);
                self.report(before, "", &mut out);
            }
            ("cut", [a, b]) => {
                let (a, b) = (parse_node(a)?, parse_node(b)?);
                self.net()?.cut(a, b);
                self.cuts.extend([(a, b), (b, a)]);
                out.push("ok".into());
            }
            ("cut", [route]) => {
                let (a, b) = route.split_once("->").ok_or("cut <a> <b> or cut <a>-><b>")?;
                let (a, b) = (parse_node(a)?, parse_node(b)?);
                self.net()?.cut_one_way(a, b);
                self.cuts.insert((a, b));
                out.push("ok".into());
            }
            ("isolate", [n]) => {
                let id = parse_node(n)?;
                let members = self.net()?.members().to_vec();
                self.net()?.isolate(id);
                for other in members.into_iter().filter(|&m| m != id) {
                    self.cuts.extend([(id, other), (other, id)]);
                }
                out.push("ok".into());
            }
            ("partition", groups) if groups.len() >= 2 => {
                let groups: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| g.split(',').map(parse_node).collect::<Result<_, _>>())
                    .collect::<Result<_, _>>()?;
                let slices: Vec<&[NodeId]> = groups.iter().map(Vec::as_slice).collect();
                self.net()?.partition(&slices);
                for (i, a) in groups.iter().enumerate() {
                    for b in &groups[i + 1..] {
                        for &x in a {
                            for &y in b {
                                self.cuts.extend([(x, y), (y, x)]);
                            }
                        }
                    }
                }
                out.push("ok".into());
            }
            ("heal", []) => {
                self.net()?.heal();
                self.cuts.clear();
                out.push("ok".into());
            }
            ("disk", [n, speed]) => {
                let id = parse_node(n)?;
                let on = match *speed {
                    "slow" => false,
                    "fast" => true,
                    _ => return Err("disk <n> slow|fast".into()),
                };
                self.net()?.set_auto_persist(id, on);
                self.report(before, "", &mut out);
            }
            ("sync", [n]) => {
                let id = parse_node(n)?;
                self.net()?.sync(id);
                self.report(before, "", &mut out);
            }
            ("status", []) => {
                let epoch = self.hooks.epoch;
                let net = self.net()?;
                out.push(format!("time {}", format_time(net.now())));
                for &id in net.members() {
                    out.push(match net.status(id) {
                        None => format!("{id}: down"),
                        Some(s) => {
                            let leader = s.leader_hint.map_or("-".to_string(), |l| l.to_string());
                            format!(
                                "{id}: {} {} leader={leader} commit={} last={}",
                                role_name(s.role),
                                epoch(s.epoch),
                                s.commit_index,
                                s.last_index
                            )
                        }
                    });
                }
            }
            ("log", nodes) => {
                let log = self.hooks.log;
                let net = self.net()?;
                let ids: Vec<NodeId> = if nodes.is_empty() {
                    net.members().to_vec()
                } else {
                    nodes.iter().map(|n| parse_node(n)).collect::<Result<_, _>>()?
                };
                for id in ids {
                    out.push(match net.node(id) {
                        None => format!("{id}: down"),
                        Some(node) => format!("{id}: {}", log(node)),
                    });
                }
            }
            _ => return Err(format!("unknown command or wrong arguments: `{command}`")),
        }
        if out.is_empty() {
            out.push("ok".into());
        }
        Ok(out)
    }

    fn cluster(&mut self, n: &str, options: &[&str]) -> Result<(), String> {
        let n: usize = n.parse().map_err(|_| format!("`{n}` is not a cluster size"))?;
        let mut cfg = ProtocolConfig::default();
        let mut seed = 0;
        for option in options {
            let (key, value) = option.split_once('=').unwrap_or((option, ""));
            match key {
                "seed" => seed = value.parse().map_err(|_| format!("`{value}` is not a seed"))?,
                "pre_vote" => cfg.pre_vote = true,
                "check_quorum" => cfg.check_quorum = true,
                "no_fast_backtrack" => cfg.raft.fast_backtrack = false,
                "batch" => {
                    cfg.max_batch_entries = value.parse().map_err(|_| format!("`{value}`: batch=K"))?
                }
                "inflight" => {
                    cfg.max_inflight_msgs = value.parse().map_err(|_| format!("`{value}`: inflight=W"))?
                }
                "batch_delay" => cfg.batch_delay_ns = parse_duration(value)?,
                "heartbeat" => cfg.heartbeat_interval_ns = parse_duration(value)?,
                "timeout" => {
                    let (lo, hi) = value.split_once("..").ok_or("timeout=<min>..<max>")?;
                    cfg.election_timeout_min_ns = parse_duration(lo)?;
                    cfg.election_timeout_max_ns = parse_duration(hi)?;
                }
                _ => return Err(format!("unknown cluster option `{option}`")),
            }
        }
        cfg.validate().map_err(|e| e.to_string())?;
        let mut net = Network::<L>::new(n, cfg, seed);
        net.record_traffic = true;
        // Boot gives a node no clock; the first tick at time 0 arms every timer.
        net.advance(0);
        self.seen_status = net.members().iter().map(|&id| net.status(id)).collect();
        self.seen_commits = vec![0; n];
        self.cuts.clear();
        self.next_seq = 1;
        self.net = Some(net);
        Ok(())
    }

    /// Delivers matching messages one at a time, in queue order: with an empty filter until
    /// none is queued, else those queued now.
    fn deliver(&mut self, filter: &Filter, out: &mut Vec<String>) -> Result<(), String> {
        let net = self.net()?;
        let mut remaining = if filter.is_empty() {
            usize::MAX
        } else {
            net.queued().filter(|(f, t, m)| filter.matches(*f, *t, m)).count()
        };
        let mut delivered = 0;
        while remaining > 0 {
            let net = self.net.as_mut().expect("checked above");
            let Some(position) = net.queued().position(|(f, t, m)| filter.matches(*f, *t, m)) else {
                break;
            };
            delivered += 1;
            if delivered > 10_000 {
                return Err("more than 10,000 deliveries: the protocol does not quiesce".into());
            }
            remaining -= 1;
            let (from, to, msg) = net.queued().nth(position).cloned().expect("found above");
            let lost = if self.cuts.contains(&(from, to)) {
                " (cut)"
            } else if !net.is_up(to) {
                " (down)"
            } else {
                ""
            };
            out.push(format!("{from}->{to} {msg}{lost}"));
            let before = net.queued().count() - 1;
            let mut index = 0;
            net.deliver_matching(|_, _, _| {
                index += 1;
                index - 1 == position
            });
            self.report(before, "  ", out);
        }
        if delivered == 0 {
            out.push("nothing to deliver".into());
        }
        Ok(())
    }

    /// Discards the matching messages: cuts their links for a moment and lets the network
    /// discard them, as it does any message on a cut link.
    fn drop(&mut self, filter: &Filter, out: &mut Vec<String>) -> Result<(), String> {
        let net = self.net.as_mut().ok_or("no cluster yet")?;
        let doomed: Vec<(NodeId, NodeId)> = net
            .queued()
            .filter(|(f, t, m)| filter.matches(*f, *t, m))
            .map(|(f, t, m)| {
                out.push(format!("dropped {f}->{t} {m}"));
                (*f, *t)
            })
            .collect();
        for &(from, to) in &doomed {
            net.cut_one_way(from, to);
        }
        net.deliver_matching(|f, t, m| filter.matches(f, t, m));
        net.heal();
        for &(from, to) in &self.cuts {
            net.cut_one_way(from, to);
        }
        if doomed.is_empty() {
            out.push("nothing to drop".into());
        }
        Ok(())
    }

    /// Reports what changed since the last report (roles, epochs, commits), then the
    /// messages queued after the first `already` (the network appends every send), each
    /// line prefixed by `indent`.
    fn report(&mut self, already: usize, indent: &str, out: &mut Vec<String>) {
        self.report_changes(indent, out);
        let net = self.net.as_ref().expect("a cluster");
        for (from, to, msg) in net.queued().skip(already) {
            out.push(format!("{indent}{from}->{to} {msg}"));
        }
    }

    /// Role and epoch changes and new commits, since the last report.
    fn report_changes(&mut self, indent: &str, out: &mut Vec<String>) {
        let net = self.net.as_ref().expect("a cluster");
        for &id in net.members() {
            let now = net.status(id);
            let seen = self.seen_status[id.index()];
            if let (Some(was), Some(is)) = (seen, now)
                && (was.role, was.epoch) != (is.role, is.epoch)
            {
                out.push(format!(
                    "{indent}{id}: {} {} -> {} {}",
                    role_name(was.role),
                    (self.hooks.epoch)(was.epoch),
                    role_name(is.role),
                    (self.hooks.epoch)(is.epoch)
                ));
            }
            self.seen_status[id.index()] = now;
            let commits = net.commits(id);
            let seen_commits = self.seen_commits[id.index()];
            if commits.len() > seen_commits {
                let list: Vec<String> = commits[seen_commits..]
                    .iter()
                    .map(|(index, cmd)| format!("{index}:{}", short_command(cmd)))
                    .collect();
                out.push(format!("{indent}{id}: commit {}", list.join(" ")));
            }
            self.seen_commits[id.index()] = commits.len();
        }
    }

    /// After `run` or `elect`: the time, how many messages were delivered, and what changed.
    fn summary(&mut self, out: &mut Vec<String>) -> Result<(), String> {
        let net = self.net()?;
        let delivered = net.delivered.len();
        net.delivered.clear();
        out.push(format!(
            "time {}, {delivered} messages delivered",
            format_time(net.now())
        ));
        self.report_changes("", out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str =
        "# comment\ncluster 3\n----\nraft:\nok\npaxos:\nok\n\ntick\n----\nraft:\ntime 0ms\n  n0->n1 X\n";

    #[test]
    fn a_parsed_script_renders_back_byte_for_byte() {
        let script = Script::parse(SCRIPT).expect("parses");
        assert_eq!(script.render(), SCRIPT);
    }

    #[test]
    fn rewriting_one_section_leaves_the_others_alone() {
        let mut script = Script::parse(SCRIPT).expect("parses");
        for step in script.steps_mut() {
            step.set_section("paxos", vec!["new".into()]);
        }
        assert_eq!(
            script.render(),
            SCRIPT.replace("paxos:\nok\n", "paxos:\nnew\n") + "paxos:\nnew\n"
        );
    }

    #[test]
    fn a_command_without_its_separator_is_an_error_naming_the_line() {
        let err = Script::parse("cluster 3\ntick\n----\n").err().expect("an error");
        assert!(err.starts_with("1: "), "{err}");
    }

    #[test]
    fn the_diff_marks_what_changed() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (expected, actual) = (lines(&["a", "b", "c"]), lines(&["a", "x", "c"]));
        assert_eq!(
            line_diff(&expected, &actual),
            [(' ', "a"), ('-', "b"), ('+', "x"), (' ', "c")]
        );
    }

    #[test]
    fn durations_and_times_read_and_print_exactly() {
        assert_eq!(
            [
                parse_duration("250ms"),
                parse_duration("2s"),
                parse_duration("7ns")
            ],
            [Ok(250 * MS), Ok(2 * SEC), Ok(7)]
        );
        assert_eq!(
            [format_time(0), format_time(152_314_000), format_time(2 * SEC)],
            ["0ms", "152.314ms", "2000ms"]
        );
    }

    #[test]
    fn a_filter_matches_route_and_kind() {
        #[derive(Debug)]
        #[allow(dead_code)]
        enum M {
            Ping(u8),
            Pong,
        }
        let f = Filter::parse(&["n0->*", "Ping"]).expect("parses");
        assert_eq!(
            [
                f.matches(NodeId(0), NodeId(2), &M::Ping(1)),
                f.matches(NodeId(1), NodeId(2), &M::Ping(1)),
                f.matches(NodeId(0), NodeId(2), &M::Pong),
            ],
            [true, false, false]
        );
    }
}
