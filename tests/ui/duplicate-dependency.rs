mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/duplicate-dependency.toml");
}

fn main() {}
