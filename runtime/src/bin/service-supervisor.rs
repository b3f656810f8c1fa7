//! The embedded supervisor as a standalone service.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use service_manifest_runtime::{paths, supervisor};

/// Supervises services registered by their CLIs and enforces their start ordering.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The API socket.
    #[arg(long, env = paths::SOCKET_ENV)]
    socket: Option<PathBuf>,
    /// Where registrations, process records and logs are kept (default: beside the socket).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Where bare binary names are found.
    #[arg(long, env = paths::BIN_DIR_ENV)]
    bin_dir: Option<PathBuf>,
    /// Where relative socket names are resolved.
    #[arg(long, env = paths::SOCKET_DIR_ENV)]
    socket_dir: Option<PathBuf>,
    /// How long a stopping process has between SIGTERM and SIGKILL, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    stop_grace_ms: u64,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let mut cfg = supervisor::Config::from_env();
    if let Some(socket) = args.socket {
        cfg.state_dir = paths::state_dir_for(&socket);
        cfg.socket = socket;
    }
    if let Some(dir) = args.state_dir {
        cfg.state_dir = dir;
    }
    if let Some(dir) = args.bin_dir {
        cfg.bin_dir = dir;
    }
    if let Some(dir) = args.socket_dir {
        cfg.socket_dir = dir;
    }
    cfg.stop_grace = std::time::Duration::from_millis(args.stop_grace_ms);
    match supervisor::run_blocking(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service-supervisor: {e}");
            ExitCode::FAILURE
        }
    }
}
