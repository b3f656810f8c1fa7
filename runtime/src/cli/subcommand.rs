//! The subcommand form: `mycli service start|stop|status|…`, for CLIs that prefer
//! subcommands or whose own flags would collide with the flag form's.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Command, Format, GraphFormat};
use crate::paths::Locations;

/// The service commands as one subcommand of a CLI: add a variant holding it to your
/// subcommand enum and call [`ServiceCommand::run`].
///
/// ```
/// # use service_manifest_runtime as service_manifest;
/// use clap::{CommandFactory, Parser, Subcommand};
/// use service_manifest::cli::ServiceCommand;
///
/// #[derive(Parser)]
/// #[command(subcommand_negates_reqs = true)]
/// struct Cli {
///     /// The CLI's own required flag: not needed with `service …` (an `Option`, so
///     /// that the struct can be built without it).
///     #[arg(long, required = true)]
///     config: Option<String>,
///     /// Its own --json: no clash, the service commands have theirs under `service status`.
///     #[arg(long)]
///     json: bool,
///     #[command(subcommand)]
///     command: Option<Cmd>,
/// }
///
/// #[derive(Subcommand)]
/// enum Cmd {
///     /// Start, stop and inspect this service.
///     Service(ServiceCommand),
/// }
///
/// Cli::command().debug_assert();
/// let cli = Cli::parse_from(["mycli", "service", "status", "--json"]);
/// assert!(matches!(cli.command, Some(Cmd::Service(_))));
/// ```
#[derive(Args, Clone, Debug)]
pub struct ServiceCommand {
    /// What to do.
    #[command(subcommand)]
    pub verb: ServiceVerb,
    /// The supervisor's socket [env: SERVICE_MANIFEST_SUPERVISOR_SOCKET].
    #[arg(long, value_name = "PATH", global = true)]
    pub supervisor_socket: Option<PathBuf>,
    /// Where programs are found, for a supervisor this launches [env: SERVICE_MANIFEST_BIN_DIR].
    #[arg(long, value_name = "DIR", global = true)]
    pub bin_dir: Option<PathBuf>,
    /// Where relative socket names resolve, for a supervisor this launches [env: SERVICE_MANIFEST_SOCKET_DIR].
    #[arg(long, value_name = "DIR", global = true)]
    pub socket_dir: Option<PathBuf>,
    /// Activate a profile of the manifest; repeatable [env: SERVICE_MANIFEST_PROFILES, comma-separated].
    #[arg(long, value_name = "NAME", global = true, env = super::PROFILES_ENV, value_delimiter = ',')]
    pub profile: Vec<String>,
}

/// One service command; each does what the flag of the same name does in [`ServiceArgs`](super::ServiceArgs).
#[derive(Subcommand, Clone, Debug)]
pub enum ServiceVerb {
    /// Start this service, and what it requires, launching the supervisor if none runs.
    Start {
        /// One action of this service alone.
        action: Option<String>,
    },
    /// Stop this service; whatever requires it is stopped first.
    Stop {
        /// One action of this service alone.
        action: Option<String>,
    },
    /// Stop, then start this service.
    Restart {
        /// One action of this service alone.
        action: Option<String>,
    },
    /// Show each action's state; exit 3 if something wanted is not up.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Keep the table current, redrawn at each change, until Ctrl-C.
        #[arg(long, conflicts_with = "json")]
        watch: bool,
    },
    /// Print the logs of every action the service involves, merged in time order; or of
    /// one action: this service's, or a dependency's (`svc/action`).
    Logs {
        /// The action; without it, every action the service involves.
        action: Option<String>,
        /// Keep printing what is appended.
        #[arg(long, short)]
        follow: bool,
        /// Only the last N lines.
        #[arg(long, short = 'n', value_name = "N")]
        lines: Option<usize>,
        /// Only the lines of the last DURATION (`10m`, `1h 30m`).
        #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
        since: Option<std::time::Duration>,
    },
    /// Print the start order as a dependency tree, and what would stop a start.
    Plan {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Where the last start's time went: waits, spawn → ready, the critical chain.
    Timeline {
        /// `text`, `svg` or `json`.
        #[arg(default_value = "text")]
        format: super::timeline::TimelineFormat,
    },
    /// Check that every program is installed and every socket path fits.
    Check,
    /// Print the dependency graph.
    Graph {
        /// `dot` or `mermaid`.
        #[arg(default_value = "dot")]
        format: GraphFormat,
    },
    /// Run a supervisor tied to this command until Ctrl-C.
    Foreground,
    /// Stop every service in reverse dependency order, then the supervisor.
    Shutdown,
    /// Show the supervisor's own state.
    Info {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn format(json: bool) -> Format {
    if json { Format::Json } else { Format::Text }
}

impl ServiceCommand {
    pub(super) fn command(&self) -> Command {
        match &self.verb {
            ServiceVerb::Start { action } => Command::Start(action.clone()),
            ServiceVerb::Stop { action } => Command::Stop(action.clone()),
            ServiceVerb::Restart { action } => Command::Restart(action.clone()),
            ServiceVerb::Status { json, watch } => Command::Status(format(*json), *watch),
            ServiceVerb::Logs { action, follow, lines, since } => Command::Logs(super::logs::LogQuery {
                action: action.clone(),
                follow: *follow,
                lines: *lines,
                since: *since,
            }),
            ServiceVerb::Plan { json } => Command::Plan(format(*json)),
            ServiceVerb::Timeline { format } => Command::Timeline(*format),
            ServiceVerb::Check => Command::Check,
            ServiceVerb::Graph { format } => Command::Graph(*format),
            ServiceVerb::Foreground => Command::Foreground,
            ServiceVerb::Shutdown => Command::Shutdown,
            ServiceVerb::Info { json } => Command::Info(format(*json)),
        }
    }

    /// Whether this starts programs (`start`, `restart`, `foreground`).
    pub fn starts(&self) -> bool {
        self.command().starts()
    }

    /// The supervisor socket and the directories these options and the environment choose.
    pub fn locations(&self) -> Locations {
        Locations::resolve(self.supervisor_socket.as_deref(), self.bin_dir.as_deref(), self.socket_dir.as_deref())
    }

    /// Carries out the command.
    pub fn run(&self, builder: crate::ServiceBuilder, manifest: &crate::Manifest) -> std::process::ExitCode {
        super::role::keep_linked();
        let spec = match super::with_profiles(builder, manifest, &self.profile) {
            Ok(spec) => spec,
            Err(code) => return code,
        };
        super::commands::run(self.command(), &self.locations(), &super::Via::Embedded, spec, manifest)
    }
}
