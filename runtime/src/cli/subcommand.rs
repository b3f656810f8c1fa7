//! The subcommand form: `mycli service start|stop|status|…`, for CLIs that prefer
//! subcommands or whose own flags would collide with the flag form's.

use std::ffi::OsString;

use clap::{ArgMatches, Args, FromArgMatches};

use super::Command;
use super::verbs::{self, Form, Options};
use crate::paths::Locations;

/// The service commands as one subcommand of a CLI: add a variant holding it to your
/// subcommand enum and call [`ServiceCommand::run`]. It takes every command and option of
/// the flag form ([`ServiceArgs`](super::ServiceArgs)): both are generated from one
/// definition.
///
/// A CLI with required flags of its own keeps them required for its own commands by
/// reading `mycli service …` first, with [`ServiceCommand::leading`], before its own
/// parser runs (clap cannot make a flag required except under one subcommand, and
/// `subcommand_negates_reqs` would lift it for the CLI's own subcommands too):
///
/// ```
/// # use service_manifest_runtime as service_manifest;
/// use clap::{CommandFactory, Parser, Subcommand};
/// use service_manifest::cli::ServiceCommand;
///
/// #[derive(Parser)]
/// struct Cli {
///     /// Required for the CLI's own commands; `mycli service …` is read before it is asked for.
///     #[arg(long)]
///     config: String,
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
///     /// One of the CLI's own.
///     Add { title: String },
/// }
///
/// Cli::command().debug_assert();
/// let service = ServiceCommand::leading_from::<Cli>("service", ["mycli", "service", "status", "--json"]);
/// assert!(service.is_some_and(|s| s.is_ok()), "needs no --config");
/// assert!(ServiceCommand::leading_from::<Cli>("service", ["mycli", "add", "x"]).is_none());
/// assert!(Cli::try_parse_from(["mycli", "add", "x"]).is_err(), "--config is still required");
/// ```
#[derive(Clone, Debug)]
pub struct ServiceCommand {
    command: Command,
    options: Options,
}

impl ServiceCommand {
    pub(super) fn command(&self) -> Command {
        self.command.clone()
    }

    /// Whether this starts programs (`start`, `restart`, `foreground`).
    pub fn starts(&self) -> bool {
        self.command.starts()
    }

    #[cfg(test)]
    pub(super) fn options(&self) -> &Options {
        &self.options
    }

    /// The supervisor socket and the directories these options and the environment choose.
    pub fn locations(&self) -> Locations {
        self.options.locations()
    }

    /// The profiles `--profile` (or `SERVICE_MANIFEST_PROFILES`) activates.
    pub fn profiles(&self) -> &[String] {
        &self.options.profile
    }

    /// Carries out the command.
    pub fn run(&self, builder: crate::ServiceBuilder, manifest: &crate::Manifest) -> std::process::ExitCode {
        super::role::keep_linked();
        super::run_with(self.command(), &self.options, builder, manifest)
    }

    /// `mycli NAME …` read from this process's arguments before the CLI's own parser: `None`
    /// when the first argument is not `NAME`; on a mistake in the service command, clap's
    /// message and exit code, in the CLI's own name and help (`P` is the CLI's parser).
    pub fn leading<P: clap::CommandFactory>(name: &str) -> Option<Self> {
        match Self::leading_from::<P>(name, std::env::args_os())? {
            Ok(command) => Some(command),
            Err(e) => e.exit(),
        }
    }

    /// [`leading`](Self::leading) of the given arguments (the program's name first).
    pub fn leading_from<P: clap::CommandFactory>(
        name: &str,
        args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    ) -> Option<Result<Self, clap::Error>> {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        if args.get(1).is_none_or(|first| *first != *name) {
            return None;
        }
        // The CLI's own command, so help and errors read as its own, with only this
        // subcommand: its required arguments belong to its other commands.
        let full = P::command();
        let service = full
            .find_subcommand(name)
            .cloned()
            .unwrap_or_else(|| Self::augment_args(clap::Command::new(name.to_owned())));
        let cmd = clap::Command::new(full.get_name().to_owned()).subcommand(service).subcommand_required(true);
        Some(cmd.try_get_matches_from(args).and_then(|m| match m.subcommand() {
            Some((_, sub)) => Self::from_arg_matches(sub),
            None => Err(clap::Error::raw(clap::error::ErrorKind::MissingSubcommand, "a service command is needed\n")),
        }))
    }
}

impl FromArgMatches for ServiceCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, sub)) = matches.subcommand() else {
            return Err(clap::Error::raw(clap::error::ErrorKind::MissingSubcommand, "a service command is needed\n"));
        };
        let Some(verb) = verbs::VERBS.iter().find(|v| v.sub == name) else {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                format!("'{name}' is not a service command\n"),
            ));
        };
        // Global options are propagated into the subcommand's matches.
        Ok(Self { command: verbs::decode(verb, sub, Form::Subcommand), options: verbs::decode_options(sub) })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ServiceCommand {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let options = verbs::option_args().map(|a| a.global(true));
        cmd.subcommand_required(true).subcommands(verbs::subcommands()).args(options)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}
