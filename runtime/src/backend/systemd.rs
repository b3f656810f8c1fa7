//! The systemd export: a registration as unit files, so that systemd enforces the same
//! ordering the embedded supervisor does.
//!
//! [`export`] is pure (registrations in, unit texts out); [`write()`] puts them in a
//! directory. One `.service` per started action, named [`unit_name`]`(service, action)`,
//! and one `.target` per service ([`target_name`]) that pulls its actions in. Names depend
//! only on the service and action names, so the `Requires=` a dependent writes names the
//! very unit the dependency's own export writes.
//!
//! | registration | unit |
//! |---|---|
//! | `requires` edge | `Requires=` + `After=` |
//! | `wants` edge | `Wants=` + `After=` |
//! | `after` edge | `After=` |
//! | socket served | `ExecStartPost=service-manifest-wait-socket …`: active only once it accepts |
//! | a dependent gates on `completed` | `Type=oneshot` + `RemainAfterExit=yes` |
//! | `ready = "notify"` | `Type=notify` |
//! | otherwise | `Type=exec` |
//! | restart policy, start limit | `Restart=`, `RestartSec=`, `StartLimitBurst=`, `StartLimitIntervalSec=` |
//! | start timeout | `TimeoutStartSec=` |
//! | `watchdog` | `WatchdogSec=` (systemd's own `WATCHDOG=1` protocol and `SIGABRT`) |
//! | `[binaries.health]`, a `healthy` gate | not expressible: see [`export_notes`] |
//! | env, args | `Environment=`, `ExecStart=` quoted by [`quote::systemd_word`] |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::backend::quote::{self, SystemdContext};
use crate::paths::{resolve_exec, resolve_socket};
use crate::spec::{ActionDep, ActionSpec, ServiceSpec};
use crate::{ReadyGate, Relation, RestartPolicy};

/// The waiter every socket-serving unit runs as `ExecStartPost=`; see
/// [`wait_socket`](crate::backend::wait_socket).
pub const WAIT_SOCKET_PROGRAM: &str = "service-manifest-wait-socket";

/// The embedded supervisor's start limit, which the units copy.
const START_LIMIT_BURST: u32 = 5;
const START_LIMIT_INTERVAL_S: u32 = 60;
/// The embedded supervisor's first restart back-off.
const RESTART_SEC: &str = "100ms";

/// Where the exported units point, and the defaults the embedded supervisor would apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// Where bare program names resolve (absolute: systemd wants absolute programs).
    pub bin_dir: PathBuf,
    /// Where relative socket names resolve.
    pub socket_dir: PathBuf,
    /// The socket waiter (default: [`Waiter::standalone`](super::Waiter::standalone) in
    /// `bin_dir`; the CLI's `--export` names the CLI itself, [`Waiter::this_program`](super::Waiter::this_program)).
    pub waiter: super::Waiter,
    /// An action's start timeout when it sets none, in milliseconds.
    pub default_start_timeout_ms: u64,
    /// A socket-only dependency's timeout when the edge sets none, in milliseconds.
    pub default_timeout_ms: u64,
    /// Between SIGTERM and SIGKILL, in milliseconds.
    pub stop_grace_ms: u64,
}

impl ExportOptions {
    /// The embedded supervisor's defaults, with programs in `bin_dir` and sockets in `socket_dir`.
    ///
    /// ```
    /// use service_manifest_runtime::backend::systemd::ExportOptions;
    /// let o = ExportOptions::new("/opt/hero/bin", "/run/hero/sockets");
    /// assert_eq!(o.waiter.program, std::path::Path::new("/opt/hero/bin/service-manifest-wait-socket"));
    /// ```
    pub fn new(bin_dir: impl Into<PathBuf>, socket_dir: impl Into<PathBuf>) -> Self {
        let bin_dir = bin_dir.into();
        Self {
            waiter: super::Waiter::standalone(&bin_dir),
            bin_dir,
            socket_dir: socket_dir.into(),
            default_start_timeout_ms: 30_000,
            default_timeout_ms: 30_000,
            stop_grace_ms: 5_000,
        }
    }
}

/// One unit file: its name (`hero_proxy.hero_proxy_server.service`) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitFile {
    /// The file name, which is the unit name.
    pub name: String,
    /// The file's contents.
    pub text: String,
}

/// Why a registration cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A name holds a character systemd does not allow in a unit name.
    #[error("`{name}` cannot be part of a systemd unit name: use letters, digits, `_`, `-` and `.`")]
    BadName {
        /// The offending service or action name.
        name: String,
    },
    /// Two actions map to one unit name (`a.b` + `c` and `a` + `b.c`).
    #[error("{first} and {second} would both be exported as {unit}; rename one of them")]
    Collision {
        /// The shared unit name.
        unit: String,
        /// The first action, `service/action`.
        first: String,
        /// The second action.
        second: String,
    },
    /// A program does not resolve to an absolute path.
    #[error("{action}: ExecStart= needs an absolute program, and `{program}` is not (give an absolute bin directory)")]
    RelativeProgram {
        /// The action, `service/action`.
        action: String,
        /// The program as resolved.
        program: String,
    },
    /// The same service was given twice.
    #[error("service {0} was given twice")]
    DuplicateService(String),
    /// Writing a unit file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The unit name of `service`'s action `action`: `service.action.service`.
///
/// ```
/// use service_manifest_runtime::backend::systemd::unit_name;
/// assert_eq!(unit_name("hero_proxy", "hero_proxy_server"), "hero_proxy.hero_proxy_server.service");
/// ```
pub fn unit_name(service: &str, action: &str) -> String {
    format!("{service}.{action}.service")
}

/// The target grouping `service`'s actions: `service.target`.
pub fn target_name(service: &str) -> String {
    format!("{service}.target")
}

/// The systemd directives a relation becomes on the dependent.
pub fn directives(relation: Relation) -> &'static [&'static str] {
    match relation {
        Relation::Requires => &["Requires", "After"],
        Relation::Wants => &["Wants", "After"],
        Relation::After => &["After"],
        Relation::Conflicts => &["Conflicts"],
    }
}

fn check_name(name: &str) -> Result<(), ExportError> {
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok { Ok(()) } else { Err(ExportError::BadName { name: name.to_owned() }) }
}

/// Exports `specs` as unit files: per service, its actions' `.service` units in
/// registration order, then its `.target`. Deterministic: the same input gives the same
/// bytes.
///
/// An action becomes `Type=oneshot` when an edge in `specs` gates on it with
/// `completed`, so export a one-shot together with what waits for it.
///
/// ```
/// use service_manifest_runtime::backend::systemd::{export, ExportOptions};
/// use service_manifest_runtime::{ActionSpec, BinaryKind, ServiceBuilder};
/// let spec = ServiceBuilder::new("demo").action(ActionSpec::new("demo_server", BinaryKind::Server).socket("demo.sock")).build();
/// let units = export(&[spec], &ExportOptions::new("/opt/bin", "/run/demo")).unwrap();
/// assert_eq!(units[0].name, "demo.demo_server.service");
/// assert!(units[0].text.contains("ExecStartPost=/opt/bin/service-manifest-wait-socket --timeout-ms 30000 /run/demo/demo.sock\n"));
/// assert_eq!(units[1].name, "demo.target");
/// ```
pub fn export(specs: &[ServiceSpec], options: &ExportOptions) -> Result<Vec<UnitFile>, ExportError> {
    let mut seen_services = BTreeSet::new();
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    let mut oneshots = BTreeSet::new();
    for spec in specs {
        check_name(&spec.name)?;
        if !seen_services.insert(spec.name.as_str()) {
            return Err(ExportError::DuplicateService(spec.name.clone()));
        }
        for action in &spec.actions {
            check_name(&action.name)?;
            let unit = unit_name(&spec.name, &action.name);
            let label = format!("{}/{}", spec.name, action.name);
            if let Some(first) = owners.insert(unit.clone(), label.clone()) {
                return Err(ExportError::Collision { unit, first, second: label });
            }
            for dep in &action.depends_on {
                check_name(&dep.service)?;
                if let Some(a) = &dep.action {
                    check_name(a)?;
                    if dep.ready == ReadyGate::Completed {
                        oneshots.insert(unit_name(&dep.service, a));
                    }
                }
            }
        }
    }
    let mut units = Vec::new();
    for spec in specs {
        for action in &spec.actions {
            let oneshot = oneshots.contains(&unit_name(&spec.name, &action.name));
            units.push(UnitFile {
                name: unit_name(&spec.name, &action.name),
                text: service_unit(spec, action, oneshot, options)?,
            });
        }
        units.push(UnitFile { name: target_name(&spec.name), text: target_unit(spec) });
    }
    Ok(units)
}

/// What the units cannot say that the registrations do, one line each: systemd has no
/// periodic probe, so a health check is left out and a `healthy` gate orders only.
pub fn export_notes(specs: &[ServiceSpec]) -> Vec<String> {
    let mut notes = Vec::new();
    for spec in specs {
        for action in &spec.actions {
            let who = format!("{}/{}", spec.name, action.name);
            if action.health.is_some() {
                notes.push(format!(
                    "{who}: its health check is not exported (systemd has no periodic probe; `watchdog` is exported)"
                ));
            }
            for dep in action.depends_on.iter().filter(|d| d.ready == ReadyGate::Healthy) {
                notes.push(format!(
                    "{who}: the `healthy` gate on {} waits only until that unit is active (its socket accepts)",
                    dep.label()
                ));
            }
        }
    }
    notes
}

fn command(words: impl IntoIterator<Item = String>) -> String {
    words.into_iter().map(|w| quote::systemd_word(&w, SystemdContext::Command)).collect::<Vec<_>>().join(" ")
}

fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

fn wait_command(options: &ExportOptions, timeout_ms: u64, socket: &Path) -> String {
    command(options.waiter.words().into_iter().chain([
        "--timeout-ms".into(),
        timeout_ms.to_string(),
        socket.display().to_string(),
    ]))
}

fn service_unit(
    spec: &ServiceSpec,
    action: &ActionSpec,
    oneshot: bool,
    options: &ExportOptions,
) -> Result<String, ExportError> {
    let label = format!("{}/{}", spec.name, action.name);
    let program = resolve_exec(&options.bin_dir, &action.exec);
    if !program.is_absolute() {
        return Err(ExportError::RelativeProgram { action: label, program: program.display().to_string() });
    }
    let wait = |timeout_ms: u64, socket: &Path| {
        if options.waiter.program.is_absolute() {
            Ok(wait_command(options, timeout_ms, socket))
        } else {
            Err(ExportError::RelativeProgram {
                action: label.clone(),
                program: options.waiter.program.display().to_string(),
            })
        }
    };
    let socket = action.socket.as_deref().map(|s| resolve_socket(&options.socket_dir, s));
    let start_timeout_ms = action.start_timeout_ms.unwrap_or(options.default_start_timeout_ms);

    let mut out = String::new();
    let _ =
        writeln!(out, "# Generated by service_manifest from {}'s registration: regenerate, do not edit.", spec.name);
    out.push_str("[Unit]\n");
    let _ = writeln!(out, "Description={}", quote_free(&format!("{label} ({})", action.kind)));
    let _ = writeln!(out, "PartOf={}", target_name(&spec.name));
    let mut pre = Vec::new();
    for dep in &action.depends_on {
        match &dep.action {
            Some(a) => {
                let unit = unit_name(&dep.service, a);
                for directive in directives(dep.relation) {
                    let _ = writeln!(out, "{directive}={unit}");
                }
            }
            None => pre.push(socket_only(dep, options, &wait)?),
        }
    }
    let _ = writeln!(out, "StartLimitIntervalSec={START_LIMIT_INTERVAL_S}");
    let _ = writeln!(out, "StartLimitBurst={START_LIMIT_BURST}");

    out.push_str("\n[Service]\n");
    let restart = match action.restart {
        RestartPolicy::Never => "no",
        RestartPolicy::OnFailure => "on-failure",
        // systemd refuses Restart=always on a one-shot; on-failure is the nearest it takes.
        RestartPolicy::Always if oneshot => "on-failure",
        RestartPolicy::Always => "always",
    };
    if oneshot {
        out.push_str("Type=oneshot\nRemainAfterExit=yes\n");
    } else if action.notify {
        // The daemon speaks sd_notify already: systemd's own readiness protocol.
        out.push_str("Type=notify\n");
    } else {
        out.push_str("Type=exec\n");
    }
    if let Some(dir) = socket.as_deref().and_then(Path::parent) {
        // The embedded supervisor creates socket directories (0700); so does the unit.
        let create =
            command(options.waiter.words().into_iter().chain(["--create-dir".into(), dir.display().to_string()]));
        let _ = writeln!(out, "ExecStartPre={create}");
    }
    for line in pre {
        out.push_str(&line);
    }
    let argv = std::iter::once(program.display().to_string()).chain(action.args.iter().cloned());
    let _ = writeln!(out, "ExecStart={}", command(argv));
    if let Some(socket) = &socket {
        let _ = writeln!(out, "ExecStartPost={}", wait(start_timeout_ms, socket)?);
    }
    let mut env = vec![
        ("SERVICE_MANIFEST_SERVICE".to_owned(), spec.name.clone()),
        ("SERVICE_MANIFEST_ACTION".to_owned(), action.name.clone()),
        (crate::paths::SOCKET_DIR_ENV.to_owned(), options.socket_dir.display().to_string()),
    ];
    if let Some(socket) = &socket {
        env.push(("SERVICE_MANIFEST_SOCKET".to_owned(), socket.display().to_string()));
    }
    env.extend(action.env.iter().cloned());
    for (key, value) in env {
        let _ = writeln!(
            out,
            "Environment={}",
            quote::systemd_word(&format!("{key}={value}"), SystemdContext::Environment)
        );
    }
    let _ = writeln!(out, "Restart={restart}");
    let _ = writeln!(out, "RestartSec={RESTART_SEC}");
    let _ = writeln!(out, "TimeoutStartSec={}", seconds(start_timeout_ms));
    if let Some(ms) = action.watchdog_ms {
        // NotifyAccess= defaults to main with WatchdogSec=, and WatchdogSignal= to SIGABRT:
        // what the embedded supervisor does.
        let _ = writeln!(out, "WatchdogSec={}", seconds(ms));
    }
    let _ = writeln!(out, "TimeoutStopSec={}", seconds(options.stop_grace_ms));
    // The control group is the unit: a child the action spawns (lk-backend) stops with it.
    out.push_str("KillMode=control-group\n");
    Ok(out)
}

/// A dependency known only by its socket has no unit to order against: the dependent
/// waits for the socket itself before it starts (`-` keeps a `wants` edge soft).
fn socket_only(
    dep: &ActionDep,
    options: &ExportOptions,
    wait: &dyn Fn(u64, &Path) -> Result<String, ExportError>,
) -> Result<String, ExportError> {
    let Some(socket) = &dep.socket else {
        return Ok(format!("# {}: names neither a binary nor a socket; nothing to enforce\n", dep.label()));
    };
    let socket = resolve_socket(&options.socket_dir, socket);
    let timeout = dep.timeout_ms.unwrap_or(options.default_timeout_ms);
    Ok(match dep.relation {
        Relation::Requires => format!("ExecStartPre={}\n", wait(timeout, &socket)?),
        Relation::Wants => format!("ExecStartPre=-{}\n", wait(timeout, &socket)?),
        // `after` never waits for what is not starting, and a bare socket has no unit to
        // order against: nothing to enforce (nor for any relation added later).
        other => format!("# {other} {}: no unit to relate to; not enforced\n", dep.label()),
    })
}

/// `Description=` takes the rest of the line verbatim except `%` specifiers.
fn quote_free(text: &str) -> String {
    text.replace('%', "%%").replace('\n', " ")
}

fn target_unit(spec: &ServiceSpec) -> String {
    let units: Vec<String> = spec.actions.iter().map(|a| unit_name(&spec.name, &a.name)).collect();
    let mut out = String::new();
    let _ =
        writeln!(out, "# Generated by service_manifest from {}'s registration: regenerate, do not edit.", spec.name);
    out.push_str("[Unit]\n");
    let _ = writeln!(out, "Description={}", quote_free(&format!("{}: every started action", spec.name)));
    for unit in &units {
        let _ = writeln!(out, "Wants={unit}");
    }
    // Ordered after its actions, so `systemctl start <service>.target` returns once all are ready.
    for unit in &units {
        let _ = writeln!(out, "After={unit}");
    }
    out.push_str("\n[Install]\nWantedBy=default.target\n");
    out
}

/// A unit file [`write()`] left on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// Where it is.
    pub path: PathBuf,
    /// Whether this call wrote it (its text differed, or it was missing).
    pub changed: bool,
}

/// Writes the units into `dir` (created if needed): each one atomically (beside, then
/// renamed, so systemd never reads half a unit), and only when its text changed. Says
/// of each whether it was written.
///
/// ```
/// use service_manifest_runtime::backend::systemd::{self, UnitFile};
/// let dir = tempfile::tempdir().unwrap();
/// let units = [UnitFile { name: "a.service".into(), text: "[Service]\nExecStart=/bin/true\n".into() }];
/// assert!(systemd::write(dir.path(), &units).unwrap()[0].changed);
/// assert!(!systemd::write(dir.path(), &units).unwrap()[0].changed, "unchanged: left alone");
/// ```
pub fn write(dir: &Path, units: &[UnitFile]) -> Result<Vec<Written>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io { path: dir.to_path_buf(), source })?;
    let mut written = Vec::new();
    for unit in units {
        let path = dir.join(&unit.name);
        let changed = std::fs::read_to_string(&path).ok().as_deref() != Some(unit.text.as_str());
        if changed {
            // Write beside and rename, so systemd never reads half a unit.
            let tmp = dir.join(format!(".{}.tmp", unit.name));
            std::fs::write(&tmp, &unit.text).map_err(|source| ExportError::Io { path: tmp.clone(), source })?;
            std::fs::rename(&tmp, &path).map_err(|source| ExportError::Io { path: path.clone(), source })?;
        }
        written.push(Written { path, changed });
    }
    Ok(written)
}
