mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/no-binary.toml");
}

fn main() {}
