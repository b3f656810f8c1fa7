//! `hero_livekit`: a hand-written per-service CLI. Its own code is a few lines; the
//! registration comes from `service.toml` through `service_manifest!`, and the
//! service flags (`--start`, `--status`, `--plan`, …) from `ServiceArgs`.

use std::process::ExitCode;

use clap::Parser;
use service_manifest::cli::ServiceArgs;

mod livekit {
    service_manifest::service_manifest!("examples/hero_livekit/service.toml");
}

#[path = "../demo/mod.rs"]
mod demo;

/// LiveKit media rooms; hero_livekit_server owns lk-backend.
#[derive(Parser)]
#[command(name = "hero_livekit", version)]
struct Cli {
    #[command(flatten)]
    service: ServiceArgs,
    /// List the binaries service.toml declares, and which are started.
    #[arg(long)]
    binaries: bool,
}

fn main() -> ExitCode {
    if let Some(code) = demo::run_as_daemon() {
        return code;
    }
    let cli = Cli::parse();
    if let Err(code) = demo::install_if_starting(cli.service.starts(), &cli.service.locations()) {
        return code;
    }
    if let Some(code) = cli.service.run(livekit::service_builder(), &livekit::MANIFEST) {
        return code;
    }
    if cli.binaries {
        for b in livekit::Binary::ALL {
            let role = if b.is_started() { "started" } else { "install-only" };
            println!("{:24} {:7} {role}", b.name(), b.kind());
        }
        return ExitCode::SUCCESS;
    }
    eprintln!("{}: try --start, --status, --plan or --help", livekit::SERVICE_NAME);
    ExitCode::SUCCESS
}
