mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/missing-required-key.toml");
}

fn main() {}
