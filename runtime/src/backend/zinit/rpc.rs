//! A small blocking JSON-RPC client for `zinit-server` (0.3.9): one JSON request per
//! line on its Unix socket, one JSON response per line.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

/// zinit's error code for an unknown service.
const SERVICE_NOT_FOUND: i64 = -32000;

/// Why a call to zinit failed.
#[derive(Debug, thiserror::Error)]
pub enum ZinitError {
    /// Nothing listens on the socket.
    #[error("no zinit-server answers on {}: {source} (start one with `zinit-server --socket {}`)", path.display(), path.display())]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The connection broke or the answer was not JSON-RPC.
    #[error("zinit on {}: {what}", path.display())]
    Protocol {
        /// The socket.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// zinit answered with an error.
    #[error("zinit refused {method}: {message}{}", data.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rpc {
        /// The method called.
        method: String,
        /// zinit's error code.
        code: i64,
        /// zinit's message.
        message: String,
        /// zinit's details, if any (validation errors).
        data: Option<Value>,
    },
}

impl ZinitError {
    /// Whether zinit said the service does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Rpc { code, .. } if *code == SERVICE_NOT_FOUND)
    }
}

/// A connection to `zinit-server`.
pub struct Zinit {
    path: PathBuf,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
}

impl Zinit {
    /// Connects to the server on `path`.
    pub fn connect(path: &Path) -> Result<Self, ZinitError> {
        let stream = UnixStream::connect(path).map_err(|source| ZinitError::Connect { path: path.into(), source })?;
        // A wedged server must not hang the CLI forever.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
        let writer = stream.try_clone().map_err(|e| ZinitError::Protocol { path: path.into(), what: e.to_string() })?;
        Ok(Self { path: path.into(), reader: BufReader::new(stream), writer, next_id: 1 })
    }

    /// Calls `method` with `params` and returns its `result`.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, ZinitError> {
        let id = self.next_id;
        self.next_id += 1;
        let protocol = |what: String| ZinitError::Protocol { path: self.path.clone(), what };
        let mut line = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string();
        line.push('\n');
        self.writer.write_all(line.as_bytes()).map_err(|e| protocol(format!("cannot send {method}: {e}")))?;
        let mut answer = String::new();
        match self.reader.read_line(&mut answer) {
            Ok(0) => return Err(protocol(format!("the server closed the connection during {method}"))),
            Ok(_) => {}
            Err(e) => return Err(protocol(format!("no answer to {method}: {e}"))),
        }
        let mut value: Value =
            serde_json::from_str(&answer).map_err(|e| protocol(format!("{method}: not JSON ({e}): {answer}")))?;
        if let Some(error) = value.get_mut("error").filter(|e| !e.is_null()) {
            return Err(ZinitError::Rpc {
                method: method.to_owned(),
                code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: error.get("message").and_then(Value::as_str).unwrap_or("(no message)").to_owned(),
                data: error.get_mut("data").map(Value::take).filter(|d| !d.is_null()),
            });
        }
        Ok(value.get_mut("result").map(Value::take).unwrap_or(Value::Null))
    }

    /// `service.status`: the state (`inactive`, `blocked`, `starting`, `running`, `stopping`,
    /// `exited`, `failed`), pid and error of one service.
    pub fn status(&mut self, name: &str) -> Result<ServiceStatus, ZinitError> {
        let value = self.call("service.status", json!({ "name": name }))?;
        serde_json::from_value(value)
            .map_err(|e| ZinitError::Protocol { path: self.path.clone(), what: format!("service.status: {e}") })
    }

    /// `service.get`: a registered service's configuration, `None` when it is not registered.
    pub fn config(&mut self, name: &str) -> Result<Option<Value>, ZinitError> {
        match self.call("service.get", json!({ "name": name })) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One service's state as zinit reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ServiceStatus {
    /// zinit's service name.
    pub name: String,
    /// zinit's state, lower case.
    pub state: String,
    /// The process id, 0 when none.
    #[serde(default)]
    pub pid: u32,
    /// The last exit code.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Why it failed or waits.
    #[serde(default)]
    pub error: Option<String>,
}
