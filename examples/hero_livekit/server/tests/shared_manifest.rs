//! Two crates of one service, one `service.toml`: the `hero_livekit` example (the root
//! crate) names it `"examples/hero_livekit/service.toml"` relative to the root, this crate
//! `"../service.toml"` relative to its own directory. Both must be the same file, and what
//! this crate generated from it must be what anyone reads from that file.
//!
//! (This test lives here rather than in the root crate: as a dev-dependency of the root,
//! this crate would also be built by the root's trybuild suite, whose
//! `SERVICE_MANIFEST_DIR` override points every relative path at the root.)

use std::path::{Path, PathBuf};

use service_manifest::__private::core as manifest_core;
use service_manifest::ServiceBuilder;

fn this_crate() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The path the example's `service_manifest!` names, resolved as the macro resolves it.
fn the_examples_manifest() -> PathBuf {
    let root = this_crate().join("../../..");
    let main = std::fs::read_to_string(root.join("examples/hero_livekit/main.rs")).expect("the example's main.rs");
    let call = main.split("service_manifest!(\"").nth(1).expect("the example calls service_manifest!");
    let path = call.split('"').next().expect("a string literal");
    root.join(path)
}

#[test]
fn the_example_and_this_crate_name_the_same_file() {
    let ours = this_crate().join("../service.toml").canonicalize().expect("../service.toml");
    let theirs = the_examples_manifest().canonicalize().expect("the example's manifest");
    assert_eq!(ours, theirs);
}

#[test]
fn what_this_crate_generated_is_what_the_file_says() {
    let loaded = manifest_core::load_lenient(&the_examples_manifest(), Some("hero_livekit")).expect("loads");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.manifest, hero_livekit_server::MANIFEST);
    // The registration the example hands the supervisor, derived at run time from the
    // file, is the one this crate's expansion spelled out at compile time.
    assert_eq!(ServiceBuilder::from_manifest(&loaded.manifest), hero_livekit_server::service_builder());
    let names: Vec<&str> = hero_livekit_server::INSTALL_ONLY.iter().map(|b| b.name()).collect();
    assert_eq!(names, ["lk-backend", "hero_do_hero_livekit"]);
}
