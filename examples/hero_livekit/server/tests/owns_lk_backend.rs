//! The server crate runs what `service.toml` says it owns, and nothing else.

use std::os::unix::fs::PermissionsExt;

use hero_livekit_server::{Binary, owned_command};

#[test]
fn the_owned_command_runs_lk_backend_from_the_bin_directory() {
    let bin = tempfile::tempdir().unwrap();
    let program = bin.path().join("lk-backend");
    std::fs::write(&program, "#!/bin/sh\necho \"lk-backend up: $1\"\n").unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = owned_command(bin.path(), Binary::LkBackend).unwrap().arg("room-1").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "lk-backend up: room-1\n");
}

#[test]
fn binaries_the_supervisor_starts_are_not_owned_by_the_server() {
    for b in hero_livekit_server::STARTED {
        assert!(owned_command(std::path::Path::new("bin"), *b).is_none(), "{b:?}");
    }
    // lk-backend is install-only for the supervisor precisely because the server owns it.
    assert!(hero_livekit_server::INSTALL_ONLY.contains(&Binary::LkBackend));
}
