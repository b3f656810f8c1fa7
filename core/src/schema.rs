//! Reads the spanned TOML tree into a raw manifest that keeps a byte span for every
//! value a later check may need to point at.
//!
//! This layer knows the format: which keys exist, their types, their alias forms.
//! It reports what is wrong with one key at a time and carries on; cross-key and
//! cross-entry rules live in `validate`.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::context::{Ctxt, Strictness};
use crate::diagnostic::{Diagnostic, Severity};
use crate::vocab::{BinaryKind, BinaryReady, ReadyGate, Relation, RestartPolicy};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct At<T> {
    pub value: T,
    pub span: Range<usize>,
}

#[derive(Debug, Default)]
pub(crate) struct RawManifest {
    pub service_name: Option<At<String>>,
    pub service_description: Option<String>,
    /// `[service] profiles`: the profiles items may name.
    pub profiles: Vec<At<String>>,
    /// Where `binaries` was written, if at all.
    pub binaries_span: Option<Range<usize>>,
    pub binaries: Vec<RawBinary>,
    pub dependencies: Vec<RawDependency>,
}

#[derive(Debug)]
pub(crate) struct RawBinary {
    pub name: Option<At<String>>,
    pub kind: Option<At<BinaryKind>>,
    pub spawned_by: Option<At<String>>,
    pub socket: Option<At<String>>,
    pub args: Vec<At<String>>,
    pub env: Vec<(At<String>, At<String>)>,
    pub after: Vec<At<String>>,
    pub start_timeout_ms: Option<u64>,
    pub restart: Option<RestartPolicy>,
    pub description: Option<String>,
    pub profiles: Vec<At<String>>,
    pub ready: Option<At<BinaryReady>>,
    pub watchdog: Option<At<u64>>,
    pub health: Option<RawHealth>,
}

impl RawBinary {
    /// Its kind is known and it is not a started one (see [`crate::vocab::is_started`]); a
    /// binary of unknown kind is neither, so no second error follows the first.
    pub(crate) fn never_started(&self) -> bool {
        self.kind.as_ref().is_some_and(|k| !crate::vocab::is_started(k.value, self.spawned_by.is_some()))
    }
}

/// `[binaries.health]`, as written.
#[derive(Debug)]
pub(crate) struct RawHealth {
    /// Where the table was written (its header, or the inline table).
    pub span: Range<usize>,
    pub interval_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub retries: Option<At<i64>>,
    pub start_period_ms: Option<u64>,
    pub start_interval_ms: Option<u64>,
    pub send: Option<At<String>>,
    pub expect: Option<At<String>>,
    /// The command and where the array was written.
    pub exec: Option<At<Vec<At<String>>>>,
}

#[derive(Debug)]
pub(crate) struct RawDependency {
    pub header: Range<usize>,
    pub repo: Option<At<String>>,
    pub crate_name: Option<At<String>>,
    pub bin: Option<At<String>>,
    pub socket: Option<At<String>>,
    pub relation: Option<Relation>,
    pub ready: Option<At<ReadyGate>>,
    pub timeout_ms: Option<u64>,
    pub applies_to: Vec<At<String>>,
    pub profiles: Vec<At<String>>,
}

/// Parses `source` and reads it; TOML syntax errors and per-key problems go to `cx`.
pub(crate) fn read(source: &str, cx: &mut Ctxt) -> RawManifest {
    let (root, syntax_errors) = DeTable::parse_recoverable(source);
    for error in syntax_errors {
        let span = error.span().unwrap_or(0..0);
        cx.error(format!("TOML syntax error: {}", error.message().trim_end()), span);
    }
    let top = Fields::new(root.get_ref(), "the top level");
    let mut raw = RawManifest::default();

    if let Some(service) = top.table(cx, "service", "a table (`[service]`)") {
        let f = Fields::new(service, "[service]");
        raw.service_name = f.string(cx, "name");
        raw.service_description = f.string(cx, "description").map(|d| d.value);
        raw.profiles = f.strings(cx, "profiles");
        f.finish(cx, &crate::keys::SERVICE);
    }
    if let Some((span, entries)) = top.tables(cx, "binaries") {
        raw.binaries_span = Some(span);
        raw.binaries = entries.into_iter().map(|(header, t)| read_binary(cx, header, t)).collect();
    }
    if let Some((_, entries)) = top.tables(cx, "dependencies") {
        raw.dependencies = entries.into_iter().map(|(header, t)| read_dependency(cx, header, t)).collect();
    }
    top.finish(cx, &crate::keys::TOP);
    raw
}

fn read_binary(cx: &mut Ctxt, header: Range<usize>, table: &DeTable<'_>) -> RawBinary {
    let f = Fields::new(table, "[[binaries]]");
    let binary = RawBinary {
        name: f.required_string(cx, "name", &header),
        kind: match f.enumerated(cx, "kind", BinaryKind::parse, BinaryKind::NAMES) {
            None if !f.has("kind") => {
                f.missing(cx, "kind", &header, BinaryKind::NAMES);
                None
            }
            kind => kind,
        },
        spawned_by: f.string(cx, "spawned_by"),
        socket: f.string(cx, "socket"),
        args: f.strings(cx, "args"),
        env: f.string_table(cx, "env"),
        after: f.strings(cx, "after"),
        start_timeout_ms: f.duration(cx, "start_timeout"),
        restart: f.enumerated(cx, "restart", RestartPolicy::parse, RestartPolicy::NAMES).map(|r| r.value),
        description: f.string(cx, "description").map(|d| d.value),
        profiles: f.strings(cx, "profiles"),
        ready: f.enumerated(cx, "ready", BinaryReady::parse, BinaryReady::NAMES),
        watchdog: f.duration_at(cx, "watchdog"),
        health: f.table(cx, "health", "a table (`[binaries.health]`)").map(|t| read_health(cx, &f, t)),
    };
    f.finish(cx, &crate::keys::BINARY);
    binary
}

fn read_health(cx: &mut Ctxt, binary: &Fields<'_, '_>, table: &DeTable<'_>) -> RawHealth {
    let f = Fields::new(table, "[binaries.health]");
    let exec = f.get("exec").map(|value| At { value: f.strings(cx, "exec"), span: value.span() });
    let health = RawHealth {
        span: binary.key_span("health").unwrap_or(0..0),
        interval_ms: f.duration(cx, "interval"),
        timeout_ms: f.duration(cx, "timeout"),
        retries: f.integer(cx, "retries"),
        start_period_ms: f.duration(cx, "start_period"),
        start_interval_ms: f.duration(cx, "start_interval"),
        send: f.string(cx, "send"),
        expect: f.string(cx, "expect"),
        exec,
    };
    f.finish(cx, &crate::keys::HEALTH);
    health
}

fn read_dependency(cx: &mut Ctxt, header: Range<usize>, table: &DeTable<'_>) -> RawDependency {
    let f = Fields::new(table, "[[dependencies]]");
    let dependency = RawDependency {
        repo: f.required_string(cx, "repo", &header),
        crate_name: f.string_either(cx, "crate", "crate_name"),
        bin: f.string_either(cx, "bin", "bin_name"),
        socket: f.string_either(cx, "socket", "socket_name"),
        relation: f.enumerated(cx, "relation", Relation::parse, Relation::NAMES).map(|r| r.value),
        ready: f.enumerated(cx, "ready", ReadyGate::parse, ReadyGate::NAMES),
        timeout_ms: f.duration(cx, "timeout"),
        applies_to: f.strings(cx, "applies_to"),
        profiles: f.strings(cx, "profiles"),
        header,
    };
    f.finish(cx, &crate::keys::DEPENDENCY);
    dependency
}

/// The keys of one table, read one by one; `finish` reports the ones nobody asked for.
struct Fields<'t, 'i> {
    table: &'t DeTable<'i>,
    what: &'static str,
}

type Value<'t, 'i> = &'t Spanned<DeValue<'i>>;
/// An array of tables: where it was written, and each table with its header's span.
type Tables<'t, 'i> = (Range<usize>, Vec<(Range<usize>, &'t DeTable<'i>)>);

impl<'t, 'i> Fields<'t, 'i> {
    fn new(table: &'t DeTable<'i>, what: &'static str) -> Self {
        Self { table, what }
    }

    fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    fn get(&self, key: &str) -> Option<Value<'t, 'i>> {
        self.table.get(key)
    }

    fn wrong_type(&self, cx: &mut Ctxt, key: &str, expected: &str, value: Value<'_, '_>) {
        cx.error(
            format!("`{key}` in {} must be {expected}, found {}", self.what, value.get_ref().type_str()),
            value.span(),
        );
    }

    fn missing(&self, cx: &mut Ctxt, key: &str, header: &Range<usize>, valid: &[&str]) {
        let mut d = Diagnostic::error(format!("missing required key `{key}` in {}", self.what), header.clone());
        if !valid.is_empty() {
            d = d.help(format!("add `{key} = \"…\"`, one of {}", quoted_list(valid)));
        } else {
            d = d.help(format!("add `{key} = \"…\"` to this table"));
        }
        cx.push(d);
    }

    fn string(&self, cx: &mut Ctxt, key: &str) -> Option<At<String>> {
        let value = self.get(key)?;
        match value.get_ref().as_str() {
            Some(s) => Some(At { value: s.to_owned(), span: value.span() }),
            None => {
                self.wrong_type(cx, key, "a string", value);
                None
            }
        }
    }

    fn required_string(&self, cx: &mut Ctxt, key: &str, header: &Range<usize>) -> Option<At<String>> {
        if !self.has(key) {
            self.missing(cx, key, header, &[]);
        }
        self.string(cx, key)
    }

    /// A key that may be spelled two ways; both spellings in one table is an error.
    fn string_either(&self, cx: &mut Ctxt, short: &str, long: &str) -> Option<At<String>> {
        if let (Some(a), Some(b)) = (self.key_span(short), self.key_span(long)) {
            let (first, later) = if a.start < b.start { (short, b) } else { (long, a) };
            cx.push(
                Diagnostic::error(
                    format!("both `{short}` and `{long}` in one {}: they mean the same thing", self.what),
                    later,
                )
                .help(format!("keep only one of them; `{first}` is already given")),
            );
        }
        self.string(cx, short).or_else(|| self.string(cx, long))
    }

    fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.table.get_key_value(key).map(|(k, _)| k.span())
    }

    fn strings(&self, cx: &mut Ctxt, key: &str) -> Vec<At<String>> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let Some(items) = value.get_ref().as_array() else {
            self.wrong_type(cx, key, "an array of strings", value);
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match item.get_ref().as_str() {
                Some(s) => Some(At { value: s.to_owned(), span: item.span() }),
                None => {
                    self.wrong_type(cx, key, "an array of strings", item);
                    None
                }
            })
            .collect()
    }

    fn string_table(&self, cx: &mut Ctxt, key: &str) -> Vec<(At<String>, At<String>)> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let Some(table) = value.get_ref().as_table() else {
            self.wrong_type(cx, key, "a table of strings", value);
            return Vec::new();
        };
        table
            .iter()
            .filter_map(|(k, v)| match v.get_ref().as_str() {
                Some(s) => Some((
                    At { value: k.get_ref().to_string(), span: k.span() },
                    At { value: s.to_owned(), span: v.span() },
                )),
                None => {
                    self.wrong_type(cx, &format!("{key}.{}", k.get_ref()), "a string", v);
                    None
                }
            })
            .collect()
    }

    fn enumerated<T>(&self, cx: &mut Ctxt, key: &str, parse: fn(&str) -> Option<T>, names: &[&str]) -> Option<At<T>> {
        let text = self.string(cx, key)?;
        match parse(&text.value) {
            Some(value) => Some(At { value, span: text.span }),
            None => {
                let valid = format!("valid values are {}", quoted_list(names));
                let help = match closest(&text.value, names) {
                    Some(close) => format!("did you mean `{close}`? {valid}"),
                    None => valid,
                };
                cx.push(
                    Diagnostic::error(format!("`{key}` in {} cannot be `{}`", self.what, text.value), text.span)
                        .help(help),
                );
                None
            }
        }
    }

    fn duration(&self, cx: &mut Ctxt, key: &str) -> Option<u64> {
        self.duration_at(cx, key).map(|d| d.value)
    }

    fn integer(&self, cx: &mut Ctxt, key: &str) -> Option<At<i64>> {
        let value = self.get(key)?;
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => {
                self.wrong_type(cx, key, "an integer", value);
                return None;
            }
        };
        match parsed {
            Some(n) => Some(At { value: n, span: value.span() }),
            None => {
                cx.error(format!("`{key}` in {} is too large", self.what), value.span());
                None
            }
        }
    }

    fn duration_at(&self, cx: &mut Ctxt, key: &str) -> Option<At<u64>> {
        let value = self.get(key)?;
        let Some(text) = value.get_ref().as_str() else {
            self.wrong_type(cx, key, "a duration string such as \"30s\" or \"500ms\"", value);
            return None;
        };
        match crate::duration::parse_millis(text) {
            Ok(ms) => Some(At { value: ms, span: value.span() }),
            Err(why) => {
                cx.push(
                    Diagnostic::error(format!("bad duration `{text}` for `{key}`: {why}"), value.span())
                        .help("write a positive duration such as \"30s\", \"500ms\" or \"2m\""),
                );
                None
            }
        }
    }

    fn table(&self, cx: &mut Ctxt, key: &str, expected: &str) -> Option<&'t DeTable<'i>> {
        let value = self.get(key)?;
        match value.get_ref().as_table() {
            Some(t) => Some(t),
            None => {
                self.wrong_type(cx, key, expected, value);
                None
            }
        }
    }

    /// An array of tables (`[[key]]`): its span, and each table with its header span.
    fn tables(&self, cx: &mut Ctxt, key: &str) -> Option<Tables<'t, 'i>> {
        let value = self.get(key)?;
        let expected = format!("an array of tables (`[[{key}]]`)");
        let Some(items) = value.get_ref().as_array() else {
            self.wrong_type(cx, key, &expected, value);
            return None;
        };
        let tables = items
            .iter()
            .filter_map(|item| match item.get_ref().as_table() {
                Some(t) => Some((item.span(), t)),
                None => {
                    self.wrong_type(cx, key, &expected, item);
                    None
                }
            })
            .collect();
        Some((value.span(), tables))
    }

    /// Reports every key not in `known`: an error for the macro, a warning at run time.
    fn finish(self, cx: &mut Ctxt, table: &crate::keys::Table) {
        let known = &table.names()[..];
        for (key, _) in self.table.iter() {
            let key_text: &str = key.get_ref();
            if known.contains(&key_text) {
                continue;
            }
            let mut d = Diagnostic::error(format!("unknown key `{key_text}` in {}", self.what), key.span());
            if cx.strictness == Strictness::Lenient {
                d.severity = Severity::Warning;
                d.message.push_str(" (ignored)");
            }
            d = match closest(key_text, known) {
                Some(close) => d.help(format!("did you mean `{close}`?")),
                None => d.help(format!("known keys are {}", quoted_list(known))),
            };
            cx.push(d);
        }
    }
}

/// The candidate most like `word`, if any is close enough to be a plausible typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

pub(crate) fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
