//! What a crate that uses only `service_manifest!` and the registration types compiles:
//! none of the supervisor's, the client's or the CLI's dependencies, and one major
//! version of syn. The crate is `tests/fixtures/macro-only/`, resolved on its own (not
//! as a workspace member, whose features would be unified with the facade's defaults)
//! by `cargo tree`, which reads the dependency graph without building anything.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// What only the `supervisor`, `client` and `cli` features may bring.
const RUNTIME_ONLY: &[&str] = &["tokio", "clap", "notify", "indicatif", "tracing-subscriber"];

/// A copy of the fixture whose dependency on the facade points at this checkout.
fn fixture() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = root.join("tests/fixtures/macro-only");
    let dir = tempfile::tempdir().unwrap();
    let relative = r#"path = "../../..""#;
    let manifest = std::fs::read_to_string(source.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(relative), "the fixture no longer names the facade as {relative}");
    let manifest = manifest.replace(relative, &format!("path = {:?}", root.to_string_lossy()));
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::copy(source.join("src/main.rs"), dir.path().join("src/main.rs")).unwrap();
    std::fs::copy(source.join("service.toml"), dir.path().join("service.toml")).unwrap();
    // The workspace's lock file pins what the workspace was built with, so with
    // `--offline` the resolution needs nothing that is not already on this machine.
    std::fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    dir
}

/// Every `(name, version)` the fixture's build compiles (normal and build-script
/// dependencies, proc macros and theirs included), with `args` added to `cargo tree`.
fn compiled(dir: &Path, args: &[&str]) -> BTreeSet<(String, String)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "--edges", "normal,build", "--prefix", "none", "--format", "{p}"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let crates: BTreeSet<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.trim_start_matches('v').to_owned()))
        })
        .collect();
    assert!(crates.iter().any(|(name, _)| name == "macro-only"), "no fixture in the tree: {crates:?}");
    crates
}

fn names(crates: &BTreeSet<(String, String)>) -> BTreeSet<&str> {
    crates.iter().map(|(name, _)| name.as_str()).collect()
}

fn syn_majors(crates: &BTreeSet<(String, String)>) -> BTreeSet<&str> {
    crates.iter().filter(|(name, _)| name == "syn").filter_map(|(_, version)| version.split('.').next()).collect()
}

#[test]
fn a_macro_only_crate_compiles_no_supervisor_client_or_cli_dependency() {
    let dir = fixture();
    let crates = compiled(dir.path(), &[]);
    let names = names(&crates);
    let present: Vec<_> = RUNTIME_ONLY.iter().filter(|n| names.contains(**n)).collect();
    assert!(present.is_empty(), "a macro-only crate compiles {present:?}");
    assert!(!names.contains("prettyplease"), "the proc macro builds prettyplease");
    assert_eq!(syn_majors(&crates).len(), 1, "syn majors: {:?}", syn_majors(&crates));
}

/// The check above would pass on an empty tree; this one shows the same query sees
/// the runtime's dependencies once a feature asks for them.
#[test]
fn the_cli_feature_brings_them_with_still_one_syn_major() {
    let dir = fixture();
    let crates = compiled(dir.path(), &["--features", "service_manifest/cli"]);
    let names = names(&crates);
    let missing: Vec<_> = RUNTIME_ONLY.iter().filter(|n| !names.contains(**n)).collect();
    assert!(missing.is_empty(), "the cli feature does not bring {missing:?}");
    assert!(!names.contains("prettyplease"), "the proc macro builds prettyplease");
    assert_eq!(syn_majors(&crates).len(), 1, "syn majors: {:?}", syn_majors(&crates));
}
