//! Socket readiness: a socket is ready when it accepts a connection.
//!
//! The supervisor does not poll on a fixed beat. It watches the directory of every
//! socket it awaits (inotify, through `notify`) and connects when an entry appears there,
//! whether it was bound in place or renamed into place. `bind()` creates the file before
//! `listen()` makes it accept, and nothing tells anyone when `listen()` comes, so a bound
//! socket that refuses is probed every half millisecond, then ever less often (see
//! [`Awaited`]); a slow sweep covers file systems that send no events.
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

/// While a bound socket refuses connections (its `listen()` has not come yet), it is
/// probed every half millisecond, and then ever less often: the interval is a thousandth
/// of the time since it was bound, at least [`FAST_PROBE`], until it reaches
/// [`SWEEP_EVERY`]. So a listen is seen at most about half a millisecond late for any
/// bind→listen gap up to half a second, and 0.1 % of the gap after that, while one
/// socket costs about 1,700 probes (a few microseconds each) in its first second and
/// about 2,300 more for every tenfold of waiting.
const FAST_PROBE: Duration = Duration::from_micros(500);
/// The interval grows as this fraction of the time since the bind.
const BACKOFF_DIVISOR: u32 = 1000;
/// Beyond this many sockets on the fast schedule at once, their interval grows with
/// their number ([`PER_SOCKET_BUDGET`] each), so a mass start of slow listeners costs
/// the supervisor about a tenth of a core however many there are.
const FAST_SOCKETS: u32 = 10;
/// See [`FAST_SOCKETS`].
const PER_SOCKET_BUDGET: Duration = Duration::from_micros(50);
/// The fallback sweep over every awaited socket, for file systems that send no events.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// When an awaited socket is next worth a `connect()`.
#[derive(Clone, Copy, Debug)]
struct Schedule {
    /// When its file appeared (the event, or the first probe that found it bound).
    bound_at: Instant,
    /// The next probe.
    next: Instant,
}

/// The sockets the engine awaits, and when each is worth a `connect()`.
///
/// A socket is probed when it is first awaited, on the fast schedule once its file
/// exists (an inotify event, or found bound when first awaited), and on the sweep. So the
/// cost grows with what just happened, not with how many sockets are awaited.
pub struct Awaited {
    /// Awaited paths and, once bound, their fast schedule.
    paths: HashMap<PathBuf, Option<Schedule>>,
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
        // Bound but not listening yet: the event for its bind may have come before anyone
        // awaited it, so the fast schedule starts now.
        let schedule = path.exists().then_some(Schedule { bound_at: now, next: now + FAST_PROBE });
        self.paths.insert(path, schedule);
        false
    }

    /// Whether nothing is awaited.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Entries appeared (bound or renamed into place): awaited ones are probed at once
    /// and then go on the fast schedule.
    pub fn woken(&mut self, paths: &[PathBuf], now: Instant) {
        for p in paths {
            if let Some(schedule) = self.paths.get_mut(p) {
                *schedule = Some(Schedule { bound_at: now, next: now });
            }
        }
    }

    /// Probes what is due and still `wanted` (the rest is no longer awaited); returns the
    /// paths that now accept (no longer awaited either).
    pub fn probe_due(&mut self, now: Instant, mut wanted: impl FnMut(&Path) -> bool) -> Vec<PathBuf> {
        let sweeping = now >= self.sweep_due;
        if sweeping {
            self.sweep_due = now + SWEEP_EVERY;
        }
        let floor = self.fast_interval_floor();
        let mut ready = Vec::new();
        let mut dropped = Vec::new();
        for (path, schedule) in &mut self.paths {
            let due = sweeping || schedule.is_some_and(|s| s.next <= now);
            if !due {
                continue;
            }
            if !wanted(path) {
                dropped.push(path.clone());
                continue;
            }
            if accepts(path) {
                ready.push(path.clone());
                continue;
            }
            if let Some(s) = schedule {
                let interval = (now.saturating_duration_since(s.bound_at) / BACKOFF_DIVISOR).max(floor);
                if interval >= SWEEP_EVERY {
                    *schedule = None;
                } else if s.next <= now {
                    s.next = now + interval;
                }
            }
        }
        for p in ready.iter().chain(&dropped) {
            self.paths.remove(p);
        }
        ready
    }

    /// The shortest interval of the fast schedule: [`FAST_PROBE`], stretched when many
    /// sockets are on it at once.
    fn fast_interval_floor(&self) -> Duration {
        let fast = self.paths.values().filter(|s| s.is_some()).count();
        let fast = u32::try_from(fast).unwrap_or(u32::MAX);
        if fast <= FAST_SOCKETS { FAST_PROBE } else { FAST_PROBE.max(PER_SOCKET_BUDGET.saturating_mul(fast)) }
    }

    /// The next fast probe or sweep; `None` when nothing is awaited.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.paths.is_empty() {
            return None;
        }
        let fast = self.paths.values().flatten().map(|s| s.next).min();
        Some(fast.map_or(self.sweep_due, |f| f.min(self.sweep_due)))
    }
}

impl Default for Awaited {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::OwnedFd;
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketType, bind, listen, socket};

    /// A socket bound at `path` that does not listen yet: what a daemon leaves between
    /// its `bind()` and its `listen()`.
    fn bound(path: &Path) -> OwnedFd {
        let fd = socket(AddressFamily::UNIX, SocketType::STREAM, None).expect("socket");
        bind(&fd, &SocketAddrUnix::new(path).expect("address")).expect("bind");
        fd
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_bound_socket_is_probed_every_half_millisecond_then_ever_less_often_until_it_listens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("slow.sock");
        let fd = bound(&path);
        let t0 = Instant::now();
        let mut awaited = Awaited::new();

        assert!(!awaited.add(path.clone(), t0), "a bound socket that does not listen is not ready");
        assert_eq!(awaited.next_deadline(), Some(t0 + FAST_PROBE));
        assert!(awaited.probe_due(t0 + ms(1), |_| true).is_empty());
        assert_eq!(awaited.next_deadline(), Some(t0 + ms(1) + FAST_PROBE), "still half a millisecond apart");

        // Ten seconds on, the interval is a thousandth of the wait (and comes before the
        // sweep this probe rescheduled).
        assert!(awaited.probe_due(t0 + ms(10_000), |_| true).is_empty());
        assert_eq!(awaited.next_deadline(), Some(t0 + ms(10_010)));

        // After long enough only the sweep is left.
        assert!(awaited.probe_due(t0 + ms(300_000), |_| true).is_empty());
        let next = awaited.next_deadline().expect("still awaited");
        assert!(next >= t0 + ms(300_000), "no fast probe is left: {:?}", next - t0);

        listen(&fd, 1).expect("listen");
        assert_eq!(awaited.probe_due(next, |_| true), vec![path]);
        assert!(awaited.is_empty());
        assert_eq!(awaited.next_deadline(), None, "nothing awaited sets no timer");
    }

    #[test]
    fn a_socket_nothing_waits_on_is_dropped_when_next_due_and_then_sets_no_timer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("abandoned.sock");
        let _fd = bound(&path);
        let t0 = Instant::now();
        let mut awaited = Awaited::new();
        assert!(!awaited.add(path.clone(), t0));
        // Not yet due: nothing is asked, nothing dropped.
        let mut asked = 0;
        assert!(
            awaited
                .probe_due(t0, |_| {
                    asked += 1;
                    false
                })
                .is_empty()
        );
        assert_eq!((asked, awaited.next_deadline()), (0, Some(t0 + FAST_PROBE)));
        // Due, and nothing waits on it any more (a stop, a timeout).
        assert!(
            awaited
                .probe_due(t0 + ms(1), |p| {
                    asked += 1;
                    p != path
                })
                .is_empty()
        );
        assert_eq!(asked, 1);
        assert!(awaited.is_empty());
        assert_eq!(awaited.next_deadline(), None);
    }

    #[test]
    fn a_socket_not_yet_bound_waits_for_its_event_then_is_probed_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("later.sock");
        let t0 = Instant::now();
        let mut awaited = Awaited::new();
        assert!(!awaited.add(path.clone(), t0));
        assert_eq!(awaited.next_deadline(), Some(t0 + SWEEP_EVERY), "only the sweep while nothing is there");

        let fd = bound(&path);
        let t1 = t0 + ms(5);
        awaited.woken(std::slice::from_ref(&path), t1);
        assert_eq!(awaited.next_deadline(), Some(t1), "an event is probed at once");
        assert!(awaited.probe_due(t1, |_| true).is_empty());
        listen(&fd, 1).expect("listen");
        assert_eq!(awaited.probe_due(t1 + ms(1), |_| true), vec![path]);
    }

    #[test]
    fn a_socket_renamed_into_place_is_ready_on_its_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("final.sock");
        let staging = dir.path().join("final.sock.tmp");
        let t0 = Instant::now();
        let mut awaited = Awaited::new();
        assert!(!awaited.add(path.clone(), t0));
        let fd = bound(&staging);
        listen(&fd, 1).expect("listen");
        std::fs::rename(&staging, &path).expect("rename");
        awaited.woken(std::slice::from_ref(&path), t0 + ms(1));
        assert_eq!(awaited.probe_due(t0 + ms(1), |_| true), vec![path]);
    }

    #[test]
    fn many_slow_listeners_at_once_share_a_bounded_probing_budget() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t0 = Instant::now();
        let mut awaited = Awaited::new();
        let count = 200u32;
        let _fds: Vec<OwnedFd> = (0..count)
            .map(|i| {
                let path = dir.path().join(format!("{i}.sock"));
                let fd = bound(&path);
                assert!(!awaited.add(path, t0));
                fd
            })
            .collect();
        assert!(awaited.probe_due(t0 + ms(1), |_| true).is_empty());
        let next = awaited.next_deadline().expect("awaited");
        assert_eq!(next - (t0 + ms(1)), PER_SOCKET_BUDGET * count, "200 sockets: one round every 10 ms");
    }

    #[test]
    fn a_real_watcher_reports_a_bind_and_a_rename_into_a_watched_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut watcher = SocketWatcher::new(tx, |paths| paths);
        let path = dir.path().join("sub").join("a.sock");
        watcher.watch(&path);

        let _fd = bound(&path);
        let staging = dir.path().join("sub").join("b.tmp");
        let renamed = dir.path().join("sub").join("b.sock");
        let _fd2 = bound(&staging);
        std::fs::rename(&staging, &renamed).expect("rename");

        let mut seen = HashSet::new();
        while !(seen.contains(&path) && seen.contains(&renamed)) {
            let paths = rx.blocking_recv().expect("the watcher keeps running");
            seen.extend(paths);
        }
    }
}
