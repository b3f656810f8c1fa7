//! Golden files of the generated code, checked outside rustc (as progenitor does).
//! The registration is spelled out edge by edge, so a change in how `depends_on` is
//! derived changes these files and fails the test. `GOLDEN=overwrite cargo test`
//! rewrites them; read the diff.

use std::path::Path;

use service_manifest_core::codegen::{Settings, expand, pretty};
use service_manifest_core::{Options, parse};

/// `manifest` is relative to the workspace root; the golden file is `golden/<name>.rs`.
fn check(name: &str, manifest: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = std::fs::read_to_string(root.join(manifest)).unwrap();
    let manifest = parse(&source, &Options::strict()).unwrap().manifest;
    let generated = pretty(expand(&manifest, &Settings::default()));
    for banned in ["serde_json", "unwrap", "expect(", "panic!", "LazyLock"] {
        assert!(!generated.contains(banned), "{name}: generated code mentions `{banned}`");
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.rs"));
    if std::env::var_os("GOLDEN").is_some_and(|v| v == "overwrite") {
        std::fs::write(&golden, &generated).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(expected == generated, "{} differs; rerun with GOLDEN=overwrite and read the diff", golden.display());
}

#[test]
fn hero_collab_generated_code() {
    check("hero_collab", "examples/hero_collab/service.toml");
}

#[test]
fn hero_livekit_generated_code() {
    check("hero_livekit", "examples/hero_livekit/service.toml");
}

#[test]
fn hero_proxy_generated_code() {
    check("hero_proxy", "examples/hero_proxy/service.toml");
}

#[test]
fn profiles_generated_code() {
    check("profiles", "tests/ui/fixtures/pass/profiles.toml");
}
