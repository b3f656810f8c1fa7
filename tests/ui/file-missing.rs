mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/does-not-exist.toml");
}

fn main() {}
