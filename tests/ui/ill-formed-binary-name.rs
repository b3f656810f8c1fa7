mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/ill-formed-binary-name.toml");
}

fn main() {}
