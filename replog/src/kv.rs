//! The key-value state machine both protocols feed through `Commit` actions.
//!
//! Deterministic (nothing depends on hash order: [`KvStore::entries`] sorts) and with
//! duplicate suppression: each client has at most one outstanding command, so remembering the
//! last (seq, result) per client is enough to apply a retried command once and answer the
//! retry with the original result.
//!
//! Every replica applies every command, so applying must not copy: a value is held as the
//! shared [`Op`] that wrote it (the same `Arc` the log entry and every other replica hold),
//! and a result is copied out into a [`KvResult`] only by whoever answers a client
//! ([`KvStore::apply_shared`] and [`SharedResult::to_result`]).

use crate::command::{ClientId, Command, Op};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The outcome of one operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvResult {
    /// A read: the value, or `None` when the key is absent.
    Read(Option<String>),
    /// A put took effect.
    Written,
    /// A compare-and-set: whether it applied.
    Cas { applied: bool },
}

/// What [`KvStore::apply`] did with a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A no-op: nothing to answer.
    Noop,
    /// Applied now for the first time.
    Fresh(KvResult),
    /// The same (client, seq) was applied before: this is the result it had then.
    Duplicate(KvResult),
    /// Older than the client's latest command: the client has moved on, so drop it.
    Stale,
}

impl Applied {
    /// The result to send back to the client, if any.
    pub fn result(&self) -> Option<&KvResult> {
        match self {
            Applied::Fresh(r) | Applied::Duplicate(r) => Some(r),
            Applied::Noop | Applied::Stale => None,
        }
    }
}

/// What [`KvStore::apply_shared`] did: [`Applied`] with results that share their values
/// with the store instead of copying them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharedApplied {
    Noop,
    Fresh(SharedResult),
    Duplicate(SharedResult),
    Stale,
}

impl SharedApplied {
    /// The result to send back to the client, if any.
    pub fn result(&self) -> Option<&SharedResult> {
        match self {
            SharedApplied::Fresh(r) | SharedApplied::Duplicate(r) => Some(r),
            SharedApplied::Noop | SharedApplied::Stale => None,
        }
    }

    /// The same, with its result copied out.
    pub fn to_applied(&self) -> Applied {
        match self {
            SharedApplied::Noop => Applied::Noop,
            SharedApplied::Fresh(r) => Applied::Fresh(r.to_result()),
            SharedApplied::Duplicate(r) => Applied::Duplicate(r.to_result()),
            SharedApplied::Stale => Applied::Stale,
        }
    }
}

/// A [`KvResult`] whose value (for a read) is shared with the store: cloning it copies a
/// pointer.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedResult(Outcome);

#[derive(Clone, PartialEq, Eq)]
enum Outcome {
    Read(Option<Value>),
    Written,
    Cas { applied: bool },
}

impl SharedResult {
    /// The result as clients see it (copies a read's value).
    pub fn to_result(&self) -> KvResult {
        match &self.0 {
            Outcome::Read(v) => KvResult::Read(v.as_ref().map(|v| v.as_str().to_string())),
            Outcome::Written => KvResult::Written,
            Outcome::Cas { applied } => KvResult::Cas { applied: *applied },
        }
    }

    /// A read's value (`None`: absent, or not a read).
    pub fn read_value(&self) -> Option<&str> {
        match &self.0 {
            Outcome::Read(v) => v.as_ref().map(Value::as_str),
            _ => None,
        }
    }
}

impl fmt::Debug for SharedResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_result().fmt(f)
    }
}

/// A stored value: the operation that wrote it (a put's `value` or a cas's `new`).
#[derive(Clone)]
struct Value(Arc<Op>);

impl Value {
    fn as_str(&self) -> &str {
        match &*self.0 {
            Op::Put { value, .. } => value,
            Op::Cas { new, .. } => new,
            Op::Get { .. } => unreachable!("a get writes no value"),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.as_str() == other.as_str()
    }
}

impl Eq for Value {}

/// FxHash (rustc's hasher): fast on short keys and small integers, and deterministic. Nothing
/// here iterates a hash map in hash order, so the hasher cannot leak into results.
type FxMap<K, V> = crate::fxhash::FxHashMap<K, V>;

/// Key-value map plus the per-client session table.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KvStore {
    data: FxMap<Box<str>, Value>,
    sessions: FxMap<ClientId, (u64, SharedResult)>,
    applied_count: u64,
}

impl fmt::Debug for KvStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sessions: Vec<_> = self.sessions.iter().collect();
        sessions.sort_by_key(|(c, _)| **c);
        f.debug_struct("KvStore")
            .field("data", &self.entries().collect::<Vec<_>>())
            .field("sessions", &sessions)
            .field("applied_count", &self.applied_count)
            .finish()
    }
}

impl KvStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one committed command.
    pub fn apply(&mut self, cmd: &Command) -> Applied {
        self.apply_shared(cmd).to_applied()
    }

    /// Applies one committed command without copying any value: a replica that answers no
    /// client never pays for the result's strings.
    pub fn apply_shared(&mut self, cmd: &Command) -> SharedApplied {
        let Command::Client(c) = cmd else {
            return SharedApplied::Noop;
        };
        if let Some((last_seq, last_result)) = self.sessions.get(&c.client) {
            if c.seq == *last_seq {
                return SharedApplied::Duplicate(last_result.clone());
            }
            if c.seq < *last_seq {
                return SharedApplied::Stale;
            }
        }
        let result = SharedResult(self.execute(&c.op));
        self.sessions.insert(c.client, (c.seq, result.clone()));
        self.applied_count += 1;
        SharedApplied::Fresh(result)
    }

    fn execute(&mut self, op: &Arc<Op>) -> Outcome {
        match &**op {
            Op::Get { key } => Outcome::Read(self.data.get(key.as_str()).cloned()),
            Op::Put { key, .. } => {
                self.set(key, op);
                Outcome::Written
            }
            Op::Cas { key, expected, .. } => {
                let current = self.data.get(key.as_str()).map(Value::as_str);
                let applied = current == expected.as_deref();
                if applied {
                    self.set(key, op);
                }
                Outcome::Cas { applied }
            }
        }
    }

    fn set(&mut self, key: &str, op: &Arc<Op>) {
        match self.data.get_mut(key) {
            Some(v) => *v = Value(Arc::clone(op)),
            None => {
                self.data.insert(key.into(), Value(Arc::clone(op)));
            }
        }
    }

    /// The current value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(Value::as_str)
    }

    /// Every key and value, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut all: Vec<(&str, &str)> = self.data.iter().map(|(k, v)| (&**k, v.as_str())).collect();
        all.sort_unstable_by_key(|&(k, _)| k);
        all.into_iter()
    }

    /// FNV-1a over every key and value, in key order: states with the same entries hash
    /// equally. Hosts compare replicas by it (the convergence invariant) without moving whole
    /// stores around.
    pub fn digest(&self) -> u64 {
        let mut h = crate::fnv::Fnv64::new();
        for (k, v) in self.entries() {
            h.bytes(k.as_bytes());
            h.bytes(&[0xff]);
            h.bytes(v.as_bytes());
            h.bytes(&[0xfe]);
        }
        h.finish()
    }

    /// Commands applied for the first time (duplicates and no-ops excluded).
    pub fn applied_count(&self) -> u64 {
        self.applied_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(client: ClientId, seq: u64, key: &str, value: &str) -> Command {
        Command::client(
            client,
            seq,
            Op::Put {
                key: key.into(),
                value: value.into(),
            },
        )
    }

    fn cas(client: ClientId, seq: u64, key: &str, expected: Option<&str>, new: &str) -> Command {
        Command::client(
            client,
            seq,
            Op::Cas {
                key: key.into(),
                expected: expected.map(Into::into),
                new: new.into(),
            },
        )
    }

    #[test]
    fn put_then_get_reads_the_value() {
        let mut kv = KvStore::new();
        kv.apply(&put(1, 1, "x", "a"));
        let read = kv.apply(&Command::client(1, 2, Op::Get { key: "x".into() }));
        assert_eq!(read, Applied::Fresh(KvResult::Read(Some("a".into()))));
    }

    #[test]
    fn cas_applies_only_when_expected_value_matches() {
        let mut kv = KvStore::new();
        assert_eq!(
            kv.apply(&cas(1, 1, "x", None, "a")),
            Applied::Fresh(KvResult::Cas { applied: true })
        );
        assert_eq!(
            kv.apply(&cas(1, 2, "x", Some("b"), "c")),
            Applied::Fresh(KvResult::Cas { applied: false })
        );
        assert_eq!(kv.get("x"), Some("a"));
    }

    #[test]
    fn retried_command_is_applied_once_and_answered_with_the_first_result() {
        let mut kv = KvStore::new();
        kv.apply(&cas(7, 1, "x", None, "a"));
        kv.apply(&put(8, 1, "x", "b"));
        // The retry of client 7's cas would fail now; it must report the original success.
        assert_eq!(
            kv.apply(&cas(7, 1, "x", None, "a")),
            Applied::Duplicate(KvResult::Cas { applied: true })
        );
        assert_eq!(kv.get("x"), Some("b"));
        assert_eq!(kv.applied_count(), 2);
    }

    #[test]
    fn command_older_than_the_clients_latest_is_dropped() {
        let mut kv = KvStore::new();
        kv.apply(&put(1, 5, "x", "new"));
        assert_eq!(kv.apply(&put(1, 4, "x", "old")), Applied::Stale);
        assert_eq!(kv.get("x"), Some("new"));
    }

    #[test]
    fn noop_changes_nothing() {
        let mut kv = KvStore::new();
        assert_eq!(kv.apply(&Command::Noop), Applied::Noop);
        assert_eq!(kv, KvStore::new());
    }

    #[test]
    fn shared_results_copy_out_to_the_plain_results() {
        let mut a = KvStore::new();
        let mut b = KvStore::new();
        let cmds = [
            put(1, 1, "x", "a"),
            Command::client(2, 1, Op::Get { key: "x".into() }),
            cas(1, 2, "x", Some("a"), "b"),
            Command::client(2, 2, Op::Get { key: "y".into() }),
            Command::client(2, 2, Op::Get { key: "y".into() }),
            cas(3, 1, "x", Some("a"), "c"),
            put(1, 1, "x", "old"),
            Command::Noop,
        ];
        for cmd in &cmds {
            let shared = a.apply_shared(cmd);
            assert_eq!(shared.to_applied(), b.apply(cmd), "{cmd:?}");
        }
        assert_eq!(a, b);
        let read = a.apply_shared(&Command::client(4, 1, Op::Get { key: "x".into() }));
        assert_eq!(read.result().and_then(SharedResult::read_value), Some("b"));
    }

    #[test]
    fn entries_come_in_key_order_and_equal_states_compare_equal() {
        let mut a = KvStore::new();
        let mut b = KvStore::new();
        for (i, k) in ["m", "b", "z", "a"].into_iter().enumerate() {
            a.apply(&put(1, i as u64 + 1, k, k));
        }
        for (i, k) in ["a", "z", "b", "m"].into_iter().enumerate() {
            b.apply(&put(1, i as u64 + 1, k, k));
        }
        let keys: Vec<&str> = a.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "m", "z"]);
        // Same data and sessions, reached in another order.
        assert_eq!(a, b);
        b.apply(&put(1, 5, "a", "other"));
        assert_ne!(a, b);
    }
}
