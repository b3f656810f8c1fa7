//! The registration the macro spells out at compile time equals the one
//! `ServiceBuilder::from_manifest` derives at run time from the same manifest: both
//! come from `Manifest::edges_of`, and this holds them to it for every example.

use service_manifest::ServiceBuilder;

mod collab {
    service_manifest::service_manifest!("examples/hero_collab/service.toml");
}
mod livekit {
    service_manifest::service_manifest!("examples/hero_livekit/service.toml");
}
mod proxy {
    service_manifest::service_manifest!("examples/hero_proxy/service.toml");
}

#[test]
fn compile_time_registration_equals_the_run_time_derivation() {
    assert_eq!(collab::service_builder(), ServiceBuilder::from_manifest(&collab::MANIFEST));
    assert_eq!(livekit::service_builder(), ServiceBuilder::from_manifest(&livekit::MANIFEST));
    assert_eq!(proxy::service_builder(), ServiceBuilder::from_manifest(&proxy::MANIFEST));
}

#[test]
fn static_manifest_equals_a_manifest_read_at_run_time() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |example: &str| {
        service_manifest_core::load_lenient(&root.join("examples").join(example).join("service.toml"), None)
            .unwrap()
            .manifest
    };
    assert_eq!(collab::MANIFEST, read("hero_collab"));
    assert_eq!(livekit::MANIFEST, read("hero_livekit"));
    assert_eq!(proxy::MANIFEST, read("hero_proxy"));
}
