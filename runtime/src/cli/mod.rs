//! The service flags every hand-written per-service CLI gets: flatten [`ServiceArgs`]
//! into your own clap parser and call [`ServiceArgs::run`]. The CLI keeps its `main`;
//! `run` answers `None` when no service flag was given.
//!
//! ```no_run
//! use clap::Parser;
//! use service_manifest_runtime::cli::ServiceArgs;
//! # mod collab {
//! #     // What `service_manifest!("service.toml")` generates, in short.
//! #     const TOML: &str = "[service]\nname = \"hero_collab\"\n[[binaries]]\nname = \"hero_collab_server\"\nkind = \"server\"\n";
//! #     pub static MANIFEST: std::sync::LazyLock<service_manifest_runtime::Manifest> = std::sync::LazyLock::new(|| {
//! #         service_manifest_core::parse(TOML, &service_manifest_core::Options::strict()).expect("valid").manifest
//! #     });
//! #     pub fn service_builder() -> service_manifest_runtime::ServiceBuilder {
//! #         service_manifest_runtime::ServiceBuilder::new("hero_collab")
//! #     }
//! # }
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     service: ServiceArgs,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let cli = Cli::parse();
//!     if let Some(code) = cli.service.run(collab::service_builder(), &collab::MANIFEST) {
//!         return code;
//!     }
//!     // ... the CLI's own commands ...
//!     std::process::ExitCode::SUCCESS
//! }
//! ```

mod launch;
mod plan;
mod progress;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args};

use crate::api::WaitFor;
use crate::backend::{self, Backend};
use crate::client::{Client, ClientError};
use crate::spec::ServiceSpec;
use crate::{Manifest, ServiceBuilder, paths, supervisor};

pub use plan::{GraphFormat, graph, plan_json, plan_text};

/// The service flags; flatten them into a CLI's own parser.
#[derive(Args, Clone, Debug, Default)]
#[command(group(ArgGroup::new("service_command").multiple(false).args([
    "start", "stop", "restart", "status", "logs", "plan", "graph", "foreground", "run_supervisor", "export",
])))]
pub struct ServiceArgs {
    /// Register this service with the supervisor (starting one if none runs) and start it.
    #[arg(long)]
    pub start: bool,
    /// Stop this service; whatever requires it is stopped first.
    #[arg(long)]
    pub stop: bool,
    /// Stop, then start this service.
    #[arg(long)]
    pub restart: bool,
    /// Show each action's state, pid, uptime and reason.
    #[arg(long)]
    pub status: bool,
    /// Print the log of one of this service's binaries.
    #[arg(long, value_name = "BINARY")]
    pub logs: Option<String>,
    /// Print the start order as a dependency tree, without starting anything.
    #[arg(long)]
    pub plan: bool,
    /// Print the dependency graph.
    #[arg(long, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "dot")]
    pub graph: Option<GraphFormat>,
    /// Run the supervisor in this process until Ctrl-C, then stop everything in reverse order.
    #[arg(long)]
    pub foreground: bool,
    /// With --status and --plan: print JSON.
    #[arg(long)]
    pub json: bool,
    /// The supervisor's socket.
    #[arg(long, value_name = "PATH", env = paths::SOCKET_ENV)]
    pub supervisor_socket: Option<PathBuf>,
    /// Where binaries are found (default: the running executable's directory, else ~/hero/bin).
    #[arg(long, value_name = "DIR", env = paths::BIN_DIR_ENV)]
    pub bin_dir: Option<PathBuf>,
    /// Where relative socket names are resolved.
    #[arg(long, value_name = "DIR", env = paths::SOCKET_DIR_ENV)]
    pub socket_dir: Option<PathBuf>,
    /// Run as the supervisor daemon (used by --start to launch one).
    #[arg(long, hide = true)]
    pub run_supervisor: bool,
    /// Write this service for another supervisor instead of starting it: `--export systemd DIR`.
    #[arg(long, num_args = 2, value_names = ["FORMAT", "DIR"])]
    pub export: Option<Vec<PathBuf>>,
    /// Which supervisor carries out --start, --stop, --restart, --status and --logs.
    #[arg(long, value_enum, env = backend::BACKEND_ENV, default_value_t)]
    pub backend: Backend,
    /// zinit-server's socket, with --backend zinit (default: ~/hero/var/zinit.sock).
    #[arg(long, value_name = "PATH", env = backend::zinit::SOCKET_ENV)]
    pub zinit_socket: Option<PathBuf>,
}

impl ServiceArgs {
    /// The supervisor socket: flag, environment, default.
    pub fn socket(&self) -> PathBuf {
        self.supervisor_socket.clone().unwrap_or_else(paths::supervisor_socket)
    }

    /// The bin directory: flag, environment, the running executable's directory, `~/hero/bin`.
    pub fn bin_dir(&self) -> PathBuf {
        self.bin_dir.clone().unwrap_or_else(paths::bin_dir)
    }

    /// The socket directory: flag, environment, default.
    pub fn socket_dir(&self) -> PathBuf {
        self.socket_dir.clone().unwrap_or_else(paths::socket_dir)
    }

    /// The supervisor configuration these flags describe.
    pub fn supervisor_config(&self) -> supervisor::Config {
        let mut cfg = supervisor::Config::from_env();
        cfg.socket = self.socket();
        cfg.state_dir = paths::state_dir_for(&cfg.socket);
        cfg.bin_dir = self.bin_dir();
        cfg.socket_dir = self.socket_dir();
        cfg
    }

    /// Carries out the service flag that was given; `None` if none was.
    pub fn run(&self, builder: ServiceBuilder, manifest: &Manifest) -> Option<ExitCode> {
        if self.run_supervisor {
            return Some(report(launch::run_daemon(self.supervisor_config())));
        }
        let spec = builder.build();
        if self.plan {
            let text = if self.json { plan_json(&spec, manifest) } else { plan_text(&spec, manifest) };
            print!("{text}");
            if self.backend == Backend::Zinit {
                print!("{}", backend::zinit::plan_notes(&spec));
            }
            return Some(ExitCode::SUCCESS);
        }
        if let Some([format, dir]) = self.export.as_deref() {
            let format = format.to_string_lossy();
            return Some(report(backend::export_command(&format, dir, &spec, &self.bin_dir(), &self.socket_dir())));
        }
        if let Some(format) = self.graph {
            print!("{}", graph(&spec, manifest, format));
            return Some(ExitCode::SUCCESS);
        }
        let command = if self.start {
            Command::Start
        } else if self.stop {
            Command::Stop
        } else if self.restart {
            Command::Restart
        } else if self.status {
            Command::Status
        } else if let Some(binary) = &self.logs {
            Command::Logs(binary.clone())
        } else if self.foreground {
            Command::Foreground
        } else {
            return None;
        };
        if self.backend == Backend::Zinit {
            return Some(report(self.zinit(command, &spec, manifest)));
        }
        let spec = self.resolve(spec);
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return Some(report(Err(format!("cannot start the async runtime: {e}")))),
        };
        Some(report(runtime.block_on(self.execute(command, spec, manifest))))
    }

    /// Makes socket paths absolute and points programs at the bin directory.
    fn resolve(&self, mut spec: ServiceSpec) -> ServiceSpec {
        let (sockets, bins) = (self.socket_dir(), self.bin_dir());
        let abs = |s: &mut Option<String>| {
            if let Some(path) = s {
                *path = paths::resolve_socket(&sockets, path).display().to_string();
            }
        };
        for action in &mut spec.actions {
            abs(&mut action.socket);
            action.depends_on.iter_mut().for_each(|d| abs(&mut d.socket));
            let program = paths::resolve_exec(&bins, &action.exec);
            if program.is_file() {
                action.exec = program.display().to_string();
            }
        }
        spec
    }

    async fn execute(&self, command: Command, spec: ServiceSpec, manifest: &Manifest) -> Result<(), String> {
        let socket = self.socket();
        let name = spec.name.clone();
        match command {
            Command::Start => {
                let mut client = launch::connect_or_launch(self).await?;
                client.define(&spec).await.map_err(|e| e.to_string())?;
                client.start(&name, None).await.map_err(|e| e.to_string())?;
                progress::follow(&mut client, &name).await
            }
            Command::Restart => {
                let mut client = connect(&socket).await?;
                client.define(&spec).await.map_err(|e| e.to_string())?;
                let report = client.restart(&name, None).await.map_err(|e| e.to_string())?;
                report.notes.iter().for_each(|n| eprintln!("{n}"));
                progress::follow(&mut client, &name).await
            }
            Command::Stop => {
                let mut client = connect(&socket).await?;
                let report = client.stop(&name, None).await.map_err(|e| not_defined(e, &name))?;
                for note in &report.notes {
                    println!("{note}");
                }
                for action in &report.actions {
                    println!("stopped {action}");
                }
                Ok(())
            }
            Command::Status => {
                let mut client = connect(&socket).await?;
                let settled = client.wait(&name, WaitFor::Settled, 0).await.map_err(|e| not_defined(e, &name))?;
                print!("{}", status::render(&settled.actions, self.json));
                Ok(())
            }
            Command::Logs(binary) => {
                if spec.action(&binary).is_none() {
                    let started: Vec<&str> = spec.actions.iter().map(|a| a.name.as_str()).collect();
                    let why = match manifest.binary(&binary) {
                        Some(_) => "is install-only: the supervisor never starts it, so it has no log",
                        None => "is not a binary of this service",
                    };
                    return Err(format!("`{binary}` {why}; started binaries: {}", started.join(", ")));
                }
                let mut client = connect(&socket).await?;
                let text = client.logs(&name, &binary, None).await.map_err(|e| not_defined(e, &name))?;
                print!("{text}");
                Ok(())
            }
            Command::Foreground => launch::foreground(self.supervisor_config(), spec).await,
        }
    }
}

impl ServiceArgs {
    /// `--backend zinit`: the same commands, carried out by a running zinit-server.
    fn zinit(&self, command: Command, spec: &ServiceSpec, manifest: &Manifest) -> Result<(), String> {
        use backend::zinit::{self, Command as Z};
        let command = match command {
            Command::Start => Z::Start,
            Command::Stop => Z::Stop,
            Command::Restart => Z::Restart,
            Command::Status => Z::Status { json: self.json },
            Command::Logs(binary) => Z::Logs(binary),
            Command::Foreground => {
                return Err(
                    "--foreground runs the embedded supervisor; with --backend zinit, run zinit-server yourself".into(),
                );
            }
        };
        let socket = self.zinit_socket.clone().unwrap_or_else(zinit::default_socket);
        let target = zinit::Target { socket, bin_dir: self.bin_dir(), socket_dir: self.socket_dir() };
        zinit::run(command, spec, manifest, &target)
    }
}

enum Command {
    Start,
    Stop,
    Restart,
    Status,
    Logs(String),
    Foreground,
}

async fn connect(socket: &std::path::Path) -> Result<Client, String> {
    Client::connect(socket).await.map_err(|e| match e {
        ClientError::Connect { path, .. } => {
            format!("no supervisor is running on {} (--start starts one)", path.display())
        }
        other => other.to_string(),
    })
}

fn not_defined(e: ClientError, service: &str) -> String {
    match e {
        ClientError::Rpc(rpc) if rpc.message.starts_with("no service") => {
            format!("{service} is not defined with the supervisor yet; run --start")
        }
        other => other.to_string(),
    }
}

fn report(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
