mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/both-key-forms.toml");
}

fn main() {}
