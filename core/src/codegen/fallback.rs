//! The items emitted next to `compile_error!` when a manifest has errors. They keep
//! every name that still parsed — each binary as a `Binary` variant, each declared
//! profile as a `Profile` variant — and every item and signature of a valid
//! expansion, so the only errors a user sees are the manifest's own.

use proc_macro2::TokenStream;
use quote::quote;

use super::items::{ItemBinary, Items};
use super::{Settings, alias, data, items, prelude};
use crate::diagnostic::Diagnostic;
use crate::load::Salvage;
use crate::vocab::BinaryKind;

/// `compile_error!` for every error diagnostic, plus stub items built from `salvage`.
pub fn expand_errors(
    errors: &[Diagnostic],
    salvage: &Salvage,
    file_name: &str,
    source: &str,
    settings: &Settings,
) -> TokenStream {
    let (span, sm) = (settings.span, alias());
    let errors = errors.iter().filter(|d| d.severity == crate::Severity::Error).map(|d| {
        let text = d.render(file_name, source).to_string();
        quote::quote_spanned!(span=> ::core::compile_error!{ #text })
    });
    let prelude = prelude(settings);
    let name = salvage.service_name.as_deref().unwrap_or_default();
    let items = items::emit(&Items {
        service_name: name,
        binaries: salvage
            .binaries
            .iter()
            .map(|(name, kind)| ItemBinary {
                name,
                // Any kind will do: this code is never run, only type-checked.
                kind: kind.unwrap_or(BinaryKind::Tool),
                spawned_by: None,
                description: None,
                profiles: Vec::new(),
            })
            .collect(),
        profiles: salvage.profiles.iter().map(String::as_str).collect(),
        sets: false,
    });
    let manifest = data::stub(name);
    quote! {
        #prelude
        #(#errors)*
        #items
        #manifest
        /// Stub: the manifest has errors.
        #[allow(dead_code)]
        pub fn service_builder() -> #sm::runtime::ServiceBuilder {
            service_builder_for(&[])
        }
        /// Stub: the manifest has errors.
        #[allow(dead_code)]
        pub fn service_builder_for(_active: &[Profile]) -> #sm::runtime::ServiceBuilder {
            #sm::runtime::ServiceBuilder::new(SERVICE_NAME)
        }
    }
}
