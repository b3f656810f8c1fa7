//! Golden files of the generated code for the example manifests, checked outside
//! rustc (as progenitor does). `GOLDEN=overwrite cargo test` rewrites them; read the diff.

use std::path::Path;

use service_manifest_core::codegen::{Settings, expand, pretty};
use service_manifest_core::{Options, parse};

fn check(example: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = std::fs::read_to_string(root.join("examples").join(example).join("service.toml")).unwrap();
    let manifest = parse(&source, &Options::strict()).unwrap().manifest;
    let generated = pretty(expand(&manifest, &Settings::default()));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{example}.rs"));
    if std::env::var_os("GOLDEN").is_some_and(|v| v == "overwrite") {
        std::fs::write(&golden, &generated).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(expected == generated, "{} differs; rerun with GOLDEN=overwrite and read the diff", golden.display());
}

#[test]
fn hero_collab_generated_code() {
    check("hero_collab");
}

#[test]
fn hero_livekit_generated_code() {
    check("hero_livekit");
}

#[test]
fn hero_proxy_generated_code() {
    check("hero_proxy");
}
