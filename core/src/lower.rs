//! Turns a checked raw manifest into the model, resolving every default once.

use crate::model::{Binary, Dependency, HealthCheck, Manifest, Probe, ServiceInfo};
use crate::schema::{At, RawHealth, RawManifest};
use crate::vocab::{ReadyGate, Relation, RestartPolicy};

/// Only called once validation found no error, so absent required values cannot
/// happen; they still degrade to empty text rather than panicking.
pub(crate) fn lower(raw: RawManifest, service_name: String) -> Manifest {
    let text = |v: Option<At<String>>| v.map(|a| a.value.into());
    let list = |v: Vec<At<String>>| v.into_iter().map(|a| a.value.into()).collect::<Vec<_>>().into();
    let binaries: Vec<Binary> = raw
        .binaries
        .into_iter()
        .filter_map(|b| {
            Some(Binary {
                name: b.name?.value.into(),
                kind: b.kind?.value,
                spawned_by: text(b.spawned_by),
                socket: text(b.socket),
                args: b.args.into_iter().map(|a| a.value.into()).collect::<Vec<_>>().into(),
                env: b.env.into_iter().map(|(k, v)| (k.value.into(), v.value.into())).collect::<Vec<_>>().into(),
                after: list(b.after),
                start_timeout_ms: b.start_timeout_ms,
                restart: b.restart.unwrap_or(RestartPolicy::default()),
                description: b.description.map(Into::into),
                profiles: list(b.profiles),
                notify: b.ready.is_some_and(|r| r.value == crate::vocab::BinaryReady::Notify),
                watchdog_ms: b.watchdog.map(|w| w.value),
                health: b.health.map(health),
            })
        })
        .collect();
    let dependencies: Vec<Dependency> = raw
        .dependencies
        .into_iter()
        .filter_map(|d| {
            let ready = match (&d.ready, &d.socket) {
                (Some(r), _) => r.value,
                (None, Some(_)) => ReadyGate::Socket,
                (None, None) => ReadyGate::Running,
            };
            Some(Dependency {
                repo: d.repo?.value.into(),
                crate_name: text(d.crate_name),
                bin: text(d.bin),
                socket: text(d.socket),
                relation: d.relation.unwrap_or(Relation::default()),
                ready,
                timeout_ms: d.timeout_ms,
                applies_to: list(d.applies_to),
                profiles: list(d.profiles),
            })
        })
        .collect();
    Manifest {
        service: ServiceInfo {
            name: service_name.into(),
            description: raw.service_description.map(Into::into),
            profiles: list(raw.profiles),
        },
        binaries: binaries.into(),
        dependencies: dependencies.into(),
    }
}

fn health(h: RawHealth) -> HealthCheck {
    let text = |v: Option<At<String>>| v.map(|a| a.value.into());
    let probe = match h.exec {
        Some(exec) => {
            Probe::Exec { command: exec.value.into_iter().map(|a| a.value.into()).collect::<Vec<_>>().into() }
        }
        None => Probe::Socket { send: text(h.send), expect: text(h.expect) },
    };
    let defaults = HealthCheck::new(probe);
    HealthCheck {
        interval_ms: h.interval_ms.unwrap_or(defaults.interval_ms),
        timeout_ms: h.timeout_ms.unwrap_or(defaults.timeout_ms),
        retries: h.retries.and_then(|r| u32::try_from(r.value).ok()).unwrap_or(defaults.retries),
        start_period_ms: h.start_period_ms.unwrap_or(defaults.start_period_ms),
        start_interval_ms: h.start_interval_ms.unwrap_or(defaults.start_interval_ms),
        ..defaults
    }
}
