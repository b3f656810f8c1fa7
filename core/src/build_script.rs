//! Running the generator from a build script instead of the proc macro.
//!
//! In `build.rs`:
//!
//! ```no_run
//! if let Err(e) = service_manifest_core::build_script::generate("service.toml", "service_manifest.rs") {
//!     eprintln!("{e}");
//!     std::process::exit(1);
//! }
//! ```
//!
//! and in the crate: `mod service { include!(concat!(env!("OUT_DIR"), "/service_manifest.rs")); }`.

use std::path::{Path, PathBuf};

use crate::codegen::{Settings, expand, pretty};
use crate::cross::SEARCH_PATH_VAR;
use crate::{Options, Severity};

/// Reads `manifest` (relative to `CARGO_MANIFEST_DIR`), validates it and writes the
/// generated items to `OUT_DIR/out_name`, touching the file only when its content
/// changes. Returns the written path, or every error rendered with its location.
///
/// As with the macro, dependencies whose manifests are found on `SERVICE_MANIFEST_PATH`
/// are checked against them; a build script also tells cargo to rerun when that
/// variable or one of those files changes.
pub fn generate(manifest: impl AsRef<Path>, out_name: &str) -> Result<PathBuf, String> {
    let var = |name: &str| {
        std::env::var_os(name).map(PathBuf::from).ok_or(format!("{name} is not set; run from a build script"))
    };
    let (crate_dir, out_dir) = (var("CARGO_MANIFEST_DIR")?, var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", crate_dir.join(manifest.as_ref()).display());
    println!("cargo:rerun-if-env-changed={SEARCH_PATH_VAR}");
    let mut options = Options::strict();
    options.default_service_name = std::env::var("CARGO_PKG_NAME").ok();
    if let Some(dirs) = std::env::var_os(SEARCH_PATH_VAR) {
        let dirs = std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty());
        options.search_path = dirs.map(|d| crate_dir.join(d)).collect();
    }
    let (result, read) = generate_with(&crate_dir, manifest.as_ref(), &options, &out_dir.join(out_name));
    for file in read {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    result
}

/// [`generate`] with every input explicit, for callers outside cargo (no search path).
pub fn generate_into(
    crate_dir: &Path,
    manifest: &Path,
    default_service_name: Option<&str>,
    out_file: &Path,
) -> Result<PathBuf, String> {
    let mut options = Options::strict();
    options.default_service_name = default_service_name.map(Into::into);
    generate_with(crate_dir, manifest, &options, out_file).0
}

/// The result, and every dependency manifest read (to rerun when one changes).
fn generate_with(
    crate_dir: &Path,
    manifest: &Path,
    options: &Options,
    out_file: &Path,
) -> (Result<PathBuf, String>, Vec<PathBuf>) {
    let display = manifest.display().to_string();
    let source = match std::fs::read_to_string(crate_dir.join(manifest)) {
        Ok(source) => source,
        Err(e) => return (Err(format!("cannot read {display}: {e}")), Vec::new()),
    };
    let checked = match crate::parse_or_salvage(&source, options) {
        Ok(checked) => checked,
        Err(failed) => {
            let rendered = failed
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| format!("error: {}", d.render(&display, &source)))
                .collect::<String>();
            return (Err(rendered), failed.dependency_files);
        }
    };
    let code = pretty(expand(&checked.manifest, &Settings::default()));
    let written = if std::fs::read_to_string(out_file).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(out_file, code).map_err(|e| format!("cannot write {}: {e}", out_file.display()))
    } else {
        Ok(())
    };
    (written.map(|()| out_file.to_path_buf()), checked.dependency_files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_script_checks_dependencies_on_the_search_path_and_reports_the_files_read() {
        let dir = std::env::temp_dir().join(format!("sm-build-script-{}", std::process::id()));
        let deps = dir.join("deps");
        std::fs::create_dir_all(deps.join("p")).unwrap();
        std::fs::write(
            deps.join("p/service.toml"),
            "[service]\nname = \"p\"\n[[binaries]]\nname = \"p_server\"\nkind = \"server\"\nsocket = \"p.sock\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("service.toml"), "[service]\nname = \"s\"\n[[binaries]]\nname = \"s_server\"\nkind = \"server\"\n[[dependencies]]\nrepo = \"p\"\nbin = \"p_server\"\nsocket = \"q.sock\"\n").unwrap();
        let options = Options::strict().search_path([deps.clone()]);
        let (result, read) = generate_with(&dir, Path::new("service.toml"), &options, &dir.join("out.rs"));
        let _ = std::fs::remove_dir_all(&dir);
        let error = result.unwrap_err();
        assert!(error.contains("`p_server` of `p` serves `p.sock` (per p/service.toml), not `q.sock`"), "{error}");
        assert_eq!(read, [deps.join("p/service.toml")]);
    }
}
