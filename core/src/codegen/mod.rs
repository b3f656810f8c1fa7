//! Turns a validated manifest into the items `service_manifest!` expands to.
//!
//! The generator does no I/O and never fails: the macro (or a build script) reads the
//! file, calls [`crate::parse_or_salvage`], then [`expand`] on success or
//! [`expand_errors`] on failure. Generated paths go through `<krate>::__private` so a
//! renamed dependency keeps working. Generated code decodes nothing at run time and
//! has no panic path: the registration is spelled out as builder calls
//! (`registration.rs`) and the manifest as static data (`data.rs`).

mod data;
mod fallback;
mod items;
mod registration;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

pub use fallback::expand_errors;

use crate::ident::variant_name;
use crate::model::Manifest;

/// Where generated code finds the runtime, and which file to track for rebuilds.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The path of the facade crate (`::service_manifest`, or `$crate` through the shim).
    pub krate: TokenStream,
    /// Absolute path of the manifest, embedded with `include_bytes!` so editing it
    /// triggers a rebuild. `None` in build scripts, which use `rerun-if-changed`.
    pub tracked_file: Option<String>,
    /// More files to track the same way: the dependencies' manifests that were checked.
    pub also_tracked: Vec<String>,
    /// The span generated items get (the path literal's span in the macro).
    pub span: Span,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            krate: quote!(::service_manifest),
            tracked_file: None,
            also_tracked: Vec::new(),
            span: Span::call_site(),
        }
    }
}

/// The enum variant for a binary or profile name, as an identifier.
fn variant(name: &str) -> proc_macro2::Ident {
    format_ident!("{}", variant_name(name))
}

/// The one name every generated path starts from: a private alias of `<krate>::__private`.
fn alias() -> TokenStream {
    quote!(__service_manifest)
}

fn prelude(settings: &Settings) -> TokenStream {
    let (k, sm) = (&settings.krate, alias());
    let tracked: Vec<&String> = settings.tracked_file.iter().chain(&settings.also_tracked).collect();
    quote! {
        #(const _: &[u8] = ::core::include_bytes!(#tracked);)*
        #[doc(hidden)]
        #[allow(unused_imports)]
        use #k::__private as #sm;
    }
}

/// The items for a valid manifest.
pub fn expand(manifest: &Manifest, settings: &Settings) -> TokenStream {
    let prelude = prelude(settings);
    let items = items::expand(manifest);
    let data = data::expand(manifest);
    let registration = registration::expand(manifest);
    quote! {
        #prelude
        #items
        #data
        #registration
    }
}

/// Formats generated tokens as Rust source (for build scripts and golden files).
#[cfg(feature = "build-script")]
pub fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}
