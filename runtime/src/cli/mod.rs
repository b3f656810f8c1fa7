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
pub(crate) mod table;
pub mod timeline;
mod verbs;
mod watch;

pub use flags::ServiceArgs;
pub use plan::{GraphFormat, graph, plan_json, plan_text};
pub use subcommand::ServiceCommand;

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

/// Links the pre-`main` role hook into the program (the waiter and supervisor roles).
pub(crate) fn keep_role_hook() {
    role::keep_linked();
}

/// Carries out `command` as either form asked for it, with its options.
fn run_with(
    command: Command,
    options: &verbs::Options,
    builder: crate::ServiceBuilder,
    manifest: &crate::Manifest,
) -> std::process::ExitCode {
    let via = match options.backend {
        crate::backend::Backend::Embedded => Via::Embedded,
        crate::backend::Backend::Zinit => {
            Via::Zinit(options.zinit_socket.clone().unwrap_or_else(crate::backend::zinit::default_socket))
        }
    };
    let spec = match with_profiles(builder, manifest, &options.profile) {
        Ok(spec) => spec,
        Err(code) => return code,
    };
    commands::run(command, &options.locations(), &via, spec, manifest)
}

impl verbs::Options {
    fn locations(&self) -> crate::paths::Locations {
        crate::paths::Locations::resolve(
            self.supervisor_socket.as_deref(),
            self.bin_dir.as_deref(),
            self.socket_dir.as_deref(),
        )
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
    /// The command as the flag form spells it (`--timeline`), for messages.
    fn flag(&self) -> String {
        let sub = match self {
            Self::Start(_) => "start",
            Self::Stop(_) => "stop",
            Self::Restart(_) => "restart",
            Self::Status(..) => "status",
            Self::Logs(_) => "logs",
            Self::Plan(_) => "plan",
            Self::Check => "check",
            Self::Graph(_) => "graph",
            Self::Foreground => "foreground",
            Self::Shutdown => "shutdown",
            Self::Info(_) => "info",
            Self::Export { .. } => "export",
            Self::Timeline(_) => "timeline",
        };
        verbs::VERBS.iter().find(|v| v.sub == sub).map_or_else(|| sub.to_owned(), |v| format!("--{}", v.flag))
    }

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
    struct Cli {
        #[arg(long, required_unless_present = ServiceArgs::COMMAND_GROUP)]
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
    fn a_service_flag_with_one_of_the_clis_own_subcommands_is_an_error() {
        #[derive(Parser, Debug)]
        struct Own {
            #[command(flatten)]
            service: ServiceArgs,
            #[command(subcommand)]
            command: Option<OwnCmd>,
        }
        #[derive(Subcommand, Debug)]
        enum OwnCmd {
            List,
        }
        let e = Own::try_parse_from(["mycli", "--status", "list"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(e.to_string().contains("--status cannot be used with the subcommand 'list'"), "{e}");
        assert!(matches!(Own::try_parse_from(["mycli", "list"]).unwrap().command, Some(OwnCmd::List)));
    }
}

/// Both forms come from one definition: every argument of the flag form has its
/// counterpart in the subcommand form, which reads it into the same command and options.
#[cfg(test)]
mod both_forms_agree {
    use clap::{CommandFactory, Parser, Subcommand};

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        service: ServiceArgs,
        #[command(subcommand)]
        command: Option<Cmd>,
    }

    #[derive(Subcommand, Debug)]
    enum Cmd {
        Service(ServiceCommand),
    }

    /// What both forms read from `flags` and from `service …words`.
    fn both(flags: &[String], words: &[String]) -> ((Option<Command>, verbs::Options), (Command, verbs::Options)) {
        let args = std::iter::once("mycli".to_owned()).chain(flags.iter().cloned());
        let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        let args = ["mycli".to_owned(), "service".to_owned()].into_iter().chain(words.iter().cloned());
        let sub = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("service {words:?}: {e}"));
        let Some(Cmd::Service(sub)) = sub.command else { panic!("service {words:?}: not the subcommand") };
        ((cli.service.command(), cli.service.options().clone()), (sub.command(), sub.options().clone()))
    }

    fn agree(flags: &[&str], words: &[&str]) {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ((command, options), (sub_command, sub_options)) = both(&own(flags), &own(words));
        assert_eq!(command.as_ref(), Some(&sub_command), "{flags:?} against service {words:?}");
        assert_eq!(options, sub_options, "{flags:?} against service {words:?}");
    }

    /// A value for an argument that takes one, by its value name.
    fn sample(value_name: &str) -> &'static str {
        match value_name {
            "N" => "7",
            "DURATION" => "10m",
            "FORMAT" => "systemd",
            "PATH" | "DIR" => "/x",
            _ => "hero_collab_admin",
        }
    }

    #[test]
    fn every_flag_has_its_counterpart_in_the_subcommand_form() {
        Cli::command().debug_assert();
        let cli = Cli::command();
        let mut seen = 0;
        for arg in cli.get_arguments().filter(|a| a.get_id().as_str().starts_with("service_")) {
            let id = arg.get_id().as_str();
            let long = arg.get_long().unwrap_or_else(|| panic!("{id} has no long name"));
            let names: Vec<&str> = arg.get_value_names().into_iter().flatten().map(|n| n.as_str()).collect();
            if let Some(verb) = verbs::VERBS.iter().find(|v| v.id() == id) {
                let flag = format!("--{long}");
                match verb.operand {
                    verbs::Operand::Format { .. } => {
                        agree(&[&flag], &[verb.sub]);
                        for value in arg.get_possible_values() {
                            let value = value.get_name();
                            agree(&[&format!("{flag}={value}")], &[verb.sub, value]);
                            if value == "json" {
                                agree(&[&format!("{flag}={value}")], &[verb.sub, "--json"]);
                            }
                        }
                    }
                    verbs::Operand::Export => agree(&[&flag, "systemd", "/x"], &[verb.sub, "systemd", "/x"]),
                    verbs::Operand::LogAction => {
                        agree(&[&flag], &[verb.sub]);
                        agree(&[&flag, "svc/a"], &[verb.sub, "svc/a"]);
                    }
                    verbs::Operand::None | verbs::Operand::Action => agree(&[&flag], &[verb.sub]),
                }
            } else if id == "service_action" {
                let takers = verbs::VERBS.iter().filter(|v| matches!(v.operand, verbs::Operand::Action));
                for verb in takers {
                    agree(&[&format!("--{}", verb.flag), "--action", "a"], &[verb.sub, "a"]);
                }
            } else if let Some(m) = verbs::MODIFIERS.iter().find(|m| m.id() == id) {
                for sub in m.verbs {
                    let verb = verbs::VERBS.iter().find(|v| v.sub == *sub).expect("a command of the table");
                    let flag = format!("--{}", verb.flag);
                    let mut flags =
                        vec![flag.as_str(), &format!("--{long}")].into_iter().map(str::to_owned).collect::<Vec<_>>();
                    let mut words = vec![verb.sub.to_owned(), format!("--{long}")];
                    if let Some(name) = names.first() {
                        flags.push(sample(name).to_owned());
                        words.push(sample(name).to_owned());
                    }
                    let (f, s) = both(&flags, &words);
                    assert_eq!((f.0.as_ref(), &f.1), (Some(&s.0), &s.1), "{flags:?} against service {words:?}");
                    if let Some(short) = m.short {
                        words[1] = format!("-{short}");
                        let (f, s) = both(&flags, &words);
                        assert_eq!(f.0.as_ref(), Some(&s.0), "{flags:?} against service {words:?}");
                    }
                }
            } else {
                // The options every command takes: after the command, and before it (global).
                let values: Vec<String> = match arg.get_possible_values().first() {
                    Some(_) => arg.get_possible_values().iter().map(|v| v.get_name().to_owned()).collect(),
                    None => vec![sample(names.first().copied().unwrap_or("NAME")).to_owned()],
                };
                for value in values {
                    let option = format!("--{long}");
                    agree(&["--status", &option, &value], &["status", &option, &value]);
                    agree(&["--status", &option, &value], &[&option, &value, "status"]);
                }
            }
            seen += 1;
        }
        assert!(seen >= verbs::VERBS.len() + verbs::MODIFIERS.len() + 6, "only {seen} service arguments");
    }

    #[test]
    fn help_names_each_environment_variable_once() {
        let help = Cli::command().render_long_help().to_string();
        for var in [PROFILES_ENV, crate::backend::BACKEND_ENV, crate::paths::BIN_DIR_ENV] {
            assert_eq!(help.matches(var).count(), 1, "{var} in:\n{help}");
        }
    }

    #[test]
    fn the_subcommand_form_reads_before_the_clis_own_required_flags() {
        #[derive(Parser, Debug)]
        struct Strict {
            #[arg(long)]
            config: String,
            #[command(subcommand)]
            command: Option<StrictCmd>,
        }
        #[derive(Subcommand, Debug)]
        enum StrictCmd {
            Service(ServiceCommand),
            Add { title: String },
        }
        let s = ServiceCommand::leading_from::<Strict>(
            "service",
            ["mycli", "service", "logs", "svc/a", "-f", "--bin-dir", "/b"],
        )
        .expect("a service command")
        .unwrap();
        let query = logs::LogQuery { action: Some("svc/a".into()), follow: true, ..Default::default() };
        assert_eq!(s.command(), Command::Logs(query));
        assert_eq!(s.locations().bin_dir.as_deref(), Some(std::path::Path::new("/b")));
        assert!(ServiceCommand::leading_from::<Strict>("service", ["mycli", "add", "x"]).is_none());
        let e = Strict::try_parse_from(["mycli", "add", "x"]).unwrap_err();
        assert_eq!(
            e.kind(),
            clap::error::ErrorKind::MissingRequiredArgument,
            "the CLI's own command still needs --config"
        );
        let e = ServiceCommand::leading_from::<Strict>("service", ["mycli", "service", "bogus"]).unwrap().unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidSubcommand);
        assert!(e.to_string().contains("Usage: mycli service"), "in the CLI's own name: {e}");
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
        assert_eq!(cli.service.profiles(), ["proxy-auth"]);
        let plain = with_profiles(crate::ServiceBuilder::from_manifest(&manifest), &manifest, &[]).unwrap();
        assert!(plain.actions[0].depends_on.is_empty(), "{plain:#?}");
        let proxied =
            with_profiles(crate::ServiceBuilder::from_manifest(&manifest), &manifest, cli.service.profiles()).unwrap();
        assert_eq!(proxied.actions[0].depends_on[0].service, "hero_proxy");
        assert_eq!(proxied.profiles, ["proxy-auth"], "kept with the definition");
        let typo = with_profiles(crate::ServiceBuilder::from_manifest(&manifest), &manifest, &["proxy-ath".into()]);
        assert_eq!(typo.unwrap_err(), std::process::ExitCode::from(exit::USAGE));
    }
}
