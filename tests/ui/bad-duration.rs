mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/bad-duration.toml");
}

fn main() {}
