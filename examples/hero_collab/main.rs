//! `hero_collab`: a hand-written per-service CLI. Its own code is a few lines; the
//! registration comes from `service.toml` through `service_manifest!`, and the
//! service flags (`--start`, `--status`, `--plan`, …) from `ServiceArgs`.

use std::process::ExitCode;

use clap::Parser;
use service_manifest::cli::ServiceArgs;

mod collab {
    service_manifest::service_manifest!("examples/hero_collab/service.toml");
}

#[path = "../demo/mod.rs"]
mod demo;

/// Collaborative documents, served behind hero_proxy.
#[derive(Parser)]
#[command(name = "hero_collab", version)]
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
    if let Some(code) = cli.service.run(collab::service_builder(), &collab::MANIFEST) {
        return code;
    }
    if cli.binaries {
        for b in collab::Binary::ALL {
            let role = if b.is_started() { "started" } else { "install-only" };
            println!("{:24} {:7} {role}", b.name(), b.kind());
        }
        return ExitCode::SUCCESS;
    }
    eprintln!("{}: try --start, --status, --plan or --help", collab::SERVICE_NAME);
    ExitCode::SUCCESS
}
