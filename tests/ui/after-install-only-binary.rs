mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/after-install-only-binary.toml");
}

fn main() {}
