mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/unknown-key.toml");
}

fn main() {}
