mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/self-dependency.toml");
}

fn main() {}
