//! The service commands, defined once. Both forms are generated from these tables: the
//! flags (`mycli --status=json`, [`ServiceArgs`](super::ServiceArgs)) and the subcommand
//! (`mycli service status --json`, [`ServiceCommand`](super::ServiceCommand)); both decode
//! through [`decode`] into the same [`Command`] and [`Options`], so they cannot drift.

use std::path::PathBuf;

use clap::builder::{ArgPredicate, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgGroup, ArgMatches, value_parser};

use super::{Command, Format, GraphFormat};

/// What a command takes besides its modifiers.
#[derive(Clone, Copy, Debug)]
pub(super) enum Operand {
    /// Nothing: `--check`, `service check`.
    None,
    /// One action of the service, optional: `--start --action NAME`, `service start [NAME]`.
    Action,
    /// An action to read, optional: `--logs [ACTION]`, `service logs [ACTION]`.
    LogAction,
    /// An output format: `--status[=json]`, `service status [json]` or `--json`.
    Format { choices: &'static [&'static str], default: &'static str },
    /// `--export FORMAT DIR`, `service export FORMAT DIR`.
    Export,
}

/// One service command.
#[derive(Debug)]
pub(super) struct Verb {
    /// The flag's long name, `--start`.
    pub flag: &'static str,
    /// The subcommand's name, `service start`.
    pub sub: &'static str,
    pub help: &'static str,
    pub operand: Operand,
}

impl Verb {
    /// The argument id of the flag (and of nothing else): `service_start`.
    pub fn id(&self) -> String {
        format!("service_{}", self.sub)
    }
}

const TEXT_JSON: Operand = Operand::Format { choices: &["text", "json"], default: "text" };

/// Every service command, in the order `--help` lists them.
pub(super) const VERBS: &[Verb] = &[
    Verb {
        flag: "start",
        sub: "start",
        help: "Start this service, and what it requires, launching the supervisor if none runs",
        operand: Operand::Action,
    },
    Verb {
        flag: "stop",
        sub: "stop",
        help: "Stop this service; whatever requires it is stopped first",
        operand: Operand::Action,
    },
    Verb { flag: "restart", sub: "restart", help: "Stop, then start this service", operand: Operand::Action },
    Verb {
        flag: "status",
        sub: "status",
        help: "Show each action's state, pid, uptime and reason; exit 3 if something wanted is not up",
        operand: TEXT_JSON,
    },
    Verb {
        flag: "logs",
        sub: "logs",
        help: "Print the logs of every action the service involves, merged in time order; or of one action: this \
               service's, or a dependency's (`svc/action`)",
        operand: Operand::LogAction,
    },
    Verb {
        flag: "timeline",
        sub: "timeline",
        help: "Where the last start's time went: waits, spawn → ready, the critical chain",
        operand: Operand::Format { choices: &["text", "svg", "json"], default: "text" },
    },
    Verb {
        flag: "plan",
        sub: "plan",
        help: "Print the start order as a dependency tree, and what would stop a start",
        operand: TEXT_JSON,
    },
    Verb {
        flag: "check",
        sub: "check",
        help: "Check that every program is installed and every socket path fits; exit 1 if not",
        operand: Operand::None,
    },
    Verb {
        flag: "graph",
        sub: "graph",
        help: "Print the dependency graph",
        operand: Operand::Format { choices: &["dot", "mermaid"], default: "dot" },
    },
    Verb {
        flag: "foreground",
        sub: "foreground",
        help: "Run a supervisor tied to this command until Ctrl-C, then stop everything in reverse order",
        operand: Operand::None,
    },
    Verb {
        flag: "shutdown-supervisor",
        sub: "shutdown",
        help: "Stop every service in reverse dependency order, then the supervisor itself",
        operand: Operand::None,
    },
    Verb {
        flag: "supervisor-info",
        sub: "info",
        help: "Show the supervisor's own state: pid, socket, directories, uptime, API version",
        operand: TEXT_JSON,
    },
    Verb {
        flag: "export",
        sub: "export",
        help: "Write this service for another supervisor instead of starting it: `systemd DIR`",
        operand: Operand::Export,
    },
];

/// A modifier of some commands: `--follow` of `--logs`.
#[derive(Debug)]
pub(super) struct Modifier {
    pub long: &'static str,
    /// Its short name, in the subcommand form only (the flag form leaves short names to the CLI).
    pub short: Option<char>,
    pub help: &'static str,
    /// `None`: a switch.
    pub value_name: Option<&'static str>,
    /// The commands it goes with (their subcommand names).
    pub verbs: &'static [&'static str],
}

impl Modifier {
    pub fn id(&self) -> String {
        format!("service_{}", self.long)
    }

    fn arg(&self) -> Arg {
        let arg = Arg::new(self.id()).long(self.long);
        match (self.value_name, self.long) {
            (None, _) => arg.action(ArgAction::SetTrue),
            (Some(name), "lines") => arg.value_name(name).value_parser(value_parser!(usize)),
            (Some(name), "since") => arg.value_name(name).value_parser(super::parse_duration),
            (Some(name), _) => arg.value_name(name),
        }
    }
}

/// Every modifier of a command.
pub(super) const MODIFIERS: &[Modifier] = &[
    Modifier {
        long: "watch",
        short: None,
        help: "Keep the table current, redrawn at each change, until Ctrl-C",
        value_name: None,
        verbs: &["status"],
    },
    Modifier {
        long: "follow",
        short: Some('f'),
        help: "Keep printing what is appended",
        value_name: None,
        verbs: &["logs"],
    },
    Modifier {
        long: "lines",
        short: Some('n'),
        help: "Only the last N lines",
        value_name: Some("N"),
        verbs: &["logs"],
    },
    Modifier {
        long: "since",
        short: None,
        help: "Only the lines of the last DURATION (`10m`, `1h 30m`)",
        value_name: Some("DURATION"),
        verbs: &["logs"],
    },
];

/// Where the service commands are carried out, chosen by options every command takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Options {
    pub supervisor_socket: Option<PathBuf>,
    pub bin_dir: Option<PathBuf>,
    pub socket_dir: Option<PathBuf>,
    pub profile: Vec<String>,
    pub backend: crate::backend::Backend,
    pub zinit_socket: Option<PathBuf>,
}

/// The options every command takes, as arguments; the flag form makes the first three
/// require a command, the subcommand form makes them all global to `service`.
pub(super) fn option_args() -> [Arg; 6] {
    [
        Arg::new("service_supervisor_socket")
            .long("supervisor-socket")
            .value_name("PATH")
            .value_parser(value_parser!(PathBuf))
            .help("The supervisor's socket [env: SERVICE_MANIFEST_SUPERVISOR_SOCKET]"),
        Arg::new("service_bin_dir")
            .long("bin-dir")
            .value_name("DIR")
            .value_parser(value_parser!(PathBuf))
            .help("Where programs are found, for a supervisor this launches [env: SERVICE_MANIFEST_BIN_DIR]"),
        Arg::new("service_socket_dir")
            .long("socket-dir")
            .value_name("DIR")
            .value_parser(value_parser!(PathBuf))
            .help("Where relative socket names resolve, for a supervisor this launches [env: SERVICE_MANIFEST_SOCKET_DIR]"),
        Arg::new("service_profile")
            .long("profile")
            .value_name("NAME")
            .env(super::PROFILES_ENV)
            .value_delimiter(',')
            .action(ArgAction::Append)
            .help("Activate a profile of the manifest (`[service] profiles`): its binaries and dependencies join the registration; repeatable, or comma-separated"),
        Arg::new("service_backend")
            .long("backend")
            .value_name("BACKEND")
            .env(crate::backend::BACKEND_ENV)
            .value_parser(value_parser!(crate::backend::Backend))
            .default_value("embedded")
            .help("Which supervisor carries out the commands"),
        Arg::new("service_zinit_socket")
            .long("zinit-socket")
            .value_name("PATH")
            .env(crate::backend::zinit::SOCKET_ENV)
            .value_parser(value_parser!(PathBuf))
            .help("zinit-server's socket, with --backend zinit (default: ~/hero/var/zinit.sock)"),
    ]
}

/// The modifiers that go with `verb`.
pub(super) fn modifiers_of(verb: &Verb) -> impl Iterator<Item = &'static Modifier> {
    MODIFIERS.iter().filter(move |m| m.verbs.contains(&verb.sub))
}

/// The flag-form arguments: one per command, the `--action` operand, the modifiers.
pub(super) fn flag_args() -> Vec<Arg> {
    let mut args = Vec::new();
    for verb in VERBS {
        let arg = Arg::new(verb.id()).long(verb.flag).help(verb.help);
        args.push(match verb.operand {
            Operand::None | Operand::Action => arg.action(ArgAction::SetTrue),
            Operand::LogAction => arg.value_name("ACTION").num_args(0..=1).default_missing_value(""),
            Operand::Format { choices, default } => arg
                .value_name("FORMAT")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value(default)
                .value_parser(PossibleValuesParser::new(choices)),
            Operand::Export => arg.num_args(2).value_names(["FORMAT", "DIR"]),
        });
    }
    args.push(
        Arg::new("service_action")
            .long("action")
            .value_name("NAME")
            .requires(ACTION_VERBS)
            .help("With --start, --stop or --restart: that one action of this service alone, with what it requires"),
    );
    for m in MODIFIERS {
        let with: Vec<String> = m.verbs.iter().map(|v| format!("--{}", flag_of(v))).collect();
        let arg = m.arg().help(format!("With {}: {}", with.join(" or "), lower_first(m.help)));
        // One command per modifier here; a modifier shared by several would require a group.
        args.push(arg.requires(format!("service_{}", m.verbs[0])));
    }
    args
}

/// The id of the group of commands that take an action (`--action`).
pub(super) const ACTION_VERBS: &str = "service_action_verbs";

/// The groups of the flag form: every command (at most one), and those `--action` goes with.
pub(super) fn flag_groups() -> [ArgGroup; 2] {
    let ids = |pred: fn(&Verb) -> bool| VERBS.iter().filter(|v| pred(v)).map(Verb::id).collect::<Vec<_>>();
    [
        ArgGroup::new(super::ServiceArgs::COMMAND_GROUP).multiple(false).args(ids(|_| true)),
        ArgGroup::new(ACTION_VERBS).multiple(false).args(ids(|v| matches!(v.operand, Operand::Action))),
    ]
}

/// The subcommand-form commands: one subcommand per command, its operand positional,
/// `--json` beside a format that has one, its modifiers with their short names.
pub(super) fn subcommands() -> Vec<clap::Command> {
    VERBS
        .iter()
        .map(|verb| {
            let cmd = clap::Command::new(verb.sub).about(verb.help);
            let cmd = match verb.operand {
                Operand::None => cmd,
                Operand::Action => cmd.arg(
                    Arg::new("service_action")
                        .value_name("ACTION")
                        .help("One action of this service alone, with what it requires"),
                ),
                Operand::LogAction => cmd.arg(
                    Arg::new("service_action")
                        .value_name("ACTION")
                        .help("The action; without it, every action the service involves"),
                ),
                Operand::Format { choices, default } => {
                    let cmd = cmd.arg(
                        Arg::new("service_format")
                            .value_name("FORMAT")
                            .default_value(default)
                            .default_value_if("service_json", ArgPredicate::IsPresent, "json")
                            .value_parser(PossibleValuesParser::new(choices)),
                    );
                    if choices.contains(&"json") {
                        cmd.arg(
                            Arg::new("service_json")
                                .long("json")
                                .action(ArgAction::SetTrue)
                                .conflicts_with("service_format")
                                .help("Print JSON (the same as the format `json`)"),
                        )
                    } else {
                        cmd
                    }
                }
                Operand::Export => {
                    cmd.arg(Arg::new("service_export").num_args(2).value_names(["FORMAT", "DIR"]).required(true))
                }
            };
            modifiers_of(verb).fold(cmd, |cmd, m| {
                let arg = m.arg().help(m.help);
                cmd.arg(match m.short {
                    Some(short) => arg.short(short),
                    None => arg,
                })
            })
        })
        .collect()
}

fn flag_of(sub: &str) -> &'static str {
    VERBS.iter().find(|v| v.sub == sub).map_or("", |v| v.flag)
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// Which form `decode` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    Flags,
    Subcommand,
}

/// The command `verb` asks for, read from its matches (the CLI's for the flag form, the
/// subcommand's for the other).
pub(super) fn decode(verb: &Verb, m: &ArgMatches, form: Form) -> Command {
    let action = || m.get_one::<String>("service_action").cloned();
    let format = || match form {
        Form::Flags => m.get_one::<String>(&verb.id()).cloned().unwrap_or_default(),
        // `--json` sets the format through its default; a conflict keeps them apart.
        Form::Subcommand => m.get_one::<String>("service_format").cloned().unwrap_or_default(),
    };
    let text_json = || if format() == "json" { Format::Json } else { Format::Text };
    match verb.sub {
        "start" => Command::Start(action()),
        "stop" => Command::Stop(action()),
        "restart" => Command::Restart(action()),
        "status" => Command::Status(text_json(), m.get_flag("service_watch")),
        "logs" => {
            let action = match form {
                Form::Flags => m.get_one::<String>(&verb.id()).filter(|a| !a.is_empty()).cloned(),
                Form::Subcommand => action(),
            };
            Command::Logs(super::logs::LogQuery {
                action,
                follow: m.get_flag("service_follow"),
                lines: m.get_one::<usize>("service_lines").copied(),
                since: m.get_one::<std::time::Duration>("service_since").copied(),
            })
        }
        "timeline" => Command::Timeline(match format().as_str() {
            "svg" => super::timeline::TimelineFormat::Svg,
            "json" => super::timeline::TimelineFormat::Json,
            _ => super::timeline::TimelineFormat::Text,
        }),
        "plan" => Command::Plan(text_json()),
        "check" => Command::Check,
        "graph" => Command::Graph(if format() == "mermaid" { GraphFormat::Mermaid } else { GraphFormat::Dot }),
        "foreground" => Command::Foreground,
        "shutdown" => Command::Shutdown,
        "info" => Command::Info(text_json()),
        _ => {
            let id = if form == Form::Flags { verb.id() } else { "service_export".into() };
            let mut values = m.get_many::<String>(&id).into_iter().flatten().cloned();
            let format = values.next().unwrap_or_default();
            Command::Export { format, dir: values.next().unwrap_or_default().into() }
        }
    }
}

/// The options, read from matches that hold [`option_args`].
pub(super) fn decode_options(m: &ArgMatches) -> Options {
    let path = |id: &str| m.get_one::<PathBuf>(id).cloned();
    Options {
        supervisor_socket: path("service_supervisor_socket"),
        bin_dir: path("service_bin_dir"),
        socket_dir: path("service_socket_dir"),
        profile: m.get_many::<String>("service_profile").into_iter().flatten().cloned().collect(),
        backend: m.get_one::<crate::backend::Backend>("service_backend").copied().unwrap_or_default(),
        zinit_socket: path("service_zinit_socket"),
    }
}
