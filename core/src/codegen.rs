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
use crate::model::{Binary, Manifest};
use crate::vocab::{BinaryKind, ReadyGate, Relation, RestartPolicy};

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

/// The items for a valid manifest.
pub fn expand(manifest: &Manifest, settings: &Settings) -> TokenStream {
    let k = &settings.krate;
    let core = quote!(#k::__private::core);
    let rt = quote!(#k::__private::runtime);
    let tracked = tracked(settings);
    let name = manifest.service.name.as_ref();
    let variants: Vec<_> = manifest.binaries.iter().map(|b| format_ident!("{}", variant_name(&b.name))).collect();
    let names: Vec<&str> = manifest.binaries.iter().map(|b| b.name.as_ref()).collect();
    let kinds: Vec<_> = manifest.binaries.iter().map(|b| kind(&core, b.kind)).collect();
    let parents: Vec<_> = manifest
        .binaries
        .iter()
        .map(|b| match b.spawned_by.as_deref() {
            Some(parent) => {
                let v = format_ident!("{}", variant_name(parent));
                quote!(::core::option::Option::Some(Self::#v))
            }
            None => quote!(::core::option::Option::None),
        })
        .collect();
    let started: Vec<_> = manifest.started().map(|b| format_ident!("{}", variant_name(&b.name))).collect();
    let install_only: Vec<_> = manifest.install_only().map(|b| format_ident!("{}", variant_name(&b.name))).collect();
    let manifest_const = manifest_tokens(&core, manifest);
    let actions = manifest.started().map(|b| action(&core, &rt, manifest, b));
    quote! {
        #tracked

        /// The service's name, from `[service] name` (or the package name).
        #[allow(dead_code)]
        pub const SERVICE_NAME: &str = #name;

        /// The binaries declared in `service.toml`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(dead_code)]
        pub enum Binary { #(#[doc = #names] #variants,)* }

        #[allow(dead_code)]
        impl Binary {
            /// Every binary, in file order.
            pub const ALL: &'static [Binary] = &[#(Self::#variants),*];

            /// The binary's name in `service.toml`.
            pub const fn name(self) -> &'static str {
                match self { #(Self::#variants => #names,)* }
            }

            /// The binary's kind.
            pub const fn kind(self) -> #core::BinaryKind {
                match self { #(Self::#variants => #kinds,)* }
            }

            /// The sibling that spawns and owns this binary, if any.
            pub const fn spawned_by(self) -> ::core::option::Option<Binary> {
                match self { #(Self::#variants => #parents,)* }
            }

            /// Whether the supervisor starts this binary (a daemon kind, not spawned by a sibling).
            pub const fn is_started(self) -> bool {
                #core::is_started(self.kind(), self.spawned_by().is_some())
            }

            /// Looks a binary up by its `service.toml` name.
            pub fn from_name(name: &str) -> ::core::option::Option<Self> {
                match name { #(#names => ::core::option::Option::Some(Self::#variants),)* _ => ::core::option::Option::None }
            }
        }

        /// The binaries the supervisor starts.
        #[allow(dead_code)]
        pub const STARTED: &[Binary] = &[#(Binary::#started),*];

        /// The binaries that are installed but never started.
        #[allow(dead_code)]
        pub const INSTALL_ONLY: &[Binary] = &[#(Binary::#install_only),*];

        /// The validated manifest, as static data.
        #[allow(dead_code)]
        pub const MANIFEST: #core::Manifest = #manifest_const;

        /// The registration for the supervisor: one action per started binary, each
        /// carrying its `depends_on` edges. Install-only binaries have no action.
        #[allow(dead_code)]
        pub fn service_builder() -> #rt::ServiceBuilder {
            #rt::ServiceBuilder::new(SERVICE_NAME) #(.action(#actions))*
        }
    }
}

/// `compile_error!` for every diagnostic, plus stub items so the caller's code
/// does not cascade into unrelated errors.
pub fn expand_errors(errors: &[Diagnostic], file_name: &str, source: &str, settings: &Settings) -> TokenStream {
    let span = settings.span;
    let k = &settings.krate;
    let errors = errors.iter().filter(|d| d.severity == crate::Severity::Error).map(|d| {
        let text = d.render(file_name, source).to_string();
        quote::quote_spanned!(span=> ::core::compile_error!{ #text })
    });
    let tracked = tracked(settings);
    quote! {
        #tracked
        #(#errors)*
        /// Stub: the manifest has errors.
        #[allow(dead_code)]
        pub const SERVICE_NAME: &str = "";
        /// Stub: the manifest has errors.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(dead_code)]
        pub enum Binary {}
        #[allow(dead_code)]
        impl Binary {
            /// Stub.
            pub const ALL: &'static [Binary] = &[];
            /// Stub.
            pub const fn name(self) -> &'static str { match self {} }
            /// Stub.
            pub const fn kind(self) -> #k::__private::core::BinaryKind { match self {} }
            /// Stub.
            pub const fn spawned_by(self) -> ::core::option::Option<Binary> { match self {} }
            /// Stub.
            pub const fn is_started(self) -> bool { match self {} }
            /// Stub.
            pub fn from_name(_: &str) -> ::core::option::Option<Self> { ::core::option::Option::None }
        }
        /// Stub.
        #[allow(dead_code)]
        pub const STARTED: &[Binary] = &[];
        /// Stub.
        #[allow(dead_code)]
        pub const INSTALL_ONLY: &[Binary] = &[];
        /// Stub.
        #[allow(dead_code)]
        pub fn service_builder() -> #k::__private::runtime::ServiceBuilder {
            #k::__private::runtime::ServiceBuilder::new(SERVICE_NAME)
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

fn kind(core: &TokenStream, kind: BinaryKind) -> TokenStream {
    let v = format_ident!("{}", variant_name(kind.as_str()));
    quote!(#core::BinaryKind::#v)
}

fn relation(core: &TokenStream, relation: Relation) -> TokenStream {
    let v = format_ident!("{}", variant_name(relation.as_str()));
    quote!(#core::Relation::#v)
}

fn ready(core: &TokenStream, ready: ReadyGate) -> TokenStream {
    let v = format_ident!("{}", variant_name(ready.as_str()));
    quote!(#core::ReadyGate::#v)
}

fn restart(core: &TokenStream, restart: RestartPolicy) -> TokenStream {
    let v = format_ident!("{}", variant_name(restart.as_str()));
    quote!(#core::RestartPolicy::#v)
}

fn action(core: &TokenStream, rt: &TokenStream, manifest: &Manifest, b: &Binary) -> TokenStream {
    let name = b.name.as_ref();
    let kind = kind(core, b.kind);
    let mut calls = Vec::new();
    if let Some(socket) = b.socket.as_deref() {
        calls.push(quote!(.socket(#socket)));
    }
    if !b.args.is_empty() {
        let args = b.args.iter().map(|a| a.as_ref());
        calls.push(quote!(.args([#(#args),*])));
    }
    for (key, value) in b.env.iter() {
        let (key, value) = (key.as_ref(), value.as_ref());
        calls.push(quote!(.env(#key, #value)));
    }
    let policy = restart(core, b.restart);
    calls.push(quote!(.restart(#policy)));
    if let Some(ms) = b.start_timeout_ms {
        calls.push(quote!(.start_timeout_ms(#ms)));
    }
    for edge in manifest.edges_of(b) {
        let service = edge.service;
        let mut dep = vec![quote!(#rt::ActionDep::new(#service))];
        if let Some(action) = edge.action {
            dep.push(quote!(.action(#action)));
        }
        if let Some(socket) = edge.socket {
            dep.push(quote!(.socket(#socket)));
        }
        let (rel, gate) = (relation(core, edge.relation), ready(core, edge.ready));
        dep.push(quote!(.relation(#rel).ready(#gate)));
        if let Some(ms) = edge.timeout_ms {
            dep.push(quote!(.timeout_ms(#ms)));
        }
        if let Some(krate) = edge.crate_name {
            dep.push(quote!(.crate_name(#krate)));
        }
        calls.push(quote!(.depends_on(#(#dep)*)));
    }
    quote!(#rt::ActionSpec::new(#name, #kind) #(#calls)*)
}

fn manifest_tokens(core: &TokenStream, m: &Manifest) -> TokenStream {
    let name = m.service.name.as_ref();
    let description = opt_text(m.service.description.as_deref());
    let binaries = m.binaries.iter().map(|b| {
        let (name, kind) = (b.name.as_ref(), kind(core, b.kind));
        let spawned_by = opt_text(b.spawned_by.as_deref());
        let socket = opt_text(b.socket.as_deref());
        let args = text_list(b.args.iter().map(|a| a.as_ref()));
        let env = b.env.iter().map(|(k, v)| {
            let (k, v) = (text(k), text(v));
            quote!((#k, #v))
        });
        let after = text_list(b.after.iter().map(|a| a.as_ref()));
        let timeout = opt_u64(b.start_timeout_ms);
        let policy = restart(core, b.restart);
        let description = opt_text(b.description.as_deref());
        quote!(#core::Binary {
            name: ::std::borrow::Cow::Borrowed(#name),
            kind: #kind,
            spawned_by: #spawned_by,
            socket: #socket,
            args: #args,
            env: ::std::borrow::Cow::Borrowed(&[#(#env),*]),
            after: #after,
            start_timeout_ms: #timeout,
            restart: #policy,
            description: #description,
        })
    });
    let dependencies = m.dependencies.iter().map(|d| {
        let repo = d.repo.as_ref();
        let (krate, bin, socket) =
            (opt_text(d.crate_name.as_deref()), opt_text(d.bin.as_deref()), opt_text(d.socket.as_deref()));
        let (rel, gate) = (relation(core, d.relation), ready(core, d.ready));
        let timeout = opt_u64(d.timeout_ms);
        let applies_to = text_list(d.applies_to.iter().map(|a| a.as_ref()));
        quote!(#core::Dependency {
            repo: ::std::borrow::Cow::Borrowed(#repo),
            crate_name: #krate,
            bin: #bin,
            socket: #socket,
            relation: #rel,
            ready: #gate,
            timeout_ms: #timeout,
            applies_to: #applies_to,
        })
    });
    quote!(#core::Manifest {
        service: #core::ServiceInfo { name: ::std::borrow::Cow::Borrowed(#name), description: #description },
        binaries: ::std::borrow::Cow::Borrowed(&[#(#binaries),*]),
        dependencies: ::std::borrow::Cow::Borrowed(&[#(#dependencies),*]),
    })
}

fn text(s: &str) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(#s))
}

fn opt_text(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => {
            let t = text(s);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn text_list<'a>(items: impl Iterator<Item = &'a str>) -> TokenStream {
    let items = items.map(text);
    quote!(::std::borrow::Cow::Borrowed(&[#(#items),*]))
}
