//! The flag form: `mycli --start`, `mycli --status=json`, … flattened into the CLI's parser.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::{Command, Format, GraphFormat};
use crate::paths::Locations;

/// The service flags; flatten them into a CLI's own parser and call [`ServiceArgs::run`].
///
/// Every flag is listed under a "Service" heading in `--help`, and every argument id
/// starts with `service_`, so a CLI's own fields (`json`, `config`, `verbose`, `format`,
/// …) never collide with them. Long names are what users type, so they can collide: a CLI
/// that has its own `--start`, `--status`, `--logs`, `--bin-dir` … uses the subcommand form
/// ([`ServiceCommand`](super::ServiceCommand)) instead, where they live under
/// `mycli service …`.
///
/// The output format is a value of its command (`--status=json`, `--plan=json`,
/// `--graph=mermaid`), not a separate `--json`, so it cannot be given alone or clash with a
/// CLI's own `--json`. The modifiers (`--follow`, `--supervisor-socket`, `--bin-dir`,
/// `--socket-dir`) are rejected by clap when no service command is given.
///
/// A required argument of the CLI's own can give way to the service commands, so that
/// `mycli --status` works without it: `#[arg(long, required_unless_present = "service_command")]`
/// (the id of the group holding every service command, [`ServiceArgs::COMMAND_GROUP`]).
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Service")]
#[command(group(ArgGroup::new("service_command").multiple(false).args([
    "service_start", "service_stop", "service_restart", "service_status", "service_logs", "service_plan",
    "service_check", "service_graph", "service_foreground", "service_shutdown", "service_info", "service_export",
    "service_timeline",
])))]
pub struct ServiceArgs {
    /// Start this service, and what it requires, launching the supervisor if none runs.
    #[arg(long = "start", id = "service_start")]
    pub start: bool,
    /// Stop this service; whatever requires it is stopped first.
    #[arg(long = "stop", id = "service_stop")]
    pub stop: bool,
    /// Stop, then start this service.
    #[arg(long = "restart", id = "service_restart")]
    pub restart: bool,
    /// Show each action's state, pid, uptime and reason; exit 3 if something wanted is not up.
    #[arg(long = "status", id = "service_status", value_name = "FORMAT", num_args = 0..=1,
          require_equals = true, default_missing_value = "text")]
    pub status: Option<Format>,
    /// With --status: keep the table current, redrawn at each change, until Ctrl-C.
    #[arg(long = "watch", id = "service_watch", requires = "service_status")]
    pub watch: bool,
    /// Print the logs of every action the service involves, merged in time order; or of one
    /// action: this service's, or a dependency's (`svc/action`).
    #[arg(long = "logs", id = "service_logs", value_name = "ACTION", num_args = 0..=1)]
    pub logs: Option<Option<String>>,
    /// With --logs: keep printing what is appended.
    #[arg(long = "follow", id = "service_follow", requires = "service_logs")]
    pub follow: bool,
    /// With --logs: only the last N lines.
    #[arg(long = "lines", id = "service_lines", value_name = "N", requires = "service_logs")]
    pub lines: Option<usize>,
    /// With --logs: only the lines of the last DURATION (`10m`, `1h 30m`).
    #[arg(long = "since", id = "service_since", value_name = "DURATION", requires = "service_logs",
          value_parser = super::parse_duration)]
    pub since: Option<std::time::Duration>,
    /// Print the start order as a dependency tree, and what would stop a start.
    #[arg(long = "plan", id = "service_plan", value_name = "FORMAT", num_args = 0..=1,
          require_equals = true, default_missing_value = "text")]
    pub plan: Option<Format>,
    /// Where the last start's time went: waits, spawn → ready, the critical chain (`text`, `svg` or `json`).
    #[arg(long = "timeline", id = "service_timeline", value_name = "FORMAT", num_args = 0..=1,
          require_equals = true, default_missing_value = "text")]
    pub timeline: Option<super::timeline::TimelineFormat>,
    /// Check that every program is installed and every socket path fits; exit 1 if not.
    #[arg(long = "check", id = "service_check")]
    pub check: bool,
    /// Print the dependency graph (`dot` or `mermaid`).
    #[arg(long = "graph", id = "service_graph", value_name = "FORMAT", num_args = 0..=1,
          require_equals = true, default_missing_value = "dot")]
    pub graph: Option<GraphFormat>,
    /// Run a supervisor tied to this command until Ctrl-C, then stop everything in reverse order.
    #[arg(long = "foreground", id = "service_foreground")]
    pub foreground: bool,
    /// Stop every service in reverse dependency order, then the supervisor itself.
    #[arg(long = "shutdown-supervisor", id = "service_shutdown")]
    pub shutdown_supervisor: bool,
    /// Show the supervisor's own state: pid, socket, directories, uptime, API version.
    #[arg(long = "supervisor-info", id = "service_info", value_name = "FORMAT", num_args = 0..=1,
          require_equals = true, default_missing_value = "text")]
    pub supervisor_info: Option<Format>,
    /// With --start, --stop or --restart: that one action of this service alone.
    #[arg(long = "action", id = "service_action", value_name = "NAME", requires = "service_command")]
    pub action: Option<String>,
    /// The supervisor's socket [env: SERVICE_MANIFEST_SUPERVISOR_SOCKET].
    #[arg(
        long = "supervisor-socket",
        id = "service_supervisor_socket",
        value_name = "PATH",
        requires = "service_command"
    )]
    pub supervisor_socket: Option<PathBuf>,
    /// Where programs are found, for a supervisor this launches [env: SERVICE_MANIFEST_BIN_DIR].
    #[arg(long = "bin-dir", id = "service_bin_dir", value_name = "DIR", requires = "service_command")]
    pub bin_dir: Option<PathBuf>,
    /// Where relative socket names resolve, for a supervisor this launches [env: SERVICE_MANIFEST_SOCKET_DIR].
    #[arg(long = "socket-dir", id = "service_socket_dir", value_name = "DIR", requires = "service_command")]
    pub socket_dir: Option<PathBuf>,
    /// Activate a profile of the manifest (`[service] profiles`): its binaries and
    /// dependencies join the registration. Repeatable [env: SERVICE_MANIFEST_PROFILES, comma-separated].
    #[arg(long = "profile", id = "service_profile", value_name = "NAME", env = super::PROFILES_ENV, value_delimiter = ',')]
    pub profile: Vec<String>,
    /// Write this service for another supervisor instead of starting it: `--export systemd DIR`.
    #[arg(long = "export", id = "service_export", num_args = 2, value_names = ["FORMAT", "DIR"])]
    pub export: Option<Vec<PathBuf>>,
    /// Which supervisor carries out --start, --stop, --restart, --status and --logs.
    #[arg(long = "backend", id = "service_backend", value_enum, env = crate::backend::BACKEND_ENV, default_value_t)]
    pub backend: crate::backend::Backend,
    /// zinit-server's socket, with --backend zinit (default: ~/hero/var/zinit.sock).
    #[arg(long = "zinit-socket", id = "service_zinit_socket", value_name = "PATH", env = crate::backend::zinit::SOCKET_ENV)]
    pub zinit_socket: Option<PathBuf>,
}

impl ServiceArgs {
    /// The id of the clap group that holds every service command (`--start`, `--status`, …).
    pub const COMMAND_GROUP: &str = "service_command";

    /// The command these flags ask for; `None` when no service flag was given.
    pub(super) fn command(&self) -> Option<Command> {
        Some(if self.start {
            Command::Start(self.action.clone())
        } else if self.stop {
            Command::Stop(self.action.clone())
        } else if self.restart {
            Command::Restart(self.action.clone())
        } else if let Some(format) = self.status {
            Command::Status(format, self.watch)
        } else if let Some(action) = &self.logs {
            Command::Logs(super::logs::LogQuery {
                action: action.clone(),
                follow: self.follow,
                lines: self.lines,
                since: self.since,
            })
        } else if let Some(format) = self.plan {
            Command::Plan(format)
        } else if let Some(format) = self.timeline {
            Command::Timeline(format)
        } else if self.check {
            Command::Check
        } else if let Some(format) = self.graph {
            Command::Graph(format)
        } else if self.foreground {
            Command::Foreground
        } else if self.shutdown_supervisor {
            Command::Shutdown
        } else if let Some(format) = self.supervisor_info {
            Command::Info(format)
        } else if let Some([format, dir]) = self.export.as_deref() {
            Command::Export { format: format.to_string_lossy().into_owned(), dir: dir.clone() }
        } else {
            return None;
        })
    }

    /// Whether the flags ask for something that starts programs (`--start`, `--restart`,
    /// `--foreground`): the moment to install them into the bin directory.
    pub fn starts(&self) -> bool {
        self.command().is_some_and(|c| c.starts())
    }

    /// The supervisor socket and the directories these flags and the environment choose.
    pub fn locations(&self) -> Locations {
        Locations::resolve(self.supervisor_socket.as_deref(), self.bin_dir.as_deref(), self.socket_dir.as_deref())
    }

    /// Carries out the service flag that was given; `None` if none was, so the CLI goes on
    /// with its own work.
    pub fn run(&self, builder: crate::ServiceBuilder, manifest: &crate::Manifest) -> Option<std::process::ExitCode> {
        super::role::keep_linked();
        let command = self.command()?;
        if self.action.is_some() && !matches!(command, Command::Start(_) | Command::Stop(_) | Command::Restart(_)) {
            eprintln!("error: --action goes with --start, --stop or --restart");
            return Some(std::process::ExitCode::from(super::exit::USAGE));
        }
        let via = match self.backend {
            crate::backend::Backend::Embedded => super::Via::Embedded,
            crate::backend::Backend::Zinit => {
                super::Via::Zinit(self.zinit_socket.clone().unwrap_or_else(crate::backend::zinit::default_socket))
            }
        };
        let spec = match super::with_profiles(builder, manifest, &self.profile) {
            Ok(spec) => spec,
            Err(code) => return Some(code),
        };
        Some(super::commands::run(command, &self.locations(), &via, spec, manifest))
    }
}
