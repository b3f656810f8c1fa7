//! The typed items: `SERVICE_NAME`, `enum Binary`, `enum Profile`, `STARTED` and
//! `INSTALL_ONLY`. The fallback emits them through the same function from what a
//! broken manifest still names, so valid and stub items never differ in shape.

use proc_macro2::TokenStream;
use quote::quote;

use super::{alias, variant};
use crate::model::Manifest;
use crate::vocab::BinaryKind;

/// What the typed items are made of.
pub(super) struct Items<'a> {
    pub service_name: &'a str,
    pub binaries: Vec<ItemBinary<'a>>,
    pub profiles: Vec<&'a str>,
    /// Whether `STARTED` and `INSTALL_ONLY` are filled from the kinds (not in stubs).
    pub sets: bool,
}

pub(super) struct ItemBinary<'a> {
    pub name: &'a str,
    pub kind: BinaryKind,
    pub spawned_by: Option<&'a str>,
    pub description: Option<&'a str>,
    pub profiles: Vec<&'a str>,
}

impl<'a> Items<'a> {
    fn of(manifest: &'a Manifest) -> Self {
        Self {
            service_name: &manifest.service.name,
            binaries: manifest
                .binaries
                .iter()
                .map(|b| ItemBinary {
                    name: &b.name,
                    kind: b.kind,
                    spawned_by: b.spawned_by.as_deref(),
                    description: b.description.as_deref(),
                    profiles: b.profiles.iter().map(AsRef::as_ref).collect(),
                })
                .collect(),
            profiles: manifest.service.profiles.iter().map(AsRef::as_ref).collect(),
            sets: true,
        }
    }
}

pub(super) fn expand(manifest: &Manifest) -> TokenStream {
    emit(&Items::of(manifest))
}

pub(super) fn emit(items: &Items<'_>) -> TokenStream {
    let sm = alias();
    let name = items.service_name;
    let bins = &items.binaries;
    let variants: Vec<_> = bins.iter().map(|b| variant(b.name)).collect();
    let names: Vec<&str> = bins.iter().map(|b| b.name).collect();
    let kinds: Vec<_> = bins.iter().map(|b| variant(b.kind.as_str())).collect();
    let docs = bins.iter().map(|b| match b.description {
        // A leading space, as `///` would give, so rustdoc and prettyplease agree.
        Some(text) => format!(" {text}"),
        None => format!(" `{}` ({}).", b.name, b.kind),
    });
    // Arms only for the few binaries that need one; the rest fall to `_`.
    let spawned = bins.iter().filter_map(|b| {
        let (child, parent) = (variant(b.name), variant(b.spawned_by?));
        Some(quote!(Self::#child => #sm::Some(Self::#parent),))
    });
    let limited = bins.iter().filter(|b| !b.profiles.is_empty()).map(|b| {
        let (v, ps) = (variant(b.name), b.profiles.iter().map(|p| variant(p)));
        quote!(Self::#v => &[#(Profile::#ps),*],)
    });
    let is_started = |b: &&ItemBinary<'_>| crate::vocab::is_started(b.kind, b.spawned_by.is_some());
    let (started, install_only): (Vec<_>, Vec<_>) = if items.sets {
        (
            bins.iter().filter(is_started).map(|b| variant(b.name)).collect(),
            bins.iter().filter(|b| !is_started(b)).map(|b| variant(b.name)).collect(),
        )
    } else {
        Default::default()
    };
    let profile_variants: Vec<_> = items.profiles.iter().map(|p| variant(p)).collect();
    let profile_names = &items.profiles;
    let profile_docs = items.profiles.iter().map(|p| format!(" The `{p}` profile."));
    quote! {
        /// The service's name, from `[service] name` (or the package name).
        #[allow(dead_code)]
        pub const SERVICE_NAME: &str = #name;

        /// The binaries declared in `service.toml`.
        #[allow(dead_code)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Binary { #(#[doc = #docs] #variants,)* }

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

            /// Whether the supervisor starts this binary (a daemon kind, not spawned by a
            /// sibling); one with [`Binary::profiles`] only while one of them is active.
            pub const fn is_started(self) -> bool {
                #sm::core::is_started(self.kind(), self.spawned_by().is_some())
            }

            /// The profiles the binary runs in; empty means always.
            #[allow(clippy::match_single_binding)]
            pub const fn profiles(self) -> &'static [Profile] {
                match self { #(#limited)* _ => &[] }
            }

            /// Looks a binary up by its `service.toml` name.
            pub fn from_name(name: &str) -> #sm::Option<Self> {
                Self::ALL.iter().copied().find(|b| b.name() == name)
            }
        }

        /// The profiles declared in `[service] profiles`; items that name some apply
        /// only while one of them is active.
        #[allow(dead_code)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Profile { #(#[doc = #profile_docs] #profile_variants,)* }

        #[allow(dead_code)]
        impl Profile {
            /// Every declared profile, in file order.
            pub const ALL: &'static [Profile] = &[#(Self::#profile_variants),*];

            /// The profile's name in `service.toml`.
            pub const fn name(self) -> &'static str {
                match self { #(Self::#profile_variants => #profile_names,)* }
            }

            /// Looks a profile up by its `service.toml` name.
            pub fn from_name(name: &str) -> #sm::Option<Self> {
                Self::ALL.iter().copied().find(|p| p.name() == name)
            }

            /// Whether this profile is among the `active` ones.
            pub fn is_in(self, active: &[Profile]) -> bool {
                active.contains(&self)
            }
        }

        /// The binaries the supervisor starts (one with [`Binary::profiles`] only while
        /// one of them is active).
        #[allow(dead_code)]
        pub const STARTED: &[Binary] = &[#(Binary::#started),*];

        /// The binaries that are installed but never started.
        #[allow(dead_code)]
        pub const INSTALL_ONLY: &[Binary] = &[#(Binary::#install_only),*];
    }
}
