#[doc(hidden)]
#[allow(unused_imports)]
use ::service_manifest::__private as __service_manifest;
/// The service's name, from `[service] name` (or the package name).
#[allow(dead_code)]
pub const SERVICE_NAME: &str = "hero_proxy";
/// The binaries declared in `service.toml`.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binary {
    /// `hero_proxy_server` (server).
    HeroProxyServer,
    /// `hero_proxy` (cli).
    HeroProxy,
}
#[allow(dead_code)]
impl Binary {
    /// Every binary, in file order.
    pub const ALL: &'static [Binary] = &[Self::HeroProxyServer, Self::HeroProxy];
    /// The binary's name in `service.toml`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HeroProxyServer => "hero_proxy_server",
            Self::HeroProxy => "hero_proxy",
        }
    }
    /// The binary's kind.
    pub const fn kind(self) -> __service_manifest::core::BinaryKind {
        use __service_manifest::core::BinaryKind as K;
        match self {
            Self::HeroProxyServer => K::Server,
            Self::HeroProxy => K::Cli,
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
pub const STARTED: &[Binary] = &[Binary::HeroProxyServer];
/// The binaries that are installed but never started.
#[allow(dead_code)]
pub const INSTALL_ONLY: &[Binary] = &[Binary::HeroProxy];
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
            name: Borrowed("hero_proxy"),
            description: Some(Borrowed("Reverse proxy that injects X-Hero-User")),
            profiles: Borrowed(&[]),
        },
        binaries: Borrowed(
            &[
                Binary {
                    name: Borrowed("hero_proxy_server"),
                    kind: BinaryKind::Server,
                    spawned_by: None,
                    socket: Some(Borrowed("hero_proxy/proxy.sock")),
                    args: Borrowed(&[]),
                    env: Borrowed(&[]),
                    after: Borrowed(&[]),
                    start_timeout_ms: Some(10000),
                    restart: RestartPolicy::OnFailure,
                    description: None,
                    profiles: Borrowed(&[]),
                    notify: false,
                    watchdog_ms: None,
                    health: None,
                },
                Binary {
                    name: Borrowed("hero_proxy"),
                    kind: BinaryKind::Cli,
                    spawned_by: None,
                    socket: None,
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
            ],
        ),
        dependencies: Borrowed(&[]),
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
    ServiceBuilder::new("hero_proxy")
        .profiles(active.iter().map(|p| p.name()))
        .action(
            ActionSpec::new("hero_proxy_server", BinaryKind::Server)
                .socket("hero_proxy/proxy.sock")
                .restart(RestartPolicy::OnFailure)
                .start_timeout_ms(10000),
        )
}
