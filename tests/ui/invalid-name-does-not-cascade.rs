// A binary whose name is invalid is reported once: names that refer to it are not
// "unknown", and the code using the binaries that are fine still type-checks.
mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/invalid-name-does-not-cascade.toml");
}

fn main() {
    let admin = svc::Binary::SvcAdmin;
    println!("{} {}", admin.name(), svc::service_builder().build().actions.len());
}
