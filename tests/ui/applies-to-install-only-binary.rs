mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/applies-to-install-only-binary.toml");
}

fn main() {}
