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

impl ServiceBuilder {
    /// The registration of a validated manifest: one action per started binary (see
    /// [`service_manifest_core::is_started`]) with its `depends_on` edges from
    /// [`Manifest::edges_of`]. `service_manifest!` generates a call to this, and a
    /// manifest loaded at run time goes through the same function.
    ///
    /// ```
    /// use service_manifest_core::{parse, Options};
    /// use service_manifest_runtime::ServiceBuilder;
    /// let toml = "[service]\nname = \"s\"\n[[binaries]]\nname = \"d\"\nkind = \"server\"\n[[binaries]]\nname = \"c\"\nkind = \"cli\"\n";
    /// let manifest = parse(toml, &Options::strict()).unwrap().manifest;
    /// let spec = ServiceBuilder::from_manifest(&manifest).build();
    /// assert_eq!(spec.actions.len(), 1); // the cli is install-only
    /// ```
    pub fn from_manifest(manifest: &crate::Manifest) -> Self {
        let mut builder = Self::new(manifest.service.name.as_ref());
        for b in manifest.started() {
            let mut action = ActionSpec::new(b.name.as_ref(), b.kind).restart(b.restart);
            action.socket = b.socket.as_deref().map(Into::into);
            action.args = b.args.iter().map(|a| a.to_string()).collect();
            action.env = b.env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            action.start_timeout_ms = b.start_timeout_ms;
            for edge in manifest.edges_of(b) {
                action.depends_on.push(crate::ActionDep {
                    service: edge.service.into(),
                    action: edge.action.map(Into::into),
                    socket: edge.socket.map(Into::into),
                    relation: edge.relation,
                    ready: edge.ready,
                    timeout_ms: edge.timeout_ms,
                    crate_name: edge.crate_name.map(Into::into),
                });
            }
            builder = builder.action(action);
        }
        builder
    }
}

/// Decodes the manifest `service_manifest!` embedded; it was validated and encoded by
/// the macro itself, so a failure here is a bug in this crate, reported as such.
#[doc(hidden)]
pub fn decode_embedded(json: &str) -> crate::Manifest {
    match serde_json::from_str(json) {
        Ok(manifest) => manifest,
        Err(e) => {
            panic!("service_manifest: the embedded manifest does not decode ({e}); this is a bug, please report it")
        }
    }
}
