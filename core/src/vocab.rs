//! The closed vocabularies of `service.toml`: binary kinds, dependency relations,
//! readiness gates and restart policies.
//!
//! Each enum knows its spellings (`NAMES`) so that a bad value in a manifest can be
//! answered with the full list of valid ones, and so that parsing, serde and the
//! generated code all agree on one spelling.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+ }

        impl $name {
            /// Every accepted spelling, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The spelling used in `service.toml`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }

            /// Parses the `service.toml` spelling; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What kind of process a `[[binaries]]` entry is.
    ///
    /// ```
    /// use service_manifest_core::BinaryKind;
    /// assert!(BinaryKind::Server.is_daemon());
    /// assert!(!BinaryKind::Cli.is_daemon());
    /// ```
    pub enum BinaryKind {
        /// A long-running daemon serving the service's API.
        Server = "server",
        /// A long-running administrative daemon.
        Admin = "admin",
        /// A long-running web front end.
        Web = "web",
        /// A command-line tool: installed, never started.
        Cli = "cli",
        /// Any other installed helper: never started.
        Tool = "tool",
    }
}

impl BinaryKind {
    /// Whether this kind is a long-running process (as opposed to something a person runs).
    pub const fn is_daemon(self) -> bool {
        matches!(self, Self::Server | Self::Admin | Self::Web)
    }
}

/// The one rule that decides whether the supervisor starts a binary.
///
/// A binary is started if and only if it is a daemon kind and no sibling spawns it.
/// The generated `Binary::is_started`, the generated `ServiceBuilder` and every
/// run-time start path call this function, so no start path can disagree.
///
/// ```
/// use service_manifest_core::{is_started, BinaryKind};
/// assert!(is_started(BinaryKind::Server, false));
/// assert!(!is_started(BinaryKind::Server, true)); // lk-backend: spawned by its sibling
/// assert!(!is_started(BinaryKind::Tool, false));
/// ```
pub const fn is_started(kind: BinaryKind, spawned_by_sibling: bool) -> bool {
    kind.is_daemon() && !spawned_by_sibling
}

vocabulary! {
    /// How a dependency edge constrains the dependent, with systemd's meanings.
    #[derive(Default)]
    pub enum Relation {
        /// Pull the dependency in and fail the dependent if it fails or never becomes ready.
        #[default]
        Requires = "requires",
        /// Pull the dependency in, but start the dependent even if the dependency fails.
        Wants = "wants",
        /// Only order: wait for the dependency if it is being started, never pull it in.
        After = "after",
        /// Never together: starting either stops the other first, as systemd's `Conflicts=`.
        Conflicts = "conflicts",
    }
}

vocabulary! {
    /// How a started binary says it is ready.
    pub enum BinaryReady {
        /// Its socket accepts a connection (the default when it names one).
        Socket = "socket",
        /// It sends `READY=1` over systemd's `sd_notify` protocol (`NOTIFY_SOCKET`).
        Notify = "notify",
    }
}

vocabulary! {
    /// What "ready" means for a dependency before its dependent may start.
    pub enum ReadyGate {
        /// The dependency's Unix socket accepts a connection.
        Socket = "socket",
        /// The dependency's process is running.
        Running = "running",
        /// The dependency exited with status 0 (one-shot jobs such as migrations).
        Completed = "completed",
        /// The dependency's process passed its first health check (`[binaries.health]`;
        /// docker compose's `service_healthy`).
        Healthy = "healthy",
    }
}

vocabulary! {
    /// When the supervisor restarts an exited process.
    #[derive(Default)]
    pub enum RestartPolicy {
        /// Never restart.
        Never = "never",
        /// Restart after a non-zero exit or a signal (the default).
        #[default]
        OnFailure = "on-failure",
        /// Restart after every exit.
        Always = "always",
    }
}
