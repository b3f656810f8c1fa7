/// The service's name, from `[service] name` (or the package name).
#[allow(dead_code)]
pub const SERVICE_NAME: &str = "hero_proxy";
/// The binaries declared in `service.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(dead_code)]
pub enum Binary {
    ///hero_proxy_server
    HeroProxyServer,
    ///hero_proxy
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
    pub const fn kind(self) -> ::service_manifest::__private::core::BinaryKind {
        match self {
            Self::HeroProxyServer => {
                ::service_manifest::__private::core::BinaryKind::Server
            }
            Self::HeroProxy => ::service_manifest::__private::core::BinaryKind::Cli,
        }
    }
    /// The sibling that spawns and owns this binary, if any.
    pub const fn spawned_by(self) -> ::core::option::Option<Binary> {
        match self {
            Self::HeroProxyServer => ::core::option::Option::None,
            Self::HeroProxy => ::core::option::Option::None,
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
            "hero_proxy_server" => ::core::option::Option::Some(Self::HeroProxyServer),
            "hero_proxy" => ::core::option::Option::Some(Self::HeroProxy),
            _ => ::core::option::Option::None,
        }
    }
}
/// The binaries the supervisor starts.
#[allow(dead_code)]
pub const STARTED: &[Binary] = &[Binary::HeroProxyServer];
/// The binaries that are installed but never started.
#[allow(dead_code)]
pub const INSTALL_ONLY: &[Binary] = &[Binary::HeroProxy];
/// The validated manifest, as static data.
#[allow(dead_code)]
pub const MANIFEST: ::service_manifest::__private::core::Manifest = ::service_manifest::__private::core::Manifest {
    service: ::service_manifest::__private::core::ServiceInfo {
        name: ::std::borrow::Cow::Borrowed("hero_proxy"),
        description: ::core::option::Option::Some(
            ::std::borrow::Cow::Borrowed("Reverse proxy that injects X-Hero-User"),
        ),
    },
    binaries: ::std::borrow::Cow::Borrowed(
        &[
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_proxy_server"),
                kind: ::service_manifest::__private::core::BinaryKind::Server,
                spawned_by: ::core::option::Option::None,
                socket: ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("hero_proxy/proxy.sock"),
                ),
                args: ::std::borrow::Cow::Borrowed(&[]),
                env: ::std::borrow::Cow::Borrowed(&[]),
                after: ::std::borrow::Cow::Borrowed(&[]),
                start_timeout_ms: ::core::option::Option::Some(10000u64),
                restart: ::service_manifest::__private::core::RestartPolicy::OnFailure,
                description: ::core::option::Option::None,
            },
            ::service_manifest::__private::core::Binary {
                name: ::std::borrow::Cow::Borrowed("hero_proxy"),
                kind: ::service_manifest::__private::core::BinaryKind::Cli,
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
                    "hero_proxy_server",
                    ::service_manifest::__private::core::BinaryKind::Server,
                )
                .socket("hero_proxy/proxy.sock")
                .restart(::service_manifest::__private::core::RestartPolicy::OnFailure)
                .start_timeout_ms(10000u64),
        )
}
