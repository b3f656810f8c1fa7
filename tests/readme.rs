//! The README is tested against the code: every key the manifest schema accepts appears in
//! its reference tables with its type (and every key there is one the schema accepts), and
//! the command lines of its shell examples parse with the service commands' real parser.

use std::collections::BTreeMap;

use clap::{Parser, Subcommand};
use service_manifest::cli::{ServiceArgs, ServiceCommand};
use service_manifest_core::keys;

const README: &str = include_str!("../README.md");

/// The reference table under the line that names `header` (`` `[[binaries]]` ``): key → type cell.
fn documented(header: &str) -> BTreeMap<String, String> {
    let heading = format!("`{header}`");
    let lines: Vec<&str> = README.lines().collect();
    let table_after = |i: usize| lines[i + 1..].iter().copied().skip_while(|l| l.trim().is_empty());
    let start = (0..lines.len())
        .find(|&i| lines[i].starts_with(&heading) && table_after(i).next().is_some_and(|l| l.starts_with('|')))
        .unwrap_or_else(|| panic!("no {heading} table"));
    let mut rows = BTreeMap::new();
    let table = table_after(start).take_while(|l| l.starts_with('|'));
    for line in table.skip(2) {
        let cells: Vec<&str> = split_row(line);
        // `crate` / `crate_name`: each spelling is a key.
        for name in cells[0].split('/').map(|n| n.trim().trim_matches('`')) {
            assert!(rows.insert(name.to_owned(), cells[1].trim().to_owned()).is_none(), "{name} twice under {header}");
        }
    }
    assert!(!rows.is_empty(), "the {header} table has no rows");
    rows
}

/// The cells of a Markdown table row; `\|` inside a cell is not a separator.
fn split_row(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = Vec::new();
    let (mut from, bytes) = (0, inner.as_bytes());
    for i in 0..bytes.len() {
        if bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\') {
            cells.push(&inner[from..i]);
            from = i + 1;
        }
    }
    cells.push(&inner[from..]);
    cells
}

#[test]
fn every_schema_key_is_in_the_readme_with_its_type_and_nothing_else_is() {
    for table in keys::DOCUMENTED {
        let rows = documented(table.header);
        let names: Vec<&str> = rows.keys().map(String::as_str).collect();
        let mut expected = table.names();
        expected.sort_unstable();
        assert_eq!(names, expected, "the README's {} table against the schema", table.header);
        for key in table.keys {
            let cell = &rows[key.name];
            assert!(
                cell.starts_with(&key.value.readme()),
                "{}: `{}` is documented as `{cell}`, the schema says `{}`",
                table.header,
                key.name,
                key.value.readme()
            );
        }
    }
}

#[test]
fn the_readme_names_no_issue_numbers() {
    for (n, line) in README.lines().enumerate() {
        let hash = line.match_indices('#').any(|(i, _)| line[i + 1..].starts_with(|c: char| c.is_ascii_digit()));
        assert!(!hash && !line.to_lowercase().contains("issue "), "README line {}: {line}", n + 1);
    }
}

/// The example CLIs' parsers: the service commands (the product), plus the few flags and
/// subcommands the examples add of their own.
#[derive(Parser, Debug)]
struct Example {
    #[arg(long)]
    config: Option<String>,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    binaries: bool,
    #[command(flatten)]
    service: ServiceArgs,
    #[command(subcommand)]
    command: Option<Own>,
}

#[derive(Subcommand, Debug)]
enum Own {
    Service(ServiceCommand),
    Add { title: String },
    List,
}

/// The command lines of the README's `sh` blocks that run an example or `mycli`: their
/// arguments, without comments, redirections or leading environment assignments.
fn shell_examples() -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    let mut in_sh = false;
    for (n, line) in README.lines().enumerate() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let code = line.split(" #").next().unwrap_or_default().split(" > ").next().unwrap_or_default();
        let words: Vec<&str> = code.split_whitespace().skip_while(|w| w.contains('=') && !w.starts_with('-')).collect();
        let args = match words.as_slice() {
            ["cargo", "run", "--example", _, "--", rest @ ..] => rest,
            ["mycli", rest @ ..] => rest,
            _ => continue,
        };
        found.push((n + 1, args.iter().map(|w| w.to_string()).collect()));
    }
    found
}

#[test]
fn the_readmes_command_lines_parse_with_the_real_parser() {
    let examples = shell_examples();
    assert!(examples.len() >= 15, "only {} command lines found", examples.len());
    for (line, args) in examples {
        let parsed = Example::try_parse_from(std::iter::once("mycli".to_owned()).chain(args.iter().cloned()));
        let parsed = parsed.unwrap_or_else(|e| panic!("README line {line}: `{}` does not parse:\n{e}", args.join(" ")));
        let asks = parsed.service.is_given() || parsed.command.is_some() || parsed.binaries;
        assert!(asks, "README line {line}: `{}` asks for nothing", args.join(" "));
    }
}
