//! `service_builder()` and `service_builder_for()`: the registration spelled out as
//! builder calls, one action per started binary, each edge from
//! [`Manifest::edges_of`] — the same derivation `ServiceBuilder::from_manifest` runs
//! on a manifest read at run time. An item limited to profiles becomes an `_if` call
//! whose condition names those profiles.

use proc_macro2::TokenStream;
use quote::quote;

use super::{alias, variant};
use crate::model::{Binary, Edge, Manifest, Text};

pub(super) fn expand(manifest: &Manifest) -> TokenStream {
    let sm = alias();
    let name: &str = &manifest.service.name;
    let actions = manifest.started().map(|b| {
        let action = action(manifest, b);
        match condition(&b.profiles) {
            Some(active) => quote!(.action_if(#active, #action)),
            None => quote!(.action(#action)),
        }
    });
    quote! {
        /// The registration for the supervisor with no profile active: one action per
        /// started binary, each carrying its `depends_on` edges. Install-only binaries
        /// have no action.
        #[allow(dead_code)]
        pub fn service_builder() -> #sm::runtime::ServiceBuilder {
            service_builder_for(&[])
        }

        /// The registration when exactly the `active` profiles are: binaries and
        /// dependencies limited to other profiles are left out, and the active
        /// profiles' names are recorded on the builder.
        #[allow(dead_code)]
        pub fn service_builder_for(active: &[Profile]) -> #sm::runtime::ServiceBuilder {
            #[allow(unused_imports)]
            use #sm::core::{BinaryKind, ReadyGate, Relation, RestartPolicy};
            #[allow(unused_imports)]
            use #sm::runtime::{ActionDep, ActionSpec, ServiceBuilder};
            #[allow(unused_imports)]
            use #sm::{Cow::Borrowed, None, Some};
            ServiceBuilder::new(#name)
                .profiles(active.iter().map(|p| p.name()))
                #(#actions)*
        }
    }
}

/// `Profile::A.is_in(active) || …` for an item limited to profiles; `None` when it
/// always applies.
fn condition(profiles: &[Text]) -> Option<TokenStream> {
    let checks = profiles.iter().map(|p| {
        let p = variant(p);
        quote!(Profile::#p.is_in(active))
    });
    (!profiles.is_empty()).then(|| quote!(#(#checks)||*))
}

fn action(manifest: &Manifest, b: &Binary) -> TokenStream {
    let (name, kind) = (b.name.as_ref(), variant(b.kind.as_str()));
    let mut calls = Vec::new();
    if let Some(socket) = b.socket.as_deref() {
        calls.push(quote!(.socket(#socket)));
    }
    if !b.args.is_empty() {
        let args = b.args.iter().map(AsRef::<str>::as_ref);
        calls.push(quote!(.args([#(#args),*])));
    }
    for (key, value) in b.env.iter() {
        let (key, value) = (key.as_ref(), value.as_ref());
        calls.push(quote!(.env(#key, #value)));
    }
    if b.notify {
        calls.push(quote!(.notify()));
    }
    let restart = variant(b.restart.as_str());
    calls.push(quote!(.restart(RestartPolicy::#restart)));
    if let Some(ms) = b.watchdog_ms {
        let ms = proc_macro2::Literal::u64_unsuffixed(ms);
        calls.push(quote!(.watchdog_ms(#ms)));
    }
    if let Some(h) = &b.health {
        let h = super::data::health(h);
        calls.push(quote!(.health(#h)));
    }
    if let Some(ms) = b.start_timeout_ms {
        let ms = proc_macro2::Literal::u64_unsuffixed(ms);
        calls.push(quote!(.start_timeout_ms(#ms)));
    }
    for edge in manifest.edges_of(b) {
        let dep = dependency(&edge);
        calls.push(match condition(edge.profiles) {
            Some(active) => quote!(.depends_on_if(#active, #dep)),
            None => quote!(.depends_on(#dep)),
        });
    }
    quote!(ActionSpec::new(#name, BinaryKind::#kind) #(#calls)*)
}

fn dependency(edge: &Edge<'_>) -> TokenStream {
    let service = edge.service;
    let mut calls = Vec::new();
    if let Some(action) = edge.action {
        calls.push(quote!(.action(#action)));
    }
    if let Some(socket) = edge.socket {
        calls.push(quote!(.socket(#socket)));
    }
    let (relation, ready) = (variant(edge.relation.as_str()), variant(edge.ready.as_str()));
    calls.push(quote!(.relation(Relation::#relation).ready(ReadyGate::#ready)));
    if let Some(ms) = edge.timeout_ms {
        let ms = proc_macro2::Literal::u64_unsuffixed(ms);
        calls.push(quote!(.timeout_ms(#ms)));
    }
    if let Some(crate_name) = edge.crate_name {
        calls.push(quote!(.crate_name(#crate_name)));
    }
    quote!(ActionDep::new(#service) #(#calls)*)
}
