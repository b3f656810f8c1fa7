mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/socket-path-too-long.toml");
}

fn main() {}
