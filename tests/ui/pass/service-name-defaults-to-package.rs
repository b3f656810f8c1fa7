// With no [service] name, the compiling crate's package name is used.
mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/pass/no-service-name.toml");
}

fn main() {
    assert_eq!(svc::SERVICE_NAME, env!("CARGO_PKG_NAME"));
    assert_eq!(svc::STARTED, &[svc::Binary::Worker]);
}
