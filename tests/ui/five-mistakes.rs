mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/five-mistakes.toml");
}

fn main() {}
