//! The Unix socket front door: peer check, line framing with a size limit, and
//! dispatch to the engine. A bad request gets a JSON-RPC error; the daemon keeps
//! serving everyone else.

use std::path::Path;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::actor::{Msg, Reply};
use crate::api::{MAX_REQUEST_BYTES, Request, RpcError, codes, decode_request, encode_response};

type Calls = mpsc::Sender<(Request, Reply)>;

/// Binds the socket with mode 0600 in its directory, which `create_state_dir` has
/// checked is ours and private. A stale socket there is replaced; anything else is not
/// ours to remove, and binding over it fails.
pub(crate) fn bind(path: &Path) -> std::io::Result<UnixListener> {
    remove_stale_socket(path)?;
    // Bound under a tight umask, so no client can ever connect to a socket with looser
    // permissions. Nothing else runs yet that could create a file meanwhile.
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let listener = UnixListener::bind(path);
    rustix::process::umask(old);
    listener
}

/// Removes `path` if it is a socket (a stale one, from an earlier process); leaves any
/// other kind of file alone.
pub(crate) fn remove_stale_socket(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path),
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket: not removing it", path.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

pub(crate) async fn serve(listener: UnixListener, calls: Calls, tx: mpsc::UnboundedSender<Msg>) {
    let uid = rustix::process::getuid().as_raw();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, calls.clone(), tx.clone(), uid));
            }
            Err(e) => {
                // Out of descriptors, say: wait a little instead of spinning on the error.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn connection(stream: UnixStream, calls: Calls, tx: mpsc::UnboundedSender<Msg>, uid: u32) {
    let peer = stream.peer_cred().map(|c| c.uid());
    let (read, mut write) = stream.into_split();
    if peer.as_ref().ok() != Some(&uid) {
        let error = RpcError::new(codes::FORBIDDEN, "connections from another user are refused");
        let _ = write.write_all(format!("{}\n", encode_response(&Value::Null, Err(error))).as_bytes()).await;
        return;
    }
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = read_line(&mut reader, &mut line).await;
        let (id, result, shutdown, close) = match read {
            Line::Eof => return,
            Line::TooLong => (
                Value::Null,
                Err(RpcError::new(codes::INVALID_REQUEST, format!("request larger than {MAX_REQUEST_BYTES} bytes"))),
                false,
                true,
            ),
            Line::Complete | Line::Truncated => {
                let truncated = matches!(read, Line::Truncated);
                let (id, request) = decode_request(&line);
                match request {
                    Err(e) => (id, Err(e), false, truncated),
                    Ok(request) => {
                        let shutdown = request == Request::Shutdown;
                        let (reply, mut answer) = oneshot::channel();
                        // A full queue makes this client wait: back-pressure, not unbounded memory.
                        if calls.send((request, reply)).await.is_err() {
                            return;
                        }
                        // A client that hangs up while it waits (a long `wait` or `events`)
                        // drops the answer, and the engine forgets the request.
                        let result = tokio::select! {
                            r = &mut answer => r,
                            more = reader.fill_buf() => match more {
                                // End of input: a client that only shut down its writing side
                                // (`nc -N`) still reads the answer; one that is gone is not waited for.
                                Ok([]) if peer_gone(&write) => return,
                                Err(_) => return,
                                Ok(_) => answer.await,
                            },
                        };
                        let result = result.unwrap_or_else(|_| Err(RpcError::rejected("the supervisor is exiting")));
                        (id, result, shutdown, truncated)
                    }
                }
            }
        };
        let response = format!("{}\n", encode_response(&id, result));
        let written = write.write_all(response.as_bytes()).await.is_ok() && write.flush().await.is_ok();
        if shutdown {
            let _ = tx.send(Msg::ExitNow);
        }
        if close || !written {
            return;
        }
    }
}

/// Whether the peer closed the connection entirely (`POLLHUP`), not just its writing side.
fn peer_gone(write: &tokio::net::unix::OwnedWriteHalf) -> bool {
    use std::os::fd::AsRawFd;
    let stream: &UnixStream = write.as_ref();
    let mut fds = [libc::pollfd { fd: stream.as_raw_fd(), events: libc::POLLOUT, revents: 0 }];
    // SAFETY: polling one valid descriptor for zero milliseconds.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
    n > 0 && fds[0].revents & (libc::POLLHUP | libc::POLLERR) != 0
}

enum Line {
    Complete,
    /// The peer closed the connection in the middle of a line.
    Truncated,
    TooLong,
    Eof,
}

async fn read_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, line: &mut Vec<u8>) -> Line {
    let limit = u64::try_from(MAX_REQUEST_BYTES).unwrap_or(u64::MAX) + 1;
    match (&mut *reader).take(limit).read_until(b'\n', line).await {
        Ok(0) => Line::Eof,
        Ok(_) if line.ends_with(b"\n") => Line::Complete,
        Ok(_) if line.len() > MAX_REQUEST_BYTES => Line::TooLong,
        Ok(_) => Line::Truncated,
        Err(_) => Line::Eof,
    }
}
