mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/health-mistakes.toml");
}

fn main() {}
