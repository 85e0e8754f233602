//! Seeded random walks, for clusters too big to search exhaustively.
//!
//! Each walk starts from the initial world and picks an enabled event at random (a fault with
//! probability `fault_chance` while the budget lasts, otherwise any other event with equal
//! probability; chance draws backoffs fairly) until nothing but faults can happen or the step
//! bound is reached. Walk `i` uses a generator seeded from `(seed, i)`, so any walk can be
//! rerun alone.
//!
//! A walk that breaks agreement or validity, or ends with nothing left to happen and a correct
//! node undecided (a deadlock: no event can ever make it decide), is a counterexample. The
//! shortest one found is then shrunk: steps are dropped one at a time as long as the rest,
//! replayed (and for a deadlock played out with every message still in flight delivered),
//! still fails the same way.

use super::trace::{Replay, Timeline, node_list};
use super::world::{Draw, Envelope, Move, Setup, World};
use crate::{NodeId, WriteOnce};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bounds of a random-walk search.
#[derive(Clone, Copy, Debug)]
pub struct WalkBounds {
    pub walks: u64,
    pub max_steps: usize,
    /// Probability that a step is a fault, while the budget lasts.
    pub fault_chance: f64,
    pub seed: u64,
}

/// A step recorded by content, so it can be replayed after other steps were dropped.
#[derive(Clone, Debug)]
enum Choice<M> {
    Propose(u8),
    Deliver(Envelope<M>),
    Timeout(NodeId),
    Crash(NodeId),
    Isolate(NodeId),
}

type Recorded<M> = (Choice<M>, Vec<(NodeId, Draw)>);

/// What the walks found.
#[derive(Debug, Default)]
pub struct WalkOutcome {
    pub walks: u64,
    pub steps: u64,
    /// Walks that ended with every correct node decided.
    pub decided: u64,
    /// Walks that ended with nothing left to happen and a correct node undecided.
    pub deadlocked: u64,
    /// Walks still undecided when the step bound stopped them.
    pub undecided_at_bound: u64,
    /// Walks that broke agreement or validity.
    pub unsafe_walks: u64,
    pub disagreement: Option<Timeline>,
    pub invalid: Option<Timeline>,
    pub deadlock: Option<Timeline>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    Disagreement,
    Invalid,
    Deadlock,
}

fn choice_of<A: WriteOnce>(world: &World<A>, event: Move) -> Choice<A::Message> {
    match event {
        Move::Propose(i) => Choice::Propose(i),
        Move::Deliver(i) => Choice::Deliver(world.in_flight[i as usize].clone()),
        Move::Timeout(n) => Choice::Timeout(n),
        Move::Crash(n) => Choice::Crash(n),
        Move::Isolate(n) => Choice::Isolate(n),
    }
}

/// The event `choice` stands for in `world`, if it is enabled there.
fn event_of<A: WriteOnce>(
    world: &World<A>,
    scenario: &Setup<A::Value>,
    choice: &Choice<A::Message>,
) -> Option<Move> {
    let event = match choice {
        Choice::Propose(i) => Move::Propose(*i),
        Choice::Deliver(e) => {
            let i = world.in_flight.iter().position(|f| f == e)?;
            Move::Deliver(i as u16)
        }
        Choice::Timeout(n) => Move::Timeout(*n),
        Choice::Crash(n) => Move::Crash(*n),
        Choice::Isolate(n) => Move::Isolate(*n),
    };
    world.moves(scenario).contains(&event).then_some(event)
}

/// Runs the walks.
pub fn explore<A: WriteOnce>(scenario: &Setup<A::Value>, bounds: WalkBounds) -> WalkOutcome {
    let mut outcome = WalkOutcome {
        walks: bounds.walks,
        ..WalkOutcome::default()
    };
    let mut shortest: [Option<Vec<Recorded<A::Message>>>; 3] = [None, None, None];
    for walk in 0..bounds.walks {
        let mut rng = ChaCha8Rng::seed_from_u64(bounds.seed ^ walk.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut world = World::<A>::boot(scenario);
        let mut record: Vec<Recorded<A::Message>> = Vec::new();
        let mut failure = None;
        loop {
            if record.len() == bounds.max_steps {
                if !world.decided() {
                    outcome.undecided_at_bound += 1;
                } else {
                    outcome.decided += 1;
                }
                break;
            }
            let events = world.moves(scenario);
            let (faults, others): (Vec<Move>, Vec<Move>) = events.into_iter().partition(|e| e.is_fault());
            if others.is_empty() {
                if world.decided() {
                    outcome.decided += 1;
                } else {
                    outcome.deadlocked += 1;
                    failure = Some(Failure::Deadlock);
                }
                break;
            }
            let event = if !faults.is_empty() && rng.random_bool(bounds.fault_chance) {
                faults[rng.random_range(0..faults.len())]
            } else {
                others[rng.random_range(0..others.len())]
            };
            let choice = choice_of(&world, event);
            let before = world.clone();
            world.apply(scenario, event);
            let draws: Vec<(NodeId, Draw)> = world
                .undrawn()
                .into_iter()
                .map(|n| {
                    (
                        n,
                        if rng.random_bool(0.5) {
                            Draw::Short
                        } else {
                            Draw::Long
                        },
                    )
                })
                .collect();
            world.set_draws(&draws);
            record.push((choice, draws));
            outcome.steps += 1;
            let violation = before
                .changed_mind(&world)
                .or_else(|| world.safety_violation(scenario));
            if let Some(v) = violation {
                outcome.unsafe_walks += 1;
                failure = Some(if v.is_validity() {
                    Failure::Invalid
                } else {
                    Failure::Disagreement
                });
                break;
            }
        }
        if let Some(f) = failure {
            let slot = &mut shortest[f as usize];
            if slot.as_ref().is_none_or(|s| record.len() < s.len()) {
                *slot = Some(record);
            }
        }
    }
    for (f, slot) in [Failure::Disagreement, Failure::Invalid, Failure::Deadlock]
        .into_iter()
        .zip(shortest)
    {
        let Some(record) = slot else { continue };
        let shrunk = shrink::<A>(scenario, record, f, bounds.max_steps);
        let timeline = timeline::<A>(scenario, &shrunk, f, bounds.max_steps);
        match f {
            Failure::Disagreement => outcome.disagreement = Some(timeline),
            Failure::Invalid => outcome.invalid = Some(timeline),
            Failure::Deadlock => outcome.deadlock = Some(timeline),
        }
    }
    outcome
}

/// Replays `record` (skipping steps no longer possible) and reports whether it still fails
/// as `failure`, and with which steps.
fn replay<A: WriteOnce>(
    scenario: &Setup<A::Value>,
    record: &[Recorded<A::Message>],
    failure: Failure,
    limit: usize,
) -> Option<Vec<Recorded<A::Message>>> {
    let mut world = World::<A>::boot(scenario);
    let mut used = Vec::new();
    for (choice, draws) in record {
        let Some(event) = event_of(&world, scenario, choice) else {
            continue;
        };
        let before = world.clone();
        world.apply(scenario, event);
        let draws: Vec<(NodeId, Draw)> = world
            .undrawn()
            .into_iter()
            .map(|n| (n, draws.iter().find(|(m, _)| *m == n).map_or(Draw::Long, |d| d.1)))
            .collect();
        world.set_draws(&draws);
        used.push((choice.clone(), draws));
        if failure != Failure::Deadlock
            && let Some(v) = before
                .changed_mind(&world)
                .or_else(|| world.safety_violation(scenario))
        {
            let kind = if v.is_validity() {
                Failure::Invalid
            } else {
                Failure::Disagreement
            };
            return (kind == failure).then_some(used);
        }
    }
    if failure != Failure::Deadlock {
        return None;
    }
    // Played out without faults, does it end stuck?
    for _ in 0..limit {
        let Some(&event) = world.moves(scenario).iter().find(|e| !e.is_fault()) else {
            return (!world.decided()).then_some(used);
        };
        world.apply(scenario, event);
        let draws: Vec<(NodeId, Draw)> = world.undrawn().into_iter().map(|n| (n, Draw::Long)).collect();
        world.set_draws(&draws);
    }
    None
}

/// Drops steps one at a time while the run still fails the same way; then turns each
/// partition into a crash of the same node where that still fails (a crash is the plainer
/// fault, and the one the drafts' stories use).
fn shrink<A: WriteOnce>(
    scenario: &Setup<A::Value>,
    record: Vec<Recorded<A::Message>>,
    failure: Failure,
    limit: usize,
) -> Vec<Recorded<A::Message>> {
    let mut best = replay::<A>(scenario, &record, failure, limit).unwrap_or(record);
    loop {
        let mut improved = false;
        let mut i = best.len();
        while i > 0 {
            i -= 1;
            let mut candidate = best.clone();
            candidate.remove(i);
            if let Some(used) = replay::<A>(scenario, &candidate, failure, limit) {
                best = used;
                improved = true;
                i = i.min(best.len());
            }
        }
        for i in 0..best.len() {
            if let Choice::Isolate(n) = best[i].0 {
                let mut candidate = best.clone();
                candidate[i].0 = Choice::Crash(n);
                if let Some(used) = replay::<A>(scenario, &candidate, failure, limit) {
                    best = used;
                    improved = true;
                    break;
                }
            }
        }
        if !improved {
            return best;
        }
    }
}

fn timeline<A: WriteOnce>(
    scenario: &Setup<A::Value>,
    record: &[Recorded<A::Message>],
    failure: Failure,
    limit: usize,
) -> Timeline {
    let mut replay = Replay::<A>::new(scenario);
    let mut conclusion = String::new();
    for (choice, draws) in record {
        let event = event_of(&replay.world, scenario, choice).expect("a shrunk run replays");
        let before = replay.world.clone();
        replay.step(event, |_| draws.clone());
        if let Some(v) = before
            .changed_mind(&replay.world)
            .or_else(|| replay.world.safety_violation(scenario))
        {
            conclusion = v.describe();
        }
    }
    let chosen = replay.lines.len();
    if failure == Failure::Deadlock {
        replay.drain(limit);
        let waiting = node_list(&replay.world.waiting());
        conclusion = format!("Nothing is left to happen, and {waiting} never decide.");
    }
    let mut timeline = replay.into_timeline(conclusion);
    if failure == Failure::Deadlock && chosen < timeline.len() {
        timeline.aftermath_from = Some(chosen + 1);
        timeline.aftermath_heading =
            "the scheduler's choices end here; every message still in flight is delivered".into();
    }
    timeline
}
