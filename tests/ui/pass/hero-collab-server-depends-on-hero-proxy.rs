// The declared dependency reaches depends_on, with its socket gate.
mod collab {
    service_manifest::service_manifest!("examples/hero_collab/service.toml");
}

use service_manifest::{ReadyGate, Relation};

fn main() {
    let spec = collab::service_builder().build();
    assert_eq!(spec.name, collab::SERVICE_NAME);
    let server = spec.action("hero_collab_server").unwrap();
    let dep = &server.depends_on[0];
    assert_eq!(dep.service, "hero_proxy");
    assert_eq!(dep.action.as_deref(), Some("hero_proxy_server"));
    assert_eq!(dep.socket.as_deref(), Some("hero_proxy/proxy.sock"));
    assert_eq!((dep.relation, dep.ready), (Relation::Requires, ReadyGate::Socket));
    assert!(spec.action("hero_collab").is_none(), "the cli is install-only");
    assert_eq!(collab::Binary::from_name("hero_collab"), Some(collab::Binary::HeroCollab));
    assert_eq!(collab::MANIFEST.dependencies[0].bin.as_deref(), Some("hero_proxy_server"));
}
