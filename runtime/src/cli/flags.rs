//! The flag form: `mycli --start`, `mycli --status=json`, … flattened into the CLI's parser.

use clap::{ArgMatches, Args, FromArgMatches};

use super::Command;
use super::verbs::{self, Form, Options};
use crate::paths::Locations;

/// The service flags; flatten them into a CLI's own parser and call [`ServiceArgs::run`].
///
/// Every flag is listed under a "Service" heading in `--help`, and every argument id
/// starts with `service_`, so a CLI's own fields (`json`, `config`, `verbose`, `format`,
/// …) never collide with them. Long names are what users type, so they can collide: a CLI
/// that has its own `--start`, `--status`, `--logs`, `--bin-dir` … uses the subcommand form
/// ([`ServiceCommand`](super::ServiceCommand)) instead, where they live under
/// `mycli service …`. Both forms are generated from one definition of the commands.
///
/// The output format is a value of its command (`--status=json`, `--plan=json`,
/// `--graph=mermaid`), not a separate `--json`, so it cannot be given alone or clash with a
/// CLI's own `--json`. The modifiers (`--follow`, `--action`, `--supervisor-socket`,
/// `--bin-dir`, `--socket-dir`) are rejected by clap when their command is not given, and
/// a service command given with one of the CLI's own subcommands is an error rather than
/// one of them silently ignored (flatten `ServiceArgs` before the CLI's subcommand field:
/// clap hands the subcommand to the first field that asks for it).
///
/// A required argument of the CLI's own can give way to the service commands, so that
/// `mycli --status` works without it: `#[arg(long, required_unless_present = "service_command")]`
/// (the id of the group holding every service command, [`ServiceArgs::COMMAND_GROUP`]).
///
/// ```
/// # use service_manifest_runtime as service_manifest;
/// use clap::Parser;
/// use service_manifest::cli::ServiceArgs;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[arg(long, required_unless_present = ServiceArgs::COMMAND_GROUP)]
///     config: Option<String>,
///     #[command(flatten)]
///     service: ServiceArgs,
/// }
///
/// let cli = Cli::parse_from(["mycli", "--status=json"]);
/// assert!(cli.service.is_given());
/// assert!(Cli::try_parse_from(["mycli"]).is_err(), "--config is still required for the CLI's own work");
/// ```
#[derive(Clone, Debug, Default)]
pub struct ServiceArgs {
    command: Option<Command>,
    options: Options,
}

impl ServiceArgs {
    /// The id of the clap group that holds every service command (`--start`, `--status`, …).
    pub const COMMAND_GROUP: &str = "service_command";

    /// The command these flags ask for; `None` when no service flag was given.
    pub(super) fn command(&self) -> Option<Command> {
        self.command.clone()
    }

    /// Whether a service command was given: [`run`](Self::run) will answer `Some`.
    pub fn is_given(&self) -> bool {
        self.command.is_some()
    }

    /// Whether the flags ask for something that starts programs (`--start`, `--restart`,
    /// `--foreground`): the moment to install them into the bin directory.
    pub fn starts(&self) -> bool {
        self.command.as_ref().is_some_and(Command::starts)
    }

    #[cfg(test)]
    pub(super) fn options(&self) -> &Options {
        &self.options
    }

    /// The supervisor socket and the directories these flags and the environment choose.
    pub fn locations(&self) -> Locations {
        self.options.locations()
    }

    /// The profiles `--profile` (or `SERVICE_MANIFEST_PROFILES`) activates.
    pub fn profiles(&self) -> &[String] {
        &self.options.profile
    }

    /// Carries out the service flag that was given; `None` if none was, so the CLI goes on
    /// with its own work.
    pub fn run(&self, builder: crate::ServiceBuilder, manifest: &crate::Manifest) -> Option<std::process::ExitCode> {
        super::role::keep_linked();
        Some(super::run_with(self.command()?, &self.options, builder, manifest))
    }
}

impl FromArgMatches for ServiceArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        let verb = verbs::VERBS.iter().find(|v| given(&v.id()));
        if let (Some(verb), Some(sub)) = (verb, matches.subcommand_name()) {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--{} cannot be used with the subcommand '{sub}': give one or the other", verb.flag),
            ));
        }
        Ok(Self {
            command: verb.map(|v| verbs::decode(v, matches, Form::Flags)),
            options: verbs::decode_options(matches),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ServiceArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = cmd.next_help_heading("Service").args(verbs::flag_args()).groups(verbs::flag_groups());
        for arg in verbs::option_args() {
            // A location chosen without a command would be silently ignored; the others come
            // from the environment too, where a requirement would get in the way.
            let located =
                ["service_supervisor_socket", "service_bin_dir", "service_socket_dir"].contains(&arg.get_id().as_str());
            cmd = cmd.arg(if located { arg.requires(Self::COMMAND_GROUP) } else { arg });
        }
        cmd.next_help_heading(None)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}
