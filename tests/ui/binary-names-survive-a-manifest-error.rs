// A mistake unrelated to the names (`start_timout`) must not break code that names a
// binary or a profile: the fallback keeps every name that parsed, so the manifest's
// error is the only one. Without the salvaged variants this case also reports
// E0599 (no variant `HeroCollabServer`), so deleting the fallback fails the suite.
mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/unknown-key-elsewhere.toml");
}

use svc::{Binary, Profile};

fn main() {
    let server = Binary::HeroCollabServer;
    let admin = Binary::from_name("hero_collab_admin").unwrap_or(Binary::HeroCollabAdmin);
    println!("{} {} {}", server.name(), admin.kind(), server.is_started());
    let spec = svc::service_builder_for(&[Profile::ProxyAuth]).build();
    println!("{} {}", spec.name, svc::MANIFEST.binaries.len());
}
