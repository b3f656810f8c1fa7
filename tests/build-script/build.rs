//! What a user's build script does (see the README), on the hero_proxy example.

fn main() {
    if let Err(errors) = service_manifest_core::build_script::generate(
        "../../examples/hero_proxy/service.toml",
        "hero_proxy_manifest.rs",
    ) {
        eprintln!("{errors}");
        std::process::exit(1);
    }
}
