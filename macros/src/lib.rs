//! The `service_manifest!` proc macro. Use it through the `service_manifest` crate,
//! whose `macro_rules!` shim passes its own path in as `krate`.
//!
//! This crate only resolves the file and hands it to `service_manifest_core`;
//! everything that can be tested without a compiler lives there.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use service_manifest_core::codegen::{self, Settings};
use service_manifest_core::{Diagnostic, Options, Salvage};
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// Overrides `CARGO_MANIFEST_DIR` as the base of relative manifest paths; the UI
/// tests need it because trybuild compiles each case in its own scratch crate.
const BASE_DIR_OVERRIDE: &str = "SERVICE_MANIFEST_DIR";

/// `krate = <path>, path = "service.toml"`, as written by the facade's shim.
struct Input {
    krate: TokenStream,
    path: LitStr,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let _: syn::Ident = input.parse()?;
        let _: Token![=] = input.parse()?;
        let mut krate = TokenStream::new();
        while !input.peek(Token![,]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        let _: Token![,] = input.parse()?;
        let _: syn::Ident = input.parse()?;
        let _: Token![=] = input.parse()?;
        let path = input.parse()?;
        let _: Option<Token![,]> = input.parse()?;
        Ok(Self { krate, path })
    }
}

#[doc(hidden)]
#[proc_macro]
pub fn expand(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    match syn::parse::<Input>(input) {
        Ok(input) => expand_input(input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand_input(input: Input) -> TokenStream {
    let written = input.path.value();
    let mut settings =
        Settings { krate: input.krate, tracked_file: None, also_tracked: Vec::new(), span: input.path.span() };
    let Some(base) = base_dir() else {
        return stub(&written, "CARGO_MANIFEST_DIR is not set; build with cargo", &settings);
    };
    let full = base.join(&written);
    let source = match std::fs::read_to_string(&full) {
        Ok(source) => source,
        Err(error) => {
            return stub(&written, &format!("cannot read `{written}`: {error}"), &settings);
        }
    };
    settings.tracked_file = Some(full.to_string_lossy().into_owned());
    let mut options = Options::strict();
    options.default_service_name = std::env::var("CARGO_PKG_NAME").ok();
    options.search_path = search_path(&base);
    let lossy = |files: Vec<PathBuf>| files.into_iter().map(|f| f.to_string_lossy().into_owned()).collect();
    match service_manifest_core::parse_or_salvage(&source, &options) {
        Ok(checked) => {
            settings.also_tracked = lossy(checked.dependency_files);
            codegen::expand(&checked.manifest, &settings)
        }
        Err(failed) => {
            settings.also_tracked = lossy(failed.dependency_files);
            codegen::expand_errors(&failed.diagnostics, &failed.salvage, display_name(&written), &source, &settings)
        }
    }
}

/// The directories of `SERVICE_MANIFEST_PATH` (separated like `PATH`); a relative one
/// is taken relative to the crate's directory, as the manifest path is.
fn search_path(base: &Path) -> Vec<PathBuf> {
    match std::env::var_os(service_manifest_core::cross::SEARCH_PATH_VAR) {
        Some(value) => {
            std::env::split_paths(&value).filter(|d| !d.as_os_str().is_empty()).map(|d| base.join(d)).collect()
        }
        None => Vec::new(),
    }
}

fn base_dir() -> Option<PathBuf> {
    std::env::var_os(BASE_DIR_OVERRIDE).or_else(|| std::env::var_os("CARGO_MANIFEST_DIR")).map(PathBuf::from)
}

/// The path as the user wrote it: relative, so messages carry no machine paths.
fn display_name(written: &str) -> &str {
    let p = Path::new(written);
    if p.is_absolute() { p.file_name().and_then(|n| n.to_str()).unwrap_or(written) } else { written }
}

fn stub(written: &str, message: &str, settings: &Settings) -> TokenStream {
    let error = Diagnostic::unlocated(message.to_owned())
        .help("the path is relative to the crate's Cargo.toml directory (CARGO_MANIFEST_DIR), as with askama and sqlx");
    let tokens = codegen::expand_errors(&[error], &Salvage::default(), display_name(written), "", settings);
    quote!(#tokens)
}
