//! The validated manifest.
//!
//! Every string and list is a `Cow<'static, _>` so that one type serves both as the
//! `const` the macro generates (all borrowed) and as the owned value the run-time
//! loader returns. Defaults are already resolved here: a consumer never re-derives
//! a dependency's readiness gate or whether a binary is started.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::vocab::{self, BinaryKind, ReadyGate, Relation, RestartPolicy};

/// A string that is borrowed in generated code and owned when loaded at run time.
pub type Text = Cow<'static, str>;
/// A list that is borrowed in generated code and owned when loaded at run time.
pub type List<T> = Cow<'static, [T]>;

/// A whole `service.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The `[service]` table.
    pub service: ServiceInfo,
    /// The `[[binaries]]` entries, in file order.
    pub binaries: List<Binary>,
    /// The `[[dependencies]]` entries, in file order.
    pub dependencies: List<Dependency>,
}

/// The `[service]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// The service's name (defaults to the compiling crate's package name).
    pub name: Text,
    /// A one-line description.
    pub description: Option<Text>,
    /// The profiles the manifest declares (`[service] profiles`), in file order.
    #[serde(default)]
    pub profiles: List<Text>,
}

/// One `[[binaries]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binary {
    /// The executable's name, unique within the service.
    pub name: Text,
    /// What kind of process it is.
    pub kind: BinaryKind,
    /// The sibling binary that spawns and owns this one, if any.
    pub spawned_by: Option<Text>,
    /// The Unix socket this binary serves: its readiness gate.
    pub socket: Option<Text>,
    /// Command-line arguments.
    pub args: List<Text>,
    /// Environment variables, in file order.
    pub env: List<(Text, Text)>,
    /// Sibling binaries that must be ready before this one starts.
    pub after: List<Text>,
    /// How long the binary may take to become ready, in milliseconds.
    pub start_timeout_ms: Option<u64>,
    /// When the supervisor restarts it.
    pub restart: RestartPolicy,
    /// A one-line description.
    pub description: Option<Text>,
    /// The profiles it runs in; empty means always (see [`active_in`]).
    #[serde(default)]
    pub profiles: List<Text>,
    /// It says it is ready with `sd_notify`'s `READY=1` (`ready = "notify"`).
    #[serde(default)]
    pub notify: bool,
    /// `watchdog`: it must send `WATCHDOG=1` at least this often once ready (milliseconds).
    #[serde(default)]
    pub watchdog_ms: Option<u64>,
    /// `[binaries.health]`: the periodic probe that tells whether it still works.
    #[serde(default)]
    pub health: Option<HealthCheck>,
}

/// `[binaries.health]`: a probe run every `interval_ms` while the binary runs, with
/// docker's meanings: `retries` failures in a row make it unhealthy (a failure of the
/// running process: it is stopped and the restart policy applies), and failures before
/// its first passed probe within `start_period_ms` of its start do not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// What one probe does.
    pub probe: Probe,
    /// Time from the end of one probe to the next, once it passed one (or its start period is over).
    pub interval_ms: u64,
    /// How long one probe may take; longer is a failure.
    pub timeout_ms: u64,
    /// Failed probes in a row before it is unhealthy.
    pub retries: u32,
    /// Failures within this time of its start do not count until a probe passed.
    pub start_period_ms: u64,
    /// Time between probes during the start period, before the first one passed.
    pub start_interval_ms: u64,
}

impl HealthCheck {
    /// Docker's defaults for every key that is not written.
    pub const DEFAULT_INTERVAL_MS: u64 = 30_000;
    /// See [`HealthCheck::DEFAULT_INTERVAL_MS`].
    pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
    /// See [`HealthCheck::DEFAULT_INTERVAL_MS`].
    pub const DEFAULT_RETRIES: u32 = 3;
    /// See [`HealthCheck::DEFAULT_INTERVAL_MS`].
    pub const DEFAULT_START_INTERVAL_MS: u64 = 5_000;

    /// A check with this probe and every other key at its default.
    ///
    /// ```
    /// use service_manifest_core::model::{HealthCheck, Probe};
    /// let h = HealthCheck::new(Probe::Socket { send: None, expect: None });
    /// assert_eq!((h.interval_ms, h.retries), (30_000, 3));
    /// ```
    pub const fn new(probe: Probe) -> Self {
        Self {
            probe,
            interval_ms: Self::DEFAULT_INTERVAL_MS,
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
            retries: Self::DEFAULT_RETRIES,
            start_period_ms: 0,
            start_interval_ms: Self::DEFAULT_START_INTERVAL_MS,
        }
    }
}

/// What one health probe does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "probe", rename_all = "snake_case")]
pub enum Probe {
    /// Connect to the binary's own socket. With `send`, write it and a newline; with
    /// `send` or `expect`, read one line back, which must contain `expect` when given.
    /// A connect alone proves little: the kernel completes connections into the listen
    /// backlog of a daemon that no longer reads them.
    Socket {
        /// One line to send (a JSON-RPC request, say), without its newline.
        send: Option<Text>,
        /// Text the reply line must contain.
        expect: Option<Text>,
    },
    /// Run a command (a bare program name is looked up in the bin directory); healthy on exit 0.
    Exec {
        /// The program and its arguments.
        command: List<Text>,
    },
}

impl Binary {
    /// Whether the supervisor starts this binary; see [`vocab::is_started`].
    ///
    /// A started binary with `profiles` is only started while one of them is active.
    pub const fn is_started(&self) -> bool {
        vocab::is_started(self.kind, self.spawned_by.is_some())
    }

    /// Whether the binary runs when exactly the `active` profiles are; see [`active_in`].
    pub fn is_active(&self, active: &[&str]) -> bool {
        active_in(&self.profiles, active)
    }

    /// The gate a dependent waits on: the socket when one is served, else a running process.
    pub const fn ready_gate(&self) -> ReadyGate {
        if self.socket.is_some() { ReadyGate::Socket } else { ReadyGate::Running }
    }
}

/// One `[[dependencies]]` entry: another service this one needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The dependency's repository, which is also its service name.
    pub repo: Text,
    /// The dependency's crate (`crate` or `crate_name`).
    pub crate_name: Option<Text>,
    /// The dependency's binary (`bin` or `bin_name`).
    pub bin: Option<Text>,
    /// The Unix socket the dependency serves (`socket` or `socket_name`).
    pub socket: Option<Text>,
    /// How the edge constrains the dependent.
    pub relation: Relation,
    /// What "ready" means; resolved: `socket` when a socket is named, else `running`.
    pub ready: ReadyGate,
    /// How long a dependent waits for the gate, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Which of our binaries need it; empty means every started binary.
    pub applies_to: List<Text>,
    /// The profiles it applies in; empty means always (see [`active_in`]).
    #[serde(default)]
    pub profiles: List<Text>,
}

/// The one rule for `profiles` (docker compose's): an item that lists none always
/// applies; one that lists some applies while at least one of them is active.
///
/// ```
/// use service_manifest_core::model::active_in;
/// assert!(active_in(&[], &[]));
/// assert!(!active_in(&["proxy-auth".into()], &[]));
/// assert!(active_in(&["proxy-auth".into()], &["debug", "proxy-auth"]));
/// ```
pub fn active_in(profiles: &[Text], active: &[&str]) -> bool {
    profiles.is_empty() || profiles.iter().any(|p| active.contains(&p.as_ref()))
}

impl Dependency {
    /// Whether this dependency constrains the given binary of ours.
    pub fn applies_to(&self, binary: &str) -> bool {
        self.applies_to.is_empty() || self.applies_to.iter().any(|b| b == binary)
    }
}

impl Manifest {
    /// The binaries the supervisor starts, in file order.
    pub fn started(&self) -> impl Iterator<Item = &Binary> {
        self.binaries.iter().filter(|b| b.is_started())
    }

    /// The binaries that are installed but never started, in file order.
    pub fn install_only(&self) -> impl Iterator<Item = &Binary> {
        self.binaries.iter().filter(|b| !b.is_started())
    }

    /// The binaries the supervisor starts when exactly the `active` profiles are.
    pub fn started_in<'a>(&'a self, active: &'a [&'a str]) -> impl Iterator<Item = &'a Binary> {
        self.started().filter(move |b| b.is_active(active))
    }

    /// Looks a binary up by name.
    pub fn binary(&self, name: &str) -> Option<&Binary> {
        self.binaries.iter().find(|b| b.name == name)
    }
}

/// One dependency edge of a started binary, as the supervisor will enforce it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge<'a> {
    /// The service the dependency belongs to (ours, for `after`).
    pub service: &'a str,
    /// The dependency's binary, when named.
    pub action: Option<&'a str>,
    /// The socket the gate waits on, when named.
    pub socket: Option<&'a str>,
    /// How the edge constrains the dependent.
    pub relation: Relation,
    /// What "ready" means.
    pub ready: ReadyGate,
    /// How long to wait for the gate, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// The dependency's crate, carried for registering it from its declaration.
    pub crate_name: Option<&'a str>,
    /// The profiles the edge applies in; empty means always (see [`active_in`]).
    pub profiles: &'a [Text],
}

impl Edge<'_> {
    /// Whether the edge holds when exactly the `active` profiles are.
    pub fn is_active(&self, active: &[&str]) -> bool {
        active_in(self.profiles, active)
    }
}

impl Manifest {
    /// Every edge the given binary waits on, in any profile: its `after` siblings
    /// first (each a `requires` edge gated on the sibling's socket, or on its process
    /// when it serves none), then each `[[dependencies]]` entry that applies to it,
    /// carrying the dependency's `profiles` as the edge's condition.
    ///
    /// This is the only place `depends_on` is derived from a manifest: the macro
    /// spells its result out as builder calls at compile time, and
    /// `ServiceBuilder::from_manifest` calls it at run time. An `after` edge has no
    /// condition of its own: validation guarantees the sibling runs whenever the
    /// binary does.
    pub fn edges_of<'a>(&'a self, binary: &'a Binary) -> Vec<Edge<'a>> {
        let siblings = binary.after.iter().filter_map(|name| self.binary(name)).map(|sibling| Edge {
            service: &self.service.name,
            action: Some(&sibling.name),
            socket: sibling.socket.as_deref(),
            relation: Relation::Requires,
            ready: sibling.ready_gate(),
            timeout_ms: sibling.start_timeout_ms,
            crate_name: None,
            profiles: &[],
        });
        let services = self.dependencies.iter().filter(|d| d.applies_to(&binary.name)).map(|d| Edge {
            service: &d.repo,
            action: d.bin.as_deref(),
            socket: d.socket.as_deref(),
            relation: d.relation,
            ready: d.ready,
            timeout_ms: d.timeout_ms,
            crate_name: d.crate_name.as_deref(),
            profiles: &d.profiles,
        });
        siblings.chain(services).collect()
    }
}
