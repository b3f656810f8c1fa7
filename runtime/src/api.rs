//! The supervisor's JSON-RPC 2.0 API: one request per line on a Unix socket.
//!
//! Both the daemon and [`Client`](crate::Client) use these types, so the wire format
//! is defined once. `version` answers [`API_VERSION`]; a client refuses a daemon
//! whose major version differs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::ServiceSpec;

/// The API's major version; bumped on any incompatible change.
pub const API_VERSION: u32 = 1;

/// The largest request line the daemon reads; a longer one gets an error and the
/// connection is closed, since the rest of the line cannot be resynchronised.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// A method call, as `{"method": …, "params": …}` inside the JSON-RPC envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Request {
    /// The API version and the daemon's pid.
    Version,
    /// Defines or replaces a service; defining the same spec twice changes nothing.
    Define(ServiceSpec),
    /// Defines (or replaces) a service and, with `start`, starts it in the same step, so no
    /// client ever sees it defined but not yet asked to start.
    Apply(ApplyParams),
    /// Starts a service (or one action), pulling in what it requires.
    Start(Target),
    /// Stops a service (or one action) after stopping what depends on it.
    Stop(Target),
    /// Stops, then starts.
    Restart(Target),
    /// Starts several services (or actions) in one step: checked together (one unknown
    /// name starts nothing), one save, one reply listing every action asked to start.
    StartMany(Vec<Target>),
    /// Stops several services (or actions) as one job, dependents first; one save, and one
    /// reply once everything has stopped.
    StopMany(Vec<Target>),
    /// The state of every action of a service, or of all services.
    Status(Scope),
    /// The registered services.
    List,
    /// Stops a service and forgets it.
    Remove(Target),
    /// The tail of an action's log.
    Logs(LogsParams),
    /// Journal entries after `since`, waiting up to `wait_ms` for the first new one.
    Events(EventsParams),
    /// Waits until a service is ready, failed, or stopped.
    Wait(WaitParams),
    /// Stops every action in reverse dependency order and exits.
    Shutdown,
    /// The supervisor's own state: pid, socket, directories, uptime, API version.
    Info,
}

/// Parameters of `apply`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyParams {
    /// The registration.
    pub spec: ServiceSpec,
    /// Also start every action of the service.
    #[serde(default)]
    pub start: bool,
}

/// What `apply` answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Whether the registration changed.
    pub changed: bool,
    /// One line for each thing done, in order: restarts of running actions whose definition
    /// changed (and why), conflicts stopped, actions started.
    pub notes: Vec<String>,
    /// The actions asked to start, as `service/action`.
    pub actions: Vec<String>,
}

/// What `info` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorInfo {
    /// [`API_VERSION`] of the daemon.
    pub api: u32,
    /// The daemon's process id.
    pub pid: u32,
    /// Its API socket.
    pub socket: std::path::PathBuf,
    /// Where it keeps registrations, records and logs.
    pub state_dir: std::path::PathBuf,
    /// Where bare program names are found.
    pub bin_dir: std::path::PathBuf,
    /// Where relative socket names are resolved.
    pub socket_dir: std::path::PathBuf,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_ms: u64,
    /// How long it has been running, in milliseconds.
    pub uptime_ms: u64,
    /// How many services are defined.
    pub services: usize,
    /// The sequence number of the newest journal entry: follow `events` from here to see
    /// only what happens next.
    #[serde(default)]
    pub journal_seq: u64,
    /// The open-files limit it runs with (raised to the hard limit at start-up).
    #[serde(default)]
    pub open_files_limit: u64,
    /// How many live actions that limit leaves room for (each holds two descriptors).
    #[serde(default)]
    pub action_capacity: u64,
    /// The services it brought back from its saved state when it started (something of
    /// each was wanted when the last supervisor stopped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<String>,
    /// The services defined with profiles active (`--profile`), with them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub profiles: std::collections::BTreeMap<String, Vec<String>>,
}

/// A service, or one of its actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The service.
    pub service: String,
    /// One action of it; `None` for all.
    #[serde(default)]
    pub action: Option<String>,
}

/// Which services a status request covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// One service; `None` for all.
    #[serde(default)]
    pub service: Option<String>,
}

/// Parameters of `logs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsParams {
    /// The service.
    pub service: String,
    /// The action.
    pub action: String,
    /// How many bytes from the end (default 64 KiB).
    #[serde(default)]
    pub tail_bytes: Option<u64>,
}

/// Parameters of `events`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsParams {
    /// Only entries with a larger sequence number.
    #[serde(default)]
    pub since: u64,
    /// How long to wait for a first new entry, in milliseconds (0: answer at once).
    #[serde(default)]
    pub wait_ms: u64,
}

/// Parameters of `wait`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitParams {
    /// The service whose actions are awaited.
    pub service: String,
    /// What to wait for.
    pub until: WaitFor,
    /// Give up after this long, in milliseconds.
    pub timeout_ms: u64,
}

/// The condition `wait` returns on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitFor {
    /// Nothing of the service (and of what it pulls in) is on its way anywhere: every
    /// action whose goal is up is ready, completed or failed for good, and every action
    /// whose goal is down is stopped. True for a service nobody started only once it is
    /// stopped, never because nothing was asked of it.
    Settled,
    /// Every action of the service and everything it pulls in is up: ready, or completed
    /// for a one-shot. `settled` is false when one failed for good first.
    Up,
    /// No action of the service has a live process.
    Stopped,
}

/// Where an action is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Defined, never asked to start.
    Created,
    /// Asked to start; some dependency gate does not hold yet.
    Waiting,
    /// Being spawned.
    Starting,
    /// The process is up; its own readiness gate (its socket) does not hold yet.
    Running,
    /// Up and ready: dependents may start.
    Ready,
    /// Asked to stop; SIGTERM sent.
    Stopping,
    /// Exited (or stopped) without failing.
    Exited,
    /// Failed; `reason` says why.
    Failed,
}

impl RunState {
    /// Whether a process may be alive in this state.
    pub fn is_alive(self) -> bool {
        matches!(self, Self::Starting | Self::Running | Self::Ready | Self::Stopping)
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        f.write_str(&text)
    }
}

/// The status of one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionStatus {
    /// The service.
    pub service: String,
    /// The action.
    pub action: String,
    /// Whether the action is wanted up.
    pub wanted: bool,
    /// Where it is.
    pub state: RunState,
    /// Why it is there, in words a person can act on.
    pub reason: Option<String>,
    /// The process id, while alive.
    pub pid: Option<u32>,
    /// When it entered this state, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// The dependency gates it is waiting on, as `service/action`.
    pub waiting_on: Vec<String>,
    /// How often it has been restarted.
    pub restarts: u32,
    /// The exit code of its last process, when it exited with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why the supervisor's last save failed, while it does: what is shown may not survive a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_error: Option<String>,
    /// Its health check's view of its current (or last) run, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthStatus>,
    /// The profiles its service is defined with (`--profile`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
}

/// Where a run stands with its health check, in docker's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// No probe has passed yet.
    Starting,
    /// A probe passed, and fewer than `retries` have failed in a row since.
    Healthy,
    /// `retries` probes in a row failed (or its watchdog fired): it is being stopped.
    Unhealthy,
}

impl std::fmt::Display for HealthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Starting => "starting",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
        })
    }
}

/// What `status` shows of a health check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthStatus {
    /// Where it stands.
    pub state: HealthState,
    /// Failed probes in a row that count (failures in the start period do not).
    pub failures: u32,
    /// When the last probe ended, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check_ms: Option<u64>,
    /// What the last probe answered, or why it failed (one line, cut).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_output: Option<String>,
}

/// A journal entry: the supervisor's record of what happened, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Strictly increasing sequence number.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Microseconds since the Unix epoch (for latency measurements).
    pub at_us: u64,
    /// `service/action`.
    pub action: String,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// Asked to start; `on` lists the gates that do not hold yet.
    Waiting {
        /// The gates.
        on: Vec<String>,
    },
    /// Pulled in by a dependent.
    PulledIn {
        /// The dependent.
        by: String,
    },
    /// Its process was spawned.
    Spawned {
        /// The pid.
        pid: u32,
    },
    /// A process left running by an earlier supervisor was adopted.
    Adopted {
        /// The pid.
        pid: u32,
    },
    /// It became ready.
    Ready,
    /// SIGTERM sent.
    Stopping {
        /// Why.
        reason: String,
    },
    /// The process exited without failing, or was stopped.
    Exited {
        /// Exit code, when known.
        code: Option<i32>,
    },
    /// It failed.
    Failed {
        /// Why.
        reason: String,
    },
    /// It will be restarted.
    Restarting {
        /// After this many milliseconds.
        in_ms: u64,
    },
    /// Its health changed: its first passed probe, or unhealthy.
    Health {
        /// Where it stands now.
        health: HealthState,
        /// What the probe answered, or why it failed.
        output: String,
    },
}

/// What `version` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// [`API_VERSION`] of the daemon.
    pub api: u32,
    /// The daemon's process id.
    pub pid: u32,
}

/// What `wait` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    /// Whether the condition holds (false: the timeout passed first).
    pub settled: bool,
    /// The service's actions and what they pull in.
    pub actions: Vec<ActionStatus>,
}

/// What `define` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineReport {
    /// Whether anything changed (false for a repeated identical definition).
    pub changed: bool,
}

/// What `start`, `stop`, `restart` and `remove` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeReport {
    /// One line for each thing done, in order, e.g. "stopping hero_collab/hero_collab_server first: it requires hero_proxy/hero_proxy_server".
    pub notes: Vec<String>,
    /// The actions affected, as `service/action`.
    pub actions: Vec<String>,
    /// A later request on the same actions overrode this one before it finished (a stop
    /// that arrived during a restart, a start during a stop): what it was. The later
    /// request decides; this one did not get where it was asked to go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<String>,
}

/// JSON-RPC error codes used by the daemon.
pub mod codes {
    /// The line is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a JSON-RPC 2.0 request, or too large.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The params do not fit the method.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The request was understood but cannot be done (unknown service, cycle, …).
    pub const REJECTED: i64 = -32000;
    /// The peer runs as another user.
    pub const FORBIDDEN: i64 = -32001;
}

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct RpcError {
    /// One of [`codes`].
    pub code: i64,
    /// What went wrong.
    pub message: String,
    /// Extra detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with `code` and `message`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    /// A request that was understood but cannot be carried out.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(codes::REJECTED, message)
    }
}

/// Encodes a request line (without the newline).
pub fn encode_request(id: u64, request: &Request) -> String {
    let mut value = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("jsonrpc".into(), "2.0".into());
        map.insert("id".into(), id.into());
    }
    value.to_string()
}

/// Decodes a request line: the id to answer with (`Null` when it cannot be read), and
/// the request or the error to answer instead.
pub fn decode_request(line: &[u8]) -> (Value, Result<Request, RpcError>) {
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => {
            return (Value::Null, Err(RpcError::new(codes::PARSE_ERROR, format!("not JSON: {e}"))));
        }
    };
    let Value::Object(mut map) = value else {
        return (Value::Null, Err(RpcError::new(codes::INVALID_REQUEST, "a request must be a JSON object")));
    };
    let id = map.remove("id").unwrap_or(Value::Null);
    if map.remove("jsonrpc").as_ref().and_then(Value::as_str) != Some("2.0") {
        return (id, Err(RpcError::new(codes::INVALID_REQUEST, "`jsonrpc` must be \"2.0\"")));
    }
    let Some(method) = map.get("method").and_then(Value::as_str).map(str::to_owned) else {
        return (id, Err(RpcError::new(codes::INVALID_REQUEST, "`method` must be a string")));
    };
    if !METHODS.contains(&method.as_str()) {
        let mut e = RpcError::new(codes::METHOD_NOT_FOUND, format!("no method `{method}`"));
        e.data = Some(serde_json::json!({ "methods": METHODS }));
        return (id, Err(e));
    }
    if map.get("params").is_some_and(Value::is_null) {
        map.remove("params");
    }
    match serde_json::from_value(Value::Object(map)) {
        Ok(request) => (id, Ok(request)),
        Err(e) => (id, Err(RpcError::new(codes::INVALID_PARAMS, format!("bad params for `{method}`: {e}")))),
    }
}

/// Every method name.
pub const METHODS: &[&str] = &[
    "version",
    "define",
    "apply",
    "start",
    "stop",
    "restart",
    "start_many",
    "stop_many",
    "status",
    "list",
    "remove",
    "logs",
    "events",
    "wait",
    "shutdown",
    "info",
];

/// Encodes a response line (without the newline).
pub fn encode_response(id: &Value, result: Result<Value, RpcError>) -> String {
    let body = match result {
        Ok(result) => serde_json::json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(error) => serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": error }),
    };
    body.to_string()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    now_us() / 1000
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_through_the_envelope() {
        let request = Request::Start(Target { service: "hero_collab".into(), action: None });
        let line = encode_request(7, &request);
        assert!(line.contains("\"jsonrpc\":\"2.0\""), "{line}");
        let (id, decoded) = decode_request(line.as_bytes());
        assert_eq!(id, Value::from(7));
        assert_eq!(decoded.unwrap(), request);
        let (_, version) = decode_request(br#"{"jsonrpc":"2.0","id":1,"method":"version"}"#);
        assert_eq!(version.unwrap(), Request::Version);
    }

    #[test]
    fn bad_requests_get_the_matching_error_code() {
        let code = |line: &str| decode_request(line.as_bytes()).1.unwrap_err().code;
        assert_eq!(code("{nope"), codes::PARSE_ERROR);
        assert_eq!(code("[1]"), codes::INVALID_REQUEST);
        assert_eq!(code(r#"{"id":1,"method":"list"}"#), codes::INVALID_REQUEST);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"explode"}"#), codes::METHOD_NOT_FOUND);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"start","params":{"x":1}}"#), codes::INVALID_PARAMS);
    }
}
