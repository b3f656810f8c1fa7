//! Random and mutated manifests through parsing, validation and code generation:
//! nothing may panic, every rejected input must carry at least one located error, and
//! every expansion (valid or fallback) must parse as a Rust file.

use proptest::prelude::*;
use service_manifest_core::codegen::{Settings, expand, expand_errors};
use service_manifest_core::{Options, Severity, parse_or_salvage};

const SEED: &str = include_str!("../../examples/hero_collab/service.toml");
const LIVEKIT: &str = include_str!("../../examples/hero_livekit/service.toml");
const PROFILES: &str = include_str!("../../tests/ui/fixtures/pass/profiles.toml");

fn assert_parses(tokens: proc_macro2::TokenStream, source: &str) {
    if let Err(e) = syn::parse2::<syn::File>(tokens) {
        panic!("the expansion is not valid Rust ({e}) for:\n{source}");
    }
}

fn run(source: &str) {
    match parse_or_salvage(source, &Options::strict().default_service_name("pkg")) {
        Ok(checked) => {
            assert_parses(expand(&checked.manifest, &Settings::default()), source);
        }
        Err(failed) => {
            let errors: Vec<_> = failed.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
            assert!(!errors.is_empty(), "rejected without an error:\n{source}");
            for e in &errors {
                assert!(e.span.is_some(), "unlocated error {e:?} for:\n{source}");
                let text = e.render("service.toml", source).to_string();
                assert!(text.contains("--> service.toml:"), "{text}");
            }
            let owned: Vec<_> = errors.into_iter().cloned().collect();
            assert_parses(expand_errors(&owned, &failed.salvage, "service.toml", source, &Settings::default()), source);
        }
    }
}

/// A line-level mutation of a valid manifest: delete, duplicate, or replace a line.
fn mutated(seed: &'static str) -> impl Strategy<Value = String> {
    let lines: Vec<&'static str> = seed.lines().collect();
    let n = lines.len();
    let fragments = prop_oneof![
        Just("kind = \"daemon\"".to_owned()),
        Just("after = [\"hero_collab\"]".to_owned()),
        Just("spawned_by = \"nobody\"".to_owned()),
        Just("[[binaries]]".to_owned()),
        Just("[[dependencies]]".to_owned()),
        Just("socket = \"\"".to_owned()),
        Just("start_timeout = 5".to_owned()),
        Just("crate = \"x\"".to_owned()),
        Just("profiles = [\"debug\"]".to_owned()),
        Just("profiles = [\"proxy-auth\", \"Proxy_Auth\"]".to_owned()),
        Just("description = \"a \\\"quoted\\\" */ line\"".to_owned()),
        "[a-z_]{1,12} = \"[ -~]{0,12}\"",
        "[ -~]{0,40}",
    ];
    proptest::collection::vec((0..n, 0u8..3, fragments), 1..6).prop_map(move |edits| {
        let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        for (at, op, text) in edits {
            let at = at.min(out.len().saturating_sub(1));
            match op {
                0 if !out.is_empty() => {
                    out.remove(at);
                }
                1 => out.insert(at, text),
                _ if !out.is_empty() => out[at] = text,
                _ => out.push(text),
            }
        }
        out.join("\n")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,300}") {
        run(&source);
    }

    #[test]
    fn mutated_collab_manifest_never_panics(source in mutated(SEED)) {
        run(&source);
    }

    #[test]
    fn mutated_profiles_manifest_never_panics(source in mutated(PROFILES)) {
        run(&source);
    }

    #[test]
    fn mutated_livekit_manifest_never_panics(source in mutated(LIVEKIT)) {
        run(&source);
    }
}
