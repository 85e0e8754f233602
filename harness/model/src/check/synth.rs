//! Seeded synthetic histories for testing and benchmarking the checker.
//!
//! Clients run operations against a simulated atomic register store: each operation gets a
//! random interval and, inside it, a random linearization point at which it takes effect, so
//! the history is linearizable by construction. Some outcomes are made unknown (`info`: the
//! client gave up; the operation took effect at some later time, or never) and some writes
//! fail (never applied). Written values are unique (`"<client>-<seq>"`), as the workbench's.
//!
//! A [`Bug`] turns such a history into one that is not linearizable, at an operation chosen
//! where the violation is certain (the overwritten write finished before the overwriting one
//! began, which finished before the read began).

use crate::history::{Call, Operation, Outcome};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// The shape of a synthetic history.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub seed: u64,
    pub clients: u64,
    pub keys: usize,
    pub ops: usize,
    /// Fractions of reads and writes; the rest are cas.
    pub read_fraction: f64,
    pub write_fraction: f64,
    /// Fraction of operations whose outcome is unknown.
    pub info_fraction: f64,
    /// Fraction of writes that fail.
    pub fail_fraction: f64,
    pub latency_ns_max: u64,
    pub think_ns_max: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            seed: 1,
            clients: 8,
            keys: 4,
            ops: 1_000,
            read_fraction: 0.5,
            write_fraction: 0.3,
            info_fraction: 0.02,
            fail_fraction: 0.02,
            latency_ns_max: 1_000_000,
            think_ns_max: 200_000,
        }
    }
}

/// A way to break linearizability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// One read returns the value an acknowledged write had already overwritten before the
    /// read began.
    StaleRead,
    /// An acknowledged write is never seen: every read that saw it sees the previous value.
    LostWrite,
    /// A cas is reported as failed although it applied: a read still returns its new value.
    FailedCasTookEffect,
}

impl Bug {
    /// Every bug, for tests that must catch each one.
    pub const ALL: [Bug; 3] = [Bug::StaleRead, Bug::LostWrite, Bug::FailedCasTookEffect];
}

/// A history with an injected bug.
#[derive(Clone, Debug)]
pub struct Injected {
    pub ops: Vec<Operation>,
    /// The operation at fault: the stale read, the lost write, or the cas reported as failed.
    pub culprit: usize,
}

/// A linearizable history of `w.ops` operations, ordered by invocation.
pub fn linearizable(w: &Workload) -> Vec<Operation> {
    Simulation::run(w).ops
}

/// A history that is not linearizable, or `None` if the workload gives the bug no place.
pub fn with_bug(w: &Workload, bug: Bug) -> Option<Injected> {
    let mut sim = Simulation::run(w);
    // A separate stream, so the history around the bug is the linearizable one.
    let mut rng = ChaCha8Rng::seed_from_u64(w.seed ^ 0x05ee_db06);
    let culprit = match bug {
        Bug::StaleRead => {
            let reads: Vec<usize> = (0..sim.ops.len())
                .filter(|&r| sim.stale_read_site(r).is_some())
                .collect();
            let read = *reads.get(rng.random_range(0..reads.len().max(1)))?;
            let old = sim.stale_read_site(read)?;
            sim.ops[read].outcome = Outcome::Ok(sim.value_of(old));
            read
        }
        Bug::LostWrite => {
            let writes: Vec<usize> = (0..sim.ops.len())
                .filter(|&i| sim.lost_write_site(i).is_some())
                .collect();
            let write = *writes.get(rng.random_range(0..writes.len().max(1)))?;
            let old = sim.value_of(sim.lost_write_site(write)?);
            for r in 0..sim.ops.len() {
                if sim.truth[r].read_from == Some(Some(write)) {
                    sim.ops[r].outcome = Outcome::Ok(old.clone());
                }
            }
            write
        }
        Bug::FailedCasTookEffect => {
            // Written values are unique, so once the cas is reported as failed nothing can
            // explain a read of its new value.
            let seen = |i: usize| (0..sim.ops.len()).any(|r| sim.truth[r].read_from == Some(Some(i)));
            let cases: Vec<usize> = (0..sim.ops.len())
                .filter(|&i| {
                    matches!(
                        (&sim.ops[i].call, &sim.ops[i].outcome),
                        (Call::Cas { .. }, Outcome::Ok(_))
                    )
                })
                .filter(|&i| seen(i))
                .collect();
            let cas = *cases.get(rng.random_range(0..cases.len().max(1)))?;
            sim.ops[cas].outcome = Outcome::Fail;
            cas
        }
    };
    Some(Injected {
        ops: sim.ops,
        culprit,
    })
}

/// What really happened to an operation.
#[derive(Clone, Copy, Debug, Default)]
struct Truth {
    /// For an `ok` read: the operation whose value it read (`None`: the initial absence).
    read_from: Option<Option<usize>>,
    /// For an applied write or cas: the operation whose value it replaced.
    overwrote: Option<Option<usize>>,
}

struct Simulation {
    /// Ordered by invocation.
    ops: Vec<Operation>,
    truth: Vec<Truth>,
}

/// A planned operation, before the store decides its outcome.
struct Plan {
    process: u64,
    key: usize,
    call: Call,
    invoke: u64,
    /// `None`: the client gave up (`info`).
    complete: Option<u64>,
    /// When it takes effect; `None`: never.
    effect_at: Option<u64>,
}

impl Simulation {
    fn run(w: &Workload) -> Simulation {
        let mut rng = ChaCha8Rng::seed_from_u64(w.seed);
        let mut plans = plan(w, &mut rng);

        // Invocations (which choose a cas's expected value from the store) and effects, in
        // time order; at equal times invocations first.
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * plans.len());
        for (i, p) in plans.iter().enumerate() {
            events.push((p.invoke, false, i));
            if let Some(t) = p.effect_at {
                events.push((t, true, i));
            }
        }
        events.sort_unstable();

        let mut store: Vec<(Option<Arc<str>>, Option<usize>)> = vec![(None, None); w.keys];
        let mut previous: Vec<Option<Arc<str>>> = vec![None; w.keys];
        let mut outcomes: Vec<Outcome> = plans
            .iter()
            .map(|p| {
                if p.complete.is_none() {
                    Outcome::Info
                } else {
                    Outcome::Fail
                }
            })
            .collect();
        let mut truth = vec![Truth::default(); plans.len()];
        for (_, is_effect, i) in events {
            let p = &mut plans[i];
            let (current, writer) = &mut store[p.key];
            if !is_effect {
                if let Call::Cas { expected, .. } = &mut p.call {
                    // Mostly the current value, so that a good share of cas operations apply.
                    *expected = if rng.random_bool(0.75) {
                        current.clone()
                    } else {
                        previous[p.key].clone()
                    };
                }
                continue;
            }
            let replace = match &p.call {
                Call::Read => {
                    if p.complete.is_some() {
                        truth[i].read_from = Some(*writer);
                        outcomes[i] = Outcome::Ok(current.clone());
                    }
                    None
                }
                Call::Write(v) => Some(v.clone()),
                Call::Cas { expected, new } => (expected == current).then(|| new.clone()),
            };
            if let Some(v) = replace {
                truth[i].overwrote = Some(*writer);
                previous[p.key] = current.replace(v);
                *writer = Some(i);
                if !matches!(p.call, Call::Read) {
                    outcomes[i] = Outcome::Ok(None);
                }
            }
            if p.complete.is_none() {
                outcomes[i] = Outcome::Info;
            }
        }

        let mut order: Vec<usize> = (0..plans.len()).collect();
        order.sort_by_key(|&i| (plans[i].invoke, plans[i].process));
        let mut position = vec![0; plans.len()];
        for (pos, &i) in order.iter().enumerate() {
            position[i] = pos;
        }
        let remap = |t: Option<Option<usize>>| t.map(|o| o.map(|i| position[i]));
        Simulation {
            ops: order
                .iter()
                .map(|&i| Operation {
                    process: plans[i].process,
                    key: format!("k{}", plans[i].key).into(),
                    call: plans[i].call.clone(),
                    outcome: outcomes[i].clone(),
                    invoke_ns: plans[i].invoke,
                    complete_ns: plans[i].complete,
                })
                .collect(),
            truth: order
                .iter()
                .map(|&i| Truth {
                    read_from: remap(truth[i].read_from),
                    overwrote: remap(truth[i].overwrote),
                })
                .collect(),
        }
    }

    /// The value operation `writer` wrote (`None`: the initial absence).
    fn value_of(&self, writer: Option<usize>) -> Option<Arc<str>> {
        writer.map(|w| match &self.ops[w].call {
            Call::Write(v) | Call::Cas { new: v, .. } => v.clone(),
            Call::Read => unreachable!("a read wrote nothing"),
        })
    }

    /// Whether `a` completed (acknowledged) before `b` was invoked; the initial state
    /// precedes everything.
    fn precedes(&self, a: Option<usize>, b: usize) -> bool {
        a.is_none_or(|a| {
            self.ops[a].outcome != Outcome::Info
                && self.ops[a].complete_ns.is_some_and(|t| t < self.ops[b].invoke_ns)
        })
    }

    /// If `read` can be made stale for certain: the writer whose value it should then return.
    fn stale_read_site(&self, read: usize) -> Option<Option<usize>> {
        let writer = self.truth[read].read_from??;
        let old = self.truth[writer].overwrote?;
        (self.precedes(Some(writer), read) && self.precedes(old, writer)).then_some(old)
    }

    /// If `write` can be lost for certain: the writer whose value its readers should see.
    fn lost_write_site(&self, write: usize) -> Option<Option<usize>> {
        if !matches!(self.ops[write].call, Call::Write(_)) {
            return None;
        }
        let old = self.truth[write].overwrote?;
        let seen_later = (0..self.ops.len())
            .any(|r| self.truth[r].read_from == Some(Some(write)) && self.precedes(Some(write), r));
        (seen_later && self.precedes(old, write)).then_some(old)
    }
}

/// Each client's operations back to back: random key, kind, latency and effect point.
fn plan(w: &Workload, rng: &mut ChaCha8Rng) -> Vec<Plan> {
    let mut plans = Vec::with_capacity(w.ops);
    for client in 0..w.clients {
        let count = w.ops / w.clients as usize + usize::from((client as usize) < w.ops % w.clients as usize);
        let mut now = rng.random_range(0..=w.think_ns_max);
        for seq in 0..count {
            let key = rng.random_range(0..w.keys);
            let value = format!("{client}-{seq}");
            let kind = rng.random::<f64>();
            let call = if kind < w.read_fraction {
                Call::Read
            } else if kind < w.read_fraction + w.write_fraction {
                Call::Write(value.into())
            } else {
                Call::Cas {
                    expected: None, // chosen at invocation, from the store
                    new: value.into(),
                }
            };
            let invoke = now;
            let latency = rng.random_range(1..=w.latency_ns_max);
            let (complete, effect_at) = if rng.random_bool(w.info_fraction) {
                // The client times out; the request may still take effect, even much later.
                let effect = rng
                    .random_bool(0.5)
                    .then(|| invoke + rng.random_range(0..=3 * w.latency_ns_max));
                now = invoke + w.latency_ns_max;
                (None, effect)
            } else if matches!(call, Call::Write(_)) && rng.random_bool(w.fail_fraction) {
                now = invoke + latency;
                (Some(now), None)
            } else {
                now = invoke + latency;
                (Some(now), Some(rng.random_range(invoke..=now)))
            };
            plans.push(Plan {
                process: client,
                key,
                call,
                invoke,
                complete,
                effect_at,
            });
            now += rng.random_range(0..=w.think_ns_max);
        }
    }
    plans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let w = Workload::default();
        assert_eq!(linearizable(&w), linearizable(&w));
        let other = Workload { seed: 2, ..w.clone() };
        assert_ne!(linearizable(&w), linearizable(&other));
    }

    #[test]
    fn a_history_has_every_kind_of_outcome() {
        let ops = linearizable(&Workload::default());
        assert_eq!(ops.len(), 1_000);
        let count = |f: &dyn Fn(&Operation) -> bool| ops.iter().filter(|o| f(o)).count();
        assert!(count(&|o| matches!(o.outcome, Outcome::Info)) > 0);
        assert!(count(&|o| matches!((&o.call, &o.outcome), (Call::Cas { .. }, Outcome::Ok(_)))) > 0);
        assert!(count(&|o| matches!((&o.call, &o.outcome), (Call::Cas { .. }, Outcome::Fail))) > 0);
        assert!(count(&|o| matches!((&o.call, &o.outcome), (Call::Write(_), Outcome::Fail))) > 0);
        assert!(ops.windows(2).all(|w| w[0].invoke_ns <= w[1].invoke_ns));
    }

    #[test]
    fn a_stale_read_returns_a_value_overwritten_before_it_began() {
        let injected = with_bug(&Workload::default(), Bug::StaleRead).unwrap();
        let clean = linearizable(&Workload::default());
        let differ: Vec<usize> = (0..clean.len())
            .filter(|&i| clean[i] != injected.ops[i])
            .collect();
        assert_eq!(differ, vec![injected.culprit]);
        assert_eq!(injected.ops[injected.culprit].call, Call::Read);
    }

    #[test]
    fn a_failed_cas_that_took_effect_is_a_cas_whose_value_is_read() {
        let w = Workload::default();
        let injected = with_bug(&w, Bug::FailedCasTookEffect).unwrap();
        let clean = linearizable(&w);
        let differ: Vec<usize> = (0..clean.len())
            .filter(|&i| clean[i] != injected.ops[i])
            .collect();
        assert_eq!(differ, vec![injected.culprit]);
        let cas = &injected.ops[injected.culprit];
        let Call::Cas { new, .. } = &cas.call else {
            panic!("the culprit is not a cas: {cas:?}");
        };
        assert_eq!(cas.outcome, Outcome::Fail);
        let read_back = Outcome::Ok(Some(new.clone()));
        assert!(
            injected
                .ops
                .iter()
                .any(|o| o.call == Call::Read && o.outcome == read_back)
        );
    }
}
