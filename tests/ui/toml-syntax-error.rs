mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/toml-syntax-error.toml");
}

fn main() {}
