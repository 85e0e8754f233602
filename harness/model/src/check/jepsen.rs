//! A reader for Jepsen's register logs, the format of the etcd histories that Porcupine and
//! Knossos are tested on (`shared/testdata/jepsen-etcd`).
//!
//! One operation event per line, fields separated by tabs or spaces:
//!
//! ```text
//! INFO  jepsen.util - 3    :invoke    :cas    [1 4]
//! INFO  jepsen.util - 3    :ok    :cas    [1 4]
//! INFO  jepsen.util - 0    :invoke    :read    nil
//! INFO  jepsen.util - 0    :fail    :read    :timed-out
//! INFO  jepsen.util - 2    :info    :write    :timed-out
//! ```
//!
//! Values are integers or `nil`; a cas carries `[expected new]`. Everything is one register,
//! the key [`KEY`]. The line number stands in for time (the log is in real-time order).
//! Blank lines and the nemesis's lines (process `:nemesis`) are skipped; anything else that
//! does not parse is an error naming the file and line.

use crate::history::{self, Event, EventType, Fun, HistoryError, Operation};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;

/// The key every operation of a Jepsen register log is on.
pub const KEY: &str = "register";

/// Reads a Jepsen log file into paired operations.
pub fn read_log(path: &Path) -> Result<Vec<Operation>, HistoryError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| HistoryError::Io {
        path: name.clone(),
        source,
    })?;
    parse_log(std::io::BufReader::new(file), &name)
}

/// Parses a Jepsen log from any reader; `name` labels errors.
pub fn parse_log(reader: impl BufRead, name: &str) -> Result<Vec<Operation>, HistoryError> {
    let mut events = Vec::new();
    // The line of each event, to name lines in pairing errors.
    let mut lines = Vec::new();
    for numbered in history::numbered_lines(reader, name) {
        let (line, text) = numbered?;
        let event = parse_line(&text, line as u64).map_err(|reason| HistoryError::Malformed {
            path: name.to_string(),
            line,
            reason,
        })?;
        if let Some(event) = event {
            events.push(event);
            lines.push(line);
        }
    }
    history::pair_numbered(&events, &lines, name)
}

/// One line as an event; `None` for a line to skip.
fn parse_line(text: &str, time: u64) -> Result<Option<Event>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    let ["INFO", "jepsen.util", "-", process, kind, f, value @ ..] = fields.as_slice() else {
        return Err(format!(
            "expected `INFO jepsen.util - PROCESS TYPE FUNCTION VALUE`, found {text:?}"
        ));
    };
    if *process == ":nemesis" {
        return Ok(None);
    }
    // A cas's `[expected new]` holds a space; put it back together.
    let value = value.join(" ");
    let process: u64 = process
        .parse()
        .map_err(|_| format!("process must be a number or :nemesis, found {process:?}"))?;
    let kind = match *kind {
        ":invoke" => EventType::Invoke,
        ":ok" => EventType::Ok,
        ":fail" => EventType::Fail,
        ":info" => EventType::Info,
        other => return Err(format!("unknown type {other:?}")),
    };
    let f = match *f {
        ":read" => Fun::Read,
        ":write" => Fun::Write,
        ":cas" => Fun::Cas,
        other => return Err(format!("unknown function {other:?}")),
    };
    let value = event_value(kind, f, &value)?;
    Ok(Some(Event {
        process,
        kind,
        f,
        key: KEY.into(),
        value: history::Value::from_json(value),
        time,
    }))
}

/// The event's value in the `history.jsonl` convention. A failed or unknown completion's value
/// (usually `:timed-out`) says nothing about the register and is dropped.
fn event_value(kind: EventType, f: Fun, value: &str) -> Result<Value, String> {
    match (kind, f) {
        (EventType::Fail | EventType::Info, _) => Ok(Value::Null),
        (EventType::Invoke, Fun::Read) if value == "nil" => Ok(Value::Null),
        (EventType::Invoke, Fun::Read) => Err(format!("a read's invocation carries nil, found {value:?}")),
        (EventType::Ok, Fun::Read) => integer_or_nil(value),
        (_, Fun::Write) => match integer_or_nil(value)? {
            Value::Null => Err("a write's value must not be nil".into()),
            v => Ok(v),
        },
        (_, Fun::Cas) => {
            let pair = value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or_else(|| format!("a cas carries [expected new], found {value:?}"))?;
            let mut parts = pair.split_whitespace();
            let (Some(expected), Some(new), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!("a cas carries [expected new], found {value:?}"));
            };
            match integer_or_nil(new)? {
                Value::Null => Err("a cas's new value must not be nil".into()),
                new => Ok(Value::Array(vec![integer_or_nil(expected)?, new])),
            }
        }
    }
}

fn integer_or_nil(text: &str) -> Result<Value, String> {
    if text == "nil" {
        return Ok(Value::Null);
    }
    text.parse::<i64>()
        .map(|n| Value::String(n.to_string()))
        .map_err(|_| format!("expected an integer or nil, found {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Call, Outcome};

    fn parse(text: &str) -> Result<Vec<Operation>, HistoryError> {
        parse_log(text.as_bytes(), "t.log")
    }

    #[test]
    fn tab_and_space_separated_lines_pair_into_operations() {
        let ops = parse(concat!(
            "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\n",
            "INFO  jepsen.util - 0   :invoke :read   nil\n",
            "INFO  jepsen.util - 3\t:ok\t:cas\t[1 4]\n",
            "INFO  jepsen.util - 0   :ok     :read   4\n",
        ))
        .unwrap();
        assert_eq!(
            ops[0].call,
            Call::Cas {
                expected: Some("1".into()),
                new: "4".into()
            }
        );
        assert_eq!((ops[0].invoke_ns, ops[0].complete_ns), (1, Some(3)));
        assert_eq!(ops[1].outcome, Outcome::Ok(Some("4".into())));
        assert!(ops.iter().all(|o| &*o.key == KEY));
    }

    #[test]
    fn timeouts_are_unknown_and_failed_reads_fail() {
        let ops = parse(concat!(
            "INFO  jepsen.util - 2\t:invoke\t:write\t1\n",
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n",
            "INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n",
            "INFO  jepsen.util - 1\t:fail\t:read\t:timed-out\n",
        ))
        .unwrap();
        assert_eq!(
            (ops[0].outcome.clone(), ops[0].complete_ns),
            (Outcome::Info, None)
        );
        assert_eq!(ops[1].outcome, Outcome::Fail);
    }

    #[test]
    fn nemesis_and_blank_lines_are_skipped() {
        let ops = parse("INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\n")
            .unwrap();
        assert_eq!((ops.len(), ops[0].invoke_ns), (1, 3));
    }

    #[test]
    fn garbage_is_an_error_naming_the_line() {
        let cases = [
            ("INFO  jepsen.util - 1\t:invoke\t:read\tnil\nhello\n", "t.log:2:"),
            ("INFO  jepsen.util - 1\t:invoke\t:write\tbanana\n", "t.log:1:"),
            ("INFO  jepsen.util - 1\t:invoke\t:cas\t[1]\n", "t.log:1:"),
            ("INFO  jepsen.util - x\t:invoke\t:read\tnil\n", "t.log:1:"),
            ("INFO  jepsen.util - 1\t:begin\t:read\tnil\n", "t.log:1:"),
            ("INFO  jepsen.util - 1\t:invoke\t:incr\t1\n", "t.log:1:"),
            ("\nINFO  jepsen.util - 1\t:ok\t:read\t1\n", "t.log:2:"),
        ];
        for (text, at) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(at), "{text:?}: {err}");
        }
    }
}
