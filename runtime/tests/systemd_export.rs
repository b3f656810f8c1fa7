//! The systemd export of the three example services: golden unit files and the units read
//! back into the plan's graph. `systemd-analyze verify` of every exported set is in
//! `tests/external` (so that a machine without systemd shows it as ignored).
//!
//! The registrations are built the way `service_manifest!` builds them: the example's
//! `service.toml` through `ServiceBuilder::from_manifest`.
//!
//! `SERVICE_MANIFEST_BLESS=1 cargo test -p service_manifest_runtime --test systemd_export`
//! rewrites the golden files; read the diff before committing it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod systemd_fixtures;

use service_manifest_runtime::backend::systemd::{self, ExportOptions, UnitFile};
use service_manifest_runtime::cli::{GraphFormat, graph};
use service_manifest_runtime::{ActionSpec, BinaryKind, Manifest, ServiceBuilder, ServiceSpec};
use systemd_fixtures::{EXAMPLES, every_mapping, example};

/// Fixed, machine-independent paths for the golden files.
fn golden_options() -> ExportOptions {
    ExportOptions::new("/opt/hero/bin", "/run/service_manifest/sockets")
}

fn golden_dir(service: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/systemd").join(service)
}

#[test]
fn each_example_exports_the_golden_units() {
    let bless = std::env::var_os("SERVICE_MANIFEST_BLESS").is_some();
    for name in EXAMPLES {
        let (spec, _) = example(name);
        let units = systemd::export(&[spec], &golden_options()).unwrap();
        let dir = golden_dir(name);
        if bless {
            let _ = std::fs::remove_dir_all(&dir);
            systemd::write(&dir, &units).unwrap();
        }
        let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (SERVICE_MANIFEST_BLESS=1 writes it)", dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let exported: BTreeSet<String> = units.iter().map(|u| u.name.clone()).collect();
        assert_eq!(on_disk, exported, "{name}: the golden directory holds other units than the export");
        for unit in &units {
            let golden = std::fs::read_to_string(dir.join(&unit.name)).unwrap();
            assert_eq!(unit.text, golden, "{name}: {} differs from its golden file", unit.name);
        }
    }
}

#[test]
fn install_only_and_spawned_binaries_get_no_unit() {
    let (spec, manifest) = example("hero_livekit");
    let units = systemd::export(&[spec], &golden_options()).unwrap();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        ["hero_livekit.hero_livekit_server.service", "hero_livekit.hero_livekit_admin.service", "hero_livekit.target"]
    );
    for b in manifest.install_only() {
        assert!(units.iter().all(|u| !u.text.contains(&format!("/{}", b.name))), "{} appears in a unit", b.name);
    }
}

#[test]
fn a_dependents_references_name_the_units_the_dependencys_own_export_writes() {
    let (proxy, _) = example("hero_proxy");
    let (collab, _) = example("hero_collab");
    let proxy_units: BTreeSet<String> =
        systemd::export(&[proxy], &golden_options()).unwrap().into_iter().map(|u| u.name).collect();
    let collab_units = systemd::export(&[collab], &golden_options()).unwrap();
    let own: BTreeSet<&str> = collab_units.iter().map(|u| u.name.as_str()).collect();
    let mut foreign = BTreeSet::new();
    for unit in &collab_units {
        for (_, target) in dependencies(&unit.text) {
            if !own.contains(target.as_str()) {
                foreign.insert(target);
            }
        }
    }
    assert_eq!(foreign, BTreeSet::from(["hero_proxy.hero_proxy_server.service".to_owned()]));
    assert!(foreign.is_subset(&proxy_units));
}

/// `(directive, unit)` for every `Requires=`, `Wants=` and `After=` line.
fn dependencies(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| matches!(*k, "Requires" | "Wants" | "After"))
        .flat_map(|(k, v)| v.split_whitespace().map(move |u| (k.to_owned(), u.to_owned())))
        .collect()
}

/// `service/action` from `service.action.service`.
fn label_of(unit: &str) -> String {
    let stem = unit.strip_suffix(".service").unwrap_or_else(|| panic!("{unit} is not a service unit"));
    let (service, action) = stem.split_once('.').unwrap();
    format!("{service}/{action}")
}

/// The edges of the units, read back: `(dependent, dependency, relation)`.
fn graph_of_units(units: &[UnitFile]) -> BTreeSet<(String, String, String)> {
    let mut edges = BTreeSet::new();
    for unit in units.iter().filter(|u| u.name.ends_with(".service")) {
        let deps = dependencies(&unit.text);
        let targets: BTreeSet<&String> = deps.iter().map(|(_, t)| t).collect();
        for target in targets {
            let has = |d: &str| deps.iter().any(|(k, t)| k == d && t == target);
            let relation = match (has("Requires"), has("Wants"), has("After")) {
                (true, false, true) => "requires",
                (false, true, true) => "wants",
                (false, false, true) => "after",
                other => panic!("{}: {target} has an edge no relation writes: {other:?}", unit.name),
            };
            edges.insert((label_of(&unit.name), label_of(target), relation.to_owned()));
        }
    }
    edges
}

/// The edges `--graph` draws (DOT), without the dotted `spawns` edges.
fn graph_of_plan(spec: &ServiceSpec, manifest: &Manifest) -> BTreeSet<(String, String, String)> {
    let dot = graph(spec, manifest, GraphFormat::Dot);
    let mut labels = std::collections::BTreeMap::new();
    let mut edges = BTreeSet::new();
    for line in dot.lines().map(str::trim) {
        let Some((head, attrs)) = line.split_once(" [label=\"") else { continue };
        let text = attrs.split('"').next().unwrap();
        match head.split_once(" -> ") {
            None => {
                labels.insert(head.to_owned(), text.split(" [").next().unwrap().to_owned());
            }
            Some(_) if attrs.contains("style=dotted") => {}
            Some((from, to)) => {
                let relation = text.split(" · ").next().unwrap().to_owned();
                edges.insert((from.to_owned(), to.to_owned(), relation));
            }
        }
    }
    edges.into_iter().map(|(f, t, r)| (labels[&f].clone(), labels[&t].clone(), r)).collect()
}

#[test]
fn the_units_read_back_are_the_plans_graph() {
    for name in EXAMPLES {
        let (spec, manifest) = example(name);
        let units = systemd::export(std::slice::from_ref(&spec), &golden_options()).unwrap();
        let from_units = graph_of_units(&units);
        assert_eq!(from_units, graph_of_plan(&spec, &manifest), "{name}");
        if *name == "hero_collab" {
            // The test can fail: it really sees the edges.
            assert!(from_units.contains(&(
                "hero_collab/hero_collab_server".into(),
                "hero_proxy/hero_proxy_server".into(),
                "requires".into()
            )));
        }
    }
}

#[test]
fn every_mapping_is_written_as_the_readme_says() {
    let units = systemd::export(&every_mapping(), &golden_options()).unwrap();
    let text = |name: &str| &units.iter().find(|u| u.name == name).unwrap().text;
    let migrate = text("shop.migrate.service");
    assert!(migrate.contains("Type=oneshot\nRemainAfterExit=yes\n"), "{migrate}");
    assert!(migrate.contains("Restart=on-failure\n"), "a one-shot cannot be Restart=always: {migrate}");
    let api = text("shop.api.service");
    for line in [
        "Type=exec\n",
        "Requires=shop.migrate.service\nAfter=shop.migrate.service\n",
        "Wants=audit.audit_server.service\nAfter=audit.audit_server.service\n",
        "ExecStartPre=/opt/hero/bin/service-manifest-wait-socket --timeout-ms 30000 /run/service_manifest/sockets/cache/cache.sock\n",
        "ExecStartPre=-/opt/hero/bin/service-manifest-wait-socket --timeout-ms 30000 /run/service_manifest/sockets/metrics.sock\n",
        "ExecStart=/opt/hero/bin/api --name \"a b\" \"say \\\"hi\\\"\" \"C:\\\\dir\" \"$$HOME\" \"100%%\" \";\" \"\"\n",
        "ExecStartPost=/opt/hero/bin/service-manifest-wait-socket --timeout-ms 1500 /run/service_manifest/sockets/shop/api.sock\n",
        "Environment=\"GREETING=hello world\"\n",
        "Environment=\"PCT=50%% off $5\"\n",
        "Restart=no\n",
        "TimeoutStartSec=1500ms\n",
        "StartLimitIntervalSec=60\nStartLimitBurst=5\n",
    ] {
        assert!(api.contains(line), "shop.api.service lacks {line:?}:\n{api}");
    }
    let web = text("shop.web.service");
    assert!(web.contains("After=audit.audit_server.service\n") && !web.contains("audit.audit_server.service\nWants"));
    assert!(!web.contains("Requires=audit"), "`after` must not pull in: {web}");
    let audit = text("audit.audit_server.service");
    assert!(audit.contains("Restart=always\n") && audit.contains("WatchdogSec=10s\n"), "{audit}");
    let notes = systemd::export_notes(&every_mapping());
    assert_eq!(
        notes,
        [
            "audit/audit_server: its health check is not exported (systemd has no periodic probe; `watchdog` is exported)"
        ]
    );
}

#[test]
fn a_name_systemd_cannot_hold_and_two_actions_on_one_unit_are_errors() {
    let bad = ServiceBuilder::new("shop").action(ActionSpec::new("a b", BinaryKind::Server)).build();
    let err = systemd::export(&[bad], &golden_options()).unwrap_err().to_string();
    assert!(err.contains("`a b` cannot be part of a systemd unit name"), "{err}");
    let one = ServiceBuilder::new("a.b").action(ActionSpec::new("c", BinaryKind::Server)).build();
    let two = ServiceBuilder::new("a").action(ActionSpec::new("b.c", BinaryKind::Server)).build();
    let err = systemd::export(&[one, two], &golden_options()).unwrap_err().to_string();
    assert_eq!(err, "a.b/c and a/b.c would both be exported as a.b.c.service; rename one of them");
    let relative = ExportOptions::new("bin", "/run/s");
    let err = systemd::export(&[example("hero_proxy").0], &relative).unwrap_err().to_string();
    assert!(err.contains("ExecStart= needs an absolute program"), "{err}");
}
