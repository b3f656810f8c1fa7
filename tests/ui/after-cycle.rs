mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/after-cycle.toml");
}

fn main() {}
