//! The key-value state machine both protocols feed through `Commit` actions.
//!
//! Deterministic (ordered maps only) and with duplicate suppression: each client has at most
//! one outstanding command, so remembering the last (seq, result) per client is enough to
//! apply a retried command once and answer the retry with the original result.

use crate::command::{ClientId, Command, Op};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

/// Ordered key-value map plus the per-client session table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    data: BTreeMap<String, String>,
    sessions: BTreeMap<ClientId, (u64, KvResult)>,
    applied_count: u64,
}

impl KvStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one committed command.
    pub fn apply(&mut self, cmd: &Command) -> Applied {
        let Command::Client(c) = cmd else {
            return Applied::Noop;
        };
        if let Some((last_seq, last_result)) = self.sessions.get(&c.client) {
            if c.seq == *last_seq {
                return Applied::Duplicate(last_result.clone());
            }
            if c.seq < *last_seq {
                return Applied::Stale;
            }
        }
        let result = self.execute(&c.op);
        self.sessions.insert(c.client, (c.seq, result.clone()));
        self.applied_count += 1;
        Applied::Fresh(result)
    }

    fn execute(&mut self, op: &Op) -> KvResult {
        match op {
            Op::Get { key } => KvResult::Read(self.data.get(key).cloned()),
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                KvResult::Written
            }
            Op::Cas { key, expected, new } => {
                let applied = self.data.get(key) == expected.as_ref();
                if applied {
                    self.data.insert(key.clone(), new.clone());
                }
                KvResult::Cas { applied }
            }
        }
    }

    /// The current value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(String::as_str)
    }

    /// Every key and value, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.data.iter().map(|(k, v)| (k.as_str(), v.as_str()))
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
}
