//! What the supervisor and its clients trust, and how they check it.
//!
//! A directory of ours (the API socket's, the state directory, the socket directory)
//! is used only when nobody else can change what is in it: it must be owned by us and
//! writable by nobody else, and every directory on the way to it must be owned by us or
//! root and writable by nobody else, unless it is sticky like `/tmp` (then the entry in it
//! must be ours or root's, which the sticky bit keeps others from replacing). Symbolic
//! links on the way are followed only where they sit in such a directory. This is
//! OpenSSH's `safe_path` and tmux's check of `/tmp/tmux-UID`: once it passes, no other
//! user can plant or swap a file below it, so a registration read from there is one we
//! wrote, and a log or status file written there cannot be a link to someone else's.
//!
//! The other half is the socket's peer: the server refuses a peer of another uid, and
//! the client (`Client::connect`) refuses a server that is neither us nor root.

use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Symbolic links followed before a path is refused as a loop.
const MAX_LINKS: u32 = 40;

/// Why a path is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    /// Another user owns it, so they can change what is in it.
    #[error(
        "refusing to use {path}: it is owned by uid {owner} (mode {mode:04o}), not by this user (uid {us}); \
         remove it, or choose another directory (SERVICE_MANIFEST_HOME)"
    )]
    NotOwned {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Its permission bits.
        mode: u32,
        /// Our effective uid.
        us: u32,
    },
    /// Others may write to it.
    #[error(
        "refusing to use {path}: other users can write to it (owner uid {owner}, mode {mode:04o}); \
         `chmod go-w` it, or choose another directory (SERVICE_MANIFEST_HOME)"
    )]
    OpenToOthers {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Its permission bits.
        mode: u32,
    },
    /// Something on the way is not a directory.
    #[error("refusing to use {0}: it is not a directory")]
    NotADirectory(PathBuf),
    /// Too many symbolic links.
    #[error("refusing to use {0}: too many symbolic links")]
    Loop(PathBuf),
    /// It could not be created or examined.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Our effective uid.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Creates `dir` (and what is missing above it) with mode 0700, then checks that nobody
/// else can change it (see the module documentation). Returns its real path.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let ours = dir.path().join("state");
/// assert!(service_manifest_runtime::trust::private_dir(&ours).is_ok());
/// ```
pub fn private_dir(dir: &Path) -> Result<PathBuf, Untrusted> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    // The whole chain is checked after creating it: a directory another user made first
    // (the `/tmp` race) is refused below, whoever won.
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|source| Untrusted::Io {
        what: "cannot create",
        path: dir.clone(),
        source,
    })?;
    check_dir(&dir)
}

/// Checks that nobody but us (and root) can change `dir` or anything on the way to it.
/// Returns its real path.
pub fn check_dir(dir: &Path) -> Result<PathBuf, Untrusted> {
    let us = euid();
    let mut todo: Vec<OsString> = Vec::new();
    push_components(&mut todo, dir);
    let mut real = PathBuf::from("/");
    let mut real_meta = meta(&real, true)?;
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            real.pop();
            real_meta = meta(&real, true)?;
            continue;
        }
        let next = real.join(&part);
        let m = meta(&next, false)?;
        // In a sticky directory open to others (`/tmp`), only the owner of an entry can
        // replace it: it must be ours or root's.
        if open_to_others(&real_meta) && m.uid() != us && m.uid() != 0 {
            return Err(Untrusted::NotOwned { path: next, owner: m.uid(), mode: m.mode() & 0o7777, us });
        }
        if m.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(Untrusted::Loop(dir.to_path_buf()));
            }
            let target = std::fs::read_link(&next).map_err(|source| Untrusted::Io {
                what: "cannot read the link",
                path: next.clone(),
                source,
            })?;
            if target.is_absolute() {
                real = PathBuf::from("/");
                real_meta = meta(&real, true)?;
            }
            push_components(&mut todo, &target);
            continue;
        }
        if !m.is_dir() {
            return Err(Untrusted::NotADirectory(next));
        }
        if m.uid() != us && m.uid() != 0 {
            return Err(Untrusted::NotOwned { path: next, owner: m.uid(), mode: m.mode() & 0o7777, us });
        }
        if open_to_others(&m) && (todo.is_empty() || m.mode() & 0o1000 == 0) {
            // A sticky directory may lie on the way, never be one of ours.
            return Err(Untrusted::OpenToOthers { path: next, owner: m.uid(), mode: m.mode() & 0o7777 });
        }
        real = next;
        real_meta = m;
    }
    if real_meta.uid() != us {
        return Err(Untrusted::NotOwned { path: real, owner: real_meta.uid(), mode: real_meta.mode() & 0o7777, us });
    }
    if open_to_others(&real_meta) {
        return Err(Untrusted::OpenToOthers { path: real, owner: real_meta.uid(), mode: real_meta.mode() & 0o7777 });
    }
    Ok(real)
}

/// Group or others may write.
fn open_to_others(m: &std::fs::Metadata) -> bool {
    m.mode() & 0o022 != 0
}

/// Pushes `path`'s components so that the first is popped first.
fn push_components(todo: &mut Vec<OsString>, path: &Path) {
    let mut parts: Vec<OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_os_string()),
            Component::ParentDir => parts.push("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    todo.extend(parts.into_iter().rev());
}

fn meta(path: &Path, follow: bool) -> Result<std::fs::Metadata, Untrusted> {
    let m = if follow { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) };
    m.map_err(|source| Untrusted::Io { what: "cannot examine", path: path.to_path_buf(), source })
}

/// The flags to add to `open` for a file in one of our directories: a symbolic link
/// there is never followed (defence in depth: [`check_dir`] already keeps others out).
pub const NOFOLLOW: i32 = libc::O_NOFOLLOW;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_directory_of_ours_passes_and_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("a/b");
        let real = private_dir(&ours).unwrap();
        assert_eq!(real, std::fs::canonicalize(&ours).unwrap());
        assert_eq!(std::fs::metadata(&ours).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_directory_open_to_others_is_refused_naming_path_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = private_dir(&open.join("state")).unwrap_err().to_string();
        assert!(err.contains(&open.display().to_string()) && err.contains("0777"), "{err}");
        let err = check_dir(&open).unwrap_err().to_string();
        assert!(err.contains("other users can write"), "{err}");
    }

    #[test]
    fn a_link_to_a_private_directory_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let real = private_dir(&dir.path().join("real")).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(check_dir(&link).unwrap(), real);
        std::os::unix::fs::symlink("real/../real", dir.path().join("rel")).unwrap();
        assert_eq!(check_dir(&dir.path().join("rel")).unwrap(), real);
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "").unwrap();
        assert!(matches!(check_dir(&dir.path().join("f")), Err(Untrusted::NotADirectory(_))));
    }
}
