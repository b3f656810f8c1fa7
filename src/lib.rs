//! Turn a service's `service.toml` into correct, supervisor-enforced start ordering.
//!
//! [`service_manifest!`] reads `service.toml` at compile time (relative to the
//! crate's `Cargo.toml`), rejects every mistake as a located compile error, and
//! generates typed items: `SERVICE_NAME`, the enums `Binary` and `Profile`,
//! `STARTED`, `INSTALL_ONLY`, `MANIFEST` (static data), and `service_builder()` /
//! `service_builder_for(&[Profile])`, which spell the registration out as builder calls.
//!
//! ```
//! mod collab {
//!     service_manifest::service_manifest!("examples/hero_collab/service.toml");
//! }
//! let spec = collab::service_builder().build();
//! let server = spec.action("hero_collab_server").unwrap();
//! assert_eq!(server.depends_on[0].service, "hero_proxy");
//! assert!(!collab::Binary::HeroCollab.is_started()); // the cli: install-only
//! ```

pub use service_manifest_runtime::*;

/// Validates `service.toml` at compile time and expands to its typed registration.
///
/// The path is relative to the directory holding the calling crate's `Cargo.toml`.
/// Expand it inside a module of its own: it defines `SERVICE_NAME`, `Binary`,
/// `Profile`, `STARTED`, `INSTALL_ONLY`, `MANIFEST`, `service_builder()` and
/// `service_builder_for()`.
#[macro_export]
macro_rules! service_manifest {
    ($path:literal $(,)?) => {
        $crate::__private::macros::expand! { krate = $crate, path = $path }
    };
}

#[doc(hidden)]
pub mod __private {
    //! What generated code names. Short paths: an expansion's cost is mostly its token count.
    pub use ::core::option::Option::{self, None, Some};
    pub use ::std::borrow::Cow;
    pub use service_manifest_core as core;
    pub use service_manifest_macros as macros;
    pub use service_manifest_runtime as runtime;
}
