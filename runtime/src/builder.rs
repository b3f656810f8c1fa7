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
        Self { spec: ServiceSpec::new(name, Vec::new()) }
    }

    /// Adds an action.
    pub fn action(mut self, action: ActionSpec) -> Self {
        self.spec.actions.push(action);
        self
    }

    /// Adds an action only when `active` (a binary limited to profiles).
    pub fn action_if(self, active: bool, action: ActionSpec) -> Self {
        if active { self.action(action) } else { self }
    }

    /// Records the names of the profiles this registration was built for; the supervisor
    /// keeps them with the definition.
    pub fn profiles<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.spec.profiles.extend(names.into_iter().map(Into::into));
        self
    }

    /// The names of the profiles this registration was built for, in the order given.
    pub fn active_profiles(&self) -> &[String] {
        &self.spec.profiles
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

/// A profile name that the manifest does not declare.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("service `{service}` declares no profile `{name}`; {}", declared_list(.declared))]
pub struct UnknownProfile {
    /// The service.
    pub service: String,
    /// The name asked for.
    pub name: String,
    /// The profiles the manifest declares.
    pub declared: Vec<String>,
}

fn declared_list(declared: &[String]) -> String {
    if declared.is_empty() {
        "it declares none".to_owned()
    } else {
        format!("its profiles are {}", declared.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "))
    }
}

impl ServiceBuilder {
    /// The registration of a validated manifest with no profile active: one action
    /// per started binary (see [`service_manifest_core::is_started`]) with its
    /// `depends_on` edges from [`Manifest::edges_of`](crate::Manifest::edges_of).
    /// The macro spells the same derivation out as builder calls at compile time.
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
        Self::from_manifest_for(manifest, &[])
    }

    /// The registration when exactly the `active` profiles are: binaries and
    /// dependencies limited to other profiles are left out. Names are taken as given;
    /// [`ServiceBuilder::for_profiles`] checks them against the manifest first.
    pub fn from_manifest_for(manifest: &crate::Manifest, active: &[&str]) -> Self {
        let mut builder = Self::new(manifest.service.name.as_ref()).profiles(active.iter().copied());
        for b in manifest.started_in(active) {
            let mut action = ActionSpec::new(b.name.as_ref(), b.kind).restart(b.restart);
            action.socket = b.socket.as_deref().map(Into::into);
            action.notify = b.notify;
            action.args = b.args.iter().map(|a| a.to_string()).collect();
            action.env = b.env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            action.start_timeout_ms = b.start_timeout_ms;
            action.watchdog_ms = b.watchdog_ms;
            action.health = b.health.clone();
            for edge in manifest.edges_of(b).into_iter().filter(|e| e.is_active(active)) {
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

    /// [`ServiceBuilder::from_manifest_for`] for profile names a person typed (say,
    /// `--profile proxy-auth`): each must be declared in `[service] profiles`.
    ///
    /// ```
    /// use service_manifest_core::{parse, Options};
    /// use service_manifest_runtime::ServiceBuilder;
    /// let toml = "[service]\nname = \"s\"\nprofiles = [\"debug\"]\n[[binaries]]\nname = \"d\"\nkind = \"server\"\nprofiles = [\"debug\"]\n";
    /// let manifest = parse(toml, &Options::strict()).unwrap().manifest;
    /// assert_eq!(ServiceBuilder::for_profiles(&manifest, &["debug"]).unwrap().build().actions.len(), 1);
    /// assert_eq!(ServiceBuilder::for_profiles::<&str>(&manifest, &[]).unwrap().build().actions.len(), 0);
    /// let err = ServiceBuilder::for_profiles(&manifest, &["dbug"]).unwrap_err();
    /// assert_eq!(err.to_string(), "service `s` declares no profile `dbug`; its profiles are `debug`");
    /// ```
    pub fn for_profiles<S: AsRef<str>>(manifest: &crate::Manifest, names: &[S]) -> Result<Self, UnknownProfile> {
        let declared = &manifest.service.profiles;
        let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        if let Some(unknown) = names.iter().find(|n| !declared.iter().any(|d| d == *n)) {
            return Err(UnknownProfile {
                service: manifest.service.name.to_string(),
                name: (*unknown).to_owned(),
                declared: declared.iter().map(|d| d.to_string()).collect(),
            });
        }
        Ok(Self::from_manifest_for(manifest, &names))
    }
}
