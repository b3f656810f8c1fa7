//! Where things live: the supervisor's socket and state, service sockets, binaries.
//!
//! Everything hangs off one home directory (`SERVICE_MANIFEST_HOME`, else
//! `$XDG_RUNTIME_DIR/service_manifest`, else `~/.service_manifest`), and each path
//! can be overridden on its own by environment variable or flag.

use std::path::{Path, PathBuf};

/// The home directory of the supervisor's files.
pub const HOME_ENV: &str = "SERVICE_MANIFEST_HOME";
/// The supervisor's socket.
pub const SOCKET_ENV: &str = "SERVICE_MANIFEST_SUPERVISOR_SOCKET";
/// The directory relative service socket names are resolved in.
pub const SOCKET_DIR_ENV: &str = "SERVICE_MANIFEST_SOCKET_DIR";
/// The directory bare binary names are looked up in.
pub const BIN_DIR_ENV: &str = "SERVICE_MANIFEST_BIN_DIR";

/// The home directory: `SERVICE_MANIFEST_HOME`, `$XDG_RUNTIME_DIR/service_manifest`,
/// or `~/.service_manifest`.
pub fn home() -> PathBuf {
    if let Some(dir) = std::env::var_os(HOME_ENV) {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        return Path::new(&dir).join("service_manifest");
    }
    user_home().join(".service_manifest")
}

fn user_home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
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
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| user_home().join("hero").join("bin"))
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
