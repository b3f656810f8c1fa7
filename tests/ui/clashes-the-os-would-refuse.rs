// Manifests that cannot work, though each key alone is well-formed: two daemons on one
// socket, a gate on our own socket, and strings no process can be given.
mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/clashes-the-os-would-refuse.toml");
}

fn main() {}
