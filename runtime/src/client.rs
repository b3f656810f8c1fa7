//! A typed client for the supervisor's API.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::api::*;
use crate::spec::ServiceSpec;

/// Why a call to the supervisor failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing accepts connections on the socket.
    #[error("no supervisor is listening on {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The connection broke.
    #[error("lost the connection to the supervisor: {0}")]
    Io(#[from] std::io::Error),
    /// The supervisor answered with an error.
    #[error("the supervisor refused: {}", .0.message)]
    Rpc(RpcError),
    /// The answer could not be understood.
    #[error("unexpected answer from the supervisor: {0}")]
    Protocol(String),
    /// The process serving the socket is another user's (neither ours nor root's): nothing
    /// is sent to it, since a request carries environments and programs to run.
    #[error(
        "refusing to talk to {path}: it is served by uid {uid}, not by this user (uid {us}) or root; \
         someone else may have put a socket there"
    )]
    Untrusted {
        /// The socket.
        path: PathBuf,
        /// The serving process's uid.
        uid: u32,
        /// Ours.
        us: u32,
    },
    /// The daemon speaks another major version of the API.
    #[error("the supervisor speaks API version {daemon}, this client version {client}; restart the supervisor")]
    Version {
        /// The daemon's version.
        daemon: u32,
        /// Ours.
        client: u32,
    },
}

/// A connection to the supervisor.
///
/// ```no_run
/// # async fn demo() -> Result<(), service_manifest_runtime::ClientError> {
/// use service_manifest_runtime::Client;
/// let mut client = Client::connect(&service_manifest_runtime::paths::supervisor_socket()).await?;
/// for status in client.status(Some("hero_collab")).await? {
///     println!("{} {}", status.action, status.state);
/// }
/// # Ok(()) }
/// ```
pub struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    next_id: u64,
}

impl Client {
    /// Connects, checks who serves the socket (`SO_PEERCRED`: this user or root, as the
    /// supervisor checks its clients) before sending anything, then the API version.
    pub async fn connect(path: &Path) -> Result<Self, ClientError> {
        let stream =
            UnixStream::connect(path).await.map_err(|source| ClientError::Connect { path: path.into(), source })?;
        let uid = stream.peer_cred()?.uid();
        let us = rustix::process::geteuid().as_raw();
        if uid != us && uid != 0 {
            return Err(ClientError::Untrusted { path: path.into(), uid, us });
        }
        let (read, writer) = stream.into_split();
        let mut client = Self { reader: BufReader::new(read), writer, next_id: 1 };
        let version = client.version().await?;
        if version.api != API_VERSION {
            return Err(ClientError::Version { daemon: version.api, client: API_VERSION });
        }
        Ok(client)
    }

    /// Sends one request and decodes its result.
    pub async fn call<T: DeserializeOwned>(&mut self, request: &Request) -> Result<T, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let line = format!("{}\n", encode_request(id, request));
        self.writer.write_all(line.as_bytes()).await?;
        let mut answer = String::new();
        if self.reader.read_line(&mut answer).await? == 0 {
            return Err(ClientError::Protocol("the supervisor closed the connection".into()));
        }
        let mut value: Value = serde_json::from_str(&answer).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if let Some(error) = value.get_mut("error") {
            let error: RpcError =
                serde_json::from_value(error.take()).map_err(|e| ClientError::Protocol(e.to_string()))?;
            return Err(ClientError::Rpc(error));
        }
        let result = value.get_mut("result").map(Value::take).unwrap_or(Value::Null);
        serde_json::from_value(result).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// The daemon's API version and pid.
    pub async fn version(&mut self) -> Result<VersionInfo, ClientError> {
        self.call(&Request::Version).await
    }

    /// Defines or replaces a service.
    pub async fn define(&mut self, spec: &ServiceSpec) -> Result<DefineReport, ClientError> {
        self.call(&Request::Define(spec.clone())).await
    }

    /// Defines (or replaces) a service and, with `start`, starts it, in one request.
    pub async fn apply(&mut self, spec: &ServiceSpec, start: bool) -> Result<ApplyReport, ClientError> {
        self.call(&Request::Apply(ApplyParams { spec: spec.clone(), start })).await
    }

    /// The supervisor's own state: pid, socket, directories, uptime.
    pub async fn info(&mut self) -> Result<SupervisorInfo, ClientError> {
        self.call(&Request::Info).await
    }

    /// Starts a service, or one action of it.
    pub async fn start(&mut self, service: &str, action: Option<&str>) -> Result<ChangeReport, ClientError> {
        self.call(&Request::Start(target(service, action))).await
    }

    /// Stops a service (dependents first); returns once everything has stopped.
    pub async fn stop(&mut self, service: &str, action: Option<&str>) -> Result<ChangeReport, ClientError> {
        self.call(&Request::Stop(target(service, action))).await
    }

    /// Starts several services in one request: all checked first, one save, one reply
    /// (see [`Request::StartMany`]). Each item is a service and, optionally, one action.
    pub async fn start_many(&mut self, targets: &[(&str, Option<&str>)]) -> Result<ChangeReport, ClientError> {
        self.call(&Request::StartMany(targets.iter().map(|(s, a)| target(s, *a)).collect())).await
    }

    /// Stops several services as one job, dependents first; returns once all have stopped.
    pub async fn stop_many(&mut self, targets: &[(&str, Option<&str>)]) -> Result<ChangeReport, ClientError> {
        self.call(&Request::StopMany(targets.iter().map(|(s, a)| target(s, *a)).collect())).await
    }

    /// Stops, then starts.
    pub async fn restart(&mut self, service: &str, action: Option<&str>) -> Result<ChangeReport, ClientError> {
        self.call(&Request::Restart(target(service, action))).await
    }

    /// Stops a service and forgets it.
    pub async fn remove(&mut self, service: &str) -> Result<ChangeReport, ClientError> {
        self.call(&Request::Remove(target(service, None))).await
    }

    /// The state of every action (of one service, or of all).
    pub async fn status(&mut self, service: Option<&str>) -> Result<Vec<ActionStatus>, ClientError> {
        self.call(&Request::Status(Scope { service: service.map(Into::into) })).await
    }

    /// Every registered service.
    pub async fn list(&mut self) -> Result<Vec<ServiceSpec>, ClientError> {
        self.call(&Request::List).await
    }

    /// The tail of an action's log.
    pub async fn logs(&mut self, service: &str, action: &str, tail_bytes: Option<u64>) -> Result<String, ClientError> {
        self.call(&Request::Logs(LogsParams { service: service.into(), action: action.into(), tail_bytes })).await
    }

    /// Journal entries after `since`, waiting up to `wait_ms` for one to arrive.
    pub async fn events(&mut self, since: u64, wait_ms: u64) -> Result<Vec<Event>, ClientError> {
        self.call(&Request::Events(EventsParams { since, wait_ms })).await
    }

    /// Waits until the service (and what it pulls in) is ready or has failed; returns their states.
    pub async fn wait_settled(&mut self, service: &str, timeout_ms: u64) -> Result<Vec<ActionStatus>, ClientError> {
        Ok(self.wait(service, WaitFor::Settled, timeout_ms).await?.actions)
    }

    /// Waits for `until`, at most `timeout_ms`; says whether it happened.
    pub async fn wait(&mut self, service: &str, until: WaitFor, timeout_ms: u64) -> Result<Settled, ClientError> {
        self.call(&Request::Wait(WaitParams { service: service.into(), until, timeout_ms })).await
    }

    /// Stops everything in reverse dependency order; the daemon exits after answering.
    pub async fn shutdown(&mut self) -> Result<ChangeReport, ClientError> {
        self.call(&Request::Shutdown).await
    }
}

fn target(service: &str, action: Option<&str>) -> Target {
    Target { service: service.into(), action: action.map(Into::into) }
}
