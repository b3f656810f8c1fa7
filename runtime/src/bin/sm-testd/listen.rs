//! Serving a Unix socket the ways real daemons do, so a supervisor's readiness
//! detection can be measured on each: `bind()` then `listen()` at once (what
//! `UnixListener::bind` does), with a gap between the two calls (a daemon doing work, or
//! preempted, in between), or bound and listening under a temporary name in the same
//! directory and then renamed into place (how a socket appears atomically).
//!
//! `std` has no way to bind without listening, hence the three system calls declared
//! here; the test daemon stays plain std so it builds with any feature set.

use std::ffi::{c_int, c_uint};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use crate::stamps::Stamps;

/// How the socket comes to accept connections.
#[derive(Default)]
pub struct Serve {
    /// Time between `bind()` returning and `listen()` being called.
    pub gap: Duration,
    /// Bind and listen on a temporary name, then `rename()` it to the real one.
    pub rename: bool,
}

#[repr(C)]
struct SockaddrUn {
    sun_family: u16,
    sun_path: [u8; 108],
}

unsafe extern "C" {
    fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int;
    fn bind(fd: c_int, addr: *const SockaddrUn, len: c_uint) -> c_int;
    fn listen(fd: c_int, backlog: c_int) -> c_int;
}

const AF_UNIX: c_int = 1;
const SOCK_STREAM: c_int = 1;
const SOCK_CLOEXEC: c_int = 0o2_000_000;

/// Serves `path` as `how` says, stamping `bound` when `bind()` has returned, `listen`
/// and `rename` just before those calls (the earliest instant a client could succeed),
/// `listening` and `renamed` once they have returned.
pub fn serve(path: &str, how: &Serve, stamps: &mut Stamps) -> io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    let temporary = format!("{path}.{}.tmp", std::process::id());
    let bind_at = if how.rename { temporary.as_str() } else { path };
    let address = address(bind_at)?;
    // SAFETY: plain system calls on arguments that live across them; the descriptor is
    // owned by `OwnedFd` as soon as it exists, so every error path closes it.
    let fd = unsafe {
        let raw = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        OwnedFd::from_raw_fd(raw)
    };
    let len = (std::mem::size_of::<u16>() + bind_at.len() + 1) as c_uint;
    // SAFETY: `address` is a valid `sockaddr_un` of at least `len` bytes.
    if unsafe { bind(fd.as_raw_fd(), &raw const address, len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    stamps.mark("bound");
    if !how.gap.is_zero() {
        std::thread::sleep(how.gap);
    }
    stamps.mark("listen");
    // SAFETY: `fd` is an open socket owned above.
    if unsafe { listen(fd.as_raw_fd(), 128) } != 0 {
        return Err(io::Error::last_os_error());
    }
    stamps.mark("listening");
    if how.rename {
        stamps.mark("rename");
        std::fs::rename(&temporary, path)?;
        stamps.mark("renamed");
    }
    Ok(UnixListener::from(fd))
}

fn address(path: &str) -> io::Result<SockaddrUn> {
    let mut address = SockaddrUn { sun_family: AF_UNIX as u16, sun_path: [0; 108] };
    if path.len() >= address.sun_path.len() || path.as_bytes().contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "socket path too long for sockaddr_un, or holding a NUL byte",
        ));
    }
    address.sun_path[..path.len()].copy_from_slice(path.as_bytes());
    Ok(address)
}
