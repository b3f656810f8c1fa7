//! The entry points: strict parsing for the macro and build scripts, lenient loading
//! for readers at run time.

use std::path::{Path, PathBuf};

use crate::context::{Ctxt, Strictness};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ident::variant_name;
use crate::model::Manifest;
use crate::schema::At;
use crate::validate::name_problem;
use crate::vocab::BinaryKind;

/// How to read a manifest.
#[derive(Clone, Debug)]
pub struct Options {
    /// The service name to use when `[service] name` is absent (the macro passes the
    /// compiling crate's package name).
    pub default_service_name: Option<String>,
    /// Whether unknown keys are errors or warnings.
    pub strictness: Strictness,
    /// Directories holding other services' manifests; each dependency found there is
    /// checked against it (see [`crate::cross`]). Empty: no such check.
    pub search_path: Vec<PathBuf>,
}

impl Options {
    /// Unknown keys are errors, and `[service] name` is required.
    pub fn strict() -> Self {
        Self { default_service_name: None, strictness: Strictness::Strict, search_path: Vec::new() }
    }

    /// Unknown keys are warnings, so an older reader never rejects a newer file.
    pub fn lenient() -> Self {
        Self { default_service_name: None, strictness: Strictness::Lenient, search_path: Vec::new() }
    }

    /// Sets the directories searched for dependencies' manifests.
    pub fn search_path(mut self, dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        self.search_path = dirs.into_iter().collect();
        self
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
    /// The dependencies' manifests read from the search path (to rebuild on change).
    pub dependency_files: Vec<PathBuf>,
}

/// What could still be read from a manifest that has errors: enough for the macro's
/// stub items to keep every name the user's code may mention, so one manifest mistake
/// yields the manifest's errors and nothing else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Salvage {
    /// The service name, if one was read.
    pub service_name: Option<String>,
    /// Every binary whose name is well formed, with its kind when that parsed; at most
    /// one per Rust identifier (the first), so the stub enum always compiles.
    pub binaries: Vec<(String, Option<BinaryKind>)>,
    /// Every well-formed declared profile, one per Rust identifier.
    pub profiles: Vec<String>,
}

/// A manifest that failed: every error, and what could still be read.
#[derive(Clone, Debug)]
pub struct Failed {
    /// Every diagnostic, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The names that parsed.
    pub salvage: Salvage,
    /// The dependencies' manifests read from the search path (to rebuild on change).
    pub dependency_files: Vec<PathBuf>,
}

/// Parses and validates `source`; on failure returns every error found, in file order.
pub fn parse(source: &str, options: &Options) -> Result<Checked, Vec<Diagnostic>> {
    parse_or_salvage(source, options).map_err(|failed| failed.diagnostics)
}

/// [`parse`], but a failure also carries the names that did parse (for the macro's
/// fallback items).
///
/// ```
/// use service_manifest_core::{parse_or_salvage, Options};
/// let toml = "[service]\nname = \"s\"\n[[binaries]]\nname = \"s_server\"\nkind = \"server\"\nstart_timout = \"1s\"\n";
/// let failed = parse_or_salvage(toml, &Options::strict()).unwrap_err();
/// assert_eq!(failed.salvage.binaries[0].0, "s_server");
/// ```
pub fn parse_or_salvage(source: &str, options: &Options) -> Result<Checked, Failed> {
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
    let dependency_files = crate::cross::check(&raw, &options.search_path, &mut cx);
    let failed = cx.has_errors();
    let mut diagnostics = cx.finish();
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    if failed {
        let salvage = salvage(&raw, name.map(|n| n.value));
        return Err(Failed { diagnostics, salvage, dependency_files });
    }
    let manifest = crate::lower::lower(raw, name.map(|n| n.value).unwrap_or_default());
    Ok(Checked { manifest, warnings: diagnostics, dependency_files })
}

fn salvage(raw: &crate::schema::RawManifest, service_name: Option<String>) -> Salvage {
    let mut idents = std::collections::HashSet::new();
    let mut usable = |name: &str| name_problem(name).is_none() && idents.insert(("b", variant_name(name)));
    let binaries = raw
        .binaries
        .iter()
        .filter_map(|b| {
            let name = &b.name.as_ref()?.value;
            usable(name).then(|| (name.clone(), b.kind.as_ref().map(|k| k.value)))
        })
        .collect();
    let profiles = raw
        .profiles
        .iter()
        .filter(|p| name_problem(&p.value).is_none() && idents.insert(("p", variant_name(&p.value))))
        .map(|p| p.value.clone())
        .collect();
    Salvage { service_name, binaries, profiles }
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
