//! A real supervisor process on private sockets, and real daemons (`sm-testd`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use service_manifest_runtime::api::{ActionStatus, Event, EventKind, RunState};
use service_manifest_runtime::{ActionDep, ActionSpec, BinaryKind, Client, ReadyGate, Relation, ServiceSpec};

pub const TESTD: &str = env!("CARGO_BIN_EXE_sm-testd");
pub const SUPERVISOR: &str = env!("CARGO_BIN_EXE_service-supervisor");

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub socket_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub tag: String,
    daemon: Option<Child>,
    /// `--stop-grace-ms`: between SIGTERM and SIGKILL.
    grace_ms: u64,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_grace(300)
    }

    /// A supervisor that waits `grace_ms` between SIGTERM and SIGKILL: a test that must act
    /// while a stop is under way makes it longer than any run can take, and ends the
    /// process itself.
    pub fn with_grace(grace_ms: u64) -> Self {
        let dir = tempfile::Builder::new().prefix("sm").tempdir_in("/tmp").unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        let tag = format!("tag-{}", root.file_name().unwrap().to_string_lossy());
        let mut h = Self {
            // A directory the supervisor creates itself, as it does for its default home.
            socket: root.join("run").join("sup.sock"),
            socket_dir: root.join("s"),
            bin_dir: root.join("bin"),
            tag,
            dir,
            daemon: None,
            grace_ms,
        };
        h.start_supervisor();
        h
    }

    /// Starts the supervisor process and waits until its socket accepts connections.
    pub fn start_supervisor(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("supervisor.log")).unwrap();
        let child = Command::new(SUPERVISOR)
            .args([
                "--socket",
                path(&self.socket),
                "--bin-dir",
                path(&self.bin_dir),
                "--socket-dir",
                path(&self.socket_dir),
                "--stop-grace-ms",
                &self.grace_ms.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&self.socket).is_err() {
            assert!(Instant::now() < deadline, "the supervisor did not come up:\n{}", self.supervisor_log());
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn supervisor_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("supervisor.log")).unwrap_or_default()
    }

    /// SIGKILL: no chance to stop anything or to save.
    pub fn kill_supervisor(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Where the supervisor keeps its registrations, records and logs.
    pub fn state_dir(&self) -> PathBuf {
        service_manifest_runtime::paths::state_dir_for(&self.socket)
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.socket).await.unwrap()
    }

    pub fn sock(&self, service: &str, action: &str) -> PathBuf {
        self.socket_dir.join(service).join(format!("{action}.sock"))
    }

    /// A daemon that binds its socket after `delay_ms`.
    pub fn daemon(&self, name: &str, delay_ms: u64) -> ActionSpec {
        ActionSpec::new(name, BinaryKind::Server)
            .exec(TESTD)
            .args(["--delay-ms", &delay_ms.to_string(), "--tag", &format!("{}@{name}", self.tag)])
            .restart(service_manifest_runtime::RestartPolicy::Never)
    }

    /// A daemon with a socket `<service>/<name>.sock` in the socket directory.
    pub fn served(&self, service: &str, name: &str, delay_ms: u64) -> ActionSpec {
        self.daemon(name, delay_ms).socket(format!("{service}/{name}.sock"))
    }

    /// The supervisor's children that exited and were never reaped.
    pub fn zombie_children(&self) -> usize {
        let Some(supervisor) = self.daemon.as_ref().map(Child::id) else { return 0 };
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                let Some(rest) = stat.rfind(')').and_then(|i| stat.get(i + 2..)) else { return false };
                let mut fields = rest.split(' ');
                let (state, ppid) = (fields.next(), fields.next().and_then(|p| p.parse::<u32>().ok()));
                state == Some("Z") && ppid == Some(supervisor)
            })
            .count()
    }

    /// A process that ignores SIGTERM, tagged `name`: only SIGKILL ends it.
    pub fn stubborn(&self, name: &str) -> ActionSpec {
        ActionSpec::new(name, BinaryKind::Server)
            .exec("/bin/sh")
            .args(["-c", "trap '' TERM; sleep 600 & wait", &format!("{}@{name}", self.tag)])
            .restart(service_manifest_runtime::RestartPolicy::Never)
    }

    /// The process groups of the live processes of the daemon `name`: a shell forking a
    /// child shows two processes for a moment, but only ever one group per instance.
    pub fn groups_of(&self, name: &str) -> std::collections::BTreeSet<u32> {
        self.tagged(name)
            .filter_map(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                let rest = stat.get(stat.rfind(')')? + 2..)?;
                let mut fields = rest.split(' ');
                (fields.next()? != "Z").then_some(())?;
                fields.nth(1)?.parse().ok()
            })
            .collect()
    }

    /// The pids of the processes with `name`'s tag among their arguments.
    fn tagged(&self, name: &str) -> impl Iterator<Item = u32> {
        let marker = format!("{}@{name}", self.tag);
        std::fs::read_dir("/proc").into_iter().flatten().flatten().filter_map(move |e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            cmd.split(|b| *b == 0).any(|a| a == marker.as_bytes()).then_some(pid)
        })
    }

    /// Waits until the stubborn daemon `name` (see [`Harness::stubborn`]) has set its
    /// trap: it counts as up from its exec, and a SIGTERM that arrives before the shell
    /// ran `trap` ends it, which a test about ignoring SIGTERM must not race with.
    pub fn wait_until_ignoring_term(&self, name: &str) {
        let term = 1u64 << (rustix::process::Signal::TERM.as_raw() - 1);
        let ignores_term = |pid: u32| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let mask = status.lines().find_map(|l| l.strip_prefix("SigIgn:")).map(str::trim).unwrap_or("0");
            u64::from_str_radix(mask, 16).is_ok_and(|m| m & term != 0)
        };
        for _ in 0..2000 {
            if self.tagged(name).next().is_some_and(ignores_term) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("{name} never came to ignore SIGTERM");
    }

    /// Counts the live processes of the daemon `name` started by this harness.
    pub fn processes_of(&self, name: &str) -> usize {
        let marker = format!("{}@{name}", self.tag);
        live_processes().filter(|cmd| cmd.split(' ').any(|arg| arg == marker)).count()
    }
}

fn live_processes() -> impl Iterator<Item = String> {
    std::fs::read_dir("/proc").into_iter().flatten().flatten().filter_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        if stat.rfind(')').and_then(|i| stat.get(i + 2..i + 3)) == Some("Z") {
            return None;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        Some(String::from_utf8_lossy(&cmd).replace('\0', " "))
    })
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(child) = &mut self.daemon {
            let _ = rustix_kill(child.id(), 15);
            let _ = child.wait();
        }
        // After a SIGKILL test nothing stopped the daemons: end every process we tagged.
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmd).contains(&self.tag) {
                let _ = rustix_kill(pid, 9);
            }
        }
    }
}

fn rustix_kill(pid: u32, signal: i32) -> std::io::Result<()> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).map_err(std::io::Error::other)?)
        .ok_or_else(|| std::io::Error::other("pid 0"))?;
    let signal = if signal == 9 { rustix::process::Signal::KILL } else { rustix::process::Signal::TERM };
    Ok(rustix::process::kill_process(pid, signal)?)
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn requires(service: &str, action: &str, socket: &Path) -> ActionDep {
    ActionDep::new(service).action(action).socket(path(socket)).relation(Relation::Requires).ready(ReadyGate::Socket)
}

pub fn service(name: &str, actions: Vec<ActionSpec>) -> ServiceSpec {
    ServiceSpec::new(name, actions)
}

/// Follows the journal until `done` holds for what has been seen, or panics after `limit`.
pub async fn events_until(client: &mut Client, limit: Duration, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + limit;
    let mut seen: Vec<Event> = Vec::new();
    loop {
        if done(&seen) {
            return seen;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "gave up waiting; journal so far:\n{seen:#?}");
        let since = seen.last().map_or(0, |e| e.seq);
        let wait = u64::try_from(left.as_millis()).unwrap_or(u64::MAX).max(1);
        seen.extend(client.events(since, wait).await.unwrap());
    }
}

/// Follows the journal from `since` until `action` has a `kind` event after it; returns
/// only the events after `since`.
pub async fn events_after(client: &mut Client, since: u64, action: &str, kind: &str) -> Vec<Event> {
    let events = events_until(client, Duration::from_secs(30), |e| {
        e.iter().any(|x| x.seq > since && x.action == action && kind_name(&x.kind) == kind)
    })
    .await;
    events.into_iter().filter(|e| e.seq > since).collect()
}

/// The position in `events` of the first `kind` of `action`.
pub fn first(events: &[Event], action: &str, kind: &str) -> Option<usize> {
    events.iter().position(|e| e.action == action && kind_name(&e.kind) == kind)
}

pub fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Waiting { .. } => "waiting",
        EventKind::PulledIn { .. } => "pulled_in",
        EventKind::Spawned { .. } => "spawned",
        EventKind::Adopted { .. } => "adopted",
        EventKind::Ready => "ready",
        EventKind::Stopping { .. } => "stopping",
        EventKind::Exited { .. } => "exited",
        EventKind::Failed { .. } => "failed",
        EventKind::Restarting { .. } => "restarting",
        EventKind::Health { health: service_manifest_runtime::api::HealthState::Healthy, .. } => "healthy",
        EventKind::Health { health: service_manifest_runtime::api::HealthState::Unhealthy, .. } => "unhealthy",
        EventKind::Health { .. } => "health",
    }
}

pub fn has(events: &[Event], action: &str, kind: &str) -> bool {
    first(events, action, kind).is_some()
}

/// `a` happened (its first occurrence) before `b`.
pub fn before(events: &[Event], a: (&str, &str), b: (&str, &str)) -> bool {
    match (first(events, a.0, a.1), first(events, b.0, b.1)) {
        (Some(x), Some(y)) => x < y,
        _ => false,
    }
}

pub fn state_of<'a>(statuses: &'a [ActionStatus], service: &str, action: &str) -> &'a ActionStatus {
    statuses
        .iter()
        .find(|s| s.service == service && s.action == action)
        .unwrap_or_else(|| panic!("no status for {service}/{action} in {statuses:#?}"))
}

pub fn all_ready(statuses: &[ActionStatus]) -> bool {
    statuses.iter().all(|s| s.state == RunState::Ready)
}
