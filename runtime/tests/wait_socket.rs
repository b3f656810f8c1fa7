//! `service-manifest-wait-socket`, the readiness step of exported systemd units and zinit
//! health checks, run as the real program against real sockets.

use std::os::unix::net::UnixListener;
use std::process::{Command, Stdio};

fn waiter() -> Command {
    Command::new(env!("CARGO_BIN_EXE_service-manifest-wait-socket"))
}

#[test]
fn it_exits_zero_only_once_the_socket_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("later/server.sock");
    let mut child = waiter().args(["--timeout-ms", "60000"]).arg(&socket).stderr(Stdio::piped()).spawn().unwrap();
    // A stale socket file (bound, then abandoned) refuses connections: not ready yet.
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    drop(UnixListener::bind(&socket).unwrap());
    assert!(child.try_wait().unwrap().is_none(), "the waiter exited before anything accepted");
    std::fs::remove_file(&socket).unwrap();
    let _listener = UnixListener::bind(&socket).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn it_fails_naming_the_socket_when_the_timeout_passes() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("never.sock");
    let out = waiter().args(["--timeout-ms", "50"]).arg(&socket).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("never.sock did not accept a connection within 50ms"), "{err}");
}

#[test]
fn a_socket_that_already_accepts_answers_at_once_even_with_no_time_to_wait() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("up.sock");
    let _listener = UnixListener::bind(&socket).unwrap();
    assert!(waiter().args(["--timeout-ms", "0"]).arg(&socket).status().unwrap().success());
}

#[test]
fn bad_usage_is_exit_two_with_the_usage() {
    for args in [&[][..], &["--timeout-ms", "soon", "x.sock"], &["a.sock", "b.sock"]] {
        let out = waiter().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage: service-manifest-wait-socket"), "{args:?}");
    }
}

#[test]
fn create_dir_makes_a_private_socket_directory_with_its_parents() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a/b/sockets");
    assert!(waiter().arg("--create-dir").arg(&target).status().unwrap().success());
    assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o700);
    // Already there is fine; a path under a file is not, and says why.
    assert!(waiter().arg("--create-dir").arg(&target).status().unwrap().success());
    std::fs::write(dir.path().join("file"), "").unwrap();
    let out = waiter().arg("--create-dir").arg(dir.path().join("file/x")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create"), "{out:?}");
}
