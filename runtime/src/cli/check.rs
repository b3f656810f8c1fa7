//! Checks before anything runs (`--check`, `--plan`, and up front in `--start`): every
//! program the start would run is in the bin directory, and every socket path fits in a
//! Unix socket address.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::Relation;
use crate::paths::{MAX_SOCKET_PATH, resolve_exec, resolve_socket};
use crate::spec::ServiceSpec;

/// The directories a start resolves names in.
#[derive(Clone, Debug)]
pub(super) struct Dirs {
    pub bin_dir: PathBuf,
    pub socket_dir: PathBuf,
    /// The supervisor's socket, checked only when one would be launched.
    pub launch_socket: Option<PathBuf>,
}

/// What the checks found: `problems` stop a start, `warnings` do not.
#[derive(Debug, Default)]
pub(super) struct Findings {
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

/// Checks `spec` against `dirs`. `defined` are the services the running supervisor already
/// has: a dependency on one of them needs nothing from this bin directory.
pub(super) fn check(spec: &ServiceSpec, dirs: &Dirs, defined: &BTreeSet<String>) -> Findings {
    let mut found = Findings::default();
    for a in &spec.actions {
        if let Some(problem) = missing_program(&dirs.bin_dir, &a.exec) {
            found.problems.push(format!("{}/{}: {problem}", spec.name, a.name));
        }
        let sockets = a.socket.iter().chain(a.depends_on.iter().filter_map(|d| d.socket.as_ref()));
        for s in sockets {
            let path = resolve_socket(&dirs.socket_dir, s);
            if let Some(problem) = too_long(&path) {
                found.problems.push(format!("{}/{}: socket {problem}", spec.name, a.name));
            }
        }
        for dep in &a.depends_on {
            let Some(bin) = &dep.action else { continue };
            if dep.relation == Relation::After || dep.service == spec.name || defined.contains(&dep.service) {
                continue;
            }
            if let Some(problem) = missing_program(&dirs.bin_dir, bin) {
                let line = format!(
                    "{}/{}: dependency {}: {problem}. {}",
                    spec.name,
                    a.name,
                    dep.label(),
                    foreign_hint(dep, bin, &dirs.bin_dir)
                );
                match dep.relation {
                    Relation::Wants => {
                        found.warnings.push(format!("{line} (only wanted: the start goes on without it)"))
                    }
                    _ => found.problems.push(line),
                }
            }
        }
    }
    if let Some(socket) = &dirs.launch_socket
        && let Some(problem) = too_long(socket)
    {
        found.problems.push(format!("the supervisor socket {problem}"));
    }
    dedup(&mut found.problems);
    dedup(&mut found.warnings);
    found
}

/// How a daemon of another service gets here: it is built by that service's own crate,
/// not by this one, so nothing this CLI builds or installs provides it.
fn foreign_hint(dep: &crate::spec::ActionDep, bin: &str, bin_dir: &Path) -> String {
    let krate = dep.crate_name.as_deref().unwrap_or(bin);
    format!(
        "{bin} is {}'s, built by its crate `{krate}`: install it into {} (`cargo install {krate} --root <prefix>` \
         puts it in <prefix>/bin; then --bin-dir <prefix>/bin), or start {} with its own CLI first (a service the \
         supervisor already runs needs nothing here)",
        dep.service,
        bin_dir.display(),
        dep.service
    )
}

fn dedup(lines: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    lines.retain(|l| seen.insert(l.clone()));
}

fn missing_program(bin_dir: &Path, exec: &str) -> Option<String> {
    let path = resolve_exec(bin_dir, exec);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => None,
        Ok(m) if m.is_file() => Some(format!("{} is not executable", path.display())),
        Ok(_) => Some(format!("{} is not a file", path.display())),
        Err(_) => Some(format!("{} does not exist; install it into the bin directory first", path.display())),
    }
}

fn too_long(path: &Path) -> Option<String> {
    let len = path.as_os_str().len();
    (len > MAX_SOCKET_PATH)
        .then(|| format!("{} is {len} bytes; a Unix socket address holds at most {MAX_SOCKET_PATH}", path.display()))
}
