/// The service's name, from `[service] name` (or the package name).
#[allow(dead_code)]
pub const SERVICE_NAME: &str = "hero_livekit";
/// The binaries declared in `service.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(dead_code)]
pub enum Binary {
    ///hero_livekit_server
    HeroLivekitServer,
    ///hero_livekit_admin
    HeroLivekitAdmin,
    ///lk-backend
    LkBackend,
    ///hero_do_hero_livekit
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
    pub const fn kind(self) -> ::service_manifest::__private::core::BinaryKind {
        match self {
            Self::HeroLivekitServer => {
                ::service_manifest::__private::core::BinaryKind::Server
            }
            Self::HeroLivekitAdmin => {
                ::service_manifest::__private::core::BinaryKind::Admin
            }
            Self::LkBackend => ::service_manifest::__private::core::BinaryKind::Server,
            Self::HeroDoHeroLivekit => {
                ::service_manifest::__private::core::BinaryKind::Tool
            }
        }
    }
    /// The sibling that spawns and owns this binary, if any.
    pub const fn spawned_by(self) -> ::core::option::Option<Binary> {
        match self {
            Self::HeroLivekitServer => ::core::option::Option::None,
            Self::HeroLivekitAdmin => ::core::option::Option::None,
            Self::LkBackend => ::core::option::Option::Some(Self::HeroLivekitServer),
            Self::HeroDoHeroLivekit => ::core::option::Option::None,
        }
    }
    /// Whether the supervisor starts this binary (a daemon kind, not spawned by a sibling).
    pub const fn is_started(self) -> bool {
        ::service_manifest::__private::core::is_started(
            self.kind(),
            self.spawned_by().is_some(),
        )
    }
    /// Looks a binary up by its `service.toml` name.
    pub fn from_name(name: &str) -> ::core::option::Option<Self> {
        match name {
            "hero_livekit_server" => {
                ::core::option::Option::Some(Self::HeroLivekitServer)
            }
            "hero_livekit_admin" => ::core::option::Option::Some(Self::HeroLivekitAdmin),
            "lk-backend" => ::core::option::Option::Some(Self::LkBackend),
            "hero_do_hero_livekit" => {
                ::core::option::Option::Some(Self::HeroDoHeroLivekit)
            }
            _ => ::core::option::Option::None,
        }
    }
}
/// The binaries the supervisor starts.
#[allow(dead_code)]
pub const STARTED: &[Binary] = &[Binary::HeroLivekitServer, Binary::HeroLivekitAdmin];
/// The binaries that are installed but never started.
#[allow(dead_code)]
pub const INSTALL_ONLY: &[Binary] = &[Binary::LkBackend, Binary::HeroDoHeroLivekit];
/// The validated manifest, as static data.
#[allow(dead_code)]
pub const MANIFEST: ::service_manifest::__private::core::Manifest = ::service_manifest::__private::core::Manifest {
    service: ::service_manifest::__private::core::ServiceInfo {
        name: ::std::borrow::Cow::Borrowed("hero_livekit"),
        description: ::core::option::Option::Some(
            ::std::borrow::Cow::Borrowed("LiveKit media rooms"),
        ),
    },
    binaries: ::std::borrow::Cow::Borrowed(
        &[
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_livekit_server"),
                kind: ::service_manifest::__private::core::BinaryKind::Server,
                spawned_by: ::core::option::Option::None,
                socket: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_livekit/server.sock"),
                ),
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(&[]),
                start_timeout_ms: ::core::option::Option::Some(10000u64),
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::None,
            },
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_livekit_admin"),
                kind: ::service_manifest::__private::core::BinaryKind::Admin,
                spawned_by: ::core::option::Option::None,
                socket: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_livekit/admin.sock"),
                ),
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(
                    &[::std::borrow::Cow::Borrowed("hero_livekit_server")],
                ),
                start_timeout_ms: ::core::option::Option::None,
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::None,
            },
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("lk-backend"),
                kind: ::service_manifest::__private::core::BinaryKind::Server,
                spawned_by: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_livekit_server"),
                ),
                socket: ::core::option::Option::None,
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(&[]),
                start_timeout_ms: ::core::option::Option::None,
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed(
                        "A real daemon, but its lifecycle belongs to hero_livekit_server",
                    ),
                ),
            },
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_do_hero_livekit"),
                kind: ::service_manifest::__private::core::BinaryKind::Tool,
                spawned_by: ::core::option::Option::None,
                socket: ::core::option::Option::None,
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(&[]),
                start_timeout_ms: ::core::option::Option::None,
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::None,
            },
        ],
    ),
    dependencies: ::std::borrow::Cow::Borrowed(&[]),
};
/// The registration for the supervisor: one action per started binary, each
/// carrying its `depends_on` edges. Install-only binaries have no action.
#[allow(dead_code)]
pub fn service_builder() -> ::service_manifest::__private::runtime::ServiceBuilder {
    ::service_manifest::__private::runtime::ServiceBuilder::new(SERVICE_NAME)
        .action(
            ::service_manifest::__private::runtime::ActionSpec::new(
                    "hero_livekit_server",
                    ::service_manifest::__private::core::BinaryKind::Server,
                )
                .socket("hero_livekit/server.sock")
                .restart(::service_manifest::__private::core::RestartPolicy::OnFailure)
                .start_timeout_ms(10000u64),
        )
        .action(
            ::service_manifest::__private::runtime::ActionSpec::new(
                    "hero_livekit_admin",
                    ::service_manifest::__private::core::BinaryKind::Admin,
                )
                .socket("hero_livekit/admin.sock")
                .restart(::service_manifest::__private::core::RestartPolicy::OnFailure)
                .depends_on(
                    ::service_manifest::__private::runtime::ActionDep::new(
                            "hero_livekit",
                        )
                        .action("hero_livekit_server")
                        .socket("hero_livekit/server.sock")
                        .relation(
                            ::service_manifest::__private::core::Relation::Requires,
                        )
                        .ready(::service_manifest::__private::core::ReadyGate::Socket)
                        .timeout_ms(10000u64),
                ),
        )
}
