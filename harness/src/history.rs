//! Client histories: the `history.jsonl` format (Jepsen/Porcupine style) and the paired
//! operations the checker works on.
//!
//! One JSON object per line:
//!
//! ```json
//! {"process":3,"type":"invoke","f":"cas","key":"k7","value":["3-12","3-14"],"time":1200000}
//! {"process":3,"type":"ok","f":"cas","key":"k7","value":["3-12","3-14"],"time":1950000}
//! ```
//!
//! - `process`: the client; it has at most one operation outstanding.
//! - `type`: `invoke` when the client sends; then `ok` (took effect, with this result),
//!   `fail` (definitely did not take effect) or `info` (unknown: timeout, crash).
//! - `f`: `read`, `write` or `cas`.
//! - `value`: a read's `invoke` carries `null` and its `ok` the value read (`null`: absent);
//!   a write carries the value written; a cas carries `[expected, new]` (`expected` `null`:
//!   the key must be absent). A cas `fail` means the register did not hold `expected`.
//! - `time`: nanoseconds (virtual time in the simulator, wall time since start when live).
//! - Written values are unique per key (the workbench writes `"<client>-<seq>"`, padded to the
//!   value size), which keeps linearizability checking fast.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::Path;
use thiserror::Error;

/// `type` of a history event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// `f` of a history event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fun {
    Read,
    Write,
    Cas,
}

/// One line of `history.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub process: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub f: Fun,
    pub key: String,
    pub value: serde_json::Value,
    pub time: u64,
}

/// What an operation asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    Read,
    Write(String),
    Cas { expected: Option<String>, new: String },
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Took effect. For a read, the value it returned.
    Ok(Option<String>),
    /// Definitely did not take effect (for a cas: the register did not hold `expected`).
    Fail,
    /// May or may not have taken effect.
    Info,
}

/// An invocation paired with its completion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    pub process: u64,
    pub key: String,
    pub call: Call,
    pub outcome: Outcome,
    pub invoke_ns: u64,
    /// `None` when the operation never completed (`info`, or no completion at all).
    pub complete_ns: Option<u64>,
}

/// A malformed history, with the line at fault.
#[derive(Debug, Error)]
pub enum HistoryError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Malformed {
        path: String,
        line: usize,
        reason: String,
    },
}

impl Event {
    /// The invocation of `call` by `process` at `time`.
    pub fn invoke(process: u64, key: &str, call: &Call, time: u64) -> Event {
        let (f, value) = call_json(call);
        Event {
            process,
            kind: EventType::Invoke,
            f,
            key: key.to_string(),
            value,
            time,
        }
    }

    /// The completion of `call` with `outcome`.
    pub fn complete(process: u64, key: &str, call: &Call, outcome: &Outcome, time: u64) -> Event {
        let (f, mut value) = call_json(call);
        let kind = match outcome {
            Outcome::Ok(read) => {
                if matches!(call, Call::Read) {
                    value = read
                        .clone()
                        .map_or(serde_json::Value::Null, serde_json::Value::String);
                }
                EventType::Ok
            }
            Outcome::Fail => EventType::Fail,
            Outcome::Info => EventType::Info,
        };
        Event {
            process,
            kind,
            f,
            key: key.to_string(),
            value,
            time,
        }
    }
}

fn opt_json(v: &Option<String>) -> serde_json::Value {
    v.clone()
        .map_or(serde_json::Value::Null, serde_json::Value::String)
}

fn call_json(call: &Call) -> (Fun, serde_json::Value) {
    match call {
        Call::Read => (Fun::Read, serde_json::Value::Null),
        Call::Write(v) => (Fun::Write, serde_json::Value::String(v.clone())),
        Call::Cas { expected, new } => (
            Fun::Cas,
            serde_json::Value::Array(vec![opt_json(expected), serde_json::Value::String(new.clone())]),
        ),
    }
}

fn json_opt_string(v: &serde_json::Value) -> Result<Option<String>, String> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(format!("expected a string or null, found {other}")),
    }
}

fn parse_call(f: Fun, value: &serde_json::Value) -> Result<Call, String> {
    match f {
        Fun::Read => Ok(Call::Read),
        Fun::Write => json_opt_string(value)?
            .map(Call::Write)
            .ok_or_else(|| "a write's value must not be null".to_string()),
        Fun::Cas => match value {
            serde_json::Value::Array(pair) if pair.len() == 2 => Ok(Call::Cas {
                expected: json_opt_string(&pair[0])?,
                new: json_opt_string(&pair[1])?.ok_or("a cas's new value must not be null")?,
            }),
            other => Err(format!("a cas's value must be [expected, new], found {other}")),
        },
    }
}

/// Writes events as JSON Lines.
pub fn write_jsonl(events: &[Event], out: &mut impl Write) -> std::io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut *out, e)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Reads `history.jsonl`; an error names the file and line.
pub fn read_jsonl(path: &Path) -> Result<Vec<Event>, HistoryError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| HistoryError::Io {
        path: name.clone(),
        source,
    })?;
    parse_jsonl(std::io::BufReader::new(file), &name)
}

/// Parses JSON Lines from any reader; `name` labels errors.
pub fn parse_jsonl(reader: impl BufRead, name: &str) -> Result<Vec<Event>, HistoryError> {
    let mut events = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| HistoryError::Io {
            path: name.to_string(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let event: Event = serde_json::from_str(&line).map_err(|e| HistoryError::Malformed {
            path: name.to_string(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        events.push(event);
    }
    Ok(events)
}

/// Pairs each invocation with its process's next completion. An invocation with no
/// completion becomes `Outcome::Info`. Errors name the event (1-based position in `events`).
pub fn pair(events: &[Event], name: &str) -> Result<Vec<Operation>, HistoryError> {
    let bad = |line: usize, reason: String| HistoryError::Malformed {
        path: name.to_string(),
        line,
        reason,
    };
    // Open invocations by process: index into `ops`.
    let mut open: std::collections::BTreeMap<u64, usize> = Default::default();
    let mut ops: Vec<Operation> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let line = i + 1;
        match e.kind {
            EventType::Invoke => {
                if let Some(&prev) = open.get(&e.process) {
                    return Err(bad(
                        line,
                        format!(
                            "process {} invokes again while its operation from line {} is open",
                            e.process,
                            prev + 1
                        ),
                    ));
                }
                let call = parse_call(e.f, &e.value).map_err(|r| bad(line, r))?;
                open.insert(e.process, ops.len());
                ops.push(Operation {
                    process: e.process,
                    key: e.key.clone(),
                    call,
                    outcome: Outcome::Info,
                    invoke_ns: e.time,
                    complete_ns: None,
                });
            }
            kind => {
                let Some(idx) = open.remove(&e.process) else {
                    return Err(bad(
                        line,
                        format!("process {} completes an operation it never invoked", e.process),
                    ));
                };
                let op = &mut ops[idx];
                if op.key != e.key || call_json(&op.call).0 != e.f {
                    return Err(bad(
                        line,
                        "completion does not match its invocation's f and key".into(),
                    ));
                }
                if e.time < op.invoke_ns {
                    return Err(bad(line, "completion is earlier than its invocation".into()));
                }
                op.outcome = match kind {
                    EventType::Ok => match op.call {
                        Call::Read => Outcome::Ok(json_opt_string(&e.value).map_err(|r| bad(line, r))?),
                        _ => Outcome::Ok(None),
                    },
                    EventType::Fail => Outcome::Fail,
                    _ => Outcome::Info,
                };
                if kind != EventType::Info {
                    op.complete_ns = Some(e.time);
                }
            }
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_jsonl() {
        let call = Call::Cas {
            expected: None,
            new: "1-1".into(),
        };
        let events = vec![
            Event::invoke(1, "k", &call, 10),
            Event::complete(1, "k", &call, &Outcome::Ok(None), 20),
        ];
        let mut buf = Vec::new();
        write_jsonl(&events, &mut buf).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.starts_with(
            r#"{"process":1,"type":"invoke","f":"cas","key":"k","value":[null,"1-1"],"time":10}"#
        ));
        assert_eq!(parse_jsonl(&buf[..], "h").unwrap(), events);
    }

    #[test]
    fn a_malformed_line_is_reported_with_its_number() {
        let text = "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":1}\n{oops}\n";
        let err = parse_jsonl(text.as_bytes(), "h.jsonl").unwrap_err();
        assert!(err.to_string().starts_with("h.jsonl:2:"), "{err}");
    }

    #[test]
    fn an_invocation_without_completion_pairs_as_info() {
        let events = vec![Event::invoke(1, "k", &Call::Write("a".into()), 5)];
        let ops = pair(&events, "h").unwrap();
        assert_eq!(
            (ops[0].outcome.clone(), ops[0].complete_ns),
            (Outcome::Info, None)
        );
    }

    #[test]
    fn a_second_invoke_while_one_is_open_is_an_error() {
        let w = Call::Write("a".into());
        let events = vec![Event::invoke(1, "k", &w, 5), Event::invoke(1, "k", &w, 6)];
        assert!(pair(&events, "h").unwrap_err().to_string().contains("h:2:"));
    }
}
