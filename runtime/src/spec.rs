//! The registration payload: what a service's CLI sends the supervisor.
//!
//! These are plain serde types; `service_manifest!` builds them through
//! [`ServiceBuilder`](crate::ServiceBuilder), and the supervisor stores and enforces them.

use serde::{Deserialize, Serialize};
use service_manifest_core::model::HealthCheck;
use service_manifest_core::{BinaryKind, ReadyGate, Relation, RestartPolicy};

/// A service: its name and one action per started binary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// The service's name (the repository name).
    pub name: String,
    /// One action per binary the supervisor starts.
    pub actions: Vec<ActionSpec>,
    /// The profiles this registration was built for (`--profile`), kept with the definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Who defined it (the CLI's program), for a failure that names a program
    /// which is no longer where that CLI said it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_by: Option<String>,
}

impl ServiceSpec {
    /// A service with these actions; every other field keeps its default.
    ///
    /// ```
    /// use service_manifest_runtime::{ActionSpec, BinaryKind, ServiceSpec};
    /// let spec = ServiceSpec::new("hero_proxy", vec![ActionSpec::new("hero_proxy_server", BinaryKind::Server)]);
    /// assert_eq!(spec.actions.len(), 1);
    /// ```
    pub fn new(name: impl Into<String>, actions: Vec<ActionSpec>) -> Self {
        Self { name: name.into(), actions, ..Self::default() }
    }

    /// The same registration with every bare program name resolved against `bin_dir`, as
    /// the CLI that knows where its daemons are sends it: a supervisor that restores it
    /// later, whatever its own bin directory, runs what was registered.
    ///
    /// ```
    /// use std::path::Path;
    /// use service_manifest_runtime::{ActionSpec, BinaryKind, ServiceSpec};
    /// let spec = ServiceSpec::new("s", vec![ActionSpec::new("d", BinaryKind::Server)]);
    /// assert_eq!(spec.with_programs_in(Path::new("/opt/s/bin")).actions[0].exec, "/opt/s/bin/d");
    /// ```
    pub fn with_programs_in(&self, bin_dir: &std::path::Path) -> Self {
        let mut spec = self.clone();
        for action in &mut spec.actions {
            if !action.exec.contains('/') {
                action.exec = bin_dir.join(&action.exec).display().to_string();
            }
        }
        spec
    }

    /// Looks an action up by name.
    pub fn action(&self, name: &str) -> Option<&ActionSpec> {
        self.actions.iter().find(|a| a.name == name)
    }
}

/// One supervised process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSpec {
    /// The binary's name, unique within the service.
    pub name: String,
    /// The binary's kind.
    pub kind: BinaryKind,
    /// The program to run: a bare name is looked up in the bin directory.
    pub exec: String,
    /// Arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// The Unix socket this action serves; it is ready when the socket accepts a connection.
    #[serde(default)]
    pub socket: Option<String>,
    /// When to restart it.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// How long it may take to become ready, in milliseconds.
    #[serde(default)]
    pub start_timeout_ms: Option<u64>,
    /// What must be ready before it starts.
    #[serde(default)]
    pub depends_on: Vec<ActionDep>,
    /// It says it is ready with `sd_notify`'s `READY=1` on `NOTIFY_SOCKET` (systemd's
    /// `Type=notify`), rather than by its socket accepting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify: bool,
    /// Once ready it must send `WATCHDOG=1` on `NOTIFY_SOCKET` at least this often
    /// (milliseconds; systemd's `WatchdogSec=`), or it is stopped with `SIGABRT` and
    /// restarted as its policy says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchdog_ms: Option<u64>,
    /// A periodic probe while it runs; unhealthy is a failure (see [`HealthCheck`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthCheck>,
}

impl ActionSpec {
    /// An action running the binary `name` (looked up in the bin directory).
    ///
    /// ```
    /// use service_manifest_runtime::{ActionSpec, BinaryKind};
    /// let a = ActionSpec::new("hero_proxy_server", BinaryKind::Server).socket("hero_proxy/proxy.sock");
    /// assert_eq!(a.exec, "hero_proxy_server");
    /// ```
    pub fn new(name: impl Into<String>, kind: BinaryKind) -> Self {
        let name = name.into();
        Self {
            exec: name.clone(),
            name,
            kind,
            args: Vec::new(),
            env: Vec::new(),
            socket: None,
            restart: RestartPolicy::default(),
            start_timeout_ms: None,
            depends_on: Vec::new(),
            notify: false,
            watchdog_ms: None,
            health: None,
        }
    }

    /// Sets the program to run (a path, or a name looked up in the bin directory).
    pub fn exec(mut self, exec: impl Into<String>) -> Self {
        self.exec = exec.into();
        self
    }

    /// Sets the socket the action serves.
    pub fn socket(mut self, socket: impl Into<String>) -> Self {
        self.socket = Some(socket.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Makes it ready when it sends `READY=1` over `NOTIFY_SOCKET` (systemd's `sd_notify`).
    ///
    /// ```
    /// use service_manifest_runtime::{ActionSpec, BinaryKind};
    /// assert!(ActionSpec::new("db", BinaryKind::Server).notify().notify);
    /// ```
    pub fn notify(mut self) -> Self {
        self.notify = true;
        self
    }

    /// Arms a watchdog: once ready, it must send `WATCHDOG=1` at least every `ms`
    /// milliseconds (it gets `WATCHDOG_USEC` and `WATCHDOG_PID`, as from systemd).
    ///
    /// ```
    /// use service_manifest_runtime::{ActionSpec, BinaryKind};
    /// assert_eq!(ActionSpec::new("db", BinaryKind::Server).watchdog_ms(10_000).watchdog_ms, Some(10_000));
    /// ```
    pub fn watchdog_ms(mut self, ms: u64) -> Self {
        self.watchdog_ms = Some(ms);
        self
    }

    /// Sets its health check.
    ///
    /// ```
    /// use service_manifest_runtime::{ActionSpec, BinaryKind, HealthCheck, Probe};
    /// let probe = Probe::Socket { send: Some("ping".into()), expect: Some("pong".into()) };
    /// let a = ActionSpec::new("db", BinaryKind::Server).socket("db.sock").health(HealthCheck::new(probe));
    /// assert_eq!(a.health.map(|h| h.retries), Some(3));
    /// ```
    pub fn health(mut self, check: HealthCheck) -> Self {
        self.health = Some(check);
        self
    }

    /// Sets the restart policy.
    pub fn restart(mut self, restart: RestartPolicy) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how long the action may take to become ready.
    pub fn start_timeout_ms(mut self, ms: u64) -> Self {
        self.start_timeout_ms = Some(ms);
        self
    }

    /// Adds a dependency edge.
    pub fn depends_on(mut self, dep: ActionDep) -> Self {
        self.depends_on.push(dep);
        self
    }

    /// Adds a dependency edge only when `active` (a dependency limited to profiles).
    pub fn depends_on_if(self, active: bool, dep: ActionDep) -> Self {
        if active { self.depends_on(dep) } else { self }
    }
}

/// One edge: what must hold before the action may leave "waiting".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDep {
    /// The service the dependency belongs to.
    pub service: String,
    /// The dependency's action (binary); `None` when only its socket is known.
    #[serde(default)]
    pub action: Option<String>,
    /// The socket the gate waits on.
    #[serde(default)]
    pub socket: Option<String>,
    /// How the edge constrains the dependent.
    #[serde(default)]
    pub relation: Relation,
    /// What "ready" means.
    pub ready: ReadyGate,
    /// How long to wait, in milliseconds (the supervisor's default when `None`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// The dependency's crate, as declared.
    #[serde(default)]
    pub crate_name: Option<String>,
}

impl ActionDep {
    /// A `requires` edge on `service`, gated on a running process until told otherwise.
    ///
    /// ```
    /// use service_manifest_runtime::{ActionDep, ReadyGate};
    /// let d = ActionDep::new("hero_proxy").action("hero_proxy_server").socket("hero_proxy/proxy.sock").ready(ReadyGate::Socket);
    /// assert_eq!(d.action.as_deref(), Some("hero_proxy_server"));
    /// ```
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            action: None,
            socket: None,
            relation: Relation::Requires,
            ready: ReadyGate::Running,
            timeout_ms: None,
            crate_name: None,
        }
    }

    /// Names the dependency's action.
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// Names the socket.
    pub fn socket(mut self, socket: impl Into<String>) -> Self {
        self.socket = Some(socket.into());
        self
    }

    /// Sets the relation.
    pub fn relation(mut self, relation: Relation) -> Self {
        self.relation = relation;
        self
    }

    /// Sets the readiness gate.
    pub fn ready(mut self, ready: ReadyGate) -> Self {
        self.ready = ready;
        self
    }

    /// Sets the timeout.
    pub fn timeout_ms(mut self, ms: u64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Records the dependency's crate.
    pub fn crate_name(mut self, name: impl Into<String>) -> Self {
        self.crate_name = Some(name.into());
        self
    }

    /// `service/action`, or `service (socket)` when no action is named.
    pub fn label(&self) -> String {
        match (&self.action, &self.socket) {
            (Some(action), _) => format!("{}/{action}", self.service),
            (None, Some(socket)) => format!("{} ({socket})", self.service),
            (None, None) => self.service.clone(),
        }
    }
}
