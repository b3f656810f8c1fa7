//! `MANIFEST`: the validated model as static data. Every string and list in the model
//! is a `Cow<'static, _>`, so the whole manifest is a borrowed constant: nothing is
//! decoded, allocated or checked when a program first touches it.

use proc_macro2::TokenStream;
use quote::quote;

use super::{alias, variant};
use crate::model::{Binary, Dependency, HealthCheck, List, Manifest, Probe, Text};

pub(super) fn expand(manifest: &Manifest) -> TokenStream {
    let sm = alias();
    let value = manifest_value(manifest);
    quote! {
        /// The validated manifest, as static data.
        #[allow(dead_code)]
        pub static MANIFEST: #sm::core::Manifest = {
            #[allow(unused_imports)]
            use #sm::core::model::{Binary, Dependency, Manifest, ServiceInfo};
            #[allow(unused_imports)]
            use #sm::core::{BinaryKind, ReadyGate, Relation, RestartPolicy};
            #[allow(unused_imports)]
            use #sm::{Cow::Borrowed, None, Some};
            #value
        };
    }
}

/// An empty manifest named `name`, for the fallback items.
pub(super) fn stub(name: &str) -> TokenStream {
    let sm = alias();
    quote! {
        /// Stub: the manifest has errors.
        #[allow(dead_code)]
        pub static MANIFEST: #sm::core::Manifest = {
            use #sm::core::model::{Manifest, ServiceInfo};
            use #sm::{Cow::Borrowed, None};
            Manifest {
                service: ServiceInfo { name: Borrowed(#name), description: None, profiles: Borrowed(&[]) },
                binaries: Borrowed(&[]),
                dependencies: Borrowed(&[]),
            }
        };
    }
}

fn manifest_value(m: &Manifest) -> TokenStream {
    let name = text(&m.service.name);
    let description = opt_text(m.service.description.as_ref());
    let profiles = texts(&m.service.profiles);
    let binaries = m.binaries.iter().map(binary);
    let dependencies = m.dependencies.iter().map(dependency);
    quote! {
        Manifest {
            service: ServiceInfo { name: #name, description: #description, profiles: #profiles },
            binaries: Borrowed(&[#(#binaries),*]),
            dependencies: Borrowed(&[#(#dependencies),*]),
        }
    }
}

fn binary(b: &Binary) -> TokenStream {
    let name = text(&b.name);
    let kind = variant(b.kind.as_str());
    let spawned_by = opt_text(b.spawned_by.as_ref());
    let socket = opt_text(b.socket.as_ref());
    let args = texts(&b.args);
    let env = b.env.iter().map(|(k, v)| {
        let (k, v) = (text(k), text(v));
        quote!((#k, #v))
    });
    let after = texts(&b.after);
    let start_timeout_ms = opt_u64(b.start_timeout_ms);
    let restart = variant(b.restart.as_str());
    let description = opt_text(b.description.as_ref());
    let profiles = texts(&b.profiles);
    let notify = b.notify;
    let watchdog_ms = opt_u64(b.watchdog_ms);
    let health = match &b.health {
        Some(h) => {
            let h = health(h);
            quote!(Some(#h))
        }
        None => quote!(None),
    };
    quote! {
        Binary {
            name: #name,
            kind: BinaryKind::#kind,
            spawned_by: #spawned_by,
            socket: #socket,
            args: #args,
            env: Borrowed(&[#(#env),*]),
            after: #after,
            start_timeout_ms: #start_timeout_ms,
            restart: RestartPolicy::#restart,
            description: #description,
            profiles: #profiles,
            notify: #notify,
            watchdog_ms: #watchdog_ms,
            health: #health,
        }
    }
}

/// A [`HealthCheck`] as a constant expression; where it is used, `Borrowed` must be in scope.
pub(super) fn health(h: &HealthCheck) -> TokenStream {
    let sm = alias();
    let probe = match &h.probe {
        Probe::Socket { send, expect } => {
            let (send, expect) = (opt_text(send.as_ref()), opt_text(expect.as_ref()));
            quote!(#sm::core::model::Probe::Socket { send: #send, expect: #expect })
        }
        Probe::Exec { command } => {
            let command = texts(command);
            quote!(#sm::core::model::Probe::Exec { command: #command })
        }
    };
    let u = |v: u64| proc_macro2::Literal::u64_unsuffixed(v);
    let (interval, timeout, period, start_interval) =
        (u(h.interval_ms), u(h.timeout_ms), u(h.start_period_ms), u(h.start_interval_ms));
    let retries = proc_macro2::Literal::u32_unsuffixed(h.retries);
    quote! {
        #sm::core::model::HealthCheck {
            probe: #probe,
            interval_ms: #interval,
            timeout_ms: #timeout,
            retries: #retries,
            start_period_ms: #period,
            start_interval_ms: #start_interval,
        }
    }
}

fn dependency(d: &Dependency) -> TokenStream {
    let repo = text(&d.repo);
    let crate_name = opt_text(d.crate_name.as_ref());
    let bin = opt_text(d.bin.as_ref());
    let socket = opt_text(d.socket.as_ref());
    let relation = variant(d.relation.as_str());
    let ready = variant(d.ready.as_str());
    let timeout_ms = opt_u64(d.timeout_ms);
    let applies_to = texts(&d.applies_to);
    let profiles = texts(&d.profiles);
    quote! {
        Dependency {
            repo: #repo,
            crate_name: #crate_name,
            bin: #bin,
            socket: #socket,
            relation: Relation::#relation,
            ready: ReadyGate::#ready,
            timeout_ms: #timeout_ms,
            applies_to: #applies_to,
            profiles: #profiles,
        }
    }
}

fn text(t: &Text) -> TokenStream {
    let s: &str = t;
    quote!(Borrowed(#s))
}

fn opt_text(t: Option<&Text>) -> TokenStream {
    match t {
        Some(t) => {
            let t = text(t);
            quote!(Some(#t))
        }
        None => quote!(None),
    }
}

fn texts(list: &List<Text>) -> TokenStream {
    let items = list.iter().map(text);
    quote!(Borrowed(&[#(#items),*]))
}

fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => {
            let v = proc_macro2::Literal::u64_unsuffixed(v);
            quote!(Some(#v))
        }
        None => quote!(None),
    }
}
