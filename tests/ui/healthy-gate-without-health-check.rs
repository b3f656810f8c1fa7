mod collab {
    service_manifest::service_manifest!("tests/ui/fixtures/healthy-gate-without-health-check.toml");
}

fn main() {}
