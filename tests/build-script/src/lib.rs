//! The build-script path produces the same items as the macro: one module of each.

mod from_build_script {
    include!(concat!(env!("OUT_DIR"), "/hero_proxy_manifest.rs"));
}

mod from_macro {
    service_manifest::service_manifest!("../../examples/hero_proxy/service.toml");
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use service_manifest_core::build_script::generate_into;

    use super::{from_build_script, from_macro};

    #[test]
    fn build_script_output_matches_the_macro() {
        assert_eq!(from_build_script::service_builder(), from_macro::service_builder());
        assert_eq!(from_build_script::MANIFEST, from_macro::MANIFEST);
        assert_eq!(from_build_script::Binary::HeroProxyServer.name(), from_macro::Binary::HeroProxyServer.name());
    }

    #[test]
    fn unchanged_output_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = Path::new("../../examples/hero_proxy/service.toml");
        let out = dir.path().join("out.rs");
        let generate = || generate_into(crate_dir, manifest, None, &out).unwrap();
        generate();
        let first = std::fs::metadata(&out).unwrap().modified().unwrap();
        generate();
        assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), first);
    }

    #[test]
    fn invalid_manifest_is_reported_with_its_location() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("service.toml"), "[[binaries]]\nname = \"b\"\nkind = \"demon\"\n").unwrap();
        let err =
            generate_into(dir.path(), Path::new("service.toml"), Some("pkg"), &dir.path().join("out.rs")).unwrap_err();
        assert!(err.contains("--> service.toml:3:8"), "{err}");
    }
}
