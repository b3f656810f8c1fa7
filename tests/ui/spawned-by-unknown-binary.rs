mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/spawned-by-unknown-binary.toml");
}

fn main() {}
