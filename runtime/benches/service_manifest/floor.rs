//! The floor: an orchestrator that knows the whole graph in advance and spawns each
//! daemon the instant its dependencies are ready, with nothing else to do. No
//! supervisor, no files, no journal, no sleeps.
//!
//! It watches the socket directory with inotify and connects (non-blocking) to a socket
//! as soon as an entry of that name is created or renamed there. A socket that exists
//! but refuses (bound, not yet listening) is retried in a tight loop, yielding the CPU
//! between rounds but never sleeping, until it accepts. `READY=1` datagrams arrive on
//! one `NOTIFY_SOCKET` per notify daemon. When a readiness releases several daemons at
//! once, they are spawned from one thread per core.
//!
//! `poll` is given a timeout only to notice a daemon that died or a run that hangs;
//! readiness is never found by a timeout.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::fs::inotify;
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

use crate::TESTD;
use crate::graph::{Graph, Marks, Readiness};
use crate::stamps::{self, Clock, Daemon, mono_now};

/// What a run of the floor measured.
pub struct FloorRun {
    /// From the first spawn to seeing the last daemon ready.
    pub wall_s: f64,
    /// Stopping them all: `SIGTERM` to each, then each reaped.
    pub stop_s: f64,
    pub marks: Marks,
    pub daemons: Vec<Option<Daemon>>,
}

/// Gives up on a run (it would otherwise wait forever for a daemon that died).
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `graph` once in a fresh directory under `base`, then stops every daemon.
pub fn run(graph: &Graph, base: &Path) -> FloorRun {
    let dir = tempfile::Builder::new().prefix("floor").tempdir_in(base).expect("floor directory");
    let mut floor = Floor::new(graph, dir.path());
    let t0 = Instant::now();
    floor.t0_mono = mono_now();
    let roots: Vec<usize> = (0..graph.nodes.len()).filter(|&i| graph.nodes[i].deps.is_empty()).collect();
    floor.spawn_all(roots);
    floor.wait_all_ready(t0);
    let wall_s = floor.last_ready.map_or(f64::NAN, |t| (t - floor.t0_mono) as f64 / 1e9);
    let daemons = (0..graph.nodes.len())
        .map(|i| graph.stamped.then(|| stamps::take(&floor.stamps[i], Duration::from_secs(10))).flatten())
        .collect();
    let stopping = Instant::now();
    floor.stop();
    let stop_s = stopping.elapsed().as_secs_f64();
    FloorRun {
        wall_s,
        stop_s,
        marks: Marks {
            clock: Clock::Mono,
            detected: std::mem::take(&mut floor.detected),
            spawn_began: std::mem::take(&mut floor.spawn_began),
        },
        daemons,
    }
}

enum Probe {
    Accepts,
    Refuses,
    Absent,
}

struct Floor<'g> {
    graph: &'g Graph,
    sockets: Vec<PathBuf>,
    addresses: Vec<Option<SocketAddrUnix>>,
    stamps: Vec<PathBuf>,
    notify: Vec<Option<(PathBuf, UnixDatagram)>>,
    by_name: HashMap<Vec<u8>, usize>,
    inotify: OwnedFd,
    dependents: Vec<Vec<usize>>,
    waiting_on: Vec<usize>,
    children: Vec<Option<Child>>,
    ready: Vec<bool>,
    not_ready: usize,
    /// Spawned socket daemons whose socket exists but refused a connection.
    refusing: Vec<usize>,
    detected: Vec<Option<u64>>,
    spawn_began: Vec<Option<u64>>,
    t0_mono: u64,
    last_ready: Option<u64>,
}

impl<'g> Floor<'g> {
    fn new(graph: &'g Graph, dir: &Path) -> Self {
        let n = graph.nodes.len();
        let sockets: Vec<PathBuf> = graph.nodes.iter().map(|node| dir.join(format!("{}.sock", node.name))).collect();
        let addresses = graph
            .nodes
            .iter()
            .zip(&sockets)
            .map(|(node, path)| {
                (node.readiness == Readiness::Socket).then(|| SocketAddrUnix::new(path.as_path()).expect("socket path"))
            })
            .collect();
        let notify = graph
            .nodes
            .iter()
            .map(|node| {
                (node.readiness == Readiness::Notify).then(|| {
                    let path = dir.join(format!("{}.notify", node.name));
                    let socket = UnixDatagram::bind(&path).expect("notify socket");
                    socket.set_nonblocking(true).expect("non-blocking notify socket");
                    (path, socket)
                })
            })
            .collect();
        let by_name = graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| node.readiness == Readiness::Socket)
            .map(|(i, node)| (format!("{}.sock", node.name).into_bytes(), i))
            .collect();
        let inotify = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).expect("inotify");
        inotify::add_watch(&inotify, dir, inotify::WatchFlags::CREATE | inotify::WatchFlags::MOVED_TO)
            .expect("inotify watch");
        let mut dependents = vec![Vec::new(); n];
        for (i, node) in graph.nodes.iter().enumerate() {
            for &d in &node.deps {
                dependents[d].push(i);
            }
        }
        Self {
            graph,
            stamps: graph.nodes.iter().map(|node| dir.join(format!("{}.stamps", node.name))).collect(),
            sockets,
            addresses,
            notify,
            by_name,
            inotify,
            dependents,
            waiting_on: graph.nodes.iter().map(|node| node.deps.len()).collect(),
            children: (0..n).map(|_| None).collect(),
            ready: vec![false; n],
            not_ready: n,
            refusing: Vec::new(),
            detected: vec![None; n],
            spawn_began: vec![None; n],
            t0_mono: 0,
            last_ready: None,
        }
    }

    fn command(&self, i: usize) -> Command {
        let mut command = Command::new(TESTD);
        command.args(self.graph.args(i, &self.sockets[i], &self.stamps[i]));
        if let Some((path, _)) = &self.notify[i] {
            command.env("NOTIFY_SOCKET", path);
        }
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        command
    }

    /// Spawns `released`, from one thread per core when there are several.
    fn spawn_all(&mut self, released: Vec<usize>) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(released.len());
        let spawn = |i: usize| {
            let mut command = self.command(i);
            let began = mono_now();
            let child = command.spawn().unwrap_or_else(|e| panic!("floor: cannot spawn sm-testd: {e}"));
            (i, began, child)
        };
        let spawned: Vec<(usize, u64, Child)> = if threads <= 1 {
            released.into_iter().map(spawn).collect()
        } else {
            let mut chunks = vec![Vec::new(); threads];
            for (k, i) in released.into_iter().enumerate() {
                chunks[k % threads].push(i);
            }
            std::thread::scope(|scope| {
                let spawn = &spawn;
                let others: Vec<_> = chunks[1..]
                    .iter()
                    .map(|chunk| scope.spawn(move || chunk.iter().map(|&i| spawn(i)).collect::<Vec<_>>()))
                    .collect();
                let mut all: Vec<_> = chunks[0].iter().map(|&i| spawn(i)).collect();
                for other in others {
                    all.extend(other.join().expect("spawning thread"));
                }
                all
            })
        };
        for (i, began, child) in spawned {
            self.spawn_began[i] = Some(began);
            self.children[i] = Some(child);
        }
    }

    fn probe(&self, i: usize) -> Probe {
        let Some(address) = &self.addresses[i] else { return Probe::Absent };
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        let Ok(fd) = rustix::net::socket_with(AddressFamily::UNIX, SocketType::STREAM, flags, None) else {
            return Probe::Absent;
        };
        match rustix::net::connect(&fd, address) {
            // A full backlog still means it listens.
            Ok(()) | Err(Errno::AGAIN) => Probe::Accepts,
            Err(Errno::CONNREFUSED) => Probe::Refuses,
            Err(_) => Probe::Absent,
        }
    }

    /// Records `i` ready and returns the daemons that no longer wait on anything.
    fn mark_ready(&mut self, i: usize, released: &mut Vec<usize>) {
        if self.ready[i] {
            return;
        }
        let now = mono_now();
        self.ready[i] = true;
        self.not_ready -= 1;
        self.detected[i] = Some(now);
        self.last_ready = Some(now);
        self.refusing.retain(|&r| r != i);
        for &j in &self.dependents[i] {
            self.waiting_on[j] -= 1;
            if self.waiting_on[j] == 0 {
                released.push(j);
            }
        }
    }

    fn check(&mut self, i: usize, released: &mut Vec<usize>) {
        if self.ready[i] || self.children[i].is_none() {
            return;
        }
        match self.probe(i) {
            Probe::Accepts => self.mark_ready(i, released),
            Probe::Refuses if !self.refusing.contains(&i) => self.refusing.push(i),
            Probe::Refuses | Probe::Absent => {}
        }
    }

    /// Reads every queued inotify event and notify datagram (without blocking) and
    /// probes what they name.
    fn drain(&mut self, released: &mut Vec<usize>) {
        let mut buffer = [std::mem::MaybeUninit::<u8>::uninit(); 8192];
        let mut names = Vec::new();
        let mut overflow = false;
        {
            let mut reader = inotify::Reader::new(self.inotify.as_fd(), &mut buffer);
            loop {
                match reader.next() {
                    Ok(event) => {
                        overflow |= event.events().contains(inotify::ReadFlags::QUEUE_OVERFLOW);
                        if let Some(i) = event.file_name().and_then(|n| self.by_name.get(n.to_bytes())) {
                            names.push(*i);
                        }
                    }
                    Err(Errno::INTR) => {}
                    Err(_) => break,
                }
            }
        }
        if overflow {
            names = (0..self.graph.nodes.len()).collect();
        }
        for i in names {
            self.check(i, released);
        }
        for i in 0..self.notify.len() {
            let mut said_ready = false;
            if let Some((_, socket)) = &self.notify[i] {
                let mut datagram = [0u8; 4096];
                while let Ok(len) = socket.recv(&mut datagram) {
                    said_ready |= datagram[..len].split(|&b| b == b'\n').any(|line| line == b"READY=1");
                }
            }
            if said_ready && self.children[i].is_some() {
                self.mark_ready(i, released);
            }
        }
    }

    fn wait_all_ready(&mut self, t0: Instant) {
        let mut released = Vec::new();
        while self.not_ready > 0 {
            self.drain(&mut released);
            for i in self.refusing.clone() {
                self.check(i, &mut released);
            }
            if !released.is_empty() {
                self.spawn_all(std::mem::take(&mut released));
                continue;
            }
            if !self.refusing.is_empty() {
                // Bound but not listening yet: retry at once, only letting others run.
                std::thread::yield_now();
                continue;
            }
            self.block(t0);
        }
    }

    /// Sleeps in `poll` until an inotify event or a datagram arrives.
    fn block(&mut self, t0: Instant) {
        let mut fds = vec![libc::pollfd { fd: self.inotify.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        fds.extend(self.notify.iter().flatten().map(|(_, s)| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }));
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
        let woken = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 250) };
        if woken == 0 {
            self.check_alive(t0);
        }
    }

    fn check_alive(&mut self, t0: Instant) {
        for (i, child) in self.children.iter_mut().enumerate() {
            if let Some(status) = child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("floor: {} exited ({status}) before the run ended", self.graph.nodes[i].name);
            }
        }
        assert!(t0.elapsed() < DEADLINE, "floor: the run did not finish within {DEADLINE:?}");
    }

    /// `SIGTERM` to every daemon (as a supervisor stops one), then reaps them all.
    fn stop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            // SAFETY: a signal to a child of this process, not yet reaped.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        }
        for child in self.children.iter_mut().flatten() {
            let _ = child.wait();
        }
    }
}

impl Drop for Floor<'_> {
    /// A failed run leaves no daemon behind.
    fn drop(&mut self) {
        self.stop();
    }
}
