//! `--export systemd DIR` as a user runs it: the example CLI writes the same units the
//! library exports (the golden files of `runtime/tests/systemd_export.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().join("examples").join(name)
}

fn export(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(example(name))
        .args(args)
        .env("SERVICE_MANIFEST_BIN_DIR", "/opt/hero/bin")
        .env("SERVICE_MANIFEST_SOCKET_DIR", "/run/service_manifest/sockets")
        .output()
        .unwrap()
}

#[test]
fn export_systemd_writes_the_golden_units_of_each_example() {
    for name in ["hero_proxy", "hero_collab", "hero_livekit"] {
        let dir = tempfile::tempdir().unwrap();
        let out = export(name, &["--export", "systemd", dir.path().to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/tests/golden/systemd").join(name);
        let mut written: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        written.sort();
        let mut expected: Vec<_> = std::fs::read_dir(&golden).unwrap().map(|e| e.unwrap().file_name()).collect();
        expected.sort();
        assert_eq!(written, expected, "{name}");
        // The CLI names itself as the socket waiter; the golden files name the standalone one.
        let me = std::fs::canonicalize(example(name)).unwrap();
        let itself = format!("{} --service-manifest-wait-socket", me.display());
        for file in written {
            let got = std::fs::read_to_string(dir.path().join(&file)).unwrap();
            let golden = std::fs::read_to_string(golden.join(&file)).unwrap();
            if golden.contains("service-manifest-wait-socket") {
                assert!(got.contains(&itself), "{name}: {file:?} waits with the CLI itself:\n{got}");
            }
            let got = got.replace(&itself, "/opt/hero/bin/service-manifest-wait-socket");
            assert_eq!(got, golden, "{name}: {file:?}");
        }
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains(&format!("wrote {}", dir.path().join(format!("{name}.target")).display())), "{said}");
    }
}

#[test]
fn an_unknown_export_format_is_refused_with_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = export("hero_proxy", &["--export", "launchd", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown export format `launchd`; the formats are: systemd"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The waiter the units run is the CLI itself: its role hook answers before `main`, whose
/// parser would reject the arguments.
#[test]
fn the_cli_is_its_own_socket_waiter() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("s.sock");
    let waiter = |args: &[&str]| {
        Command::new(example("hero_tasks")).arg("--service-manifest-wait-socket").args(args).output().unwrap()
    };
    let missing = waiter(&["--timeout-ms", "50", socket.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1), "{}", String::from_utf8_lossy(&missing.stderr));
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let accepting = waiter(&["--timeout-ms", "5000", socket.to_str().unwrap()]);
    assert_eq!(accepting.status.code(), Some(0), "{}", String::from_utf8_lossy(&accepting.stderr));
    let created = dir.path().join("a/b");
    let out = waiter(&["--create-dir", created.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&created).unwrap().permissions().mode() & 0o777, 0o700);
    let usage = waiter(&[]);
    assert_eq!(usage.status.code(), Some(2), "the waiter's usage error, not the CLI's");
    assert!(String::from_utf8_lossy(&usage.stderr).contains("no socket given"));
}
