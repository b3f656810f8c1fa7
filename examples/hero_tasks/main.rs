//! `hero_tasks`: a per-service CLI shaped like many real ones: a required `--config`,
//! subcommands of its own, and a `--json` flag of its own. It offers the service
//! commands in both forms: the flags (`hero_tasks --start`, which needs no `--config`) and the
//! subcommand (`hero_tasks service start`, read before the CLI's own parser, so it needs no
//! `--config` either, while `hero_tasks add x` still does).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use service_manifest::cli::{ServiceArgs, ServiceCommand};

mod tasks {
    service_manifest::service_manifest!("examples/hero_tasks/service.toml");
}

#[path = "../demo/mod.rs"]
mod demo;

/// Task lists behind hero_proxy.
#[derive(Parser)]
#[command(name = "hero_tasks", version)]
struct Cli {
    /// The configuration file (required for the CLI's own commands).
    #[arg(long, required_unless_present = ServiceArgs::COMMAND_GROUP)]
    config: Option<std::path::PathBuf>,
    /// Print the CLI's own output as JSON (no clash with the service commands).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    service: ServiceArgs,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Add a task.
    Add {
        /// What to do.
        title: String,
    },
    /// List the tasks.
    List,
    /// Start, stop and inspect the hero_tasks service.
    Service(ServiceCommand),
}

fn main() -> ExitCode {
    if let Some(code) = demo::run_as_daemon() {
        return code;
    }
    // `hero_tasks service …` first: the CLI's own parser would ask for --config.
    if let Some(service) = ServiceCommand::leading::<Cli>("service") {
        return service_command(&service);
    }
    let cli = Cli::parse();
    if let Some(Cmd::Service(service)) = &cli.command {
        return service_command(service);
    }
    if let Err(code) = demo::install_if_starting(cli.service.starts(), &cli.service.locations()) {
        return code;
    }
    if let Some(code) = cli.service.run(tasks::service_builder(), &tasks::MANIFEST) {
        return code;
    }
    let Some(config) = cli.config else {
        // clap required it, unless a service flag was given, which answered above.
        return ExitCode::from(2);
    };
    match cli.command {
        Some(Cmd::Add { title }) if cli.json => {
            println!("{{\"added\":{title:?},\"config\":{:?}}}", config.display().to_string())
        }
        Some(Cmd::Add { title }) => println!("added {title:?} (config {})", config.display()),
        Some(Cmd::List) | None => println!("no tasks yet (config {})", config.display()),
        Some(Cmd::Service(_)) => {}
    }
    ExitCode::SUCCESS
}

fn service_command(service: &ServiceCommand) -> ExitCode {
    if let Err(code) = demo::install_if_starting(service.starts(), &service.locations()) {
        return code;
    }
    service.run(tasks::service_builder(), &tasks::MANIFEST)
}
