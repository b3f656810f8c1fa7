//! The `service.toml` format: schema, parsing with spans, validation, the model and
//! (with the `codegen` feature) the code generator behind `service_manifest!`; the
//! `build-script` feature (on by default) adds [`build_script`], the same generator
//! for a `build.rs`.
//!
//! This is a plain library, not a proc macro, so the same checks run in the macro, in
//! a build script and at run time:
//!
//! ```
//! use service_manifest_core::{parse, Options};
//!
//! let toml = r#"
//! [service]
//! name = "hero_collab"
//!
//! [[binaries]]
//! name = "hero_collab_server"
//! kind = "server"
//!
//! [[dependencies]]
//! repo = "hero_proxy"
//! bin_name = "hero_proxy_server"
//! socket_name = "hero_proxy/proxy.sock"
//! "#;
//! let checked = parse(toml, &Options::strict()).expect("valid manifest");
//! let dep = &checked.manifest.dependencies[0];
//! assert_eq!(dep.bin.as_deref(), Some("hero_proxy_server"));
//! assert_eq!(dep.ready, service_manifest_core::ReadyGate::Socket);
//! ```

mod context;
pub mod cross;
pub mod diagnostic;
pub mod duration;
pub mod ident;
pub mod keys;
mod load;
mod lower;
pub mod model;
mod schema;
mod validate;
mod vocab;

#[cfg(feature = "codegen")]
pub mod codegen;

#[cfg(feature = "build-script")]
pub mod build_script;

pub use context::Strictness;
pub use diagnostic::{Diagnostic, LineCol, Severity};
pub use load::{Checked, Failed, LoadError, Options, Salvage, load_lenient, parse, parse_or_salvage};
pub use model::{Binary, Dependency, Manifest, ServiceInfo};
pub use validate::{MAX_SOCKET_PATH, name_problem as validate_name};
pub use vocab::{BinaryKind, BinaryReady, ReadyGate, Relation, RestartPolicy, is_started};
