mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/after-sibling-in-another-profile.toml");
}

fn main() {}
