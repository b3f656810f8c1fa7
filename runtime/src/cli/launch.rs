//! Finding the supervisor, or launching one from this executable (see [`super::role`]):
//! detached for `--start`, tied to this process for `--foreground`.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use super::exit::Failure;
use super::role;
use crate::client::{Client, ClientError};
use crate::paths::{self, Locations, MAX_SOCKET_PATH};
use crate::supervisor::{self, Config};

/// How long a freshly launched supervisor may take to answer. It is only reached when the
/// child neither answers nor exits, since an early exit is noticed at once.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(15);
/// How many lines of the supervisor's log an early exit shows.
const LOG_LINES: usize = 10;

/// How a launched supervisor relates to the CLI that launched it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Outlives the CLI, as systemd or s6 would.
    Detached,
    /// Stops (SIGTERM: everything in reverse order) when the CLI exits, however it exits.
    Foreground,
}

/// Connects to the supervisor on `socket`; `None` when nothing listens there.
pub(super) async fn connect(socket: &Path) -> Result<Option<Client>, Failure> {
    match Client::connect(socket).await {
        Ok(client) => Ok(Some(client)),
        Err(ClientError::Connect { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The configuration a supervisor launched for `at` runs with.
pub(super) fn config(at: &Locations) -> Config {
    let mut cfg = Config::from_env();
    cfg.socket = at.socket.clone();
    cfg.state_dir = at.state_dir();
    cfg.bin_dir = at.bin_dir_or_default();
    cfg.socket_dir = at.socket_dir_or_default();
    cfg
}

/// Launches the supervisor and returns a connection once it answers. "started" is printed
/// only then; if the child exits first, the error carries the end of its log. Concurrent
/// launches are safe: the supervisor locks its state directory, so a second one exits 0
/// and this waits for the first to answer.
pub(super) async fn launch(at: &Locations, mode: Mode) -> Result<Client, Failure> {
    let cfg = config(at);
    let len = cfg.socket.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(Failure::from(format!(
            "the supervisor socket {} is {len} bytes; a Unix socket address holds at most {MAX_SOCKET_PATH}: \
             choose a shorter one with --supervisor-socket or {}",
            cfg.socket.display(),
            paths::SOCKET_ENV
        )));
    }
    supervisor::create_state_dir(&cfg).map_err(|e| e.to_string())?;
    let log_path = paths::supervisor_log(&cfg.state_dir);
    let log = {
        use std::os::unix::fs::OpenOptionsExt;
        // In a directory just checked to be ours; never through a link all the same.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(crate::trust::NOFOLLOW)
            .open(&log_path)
    }
    .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let mut child = spawn(&cfg, log, mode)?;
    let pid = child.id();
    let deadline = tokio::time::Instant::now() + LAUNCH_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    let mut lost_race = false;
    loop {
        if let Some(mut client) = connect(&cfg.socket).await? {
            let answered = client.version().await?.pid;
            if Some(answered) == pid {
                eprintln!("started the supervisor (pid {answered}) on {}", cfg.socket.display());
            } else {
                eprintln!("using the supervisor (pid {answered}) another command started at the same moment");
            }
            return Ok(client);
        }
        if !lost_race && let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            // Exit 0 before answering: another launch holds the state directory and will answer.
            if !status.success() {
                return Err(early_exit(status, &log_path, log_start));
            }
            lost_race = true;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::from(format!(
                "the supervisor did not answer on {} within {}s{}",
                cfg.socket.display(),
                LAUNCH_TIMEOUT.as_secs(),
                log_tail(&log_path, log_start)
            )));
        }
        // Nothing to be notified by: the socket does not exist yet and the child has no way
        // to signal us. A short doubling back-off keeps a normal launch in the low milliseconds.
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

fn spawn(cfg: &Config, log: std::fs::File, mode: Mode) -> Result<tokio::process::Child, Failure> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to launch the supervisor: {e}"))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut command = tokio::process::Command::new(exe);
    command
        .arg(role::MARKER_ARG)
        .arg(&cfg.socket)
        .env(role::ROLE_ENV, role::SUPERVISOR)
        .env(paths::SOCKET_ENV, &cfg.socket)
        .env(paths::BIN_DIR_ENV, &cfg.bin_dir)
        .env(paths::SOCKET_DIR_ENV, &cfg.socket_dir)
        // A daemon must not pin the directory the CLI happened to run in (every path it is
        // given is absolute); the services it spawns start from here too, as under systemd.
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    let foreground = mode == Mode::Foreground;
    // SAFETY: setsid and prctl are async-signal-safe and touch no memory of the parent.
    // setsid detaches the supervisor from this terminal's session, so a Ctrl-C reaches only
    // the CLI (which then asks the supervisor to shut down and reports what stopped). In the
    // foreground, the parent-death signal stops the supervisor if the CLI dies without asking.
    unsafe {
        command.pre_exec(move || {
            rustix::process::setsid().map_err(std::io::Error::from)?;
            if foreground {
                rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
                    .map_err(std::io::Error::from)?;
            }
            Ok(())
        });
    }
    command.spawn().map_err(|e| Failure::from(format!("cannot launch the supervisor: {e}")))
}

fn early_exit(status: ExitStatus, log: &Path, from: u64) -> Failure {
    Failure::from(format!("the supervisor exited during start-up ({status}){}", log_tail(log, from)))
}

/// The last lines the supervisor wrote to its log since `from`, as a suffix for an error.
fn log_tail(log: &Path, from: u64) -> String {
    let text = std::fs::read(log).map(|b| b.get(usize::try_from(from).unwrap_or(0)..).unwrap_or(&[]).to_vec());
    let text = String::from_utf8_lossy(&text.unwrap_or_default()).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return format!("; its log {} is empty", log.display());
    }
    let shown = &lines[lines.len().saturating_sub(LOG_LINES)..];
    format!("; the end of its log ({}):\n  {}", log.display(), shown.join("\n  "))
}

/// The role hook's body: this process is the supervisor.
pub(super) fn run_daemon(cfg: Config) -> Result<(), String> {
    init_logging(&cfg);
    match supervisor::run_blocking(cfg) {
        // Lost the race to another launch: that one serves.
        Err(supervisor::SupervisorError::AlreadyRunning(_)) => Ok(()),
        other => other.map_err(|e| e.to_string()),
    }
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    let own = super::own_log::OwnLog::new(paths::supervisor_log(&cfg.state_dir), cfg.log_max_bytes, cfg.log_files);
    let _ = match own {
        Some(own) => fmt.with_writer(own).try_init(),
        None => fmt.try_init(),
    };
}
