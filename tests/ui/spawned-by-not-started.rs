mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/spawned-by-not-started.toml");
}

fn main() {}
