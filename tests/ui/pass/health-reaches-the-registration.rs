// `watchdog` and `[binaries.health]` reach the registration as written, defaults filled in.
mod db {
    service_manifest::service_manifest!("tests/ui/fixtures/pass/health.toml");
}

use service_manifest::{HealthCheck, Probe};

fn main() {
    let spec = db::service_builder().build();
    let server = spec.action("db_server").unwrap();
    assert_eq!(server.watchdog_ms, Some(10_000));
    let check = server.health.clone().unwrap();
    assert_eq!((check.interval_ms, check.timeout_ms, check.retries, check.start_period_ms), (5_000, 1_000, 2, 20_000));
    let send = Some(r#"{"jsonrpc":"2.0","id":1,"method":"health"}"#.into());
    assert_eq!(check.probe, Probe::Socket { send, expect: Some(r#""result""#.into()) });
    let admin = spec.action("db_admin").unwrap();
    let defaults = HealthCheck::new(Probe::Exec { command: vec!["db".into(), "ping".into()].into() });
    assert_eq!(admin.health.as_ref(), Some(&defaults));
    assert_eq!(db::MANIFEST.binaries[0].health, server.health);
}
