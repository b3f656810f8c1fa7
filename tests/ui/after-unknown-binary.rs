mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/after-unknown-binary.toml");
}

fn main() {}
