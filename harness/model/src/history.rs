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
//!
//! Keys and values are shared strings (`Arc<str>`): a run's history has millions of events
//! carrying the same few keys and each value two or three times, so events, operations and
//! the workload's bookkeeping share one copy of each instead of allocating their own.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
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
    pub key: Arc<str>,
    pub value: Value,
    pub time: u64,
}

/// The `value` of an event. The shapes the workbench writes have their own variants (shared
/// strings, no JSON tree); anything else read from a file is kept as JSON for [`pair`] to
/// judge. Serializes exactly as the JSON it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `null`.
    Null,
    /// A string.
    Str(Arc<str>),
    /// `[expected, new]` with `expected` a string or `null` and `new` a string (a cas).
    Pair(Option<Arc<str>>, Arc<str>),
    /// Any other JSON.
    Json(serde_json::Value),
}

impl Value {
    /// The value for this JSON, in its most specific variant.
    pub fn from_json(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::String(s) => Value::Str(s.into()),
            serde_json::Value::Array(items) => match <[serde_json::Value; 2]>::try_from(items) {
                Ok([serde_json::Value::Null, serde_json::Value::String(new)]) => {
                    Value::Pair(None, new.into())
                }
                Ok(
                    [
                        serde_json::Value::String(expected),
                        serde_json::Value::String(new),
                    ],
                ) => Value::Pair(Some(expected.into()), new.into()),
                Ok(pair) => Value::Json(serde_json::Value::Array(pair.into())),
                Err(items) => Value::Json(serde_json::Value::Array(items)),
            },
            other => Value::Json(other),
        }
    }

    /// The same value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let s = |v: &Arc<str>| serde_json::Value::String(v.to_string());
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Str(v) => s(v),
            Value::Pair(expected, new) => {
                serde_json::Value::Array(vec![expected.as_ref().map_or(serde_json::Value::Null, s), s(new)])
            }
            Value::Json(v) => v.clone(),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Str(v) => serializer.serialize_str(v),
            Value::Pair(expected, new) => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element(&expected.as_deref())?;
                seq.serialize_element(&**new)?;
                seq.end()
            }
            Value::Json(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Value::from_json)
    }
}

/// What an operation asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    Read,
    Write(Arc<str>),
    Cas {
        expected: Option<Arc<str>>,
        new: Arc<str>,
    },
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Took effect. For a read, the value it returned.
    Ok(Option<Arc<str>>),
    /// Definitely did not take effect (for a cas: the register did not hold `expected`).
    Fail,
    /// May or may not have taken effect.
    Info,
}

/// An invocation paired with its completion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    pub process: u64,
    pub key: Arc<str>,
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
    pub fn invoke(process: u64, key: &Arc<str>, call: &Call, time: u64) -> Event {
        let (f, value) = call_value(call);
        Event {
            process,
            kind: EventType::Invoke,
            f,
            key: Arc::clone(key),
            value,
            time,
        }
    }

    /// The completion of `call` with `outcome`.
    pub fn complete(process: u64, key: &Arc<str>, call: &Call, outcome: &Outcome, time: u64) -> Event {
        let (f, mut value) = call_value(call);
        let kind = match outcome {
            Outcome::Ok(read) => {
                if matches!(call, Call::Read) {
                    value = read.clone().map_or(Value::Null, Value::Str);
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
            key: Arc::clone(key),
            value,
            time,
        }
    }
}

fn call_fun(call: &Call) -> Fun {
    match call {
        Call::Read => Fun::Read,
        Call::Write(_) => Fun::Write,
        Call::Cas { .. } => Fun::Cas,
    }
}

fn call_value(call: &Call) -> (Fun, Value) {
    let value = match call {
        Call::Read => Value::Null,
        Call::Write(v) => Value::Str(Arc::clone(v)),
        Call::Cas { expected, new } => Value::Pair(expected.clone(), Arc::clone(new)),
    };
    (call_fun(call), value)
}

fn json_opt_string(v: &serde_json::Value) -> Result<Option<Arc<str>>, String> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s.as_str().into())),
        serde_json::Value::Number(n) => Ok(Some(n.to_string().into())),
        other => Err(format!("expected a string or null, found {other}")),
    }
}

fn opt_string(v: &Value) -> Result<Option<Arc<str>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Str(s) => Ok(Some(Arc::clone(s))),
        other => json_opt_string(&other.to_json()),
    }
}

fn parse_call(f: Fun, value: &Value) -> Result<Call, String> {
    match f {
        Fun::Read => Ok(Call::Read),
        Fun::Write => opt_string(value)?
            .map(Call::Write)
            .ok_or_else(|| "a write's value must not be null".to_string()),
        Fun::Cas => {
            let pair = match value {
                Value::Pair(expected, new) => {
                    return Ok(Call::Cas {
                        expected: expected.clone(),
                        new: Arc::clone(new),
                    });
                }
                Value::Json(serde_json::Value::Array(pair)) => pair.as_slice(),
                _ => &[],
            };
            let [expected, new] = pair else {
                return Err(format!(
                    "a cas's value must be [expected, new], found {}",
                    value.to_json()
                ));
            };
            Ok(Call::Cas {
                expected: json_opt_string(expected)?,
                new: json_opt_string(new)?.ok_or("a cas's new value must not be null")?,
            })
        }
    }
}

/// Writes events as JSON Lines, byte for byte as `serde_json` writes each [`Event`], but
/// without going through its serializer: a run's history has millions of lines.
pub fn write_jsonl(events: &[Event], out: &mut impl Write) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    for e in events {
        write_event(e, &mut buf);
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

/// Appends one event and its newline to `buf`.
fn write_event(e: &Event, buf: &mut Vec<u8>) {
    buf.extend_from_slice(b"{\"process\":");
    push_u64(buf, e.process);
    buf.extend_from_slice(match e.kind {
        EventType::Invoke => b",\"type\":\"invoke\",\"f\":\"",
        EventType::Ok => b",\"type\":\"ok\",\"f\":\"",
        EventType::Fail => b",\"type\":\"fail\",\"f\":\"",
        EventType::Info => b",\"type\":\"info\",\"f\":\"",
    });
    buf.extend_from_slice(match e.f {
        Fun::Read => b"read\",\"key\":",
        Fun::Write => b"write\",\"key\":",
        Fun::Cas => b"cas\",\"key\":",
    });
    push_str(buf, &e.key);
    buf.extend_from_slice(b",\"value\":");
    match &e.value {
        Value::Null => buf.extend_from_slice(b"null"),
        Value::Str(v) => push_str(buf, v),
        Value::Pair(expected, new) => {
            buf.push(b'[');
            match expected {
                Some(v) => push_str(buf, v),
                None => buf.extend_from_slice(b"null"),
            }
            buf.push(b',');
            push_str(buf, new);
            buf.push(b']');
        }
        Value::Json(v) => serde_json::to_writer(&mut *buf, v).expect("writing to memory"),
    }
    buf.extend_from_slice(b",\"time\":");
    push_u64(buf, e.time);
    buf.extend_from_slice(b"}\n");
}

/// A JSON string: as is when nothing needs escaping (the common case), else as `serde_json`
/// escapes it.
fn push_str(buf: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        serde_json::to_writer(&mut *buf, s).expect("writing to memory");
    }
}

/// Whether JSON needs any byte of `s` escaped: a control character, `"` or `\\`. Eight bytes
/// at a time (a false alarm would only take the slow path).
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut chunks = s.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let below_space = x.wrapping_sub(0x20 * ONES) & !x & HIGH != 0;
        if below_space || has_zero(x ^ (b'"' as u64 * ONES)) || has_zero(x ^ (b'\\' as u64 * ONES)) {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A number in decimal (also used for `ops.csv`).
pub fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Reads `history.jsonl`; an error names the file and line.
pub fn read_jsonl(path: &Path) -> Result<Vec<Event>, HistoryError> {
    let name = path.display().to_string();
    let file = open(path)?;
    parse_jsonl(std::io::BufReader::new(file), &name)
}

/// Reads `history.jsonl` and pairs its events into operations; an error, in the JSON or in
/// the pairing (a completion with no invocation, a second invocation while one is open, a
/// value of the wrong shape), names the file and line.
pub fn read_operations(path: &Path) -> Result<Vec<Operation>, HistoryError> {
    let name = path.display().to_string();
    let file = open(path)?;
    parse_operations(std::io::BufReader::new(file), &name)
}

fn open(path: &Path) -> Result<std::fs::File, HistoryError> {
    std::fs::File::open(path).map_err(|source| HistoryError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Parses JSON Lines from any reader; `name` labels errors.
pub fn parse_jsonl(reader: impl BufRead, name: &str) -> Result<Vec<Event>, HistoryError> {
    Ok(parse_numbered(reader, name)?.0)
}

/// Parses JSON Lines and pairs them (see [`read_operations`]).
pub fn parse_operations(reader: impl BufRead, name: &str) -> Result<Vec<Operation>, HistoryError> {
    let (events, lines) = parse_numbered(reader, name)?;
    pair_numbered(&events, &lines, name)
}

/// The events, and the line each came from (blank lines are skipped).
fn parse_numbered(reader: impl BufRead, name: &str) -> Result<(Vec<Event>, Vec<usize>), HistoryError> {
    let mut events = Vec::new();
    let mut lines = Vec::new();
    for line in numbered_lines(reader, name) {
        let (number, text) = line?;
        if text.trim().is_empty() {
            continue;
        }
        let event: Event = serde_json::from_str(&text).map_err(|e| HistoryError::Malformed {
            path: name.to_string(),
            line: number,
            reason: e.to_string(),
        })?;
        events.push(event);
        lines.push(number);
    }
    Ok((events, lines))
}

/// The lines of `reader` with their numbers (from 1). A line that is not UTF-8 is an error
/// naming it, not an I/O error without a place.
pub(crate) fn numbered_lines<'a>(
    mut reader: impl BufRead + 'a,
    name: &'a str,
) -> impl Iterator<Item = Result<(usize, String), HistoryError>> + 'a {
    let mut number = 0;
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        buf.clear();
        number += 1;
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => None,
            Ok(_) => {
                let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                Some(
                    String::from_utf8(text.to_vec())
                        .map(|t| (number, t))
                        .map_err(|e| HistoryError::Malformed {
                            path: name.to_string(),
                            line: number,
                            reason: format!(
                                "not UTF-8 text (byte {} of the line)",
                                e.utf8_error().valid_up_to()
                            ),
                        }),
                )
            }
            Err(source) => Some(Err(HistoryError::Io {
                path: name.to_string(),
                source,
            })),
        }
    })
}

/// Pairs each invocation with its process's next completion. An invocation with no
/// completion becomes `Outcome::Info`. Errors name the event by its 1-based position in
/// `events` (readers of files use [`pair_numbered`] to name the file's lines).
pub fn pair(events: &[Event], name: &str) -> Result<Vec<Operation>, HistoryError> {
    pair_numbered(events, &[], name)
}

/// [`pair`], where event `i` came from line `lines[i]` of file `name` (an event without a
/// line is named by its position).
pub(crate) fn pair_numbered(
    events: &[Event],
    lines: &[usize],
    name: &str,
) -> Result<Vec<Operation>, HistoryError> {
    let bad = |line: usize, reason: String| HistoryError::Malformed {
        path: name.to_string(),
        line,
        reason,
    };
    // Open invocations by process: index into `ops`, and the invocation's line.
    let mut open: replog::fxhash::FxHashMap<u64, (usize, usize)> = Default::default();
    let mut ops: Vec<Operation> = Vec::with_capacity(events.len() / 2 + 1);
    for (i, e) in events.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(i + 1);
        match e.kind {
            EventType::Invoke => {
                if let Some(&(_, invoked_at)) = open.get(&e.process) {
                    return Err(bad(
                        line,
                        format!(
                            "process {} invokes again while its operation from line {invoked_at} is open",
                            e.process,
                        ),
                    ));
                }
                let call = parse_call(e.f, &e.value).map_err(|r| bad(line, r))?;
                open.insert(e.process, (ops.len(), line));
                ops.push(Operation {
                    process: e.process,
                    key: Arc::clone(&e.key),
                    call,
                    outcome: Outcome::Info,
                    invoke_ns: e.time,
                    complete_ns: None,
                });
            }
            kind => {
                let Some((idx, _)) = open.remove(&e.process) else {
                    return Err(bad(
                        line,
                        format!("process {} completes an operation it never invoked", e.process),
                    ));
                };
                let Some(op) = ops.get_mut(idx) else {
                    return Err(bad(line, format!("process {} has no open operation", e.process)));
                };
                if op.key != e.key || call_fun(&op.call) != e.f {
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
                        Call::Read => Outcome::Ok(opt_string(&e.value).map_err(|r| bad(line, r))?),
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
            Event::invoke(1, &"k".into(), &call, 10),
            Event::complete(1, &"k".into(), &call, &Outcome::Ok(None), 20),
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
    fn write_jsonl_writes_what_serde_json_writes() {
        let text = r#"{"process":18446744073709551615,"type":"ok","f":"read","key":"k\"\\\n\u0001é/","value":"v\t\"x\u001f","time":0}
{"process":0,"type":"invoke","f":"cas","key":"k1","value":[null,"1-1"],"time":7}
{"process":0,"type":"fail","f":"cas","key":"k1","value":["a\\b","1-1"],"time":9}
{"process":3,"type":"info","f":"write","key":"k2","value":17,"time":10}
{"process":3,"type":"invoke","f":"cas","key":"k2","value":[1,"x"],"time":11}
{"process":4,"type":"invoke","f":"write","key":"k2","value":{"a":[1,null]},"time":12}
{"process":5,"type":"ok","f":"read","key":"","value":null,"time":13}
"#;
        let events = parse_jsonl(text.as_bytes(), "h").unwrap();
        assert!(matches!(events[1].value, Value::Pair(None, _)));
        assert!(matches!(events[4].value, Value::Json(_)));
        let mut expected = Vec::new();
        for e in &events {
            serde_json::to_writer(&mut expected, e).unwrap();
            expected.push(b'\n');
        }
        let mut ours = Vec::new();
        write_jsonl(&events, &mut ours).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        let ops = pair(&events[1..3], "h").unwrap();
        assert_eq!(
            (&ops[0].call, &ops[0].outcome),
            (
                &Call::Cas {
                    expected: None,
                    new: "1-1".into()
                },
                &Outcome::Fail
            )
        );
    }

    #[test]
    fn needs_escape_finds_every_byte_json_escapes() {
        for b in 0..=255u8 {
            let expected = b < 0x20 || b == b'"' || b == b'\\';
            for len in [1, 7, 8, 9, 16, 23] {
                for at in 0..len {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    assert_eq!(needs_escape(&s), expected, "byte {b:#x} at {at} of {len}");
                }
            }
        }
        assert!(!needs_escape("é€😀 plain/text".as_bytes()));
    }

    #[test]
    fn a_malformed_line_is_reported_with_its_number() {
        let text = "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":1}\n{oops}\n";
        let err = parse_jsonl(text.as_bytes(), "h.jsonl").unwrap_err();
        assert!(err.to_string().starts_with("h.jsonl:2:"), "{err}");
    }

    #[test]
    fn every_kind_of_malformed_history_is_an_error_naming_its_line() {
        let invoke = r#"{"process":1,"type":"invoke","f":"write","key":"k","value":"a","time":1}"#;
        let cases = [
            (
                "\n\n{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":1}\n",
                3,
                "never invoked",
            ),
            (
                &format!("{invoke}\n\n{invoke}\n") as &str,
                3,
                "invokes again while its operation from line 1 is open",
            ),
            (
                "{\"process\":1,\"type\":\"invoke\",\"f\":\"incr\",\"key\":\"k\",\"value\":1,\"time\":1}\n",
                1,
                "unknown variant",
            ),
            (
                "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":{\"a\":1},\"time\":1}\n",
                1,
                "expected a string",
            ),
            (
                "{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[1],\"time\":1}\n",
                1,
                "[expected, new]",
            ),
            (
                "{\"process\":\"one\",\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":1}\n",
                1,
                "invalid type",
            ),
            (
                &format!(
                    "{invoke}\n{}\n",
                    invoke.replace("invoke", "ok").replace(":1}", ":0}")
                ) as &str,
                2,
                "earlier than",
            ),
            ("{\"process\":1,\"type\":\"invoke\"", 1, "EOF"),
        ];
        for (text, line, reason) in cases {
            let err = parse_operations(text.as_bytes(), "h.jsonl")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("h.jsonl:{line}:")) && err.contains(reason),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error_naming_it() {
        let err = parse_jsonl(&b"\n\xff\xfe\n"[..], "h.jsonl")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("h.jsonl:2: not UTF-8"), "{err}");
    }

    #[test]
    fn an_invocation_without_completion_pairs_as_info() {
        let events = vec![Event::invoke(1, &"k".into(), &Call::Write("a".into()), 5)];
        let ops = pair(&events, "h").unwrap();
        assert_eq!(
            (ops[0].outcome.clone(), ops[0].complete_ns),
            (Outcome::Info, None)
        );
    }

    #[test]
    fn a_second_invoke_while_one_is_open_is_an_error() {
        let w = Call::Write("a".into());
        let k: Arc<str> = "k".into();
        let events = vec![Event::invoke(1, &k, &w, 5), Event::invoke(1, &k, &w, 6)];
        assert!(pair(&events, "h").unwrap_err().to_string().contains("h:2:"));
    }
}
