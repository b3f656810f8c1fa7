//! Turns a validated manifest into the items `service_manifest!` expands to.
//!
//! The generator does no I/O and never fails: the macro (or a build script) reads the
//! file, calls [`crate::parse`], then [`expand`] on success or [`expand_errors`] on
//! failure. Generated paths go through `<krate>::__private` so a renamed dependency
//! keeps working.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::diagnostic::Diagnostic;
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
    /// The span generated items get (the path literal's span in the macro).
    pub span: Span,
}

impl Default for Settings {
    fn default() -> Self {
        Self { krate: quote!(::service_manifest), tracked_file: None, span: Span::call_site() }
    }
}

/// The enum variant for a binary (or kind) name, as an identifier.
fn variant(name: &str) -> proc_macro2::Ident {
    format_ident!("{}", variant_name(name))
}

/// The one name every generated path starts from: a private alias of `<krate>::__private`.
fn alias() -> TokenStream {
    quote!(__service_manifest)
}

fn prelude(settings: &Settings) -> TokenStream {
    let (k, sm) = (&settings.krate, alias());
    let tracked = tracked(settings);
    quote! {
        #tracked
        #[doc(hidden)]
        #[allow(unused_imports)]
        use #k::__private as #sm;
    }
}

/// The items for a valid manifest.
pub fn expand(manifest: &Manifest, settings: &Settings) -> TokenStream {
    let sm = alias();
    let prelude = prelude(settings);
    let name = manifest.service.name.as_ref();
    let variants: Vec<_> = manifest.binaries.iter().map(|b| variant(&b.name)).collect();
    let names: Vec<&str> = manifest.binaries.iter().map(|b| b.name.as_ref()).collect();
    let kinds: Vec<_> = manifest.binaries.iter().map(|b| variant(b.kind.as_str())).collect();
    // Arms only for the few spawned binaries; every other binary falls to `_ => None`.
    let spawned = manifest.binaries.iter().filter_map(|b| {
        let (child, parent) = (variant(&b.name), b.spawned_by.as_deref()?);
        let parent = variant(parent);
        Some(quote!(Self::#child => #sm::Some(Self::#parent),))
    });
    let started: Vec<_> = manifest.started().map(|b| variant(&b.name)).collect();
    let install_only: Vec<_> = manifest.install_only().map(|b| variant(&b.name)).collect();
    // The model as JSON: one literal instead of hundreds of tokens a binary, which is
    // what an expansion's cost is made of. Serialising plain data cannot fail.
    let embedded = serde_json::to_string(manifest).unwrap_or_default();
    quote! {
        #prelude

        /// The service's name, from `[service] name` (or the package name).
        #[allow(dead_code)]
        pub const SERVICE_NAME: &str = #name;

        /// The binaries declared in `service.toml`.
        #[allow(dead_code)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Binary { #(#variants,)* }

        #[allow(dead_code)]
        impl Binary {
            /// Every binary, in file order.
            pub const ALL: &'static [Binary] = &[#(Self::#variants),*];

            /// The binary's name in `service.toml`.
            pub const fn name(self) -> &'static str {
                match self { #(Self::#variants => #names,)* }
            }

            /// The binary's kind.
            pub const fn kind(self) -> #sm::core::BinaryKind {
                use #sm::core::BinaryKind as K;
                match self { #(Self::#variants => K::#kinds,)* }
            }

            /// The sibling that spawns and owns this binary, if any.
            #[allow(clippy::match_single_binding)]
            pub const fn spawned_by(self) -> #sm::Option<Binary> {
                match self { #(#spawned)* _ => #sm::None }
            }

            /// Whether the supervisor starts this binary (a daemon kind, not spawned by a sibling).
            pub const fn is_started(self) -> bool {
                #sm::core::is_started(self.kind(), self.spawned_by().is_some())
            }

            /// Looks a binary up by its `service.toml` name.
            pub fn from_name(name: &str) -> #sm::Option<Self> {
                Self::ALL.iter().copied().find(|b| b.name() == name)
            }
        }

        /// The binaries the supervisor starts.
        #[allow(dead_code)]
        pub const STARTED: &[Binary] = &[#(Binary::#started),*];

        /// The binaries that are installed but never started.
        #[allow(dead_code)]
        pub const INSTALL_ONLY: &[Binary] = &[#(Binary::#install_only),*];

        /// The validated manifest, decoded once on first use from the copy the macro embedded.
        #[allow(dead_code)]
        pub static MANIFEST: #sm::LazyLock<#sm::core::Manifest> =
            #sm::LazyLock::new(|| #sm::runtime::decode_embedded(#embedded));

        /// The registration for the supervisor: one action per started binary, each
        /// carrying its `depends_on` edges. Install-only binaries have no action.
        #[allow(dead_code)]
        pub fn service_builder() -> #sm::runtime::ServiceBuilder {
            #sm::runtime::ServiceBuilder::from_manifest(&MANIFEST)
        }
    }
}

/// `compile_error!` for every diagnostic, plus stub items so the caller's code
/// does not cascade into unrelated errors.
pub fn expand_errors(errors: &[Diagnostic], file_name: &str, source: &str, settings: &Settings) -> TokenStream {
    let (span, sm) = (settings.span, alias());
    let errors = errors.iter().filter(|d| d.severity == crate::Severity::Error).map(|d| {
        let text = d.render(file_name, source).to_string();
        quote::quote_spanned!(span=> ::core::compile_error!{ #text })
    });
    let prelude = prelude(settings);
    quote! {
        #prelude
        #(#errors)*
        /// Stub: the manifest has errors.
        #[allow(dead_code)]
        pub const SERVICE_NAME: &str = "";
        /// Stub: the manifest has errors.
        #[allow(dead_code)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Binary {}
        #[allow(dead_code)]
        impl Binary {
            /// Stub.
            pub const ALL: &'static [Binary] = &[];
            /// Stub.
            pub const fn name(self) -> &'static str { match self {} }
            /// Stub.
            pub const fn kind(self) -> #sm::core::BinaryKind { match self {} }
            /// Stub.
            pub const fn spawned_by(self) -> #sm::Option<Binary> { match self {} }
            /// Stub.
            pub const fn is_started(self) -> bool { match self {} }
            /// Stub.
            pub fn from_name(_: &str) -> #sm::Option<Self> { #sm::None }
        }
        /// Stub.
        #[allow(dead_code)]
        pub const STARTED: &[Binary] = &[];
        /// Stub.
        #[allow(dead_code)]
        pub const INSTALL_ONLY: &[Binary] = &[];
        /// Stub.
        #[allow(dead_code)]
        pub fn service_builder() -> #sm::runtime::ServiceBuilder {
            #sm::runtime::ServiceBuilder::new(SERVICE_NAME)
        }
    }
}

/// Formats generated tokens as Rust source (for build scripts and golden files).
pub fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}

fn tracked(settings: &Settings) -> TokenStream {
    match &settings.tracked_file {
        Some(path) => quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        ),
        None => TokenStream::new(),
    }
}
