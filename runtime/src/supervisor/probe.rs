//! Runs one health probe on the actor's runtime, never on the engine's thread: a request
//! on the action's own socket, or a command. Either is bounded by the check's timeout.

use std::path::Path;
use std::time::Duration;

use service_manifest_core::model::Probe;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::engine::ProbeOrder;

/// The most a probe reads of a reply line or of a command's output.
const MAX_READ: u64 = 64 * 1024;

/// Runs the probe; returns whether it passed and what it answered, or why it failed, as
/// one line.
pub(super) async fn run(order: &ProbeOrder, bin_dir: &Path) -> (bool, String) {
    let timeout = Duration::from_millis(order.check.timeout_ms);
    let within = crate::text::duration_ms(order.check.timeout_ms);
    match &order.check.probe {
        Probe::Socket { send, expect } => {
            let Some(socket) = &order.socket else {
                return (false, "it serves no socket to probe".to_owned());
            };
            let probe = ask(socket, send.as_deref(), expect.is_some());
            match tokio::time::timeout(timeout, probe).await {
                Err(_) if send.is_some() || expect.is_some() => (false, format!("no reply within {within}")),
                Err(_) => (false, format!("no connection within {within}")),
                Ok(Err(why)) => (false, why),
                Ok(Ok(reply)) => match expect.as_deref() {
                    Some(text) if !reply.contains(text) => {
                        (false, format!("the reply does not contain `{text}`: {}", reply.trim_end()))
                    }
                    _ if reply.is_empty() => (true, "accepted a connection".to_owned()),
                    _ => (true, reply.trim_end().to_owned()),
                },
            }
        }
        Probe::Exec { command } => {
            let Some((program, args)) = command.split_first() else {
                return (false, "no command to run".to_owned());
            };
            let program = crate::paths::resolve_exec(bin_dir, program);
            exec(&program, args.iter().map(AsRef::as_ref), &order.env, timeout, &within).await
        }
    }
}

/// Connects, sends `send` and a newline, and reads one line back when there is something
/// to read for; the empty string when only the connect was asked for.
async fn ask(socket: &Path, send: Option<&str>, expect: bool) -> Result<String, String> {
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", socket.display()))?;
    if let Some(line) = send {
        let mut request = Vec::with_capacity(line.len() + 1);
        request.extend_from_slice(line.as_bytes());
        request.push(b'\n');
        stream.write_all(&request).await.map_err(|e| format!("cannot send the request: {e}"))?;
    } else if !expect {
        return Ok(String::new());
    }
    let mut reply = Vec::new();
    let mut reader = tokio::io::BufReader::new(stream).take(MAX_READ);
    reader.read_until(b'\n', &mut reply).await.map_err(|e| format!("cannot read the reply: {e}"))?;
    if reply.is_empty() {
        return Err("it closed the connection without a reply".to_owned());
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// Runs a command in its own process group with exactly `env`; healthy on exit 0. At the
/// timeout its whole group is killed.
async fn exec<'a>(
    program: &Path,
    args: impl Iterator<Item = &'a str>,
    env: &[(String, String)],
    timeout: Duration,
    within: &str,
) -> (bool, String) {
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return (false, format!("cannot run {}: {e}", program.display())),
    };
    let pid = child.id();
    let kill_group = move || {
        if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()).and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    };
    let (out, err) = (child.stdout.take(), child.stderr.take());
    // Both pipes at once, each drained past what is kept: a command that fills one while
    // the other is read must not hang. Once it has exited, what it left in its group is
    // ended, so a leftover holding a pipe open cannot keep the probe waiting.
    let run = async {
        let (out, err, status) = tokio::join!(capped(out), capped(err), async {
            let status = child.wait().await;
            kill_group();
            status
        });
        (status, [out, err].concat())
    };
    match tokio::time::timeout(timeout, run).await {
        Ok((Ok(status), text)) => {
            let text = String::from_utf8_lossy(&text);
            let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_owned();
            let verdict = match status.code() {
                Some(0) => return (true, if last.is_empty() { "exited with status 0".to_owned() } else { last }),
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_owned(),
            };
            (false, if last.is_empty() { verdict } else { format!("{verdict}: {last}") })
        }
        Ok((Err(e), _)) => (false, format!("cannot wait for {}: {e}", program.display())),
        Err(_) => {
            kill_group();
            (false, format!("did not finish within {within}"))
        }
    }
}

/// The first [`MAX_READ`] bytes of a pipe, the rest read and dropped, to its end.
async fn capped(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> Vec<u8> {
    let mut kept = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = (&mut pipe).take(MAX_READ).read_to_end(&mut kept).await;
        let _ = tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await;
    }
    kept
}
