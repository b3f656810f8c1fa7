//! [`ServiceBuilder`]: how generated code (or a hand-written CLI) assembles a registration.

use crate::spec::{ActionSpec, ServiceSpec};

/// Builds a [`ServiceSpec`].
///
/// ```
/// use service_manifest_runtime::{ActionDep, ActionSpec, BinaryKind, ServiceBuilder};
/// let spec = ServiceBuilder::new("hero_collab")
///     .action(ActionSpec::new("hero_collab_server", BinaryKind::Server)
///         .depends_on(ActionDep::new("hero_proxy").action("hero_proxy_server")))
///     .build();
/// assert_eq!(spec.actions[0].depends_on[0].service, "hero_proxy");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceBuilder {
    spec: ServiceSpec,
}

impl ServiceBuilder {
    /// Starts a registration for `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self { spec: ServiceSpec { name: name.into(), actions: Vec::new() } }
    }

    /// Adds an action.
    pub fn action(mut self, action: ActionSpec) -> Self {
        self.spec.actions.push(action);
        self
    }

    /// Changes every action, e.g. to point `exec` at a bin directory.
    pub fn map_actions(mut self, f: impl FnMut(&mut ActionSpec)) -> Self {
        self.spec.actions.iter_mut().for_each(f);
        self
    }

    /// The registration so far.
    pub fn spec(&self) -> &ServiceSpec {
        &self.spec
    }

    /// Finishes the registration.
    pub fn build(self) -> ServiceSpec {
        self.spec
    }
}
