mod svc {
    service_manifest::service_manifest!(service_toml);
}

fn main() {}
