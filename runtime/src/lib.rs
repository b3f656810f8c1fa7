//! What a service's CLI needs at run time: the registration types that
//! `service_manifest!` builds, the embedded supervisor that enforces them, and a
//! typed client for it.
//!
//! The supervisor engine ([`supervisor`]) knows nothing of the CLI; the client and
//! the CLI glue only speak to it through the JSON-RPC API ([`api`]).

pub mod api;
pub mod backend;
mod builder;
pub mod cli;
mod client;
pub mod paths;
mod spec;
pub mod supervisor;
mod text;

pub use builder::{ServiceBuilder, UnknownProfile};
pub use client::{Client, ClientError};
pub use service_manifest_core::{BinaryKind, Manifest, ReadyGate, Relation, RestartPolicy};
pub use spec::{ActionDep, ActionSpec, ServiceSpec};
