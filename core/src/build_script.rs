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
use crate::{Options, Severity};

/// Reads `manifest` (relative to `CARGO_MANIFEST_DIR`), validates it and writes the
/// generated items to `OUT_DIR/out_name`, touching the file only when its content
/// changes. Returns the written path, or every error rendered with its location.
pub fn generate(manifest: impl AsRef<Path>, out_name: &str) -> Result<PathBuf, String> {
    let var = |name: &str| {
        std::env::var_os(name).map(PathBuf::from).ok_or(format!("{name} is not set; run from a build script"))
    };
    let (crate_dir, out_dir) = (var("CARGO_MANIFEST_DIR")?, var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", crate_dir.join(manifest.as_ref()).display());
    let package = std::env::var("CARGO_PKG_NAME").ok();
    generate_into(&crate_dir, manifest.as_ref(), package.as_deref(), &out_dir.join(out_name))
}

/// [`generate`] with every input explicit, for callers outside cargo.
pub fn generate_into(
    crate_dir: &Path,
    manifest: &Path,
    default_service_name: Option<&str>,
    out_file: &Path,
) -> Result<PathBuf, String> {
    let display = manifest.display().to_string();
    let source =
        std::fs::read_to_string(crate_dir.join(manifest)).map_err(|e| format!("cannot read {display}: {e}"))?;
    let mut options = Options::strict();
    options.default_service_name = default_service_name.map(Into::into);
    let checked = crate::parse(&source, &options).map_err(|errors| {
        errors
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("error: {}", d.render(&display, &source)))
            .collect::<String>()
    })?;
    let code = pretty(expand(&checked.manifest, &Settings::default()));
    if std::fs::read_to_string(out_file).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(out_file, code).map_err(|e| format!("cannot write {}: {e}", out_file.display()))?;
    }
    Ok(out_file.to_path_buf())
}
