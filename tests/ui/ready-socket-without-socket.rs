mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/ready-socket-without-socket.toml");
}

fn main() {}
