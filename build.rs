//! Exercises the build-script path of the generator on a real manifest; the result
//! is included by `tests/build_script.rs`.

fn main() {
    if let Err(error) =
        service_manifest_core::build_script::generate("examples/hero_proxy/service.toml", "hero_proxy_manifest.rs")
    {
        eprintln!("{error}");
        std::process::exit(1);
    }
}
