//! `systemd-analyze verify` on every exported set of units: the three examples, and a set
//! holding every mapping. Ignored (with the reason) where systemd-analyze is missing;
//! `.ci/run` fails when anything here is ignored.

#[path = "../../../runtime/tests/systemd_fixtures/mod.rs"]
mod systemd_fixtures;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use service_manifest_runtime::ServiceSpec;
use service_manifest_runtime::backend::systemd::{self, ExportOptions, UnitFile};
use systemd_fixtures::{EXAMPLES, every_mapping, example};

/// The `systemd-analyze` the build script found.
fn systemd_analyze() -> PathBuf {
    match option_env!("SYSTEMD_ANALYZE_FOUND") {
        Some(found) => PathBuf::from(found),
        None => panic!("no systemd-analyze was found when this was built"),
    }
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
#[cfg_attr(
    no_systemd_analyze,
    ignore = "systemd-analyze was not found when this was built (see the README's Tests section)"
)]
fn every_exported_set_passes_systemd_analyze_verify() {
    let analyze = systemd_analyze();
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
#[cfg_attr(
    no_systemd_analyze,
    ignore = "systemd-analyze was not found when this was built (see the README's Tests section)"
)]
fn verify_really_checks_the_units_a_missing_program_fails_it() {
    let analyze = systemd_analyze();
    let fixture = Fixture::new();
    let (spec, _) = example("hero_proxy");
    fixture.install(std::iter::empty()); // only the waiter: hero_proxy_server is missing
    let units = systemd::export(&[spec], &fixture.options()).unwrap();
    let (ok, output) = fixture.verify(&analyze, &units);
    assert!(!ok, "verify accepted a unit whose program does not exist:\n{output}");
    assert!(output.contains("hero_proxy_server"), "{output}");
}
