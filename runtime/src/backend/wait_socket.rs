//! Waiting until a Unix socket accepts a connection, outside the supervisor: the
//! `service-manifest-wait-socket` program that systemd units run as `ExecStartPost=` and
//! zinit runs as an `exec` health check.
//!
//! Readiness is pushed where the kernel can push it: an inotify watch on the socket's
//! directory wakes the waiter when the socket appears, and a connect confirms it. Two
//! things send no event, so a short re-check (every [`RECHECK`]) covers them: the moment
//! between `bind()` (the file appears) and `listen()` (it accepts), and a directory that
//! does not exist yet. The wait is bounded by the caller's timeout.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

/// The longest the waiter sleeps without an event before trying the socket again.
pub const RECHECK: Duration = Duration::from_millis(100);

/// Whether something accepts connections on `socket` right now.
pub fn accepts(socket: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

/// Why a wait ended without a connection.
#[derive(Debug, thiserror::Error)]
#[error("{} did not accept a connection within {}ms", socket.display(), timeout.as_millis())]
pub struct WaitTimedOut {
    /// The socket waited on.
    pub socket: std::path::PathBuf,
    /// How long it was given.
    pub timeout: Duration,
}

/// Blocks until `socket` accepts a connection, or `timeout` passes.
///
/// ```no_run
/// use std::time::Duration;
/// use service_manifest_runtime::backend::wait_socket::wait;
/// wait("/run/hero/sockets/hero_proxy/proxy.sock".as_ref(), Duration::from_secs(10))?;
/// # Ok::<(), service_manifest_runtime::backend::wait_socket::WaitTimedOut>(())
/// ```
pub fn wait(socket: &Path, timeout: Duration) -> Result<(), WaitTimedOut> {
    let deadline = Instant::now() + timeout;
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(tx).ok();
    let mut watching = false;
    loop {
        // Watch before connecting, so a socket that appears in between still wakes us.
        if !watching && let (Some(w), Some(dir)) = (&mut watcher, socket.parent()) {
            watching = w.watch(dir, RecursiveMode::NonRecursive).is_ok();
        }
        if accepts(socket) {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitTimedOut { socket: socket.to_path_buf(), timeout });
        }
        let _ = rx.recv_timeout(RECHECK.min(deadline - now));
        // Drain the burst of events one bind causes; one connect answers them all.
        while rx.try_recv().is_ok() {}
    }
}

const USAGE: &str = "usage: service-manifest-wait-socket [--timeout-ms MS] SOCKET\n\
    \x20      service-manifest-wait-socket --create-dir DIR\n\
    Exits 0 once SOCKET accepts a connection, 1 when MS (default 30000) pass first.\n\
    --timeout-ms 0 tries once. --create-dir creates DIR (mode 0700, as the embedded\n\
    supervisor creates socket directories) and exits.";

/// Creates a socket directory as the embedded supervisor does: with its parents, mode 0700.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// The program's `main`: parses `args` (without argv\[0\]) and returns the exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> std::process::ExitCode {
    std::process::ExitCode::from(code(args))
}

/// [`run`]'s exit code as a number: 0 accepted (or created), 1 timed out or failed, 2 usage.
pub fn code(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    let mut timeout_ms: u64 = 30_000;
    let mut socket = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--timeout-ms") => match args.next().and_then(|v| v.to_str()?.parse().ok()) {
                Some(ms) => timeout_ms = ms,
                None => {
                    eprintln!("--timeout-ms needs a whole number of milliseconds\n{USAGE}");
                    return 2;
                }
            },
            Some("--create-dir") => {
                let Some(dir) = args.next() else {
                    eprintln!("--create-dir needs a directory\n{USAGE}");
                    return 2;
                };
                return match create_dir(Path::new(&dir)) {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("service-manifest-wait-socket: cannot create {}: {e}", Path::new(&dir).display());
                        1
                    }
                };
            }
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return 0;
            }
            _ if socket.is_none() => socket = Some(std::path::PathBuf::from(arg)),
            _ => {
                eprintln!("unexpected argument {arg:?}\n{USAGE}");
                return 2;
            }
        }
    }
    let Some(socket) = socket else {
        eprintln!("no socket given\n{USAGE}");
        return 2;
    };
    match wait(&socket, Duration::from_millis(timeout_ms)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("service-manifest-wait-socket: {e}");
            1
        }
    }
}
