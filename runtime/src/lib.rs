//! What a service's CLI needs at run time: the registration types that
//! `service_manifest!` builds.

mod builder;
mod spec;

pub use builder::ServiceBuilder;
pub use service_manifest_core::{BinaryKind, Manifest, ReadyGate, Relation, RestartPolicy};
pub use spec::{ActionDep, ActionSpec, ServiceSpec};
