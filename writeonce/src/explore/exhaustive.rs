//! Exhaustive search: every schedule of a small cluster up to a depth bound.
//!
//! Breadth first, so the first path found to any state is a shortest one and every
//! counterexample comes out as short as it can be. Worlds are deduplicated by a 128-bit
//! fingerprint after shifting ballot rounds down (see [`World::shift_rounds`]); only the
//! fingerprints and the graph of transitions are kept, and a path is turned back into a
//! readable run by replaying its events from the initial world.
//!
//! Termination is decided on the graph afterwards, treating the search as a game: the
//! scheduler picks events, chance picks backoff lengths. See [`Graph::avoidable`].

use super::world::{Move, PropertyViolation, Setup, World};
use crate::WriteOnce;
use std::collections::{HashMap, VecDeque};

/// Bounds of one exhaustive search.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// States at this depth are not expanded.
    pub max_depth: usize,
    /// Stop expanding once this many states are known.
    pub max_states: usize,
}

/// One step of a path: the event and which of chance's draws followed it.
pub type PathStep = (Move, u8);

/// One state's way out: an event and the states chance may lead it to.
#[derive(Clone, Copy, Debug)]
struct Transition {
    event: Move,
    first: u32,
    count: u16,
}

/// The explored state graph.
pub struct Graph {
    /// BFS depth of each state (the length of its shortest path).
    depth: Vec<u32>,
    /// How each state was first reached.
    parent: Vec<Option<(u32, PathStep)>>,
    /// Every correct node has decided.
    goal: Vec<bool>,
    /// Whether the state's successors were computed (false: cut off by a bound).
    expanded: Vec<bool>,
    /// Transitions of state s: `transitions[first_transition[s]..first_transition[s + 1]]`.
    first_transition: Vec<u32>,
    transitions: Vec<Transition>,
    outcomes: Vec<u32>,
    /// The deepest level that was expanded completely.
    pub depth_reached: usize,
    /// Whether chance drew anything (some randomized backoff was armed).
    pub chance: bool,
    /// The first (hence shallowest) safety violation of each kind: agreement, validity.
    pub first_disagreement: Option<(Vec<PathStep>, String)>,
    pub first_invalid: Option<(Vec<PathStep>, String)>,
}

impl Graph {
    pub fn states(&self) -> usize {
        self.depth.len()
    }

    pub fn transitions(&self) -> usize {
        self.transitions.len()
    }

    /// States a bound kept from being expanded.
    pub fn frontier(&self) -> usize {
        self.expanded.iter().filter(|&&e| !e).count()
    }

    pub fn depth(&self, s: u32) -> usize {
        self.depth[s as usize] as usize
    }

    fn transitions_of(&self, s: u32) -> &[Transition] {
        let s = s as usize;
        let (a, b) = (
            self.first_transition[s] as usize,
            self.first_transition[s + 1] as usize,
        );
        &self.transitions[a..b]
    }

    fn outcomes_of(&self, t: &Transition) -> &[u32] {
        &self.outcomes[t.first as usize..t.first as usize + t.count as usize]
    }

    /// The shortest known path from the initial state to `s`.
    pub fn path_to(&self, mut s: u32) -> Vec<PathStep> {
        let mut path = Vec::new();
        while let Some((p, step)) = self.parent[s as usize] {
            path.push(step);
            s = p;
        }
        path.reverse();
        path
    }

    /// States from which no schedule reaches a decision: every path avoids the goal (states
    /// cut off by a bound count as possibly deciding). Found backwards from the goal.
    pub fn doomed(&self) -> Vec<bool> {
        let n = self.states();
        let mut predecessors: Vec<Vec<u32>> = vec![Vec::new(); n];
        for s in 0..n as u32 {
            for t in self.transitions_of(s) {
                for &o in self.outcomes_of(t) {
                    predecessors[o as usize].push(s);
                }
            }
        }
        let mut can_decide = vec![false; n];
        let mut queue: VecDeque<u32> = (0..n as u32)
            .filter(|&s| self.goal[s as usize] || !self.expanded[s as usize])
            .collect();
        for &s in &queue {
            can_decide[s as usize] = true;
        }
        while let Some(s) = queue.pop_front() {
            for &p in &predecessors[s as usize] {
                if !can_decide[p as usize] {
                    can_decide[p as usize] = true;
                    queue.push_back(p);
                }
            }
        }
        can_decide.into_iter().map(|c| !c).collect()
    }

    /// States from which the scheduler can keep some correct node undecided forever, whatever
    /// chance draws: the greatest set X of undecided, expanded states in which some event
    /// leads only into X (or no event is possible at all). From a state outside X every
    /// scheduler reaches a decision with probability 1 (for the finite graph explored; states
    /// cut off by a bound are assumed to decide). Returns X and, per transition, whether it
    /// stays inside X.
    pub fn avoidable(&self) -> (Vec<bool>, Vec<bool>) {
        let n = self.states();
        let mut in_x: Vec<bool> = (0..n).map(|s| self.expanded[s] && !self.goal[s]).collect();
        // Per transition: how many of its outcomes lie outside X.
        let mut outside: Vec<u32> = self
            .transitions
            .iter()
            .map(|t| self.outcomes_of(t).iter().filter(|&&o| !in_x[o as usize]).count() as u32)
            .collect();
        // Per state: how many of its transitions stay inside X.
        let mut staying: Vec<u32> = (0..n as u32)
            .map(|s| {
                let a = self.first_transition[s as usize] as usize;
                (a..self.first_transition[s as usize + 1] as usize)
                    .filter(|&t| outside[t] == 0)
                    .count() as u32
            })
            .collect();
        // Outcome -> the transitions leading to it.
        let mut into: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (t, tr) in self.transitions.iter().enumerate() {
            for &o in self.outcomes_of(tr) {
                into[o as usize].push(t as u32);
            }
        }
        let mut owner = vec![0u32; self.transitions.len()];
        for s in 0..n {
            let (a, b) = (
                self.first_transition[s] as usize,
                self.first_transition[s + 1] as usize,
            );
            owner[a..b].fill(s as u32);
        }
        let has_transitions = |s: usize| self.first_transition[s] != self.first_transition[s + 1];
        let mut leaving: Vec<u32> = (0..n as u32)
            .filter(|&s| in_x[s as usize] && has_transitions(s as usize) && staying[s as usize] == 0)
            .collect();
        while let Some(s) = leaving.pop() {
            if !in_x[s as usize] {
                continue;
            }
            in_x[s as usize] = false;
            for &t in &into[s as usize] {
                outside[t as usize] += 1;
                if outside[t as usize] == 1 {
                    let p = owner[t as usize] as usize;
                    staying[p] -= 1;
                    if staying[p] == 0 && in_x[p] {
                        leaving.push(p as u32);
                    }
                }
            }
        }
        let stays = outside.iter().map(|&o| o == 0).collect();
        (in_x, stays)
    }

    /// A lasso inside X: the shortest path from the initial state to a state of X, then a
    /// path and a cycle of transitions that stay in X (the scheduler's way of never
    /// deciding). Returns the prefix (ending where the cycle starts) and the cycle.
    pub fn lasso(&self, in_x: &[bool], stays: &[bool]) -> Option<(Vec<PathStep>, Vec<PathStep>)> {
        let entry = (0..self.states() as u32)
            .filter(|&s| in_x[s as usize])
            .min_by_key(|&s| (self.depth[s as usize], s))?;
        // Breadth first inside X from the entry: parents for the way to the cycle.
        let mut parent: HashMap<u32, (u32, PathStep)> = HashMap::new();
        let mut order = vec![entry];
        let mut local: HashMap<u32, usize> = HashMap::from([(entry, 0)]);
        let mut i = 0;
        while i < order.len() {
            let s = order[i];
            i += 1;
            for (o, step) in self.staying_edges(s, stays) {
                if let std::collections::hash_map::Entry::Vacant(v) = local.entry(o) {
                    v.insert(order.len());
                    parent.insert(o, (s, step));
                    order.push(o);
                }
            }
        }
        // The nearest state on a cycle (in a strongly connected component with an edge inside
        // it), then the shortest cycle through it.
        let edges: Vec<Vec<usize>> = order
            .iter()
            .map(|&s| self.staying_edges(s, stays).map(|(o, _)| local[&o]).collect())
            .collect();
        let component = strongly_connected_components(&edges);
        let on_cycle = |v: usize| edges[v].iter().any(|&w| component[w] == component[v]);
        let start = (0..order.len()).find(|&v| on_cycle(v))?;
        let cycle = self.shortest_cycle(order[start], stays, |o| {
            local.get(&o).is_some_and(|&w| component[w] == component[start])
        })?;
        let mut prefix = self.path_to(entry);
        let mut to_start = Vec::new();
        let mut s = order[start];
        while s != entry {
            let (p, step) = parent[&s];
            to_start.push(step);
            s = p;
        }
        to_start.reverse();
        prefix.extend(to_start);
        Some((prefix, cycle))
    }

    /// Transitions of `s` that stay in X, one edge per outcome: (target, step).
    fn staying_edges<'a>(&'a self, s: u32, stays: &'a [bool]) -> impl Iterator<Item = (u32, PathStep)> + 'a {
        let a = self.first_transition[s as usize] as usize;
        self.transitions_of(s)
            .iter()
            .enumerate()
            .filter(move |(k, _)| stays[a + k])
            .flat_map(move |(_, t)| {
                self.outcomes_of(t)
                    .iter()
                    .enumerate()
                    .map(move |(j, &o)| (o, (t.event, j as u8)))
            })
    }

    /// The shortest cycle from `start` back to itself along transitions that stay in X,
    /// through states `within` allows.
    fn shortest_cycle(
        &self,
        start: u32,
        stays: &[bool],
        within: impl Fn(u32) -> bool,
    ) -> Option<Vec<PathStep>> {
        let mut parent: HashMap<u32, (u32, PathStep)> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(s) = queue.pop_front() {
            for (o, step) in self.staying_edges(s, stays) {
                if o == start {
                    let mut cycle = vec![step];
                    let mut c = s;
                    while c != start {
                        let (p, st) = parent[&c];
                        cycle.push(st);
                        c = p;
                    }
                    cycle.reverse();
                    return Some(cycle);
                }
                if within(o) && !parent.contains_key(&o) {
                    parent.insert(o, (s, step));
                    queue.push_back(o);
                }
            }
        }
        None
    }
}

/// Kosaraju's algorithm, iterative: the component number of every vertex.
fn strongly_connected_components(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut finished = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    for root in 0..n {
        if visited[root] {
            continue;
        }
        visited[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some((v, next)) = stack.last_mut() {
            if let Some(&w) = edges[*v].get(*next) {
                *next += 1;
                if !visited[w] {
                    visited[w] = true;
                    stack.push((w, 0));
                }
            } else {
                finished.push(*v);
                stack.pop();
            }
        }
    }
    let mut reverse = vec![Vec::new(); n];
    for (v, out) in edges.iter().enumerate() {
        for &w in out {
            reverse[w].push(v);
        }
    }
    let mut component = vec![usize::MAX; n];
    for (c, &root) in finished.iter().rev().enumerate() {
        if component[root] != usize::MAX {
            continue;
        }
        component[root] = c;
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            for &w in &reverse[v] {
                if component[w] == usize::MAX {
                    component[w] = c;
                    stack.push(w);
                }
            }
        }
    }
    component
}

/// Explores every schedule of `scenario` within `bounds`, breadth first.
pub fn explore<A: WriteOnce>(scenario: &Setup<A::Value>, bounds: Bounds) -> Graph {
    let mut init = World::<A>::boot(scenario);
    init.shift_rounds();
    let mut graph = Graph {
        depth: vec![0],
        parent: vec![None],
        goal: vec![init.decided()],
        expanded: Vec::new(),
        first_transition: vec![0],
        transitions: Vec::new(),
        outcomes: Vec::new(),
        depth_reached: 0,
        chance: false,
        first_disagreement: None,
        first_invalid: None,
    };
    let mut index: HashMap<u128, u32> = HashMap::from([(init.fingerprint(), 0)]);
    // Only worlds that will be expanded are kept; the last level, usually the biggest, is
    // known by fingerprint alone.
    let mut queue: VecDeque<(u32, World<A>)> = VecDeque::new();
    if bounds.max_depth > 0 {
        queue.push_back((0, init));
    }
    let mut complete_depth = usize::MAX;
    let mut id = 0u32;
    while (id as usize) < graph.depth.len() {
        let depth = graph.depth[id as usize] as usize;
        let world = match queue.front() {
            Some((next, _)) if *next == id && graph.depth.len() < bounds.max_states => {
                queue.pop_front().map(|(_, w)| w)
            }
            _ => None,
        };
        if world.is_none() && complete_depth == usize::MAX {
            complete_depth = depth;
        }
        graph.expanded.push(world.is_some());
        if let Some(world) = world {
            for event in world.moves(scenario) {
                let mut next = world.clone();
                next.apply(scenario, event);
                let first = graph.outcomes.len() as u32;
                let choices = next.draw_choices();
                graph.chance |= choices.len() > 1;
                let last = choices.len() - 1;
                let mut next = Some(next);
                for (j, draws) in choices.iter().enumerate() {
                    let mut outcome = if j == last {
                        next.take().expect("the last choice takes the world")
                    } else {
                        next.clone().expect("the world is kept for the last choice")
                    };
                    outcome.set_draws(draws);
                    let step = (event, j as u8);
                    if let Some(v) = world.changed_mind(&outcome) {
                        record(&mut graph, id, step, &v);
                    }
                    outcome.shift_rounds();
                    let key = outcome.fingerprint();
                    let target = match index.get(&key) {
                        Some(&t) => t,
                        None => {
                            let t = graph.depth.len() as u32;
                            index.insert(key, t);
                            graph.depth.push(depth as u32 + 1);
                            graph.parent.push(Some((id, step)));
                            graph.goal.push(outcome.decided());
                            if let Some(v) = outcome.safety_violation(scenario) {
                                record(&mut graph, id, step, &v);
                            }
                            if depth + 1 < bounds.max_depth {
                                queue.push_back((t, outcome));
                            }
                            t
                        }
                    };
                    graph.outcomes.push(target);
                }
                graph.transitions.push(Transition {
                    event,
                    first,
                    count: choices.len() as u16,
                });
            }
        } else if graph.depth.len() >= bounds.max_states {
            queue.clear();
        }
        graph.first_transition.push(graph.transitions.len() as u32);
        id += 1;
    }
    graph.depth_reached = if complete_depth == usize::MAX {
        graph.depth.iter().copied().max().unwrap_or(0) as usize
    } else {
        complete_depth
    };
    graph
}

/// Keeps the first violation of each kind; breadth-first order makes it a shortest one.
fn record<V: std::fmt::Debug>(
    graph: &mut Graph,
    parent: u32,
    step: PathStep,
    violation: &PropertyViolation<V>,
) {
    let known = if violation.is_validity() {
        &graph.first_invalid
    } else {
        &graph.first_disagreement
    };
    if known.is_some() {
        return;
    }
    let mut path = graph.path_to(parent);
    path.push(step);
    let found = Some((path, violation.describe()));
    if violation.is_validity() {
        graph.first_invalid = found;
    } else {
        graph.first_disagreement = found;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kosaraju_finds_cycles_and_leaves_chains_apart() {
        // 0 -> 1 -> 2 -> 1, 2 -> 3
        let edges = vec![vec![1], vec![2], vec![1, 3], vec![]];
        let c = strongly_connected_components(&edges);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[0], c[1]);
        assert_ne!(c[3], c[1]);
    }
}
