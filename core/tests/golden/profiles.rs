#[doc(hidden)]
#[allow(unused_imports)]
use ::service_manifest::__private as __service_manifest;
/// The service's name, from `[service] name` (or the package name).
#[allow(dead_code)]
pub const SERVICE_NAME: &str = "collab_profiles";
/// The binaries declared in `service.toml`.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binary {
    /// `collab_server` (server).
    CollabServer,
    /// A web inspector, run only in the debug profile
    CollabInspector,
    /// `collab_inspector_admin` (admin).
    CollabInspectorAdmin,
}
#[allow(dead_code)]
impl Binary {
    /// Every binary, in file order.
    pub const ALL: &'static [Binary] = &[
        Self::CollabServer,
        Self::CollabInspector,
        Self::CollabInspectorAdmin,
    ];
    /// The binary's name in `service.toml`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CollabServer => "collab_server",
            Self::CollabInspector => "collab_inspector",
            Self::CollabInspectorAdmin => "collab_inspector_admin",
        }
    }
    /// The binary's kind.
    pub const fn kind(self) -> __service_manifest::core::BinaryKind {
        use __service_manifest::core::BinaryKind as K;
        match self {
            Self::CollabServer => K::Server,
            Self::CollabInspector => K::Web,
            Self::CollabInspectorAdmin => K::Admin,
        }
    }
    /// The sibling that spawns and owns this binary, if any.
    #[allow(clippy::match_single_binding)]
    pub const fn spawned_by(self) -> __service_manifest::Option<Binary> {
        match self {
            _ => __service_manifest::None,
        }
    }
    /// Whether the supervisor starts this binary (a daemon kind, not spawned by a
    /// sibling); one with [`Binary::profiles`] only while one of them is active.
    pub const fn is_started(self) -> bool {
        __service_manifest::core::is_started(self.kind(), self.spawned_by().is_some())
    }
    /// The profiles the binary runs in; empty means always.
    #[allow(clippy::match_single_binding)]
    pub const fn profiles(self) -> &'static [Profile] {
        match self {
            Self::CollabInspector => &[Profile::Debug],
            Self::CollabInspectorAdmin => &[Profile::Debug],
            _ => &[],
        }
    }
    /// Looks a binary up by its `service.toml` name.
    pub fn from_name(name: &str) -> __service_manifest::Option<Self> {
        Self::ALL.iter().copied().find(|b| b.name() == name)
    }
}
/// The profiles declared in `[service] profiles`; items that name some apply
/// only while one of them is active.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// The `proxy-auth` profile.
    ProxyAuth,
    /// The `debug` profile.
    Debug,
}
#[allow(dead_code)]
impl Profile {
    /// Every declared profile, in file order.
    pub const ALL: &'static [Profile] = &[Self::ProxyAuth, Self::Debug];
    /// The profile's name in `service.toml`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ProxyAuth => "proxy-auth",
            Self::Debug => "debug",
        }
    }
    /// Looks a profile up by its `service.toml` name.
    pub fn from_name(name: &str) -> __service_manifest::Option<Self> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }
    /// Whether this profile is among the `active` ones.
    pub fn is_in(self, active: &[Profile]) -> bool {
        active.contains(&self)
    }
}
/// The binaries the supervisor starts (one with [`Binary::profiles`] only while
/// one of them is active).
#[allow(dead_code)]
pub const STARTED: &[Binary] = &[
    Binary::CollabServer,
    Binary::CollabInspector,
    Binary::CollabInspectorAdmin,
];
/// The binaries that are installed but never started.
#[allow(dead_code)]
pub const INSTALL_ONLY: &[Binary] = &[];
/// The validated manifest, as static data.
#[allow(dead_code)]
pub static MANIFEST: __service_manifest::core::Manifest = {
    #[allow(unused_imports)]
    use __service_manifest::core::model::{Binary, Dependency, Manifest, ServiceInfo};
    #[allow(unused_imports)]
    use __service_manifest::core::{BinaryKind, ReadyGate, Relation, RestartPolicy};
    #[allow(unused_imports)]
    use __service_manifest::{Cow::Borrowed, None, Some};
    Manifest {
        service: ServiceInfo {
            name: Borrowed("collab_profiles"),
            description: None,
            profiles: Borrowed(&[Borrowed("proxy-auth"), Borrowed("debug")]),
        },
        binaries: Borrowed(
            &[
                Binary {
                    name: Borrowed("collab_server"),
                    kind: BinaryKind::Server,
                    spawned_by: None,
                    socket: Some(Borrowed("collab/server.sock")),
                    args: Borrowed(&[]),
                    env: Borrowed(&[]),
                    after: Borrowed(&[]),
                    start_timeout_ms: None,
                    restart: RestartPolicy::OnFailure,
                    description: None,
                    profiles: Borrowed(&[]),
                    notify: false,
                    watchdog_ms: None,
                    health: None,
                },
                Binary {
                    name: Borrowed("collab_inspector"),
                    kind: BinaryKind::Web,
                    spawned_by: None,
                    socket: Some(Borrowed("collab/inspector.sock")),
                    args: Borrowed(&[]),
                    env: Borrowed(&[]),
                    after: Borrowed(&[]),
                    start_timeout_ms: None,
                    restart: RestartPolicy::OnFailure,
                    description: Some(
                        Borrowed("A web inspector, run only in the debug profile"),
                    ),
                    profiles: Borrowed(&[Borrowed("debug")]),
                    notify: false,
                    watchdog_ms: None,
                    health: None,
                },
                Binary {
                    name: Borrowed("collab_inspector_admin"),
                    kind: BinaryKind::Admin,
                    spawned_by: None,
                    socket: None,
                    args: Borrowed(&[]),
                    env: Borrowed(&[]),
                    after: Borrowed(&[Borrowed("collab_inspector")]),
                    start_timeout_ms: None,
                    restart: RestartPolicy::OnFailure,
                    description: None,
                    profiles: Borrowed(&[Borrowed("debug")]),
                    notify: false,
                    watchdog_ms: None,
                    health: None,
                },
            ],
        ),
        dependencies: Borrowed(
            &[
                Dependency {
                    repo: Borrowed("hero_proxy"),
                    crate_name: None,
                    bin: Some(Borrowed("hero_proxy_server")),
                    socket: Some(Borrowed("hero_proxy/proxy.sock")),
                    relation: Relation::Requires,
                    ready: ReadyGate::Socket,
                    timeout_ms: None,
                    applies_to: Borrowed(&[Borrowed("collab_server")]),
                    profiles: Borrowed(&[Borrowed("proxy-auth")]),
                },
            ],
        ),
    }
};
/// The registration for the supervisor with no profile active: one action per
/// started binary, each carrying its `depends_on` edges. Install-only binaries
/// have no action.
#[allow(dead_code)]
pub fn service_builder() -> __service_manifest::runtime::ServiceBuilder {
    service_builder_for(&[])
}
/// The registration when exactly the `active` profiles are: binaries and
/// dependencies limited to other profiles are left out, and the active
/// profiles' names are recorded on the builder.
#[allow(dead_code)]
pub fn service_builder_for(
    active: &[Profile],
) -> __service_manifest::runtime::ServiceBuilder {
    #[allow(unused_imports)]
    use __service_manifest::core::{BinaryKind, ReadyGate, Relation, RestartPolicy};
    #[allow(unused_imports)]
    use __service_manifest::runtime::{ActionDep, ActionSpec, ServiceBuilder};
    #[allow(unused_imports)]
    use __service_manifest::{Cow::Borrowed, None, Some};
    ServiceBuilder::new("collab_profiles")
        .profiles(active.iter().map(|p| p.name()))
        .action(
            ActionSpec::new("collab_server", BinaryKind::Server)
                .socket("collab/server.sock")
                .restart(RestartPolicy::OnFailure)
                .depends_on_if(
                    Profile::ProxyAuth.is_in(active),
                    ActionDep::new("hero_proxy")
                        .action("hero_proxy_server")
                        .socket("hero_proxy/proxy.sock")
                        .relation(Relation::Requires)
                        .ready(ReadyGate::Socket),
                ),
        )
        .action_if(
            Profile::Debug.is_in(active),
            ActionSpec::new("collab_inspector", BinaryKind::Web)
                .socket("collab/inspector.sock")
                .restart(RestartPolicy::OnFailure),
        )
        .action_if(
            Profile::Debug.is_in(active),
            ActionSpec::new("collab_inspector_admin", BinaryKind::Admin)
                .restart(RestartPolicy::OnFailure)
                .depends_on(
                    ActionDep::new("collab_profiles")
                        .action("collab_inspector")
                        .socket("collab/inspector.sock")
                        .relation(Relation::Requires)
                        .ready(ReadyGate::Socket),
                ),
        )
}
