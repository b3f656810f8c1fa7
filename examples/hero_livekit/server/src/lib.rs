//! The part of `hero_livekit_server` that spawns and owns `lk-backend`, in a crate of its
//! own: a second crate of the hero_livekit service, reading the same `service.toml` as
//! the service's CLI (the `hero_livekit` example of the root crate).
//!
//! The macro's path is relative to the calling crate's `Cargo.toml`, so this crate, one
//! directory below the manifest, names it `"../service.toml"` while the root crate names
//! it `"examples/hero_livekit/service.toml"`: one file, one list of binaries and sockets,
//! no copy to keep in step.
//!
//! ```
//! use hero_livekit_server::{Binary, owned_binaries};
//!
//! assert_eq!(owned_binaries(), [Binary::LkBackend]);
//! assert_eq!(hero_livekit_server::socket(), Some("hero_livekit/server.sock"));
//! ```

use std::path::Path;
use std::process::Command;

mod livekit {
    service_manifest::service_manifest!("../service.toml");
}

pub use livekit::{Binary, INSTALL_ONLY, MANIFEST, SERVICE_NAME, STARTED, service_builder};

/// The binaries this server spawns and owns: every one whose `spawned_by` names it.
///
/// ```
/// assert_eq!(hero_livekit_server::owned_binaries(), [hero_livekit_server::Binary::LkBackend]);
/// ```
pub fn owned_binaries() -> Vec<Binary> {
    Binary::ALL.iter().copied().filter(|b| b.spawned_by() == Some(Binary::HeroLivekitServer)).collect()
}

/// The command that starts `binary` from `bin_dir` (where the supervisor found this
/// server), or `None` when this server does not own it: the supervisor starts the others.
///
/// ```
/// use std::path::Path;
/// use hero_livekit_server::{Binary, owned_command};
///
/// let c = owned_command(Path::new("bin"), Binary::LkBackend).unwrap();
/// assert_eq!(c.get_program(), Path::new("bin/lk-backend"));
/// assert!(owned_command(Path::new("bin"), Binary::HeroLivekitAdmin).is_none());
/// ```
pub fn owned_command(bin_dir: &Path, binary: Binary) -> Option<Command> {
    owned_binaries().contains(&binary).then(|| Command::new(bin_dir.join(binary.name())))
}

/// This server's own socket, relative to the socket directory, as `service.toml` names it.
///
/// ```
/// assert_eq!(hero_livekit_server::socket(), Some("hero_livekit/server.sock"));
/// ```
pub fn socket() -> Option<&'static str> {
    let me = Binary::HeroLivekitServer.name();
    MANIFEST.binaries.iter().find(|b| b.name == me).and_then(|b| b.socket.as_deref())
}
