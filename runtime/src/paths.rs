//! Where things live: the supervisor's socket and state, service sockets, binaries.
//!
//! Everything hangs off one home directory (`SERVICE_MANIFEST_HOME`, else
//! `$XDG_RUNTIME_DIR/service_manifest`, else `~/.service_manifest`, else
//! `/tmp/service_manifest-<uid>`), and each path can be overridden on its own by
//! environment variable or flag. Whichever it is, the supervisor uses it only once it has
//! checked that no other user can change it (see `trust`).

use std::path::{Path, PathBuf};

pub use service_manifest_core::MAX_SOCKET_PATH;

/// The home directory of the supervisor's files.
pub const HOME_ENV: &str = "SERVICE_MANIFEST_HOME";
/// The supervisor's socket.
pub const SOCKET_ENV: &str = "SERVICE_MANIFEST_SUPERVISOR_SOCKET";
/// The directory relative service socket names are resolved in.
pub const SOCKET_DIR_ENV: &str = "SERVICE_MANIFEST_SOCKET_DIR";
/// The directory bare binary names are looked up in.
pub const BIN_DIR_ENV: &str = "SERVICE_MANIFEST_BIN_DIR";

/// The home directory: `SERVICE_MANIFEST_HOME`, `$XDG_RUNTIME_DIR/service_manifest`,
/// `~/.service_manifest`, or (with neither variable set, as under cron or `env -i`) a
/// directory of this user's own in `/tmp`, `/tmp/service_manifest-<uid>`, which the
/// supervisor refuses to use unless it is this user's and private (as tmux does).
pub fn home() -> PathBuf {
    home_from(|name| std::env::var_os(name), rustix::process::geteuid().as_raw())
}

/// [`home`], with the environment read through `var` and the user's uid given.
fn home_from(var: impl Fn(&str) -> Option<std::ffi::OsString>, uid: u32) -> PathBuf {
    let var = |name: &str| var(name).filter(|d| !d.is_empty());
    if let Some(dir) = var(HOME_ENV) {
        return dir.into();
    }
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        return Path::new(&dir).join("service_manifest");
    }
    match var("HOME") {
        Some(home) => Path::new(&home).join(".service_manifest"),
        None => PathBuf::from(format!("/tmp/service_manifest-{uid}")),
    }
}

/// `~/hero/bin`, or `<home>/bin` when there is no `HOME`: never a shared directory.
fn default_bin_dir() -> PathBuf {
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Path::new(&home).join("hero").join("bin"),
        None => home().join("bin"),
    }
}

/// The supervisor's socket: `SERVICE_MANIFEST_SUPERVISOR_SOCKET`, else `<home>/supervisor.sock`.
pub fn supervisor_socket() -> PathBuf {
    std::env::var_os(SOCKET_ENV).map_or_else(|| home().join("supervisor.sock"), PathBuf::from)
}

/// The state directory of the supervisor listening on `socket`: beside it, so that a
/// socket chosen by flag brings its own state.
pub fn state_dir_for(socket: &Path) -> PathBuf {
    let name = socket.file_stem().map_or_else(|| "supervisor".into(), |s| s.to_string_lossy().into_owned());
    socket.parent().unwrap_or(Path::new(".")).join(format!("{name}.state"))
}

/// Where relative service socket names are resolved: `SERVICE_MANIFEST_SOCKET_DIR`,
/// else `<home>/sockets`.
pub fn socket_dir() -> PathBuf {
    std::env::var_os(SOCKET_DIR_ENV).map_or_else(|| home().join("sockets"), PathBuf::from)
}

/// Where bare binary names are found: `SERVICE_MANIFEST_BIN_DIR`, else the directory of
/// the running executable, else `~/hero/bin`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV) {
        return dir.into();
    }
    std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf)).unwrap_or_else(default_bin_dir)
}

/// Resolves a socket name against `dir` unless it is already absolute.
///
/// ```
/// use std::path::Path;
/// use service_manifest_runtime::paths::resolve_socket;
/// assert_eq!(resolve_socket(Path::new("/run/s"), "hero_proxy/proxy.sock"), Path::new("/run/s/hero_proxy/proxy.sock"));
/// assert_eq!(resolve_socket(Path::new("/run/s"), "/tmp/x.sock"), Path::new("/tmp/x.sock"));
/// ```
pub fn resolve_socket(dir: &Path, socket: &str) -> PathBuf {
    let path = Path::new(socket);
    if path.is_absolute() { path.to_path_buf() } else { dir.join(path) }
}

/// Resolves a program against `bin_dir` unless it contains a `/`.
pub fn resolve_exec(bin_dir: &Path, exec: &str) -> PathBuf {
    if exec.contains('/') { PathBuf::from(exec) } else { bin_dir.join(exec) }
}

/// The log of one action, as the supervisor with state in `state_dir` writes it:
/// `<state_dir>/logs/<service>/<action>.log`, older output in `<action>.log.1`, `.2`, …
pub fn action_log(state_dir: &Path, service: &str, action: &str) -> PathBuf {
    state_dir.join("logs").join(service).join(format!("{action}.log"))
}

/// The `n`th older file of a rotated log: `<live>.<n>` (`n` ≥ 1; the live file has no number).
///
/// ```
/// use std::path::Path;
/// let older = service_manifest_runtime::paths::rotated(Path::new("/s/logs/a/d.log"), 2);
/// assert_eq!(older, Path::new("/s/logs/a/d.log.2"));
/// ```
pub fn rotated(live: &Path, n: u32) -> PathBuf {
    let mut older = live.as_os_str().to_owned();
    older.push(format!(".{n}"));
    PathBuf::from(older)
}

/// Where an action's monitor records how its last process ended:
/// `<state_dir>/exits/<service>/<action>.status`.
#[cfg(feature = "supervisor")]
pub(crate) fn action_status(state_dir: &Path, service: &str, action: &str) -> PathBuf {
    state_dir.join("exits").join(service).join(format!("{action}.status"))
}

/// The supervisor's own log (its standard error), in its state directory.
pub fn supervisor_log(state_dir: &Path) -> PathBuf {
    state_dir.join("supervisor.log")
}

/// The places a CLI works with, resolved once from flags and environment variables.
///
/// Only the supervisor's socket always has a value. The bin and socket directories are
/// `Some` only when the user chose them (by flag or environment variable): a supervisor
/// that already runs keeps its own, and a choice that differs from it is an error, never
/// silently ignored. A supervisor the CLI launches gets the choice, or the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locations {
    /// The supervisor's socket.
    pub socket: PathBuf,
    /// The bin directory the user chose.
    pub bin_dir: Option<PathBuf>,
    /// The socket directory the user chose.
    pub socket_dir: Option<PathBuf>,
}

impl Locations {
    /// Flags first, then the environment ([`SOCKET_ENV`], [`BIN_DIR_ENV`], [`SOCKET_DIR_ENV`]),
    /// then the defaults; relative paths are made absolute against the current directory,
    /// so a launched supervisor and a later CLI in another directory agree.
    pub fn resolve(socket: Option<&Path>, bin_dir: Option<&Path>, socket_dir: Option<&Path>) -> Self {
        let chosen = |flag: Option<&Path>, env: &str| {
            flag.map(Path::to_path_buf).or_else(|| std::env::var_os(env).filter(|v| !v.is_empty()).map(PathBuf::from))
        };
        Self {
            socket: absolute(chosen(socket, SOCKET_ENV).unwrap_or_else(|| home().join("supervisor.sock"))),
            bin_dir: chosen(bin_dir, BIN_DIR_ENV).map(absolute),
            socket_dir: chosen(socket_dir, SOCKET_DIR_ENV).map(absolute),
        }
    }

    /// The supervisor's state directory, beside its socket.
    pub fn state_dir(&self) -> PathBuf {
        state_dir_for(&self.socket)
    }

    /// The bin directory a supervisor launched from here uses: the choice, else [`bin_dir`].
    pub fn bin_dir_or_default(&self) -> PathBuf {
        self.bin_dir.clone().unwrap_or_else(bin_dir)
    }

    /// The socket directory a supervisor launched from here uses: the choice, else
    /// `<home>/sockets`.
    pub fn socket_dir_or_default(&self) -> PathBuf {
        self.socket_dir.clone().unwrap_or_else(|| home().join("sockets"))
    }
}

/// `path` made absolute against the current directory, without touching the file system.
pub fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_runtime_dir_or_home_the_home_is_the_user_s_own_never_a_shared_path() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| std::ffi::OsString::from(v))
        };
        assert_eq!(home_from(env(&[]), 0), Path::new("/tmp/service_manifest-0"));
        assert_eq!(home_from(env(&[("HOME", "")]), 1000), Path::new("/tmp/service_manifest-1000"));
        assert_eq!(home_from(env(&[("HOME", "/home/u")]), 1000), Path::new("/home/u/.service_manifest"));
        let xdg = env(&[("HOME", "/home/u"), ("XDG_RUNTIME_DIR", "/run/user/1000")]);
        assert_eq!(home_from(xdg, 1000), Path::new("/run/user/1000/service_manifest"));
        assert_eq!(home_from(env(&[(HOME_ENV, "/srv/sm"), ("HOME", "/home/u")]), 0), Path::new("/srv/sm"));
    }

    #[test]
    fn chosen_directories_are_absolute_and_defaults_are_not_a_choice() {
        let at = Locations::resolve(Some(Path::new("rel/s.sock")), Some(Path::new("bin")), None);
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(at.socket, cwd.join("rel/s.sock"));
        assert_eq!(at.bin_dir, Some(cwd.join("bin")));
        assert_eq!(at.state_dir(), cwd.join("rel/s.state"));
        if std::env::var_os(SOCKET_DIR_ENV).is_none() {
            assert_eq!(at.socket_dir, None, "not chosen: a running supervisor's own is used");
        }
    }
}
