//! Finding the supervisor, or starting the embedded one: detached for `--start`,
//! in-process for `--foreground`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use super::ServiceArgs;
use crate::client::{Client, ClientError};
use crate::spec::ServiceSpec;
use crate::supervisor::{self, Config};

/// How long a freshly launched supervisor may take to accept connections.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(15);

/// Connects to the supervisor, launching the embedded one as a detached daemon first
/// if nothing listens. Concurrent launches are safe: the supervisor holds a lock on
/// its state directory, so a second one exits and both clients reach the first.
pub(super) async fn connect_or_launch(args: &ServiceArgs) -> Result<Client, String> {
    let socket = args.socket();
    match Client::connect(&socket).await {
        Ok(client) => return Ok(client),
        Err(ClientError::Connect { .. }) => {}
        Err(e) => return Err(e.to_string()),
    }
    let cfg = args.supervisor_config();
    spawn_daemon(&cfg)?;
    eprintln!("started the supervisor on {}", socket.display());
    wait_for_socket(&socket).await?;
    Client::connect(&socket).await.map_err(|e| e.to_string())
}

fn spawn_daemon(cfg: &Config) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to launch the supervisor: {e}"))?;
    supervisor::create_state_dir(cfg).map_err(|e| e.to_string())?;
    let log_path = cfg.state_dir.join("supervisor.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("--run-supervisor")
        .arg("--supervisor-socket")
        .arg(&cfg.socket)
        .arg("--bin-dir")
        .arg(&cfg.bin_dir)
        .arg("--socket-dir")
        .arg(&cfg.socket_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent; it detaches the
    // daemon from this terminal's session so Ctrl-C or a closed terminal does not reach it.
    unsafe {
        command.pre_exec(|| rustix::process::setsid().map(drop).map_err(std::io::Error::from));
    }
    command.spawn().map(drop).map_err(|e| format!("cannot launch the supervisor: {e}"))
}

/// Waits for the socket to accept: a short doubling back-off, bounded by [`LAUNCH_TIMEOUT`].
async fn wait_for_socket(socket: &Path) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + LAUNCH_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    while !supervisor::socket_accepts(socket) {
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the supervisor did not start listening on {} within {}s; see its log beside the socket",
                socket.display(),
                LAUNCH_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    Ok(())
}

/// `--run-supervisor`: this process becomes the daemon.
pub(super) fn run_daemon(cfg: Config) -> Result<(), String> {
    init_logging();
    match supervisor::run_blocking(cfg) {
        // Lost the race to another launch: that one serves.
        Err(supervisor::SupervisorError::AlreadyRunning(_)) => Ok(()),
        other => other.map_err(|e| e.to_string()),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).try_init();
}

/// `--foreground`: the supervisor runs in this process; Ctrl-C stops everything in
/// reverse order, then returns.
pub(super) async fn foreground(cfg: Config, spec: ServiceSpec) -> Result<(), String> {
    let socket = cfg.socket.clone();
    let daemon = tokio::spawn(supervisor::run(cfg));
    wait_for_socket(&socket).await?;
    let mut client = Client::connect(&socket).await.map_err(|e| e.to_string())?;
    client.define(&spec).await.map_err(|e| e.to_string())?;
    client.start(&spec.name, None).await.map_err(|e| e.to_string())?;
    let started = super::progress::follow(&mut client, &spec.name).await;
    match &started {
        Ok(()) => eprintln!("running in the foreground; Ctrl-C stops everything"),
        Err(e) => eprintln!("error: {e}\nstill supervising; Ctrl-C stops everything"),
    }
    drop(client);
    match daemon.await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the supervisor task failed: {e}")),
    }
}
