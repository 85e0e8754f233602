//! Finding the line of a field in scenario text, so that an error found after parsing (by
//! validation) names the line as a syntax error does.
//!
//! The text is parsed a second time into toml's spanned document tree and the field path
//! (`faults[2].target`, `workload.mix.read`) is walked as far as it exists: a field that is
//! missing is reported at the table that lacks it.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// " (line N: `source line`)" for `field` in `text`, or "" when the text does not parse.
pub(crate) fn field_location(text: &str, field: &str) -> String {
    match field_offset(text, field) {
        Some(offset) => line_location(text, offset),
        None => String::new(),
    }
}

/// " (line N: `source line`)" for the byte `offset` of `text` (clamped to the text).
pub(crate) fn line_location(text: &str, offset: usize) -> String {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let src = text.lines().nth(line - 1).unwrap_or("").trim();
    format!(" (line {line}: `{src}`)")
}

/// The byte offset where `field` (or the deepest table on its path that exists) starts.
fn field_offset(text: &str, field: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut node: Spanned<DeValue> = Spanned::new(root.span(), DeValue::Table(root.into_inner()));
    let mut offset = None;
    for segment in path(field) {
        let next = match &segment {
            Segment::Key(key) => node.get_ref().get(key.as_str()),
            Segment::Index(i) => match node.get_ref() {
                // `[faults]` as a table keeps its fixed faults in `schedule`.
                DeValue::Table(_) => node.get_ref().get("schedule").and_then(|s| s.get_ref().get(*i)),
                _ => node.get_ref().get(*i),
            },
        };
        let Some(next) = next.cloned() else { break };
        offset = Some(next.span().start);
        node = next;
    }
    offset.or(Some(0))
}

/// The path of the innermost field whose value holds byte `offset` (`faults[2].extra`), for
/// an error the deserializer reports by position only (a wrong type, a bad duration). `None`
/// when the text does not parse as TOML at all.
pub(crate) fn field_at(text: &str, offset: usize) -> Option<String> {
    let root = DeTable::parse(text).ok()?;
    let mut best: Option<(usize, String)> = None;
    innermost(&DeValue::Table(root.into_inner()), "", offset, &mut best);
    // `[faults] schedule = [...]` holds what `[[faults]]` would: one path for both.
    best.map(|(_, path)| path.replace("faults.schedule[", "faults["))
}

/// Walks every value under `value` (whose path is `path`), keeping in `best` the narrowest
/// one whose span holds `offset`. Tables are always entered: their own spans cover only part
/// of their text (a header, say).
fn innermost(value: &DeValue, path: &str, offset: usize, best: &mut Option<(usize, String)>) {
    let mut visit = |child: &Spanned<DeValue>, path: String| {
        let span = child.span();
        if span.contains(&offset) && best.as_ref().is_none_or(|(len, _)| span.len() <= *len) {
            *best = Some((span.len(), path.clone()));
        }
        innermost(child.get_ref(), &path, offset, best);
    };
    match value {
        DeValue::Table(t) => {
            for (k, v) in t.iter() {
                let key: &str = k.get_ref();
                visit(
                    v,
                    if path.is_empty() {
                        key.to_string()
                    } else {
                        format!("{path}.{key}")
                    },
                );
            }
        }
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                visit(v, format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

enum Segment {
    Key(String),
    Index(usize),
}

/// `faults[2].groups[1]` as `faults`, 2, `groups`, 1. A segment that is neither (such as
/// `(syntax)`) ends the path.
fn path(field: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in field.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            break;
        }
        out.push(Segment::Key(key.to_string()));
        while let Some((index, after)) = rest.split_once(']') {
            let Ok(i) = index.parse() else { return out };
            out.push(Segment::Index(i));
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\nduration = \"1s\"\n\n[workload]\nclients = 0\n\n[[faults]]\nat = \"1s\"\naction = \"crash\"\n\n[[faults]]\nat = \"2s\"\naction = \"bridge\"\n";

    #[test]
    fn a_present_field_is_found_on_its_own_line() {
        assert_eq!(
            field_location(TEXT, "workload.clients"),
            " (line 5: `clients = 0`)"
        );
        assert_eq!(
            field_location(TEXT, "faults[1].action"),
            " (line 13: `action = \"bridge\"`)"
        );
    }

    #[test]
    fn a_missing_field_is_reported_at_the_table_that_lacks_it() {
        let at = field_location(TEXT, "faults[1].target");
        assert!(at.starts_with(" (line 1"), "{at}");
    }

    #[test]
    fn the_field_at_an_offset_is_named_by_its_path() {
        let offset = TEXT.find("\"bridge\"").unwrap() + 1;
        assert_eq!(field_at(TEXT, offset).as_deref(), Some("faults[1].action"));
    }

    #[test]
    fn text_that_does_not_parse_gives_no_location() {
        assert_eq!(field_location("name = ", "name"), "");
    }
}
