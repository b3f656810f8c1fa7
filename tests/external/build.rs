//! Finds the programs the suites need; for one that is missing, sets `cfg(no_zinit)` or
//! `cfg(no_systemd_analyze)`, which marks its tests ignored with the reason.
//!
//! Found again when `ZINIT_SERVER`, `PATH`, `HOME` or `XDG_CACHE_HOME` change, or the
//! program found is replaced. After installing a missing one by hand without changing
//! any of those, `touch tests/external/build.rs` (`.ci/run` builds from a clean clone).

use std::path::{Path, PathBuf};

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Where the zinit tests look, in this order: `ZINIT_SERVER`, the cache `.ci/run`
/// installs into, `PATH`.
fn zinit_server() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ZINIT_SERVER") {
        return Some(path.into()).filter(|p: &PathBuf| p.is_file());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")));
    let cached = cache.map(|c| c.join("service_manifest/zinit-0.3.9/bin/zinit-server")).filter(|p| p.is_file());
    cached.or_else(|| on_path("zinit-server"))
}

fn main() {
    for var in ["ZINIT_SERVER", "PATH", "HOME", "XDG_CACHE_HOME"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(no_zinit, no_systemd_analyze)");
    match zinit_server() {
        Some(found) => {
            println!("cargo::rerun-if-changed={}", found.display());
            println!("cargo::rustc-env=ZINIT_SERVER_FOUND={}", found.display());
        }
        None => println!("cargo::rustc-cfg=no_zinit"),
    }
    match on_path("systemd-analyze") {
        Some(found) => println!("cargo::rustc-env=SYSTEMD_ANALYZE_FOUND={}", found.display()),
        None => println!("cargo::rustc-cfg=no_systemd_analyze"),
    }
}
