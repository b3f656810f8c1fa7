mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/wrong-value-type.toml");
}

fn main() {}
