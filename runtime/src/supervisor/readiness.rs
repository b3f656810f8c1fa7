//! Socket readiness: a socket is ready when it accepts a connection.
//!
//! The supervisor does not poll on a fixed beat. It watches the directory of every
//! socket it waits on (inotify, through `notify`) and tries to connect when an entry
//! appears ([`Probes`]); a slow fallback sweep covers file systems that send no events.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

/// Whether something accepts connections on `path` right now.
pub fn accepts(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

/// Watches socket directories and reports each new entry's path.
pub struct SocketWatcher {
    watcher: Option<RecommendedWatcher>,
    watched: HashSet<PathBuf>,
}

impl SocketWatcher {
    /// A watcher that sends `wake(paths)` into `tx` when entries appear in a watched directory.
    pub fn new<M: Send + 'static>(tx: UnboundedSender<M>, wake: fn(Vec<PathBuf>) -> M) -> Self {
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && event.kind.is_create()
            {
                let _ = tx.send(wake(event.paths));
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

/// After a socket event, the connect is retried on this doubling schedule: `bind()`
/// creates the file a moment before `listen()` makes it accept.
const QUICK_RETRY_MS: &[u64] = &[0, 1, 2, 4, 8, 16, 32, 64, 128];
/// How long a socket stays fresh after its event: the span of the quick schedule.
const FRESH_FOR: Duration = Duration::from_millis(256);
/// The slow fallback sweep, while anything waits, for file systems that send no events.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// Decides when a socket is worth a `connect()`, and remembers the last answer.
///
/// A socket is probed while it is fresh (an event named it, or a dependent just began
/// waiting on it) and on the fallback sweep; otherwise its last answer stands. So the
/// cost of a pass grows with what just happened, not with how many sockets exist.
pub struct Probes {
    fresh: HashMap<PathBuf, Instant>,
    known: HashMap<PathBuf, bool>,
    sweep_due: Instant,
    sweeping: bool,
}

impl Probes {
    /// Nothing fresh, nothing known; the first pass that has something pending sweeps.
    pub fn new() -> Self {
        Self { fresh: HashMap::new(), known: HashMap::new(), sweep_due: Instant::now(), sweeping: false }
    }

    /// Probes `path` on the quick schedule from now.
    pub fn freshen(&mut self, path: &Path, now: Instant) {
        self.fresh.insert(path.to_path_buf(), now);
    }

    /// Forgets that `path` accepted (a new server is about to bind it).
    pub fn reset(&mut self, path: &Path) {
        self.known.remove(path);
    }

    /// Starts a reconcile: decides whether it sweeps every socket, and drops stale fresh entries.
    pub fn begin(&mut self, now: Instant, pending: bool) {
        self.sweeping = pending && now >= self.sweep_due;
        if self.sweeping {
            self.sweep_due = now + SWEEP_EVERY;
        }
        self.fresh.retain(|_, since| now.duration_since(*since) < FRESH_FOR);
    }

    /// Whether `path` accepts connections, connecting only when it is fresh or a sweep is on.
    pub fn accepts(&mut self, path: &Path) -> bool {
        if !(self.sweeping || self.fresh.contains_key(path)) {
            return self.known.get(path).copied().unwrap_or(false);
        }
        let ok = accepts(path);
        self.known.insert(path.to_path_buf(), ok);
        if ok {
            self.fresh.remove(path);
        }
        ok
    }

    /// The next quick retry or sweep; `None` when nothing is fresh and nothing pending.
    pub fn next_deadline(&self, now: Instant, pending: bool) -> Option<Instant> {
        let quick = self
            .fresh
            .values()
            .filter_map(|since| QUICK_RETRY_MS.iter().map(|ms| *since + Duration::from_millis(*ms)).find(|t| *t > now))
            .min();
        let sweep = pending.then_some(self.sweep_due.max(now));
        quick.into_iter().chain(sweep).min()
    }
}

impl Default for Probes {
    fn default() -> Self {
        Self::new()
    }
}
