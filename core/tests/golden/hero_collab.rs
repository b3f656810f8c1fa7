#[doc(hidden)]
#[allow(unused_imports)]
use ::service_manifest::__private as __service_manifest;
/// The service's name, from `[service] name` (or the package name).
#[allow(dead_code)]
pub const SERVICE_NAME: &str = "hero_collab";
/// The binaries declared in `service.toml`.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binary {
    /// The collaboration API
    HeroCollabServer,
    /// The admin UI; talks to the server
    HeroCollabAdmin,
    /// This command-line tool: installed, never started
    HeroCollab,
}
#[allow(dead_code)]
impl Binary {
    /// Every binary, in file order.
    pub const ALL: &'static [Binary] = &[
        Self::HeroCollabServer,
        Self::HeroCollabAdmin,
        Self::HeroCollab,
    ];
    /// The binary's name in `service.toml`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HeroCollabServer => "hero_collab_server",
            Self::HeroCollabAdmin => "hero_collab_admin",
            Self::HeroCollab => "hero_collab",
        }
    }
    /// The binary's kind.
    pub const fn kind(self) -> __service_manifest::core::BinaryKind {
        use __service_manifest::core::BinaryKind as K;
        match self {
            Self::HeroCollabServer => K::Server,
            Self::HeroCollabAdmin => K::Admin,
            Self::HeroCollab => K::Cli,
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
pub enum Profile {}
#[allow(dead_code)]
impl Profile {
    /// Every declared profile, in file order.
    pub const ALL: &'static [Profile] = &[];
    /// The profile's name in `service.toml`.
    pub const fn name(self) -> &'static str {
        match self {}
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
pub const STARTED: &[Binary] = &[Binary::HeroCollabServer, Binary::HeroCollabAdmin];
/// The binaries that are installed but never started.
#[allow(dead_code)]
pub const INSTALL_ONLY: &[Binary] = &[Binary::HeroCollab];
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
            name: Borrowed("hero_collab"),
            description: Some(
                Borrowed("Collaborative documents, served behind hero_proxy"),
            ),
            profiles: Borrowed(&[]),
        },
        binaries: Borrowed(
            &[
                Binary {
                    name: Borrowed("hero_collab_server"),
                    kind: BinaryKind::Server,
                    spawned_by: None,
                    socket: Some(Borrowed("hero_collab/server.sock")),
                    args: Borrowed(&[]),
                    env: Borrowed(&[]),
                    after: Borrowed(&[]),
                    start_timeout_ms: Some(10000),
                    restart: RestartPolicy::OnFailure,
                    description: Some(Borrowed("The collaboration API")),
                    profiles: Borrowed(&[]),
                    notify: false,
                    watchdog_ms: None,
                    health: Some(__service_manifest::core::model::HealthCheck {
                        probe: __service_manifest::core::model::Probe::Socket {
                            send: None,
                            expect: Some(Borrowed("hero_collab: ok")),
                        },
                        interval_ms: 10000,
                        timeout_ms: 2000,
                        retries: 3,
                        start_period_ms: 0,
                        start_interval_ms: 5000,
                    }),
                },
                Binary {
                    name: Borrowed("hero_collab_admin"),
                    kind: BinaryKind::Admin,
                    spawned_by: None,
                    socket: Some(Borrowed("hero_collab/admin.sock")),
                    args: Borrowed(&[]),
                    env: Borrowed(&[]),
                    after: Borrowed(&[Borrowed("hero_collab_server")]),
                    start_timeout_ms: None,
                    restart: RestartPolicy::OnFailure,
                    description: Some(Borrowed("The admin UI; talks to the server")),
                    profiles: Borrowed(&[]),
                    notify: false,
                    watchdog_ms: None,
                    health: None,
                },
                Binary {
                    name: Borrowed("hero_collab"),
                    kind: BinaryKind::Cli,
                    spawned_by: None,
                    socket: None,
                    args: Borrowed(&[]),
                    env: Borrowed(&[]),
                    after: Borrowed(&[]),
                    start_timeout_ms: None,
                    restart: RestartPolicy::OnFailure,
                    description: Some(
                        Borrowed("This command-line tool: installed, never started"),
                    ),
                    profiles: Borrowed(&[]),
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
                    crate_name: Some(Borrowed("hero_proxy_server")),
                    bin: Some(Borrowed("hero_proxy_server")),
                    socket: Some(Borrowed("hero_proxy/proxy.sock")),
                    relation: Relation::Requires,
                    ready: ReadyGate::Socket,
                    timeout_ms: Some(15000),
                    applies_to: Borrowed(&[Borrowed("hero_collab_server")]),
                    profiles: Borrowed(&[]),
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
    ServiceBuilder::new("hero_collab")
        .profiles(active.iter().map(|p| p.name()))
        .action(
            ActionSpec::new("hero_collab_server", BinaryKind::Server)
                .socket("hero_collab/server.sock")
                .restart(RestartPolicy::OnFailure)
                .health(__service_manifest::core::model::HealthCheck {
                    probe: __service_manifest::core::model::Probe::Socket {
                        send: None,
                        expect: Some(Borrowed("hero_collab: ok")),
                    },
                    interval_ms: 10000,
                    timeout_ms: 2000,
                    retries: 3,
                    start_period_ms: 0,
                    start_interval_ms: 5000,
                })
                .start_timeout_ms(10000)
                .depends_on(
                    ActionDep::new("hero_proxy")
                        .action("hero_proxy_server")
                        .socket("hero_proxy/proxy.sock")
                        .relation(Relation::Requires)
                        .ready(ReadyGate::Socket)
                        .timeout_ms(15000)
                        .crate_name("hero_proxy_server"),
                ),
        )
        .action(
            ActionSpec::new("hero_collab_admin", BinaryKind::Admin)
                .socket("hero_collab/admin.sock")
                .restart(RestartPolicy::OnFailure)
                .depends_on(
                    ActionDep::new("hero_collab")
                        .action("hero_collab_server")
                        .socket("hero_collab/server.sock")
                        .relation(Relation::Requires)
                        .ready(ReadyGate::Socket)
                        .timeout_ms(10000),
                ),
        )
}
