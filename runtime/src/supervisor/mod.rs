//! The embedded supervisor: a daemon that stores service registrations and enforces
//! their `depends_on` edges itself, whichever client starts a service.
//!
//! [`run`] serves the API on a Unix socket until `shutdown`, SIGTERM or SIGINT, then
//! stops every action in reverse dependency order.

mod engine;
mod gates;
mod graph;
mod process;
mod readiness;
mod server;
mod store;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::api::{Request, RpcError};
use crate::spec::ActionSpec;
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
}

impl Config {
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
        }
    }

    fn start_timeout(&self, spec: &ActionSpec) -> Duration {
        Duration::from_millis(spec.start_timeout_ms.unwrap_or(self.default_start_timeout_ms))
    }
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
}

pub(crate) enum Msg {
    Call(Request, oneshot::Sender<Result<serde_json::Value, RpcError>>),
    Exited {
        key: engine::Key,
        generation: u64,
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// Entries appeared in a watched socket directory.
    Wake(Vec<PathBuf>),
    /// SIGTERM or SIGINT: stop everything, then exit.
    Terminate,
    /// The answer to `shutdown` has been written.
    ExitNow,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SupervisorError {
    let what = what.into();
    move |source| SupervisorError::Io { what, source }
}

/// Creates the state directory (mode 0700) if it does not exist.
pub fn create_state_dir(cfg: &Config) -> Result<(), SupervisorError> {
    readiness::create_private_dir(&cfg.state_dir).map_err(io(format!("creating {}", cfg.state_dir.display())))
}

/// Runs the supervisor on the current tokio runtime until it is shut down.
pub async fn run(cfg: Config) -> Result<(), SupervisorError> {
    create_state_dir(&cfg)?;
    let _lock = lock(&cfg)?;
    let listener = server::bind(&cfg.socket).map_err(io(format!("binding {}", cfg.socket.display())))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut engine = engine::Engine::load(cfg.clone(), tx.clone()).map_err(SupervisorError::State)?;
    let server = tokio::spawn(server::serve(listener, tx.clone()));
    tokio::spawn(forward_signals(tx.clone()));
    tracing::info!("supervisor listening on {}", cfg.socket.display());
    engine.reconcile();
    let mut terminating = false;
    loop {
        let msg = match engine.next_deadline() {
            Some(deadline) => tokio::select! {
                msg = rx.recv() => msg,
                () = tokio::time::sleep_until(deadline) => None,
            },
            None => rx.recv().await,
        };
        match msg {
            Some(Msg::Call(request, reply)) => engine.call(request, reply),
            Some(Msg::Exited { key, generation, code, signal }) => engine.exited(key, generation, code, signal),
            Some(Msg::Wake(paths)) => engine.woken(paths),
            Some(Msg::Terminate) if !terminating => {
                terminating = true;
                let (reply, _) = oneshot::channel();
                engine.call(Request::Shutdown, reply);
            }
            Some(Msg::Terminate) => {}
            Some(Msg::ExitNow) if engine.exit => break,
            Some(Msg::ExitNow) => {}
            // A deadline passed: reconcile below does what is due.
            None => {}
        }
        engine.reconcile();
        if terminating && engine.exit {
            break;
        }
    }
    server.abort();
    let _ = std::fs::remove_file(&cfg.socket);
    Ok(())
}

/// Runs the supervisor on a runtime of its own (for a `main` that has none).
pub fn run_blocking(cfg: Config) -> Result<(), SupervisorError> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(io("starting the async runtime"))?;
    runtime.block_on(run(cfg))
}

async fn forward_signals(tx: mpsc::UnboundedSender<Msg>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        if tx.send(Msg::Terminate).is_err() {
            return;
        }
    }
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
