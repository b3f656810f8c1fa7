mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/applies-to-unknown-binary.toml");
}

fn main() {}
