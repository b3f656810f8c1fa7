mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/undeclared-profile.toml");
}

fn main() {}
