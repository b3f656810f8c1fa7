//! Socket readiness: a socket is ready when it accepts a connection.
//!
//! The supervisor does not poll on a fixed beat. It watches the directory of every
//! socket it awaits (inotify, through `notify`) and connects when an entry appears there,
//! whether it was bound in place or renamed into place. `bind()` creates the file a
//! moment before `listen()` makes it accept, so after an event the connect is retried on
//! a short doubling schedule; a slow sweep covers file systems that send no events.
//! Every probe is a non-blocking connect: a listener with a full backlog cannot stall
//! the supervisor.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

/// Whether something accepts connections on `path` right now, without blocking:
/// a listener whose backlog is full (`EAGAIN`) is alive but not accepting yet.
pub fn accepts(path: &Path) -> bool {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType, connect, socket_with};
    let Ok(addr) = SocketAddrUnix::new(path) else { return false };
    let Ok(fd) =
        socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC, None)
    else {
        return false;
    };
    connect(&fd, &addr).is_ok()
}

/// Watches socket directories and reports each entry that appears.
pub struct SocketWatcher {
    watcher: Option<RecommendedWatcher>,
    watched: HashSet<PathBuf>,
}

impl SocketWatcher {
    /// A watcher that sends `wake(paths)` into `tx` when entries appear in a watched directory.
    pub fn new<M: Send + 'static>(tx: UnboundedSender<M>, wake: fn(Vec<PathBuf>) -> M) -> Self {
        use notify::EventKind;
        use notify::event::{ModifyKind, RenameMode};
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            // A socket bound in place is a create; one renamed into place is a rename "to"
            // (or "both", with the old and the new name).
            let appeared = match event.kind {
                EventKind::Create(_) => true,
                EventKind::Modify(ModifyKind::Name(mode)) => {
                    matches!(mode, RenameMode::To | RenameMode::Both | RenameMode::Any)
                }
                _ => false,
            };
            if appeared {
                let _ = tx.send(wake(event.paths));
            }
        });
        if let Err(e) = &watcher {
            tracing::warn!("no file watcher ({e}); readiness falls back to the slow sweep");
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

/// After an event, the connect is retried on this schedule (ms after the event): the
/// gap between `bind()` and `listen()` is short in nearly every daemon.
const QUICK_RETRY_MS: &[u64] = &[0, 1, 2, 4, 8, 16, 32, 64, 128, 256];
/// The fallback sweep over every awaited socket, for file systems that send no events
/// and for a `listen()` that comes long after its `bind()`.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// The sockets the engine awaits, and when each is worth a `connect()`.
///
/// A socket is probed when it is first awaited, on the quick schedule after an event
/// names it, and on the sweep. So the cost grows with what just happened, not with how
/// many sockets are awaited.
pub struct Awaited {
    /// Awaited paths and, when an event named one, the time of that event.
    paths: HashMap<PathBuf, Option<Instant>>,
    sweep_due: Instant,
}

impl Awaited {
    /// Nothing awaited.
    pub fn new() -> Self {
        Self { paths: HashMap::new(), sweep_due: Instant::now() }
    }

    /// Awaits `path`; returns true when it accepts already (and is then not awaited).
    pub fn add(&mut self, path: PathBuf, now: Instant) -> bool {
        if accepts(&path) {
            self.paths.remove(&path);
            return true;
        }
        if self.paths.is_empty() {
            self.sweep_due = now + SWEEP_EVERY;
        }
        self.paths.insert(path, None);
        false
    }

    /// Whether nothing is awaited.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Keeps only the paths `keep` says something still waits on.
    pub fn retain(&mut self, mut keep: impl FnMut(&Path) -> bool) {
        self.paths.retain(|p, _| keep(p));
    }

    /// Entries appeared: awaited ones go on the quick schedule.
    pub fn woken(&mut self, paths: &[PathBuf], now: Instant) {
        for p in paths {
            if let Some(since) = self.paths.get_mut(p) {
                *since = Some(now);
            }
        }
    }

    /// Probes what is due; returns the paths that now accept (no longer awaited).
    pub fn probe_due(&mut self, now: Instant) -> Vec<PathBuf> {
        let sweeping = now >= self.sweep_due;
        if sweeping {
            self.sweep_due = now + SWEEP_EVERY;
        }
        let mut ready = Vec::new();
        for (path, since) in &mut self.paths {
            let due = sweeping || since.is_some();
            if due && accepts(path) {
                ready.push(path.clone());
            } else if since.is_some_and(|t| {
                now.duration_since(t) > Duration::from_millis(QUICK_RETRY_MS[QUICK_RETRY_MS.len() - 1])
            }) {
                *since = None;
            }
        }
        for p in &ready {
            self.paths.remove(p);
        }
        ready
    }

    /// The next quick retry or sweep; `None` when nothing is awaited.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        if self.paths.is_empty() {
            return None;
        }
        let quick = self
            .paths
            .values()
            .flatten()
            .filter_map(|since| QUICK_RETRY_MS.iter().map(|ms| *since + Duration::from_millis(*ms)).find(|t| *t > now))
            .min();
        Some(quick.map_or(self.sweep_due, |q| q.min(self.sweep_due)))
    }
}

impl Default for Awaited {
    fn default() -> Self {
        Self::new()
    }
}
