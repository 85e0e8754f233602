//! Counterexamples as readable runs: a path of events is replayed from the initial world and
//! written down one line per step, with what each step sent, lost and decided.
//!
//! ```text
//! t1   n0 try_initialize(red)
//! t2   n0 -> n1  Candidate(red)
//! t3   crash n2
//!          lost: n0 -> n2  Candidate(red)
//! ```

use super::world::{Draw, Envelope, Move, Setup, World};
use crate::{NodeId, WriteOnce};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;

/// What kind of step a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Propose,
    Deliver,
    Timeout,
    Crash,
    Isolate,
}

/// A message lost to a crash or a partition.
#[derive(Clone, Debug, Serialize)]
pub struct Lost {
    pub from: u32,
    pub to: u32,
    pub label: String,
    /// The step that sent it.
    pub sent_at: usize,
}

/// One step of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    /// Step number, from 1.
    pub t: usize,
    pub kind: Kind,
    /// Who acts: the proposer, the receiver, the node whose timer fired, the node that
    /// crashed or was cut off.
    pub node: u32,
    /// The sender of a delivered message.
    pub from: Option<u32>,
    /// The step that sent a delivered message.
    pub sent_at: Option<usize>,
    /// `Vote(red)`, `try_initialize(red)`, `timeout`.
    pub label: String,
    /// Nodes that learned their final value in this step.
    pub decided: Vec<(u32, String)>,
    /// Backoff lengths chance drew in this step.
    pub draws: Vec<(u32, String)>,
    pub lost: Vec<Lost>,
    /// The acting node's [`WriteOnce::status`] after the step, if the step changed it.
    pub status: Option<String>,
    /// The line as printed, with its indented notes (status aside).
    pub text: String,
}

/// A counterexample run, ready to print or draw.
#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    pub nodes: usize,
    /// `(node, value)` of every proposal in the scenario.
    pub proposals: Vec<(u32, String)>,
    pub lines: Vec<Line>,
    /// The first step of the part that only plays the run out (the scheduler's choices are
    /// over), and what to say there.
    pub aftermath_from: Option<usize>,
    pub aftermath_heading: String,
    /// For a run that loops: the first step of the loop; after the last step the world is the
    /// one before this step, with every round number `rounds_per_loop` higher.
    pub loop_from: Option<usize>,
    pub rounds_per_loop: u64,
    /// Every node's [`WriteOnce::status`] at the end.
    pub final_status: Vec<String>,
    /// One or two sentences on what the run shows.
    pub conclusion: String,
}

impl Timeline {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The run as text: one line per step, notes indented below it, the conclusion last.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for line in &self.lines {
            if Some(line.t) == self.aftermath_from {
                s.push_str(&format!("      -- {} --\n", self.aftermath_heading));
            }
            if Some(line.t) == self.loop_from {
                s.push_str("      -- loop: from here the run repeats itself --\n");
            }
            s.push_str(&line.text);
            s.push('\n');
            let scheduled = self.aftermath_from.is_none_or(|from| line.t < from);
            if let Some(status) = line.status.as_ref().filter(|_| scheduled) {
                s.push_str(&format!("         n{}: {status}\n", line.node));
            }
        }
        if let Some(from) = self.loop_from {
            s.push_str(&format!(
                "      -- back to t{from} with every ballot {} rounds higher, forever --\n",
                self.rounds_per_loop
            ));
        }
        s.push_str("      -- where every node stands at the end --\n");
        for (n, status) in self.final_status.iter().enumerate() {
            s.push_str(&format!("         n{n}: {status}\n"));
        }
        s.push_str(&self.conclusion);
        s.push('\n');
        s
    }
}

/// Replays events from the initial world, writing the lines.
pub struct Replay<'a, A: WriteOnce> {
    scenario: &'a Setup<A::Value>,
    pub world: World<A>,
    /// Per message in flight, the steps that sent copies of it, oldest first.
    sent_at: HashMap<Envelope<A::Message>, VecDeque<usize>>,
    pub lines: Vec<Line>,
}

fn envelope_text<M: Debug>(e: &Envelope<M>) -> String {
    format!("{} -> {}  {:?}", e.from, e.to, e.msg)
}

impl<'a, A: WriteOnce> Replay<'a, A> {
    pub fn new(scenario: &'a Setup<A::Value>) -> Self {
        Replay {
            scenario,
            world: World::boot(scenario),
            sent_at: HashMap::new(),
            lines: Vec::new(),
        }
    }

    /// Applies `event`, then the backoff draws `choose` picks from the world it left.
    pub fn step(&mut self, event: Move, choose: impl FnOnce(&World<A>) -> Vec<(NodeId, Draw)>) {
        let t = self.lines.len() + 1;
        let before = self.world.clone();
        let effects = self.world.apply(self.scenario, event);
        let draws = choose(&self.world);
        self.world.set_draws(&draws);

        let (kind, node, label) = match event {
            Move::Propose(i) => {
                let (node, value) = &self.scenario.proposals[i as usize];
                (Kind::Propose, *node, format!("try_initialize({value:?})"))
            }
            Move::Deliver(_) => {
                let e = effects.delivered.as_ref().expect("a delivery delivers");
                (Kind::Deliver, e.to, format!("{:?}", e.msg))
            }
            Move::Timeout(n) => (Kind::Timeout, n, "timeout".to_string()),
            Move::Crash(n) => (Kind::Crash, n, "crash".to_string()),
            Move::Isolate(n) => (Kind::Isolate, n, "isolate".to_string()),
        };
        let (from, sent_at) = match &effects.delivered {
            Some(e) => (Some(e.from.0), self.take_sent_at(e)),
            None => (None, None),
        };
        let mut lost = Vec::new();
        for e in &effects.dropped {
            let at = self.take_sent_at(e).unwrap_or(t);
            lost.push((e, at));
        }
        for e in &effects.cut {
            lost.push((e, t));
        }
        for e in &effects.sent {
            self.sent_at.entry(e.clone()).or_default().push_back(t);
        }
        let status = match kind {
            Kind::Crash | Kind::Isolate => None,
            _ => Some(self.world.nodes[node.index()].status())
                .filter(|now| *now != before.nodes[node.index()].status()),
        };
        let decided: Vec<(u32, String)> = (0..self.world.nodes.len())
            .filter_map(|n| {
                let now = self.world.nodes[n].final_value()?;
                (before.nodes[n].final_value() != Some(now)).then(|| (n as u32, format!("{now:?}")))
            })
            .collect();

        let mut text = match (kind, &effects.delivered) {
            (Kind::Deliver, Some(e)) => format!("t{t:<4} {}", envelope_text(e)),
            (Kind::Crash, _) => format!("t{t:<4} crash {node}"),
            (Kind::Isolate, _) => {
                let rest: Vec<String> = (0..self.world.nodes.len() as u32)
                    .filter(|&m| !self.world.is_isolated(NodeId(m)))
                    .map(|m| NodeId(m).to_string())
                    .collect();
                format!("t{t:<4} isolate {node}  (partition: {node} | {})", rest.join(" "))
            }
            _ => format!("t{t:<4} {node} {label}"),
        };
        for (n, v) in &decided {
            text.push_str(&format!("\n         => n{n} decides {v}"));
        }
        for (e, _) in &lost {
            text.push_str(&format!("\n         lost: {}", envelope_text(e)));
        }
        for e in &effects.ignored {
            text.push_str(&format!("\n         stale, dropped unread: {}", envelope_text(e)));
            self.take_sent_at(e);
        }
        for (n, d) in &draws {
            let d = match d {
                Draw::Short => "short (retry may come any time)",
                Draw::Long => "long (retry once nothing is in flight)",
            };
            text.push_str(&format!("\n         {n} backoff drawn {d}"));
        }
        self.lines.push(Line {
            t,
            kind,
            node: node.0,
            from,
            sent_at,
            label,
            decided,
            draws: draws
                .iter()
                .map(|(n, d)| (n.0, format!("{d:?}").to_lowercase()))
                .collect(),
            lost: lost
                .into_iter()
                .map(|(e, at)| Lost {
                    from: e.from.0,
                    to: e.to.0,
                    label: format!("{:?}", e.msg),
                    sent_at: at,
                })
                .collect(),
            status,
            text,
        });
    }

    /// Applies a step of an exhaustive path: the event and the index of chance's draw.
    pub fn step_indexed(&mut self, (event, choice): (Move, u8)) {
        self.step(event, |w| w.draw_choices().swap_remove(choice as usize));
    }

    /// Plays the run out without faults, to show where a doomed run ends: always the first
    /// possible event (proposals, then the oldest-sorted message, then timers), backoffs
    /// drawn long. Stops when nothing but faults can happen, or after `limit` steps.
    pub fn drain(&mut self, limit: usize) {
        for _ in 0..limit {
            let Some(&event) = self.world.moves(self.scenario).iter().find(|e| !e.is_fault()) else {
                return;
            };
            self.step(event, |w| {
                w.undrawn().into_iter().map(|n| (n, Draw::Long)).collect()
            });
        }
    }

    fn take_sent_at(&mut self, e: &Envelope<A::Message>) -> Option<usize> {
        let at = self.sent_at.get_mut(e)?.pop_front();
        if self.sent_at.get(e).is_some_and(|q| q.is_empty()) {
            self.sent_at.remove(e);
        }
        at
    }

    pub fn into_timeline(self, conclusion: String) -> Timeline {
        let final_status = self
            .world
            .nodes
            .iter()
            .enumerate()
            .map(|(n, node)| {
                let id = NodeId(n as u32);
                let fault = if self.world.is_crashed(id) {
                    "crashed; "
                } else if self.world.is_isolated(id) {
                    "cut off; "
                } else {
                    ""
                };
                format!("{fault}{}", node.status())
            })
            .collect();
        Timeline {
            final_status,
            nodes: self.world.nodes.len(),
            proposals: self
                .scenario
                .proposals
                .iter()
                .map(|(n, v)| (n.0, format!("{v:?}")))
                .collect(),
            lines: self.lines,
            aftermath_from: None,
            aftermath_heading: String::new(),
            loop_from: None,
            rounds_per_loop: 0,
            conclusion,
        }
    }
}

/// "n0, n1" for a list of nodes.
pub fn node_list(nodes: &[NodeId]) -> String {
    nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
}
