// With SERVICE_MANIFEST_PATH naming a directory that holds hero_proxy/service.toml
// (tests/ui.rs points it at examples/), a socket that drifted from what hero_proxy
// really serves is a compile error instead of a 15 s timeout at run time.
mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/dependency-disagrees-with-its-manifest.toml");
}

fn main() {}
