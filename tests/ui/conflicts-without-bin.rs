mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/conflicts-without-bin.toml");
}

fn main() {}
