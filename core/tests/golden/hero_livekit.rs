#[doc(hidden)]
#[allow(unused_imports)]
use ::service_manifest::__private as __service_manifest;
/// The service's name, from `[service] name` (or the package name).
#[allow(dead_code)]
pub const SERVICE_NAME: &str = "hero_livekit";
/// The binaries declared in `service.toml`.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binary {
    HeroLivekitServer,
    HeroLivekitAdmin,
    LkBackend,
    HeroDoHeroLivekit,
}
#[allow(dead_code)]
impl Binary {
    /// Every binary, in file order.
    pub const ALL: &'static [Binary] = &[
        Self::HeroLivekitServer,
        Self::HeroLivekitAdmin,
        Self::LkBackend,
        Self::HeroDoHeroLivekit,
    ];
    /// The binary's name in `service.toml`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HeroLivekitServer => "hero_livekit_server",
            Self::HeroLivekitAdmin => "hero_livekit_admin",
            Self::LkBackend => "lk-backend",
            Self::HeroDoHeroLivekit => "hero_do_hero_livekit",
        }
    }
    /// The binary's kind.
    pub const fn kind(self) -> __service_manifest::core::BinaryKind {
        use __service_manifest::core::BinaryKind as K;
        match self {
            Self::HeroLivekitServer => K::Server,
            Self::HeroLivekitAdmin => K::Admin,
            Self::LkBackend => K::Server,
            Self::HeroDoHeroLivekit => K::Tool,
        }
    }
    /// The sibling that spawns and owns this binary, if any.
    #[allow(clippy::match_single_binding)]
    pub const fn spawned_by(self) -> __service_manifest::Option<Binary> {
        match self {
            Self::LkBackend => __service_manifest::Some(Self::HeroLivekitServer),
            _ => __service_manifest::None,
        }
    }
    /// Whether the supervisor starts this binary (a daemon kind, not spawned by a sibling).
    pub const fn is_started(self) -> bool {
        __service_manifest::core::is_started(self.kind(), self.spawned_by().is_some())
    }
    /// Looks a binary up by its `service.toml` name.
    pub fn from_name(name: &str) -> __service_manifest::Option<Self> {
        Self::ALL.iter().copied().find(|b| b.name() == name)
    }
}
/// The binaries the supervisor starts.
#[allow(dead_code)]
pub const STARTED: &[Binary] = &[Binary::HeroLivekitServer, Binary::HeroLivekitAdmin];
/// The binaries that are installed but never started.
#[allow(dead_code)]
pub const INSTALL_ONLY: &[Binary] = &[Binary::LkBackend, Binary::HeroDoHeroLivekit];
/// The validated manifest, decoded once on first use from the copy the macro embedded.
#[allow(dead_code)]
pub static MANIFEST: __service_manifest::LazyLock<__service_manifest::core::Manifest> = __service_manifest::LazyLock::new(||
__service_manifest::runtime::decode_embedded(
    "{\"service\":{\"name\":\"hero_livekit\",\"description\":\"LiveKit media rooms\"},\"binaries\":[{\"name\":\"hero_livekit_server\",\"kind\":\"server\",\"spawned_by\":null,\"socket\":\"hero_livekit/server.sock\",\"args\":[],\"env\":[],\"after\":[],\"start_timeout_ms\":10000,\"restart\":\"on-failure\",\"description\":null},{\"name\":\"hero_livekit_admin\",\"kind\":\"admin\",\"spawned_by\":null,\"socket\":\"hero_livekit/admin.sock\",\"args\":[],\"env\":[],\"after\":[\"hero_livekit_server\"],\"start_timeout_ms\":null,\"restart\":\"on-failure\",\"description\":null},{\"name\":\"lk-backend\",\"kind\":\"server\",\"spawned_by\":\"hero_livekit_server\",\"socket\":null,\"args\":[],\"env\":[],\"after\":[],\"start_timeout_ms\":null,\"restart\":\"on-failure\",\"description\":\"A real daemon, but its lifecycle belongs to hero_livekit_server\"},{\"name\":\"hero_do_hero_livekit\",\"kind\":\"tool\",\"spawned_by\":null,\"socket\":null,\"args\":[],\"env\":[],\"after\":[],\"start_timeout_ms\":null,\"restart\":\"on-failure\",\"description\":null}],\"dependencies\":[]}",
));
/// The registration for the supervisor: one action per started binary, each
/// carrying its `depends_on` edges. Install-only binaries have no action.
#[allow(dead_code)]
pub fn service_builder() -> __service_manifest::runtime::ServiceBuilder {
    __service_manifest::runtime::ServiceBuilder::from_manifest(&MANIFEST)
}
