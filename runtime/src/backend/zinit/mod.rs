//! The zinit backend: `--start`, `--stop`, `--restart`, `--status` and `--logs` carried
//! out by a running `zinit-server` (0.3.9) instead of the embedded supervisor.
//!
//! Each started action is registered as one zinit service ([`config`] holds the
//! mapping). Where zinit's rules differ from ours the backend compensates:
//!
//! - zinit does not pull in a stopped `requires` dependency (the dependent just stays
//!   blocked), so `--start` starts the dependency chain itself, dependencies first;
//! - a dependency of another service that zinit does not know yet is registered from its
//!   declaration when its binary is in the bin directory, as the embedded supervisor does;
//! - re-registering an unchanged service would make zinit stop and restart it (and its
//!   dependents), so a registration is only sent when it differs from zinit's;
//! - zinit has no Unix-socket readiness check: an `exec` health check runs the CLI itself
//!   as the socket waiter ([`Waiter::this_program`](crate::backend::Waiter::this_program)),
//!   which returns the moment the socket accepts.
//!
//! What it cannot change is listed by [`plan_notes`] (printed by `--plan --backend zinit`).

pub mod config;
pub mod rpc;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

pub use config::{Layout, service_name};
pub use rpc::{ServiceStatus, Zinit, ZinitError};

use crate::cli::exit::{self, Failure};
use crate::spec::{ActionDep, ActionSpec, ServiceSpec};
use crate::{BinaryKind, ReadyGate, Relation};

/// The environment variable naming zinit-server's socket.
pub const SOCKET_ENV: &str = "SERVICE_MANIFEST_ZINIT_SOCKET";

/// zinit-server's own default socket when run standalone: `~/hero/var/zinit.sock`.
pub fn default_socket() -> PathBuf {
    std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from("/tmp/zinit.sock"), |h| Path::new(&h).join("hero/var/zinit.sock"))
}

/// A service command for zinit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Register and start, dependencies first; returns once every action is ready.
    Start,
    /// Stop (zinit stops what depends on it first).
    Stop,
    /// Stop, then start.
    Restart,
    /// Print each action's state; JSON when `json`.
    Status {
        /// Print JSON.
        json: bool,
    },
    /// Print one action's log.
    Logs(String),
}

/// Where zinit and the service's files are.
#[derive(Clone, Debug)]
pub struct Target {
    /// zinit-server's socket.
    pub socket: PathBuf,
    /// Where bare program names resolve.
    pub bin_dir: PathBuf,
    /// Where relative socket names resolve.
    pub socket_dir: PathBuf,
}

/// Carries out `command` for `spec` through the zinit-server on `target.socket`. The
/// failure carries the exit code the README's table gives it, as with the embedded
/// supervisor: for `Status`, 3 when something is not up or zinit does not answer, 4 when
/// zinit does not know the service.
pub fn run(command: Command, spec: &ServiceSpec, manifest: &crate::Manifest, target: &Target) -> Result<(), Failure> {
    run_to(command, spec, manifest, target, &mut std::io::stdout())
}

/// [`run`], with what it reports written to `out` instead of standard output (the
/// benchmark discards it).
pub fn run_to(
    command: Command,
    spec: &ServiceSpec,
    manifest: &crate::Manifest,
    target: &Target,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut zinit = match Zinit::connect(&target.socket) {
        Ok(zinit) => zinit,
        Err(e) if matches!(command, Command::Status { .. }) => {
            return Err(Failure::new(exit::NOT_RUNNING, e.to_string()));
        }
        Err(e) => return Err(Failure::from(e.to_string())),
    };
    match command {
        Command::Start => Ok(start(&mut zinit, spec, target, out)?),
        Command::Stop => Ok(stop(&mut zinit, spec, out)?),
        Command::Restart => {
            stop(&mut zinit, spec, out)?;
            Ok(start(&mut zinit, spec, target, out)?)
        }
        Command::Status { json } => status(&mut zinit, spec, json, out),
        Command::Logs(binary) => {
            if spec.action(&binary).is_none() {
                let why = match manifest.binary(&binary) {
                    Some(_) => "is install-only: it is never registered with zinit, so it has no log",
                    None => "is not a binary of this service",
                };
                return Err(Failure::from(format!("`{binary}` {why}")));
            }
            let lines = zinit
                .call("logs.get", json!({ "name": service_name(&spec.name, &binary), "lines": 100_000 }))
                .map_err(|e| not_registered(e, spec))?;
            for line in lines.as_array().into_iter().flatten() {
                let _ = writeln!(out, "{}", human_log_line(line.as_str().unwrap_or_default()));
            }
            Ok(())
        }
    }
}

/// A zinit log line (`<epoch ms> [stdout] text`) as the embedded supervisor's logs print:
/// the time in RFC 3339, then the text (`[stderr]` kept, `[stdout]` dropped).
///
/// ```
/// use service_manifest_runtime::backend::zinit::human_log_line;
/// assert_eq!(human_log_line("1796294106555 [stdout] listening"), "2026-12-03T10:35:06.555Z listening");
/// assert_eq!(human_log_line("1796294106555 [stderr] oops"), "2026-12-03T10:35:06.555Z [stderr] oops");
/// assert_eq!(human_log_line("not a zinit line"), "not a zinit line");
/// ```
pub fn human_log_line(line: &str) -> String {
    let parsed = line.split_once(' ').and_then(|(ms, rest)| Some((ms.parse::<u64>().ok()?, rest)));
    let Some((ms, rest)) = parsed else { return line.to_owned() };
    let at = crate::logline::shown(ms.saturating_mul(1000));
    match rest.strip_prefix("[stdout] ") {
        Some(text) => format!("{at} {text}"),
        None => format!("{at} {rest}"),
    }
}

/// What `--plan` must add for the zinit backend: every rule zinit enforces differently.
pub fn plan_notes(spec: &ServiceSpec) -> String {
    let mut notes = vec![
        "zinit backend: zinit does not start a stopped dependency; --start starts the chain above itself, in order"
            .to_owned(),
        "zinit backend: stopping zinit-server leaves the actions running (it does not stop its children)".to_owned(),
    ];
    for action in &spec.actions {
        let me = format!("{}/{}", spec.name, action.name);
        if action.health.is_some() {
            notes.push(format!(
                "zinit backend: {me}: its health check is not enforced (zinit's own check re-tests only the socket, every 10 s)"
            ));
        }
        if action.watchdog_ms.is_some() {
            notes.push(format!("zinit backend: {me}: its watchdog is not enforced (zinit has none)"));
        }
        for dep in &action.depends_on {
            let who = format!("{}/{} → {}", spec.name, action.name, dep.label());
            if dep.ready == crate::ReadyGate::Healthy {
                notes.push(format!(
                    "zinit backend: {who}: the `healthy` gate waits only until the dependency is running (its socket accepts)"
                ));
            }
            match (dep.relation, &dep.action) {
                (Relation::After, Some(_)) => notes.push(format!(
                    "zinit backend: {who}: zinit's `after` waits only until the dependency was spawned, not until it \
                     is ready, and waits forever while it is not started"
                )),
                (Relation::Wants, Some(_)) => notes.push(format!(
                    "zinit backend: {who}: `wants` orders only until the dependency was spawned, not until it is ready"
                )),
                (Relation::After, None) => {
                    notes.push(format!("zinit backend: {who}: an `after` edge on a bare socket is not enforced"))
                }
                _ => {}
            }
            if dep.timeout_ms.is_some() && dep.action.is_some() && dep.service != spec.name {
                notes.push(format!(
                    "zinit backend: {who}: the edge's timeout is not enforced; the dependency's own start timeout is"
                ));
            }
        }
    }
    notes.iter().map(|n| format!("{n}\n")).collect()
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("cannot make {} absolute: {e}", path.display()))
}

/// One zinit service this start involves.
struct Entry<'a> {
    name: String,
    /// Our own action, or a foreign dependency's.
    action: ActionSpec,
    service: &'a str,
    /// Whether `--start` starts it (own actions, and dependencies pulled in by requires/wants).
    start: bool,
    oneshot: bool,
    /// Whether to send zinit this registration (not for a dependency its own CLI registered).
    register: bool,
}

/// The order of a start: foreign dependencies first, then our actions, each after what
/// it depends on within the service.
fn own_order(spec: &ServiceSpec) -> Vec<&ActionSpec> {
    let own = |d: &ActionDep| d.service == spec.name && d.action.as_ref().is_some_and(|a| spec.action(a).is_some());
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    let mut remaining: Vec<&ActionSpec> = spec.actions.iter().collect();
    while !remaining.is_empty() {
        let next = remaining
            .iter()
            .position(|a| {
                a.depends_on.iter().filter(|d| own(d)).all(|d| d.action.as_deref().is_some_and(|x| placed.contains(x)))
            })
            .unwrap_or(0);
        let a = remaining.remove(next);
        placed.insert(&a.name);
        order.push(a);
    }
    order
}

fn start(zinit: &mut Zinit, spec: &ServiceSpec, target: &Target, out: &mut dyn Write) -> Result<(), String> {
    let bin_dir = absolute(&target.bin_dir)?;
    let socket_dir = absolute(&target.socket_dir)?;
    // The CLI itself is the waiter: nothing else has to be installed for the checks.
    let waiter = crate::backend::Waiter::this_program().map_err(|e| format!("cannot find this program: {e}"))?;
    let layout = Layout { bin_dir, socket_dir, waiter, default_start_timeout_ms: 30_000, default_timeout_ms: 30_000 };

    let oneshots = oneshots(spec);

    // Foreign dependencies: keep what zinit already has (their own CLI registered them),
    // else register them from the declaration when their binary is installed.
    let own = |d: &ActionDep| d.service == spec.name && d.action.as_ref().is_some_and(|a| spec.action(a).is_some());
    let mut entries: Vec<Entry> = Vec::new();
    let mut unreachable: BTreeSet<String> = BTreeSet::new();
    let mut foreign: BTreeMap<String, (Vec<&ActionDep>, bool)> = BTreeMap::new();
    for dep in spec.actions.iter().flat_map(|a| &a.depends_on).filter(|d| !own(d) && d.action.is_some()) {
        let name = service_name(&dep.service, dep.action.as_deref().unwrap_or_default());
        let slot = foreign.entry(name).or_insert((Vec::new(), false));
        slot.0.push(dep);
        slot.1 |= matches!(dep.relation, Relation::Requires | Relation::Wants);
    }
    for (name, (deps, pulled_in)) in &foreign {
        let dep = deps[0];
        let action_name = dep.action.as_deref().unwrap_or_default();
        let known = zinit.config(name).map_err(|e| e.to_string())?.is_some();
        let program = crate::paths::resolve_exec(&layout.bin_dir, action_name);
        if !known && (!program.is_file() || !pulled_in) {
            if deps.iter().any(|d| d.relation == Relation::Requires) {
                return Err(format!(
                    "{} requires {}, which zinit does not know and whose binary is not in {}; install it or start \
                     {} first",
                    spec.name,
                    dep.label(),
                    layout.bin_dir.display(),
                    dep.service
                ));
            }
            eprintln!("note: {} is not registered with zinit; the edges on it are left out", dep.label());
            unreachable.insert(name.clone());
            continue;
        }
        let mut action = ActionSpec::new(action_name, BinaryKind::Server);
        action.socket = dep.socket.clone();
        action.start_timeout_ms = deps.iter().filter_map(|d| d.timeout_ms).max();
        entries.push(Entry {
            name: name.clone(),
            action,
            service: &dep.service,
            start: *pulled_in,
            oneshot: oneshots.contains(name),
            // Registered by its own CLI: leave its configuration alone.
            register: !known,
        });
    }
    for action in own_order(spec) {
        let name = service_name(&spec.name, &action.name);
        let oneshot = oneshots.contains(&name);
        entries.push(Entry { name, action: action.clone(), service: &spec.name, start: true, oneshot, register: true });
    }

    // The embedded supervisor creates socket directories (0700) before it spawns; zinit
    // does not, so the backend does, for every socket it starts a daemon for.
    for entry in entries.iter().filter(|e| e.start) {
        if let Some(dir) = entry
            .action
            .socket
            .as_deref()
            .and_then(|s| crate::paths::resolve_socket(&layout.socket_dir, s).parent().map(Path::to_path_buf))
        {
            crate::backend::wait_socket::create_dir(&dir)
                .map_err(|e| format!("cannot create the socket directory {}: {e}", dir.display()))?;
        }
    }
    // Register what is missing or changed, dependencies first (zinit rejects a service
    // whose dependency it does not know). zinit stops a service it re-registers, and what
    // depends on it: note what was up, to bring it back afterwards.
    let up_before = up(zinit)?;
    for entry in &entries {
        if !entry.register {
            continue;
        }
        let edges: Vec<&ActionDep> = entry
            .action
            .depends_on
            .iter()
            .filter(|d| d.action.as_ref().is_none_or(|a| !unreachable.contains(&service_name(&d.service, a))))
            .collect();
        let wanted = config::action_config(entry.service, &entry.action, entry.oneshot, &edges, &layout);
        match zinit.config(&entry.name).map_err(|e| e.to_string())? {
            Some(stored) if config::covers(&stored, &wanted) => continue,
            Some(_) => replace(zinit, &entry.name, wanted)?,
            None => {
                zinit
                    .call("service.set", json!({ "config": wanted }))
                    .map_err(|e| format!("registering {}: {e}", entry.name))?;
            }
        }
        let _ = writeln!(out, "registered {} with zinit", entry.name);
    }
    // zinit does not pull a stopped dependency in: start the chain ourselves, in order.
    let started: Vec<&Entry> = entries.iter().filter(|e| e.start).collect();
    for entry in &started {
        zinit
            .call("service.start", json!({ "name": entry.name }))
            .map_err(|e| format!("starting {}: {e}", entry.name))?;
    }
    let up_after = up(zinit)?;
    for name in up_before.keys().filter(|n| !up_after.contains_key(*n) && !started.iter().any(|e| &e.name == *n)) {
        let _ = writeln!(out, "{name}: zinit stopped it while re-registering what it depends on; starting it again");
        zinit.call("service.start", json!({ "name": name })).map_err(|e| format!("starting {name}: {e}"))?;
    }
    let budget: u64 = started.iter().map(|e| e.action.start_timeout_ms.unwrap_or(30_000) + 5_000).sum();
    wait_until_up(zinit, &started, Duration::from_millis(budget), out)?;
    // Counted as the embedded supervisor counts: every action this start involved.
    let completed = started.iter().filter(|e| e.oneshot).count();
    let completed = if completed == 0 { String::new() } else { format!(", {completed} one-shot completed") };
    let _ = writeln!(out, "{}: all {} actions up (zinit{completed})", spec.name, started.len());
    Ok(())
}

/// Replaces zinit's registration of `name` with `wanted`. zinit-server 0.3.9 never answers
/// a `service.set` of a name it knows (and stops answering anything after it), nor the
/// `service.delete` of a running service or of one another service lists: so `name` and
/// what lists it (transitively) are stopped, deleted dependents first, and registered
/// again in dependency order, `name` with `wanted`, the others as they were. The caller
/// starts again what was up.
fn replace(zinit: &mut Zinit, name: &str, wanted: serde_json::Value) -> Result<(), String> {
    let names = zinit.call("service.list", json!({})).map_err(|e| e.to_string())?;
    let mut stored: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for n in names.as_array().into_iter().flatten().filter_map(|n| n.as_str()) {
        if let Some(config) = zinit.config(n).map_err(|e| e.to_string())? {
            stored.insert(n.to_owned(), config);
        }
    }
    let lists = |config: &serde_json::Value| -> BTreeSet<String> {
        let deps = config.get("dependencies").and_then(|d| d.as_object());
        deps.into_iter()
            .flatten()
            .flat_map(|(_, v)| v.as_array().into_iter().flatten())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    // `name` and everything that lists it, transitively.
    let mut group: BTreeSet<String> = BTreeSet::from([name.to_owned()]);
    loop {
        let more: Vec<String> = stored
            .iter()
            .filter(|(n, c)| !group.contains(*n) && lists(c).iter().any(|d| group.contains(d)))
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        group.extend(more);
    }
    // Dependency order within the group (what lists nothing of the rest first).
    let mut order: Vec<String> = Vec::new();
    while order.len() < group.len() {
        let next = group
            .iter()
            .filter(|n| !order.contains(n))
            .find(|n| {
                let deps = stored.get(*n).map(lists).unwrap_or_default();
                deps.iter().all(|d| !group.contains(d) || order.contains(d) || d == *n)
            })
            .or_else(|| group.iter().find(|n| !order.contains(n)))
            .cloned();
        order.extend(next);
    }
    for n in order.iter().rev() {
        zinit.call("service.stop", json!({ "name": n })).map_err(|e| format!("stopping {n} to re-register it: {e}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while order
        .iter()
        .any(|n| zinit.status(n).is_ok_and(|s| matches!(s.state.as_str(), "running" | "starting" | "stopping")))
    {
        if Instant::now() >= deadline {
            return Err(format!("{name} did not stop within 30s, so zinit cannot take its new registration"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for n in order.iter().rev() {
        zinit.call("service.delete", json!({ "name": n })).map_err(|e| format!("re-registering {n}: {e}"))?;
    }
    for n in &order {
        let config = if n == name { wanted.clone() } else { stored.get(n).cloned().unwrap_or_default() };
        zinit.call("service.set", json!({ "config": config })).map_err(|e| format!("registering {n}: {e}"))?;
    }
    Ok(())
}

/// The zinit services some dependent waits on to complete: registered as one-shots, and up
/// once exited 0.
fn oneshots(spec: &ServiceSpec) -> BTreeSet<String> {
    spec.actions
        .iter()
        .flat_map(|a| &a.depends_on)
        .filter(|d| d.ready == ReadyGate::Completed)
        .filter_map(|d| Some(service_name(&d.service, d.action.as_deref()?)))
        .collect()
}

/// Follows zinit's states until every entry is running (or, for a one-shot, exited 0),
/// printing each change. zinit has no change feed, so this asks every 20 ms.
fn wait_until_up(zinit: &mut Zinit, entries: &[&Entry], budget: Duration, out: &mut dyn Write) -> Result<(), String> {
    let deadline = Instant::now() + budget;
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let mut pending = Vec::new();
        for entry in entries {
            let s = zinit.status(&entry.name).map_err(|e| e.to_string())?;
            let line = describe(&s);
            if last.get(&entry.name) != Some(&line) {
                let _ = writeln!(out, "{}: {line}", entry.name);
                last.insert(entry.name.clone(), line.clone());
            }
            match s.state.as_str() {
                "running" if !entry.oneshot => {}
                "exited" if s.exit_code == Some(0) => {}
                "failed" => return Err(format!("{} failed: {line}", entry.name)),
                "exited" => return Err(format!("{} exited: {line}", entry.name)),
                _ => pending.push(entry.name.as_str()),
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("still not ready after {}s: {}", budget.as_secs(), pending.join(", ")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The daemon's pid for the pid zinit reports: zinit runs every `exec` with `/bin/sh -c`
/// (and refuses a leading `exec`), and a shell that does not exec its last command
/// (dash) stays between zinit and the daemon, so its only child is shown instead.
pub fn daemon_pid(pid: u32) -> u32 {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if pid == 0 || !cmdline.starts_with(b"/bin/sh\0-c\0") {
        return pid;
    }
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    match children.split_whitespace().map(str::parse::<u32>).collect::<Vec<_>>().as_slice() {
        [Ok(child)] => *child,
        _ => pid,
    }
}

fn describe(s: &ServiceStatus) -> String {
    let mut text = s.state.clone();
    if s.pid != 0 {
        text.push_str(&format!(" (pid {})", daemon_pid(s.pid)));
    }
    if let Some(code) = s.exit_code {
        text.push_str(&format!(", exit code {code}"));
    }
    if let Some(error) = &s.error {
        text.push_str(&format!(": {error}"));
    }
    text
}

fn not_registered(e: ZinitError, spec: &ServiceSpec) -> String {
    if e.is_not_found() {
        format!("{} is not registered with zinit yet; run --start --backend zinit", spec.name)
    } else {
        e.to_string()
    }
}

/// Every zinit service and its status, in one sweep.
fn statuses(zinit: &mut Zinit) -> Result<BTreeMap<String, ServiceStatus>, String> {
    let names = zinit.call("service.list", json!({})).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for name in names.as_array().into_iter().flatten().filter_map(|n| n.as_str()) {
        if let Ok(s) = zinit.status(name) {
            out.insert(name.to_owned(), s);
        }
    }
    Ok(out)
}

fn is_up(s: &ServiceStatus) -> bool {
    matches!(s.state.as_str(), "running" | "starting" | "blocked")
}

/// Every zinit service that is up, with its status.
fn up(zinit: &mut Zinit) -> Result<BTreeMap<String, ServiceStatus>, String> {
    Ok(statuses(zinit)?.into_iter().filter(|(_, s)| is_up(s)).collect())
}

fn stop(zinit: &mut Zinit, spec: &ServiceSpec, out: &mut dyn Write) -> Result<(), String> {
    let before = up(zinit)?;
    // zinit may call a service stopped a moment before its process has exited: "stopped"
    // is said only once the processes it ran are gone.
    let pids: BTreeMap<&String, (u32, u64)> =
        before.iter().filter_map(|(n, s)| Some((n, (s.pid, crate::supervisor::process::start_time(s.pid)?)))).collect();
    let mut order: Vec<&ActionSpec> = own_order(spec);
    order.reverse();
    for action in &order {
        let name = service_name(&spec.name, &action.name);
        zinit.call("service.stop", json!({ "name": name })).map_err(|e| not_registered(e, spec))?;
    }
    // zinit signals and returns; wait for the processes to be gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = statuses(zinit)?;
        let stopping = all.values().filter(|s| s.state == "stopping").count();
        let now: BTreeMap<String, ServiceStatus> = all.into_iter().filter(|(_, s)| is_up(s)).collect();
        let ours_up = order.iter().any(|a| now.contains_key(&service_name(&spec.name, &a.name)));
        let lingering = pids
            .iter()
            .filter(|(n, _)| !now.contains_key(n.as_str()))
            .any(|(_, (pid, started))| crate::supervisor::process::is_same_process(*pid, *started));
        if stopping == 0 && !ours_up && !lingering {
            for name in before.keys().filter(|n| !now.contains_key(*n)) {
                if !name.starts_with(&format!("{}.", spec.name)) {
                    let _ = writeln!(out, "stopped {name} first: it depends on {}", spec.name);
                }
            }
            for action in &order {
                let name = service_name(&spec.name, &action.name);
                if before.contains_key(&name) {
                    let _ = writeln!(out, "stopped {name}");
                }
            }
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("{} did not stop within 30s", spec.name));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn status(zinit: &mut Zinit, spec: &ServiceSpec, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let mut rows = Vec::new();
    for action in &spec.actions {
        match zinit.status(&service_name(&spec.name, &action.name)) {
            Ok(mut s) => {
                s.pid = daemon_pid(s.pid);
                rows.push(s);
            }
            Err(e) if e.is_not_found() => {
                return Err(Failure::new(exit::UNKNOWN, not_registered(e, spec)));
            }
            Err(e) => return Err(Failure::from(e.to_string())),
        }
    }
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        let cells: Vec<[String; 4]> = rows
            .iter()
            .map(|r| {
                let pid = if r.pid == 0 { "-".to_owned() } else { r.pid.to_string() };
                let detail = r.error.clone().or(r.exit_code.map(|c| format!("exit code {c}"))).unwrap_or_default();
                [r.name.clone(), r.state.clone(), pid, detail]
            })
            .collect();
        let _ = write!(
            out,
            "{}",
            crate::cli::table::aligned(["ACTION", "STATE", "PID", "DETAIL"], &cells, [false, false, true, false])
        );
    }
    // Up as the embedded supervisor counts it: running, or a one-shot that completed.
    let oneshots = oneshots(spec);
    let down: Vec<String> = rows
        .iter()
        .filter(|r| match r.state.as_str() {
            "running" => false,
            "exited" => !(r.exit_code == Some(0) && oneshots.contains(&r.name)),
            _ => true,
        })
        .map(|r| format!("{} ({})", r.name, r.state))
        .collect();
    if down.is_empty() {
        return Ok(());
    }
    Err(Failure::new(exit::NOT_RUNNING, format!("not up: {}", down.join(", "))))
}
