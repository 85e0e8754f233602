//! The rule table in `src/lib.rs` names, for every rule, the functions (and types) that
//! implement it and the file each lives in. This checks that every one of them exists
//! there, so the table cannot drift from the code. (`paxos/tests/rule_table.rs` is the same.)

use std::path::Path;

/// The `where` cells of the table under `# Rules` in `lib.rs`: (row's rule, cell).
fn where_cells(lib: &str) -> Vec<(String, String)> {
    let mut in_rules = false;
    let mut cells = Vec::new();
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if doc.starts_with("# ") {
            in_rules = doc == "# Rules";
            continue;
        }
        if !in_rules || !doc.starts_with('|') || doc.starts_with("| rule ") || doc.starts_with("| ---") {
            continue;
        }
        let columns: Vec<&str> = doc.split(" | ").collect();
        assert_eq!(columns.len(), 3, "a rule row has three columns: {doc}");
        cells.push((
            columns[0].trim_start_matches("| ").to_string(),
            columns[1].to_string(),
        ));
    }
    cells
}

/// The (name, file) pairs of one cell: "`a`, `b` (x.rs), `c` (y.rs)".
fn names_and_files(cell: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut pending = Vec::new();
    let mut rest = cell;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`') {
            let end = after.find('`').expect("closing backtick");
            pending.push(after[..end].to_string());
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('(') {
            let end = after.find(')').expect("closing parenthesis");
            let file = after[..end].to_string();
            assert!(file.ends_with(".rs"), "a file after the names: {cell}");
            pairs.extend(pending.drain(..).map(|name| (name, file.clone())));
            rest = &after[end + 1..];
        } else {
            rest = &rest[rest.chars().next().map_or(1, char::len_utf8)..];
        }
    }
    assert!(pending.is_empty(), "names without a file: {pending:?} in {cell}");
    pairs
}

#[test]
fn every_function_the_rule_table_names_exists_in_the_file_it_gives() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let cells = where_cells(&lib);
    assert!(cells.len() >= 10, "the rule table has its rows ({})", cells.len());
    let mut missing = Vec::new();
    for (rule, cell) in &cells {
        for (name, file) in names_and_files(cell) {
            let code = std::fs::read_to_string(src.join(&file)).unwrap_or_default();
            let found = [
                format!("fn {name}("),
                format!("fn {name}<"),
                format!("struct {name} "),
                format!("enum {name} "),
            ]
            .iter()
            .any(|decl| code.contains(decl.as_str()));
            if !found {
                missing.push(format!("`{name}` ({file}), for \"{rule}\""));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the rule table names what does not exist:\n{}",
        missing.join("\n")
    );
}
