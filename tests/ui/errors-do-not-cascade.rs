// The manifest is broken, but the code using the generated items still type-checks
// against the stubs: the only error is the manifest's own.
mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/unknown-binary-kind.toml");
}

fn main() {
    let spec = svc::service_builder().build();
    let started: usize = svc::STARTED.len() + svc::INSTALL_ONLY.len();
    println!("{} {} {started}", svc::SERVICE_NAME, spec.actions.len());
    for b in svc::Binary::ALL {
        println!("{} {} {}", b.name(), b.kind(), b.is_started());
    }
}
