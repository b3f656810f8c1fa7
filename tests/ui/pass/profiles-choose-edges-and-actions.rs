// A profile adds the edges and actions limited to it, and nothing else; the
// compile-time registration equals the run-time derivation for every profile set.
mod svc {
    service_manifest::service_manifest!("tests/ui/fixtures/pass/profiles.toml");
}

use service_manifest::ServiceBuilder;
use svc::{Binary, Profile};

fn main() {
    let plain = svc::service_builder().build();
    assert_eq!(plain.actions.len(), 1, "only the server runs without a profile");
    assert!(plain.action("collab_server").unwrap().depends_on.is_empty());

    let auth = svc::service_builder_for(&[Profile::ProxyAuth]);
    assert_eq!(auth.active_profiles(), ["proxy-auth"]);
    let auth = auth.build();
    assert_eq!(auth.actions.len(), 1);
    assert_eq!(auth.action("collab_server").unwrap().depends_on[0].service, "hero_proxy");

    let debug = svc::service_builder_for(&[Profile::Debug]).build();
    assert_eq!(debug.actions.len(), 3);
    assert!(debug.action("collab_server").unwrap().depends_on.is_empty());
    let admin = debug.action("collab_inspector_admin").unwrap();
    assert_eq!(admin.depends_on[0].action.as_deref(), Some("collab_inspector"));

    assert_eq!(Binary::CollabInspector.profiles(), [Profile::Debug]);
    assert!(Binary::CollabServer.profiles().is_empty());
    assert_eq!(Profile::from_name("proxy-auth"), Some(Profile::ProxyAuth));
    assert_eq!(Profile::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(), ["proxy-auth", "debug"]);

    for active in [&[][..], &[Profile::ProxyAuth], &[Profile::Debug], &[Profile::ProxyAuth, Profile::Debug]] {
        let names: Vec<&str> = active.iter().map(|p| p.name()).collect();
        let at_run_time = ServiceBuilder::for_profiles(&svc::MANIFEST, &names).unwrap();
        assert_eq!(svc::service_builder_for(active), at_run_time, "profiles {names:?}");
    }
    assert!(ServiceBuilder::for_profiles(&svc::MANIFEST, &["proxy_auth"]).is_err());
}
