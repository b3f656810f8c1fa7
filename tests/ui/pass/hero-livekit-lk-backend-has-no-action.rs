// lk-backend is a real server, but hero_livekit_server spawns it: no action, ever.
mod livekit {
    service_manifest::service_manifest!("examples/hero_livekit/service.toml");
}

use livekit::Binary;
use service_manifest::BinaryKind;

fn main() {
    let spec = livekit::service_builder().build();
    let actions: Vec<&str> = spec.actions.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(actions, ["hero_livekit_server", "hero_livekit_admin"]);
    assert_eq!(Binary::LkBackend.kind(), BinaryKind::Server);
    assert_eq!(Binary::LkBackend.spawned_by(), Some(Binary::HeroLivekitServer));
    assert!(!Binary::LkBackend.is_started());
    assert_eq!(livekit::INSTALL_ONLY, &[Binary::LkBackend, Binary::HeroDoHeroLivekit]);
    let admin = spec.action("hero_livekit_admin").unwrap();
    assert_eq!(admin.depends_on[0].action.as_deref(), Some("hero_livekit_server"));
}
