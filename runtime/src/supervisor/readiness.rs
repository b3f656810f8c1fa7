//! Socket readiness: a socket is ready when it accepts a connection.
//!
//! The supervisor does not poll on a fixed beat. It watches the directory of every
//! socket it waits on (inotify, through `notify`) and tries to connect when an entry
//! appears; a slow fallback poll covers file systems that send no events.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

/// Whether something accepts connections on `path` right now.
pub fn accepts(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

/// Watches socket directories and reports every change as a wake-up.
pub struct SocketWatcher {
    watcher: Option<RecommendedWatcher>,
    watched: HashSet<PathBuf>,
}

impl SocketWatcher {
    /// A watcher that sends `wake()` into `tx` on any change in a watched directory.
    pub fn new<M: Send + 'static>(tx: UnboundedSender<M>, wake: fn() -> M) -> Self {
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| e.kind.is_create() || e.kind.is_modify()) {
                let _ = tx.send(wake());
            }
        });
        if let Err(e) = &watcher {
            tracing::warn!("no file watcher ({e}); readiness falls back to polling");
        }
        Self { watcher: watcher.ok(), watched: HashSet::new() }
    }

    /// Watches the directory of `socket`, creating it (mode 0700) if needed.
    pub fn watch(&mut self, socket: &Path) {
        let Some(dir) = socket.parent() else { return };
        if self.watched.contains(dir) {
            return;
        }
        if let Err(e) = create_private_dir(dir) {
            tracing::warn!("cannot create socket directory {}: {e}", dir.display());
        }
        if let Some(w) = &mut self.watcher {
            match w.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir.to_path_buf());
                }
                Err(e) => tracing::warn!("cannot watch {}: {e}", dir.display()),
            }
        }
    }
}

/// Creates `dir` and its parents; new directories get mode 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}
