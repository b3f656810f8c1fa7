//! The embedded supervisor: a daemon that stores service registrations and enforces
//! their `depends_on` edges itself, whichever client starts a service.
//!
//! [`run`] serves the API on a Unix socket until `shutdown`, SIGTERM or SIGINT, then
//! stops every action in reverse dependency order. The state machine is a pure
//! reconciler (`engine`); the actor (`actor`) feeds it inputs and carries out its
//! effects, off the engine's thread wherever they block.

mod actor;
mod engine;
mod graph;
mod heap;
mod monitor;
mod notify;
mod probe;
pub(crate) mod process;
mod readiness;
mod server;
mod spawner;
mod store;
mod sys;
mod timer;
mod title;

use std::path::PathBuf;
use std::time::Duration;

pub use actor::run;
pub use readiness::accepts as socket_accepts;

/// Where the supervisor keeps things, and its timeouts.
#[derive(Clone, Debug)]
pub struct Config {
    /// The API socket.
    pub socket: PathBuf,
    /// Registrations, process records and logs.
    pub state_dir: PathBuf,
    /// Where bare program names are found.
    pub bin_dir: PathBuf,
    /// Where relative socket names are resolved.
    pub socket_dir: PathBuf,
    /// How long a dependent waits for a gate when the edge sets no timeout.
    pub default_timeout_ms: u64,
    /// How long an action may take to accept on its socket when it sets no timeout.
    pub default_start_timeout_ms: u64,
    /// Between SIGTERM and SIGKILL.
    pub stop_grace: Duration,
    /// A log file is rotated when it would grow past this many bytes.
    pub log_max_bytes: u64,
    /// How many log files an action keeps, the live one included.
    pub log_files: u32,
    /// The environment every daemon starts with, before the supervisor's own variables
    /// and the manifest's `env`: never the launching shell's.
    pub base_env: Vec<(String, String)>,
}

/// The size at which a log (a daemon's, and a launched supervisor's own) is rotated, in
/// bytes (default 1 MiB).
pub const LOG_MAX_BYTES_ENV: &str = "SERVICE_MANIFEST_LOG_MAX_BYTES";

impl Config {
    /// Where daemons with `ready = "notify"` send their `sd_notify` datagrams.
    pub fn notify_socket(&self) -> PathBuf {
        self.state_dir.join("notify.sock")
    }

    /// The defaults from [`crate::paths`]: environment variables, then the home directory.
    pub fn from_env() -> Self {
        let socket = crate::paths::supervisor_socket();
        Self {
            state_dir: crate::paths::state_dir_for(&socket),
            socket,
            bin_dir: crate::paths::bin_dir(),
            socket_dir: crate::paths::socket_dir(),
            default_timeout_ms: 30_000,
            default_start_timeout_ms: 30_000,
            stop_grace: Duration::from_secs(5),
            log_max_bytes: std::env::var(LOG_MAX_BYTES_ENV)
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(1 << 20),
            log_files: 3,
            base_env: base_env(),
        }
    }
}

/// The fixed environment of a daemon: a standard `PATH`, and who and where the user is
/// (`HOME`, `USER`, `LOGNAME`, `LANG`, `XDG_RUNTIME_DIR` when the supervisor has them).
/// Everything else the launching shell had (secrets included) stays out.
pub fn base_env() -> Vec<(String, String)> {
    let mut env = vec![("PATH".to_owned(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned())];
    for key in ["HOME", "USER", "LOGNAME", "XDG_RUNTIME_DIR"] {
        if let Ok(value) = std::env::var(key) {
            env.push((key.to_owned(), value));
        }
    }
    env.push(("LANG".to_owned(), std::env::var("LANG").unwrap_or_else(|_| "C.UTF-8".to_owned())));
    env
}

/// Why the supervisor could not run.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// Another supervisor holds the state directory.
    #[error("another supervisor is already running with state in {0}")]
    AlreadyRunning(PathBuf),
    /// A file system or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The saved state could not be read.
    #[error("{0}")]
    State(String),
    /// A directory of ours could be changed by another user.
    #[error(transparent)]
    Untrusted(#[from] crate::trust::Untrusted),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SupervisorError {
    let what = what.into();
    move |source| SupervisorError::Io { what, source }
}

/// Creates the supervisor's directories (mode 0700) where they do not exist: the API
/// socket's, the state directory and the socket directory; then checks that no other
/// user can change any of them (see [`crate::trust`]). Everything the supervisor reads
/// back (registrations that name programs it runs) and writes (logs, exit records) lives
/// there, so a directory another user made or can write is refused, naming it.
pub fn create_state_dir(cfg: &Config) -> Result<(), SupervisorError> {
    let socket_parent = cfg.socket.parent().filter(|p| !p.as_os_str().is_empty());
    for dir in socket_parent.into_iter().chain([cfg.state_dir.as_path(), cfg.socket_dir.as_path()]) {
        crate::trust::private_dir(dir)?;
    }
    Ok(())
}

/// The most threads the supervisor's blocking work (spawns waiting for their exec, log
/// reads, program look-ups) may use at once; more waits its turn. Every such job is
/// bounded (a spawn by its start timeout), so a queue drains; tokio's default of 512
/// grew to hundreds of threads at 10,000 services.
pub const BLOCKING_THREADS: usize = 32;

/// Runs the supervisor on a runtime of its own (for a `main` that has none): one thread
/// for the engine and its I/O, and at most [`BLOCKING_THREADS`] for blocking work.
pub fn run_blocking(cfg: Config) -> Result<(), SupervisorError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .map_err(io("starting the async runtime"))?;
    runtime.block_on(run(cfg))
}

/// Descriptors the supervisor keeps for itself (sockets, the watcher, the store, the
/// spawner), before any action's.
const OWN_FILES: u64 = 64;
/// Descriptors one live action holds: a monitor's report pipe, or an adopted group's two pidfds.
pub(crate) const FILES_PER_ACTION: u64 = 2;

/// Raises the soft limit on open files to the hard limit (each live action holds
/// descriptors) and returns the limit now in force.
fn raise_open_files() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!("cannot raise the open-files limit: {e}");
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// How many live actions `limit` open files leave room for.
pub(crate) fn action_capacity(limit: u64) -> u64 {
    limit.saturating_sub(OWN_FILES) / FILES_PER_ACTION
}

/// One supervisor per state directory: an exclusive lock held for the process's life.
fn lock(cfg: &Config) -> Result<std::fs::File, SupervisorError> {
    let path = cfg.state_dir.join("supervisor.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("opening {}", path.display())))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| SupervisorError::AlreadyRunning(cfg.state_dir.clone()))?;
    Ok(file)
}
