//! Whose fault a panic is: the protocol's, or the harness's.
//!
//! A panic inside protocol code (one of the protocol's own assertions) is a finding about the
//! protocol: the simulator records it as a `ProtocolAssertion` violation and halts the run.
//! Any other panic (the clients, the fault layer, the simulator itself, the state machine the
//! simulator applies commits to) is a bug of the harness, which must never be counted against
//! a protocol: it ends the run as a [`HarnessError`] naming the scenario, seed and event.
//!
//! Protocol code runs inside a [`ProtocolCode`] guard, and the harness callbacks it makes
//! (persist, send, commit) inside a [`HarnessCode`] guard. When a panic unwinds through a
//! guard, the innermost one records its side; [`catch`] reports that side with the panic.

use model::protocol::Protocol;
use replog::{Nanos, NodeId};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use thiserror::Error;

/// Whose code a panic came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The protocol of this node.
    Protocol(NodeId),
    Harness,
}

thread_local! {
    /// The node whose protocol code is running on this thread, if any.
    static RUNNING: Cell<Option<NodeId>> = const { Cell::new(None) };
    /// Where the panic unwinding now started, recorded by the innermost guard it crossed.
    static ORIGIN: Cell<Option<Origin>> = const { Cell::new(None) };
}

/// Whether a panic now would come from protocol code.
pub fn in_protocol_code() -> bool {
    RUNNING.with(|r| r.get().is_some())
}

/// Marks the protocol code of `node` until dropped.
pub(crate) struct ProtocolCode {
    outer: Option<NodeId>,
}

impl ProtocolCode {
    pub(crate) fn enter(node: NodeId) -> Self {
        ProtocolCode {
            outer: RUNNING.with(|r| r.replace(Some(node))),
        }
    }
}

impl Drop for ProtocolCode {
    fn drop(&mut self) {
        let node = RUNNING.with(|r| r.replace(self.outer));
        if std::thread::panicking()
            && let Some(node) = node
        {
            record(Origin::Protocol(node));
        }
    }
}

/// Marks harness code that protocol code calls back into, until dropped.
pub(crate) struct HarnessCode {
    outer: Option<NodeId>,
}

impl HarnessCode {
    pub(crate) fn enter() -> Self {
        HarnessCode {
            outer: RUNNING.with(|r| r.replace(None)),
        }
    }
}

impl Drop for HarnessCode {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(self.outer));
        if std::thread::panicking() {
            record(Origin::Harness);
        }
    }
}

/// The first guard a panic crosses is the innermost: it alone decides.
fn record(origin: Origin) {
    ORIGIN.with(|o| {
        if o.get().is_none() {
            o.set(Some(origin));
        }
    });
}

/// A panic caught by [`catch`].
pub(crate) struct Caught {
    pub origin: Origin,
    pub message: String,
    /// The payload, to resume unwinding with.
    pub payload: Box<dyn std::any::Any + Send>,
}

/// Runs `f`, catching a panic and telling where it came from (code outside any guard is the
/// harness's).
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    ORIGIN.with(|o| o.set(None));
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Caught {
        origin: ORIGIN.with(|o| o.take()).unwrap_or(Origin::Harness),
        message: panic_message(&*payload),
        payload,
    })
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .or_else(|| payload.downcast_ref::<HarnessPanic>().map(|p| p.message.clone()))
        .unwrap_or_else(|| "(a panic without a message)".into())
}

/// The payload a harness panic inside [`crate::Simulation::run_until`] continues with: the
/// panic, and the simulated time and event at which it happened.
#[derive(Clone, Debug)]
pub struct HarnessPanic {
    pub at_ns: Nanos,
    pub event: String,
    pub message: String,
}

/// A run that the harness could not finish because of its own bug: never a finding about
/// the protocol.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error(
    "harness error (a bug of the workbench, not of {protocol}): scenario {scenario}, protocol {protocol}, \
     seed {seed}, at {at_ns} ns, while {event}: {message}"
)]
pub struct HarnessError {
    pub scenario: String,
    pub protocol: Protocol,
    pub seed: u64,
    pub at_ns: Nanos,
    /// What the harness was doing: the simulator event it was handling, or the phase.
    pub event: String,
    pub message: String,
}

impl HarnessError {
    /// The error for a panic that unwound out of a run of (`scenario`, `protocol`, `seed`);
    /// `phase` says what was running when the panic did not come from the event loop.
    pub fn from_panic(
        payload: &(dyn std::any::Any + Send),
        scenario: &str,
        protocol: Protocol,
        seed: u64,
        phase: &str,
    ) -> Self {
        let (at_ns, event, message) = match payload.downcast_ref::<HarnessPanic>() {
            Some(p) => (p.at_ns, p.event.clone(), p.message.clone()),
            None => (0, phase.to_string(), panic_message(payload)),
        };
        HarnessError {
            scenario: scenario.to_string(),
            protocol,
            seed,
            at_ns,
            event,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_protocol_code_is_the_protocols() {
        let caught = catch(|| {
            let _code = ProtocolCode::enter(NodeId(2));
            panic!("chosen value changed");
        })
        .err()
        .unwrap();
        assert_eq!(
            (caught.origin, caught.message.as_str()),
            (Origin::Protocol(NodeId(2)), "chosen value changed")
        );
    }

    #[test]
    fn a_panic_in_a_harness_callback_from_protocol_code_is_the_harnesss() {
        let caught = catch(|| {
            let _protocol = ProtocolCode::enter(NodeId(0));
            let _callback = HarnessCode::enter();
            panic!("storage full");
        })
        .err()
        .unwrap();
        assert_eq!(caught.origin, Origin::Harness);
        assert!(!in_protocol_code());
    }

    #[test]
    fn a_panic_outside_any_guard_is_the_harnesss() {
        let caught = catch(|| panic!("index out of bounds")).err().unwrap();
        assert_eq!(caught.origin, Origin::Harness);
    }
}
