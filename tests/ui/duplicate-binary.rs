mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/duplicate-binary.toml");
}

fn main() {}
