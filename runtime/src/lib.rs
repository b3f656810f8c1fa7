//! What a service's CLI needs at run time: the registration types that
//! `service_manifest!` builds, the embedded supervisor that enforces them, and a
//! typed client for it.
//!
//! The supervisor engine (`supervisor`) knows nothing of the CLI; the client and the
//! CLI glue only speak to it through the JSON-RPC API (`api`).
//!
//! Cargo features choose the parts; without any, the crate is the registration types
//! alone, which is all that `service_manifest!`'s output names:
//! - `supervisor`: the engine and its daemon loop (`supervisor`, `api`);
//! - `client`: [`Client`], the typed client of a running supervisor (`api`);
//! - `cli` (default): the CLI glue (`cli::ServiceArgs`, `cli::ServiceCommand`) and the
//!   systemd and zinit backends (`backend`); brings the other two.

#[cfg(any(feature = "supervisor", feature = "client"))]
pub mod api;
#[cfg(feature = "cli")]
pub mod backend;
mod builder;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "supervisor")]
pub mod logline;
#[cfg(any(feature = "supervisor", feature = "client"))]
pub mod paths;
mod spec;
#[cfg(feature = "supervisor")]
pub mod supervisor;
#[cfg(feature = "supervisor")]
mod text;
#[cfg(feature = "supervisor")]
pub mod trust;

pub use builder::{ServiceBuilder, UnknownProfile};
#[cfg(feature = "client")]
pub use client::{Client, ClientError};
pub use service_manifest_core::model::{HealthCheck, Probe};
pub use service_manifest_core::{BinaryKind, Manifest, ReadyGate, Relation, RestartPolicy};
pub use spec::{ActionDep, ActionSpec, ServiceSpec};
