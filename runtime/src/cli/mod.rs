//! The service commands every hand-written per-service CLI gets, in two forms:
//!
//! - flags ([`ServiceArgs`]): flatten them into your parser; `mycli --start`;
//! - a subcommand ([`ServiceCommand`]): `mycli service start`, for CLIs that prefer
//!   subcommands or have flags of their own named like ours.
//!
//! The CLI keeps its `main`; [`ServiceArgs::run`] answers `None` when no service flag was
//! given. Exit codes follow systemctl's (see [`exit`]).
//!
//! ```no_run
//! # use service_manifest_runtime as service_manifest;
//! use clap::Parser;
//! use service_manifest::cli::ServiceArgs;
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
//!
//! `--start` launches the supervisor from the CLI's own executable without running its
//! `main` or its parser (see the `role` module), so required arguments and subcommands of
//! the CLI never get in the way.

mod announce;
mod check;
mod commands;
pub mod exit;
mod flags;
mod launch;
mod logs;
mod own_log;
mod plan;
mod progress;
mod role;
mod status;
mod subcommand;
mod table;
pub mod timeline;
mod watch;

pub use flags::ServiceArgs;
pub use plan::{GraphFormat, graph, plan_json, plan_text};
pub use subcommand::{ServiceCommand, ServiceVerb};

/// How `--status`, `--plan` and `--supervisor-info` print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// For scripts.
    Json,
}

/// What a service flag or subcommand asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// With an action: that one alone (what it requires comes along).
    Start(Option<String>),
    Stop(Option<String>),
    Restart(Option<String>),
    /// `true`: `--watch`, kept current until Ctrl-C.
    Status(Format, bool),
    Logs(logs::LogQuery),
    Plan(Format),
    Check,
    Graph(GraphFormat),
    Foreground,
    Shutdown,
    Info(Format),
    Export {
        format: String,
        dir: std::path::PathBuf,
    },
    Timeline(timeline::TimelineFormat),
}

/// A duration as people write it (`10m`, `1h 30m`, `500ms`), for `--since`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (write a duration such as 10m, 1h 30m or 500ms)"))
}

/// The environment variable naming the active profiles, comma-separated (`--profile`).
pub const PROFILES_ENV: &str = "SERVICE_MANIFEST_PROFILES";

/// The registration for the profiles asked for: the CLI's own builder when none is, else
/// the manifest's registration for exactly those (each must be declared). The supervisor
/// keeps the active profiles with the definition; `--plan` shows what they add.
fn with_profiles(
    builder: crate::ServiceBuilder,
    manifest: &crate::Manifest,
    profiles: &[String],
) -> Result<crate::ServiceSpec, std::process::ExitCode> {
    if profiles.is_empty() {
        return Ok(builder.build());
    }
    match crate::ServiceBuilder::for_profiles(manifest, profiles) {
        Ok(builder) => Ok(builder.build()),
        Err(e) => {
            eprintln!("error: {e}");
            Err(std::process::ExitCode::from(exit::USAGE))
        }
    }
}

/// Which supervisor carries out the service commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// The embedded supervisor.
    Embedded,
    /// A running zinit-server on this socket.
    Zinit(std::path::PathBuf),
}

impl Command {
    fn starts(&self) -> bool {
        matches!(self, Self::Start(_) | Self::Restart(_) | Self::Foreground)
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, Subcommand};

    use super::*;

    /// A CLI with flags named like ours and a required argument of its own.
    #[derive(Parser, Debug)]
    #[command(subcommand_negates_reqs = true)]
    struct Cli {
        #[arg(long, required = true)]
        config: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        format: Option<String>,
        #[arg(long)]
        verbose: bool,
        #[command(flatten)]
        service: ServiceArgs,
        #[command(subcommand)]
        command: Option<Cmd>,
    }

    #[derive(Subcommand, Debug)]
    enum Cmd {
        Service(ServiceCommand),
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mycli").chain(args.iter().copied()))
    }

    #[test]
    fn a_cli_with_its_own_json_and_format_flags_builds() {
        // clap's debug_assert panics on duplicate ids or long names.
        Cli::command().debug_assert();
        let cli = parse(&["--config", "c", "--json", "--status=json"]).unwrap();
        assert!(cli.json);
        assert_eq!(cli.service.command(), Some(Command::Status(Format::Json, false)));
        assert_eq!(
            parse(&["--config", "c", "--status"]).unwrap().service.command(),
            Some(Command::Status(Format::Text, false))
        );
    }

    #[test]
    fn modifiers_without_their_command_are_rejected() {
        for args in [
            &["--config", "c", "--follow"][..],
            &["--config", "c", "--bin-dir", "/x"],
            &["--config", "c", "--socket-dir", "/x"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument, "{args:?}: {e}");
        }
        let logs = parse(&["--config", "c", "--logs", "x", "--follow"]).unwrap();
        let query = logs::LogQuery { action: Some("x".into()), follow: true, ..Default::default() };
        assert_eq!(logs.service.command(), Some(Command::Logs(query)));
    }

    #[test]
    fn two_service_commands_at_once_are_rejected() {
        let e = parse(&["--config", "c", "--start", "--stop"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn the_subcommand_form_needs_none_of_the_clis_required_flags() {
        let cli = parse(&["service", "logs", "hero_proxy/hero_proxy_server", "--follow", "--bin-dir", "/b"]).unwrap();
        let Some(Cmd::Service(s)) = cli.command else { panic!("not the service subcommand") };
        let query =
            logs::LogQuery { action: Some("hero_proxy/hero_proxy_server".into()), follow: true, ..Default::default() };
        assert_eq!(s.command(), Command::Logs(query));
        assert_eq!(s.bin_dir.as_deref(), Some(std::path::Path::new("/b")));
        assert!(parse(&["--start"]).is_err(), "the flag form keeps the CLI's own requirements");
    }
}

#[cfg(test)]
mod flag_form_with_a_required_flag {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        /// Required, except when a service command is given.
        #[arg(long, required_unless_present = ServiceArgs::COMMAND_GROUP)]
        config: Option<String>,
        #[command(flatten)]
        service: ServiceArgs,
    }

    #[test]
    fn a_required_flag_can_give_way_to_any_service_command() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        assert!(Cli::try_parse_from(["mycli"]).is_err(), "still required for the CLI's own work");
        let cli = Cli::try_parse_from(["mycli", "--status"]).unwrap();
        assert_eq!(cli.service.command(), Some(Command::Status(Format::Text, false)));
        assert!(Cli::try_parse_from(["mycli", "--config", "c"]).unwrap().service.command().is_none());
    }

    #[test]
    fn profiles_choose_the_registration_and_an_undeclared_one_is_a_usage_error() {
        use service_manifest_core::{Options, parse as parse_manifest};
        let toml = "[service]\nname = \"s\"\nprofiles = [\"proxy-auth\"]\n\
                    [[binaries]]\nname = \"d\"\nkind = \"server\"\n\
                    [[dependencies]]\nrepo = \"hero_proxy\"\nbin = \"hero_proxy_server\"\nprofiles = [\"proxy-auth\"]\n";
        let manifest = parse_manifest(toml, &Options::strict()).unwrap().manifest;
        let cli = Cli::try_parse_from(["mycli", "--start", "--profile", "proxy-auth"]).unwrap();
        assert_eq!(cli.service.profile, ["proxy-auth"]);
        let plain = with_profiles(crate::ServiceBuilder::from_manifest(&manifest), &manifest, &[]).unwrap();
        assert!(plain.actions[0].depends_on.is_empty(), "{plain:#?}");
        let proxied =
            with_profiles(crate::ServiceBuilder::from_manifest(&manifest), &manifest, &cli.service.profile).unwrap();
        assert_eq!(proxied.actions[0].depends_on[0].service, "hero_proxy");
        assert_eq!(proxied.profiles, ["proxy-auth"], "kept with the definition");
        let typo = with_profiles(crate::ServiceBuilder::from_manifest(&manifest), &manifest, &["proxy-ath".into()]);
        assert_eq!(typo.unwrap_err(), std::process::ExitCode::from(exit::USAGE));
    }
}
