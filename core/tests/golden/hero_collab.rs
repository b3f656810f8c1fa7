/// The service's name, from `[service] name` (or the package name).
#[allow(dead_code)]
pub const SERVICE_NAME: &str = "hero_collab";
/// The binaries declared in `service.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(dead_code)]
pub enum Binary {
    ///hero_collab_server
    HeroCollabServer,
    ///hero_collab_admin
    HeroCollabAdmin,
    ///hero_collab
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
    pub const fn kind(self) -> ::service_manifest::__private::core::BinaryKind {
        match self {
            Self::HeroCollabServer => {
                ::service_manifest::__private::core::BinaryKind::Server
            }
            Self::HeroCollabAdmin => {
                ::service_manifest::__private::core::BinaryKind::Admin
            }
            Self::HeroCollab => ::service_manifest::__private::core::BinaryKind::Cli,
        }
    }
    /// The sibling that spawns and owns this binary, if any.
    pub const fn spawned_by(self) -> ::core::option::Option<Binary> {
        match self {
            Self::HeroCollabServer => ::core::option::Option::None,
            Self::HeroCollabAdmin => ::core::option::Option::None,
            Self::HeroCollab => ::core::option::Option::None,
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
            "hero_collab_server" => ::core::option::Option::Some(Self::HeroCollabServer),
            "hero_collab_admin" => ::core::option::Option::Some(Self::HeroCollabAdmin),
            "hero_collab" => ::core::option::Option::Some(Self::HeroCollab),
            _ => ::core::option::Option::None,
        }
    }
}
/// The binaries the supervisor starts.
#[allow(dead_code)]
pub const STARTED: &[Binary] = &[Binary::HeroCollabServer, Binary::HeroCollabAdmin];
/// The binaries that are installed but never started.
#[allow(dead_code)]
pub const INSTALL_ONLY: &[Binary] = &[Binary::HeroCollab];
/// The validated manifest, as static data.
#[allow(dead_code)]
pub const MANIFEST: ::service_manifest::__private::core::Manifest = ::service_manifest::__private::core::Manifest {
    service: ::service_manifest::__private::core::ServiceInfo {
        name: ::std::borrow::Cow::Borrowed("hero_collab"),
        description: ::core::option::Option::Some(
            ::std::borrow::Cow::Borrowed(
                "Collaborative documents, served behind hero_proxy",
            ),
        ),
    },
    binaries: ::std::borrow::Cow::Borrowed(
        &[
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_collab_server"),
                kind: ::service_manifest::__private::core::BinaryKind::Server,
                spawned_by: ::core::option::Option::None,
                socket: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_collab/server.sock"),
                ),
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(&[]),
                start_timeout_ms: ::core::option::Option::Some(10000u64),
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("The collaboration API"),
                ),
            },
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_collab_admin"),
                kind: ::service_manifest::__private::core::BinaryKind::Admin,
                spawned_by: ::core::option::Option::None,
                socket: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_collab/admin.sock"),
                ),
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(
                    &[::std::borrow::Cow::Borrowed("hero_collab_server")],
                ),
                start_timeout_ms: ::core::option::Option::None,
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("The admin UI; talks to the server"),
                ),
            },
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_collab"),
                kind: ::service_manifest::__private::core::BinaryKind::Cli,
                spawned_by: ::core::option::Option::None,
                socket: ::core::option::Option::None,
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(&[]),
                start_timeout_ms: ::core::option::Option::None,
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed(
                        "This command-line tool: installed, never started",
                    ),
                ),
            },
        ],
    ),
    dependencies: ::std::borrow::Cow::Borrowed(
        &[
            ::service_manifest::__private::core::Dependency {
                repo: ::std::borrow::Cow::Borrowed("hero_proxy"),
                crate_name: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_proxy_server"),
                ),
                bin: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_proxy_server"),
                ),
                socket: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_proxy/proxy.sock"),
                ),
                relation: ::service_manifest::__private::core::Relation::Requires,
                ready: ::service_manifest::__private::core::ReadyGate::Socket,
                timeout_ms: ::core::option::Option::Some(15000u64),
                applies_to: ::std::borrow::Cow::Borrowed(
                    &[::std::borrow::Cow::Borrowed("hero_collab_server")],
                ),
            },
        ],
    ),
};
/// The registration for the supervisor: one action per started binary, each
/// carrying its `depends_on` edges. Install-only binaries have no action.
#[allow(dead_code)]
pub fn service_builder() -> ::service_manifest::__private::runtime::ServiceBuilder {
    ::service_manifest::__private::runtime::ServiceBuilder::new(SERVICE_NAME)
        .action(
            ::service_manifest::__private::runtime::ActionSpec::new(
                    "hero_collab_server",
                    ::service_manifest::__private::core::BinaryKind::Server,
                )
                .socket("hero_collab/server.sock")
                .restart(::service_manifest::__private::core::RestartPolicy::OnFailure)
                .start_timeout_ms(10000u64)
                .depends_on(
                    ::service_manifest::__private::runtime::ActionDep::new("hero_proxy")
                        .action("hero_proxy_server")
                        .socket("hero_proxy/proxy.sock")
                        .relation(
                            ::service_manifest::__private::core::Relation::Requires,
                        )
                        .ready(::service_manifest::__private::core::ReadyGate::Socket)
                        .timeout_ms(15000u64)
                        .crate_name("hero_proxy_server"),
                ),
        )
        .action(
            ::service_manifest::__private::runtime::ActionSpec::new(
                    "hero_collab_admin",
                    ::service_manifest::__private::core::BinaryKind::Admin,
                )
                .socket("hero_collab/admin.sock")
                .restart(::service_manifest::__private::core::RestartPolicy::OnFailure)
                .depends_on(
                    ::service_manifest::__private::runtime::ActionDep::new("hero_collab")
                        .action("hero_collab_server")
                        .socket("hero_collab/server.sock")
                        .relation(
                            ::service_manifest::__private::core::Relation::Requires,
                        )
                        .ready(::service_manifest::__private::core::ReadyGate::Socket)
                        .timeout_ms(10000u64),
                ),
        )
}
