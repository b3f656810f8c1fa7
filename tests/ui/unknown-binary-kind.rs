mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/unknown-binary-kind.toml");
}

fn main() {}
