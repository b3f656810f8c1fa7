//! Two crates of one service, one `service.toml`: the `hero_livekit` example names it
//! relative to this crate, the `hero_livekit_server` crate as `"../service.toml"`
//! relative to its own directory, and both expansions must be the same service.

mod livekit {
    // The very invocation of examples/hero_livekit/main.rs.
    service_manifest::service_manifest!("examples/hero_livekit/service.toml");
}

fn names<B: Copy>(binaries: &[B], name: fn(B) -> &'static str) -> Vec<&'static str> {
    binaries.iter().map(|b| name(*b)).collect()
}

#[test]
fn the_example_and_the_server_crate_see_the_same_binaries() {
    use hero_livekit_server::Binary as Server;
    use livekit::Binary as Cli;
    assert_eq!(livekit::SERVICE_NAME, hero_livekit_server::SERVICE_NAME);
    assert_eq!(names(Cli::ALL, Cli::name), names(Server::ALL, Server::name));
    assert_eq!(names(livekit::STARTED, Cli::name), names(hero_livekit_server::STARTED, Server::name));
    assert_eq!(names(livekit::INSTALL_ONLY, Cli::name), names(hero_livekit_server::INSTALL_ONLY, Server::name));
    assert_eq!(names(livekit::INSTALL_ONLY, Cli::name), ["lk-backend", "hero_do_hero_livekit"]);
}

#[test]
fn the_example_and_the_server_crate_see_the_same_sockets_and_registration() {
    assert_eq!(livekit::MANIFEST, hero_livekit_server::MANIFEST);
    let sockets = |m: &service_manifest::Manifest| -> Vec<(String, Option<String>)> {
        m.binaries.iter().map(|b| (b.name.to_string(), b.socket.as_deref().map(str::to_owned))).collect()
    };
    assert_eq!(sockets(&livekit::MANIFEST), sockets(&hero_livekit_server::MANIFEST));
    // What the example registers with the supervisor is what the server crate would.
    assert_eq!(livekit::service_builder(), hero_livekit_server::service_builder());
    // The server crate's own socket is the one the supervisor waits on before the admin.
    let spec = livekit::service_builder().build();
    let admin = spec.action("hero_livekit_admin").unwrap();
    assert_eq!(admin.depends_on[0].socket.as_deref(), hero_livekit_server::socket());
}
