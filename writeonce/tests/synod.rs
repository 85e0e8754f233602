//! The synod algorithm under every schedule: an exhaustive enumeration of what the network
//! and a crash can do to two competing proposers on three acceptors.
//!
//! A state is the three `Synod` nodes, the messages in flight (a multiset), what is left of
//! the crash, loss and proposal budgets, and a ghost record of every (acceptor, ballot,
//! value) ever accepted. From each state the explorer tries every move:
//! - deliver any one message in flight (in any order: the network reorders freely);
//! - drop any one message in flight, while the loss budget lasts;
//! - crash and restart any one acceptor, while the crash budget lasts: it keeps only
//!   `SynodNode::acceptor_state`, the part the algorithm makes durable, and
//!   `SynodNode::restore` rebuilds it without its proposer and learner (messages already in
//!   flight to it still arrive);
//! - let a proposer start proposing (`try_initialize`), or give up on its ballot and start
//!   again with a higher one (its timer fires), while its proposal budget lasts.
//!
//! After every move it checks the safety requirements of Paxos Made Simple §2.1:
//! - agreement: at most one value is chosen, where a value is chosen once a majority of
//!   acceptors accepted it at one ballot (the ghost record tells);
//! - validity: only a value some proposer was asked to propose is chosen;
//! - learners learn only chosen values.
//!
//! The search is depth-first and visits each distinct state once (states are deduplicated by
//! a 128-bit fingerprint; a state reached again by a shorter schedule is explored again, so
//! the depth bound cuts nothing reachable within it). Messages that can never again change
//! anything (a promise for a ballot its proposer has left, say) are taken out of the state as
//! soon as they become so: delivering them later would be a step that changes nothing, so
//! the reachable node states are the same, and the space is many times smaller (44 times
//! for two proposers without faults). A test checks, on a space small enough to search both
//! ways, that the final states are the same with and without it.
//!
//! | setup | moves | distinct states | final states |
//! | --- | --- | --- | --- |
//! | two proposers once each, one crash, one loss | 2,778,374 | 360,837 | 881 |
//! | node 0 retries once after a refusal (three ballots), no faults | 1,405,034 | 229,967 | 165 |
//!
//! Every node passes a `Chosen` it hears first on to the others (the relay rule of
//! `writeonce::synod`). Without that rule (when this enumeration ran on the `paxos` crate's
//! synod) the counts were 240,497 states and 942 final states for the first setup, 246,091
//! and 165 for the second: relays add messages in flight where a crash can still come, and
//! let more schedules end with every node knowing the outcome.
//!
//! The explorer runs the real `writeonce::synod::SynodNode`, the one `workbench explore synod`
//! searches too; the broken variants are made from outside it (by rewriting a message, or by
//! restarting an acceptor without its state).

use replog::Epoch;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use writeonce::synod::{ProposerState, SynodMsg};
use writeonce::{NodeId, Outbox, Synod, WriteOnce};

/// A run to explore: the acceptors (every node), who proposes what, and the bounds.
#[derive(Clone)]
struct Setup {
    nodes: usize,
    /// (proposer, the value it is asked to propose, how many times it may call `propose`:
    /// the first call and the retries with higher ballots).
    proposers: Vec<(NodeId, char, u8)>,
    /// Whether a proposer retries only once it has given up (a refusal made it idle).
    retry_when_idle: bool,
    /// How many crash-and-restarts of acceptors (any of them) a schedule may contain.
    crashes: u8,
    /// How many messages the network may lose in one schedule.
    losses: u8,
    /// Longest schedule explored, in moves.
    max_depth: usize,
    /// Whether messages that can no longer change anything are taken out of flight.
    collect_garbage: bool,
    variant: Variant,
}

/// Which synod the explorer runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    /// The algorithm as written.
    Correct,
    /// A proposer that ignores the values other acceptors report in their promises: unless
    /// its own acceptor accepted something, it proposes its own value. Breaks Paxos Made
    /// Simple §2.2 phase 2(a).
    IgnorePromisedValues,
    /// A proposer that adopts the value of the lowest-numbered proposal other acceptors
    /// report instead of the highest (made by turning the reported ballots' order upside
    /// down on delivery). Needs three ballots to go wrong. Breaks Paxos Made Simple §2.2
    /// phase 2(a).
    AdoptLowestBallot,
    /// An acceptor that forgets its promise and accepted value when it restarts. Breaks
    /// Paxos Made Simple §2.2 ("an acceptor must remember this information even if it fails
    /// and then restarts").
    AmnesiacAcceptor,
}

/// A message in flight: (from, to, message).
type Envelope = (NodeId, NodeId, SynodMsg<char>);

/// One move of the environment.
#[derive(Clone, PartialEq, Eq)]
enum Move {
    Deliver(Envelope),
    Drop(Envelope),
    CrashRestart(NodeId),
    Propose(NodeId, char),
}

impl fmt::Debug for Move {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Move::Deliver((from, to, msg)) => write!(f, "deliver {from:?}->{to:?} {msg:?}"),
            Move::Drop((from, to, msg)) => write!(f, "drop {from:?}->{to:?} {msg:?}"),
            Move::CrashRestart(id) => write!(f, "crash and restart {id:?}"),
            Move::Propose(id, v) => write!(f, "{id:?} proposes {v:?}"),
        }
    }
}

/// One cluster state. Everything the future depends on is in here, so equal states have
/// equal futures and the explorer may skip a state it has seen.
#[derive(Clone, PartialEq, Eq, Hash)]
struct State {
    nodes: Vec<Synod<char>>,
    /// Messages in flight, sorted: the network has no order.
    in_flight: Vec<Envelope>,
    crashes_left: u8,
    losses_left: u8,
    /// Per proposer in `Setup::proposers`.
    proposals_left: Vec<u8>,
    /// Ghost variable: every (acceptor, ballot, value) ever accepted.
    accepted_ever: BTreeSet<(NodeId, Epoch, char)>,
}

/// What an exploration found.
#[derive(Default)]
struct Exploration {
    /// Distinct states reached.
    states: usize,
    /// Moves tried (edges of the state graph).
    moves: usize,
    /// Distinct states with no move left (every message delivered or dropped, every
    /// proposal and crash made).
    final_states: usize,
    /// Their fingerprints.
    finals: HashSet<u128>,
    /// Longest schedule followed.
    depth_max: usize,
    /// States whose moves the depth bound cut off.
    cut_by_depth: usize,
    /// The first violation found and the schedule leading to it.
    violation: Option<(String, Vec<Move>)>,
}

impl fmt::Debug for Exploration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} states, {} moves, {} final states, depth {} (cut by the bound: {})",
            self.states, self.moves, self.final_states, self.depth_max, self.cut_by_depth
        )?;
        if let Some((what, _)) = &self.violation {
            write!(f, ", violation: {what}")?;
        }
        Ok(())
    }
}

fn fingerprint(state: &State) -> u128 {
    let mut low = DefaultHasher::new();
    state.hash(&mut low);
    let mut high = DefaultHasher::new();
    0x5eed_u64.hash(&mut high);
    state.hash(&mut high);
    (u128::from(high.finish()) << 64) | u128::from(low.finish())
}

fn members(setup: &Setup) -> Vec<NodeId> {
    (0..setup.nodes as u32).map(NodeId).collect()
}

impl State {
    fn initial(setup: &Setup) -> State {
        State {
            nodes: members(setup)
                .into_iter()
                .map(|id| Synod::boot(id, setup.nodes))
                .collect(),
            in_flight: Vec::new(),
            crashes_left: setup.crashes,
            losses_left: setup.losses,
            proposals_left: setup.proposers.iter().map(|p| p.2).collect(),
            accepted_ever: BTreeSet::new(),
        }
    }

    /// Values accepted by a majority at one ballot. Reference: Paxos Made Simple §2.2.
    fn chosen_values(&self) -> BTreeSet<char> {
        let mut per_proposal: BTreeMap<(Epoch, char), usize> = BTreeMap::new();
        for &(_, ballot, value) in &self.accepted_ever {
            *per_proposal.entry((ballot, value)).or_default() += 1;
        }
        let majority = self.nodes.len() / 2 + 1;
        per_proposal
            .into_iter()
            .filter(|&(_, n)| n >= majority)
            .map(|((_, v), _)| v)
            .collect()
    }

    /// Agreement and validity, or what broke.
    fn check(&self, setup: &Setup) -> Result<(), String> {
        let chosen = self.chosen_values();
        if chosen.len() > 1 {
            return Err(format!("agreement violated: {chosen:?} all chosen"));
        }
        for v in &chosen {
            if !setup.proposers.iter().any(|(_, p, _)| p == v) {
                return Err(format!("validity violated: {v:?} chosen, never proposed"));
            }
        }
        for (id, n) in members(setup).into_iter().zip(&self.nodes) {
            if let Some(v) = n.final_value()
                && !chosen.contains(v)
            {
                return Err(format!("{id:?} learned {v:?}, which is not chosen"));
            }
        }
        Ok(())
    }

    /// Every move from here.
    fn moves(&self, setup: &Setup) -> Vec<Move> {
        let mut moves = Vec::new();
        for (i, envelope) in self.in_flight.iter().enumerate() {
            if i > 0 && self.in_flight[i - 1] == *envelope {
                continue; // the same move as for the copy before it
            }
            moves.push(Move::Deliver(envelope.clone()));
            if self.losses_left > 0 {
                moves.push(Move::Drop(envelope.clone()));
            }
        }
        if self.crashes_left > 0 {
            moves.extend(members(setup).into_iter().map(Move::CrashRestart));
        }
        for (p, &(id, value, _)) in setup.proposers.iter().enumerate() {
            let node = &self.nodes[id.index()];
            let first = self.proposals_left[p] == setup.proposers[p].2;
            let idle = matches!(node.proposer_state(), ProposerState::Idle);
            if self.proposals_left[p] > 0
                && node.final_value().is_none()
                && (first || idle || !setup.retry_when_idle)
            {
                moves.push(Move::Propose(id, value));
            }
        }
        moves
    }

    /// The state after `mv`.
    fn after(&self, setup: &Setup, mv: &Move) -> State {
        let mut next = self.clone();
        let mut out = Outbox::new();
        let id = match mv {
            Move::Drop(envelope) => {
                next.take(envelope);
                next.losses_left -= 1;
                envelope.1
            }
            Move::Deliver(envelope) => {
                next.take(envelope);
                let (from, to, mut msg) = envelope.clone();
                if let SynodMsg::Promise { accepted, .. } = &mut msg {
                    match setup.variant {
                        Variant::IgnorePromisedValues => *accepted = None,
                        Variant::AdoptLowestBallot => {
                            if let Some((ballot, _)) = accepted {
                                ballot.round = u64::MAX - ballot.round;
                            }
                        }
                        _ => {}
                    }
                }
                next.nodes[to.index()].on_message(from, msg, &mut out);
                to
            }
            Move::CrashRestart(id) => {
                next.crashes_left -= 1;
                let durable = self.nodes[id.index()].acceptor_state().clone();
                next.nodes[id.index()] = match setup.variant {
                    Variant::AmnesiacAcceptor => Synod::boot(*id, setup.nodes),
                    _ => Synod::restore(*id, setup.nodes, durable),
                };
                *id
            }
            Move::Propose(id, value) => {
                let p = setup
                    .proposers
                    .iter()
                    .position(|&(proposer, _, _)| proposer == *id)
                    .expect("a proposer");
                next.proposals_left[p] -= 1;
                let node = &mut next.nodes[id.index()];
                // An armed timer means the node has its value and retries with a higher
                // ballot; without one (never asked, or restarted) it is asked (again).
                if node.timer().is_some() {
                    node.on_timeout(&mut out);
                } else {
                    node.try_initialize(*value, &mut out);
                }
                *id
            }
        };
        next.in_flight.extend(out.drain().map(|(to, msg)| (id, to, msg)));
        next.in_flight.sort();
        if let Some((ballot, value)) = &next.nodes[id.index()].acceptor_state().accepted {
            next.accepted_ever.insert((id, *ballot, *value));
        }
        if setup.collect_garbage {
            next.collect_garbage();
        }
        next
    }

    fn take(&mut self, envelope: &Envelope) {
        let i = self
            .in_flight
            .binary_search(envelope)
            .expect("the message is in flight");
        self.in_flight.remove(i);
    }

    /// Takes out of flight the messages whose delivery would change nothing, now or ever:
    /// a promise or acceptance for a ballot its proposer is not (and so never again will be)
    /// working on, and, once no crash can reset the recipient, any answer or notice whose
    /// delivery now leaves it as it is.
    fn collect_garbage(&mut self) {
        let crash_possible = self.crashes_left > 0;
        let nodes = &self.nodes;
        self.in_flight.retain(|(from, to, msg)| {
            let to = &nodes[to.index()];
            let current = match to.proposer_state() {
                ProposerState::Idle => None,
                ProposerState::Preparing { ballot, .. } => Some((*ballot, false)),
                ProposerState::Accepting { ballot, .. } => Some((*ballot, true)),
            };
            match msg {
                // A proposer's ballots only grow, across restarts too (its own acceptor
                // promised each one durably before it was used).
                SynodMsg::Promise { ballot, .. } => current == Some((*ballot, false)),
                SynodMsg::Accepted { ballot } => current == Some((*ballot, true)),
                // Without crashes a node's highest round seen only grows and its learner never
                // forgets.
                SynodMsg::Nack { .. } if !crash_possible => {
                    let mut copy = to.clone();
                    let mut out = Outbox::new();
                    copy.on_message(*from, msg.clone(), &mut out);
                    !(out.is_empty() && copy == *to)
                }
                SynodMsg::Chosen { value } if !crash_possible => {
                    !(to.final_value() == Some(value) && current.is_none())
                }
                _ => true,
            }
        });
    }
}

/// Depth-first search over every schedule up to `setup.max_depth` moves, stopping at the
/// first violation.
fn explore(setup: &Setup) -> Exploration {
    let mut seen: HashMap<u128, usize> = HashMap::new();
    let mut result = Exploration::default();
    let initial = State::initial(setup);
    seen.insert(fingerprint(&initial), 0);
    result.states = 1;
    // Each frame: a state not explored yet, its depth, and the move that led to it.
    let mut stack: Vec<(State, usize, Option<Move>)> = vec![(initial, 0, None)];
    // The moves on the current path, for the trace of a violation.
    let mut path: Vec<Move> = Vec::new();
    while let Some((state, depth, how)) = stack.pop() {
        path.truncate(depth.saturating_sub(1));
        path.extend(how);
        result.depth_max = result.depth_max.max(depth);
        if let Err(what) = state.check(setup) {
            result.violation = Some((what, path));
            return result;
        }
        let moves = state.moves(setup);
        if moves.is_empty() {
            result.finals.insert(fingerprint(&state));
            continue;
        }
        if depth == setup.max_depth {
            result.cut_by_depth += 1;
            continue;
        }
        for mv in moves {
            result.moves += 1;
            let next = state.after(setup, &mv);
            let print = fingerprint(&next);
            match seen.insert(print, depth + 1) {
                None => result.states += 1,
                Some(d) if d > depth + 1 => {}
                Some(d) => {
                    seen.insert(print, d);
                    continue;
                }
            }
            stack.push((next, depth + 1, Some(mv)));
        }
    }
    result.final_states = result.finals.len();
    result
}

/// Two proposers, nodes 0 and 1 proposing 'a' and 'b' once each, on three acceptors; one
/// acceptor may crash and restart and the network may lose one message, at any moment.
fn two_proposers_one_crash(variant: Variant) -> Setup {
    Setup {
        nodes: 3,
        proposers: vec![(NodeId(0), 'a', 1), (NodeId(1), 'b', 1)],
        retry_when_idle: false,
        crashes: 1,
        losses: 1,
        max_depth: 64,
        collect_garbage: true,
        variant,
    }
}

/// As above, but node 0 may try again with a higher ballot once a refusal has made it give
/// up, so three ballots can meet (which the rule "adopt the value of the highest ballot"
/// needs to be tested at all); no crash or loss, to keep the space small.
fn three_ballots(variant: Variant) -> Setup {
    Setup {
        proposers: vec![(NodeId(0), 'a', 2), (NodeId(1), 'b', 1)],
        retry_when_idle: true,
        crashes: 0,
        losses: 0,
        ..two_proposers_one_crash(variant)
    }
}

fn trace(moves: &[Move]) -> String {
    moves.iter().map(|m| format!("\n  {m:?}")).collect()
}

/// Explores `setup`, which must be safe, and returns what it covered.
fn explore_safe(setup: &Setup) -> Exploration {
    let found = explore(setup);
    if let Some((what, moves)) = &found.violation {
        panic!("{what} after:{}", trace(moves));
    }
    eprintln!("{:?}: {found:?}", setup.variant);
    found
}

/// Explores `setup`, which must be unsafe, and returns the violation and its schedule.
fn explore_unsafe(setup: &Setup) -> (String, Vec<Move>) {
    let found = explore(setup);
    let summary = format!("{found:?}");
    let (what, moves) = found
        .violation
        .unwrap_or_else(|| panic!("{:?} should be caught", setup.variant));
    eprintln!("{:?}: {summary}; the schedule:{}", setup.variant, trace(&moves));
    (what, moves)
}

/// Two proposers compete on three acceptors, the network reorders messages and loses one,
/// and one acceptor crashes and restarts at any moment: in every reachable state at most
/// one value is chosen, it is one that was proposed, and every learner agrees with it.
/// Reference: Paxos Made Simple §2.1 (safety requirements), §2.2 (P2c), §2.5 (durable
/// acceptor state).
#[test]
fn agreement_and_validity_hold_in_every_schedule_of_two_proposers_and_one_crash() {
    let found = explore_safe(&two_proposers_one_crash(Variant::Correct));
    assert!(
        found.states > 200_000 && found.final_states > 500 && found.cut_by_depth == 0,
        "the enumeration should cover the whole space: {found:?}"
    );
}

/// With a proposer that retries at a higher ballot, three ballots meet, and still every
/// reachable state agrees. Reference: Paxos Made Simple §2.2 (P2c: the highest-numbered
/// proposal among a majority's reports).
#[test]
fn agreement_and_validity_hold_in_every_schedule_of_three_ballots() {
    let found = explore_safe(&three_ballots(Variant::Correct));
    assert!(
        found.states > 200_000 && found.final_states > 100 && found.cut_by_depth == 0,
        "the enumeration should cover the whole space: {found:?}"
    );
}

/// The same enumeration with a proposer that ignores the values promises report finds two
/// values chosen: phase 2(a)'s adoption rule is what makes Paxos safe, and the explorer can
/// tell. Reference: Paxos Made Simple §2.2.
#[test]
fn the_enumeration_finds_disagreement_when_a_proposer_ignores_promised_values() {
    let (what, _) = explore_unsafe(&two_proposers_one_crash(Variant::IgnorePromisedValues));
    assert!(what.starts_with("agreement violated"), "{what}");
}

/// A proposer that adopts the lowest reported ballot's value instead of the highest's is
/// caught once three ballots can meet. Reference: Paxos Made Simple §2.2.
#[test]
fn the_enumeration_finds_disagreement_when_a_proposer_adopts_the_lowest_ballot() {
    let (what, _) = explore_unsafe(&three_ballots(Variant::AdoptLowestBallot));
    assert!(what.starts_with("agreement violated"), "{what}");
}

/// The same enumeration with an acceptor that forgets its state when it restarts finds two
/// values chosen, and the schedule it reports uses the crash. Reference: Paxos Made Simple
/// §2.2, §2.5.
#[test]
fn the_enumeration_finds_disagreement_when_an_acceptor_forgets_its_state_on_restart() {
    let (what, moves) = explore_unsafe(&two_proposers_one_crash(Variant::AmnesiacAcceptor));
    let crashed = moves.iter().any(|m| matches!(m, Move::CrashRestart(_)));
    assert!(what.starts_with("agreement violated") && crashed, "{what}");
}

/// Taking dead messages out of flight changes which states are stored, not which outcomes
/// are reachable: on a space small enough to search both ways (two acceptors, a crash and a
/// loss), the final states are the same with and without it.
#[test]
fn collecting_dead_messages_keeps_every_final_state() {
    let small = Setup {
        nodes: 2,
        ..two_proposers_one_crash(Variant::Correct)
    };
    let with = explore(&small);
    let without = explore(&Setup {
        collect_garbage: false,
        ..small.clone()
    });
    assert!(
        with.finals == without.finals && with.states < without.states && with.finals.len() > 10,
        "with: {with:?}, without: {without:?}"
    );
}
