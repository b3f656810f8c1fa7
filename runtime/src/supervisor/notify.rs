//! systemd's `sd_notify` protocol, so daemons written for `Type=notify` (and the
//! `sd-notify` crate) work unchanged: each datagram on `NOTIFY_SOCKET` carries
//! newline-separated `KEY=VALUE` fields, and the kernel attaches the sender's
//! credentials (`SO_PASSCRED`), which say which action's main process sent it.

use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::path::Path;

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
use tokio::net::UnixDatagram;
use tokio::sync::mpsc;

use super::actor::Msg;
use super::engine::Input;

/// The largest datagram read; systemd accepts up to its page-sized buffer too.
const MAX_DATAGRAM: usize = 4096;

/// Binds the notify socket (mode 0600 under the supervisor's private state directory)
/// and asks the kernel for senders' credentials.
/// Call it before any other thread runs: it narrows the process-wide umask for the bind.
pub fn bind(path: &Path) -> std::io::Result<UnixDatagram> {
    super::server::remove_stale_socket(path)?;
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let socket = UnixDatagram::bind(path);
    rustix::process::umask(old);
    let socket = socket?;
    rustix::net::sockopt::set_socket_passcred(socket.as_fd(), true)?;
    Ok(socket)
}

/// Turns every datagram into an input naming its sender's pid; one without
/// credentials cannot be attributed and is dropped.
pub async fn receive(socket: UnixDatagram, tx: mpsc::UnboundedSender<Msg>) {
    let mut data = vec![0u8; MAX_DATAGRAM];
    loop {
        if socket.readable().await.is_err() {
            return;
        }
        let received = socket.try_io(tokio::io::Interest::READABLE, || {
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
            let mut ancillary = RecvAncillaryBuffer::new(&mut space);
            let mut iov = [std::io::IoSliceMut::new(&mut data)];
            let msg = rustix::net::recvmsg(socket.as_fd(), &mut iov, &mut ancillary, RecvFlags::DONTWAIT)?;
            let pid = ancillary.drain().find_map(|m| match m {
                RecvAncillaryMessage::ScmCredentials(cred) => u32::try_from(cred.pid.as_raw_nonzero().get()).ok(),
                _ => None,
            });
            Ok((msg.bytes, pid))
        });
        match received {
            Ok((bytes, Some(pid))) => {
                let message = String::from_utf8_lossy(&data[..bytes.min(data.len())]).into_owned();
                if tx.send(Msg::Input(Input::Notify { pid, message })).is_err() {
                    return;
                }
            }
            Ok((_, None)) => tracing::debug!("sd_notify datagram without credentials: ignored"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => tracing::warn!("reading the notify socket: {e}"),
        }
    }
}
