//! The systemd export of the three example services: golden unit files, `systemd-analyze
//! verify` on every exported set, and the units read back into the plan's graph.
//!
//! The registrations are built the way `service_manifest!` builds them: the example's
//! `service.toml` through `ServiceBuilder::from_manifest`.
//!
//! `SERVICE_MANIFEST_BLESS=1 cargo test -p service_manifest_runtime --test systemd_export`
//! rewrites the golden files; read the diff before committing it.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use service_manifest_runtime::backend::systemd::{self, ExportOptions, UnitFile};
use service_manifest_runtime::cli::{GraphFormat, graph};
use service_manifest_runtime::{
    ActionDep, ActionSpec, BinaryKind, HealthCheck, Manifest, Probe, ReadyGate, Relation, RestartPolicy,
    ServiceBuilder, ServiceSpec,
};

const EXAMPLES: &[&str] = &["hero_proxy", "hero_collab", "hero_livekit"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the runtime crate sits in the workspace").to_path_buf()
}

fn example(name: &str) -> (ServiceSpec, Manifest) {
    let path = workspace().join("examples").join(name).join("service.toml");
    let manifest = service_manifest_core::load_lenient(&path, None).expect("the example manifest is valid").manifest;
    (ServiceBuilder::from_manifest(&manifest).build(), manifest)
}

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

/// Every relation and gate in one set, hand-built, so each mapping is read back too.
fn every_mapping() -> Vec<ServiceSpec> {
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

// --- systemd-analyze verify -------------------------------------------------------

/// `systemd-analyze`, or `None` (with the reason printed) where it is missing; in CI a
/// missing one fails the test instead of skipping it.
fn systemd_analyze() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("systemd-analyze"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "systemd-analyze is missing in CI");
        eprintln!("SKIPPED: systemd-analyze is not installed, so the exported units are not verified");
    }
    found
}

/// A directory of executables for every program the units run, so `verify` can check them.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    /// A bin directory whose name needs quoting in a unit file.
    fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin dir")
    }

    fn options(&self) -> ExportOptions {
        ExportOptions::new(self.bin_dir(), self.dir.path().join("sockets"))
    }

    fn install(&self, programs: impl IntoIterator<Item = String>) {
        std::fs::create_dir_all(self.bin_dir()).unwrap();
        for program in programs.into_iter().chain([systemd::WAIT_SOCKET_PROGRAM.to_owned()]) {
            let path = self.bin_dir().join(program);
            std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    /// Writes `units` and runs `systemd-analyze verify` on them: `(success, output)`.
    fn verify(&self, analyze: &Path, units: &[UnitFile]) -> (bool, String) {
        let unit_dir = self.dir.path().join("units");
        let paths: Vec<_> = systemd::write(&unit_dir, units).unwrap().into_iter().map(|w| w.path).collect();
        let out = Command::new(analyze)
            .arg("verify")
            .arg("--man=no")
            .args(&paths)
            .env("SYSTEMD_LOG_LEVEL", "warning")
            .output()
            .expect("systemd-analyze runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }
}

/// The lines of `verify`'s output that concern our units (it also comments on the host's own).
fn about<'a>(output: &'a str, units: &[UnitFile]) -> Vec<&'a str> {
    output.lines().filter(|l| units.iter().any(|u| l.contains(u.name.as_str()) || l.contains("bin dir"))).collect()
}

#[test]
fn every_exported_set_passes_systemd_analyze_verify() {
    let Some(analyze) = systemd_analyze() else { return };
    let sets: Vec<(&str, Vec<ServiceSpec>)> = vec![
        ("the three examples", EXAMPLES.iter().map(|n| example(n).0).collect()),
        ("every mapping", every_mapping()),
    ];
    for (what, specs) in sets {
        let fixture = Fixture::new();
        fixture.install(specs.iter().flat_map(|s| s.actions.iter().map(|a| a.exec.clone())));
        let units = systemd::export(&specs, &fixture.options()).unwrap();
        let (ok, output) = fixture.verify(&analyze, &units);
        assert!(ok, "{what}: systemd-analyze verify failed:\n{output}");
        assert_eq!(about(&output, &units), Vec::<&str>::new(), "{what}: verify warned:\n{output}");
    }
}

#[test]
fn verify_really_checks_the_units_a_missing_program_fails_it() {
    let Some(analyze) = systemd_analyze() else { return };
    let fixture = Fixture::new();
    let (spec, _) = example("hero_proxy");
    fixture.install(std::iter::empty()); // only the waiter: hero_proxy_server is missing
    let units = systemd::export(&[spec], &fixture.options()).unwrap();
    let (ok, output) = fixture.verify(&analyze, &units);
    assert!(!ok, "verify accepted a unit whose program does not exist:\n{output}");
    assert!(output.contains("hero_proxy_server"), "{output}");
}
