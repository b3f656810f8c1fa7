//! The entry points: strict parsing for the macro and build scripts, lenient loading
//! for readers at run time.

use std::path::{Path, PathBuf};

use crate::context::{Ctxt, Strictness};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Manifest;
use crate::schema::At;

/// How to read a manifest.
#[derive(Clone, Debug)]
pub struct Options {
    /// The service name to use when `[service] name` is absent (the macro passes the
    /// compiling crate's package name).
    pub default_service_name: Option<String>,
    /// Whether unknown keys are errors or warnings.
    pub strictness: Strictness,
}

impl Options {
    /// Unknown keys are errors, and `[service] name` is required.
    pub fn strict() -> Self {
        Self { default_service_name: None, strictness: Strictness::Strict }
    }

    /// Unknown keys are warnings, so an older reader never rejects a newer file.
    pub fn lenient() -> Self {
        Self { default_service_name: None, strictness: Strictness::Lenient }
    }

    /// Sets the name used when the file has no `[service] name`.
    pub fn default_service_name(mut self, name: impl Into<String>) -> Self {
        self.default_service_name = Some(name.into());
        self
    }
}

/// A manifest that passed every check, with any warnings about it.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The validated manifest, defaults resolved.
    pub manifest: Manifest,
    /// Warnings (only the lenient loader produces them: ignored unknown keys).
    pub warnings: Vec<Diagnostic>,
}

/// Parses and validates `source`; on failure returns every error found, in file order.
pub fn parse(source: &str, options: &Options) -> Result<Checked, Vec<Diagnostic>> {
    let mut cx = Ctxt::new(options.strictness);
    let raw = crate::schema::read(source, &mut cx);
    let name = match (&raw.service_name, &options.default_service_name) {
        (Some(name), _) => Some(name.clone()),
        (None, Some(default)) => Some(At { value: default.clone(), span: 0..0 }),
        (None, None) => {
            cx.push(Diagnostic::error("the service has no name", 0..0).help("add `[service]` with `name = \"…\"`"));
            None
        }
    };
    crate::validate::check(&raw, source, name.as_ref(), &mut cx);
    let failed = cx.has_errors();
    let mut diagnostics = cx.finish();
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    if failed {
        return Err(diagnostics);
    }
    let manifest = crate::lower::lower(raw, name.map(|n| n.value).unwrap_or_default());
    Ok(Checked { manifest, warnings: diagnostics })
}

/// Why a manifest file could not be loaded at run time.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
    /// The file was read but is not a valid manifest; `rendered` holds every error.
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every error, each rendered with its location.
        rendered: String,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::Invalid { path, rendered } => {
                write!(f, "invalid manifest {}:\n{rendered}", path.display())
            }
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::Invalid { .. } => None,
        }
    }
}

/// Loads a manifest at run time: unknown keys become warnings, everything else is
/// checked as strictly as the macro does.
pub fn load_lenient(path: &Path, default_service_name: Option<&str>) -> Result<Checked, LoadError> {
    let source = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.into(), source })?;
    let mut options = Options::lenient();
    options.default_service_name = default_service_name.map(Into::into);
    parse(&source, &options).map_err(|errors| {
        let name = path.display().to_string();
        let rendered = errors
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("error: {}", d.render(&name, &source)))
            .collect();
        LoadError::Invalid { path: path.into(), rendered }
    })
}
