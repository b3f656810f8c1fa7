mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/dependency-without-target.toml");
}

fn main() {}
