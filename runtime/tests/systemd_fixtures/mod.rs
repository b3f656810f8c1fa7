//! The registrations the systemd tests export: the examples, built as `service_manifest!`
//! builds them, and a hand-built set holding every mapping. Shared with `tests/external`.

use std::path::{Path, PathBuf};

use service_manifest_runtime::{
    ActionDep, ActionSpec, BinaryKind, HealthCheck, Manifest, Probe, ReadyGate, Relation, RestartPolicy,
    ServiceBuilder, ServiceSpec,
};

pub const EXAMPLES: &[&str] = &["hero_proxy", "hero_collab", "hero_livekit"];

/// The workspace: the nearest directory above the including crate that holds the examples.
pub fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().find(|d| d.join("examples/hero_proxy").is_dir()).expect("inside the workspace").to_path_buf()
}

pub fn example(name: &str) -> (ServiceSpec, Manifest) {
    let path = workspace().join("examples").join(name).join("service.toml");
    let manifest = service_manifest_core::load_lenient(&path, None).expect("the example manifest is valid").manifest;
    (ServiceBuilder::from_manifest(&manifest).build(), manifest)
}

/// Every relation and gate in one set, hand-built, so each mapping is read back too.
pub fn every_mapping() -> Vec<ServiceSpec> {
    let migrate = ActionSpec::new("migrate", BinaryKind::Server).restart(RestartPolicy::Always);
    let api = ActionSpec::new("api", BinaryKind::Server)
        .socket("shop/api.sock")
        .args(["--name", "a b", "say \"hi\"", "C:\\dir", "$HOME", "100%", ";", ""])
        .env("GREETING", "hello world")
        .env("PCT", "50% off $5")
        .restart(RestartPolicy::Never)
        .start_timeout_ms(1500)
        .depends_on(ActionDep::new("shop").action("migrate").ready(ReadyGate::Completed))
        .depends_on(
            ActionDep::new("cache").socket("cache/cache.sock").relation(Relation::Requires).ready(ReadyGate::Socket),
        )
        .depends_on(ActionDep::new("metrics").socket("metrics.sock").relation(Relation::Wants).ready(ReadyGate::Socket))
        .depends_on(ActionDep::new("audit").action("audit_server").relation(Relation::Wants));
    let web = ActionSpec::new("web", BinaryKind::Web)
        .depends_on(ActionDep::new("shop").action("api").ready(ReadyGate::Socket).socket("shop/api.sock"))
        .depends_on(ActionDep::new("audit").action("audit_server").relation(Relation::After));
    let check = HealthCheck::new(Probe::Socket { send: Some("ping".into()), expect: Some("pong".into()) });
    let audit = ActionSpec::new("audit_server", BinaryKind::Server)
        .restart(RestartPolicy::Always)
        .watchdog_ms(10_000)
        .health(check);
    vec![
        ServiceBuilder::new("shop").action(migrate).action(api).action(web).build(),
        ServiceBuilder::new("audit").action(audit).build(),
    ]
}
