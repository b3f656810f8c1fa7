//! A registration as zinit service configurations (pure: no I/O).
//!
//! | registration | zinit |
//! |---|---|
//! | action | one service named [`service_name`]`(service, action)` |
//! | `requires` edge | `requires` (waits until the dependency is running, i.e. its health check passed) |
//! | `wants` edge | `wants` + `after` |
//! | `after` edge | `after` |
//! | socket served | `exec` health check running `service-manifest-wait-socket` on it |
//! | a dependent gates on `completed` | `oneshot = true` |
//! | dependency known only by its socket | the waiter runs before the program in `exec` |
//! | restart policy | `restart`, back-off from 100 ms, at most 5 restarts until stable for 60 s |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::backend::quote::sh_command;
use crate::paths::{resolve_exec, resolve_socket};
use crate::spec::{ActionDep, ActionSpec};
use crate::{Relation, RestartPolicy};

/// zinit's name for `service`'s action `action`: `service.action`.
///
/// ```
/// assert_eq!(service_manifest_runtime::backend::zinit::service_name("hero_proxy", "hero_proxy_server"), "hero_proxy.hero_proxy_server");
/// ```
pub fn service_name(service: &str, action: &str) -> String {
    format!("{service}.{action}")
}

/// The zinit dependency lists a relation writes on the dependent.
pub fn lists(relation: Relation) -> &'static [&'static str] {
    match relation {
        Relation::Requires => &["requires"],
        Relation::Wants => &["wants", "after"],
        Relation::After => &["after"],
        Relation::Conflicts => &["conflicts"],
    }
}

/// Where programs and sockets are, and the embedded supervisor's defaults.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Where bare program names resolve.
    pub bin_dir: PathBuf,
    /// Where relative socket names resolve.
    pub socket_dir: PathBuf,
    /// The socket waiter.
    pub waiter: crate::backend::Waiter,
    /// An action's start timeout when it sets none, in milliseconds.
    pub default_start_timeout_ms: u64,
    /// A socket-only dependency's timeout when the edge sets none, in milliseconds.
    pub default_timeout_ms: u64,
}

/// The zinit configuration of `service`'s `action`. `oneshot` when a dependent gates on
/// its completion; `edges` are the dependency edges zinit can hold (their targets are
/// registered), the rest having been dropped by the caller with a note.
pub fn action_config(
    service: &str,
    action: &ActionSpec,
    oneshot: bool,
    edges: &[&ActionDep],
    layout: &Layout,
) -> Value {
    let program = resolve_exec(&layout.bin_dir, &action.exec).display().to_string();
    let run = sh_command(std::iter::once(program.as_str()).chain(action.args.iter().map(String::as_str)));
    // A dependency known only by its socket has no zinit service to depend on: the
    // waiter runs first, in the same shell (`&&` for requires; `;` keeps wants soft).
    let mut pre = Vec::new();
    for dep in edges.iter().filter(|d| d.action.is_none()) {
        let Some(socket) = &dep.socket else { continue };
        let socket = resolve_socket(&layout.socket_dir, socket);
        let timeout = dep.timeout_ms.unwrap_or(layout.default_timeout_ms);
        let wait = wait_command(layout, timeout, &socket);
        match dep.relation {
            Relation::Requires => pre.push(format!("{wait} && ")),
            Relation::Wants => pre.push(format!("{wait} ; ")),
            // `after` never waits for what is not starting; a bare socket has no service.
            _ => {}
        }
    }
    let exec = if pre.is_empty() { run } else { format!("{}exec {run}", pre.concat()) };

    let socket = action.socket.as_deref().map(|s| resolve_socket(&layout.socket_dir, s));
    let mut env = BTreeMap::new();
    env.insert("SERVICE_MANIFEST_SERVICE".to_owned(), service.to_owned());
    env.insert("SERVICE_MANIFEST_ACTION".to_owned(), action.name.clone());
    env.insert(crate::paths::SOCKET_DIR_ENV.to_owned(), layout.socket_dir.display().to_string());
    if let Some(socket) = &socket {
        env.insert("SERVICE_MANIFEST_SOCKET".to_owned(), socket.display().to_string());
    }
    env.extend(action.env.iter().cloned());

    // Every list, empty ones too: a list left out would leave zinit's old one in place
    // (`covers` reads a missing list as "nothing to change"), so a dependency removed
    // (say by starting without the profile that added it) would stay.
    let mut deps: BTreeMap<&str, Vec<String>> =
        ["requires", "wants", "after", "conflicts"].into_iter().map(|list| (list, Vec::new())).collect();
    for dep in edges {
        if let Some(a) = &dep.action {
            for list in lists(dep.relation) {
                let entry = deps.entry(list).or_default();
                let name = service_name(&dep.service, a);
                if !entry.contains(&name) {
                    entry.push(name);
                }
            }
        }
    }

    let start_timeout_ms = action.start_timeout_ms.unwrap_or(layout.default_start_timeout_ms);
    let restart = match action.restart {
        RestartPolicy::Never => "never",
        RestartPolicy::OnFailure => "on-failure",
        RestartPolicy::Always => "always",
    };
    let mut config = json!({
        "service": {
            "name": service_name(service, &action.name),
            "exec": exec,
            "oneshot": oneshot,
            "env": env,
        },
        "dependencies": deps,
        "lifecycle": {
            "restart": restart,
            "restart_delay_ms": 100,
            "restart_delay_max_ms": 60_000,
            "max_restarts": 5,
            "stability_period_ms": 60_000,
            "start_timeout_ms": start_timeout_ms,
            "stop_timeout_ms": 5_000,
        },
    });
    if let Some(socket) = &socket {
        // The check blocks until the socket accepts (pushed by inotify in the waiter), so
        // the first check passes the moment the daemon is ready rather than on zinit's
        // fixed interval; afterwards it re-checks every 10 s as a liveness probe.
        config["health"] = json!({
            "type": "exec",
            "target": wait_command(layout, start_timeout_ms, socket),
            "interval_ms": 10_000,
            "timeout_ms": start_timeout_ms + 1_000,
            "retries": 1,
        });
    }
    config
}

fn wait_command(layout: &Layout, timeout_ms: u64, socket: &Path) -> String {
    let words = layout.waiter.words();
    let (timeout, socket) = (timeout_ms.to_string(), socket.display().to_string());
    sh_command(words.iter().map(String::as_str).chain(["--timeout-ms", timeout.as_str(), socket.as_str()]))
}

/// Whether zinit's stored configuration already says everything `wanted` says: zinit
/// fills in defaults, so `stored` may hold more. Re-registering an unchanged service
/// would make zinit stop it (and, by cascade, its dependents) and start it again.
pub fn covers(stored: &Value, wanted: &Value) -> bool {
    match (stored, wanted) {
        (Value::Object(s), Value::Object(w)) => w.iter().all(|(k, wv)| match s.get(k) {
            Some(sv) => covers(sv, wv),
            // zinit omits empty lists and maps it does not need.
            None => matches!(wv, Value::Array(a) if a.is_empty()) || matches!(wv, Value::Object(o) if o.is_empty()),
        }),
        (s, w) => s == w,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ActionDep, BinaryKind, ReadyGate};

    fn layout() -> Layout {
        Layout {
            bin_dir: "/opt/hero/bin".into(),
            socket_dir: "/run/s".into(),
            waiter: crate::backend::Waiter::standalone("/opt/hero/bin"),
            default_start_timeout_ms: 30_000,
            default_timeout_ms: 30_000,
        }
    }

    #[test]
    fn a_socket_becomes_a_blocking_exec_health_check_and_requires_a_requires() {
        let dep = ActionDep::new("hero_proxy").action("hero_proxy_server").socket("hero_proxy/proxy.sock");
        let action = ActionSpec::new("hero_collab_server", BinaryKind::Server)
            .socket("hero_collab/server.sock")
            .start_timeout_ms(10_000)
            .args(["--name", "it's"])
            .depends_on(dep.clone().ready(ReadyGate::Socket));
        let c = action_config("hero_collab", &action, false, &[&action.depends_on[0]], &layout());
        assert_eq!(c["service"]["name"], "hero_collab.hero_collab_server");
        assert_eq!(c["service"]["exec"], "/opt/hero/bin/hero_collab_server --name 'it'\\''s'");
        assert_eq!(c["dependencies"]["requires"], json!(["hero_proxy.hero_proxy_server"]));
        assert_eq!(
            c["health"]["target"],
            "/opt/hero/bin/service-manifest-wait-socket --timeout-ms 10000 /run/s/hero_collab/server.sock"
        );
        assert_eq!(c["service"]["env"]["SERVICE_MANIFEST_SOCKET"], "/run/s/hero_collab/server.sock");
    }

    #[test]
    fn wants_also_orders_and_a_socket_only_dependency_is_waited_for_in_exec() {
        let wants = ActionDep::new("audit").action("audit_server").relation(Relation::Wants);
        let cache = ActionDep::new("cache").socket("cache.sock").ready(ReadyGate::Socket).timeout_ms(500);
        let action = ActionSpec::new("api", BinaryKind::Server).depends_on(wants).depends_on(cache);
        let edges: Vec<&ActionDep> = action.depends_on.iter().collect();
        let c = action_config("shop", &action, false, &edges, &layout());
        assert_eq!(c["dependencies"]["wants"], json!(["audit.audit_server"]));
        assert_eq!(c["dependencies"]["after"], json!(["audit.audit_server"]));
        assert_eq!(
            c["service"]["exec"],
            "/opt/hero/bin/service-manifest-wait-socket --timeout-ms 500 /run/s/cache.sock && exec /opt/hero/bin/api"
        );
        assert!(c.get("health").is_none());
    }

    #[test]
    fn a_dependency_removed_is_a_change_zinit_must_hear_of() {
        let proxy = ActionDep::new("hero_proxy").action("hero_proxy_server");
        let with = ActionSpec::new("api", BinaryKind::Server).depends_on(proxy);
        let without = ActionSpec::new("api", BinaryKind::Server);
        let stored = action_config("shop", &with, false, &[&with.depends_on[0]], &layout());
        let wanted = action_config("shop", &without, false, &[], &layout());
        assert_eq!(wanted["dependencies"]["requires"], json!([]), "the empty list is written");
        assert!(!covers(&stored, &wanted), "the stored requires must be replaced");
        assert!(covers(&wanted, &wanted));
    }

    #[test]
    fn covers_ignores_what_zinit_adds_but_not_what_differs() {
        let wanted = json!({ "service": { "name": "a", "env": {} }, "dependencies": { "requires": [] } });
        let stored = json!({ "service": { "name": "a", "dir": null, "env": {} }, "dependencies": {} });
        assert!(covers(&stored, &wanted));
        let changed = json!({ "service": { "name": "b", "env": {} } });
        assert!(!covers(&changed, &wanted));
    }
}
