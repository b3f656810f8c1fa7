//! The rules that span keys and entries. Each check runs on its own and pushes what
//! it finds, so one build reports every problem in the file.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::context::Ctxt;
use crate::diagnostic::{Diagnostic, line_col};
use crate::schema::{At, RawBinary, RawManifest, closest};
use crate::vocab::{BinaryReady, ReadyGate, Relation};

/// The longest path a Unix socket address can hold (`sun_path` is 108 bytes with its NUL).
pub const MAX_SOCKET_PATH: usize = 107;

pub(crate) fn check(raw: &RawManifest, source: &str, service_name: Option<&At<String>>, cx: &mut Ctxt) {
    check_has_binaries(raw, cx);
    check_names(raw, service_name, cx);
    check_unique_binaries(raw, source, cx);
    check_unique_dependencies(raw, cx);
    check_dependency_targets(raw, service_name, cx);
    check_sockets(raw, cx);
    check_binary_ready(raw, cx);
    check_health(raw, cx);
    check_exec_strings(raw, cx);
    check_socket_clashes(raw, cx);
    check_references(raw, cx);
    check_after_cycles(raw, cx);
    check_declared_profiles(raw, cx);
    check_profile_references(raw, cx);
    check_after_profiles(raw, cx);
}

fn check_has_binaries(raw: &RawManifest, cx: &mut Ctxt) {
    if raw.binaries.is_empty() {
        let span = raw.binaries_span.clone().unwrap_or(0..0);
        cx.push(
            Diagnostic::error("the manifest declares no binary", span)
                .help("add a `[[binaries]]` table with `name` and `kind`"),
        );
    }
}

/// Why `name` is not a usable binary, service or crate name, if it is not.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.chars().any(char::is_whitespace) {
        Some("contains whitespace")
    } else if name.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if name.contains("..") {
        Some("contains `..`")
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("does not start with a letter or digit")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        Some("contains a character other than letters, digits, `_`, `-` and `.`")
    } else {
        None
    }
}

fn check_name(cx: &mut Ctxt, what: &str, name: &At<String>) {
    if let Some(problem) = name_problem(&name.value) {
        cx.push(
            Diagnostic::error(format!("{what} `{}` {problem}", name.value.escape_debug()), name.span.clone())
                .help("names start with a letter or digit and contain only letters, digits, `_`, `-` and `.`"),
        );
    }
}

fn check_names(raw: &RawManifest, service_name: Option<&At<String>>, cx: &mut Ctxt) {
    if let Some(name) = service_name {
        check_name(cx, "service name", name);
    }
    for b in &raw.binaries {
        b.name.iter().for_each(|n| check_name(cx, "binary name", n));
    }
    for d in &raw.dependencies {
        d.repo.iter().for_each(|n| check_name(cx, "dependency repo", n));
        d.crate_name.iter().for_each(|n| check_name(cx, "dependency crate", n));
        d.bin.iter().for_each(|n| check_name(cx, "dependency bin", n));
    }
}

fn check_unique_binaries(raw: &RawManifest, source: &str, cx: &mut Ctxt) {
    let mut by_name: HashMap<&str, &Range<usize>> = HashMap::new();
    let mut by_ident: HashMap<String, &str> = HashMap::new();
    for name in raw.binaries.iter().filter_map(|b| b.name.as_ref()) {
        if let Some(first) = by_name.get(name.value.as_str()) {
            let line = line_col(source, first.start).line;
            cx.push(
                Diagnostic::error(format!("duplicate binary `{}`", name.value), name.span.clone())
                    .help(format!("`{}` is already declared on line {line}; rename or remove one of them", name.value)),
            );
            continue;
        }
        by_name.insert(&name.value, &name.span);
        if name_problem(&name.value).is_some() {
            continue;
        }
        let ident = crate::ident::variant_name(&name.value);
        if let Some(other) = by_ident.get(&ident) {
            cx.push(
                Diagnostic::error(
                    format!("binaries `{other}` and `{}` would both be `Binary::{ident}`", name.value),
                    name.span.clone(),
                )
                .help("rename one so the names differ in more than `_`, `-`, `.` or case"),
            );
        } else {
            by_ident.insert(ident, &name.value);
        }
    }
}

fn check_unique_dependencies(raw: &RawManifest, cx: &mut Ctxt) {
    let mut seen = HashSet::new();
    for d in &raw.dependencies {
        let Some(repo) = &d.repo else { continue };
        let key = (
            repo.value.as_str(),
            d.bin.as_ref().map(|b| b.value.as_str()),
            d.socket.as_ref().map(|s| s.value.as_str()),
        );
        if !seen.insert(key) {
            cx.push(
                Diagnostic::error(
                    format!("duplicate dependency on `{}` with the same bin and socket", repo.value),
                    d.header.clone(),
                )
                .help("remove this entry, or give it a different `bin_name` or `socket_name`"),
            );
        }
    }
}

fn check_dependency_targets(raw: &RawManifest, service_name: Option<&At<String>>, cx: &mut Ctxt) {
    for d in &raw.dependencies {
        let Some(repo) = &d.repo else { continue };
        if d.bin.is_none() && d.socket.is_none() {
            cx.push(
                Diagnostic::error(
                    format!("dependency on `{}` names neither a bin nor a socket, so nothing could be waited for", repo.value),
                    d.header.clone(),
                )
                .help("add `bin_name = \"…\"` (the dependency's daemon) and/or `socket_name = \"…\"` (the socket it serves)"),
            );
        }
        if d.relation == Some(Relation::Conflicts) && d.bin.is_none() {
            cx.push(
                Diagnostic::error(
                    format!(
                        "`relation = \"conflicts\"` on `{}` names no bin: only a daemon can be stopped",
                        repo.value
                    ),
                    d.header.clone(),
                )
                .help("add `bin_name = \"…\"`: the daemon of that service that must not run beside this one"),
            );
        }
        if let Some(ready) = &d.ready
            && ready.value == ReadyGate::Healthy
            && d.bin.is_none()
        {
            cx.push(
                Diagnostic::error(
                    format!("`ready = \"healthy\"` on `{}`, but no bin is named", repo.value),
                    ready.span.clone(),
                )
                .help("add `bin_name = \"…\"`: the daemon of that service whose health check is awaited"),
            );
        }
        if let Some(ready) = &d.ready
            && ready.value == ReadyGate::Socket
            && d.socket.is_none()
        {
            cx.push(
                Diagnostic::error(
                    format!("`ready = \"socket\"` on `{}`, but no socket is named", repo.value),
                    ready.span.clone(),
                )
                .help("add `socket_name = \"…\"`, or use `ready = \"running\"`"),
            );
        }
        if let Some(me) = service_name
            && repo.value == me.value
        {
            cx.push(
                Diagnostic::error(format!("service `{}` depends on itself", me.value), repo.span.clone())
                    .help("order this service's own binaries with `after` on `[[binaries]]` instead"),
            );
        }
    }
}

/// `ready` says how a started daemon signals readiness: `socket` needs a socket, and an
/// install-only binary is never started, so it has no readiness to declare.
fn check_binary_ready(raw: &RawManifest, cx: &mut Ctxt) {
    for b in &raw.binaries {
        let (Some(ready), Some(name)) = (&b.ready, &b.name) else { continue };
        if ready.value == BinaryReady::Socket && b.socket.is_none() {
            cx.push(
                Diagnostic::error(
                    format!("`ready = \"socket\"` on `{}`, but it serves no socket", name.value),
                    ready.span.clone(),
                )
                .help("add `socket = \"…\"`, or use `ready = \"notify\"` for a daemon that calls sd_notify"),
            );
        }
        if b.never_started() {
            cx.push(
                never_started(&name.value, "ready", ready.span.clone()).help(
                    "only binaries of kind server, admin or web without `spawned_by` are started; remove `ready`",
                ),
            );
        }
    }
}

/// `watchdog` and `[binaries.health]` watch a running daemon: only a started binary has
/// one, and a probe needs something to probe, sent as one line.
fn check_health(raw: &RawManifest, cx: &mut Ctxt) {
    for b in &raw.binaries {
        let Some(name) = &b.name else { continue };
        let started = !b.never_started();
        let never = |key: &str, span: Range<usize>| {
            never_started(&name.value, key, span)
                .help("only binaries of kind server, admin or web without `spawned_by` are started and watched")
        };
        if let Some(w) = &b.watchdog
            && !started
        {
            cx.push(never("watchdog", w.span.clone()));
        }
        let Some(h) = &b.health else { continue };
        if !started {
            cx.push(never("health", h.span.clone()));
        }
        if let Some(retries) = &h.retries
            && !(1..=i64::from(u32::MAX)).contains(&retries.value)
        {
            cx.push(
                Diagnostic::error(format!("`retries` must be at least 1, not {}", retries.value), retries.span.clone())
                    .help("the number of failed probes in a row before it is unhealthy, such as 3"),
            );
        }
        for line in [&h.send, &h.expect].into_iter().flatten() {
            if line.value.contains(['\n', '\r', '\0']) {
                cx.push(
                    Diagnostic::error(
                        format!("`{}` must be one line of text", line.value.escape_debug()),
                        line.span.clone(),
                    )
                    .help("the probe sends one line and reads one line; the newline is added for you"),
                );
            }
        }
        match &h.exec {
            Some(exec) => {
                if let Some(other) = h.send.as_ref().or(h.expect.as_ref()) {
                    cx.push(
                        Diagnostic::error("`exec` and `send`/`expect` are two different probes", other.span.clone())
                            .help("keep `exec` (a command, healthy on exit 0) or `send`/`expect` (a request on the socket)"),
                    );
                }
                match exec.value.first() {
                    None => cx.push(
                        Diagnostic::error("`exec` names no command", exec.span.clone())
                            .help("write the program and its arguments, such as [\"my_cli\", \"ping\"]"),
                    ),
                    Some(program) if program.value.trim().is_empty() || program.value.contains('\0') => cx.push(
                        Diagnostic::error("`exec` names an empty program", program.span.clone())
                            .help("the first element is the program: a name in the bin directory, or a path"),
                    ),
                    Some(_) => {}
                }
            }
            None if b.socket.is_none() => cx.push(
                Diagnostic::error(
                    format!(
                        "the health check of `{}` has nothing to probe: it serves no socket and names no `exec`",
                        name.value
                    ),
                    h.span.clone(),
                )
                .help("add `exec = [\"program\", \"arg\"]` to run a command, or give the binary a `socket`"),
            ),
            None => {}
        }
    }
}

/// What becomes part of a process's command line or environment must be something the
/// operating system can hold: no NUL anywhere (a C string ends there), and an environment
/// variable's name neither empty nor containing `=` (where the name would end).
fn check_exec_strings(raw: &RawManifest, cx: &mut Ctxt) {
    let nul = |what: &str, text: &At<String>, cx: &mut Ctxt| {
        if text.value.contains('\0') {
            cx.push(
                Diagnostic::error(
                    format!("{what} `{}` contains a NUL byte", text.value.escape_debug()),
                    text.span.clone(),
                )
                .help("the operating system ends the string there: remove it"),
            );
        }
    };
    for b in &raw.binaries {
        b.args.iter().for_each(|a| nul("argument", a, cx));
        for (key, value) in &b.env {
            nul("environment variable", key, cx);
            nul(&format!("the value of environment variable `{}`,", key.value.escape_debug()), value, cx);
            let problem = if key.value.is_empty() {
                Some("is empty")
            } else if key.value.contains('=') {
                Some("contains `=`, where the name would end")
            } else {
                None
            };
            if let Some(problem) = problem {
                cx.push(
                    Diagnostic::error(
                        format!("environment variable name `{}` {problem}", key.value.escape_debug()),
                        key.span.clone(),
                    )
                    .help("write names such as `RUST_LOG` or `MY_SERVICE_PORT`"),
                );
            }
        }
        if let Some(exec) = b.health.as_ref().and_then(|h| h.exec.as_ref()) {
            exec.value.iter().for_each(|a| nul("`exec` argument", a, cx));
        }
    }
}

/// Two started binaries cannot serve one socket (the second start would remove the first's
/// file), and a binary cannot serve the socket it expects a dependency to serve.
fn check_socket_clashes(raw: &RawManifest, cx: &mut Ctxt) {
    let mut served: HashMap<&str, &str> = HashMap::new();
    for b in &raw.binaries {
        let (Some(name), Some(socket)) = (&b.name, &b.socket) else { continue };
        if b.never_started() {
            continue;
        }
        match served.get(socket.value.as_str()) {
            Some(first) => cx.push(
                Diagnostic::error(
                    format!("`{}` serves `{}`, which `{first}` serves too", name.value, socket.value),
                    socket.span.clone(),
                )
                .help("each daemon needs a socket of its own: its start removes a stale file at that path"),
            ),
            None => {
                served.insert(&socket.value, &name.value);
            }
        }
    }
    for d in &raw.dependencies {
        let (Some(repo), Some(socket)) = (&d.repo, &d.socket) else { continue };
        if let Some(ours) = served.get(socket.value.as_str()) {
            cx.push(
                Diagnostic::error(
                    format!(
                        "dependency `{}` is waited for on `{}`, which this service's `{ours}` serves",
                        repo.value, socket.value
                    ),
                    socket.span.clone(),
                )
                .help(
                    "name the socket the dependency serves; a socket of our own would make the gate wait on ourselves",
                ),
            );
        }
    }
}

fn check_sockets(raw: &RawManifest, cx: &mut Ctxt) {
    let sockets = raw.binaries.iter().filter_map(|b| b.socket.as_ref());
    for socket in sockets.chain(raw.dependencies.iter().filter_map(|d| d.socket.as_ref())) {
        let path = &socket.value;
        let problem = if path.is_empty() {
            Some("is empty".to_owned())
        } else if path.contains('\0') {
            Some("contains a NUL byte".to_owned())
        } else if path.len() > MAX_SOCKET_PATH {
            Some(format!("is {} bytes long; a Unix socket address holds at most {MAX_SOCKET_PATH}", path.len()))
        } else if path.split('/').any(|part| part == "..") {
            Some("contains `..`".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            cx.push(
                Diagnostic::error(format!("socket path `{}` {problem}", path.escape_debug()), socket.span.clone())
                    .help("use a short name such as \"my_service/server.sock\", resolved in the socket directory"),
            );
        }
    }
}

fn check_references(raw: &RawManifest, cx: &mut Ctxt) {
    let binaries: HashMap<&str, &RawBinary> =
        raw.binaries.iter().filter_map(|b| Some((b.name.as_ref()?.value.as_str(), b))).collect();
    let names: Vec<&str> = binaries.keys().copied().collect();

    let lookup = |cx: &mut Ctxt, key: &str, target: &At<String>| -> Option<&RawBinary> {
        let found = binaries.get(target.value.as_str()).copied();
        if found.is_none() {
            let mut d =
                Diagnostic::error(format!("`{key}` names unknown binary `{}`", target.value), target.span.clone());
            d = match closest(&target.value, &names) {
                Some(close) => d.help(format!("did you mean `{close}`?")),
                None => d.help(format!("the binaries of this service are {}", crate::schema::quoted_list(&names))),
            };
            cx.push(d);
        }
        found
    };

    for b in &raw.binaries {
        let Some(name) = &b.name else { continue };
        if let Some(parent_name) = &b.spawned_by {
            if parent_name.value == name.value {
                cx.error(format!("binary `{}` cannot be spawned by itself", name.value), parent_name.span.clone());
            } else if let Some(parent) = lookup(cx, "spawned_by", parent_name)
                && parent.never_started()
            {
                cx.push(
                    Diagnostic::error(
                        format!(
                            "`{}` is spawned by `{}`, which is itself never started",
                            name.value, parent_name.value
                        ),
                        parent_name.span.clone(),
                    )
                    .help("`spawned_by` must name a started daemon (kind server, admin or web, not spawned itself)"),
                );
            }
        }
        for target in &b.after {
            if let Some(t) = lookup(cx, "after", target)
                && t.never_started()
            {
                cx.push(install_only_target("after", &name.value, target));
            }
        }
        if !b.after.is_empty() && b.never_started() {
            cx.push(
                never_started(&name.value, "after", b.after[0].span.clone())
                    .help("`after` orders started binaries; remove it from install-only binaries"),
            );
        }
    }
    for d in &raw.dependencies {
        for target in &d.applies_to {
            if let Some(t) = lookup(cx, "applies_to", target)
                && t.never_started()
            {
                cx.push(install_only_target("applies_to", "this dependency", target));
            }
        }
    }
}

/// `binary `x` has `key`, but it is never started`, at `span`; the caller adds the help.
fn never_started(name: &str, key: &str, span: Range<usize>) -> Diagnostic {
    Diagnostic::error(format!("binary `{name}` has `{key}`, but it is never started"), span)
}

fn install_only_target(key: &str, who: &str, target: &At<String>) -> Diagnostic {
    Diagnostic::error(
        format!("`{key}` of {who} names `{}`, which is install-only and never started", target.value),
        target.span.clone(),
    )
    .help("only binaries of kind server, admin or web without `spawned_by` are started")
}

/// Finds cycles in `after` edges and reports each once, with its path.
fn check_after_cycles(raw: &RawManifest, cx: &mut Ctxt) {
    let index: HashMap<&str, usize> =
        raw.binaries.iter().enumerate().filter_map(|(i, b)| Some((b.name.as_ref()?.value.as_str(), i))).collect();
    let edges: Vec<Vec<(usize, &At<String>)>> = raw
        .binaries
        .iter()
        .map(|b| b.after.iter().filter_map(|a| Some((*index.get(a.value.as_str())?, a))).collect())
        .collect();
    let mut state = vec![Visit::New; raw.binaries.len()];
    let mut stack = Vec::new();
    for start in 0..raw.binaries.len() {
        visit(start, &edges, &mut state, &mut stack, raw, cx);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Visit {
    New,
    OnStack,
    Done,
}

fn visit(
    node: usize,
    edges: &[Vec<(usize, &At<String>)>],
    state: &mut [Visit],
    stack: &mut Vec<usize>,
    raw: &RawManifest,
    cx: &mut Ctxt,
) {
    if state[node] != Visit::New {
        return;
    }
    state[node] = Visit::OnStack;
    stack.push(node);
    for &(next, written) in &edges[node] {
        match state[next] {
            Visit::New => visit(next, edges, state, stack, raw, cx),
            Visit::OnStack => {
                let from = stack.iter().position(|&n| n == next).unwrap_or(0);
                let name = |i: usize| raw.binaries[i].name.as_ref().map_or("?", |n| n.value.as_str());
                let mut path: Vec<&str> = stack[from..].iter().map(|&i| name(i)).collect();
                path.push(name(next));
                let mut d =
                    Diagnostic::error(format!("`after` forms a cycle: {}", path.join(" → ")), written.span.clone())
                        .help("remove one `after` entry from the cycle");
                // Every edge of the cycle, not only the one that closed it.
                for pair in stack[from..].windows(2) {
                    if let Some((_, edge)) = edges[pair[0]].iter().find(|(to, _)| *to == pair[1]) {
                        d = d.label(edge.span.clone(), format!("`{}` waits for `{}`", name(pair[0]), name(pair[1])));
                    }
                }
                cx.push(d.label(written.span.clone(), format!("`{}` waits for `{}`", name(node), name(next))));
            }
            Visit::Done => {}
        }
    }
    stack.pop();
    state[node] = Visit::Done;
}

/// `[service] profiles`: well-formed, unique, and each a distinct `Profile` variant.
fn check_declared_profiles(raw: &RawManifest, cx: &mut Ctxt) {
    let mut by_ident: HashMap<String, &str> = HashMap::new();
    for profile in &raw.profiles {
        if let Some(problem) = name_problem(&profile.value) {
            cx.push(
                Diagnostic::error(
                    format!("profile name `{}` {problem}", profile.value.escape_debug()),
                    profile.span.clone(),
                )
                .help("names start with a letter or digit and contain only letters, digits, `_`, `-` and `.`"),
            );
            continue;
        }
        let ident = crate::ident::variant_name(&profile.value);
        match by_ident.get(&ident) {
            Some(&other) if other == profile.value => cx.push(
                Diagnostic::error(format!("profile `{other}` is declared twice"), profile.span.clone())
                    .help("remove one of them"),
            ),
            Some(&other) => cx.push(
                Diagnostic::error(
                    format!("profiles `{other}` and `{}` would both be `Profile::{ident}`", profile.value),
                    profile.span.clone(),
                )
                .help("rename one so the names differ in more than `_`, `-`, `.` or case"),
            ),
            None => {
                by_ident.insert(ident, &profile.value);
            }
        }
    }
}

/// Every `profiles` entry on a binary or dependency names a declared profile.
fn check_profile_references(raw: &RawManifest, cx: &mut Ctxt) {
    let declared: Vec<&str> = raw.profiles.iter().map(|p| p.value.as_str()).collect();
    let named = raw.binaries.iter().flat_map(|b| &b.profiles).chain(raw.dependencies.iter().flat_map(|d| &d.profiles));
    for profile in named {
        if declared.contains(&profile.value.as_str()) {
            continue;
        }
        let d = Diagnostic::error(format!("profile `{}` is not declared", profile.value), profile.span.clone());
        cx.push(match closest(&profile.value, &declared) {
            Some(close) => d.help(format!("did you mean `{close}`?")),
            None if declared.is_empty() => {
                d.help(format!("declare it in `[service]`: `profiles = [\"{}\"]`", profile.value.escape_debug()))
            }
            None => d.help(format!(
                "the declared profiles are {}; add it to `[service] profiles` if it is new",
                crate::schema::quoted_list(&declared)
            )),
        });
    }
}

/// `after` requires its sibling, so the sibling must run whenever the binary does:
/// a sibling limited to profiles needs a binary limited to some of those profiles.
fn check_after_profiles(raw: &RawManifest, cx: &mut Ctxt) {
    let by_name: HashMap<&str, &RawBinary> =
        raw.binaries.iter().filter_map(|b| Some((b.name.as_ref()?.value.as_str(), b))).collect();
    let names = |list: &[At<String>]| list.iter().map(|p| p.value.clone()).collect::<Vec<_>>();
    for b in &raw.binaries {
        let Some(name) = &b.name else { continue };
        let mine = names(&b.profiles);
        for target in &b.after {
            let Some(sibling) = by_name.get(target.value.as_str()) else { continue };
            let theirs = names(&sibling.profiles);
            let covered = theirs.is_empty() || (!mine.is_empty() && mine.iter().all(|p| theirs.contains(p)));
            if covered {
                continue;
            }
            let quoted: Vec<&str> = theirs.iter().map(String::as_str).collect();
            let when = if mine.is_empty() { "always".to_owned() } else { format!("in `{}`", mine.join("`, `")) };
            cx.push(
                Diagnostic::error(
                    format!(
                        "`{}` runs {when}, but `after` names `{}`, which runs only in {}",
                        name.value,
                        target.value,
                        crate::schema::quoted_list(&quoted)
                    ),
                    target.span.clone(),
                )
                .help(format!("give `{}` `profiles` among those, or remove this `after` entry", name.value)),
            );
        }
    }
}
