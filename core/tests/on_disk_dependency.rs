//! The upstream bug: files on disk say `crate_name` / `bin_name` / `socket_name`, one
//! parser expected `crate` / `bin` / `socket` and silently kept only `repo`.
//! Both forms must yield the same full dependency target.

use service_manifest_core::{Options, ReadyGate, Relation, parse};

const ON_DISK: &str = r#"
[service]
name = "hero_collab"

[[binaries]]
name = "hero_collab_server"
kind = "server"

[[dependencies]]
repo = "hero_proxy"
crate_name = "hero_proxy_server"
bin_name = "hero_proxy_server"
socket_name = "hero_proxy/hero_proxy_server.sock"
"#;

#[test]
fn on_disk_long_keys_give_a_full_target_never_repo_only() {
    let m = parse(ON_DISK, &Options::strict()).unwrap().manifest;
    let d = &m.dependencies[0];
    assert_eq!(d.repo, "hero_proxy");
    assert_eq!(d.crate_name.as_deref(), Some("hero_proxy_server"));
    assert_eq!(d.bin.as_deref(), Some("hero_proxy_server"));
    assert_eq!(d.socket.as_deref(), Some("hero_proxy/hero_proxy_server.sock"));
    assert_eq!((d.relation, d.ready), (Relation::Requires, ReadyGate::Socket));

    let server = m.binary("hero_collab_server").unwrap();
    let edges = m.edges_of(server);
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].action, Some("hero_proxy_server"));
    assert_eq!(edges[0].socket, Some("hero_proxy/hero_proxy_server.sock"));
}

#[test]
fn short_and_long_key_forms_mean_the_same_thing() {
    let short = ON_DISK.replace("crate_name", "crate").replace("bin_name", "bin").replace("socket_name", "socket");
    let a = parse(ON_DISK, &Options::strict()).unwrap().manifest;
    let b = parse(&short, &Options::strict()).unwrap().manifest;
    assert_eq!(a, b);
}

#[test]
fn round_trips_through_json_as_the_supervisor_would_store_it() {
    let m = parse(ON_DISK, &Options::strict()).unwrap().manifest;
    let json = serde_json::to_string(&m).unwrap();
    let back: service_manifest_core::Manifest = serde_json::from_str(&json).unwrap();
    assert_eq!(m, back);
}
