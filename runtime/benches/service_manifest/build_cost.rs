//! Section 5: what the macro costs a build: a clean debug build of the macro crate and
//! its dependencies, and rebuilding an example after touching its `service.toml`, in
//! a private target directory.

use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

use crate::machine::{load, workspace};

pub fn run() -> Value {
    println!("\n5. build cost (debug profile, private target directory)");
    let load_before = load();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = tempfile::Builder::new().prefix("smt").tempdir().expect("tempdir");
    let build = |args: &[&str]| {
        let t = Instant::now();
        let status = Command::new(&cargo)
            .args(args)
            .current_dir(workspace())
            .env("CARGO_TARGET_DIR", target.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("cargo");
        assert!(status.success(), "cargo {args:?} failed");
        t.elapsed().as_secs_f64()
    };
    let macros = build(&["build", "-p", "service_manifest_macros"]);
    build(&["build", "--example", "hero_proxy"]);
    let manifest = workspace().join("examples/hero_proxy/service.toml");
    let touch = || {
        let file = std::fs::File::options().append(true).open(&manifest).expect("manifest");
        file.set_modified(std::time::SystemTime::now()).expect("touch");
    };
    let mut rebuilds = Vec::new();
    for _ in 0..3 {
        touch();
        rebuilds.push(build(&["build", "--example", "hero_proxy"]));
    }
    rebuilds.sort_by(f64::total_cmp);
    let noop = build(&["build", "--example", "hero_proxy"]);
    let rebuild = rebuilds[1];
    println!("   clean build of the macro crate and its dependencies: {macros:.1}s");
    println!("   cargo build --example hero_proxy after touching service.toml: {rebuild:.2}s (no-op build {noop:.2}s)");
    json!({ "clean_macro_build_s": macros, "rebuild_after_touch_s": rebuild, "rebuilds_s": rebuilds,
            "noop_build_s": noop, "load_before": load_before, "load_after": load() })
}
