//! The embedded supervisor as a real process on private sockets, starting the same
//! graphs the floor starts, and what its journal says about each run.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use service_manifest_runtime::api::{Event, EventKind, RunState, WaitFor};
use service_manifest_runtime::{ActionDep, ActionSpec, BinaryKind, Client, ReadyGate, Relation, ServiceSpec};

use crate::graph::{Graph, Marks, Readiness};
use crate::machine::home_base;
use crate::stamps::{self, Clock, Daemon};
use crate::{SUPERVISOR, TESTD};

pub struct Supervisor {
    pub dir: tempfile::TempDir,
    child: Child,
    /// The last journal entry already read.
    since: u64,
}

/// What a run under the supervisor measured.
pub struct SupervisedRun {
    /// From asking it to start to its answer that everything is ready.
    pub wall_s: f64,
    pub marks: Marks,
    pub daemons: Vec<Option<Daemon>>,
}

impl Supervisor {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("smb").tempdir_in(home_base()).expect("tempdir");
        std::fs::create_dir_all(dir.path().join("stamps")).expect("stamps directory");
        let log = std::fs::File::create(dir.path().join("supervisor.log")).expect("log");
        // `SM_BENCH_SUPERVISOR` runs another build (an earlier commit's) against the same
        // floor and daemons, for a before-and-after in one run.
        let program = std::env::var_os("SM_BENCH_SUPERVISOR").unwrap_or_else(|| SUPERVISOR.into());
        let child = Command::new(program)
            .arg("--socket")
            .arg(dir.path().join("sup.sock"))
            .arg("--socket-dir")
            .arg(dir.path().join("s"))
            .arg("--bin-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn supervisor");
        let sup = Self { dir, child, since: 0 };
        // Setting up, not measured: the supervisor's own socket is renamed into place.
        while std::os::unix::net::UnixStream::connect(sup.socket()).is_err() {
            std::thread::sleep(Duration::from_millis(2));
        }
        sup
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sup.sock")
    }

    fn sock(&self, name: &str) -> PathBuf {
        self.dir.path().join("s").join(format!("{name}.sock"))
    }

    fn stamps(&self, name: &str) -> PathBuf {
        self.dir.path().join("stamps").join(name)
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.socket()).await.expect("connect")
    }

    /// Node `i` as a service of one action, requiring the services of its dependencies.
    pub fn spec(&self, graph: &Graph, i: usize) -> ServiceSpec {
        let node = &graph.nodes[i];
        let socket = self.sock(&node.name);
        let mut action = ActionSpec::new(&node.name, BinaryKind::Server)
            .exec(TESTD)
            .args(graph.args(i, &socket, &self.stamps(&node.name)))
            .restart(service_manifest_runtime::RestartPolicy::Never)
            .start_timeout_ms(60_000);
        action = match node.readiness {
            Readiness::Socket => action.socket(socket.display().to_string()),
            Readiness::Notify => action.notify(),
        };
        for &d in &node.deps {
            let dep = &graph.nodes[d];
            let gate = ActionDep::new(&dep.name).action(&dep.name).relation(Relation::Requires);
            action = action.depends_on(match dep.readiness {
                Readiness::Socket => gate.socket(self.sock(&dep.name).display().to_string()).ready(ReadyGate::Socket),
                Readiness::Notify => gate.ready(ReadyGate::Running),
            });
        }
        ServiceSpec::new(&node.name, vec![action])
    }

    pub async fn define(&self, client: &mut Client, graph: &Graph) {
        for i in 0..graph.nodes.len() {
            client.define(&self.spec(graph, i)).await.expect("define");
        }
    }

    /// Starts every sink of `graph` (which pulls in the rest), waits until the
    /// supervisor says all is ready, reads the journal and the stamps, and stops it all.
    pub async fn run(&mut self, client: &mut Client, graph: &Graph) -> SupervisedRun {
        let sinks = graph.sinks();
        let t = Instant::now();
        for &s in &sinks {
            client.start(&graph.nodes[s].name, None).await.expect("start");
        }
        for &s in &sinks {
            let name = &graph.nodes[s].name;
            let settled = client.wait(name, WaitFor::Settled, 180_000).await.expect("wait");
            let all_ready = settled.actions.iter().all(|a| a.state == RunState::Ready);
            assert!(settled.settled && all_ready, "{name} did not become ready: {:#?}", settled.actions);
        }
        let wall_s = t.elapsed().as_secs_f64();
        let journal = self.journal(client).await;
        let daemons = graph
            .nodes
            .iter()
            .map(|node| {
                graph.stamped.then(|| stamps::take(&self.stamps(&node.name), Duration::from_secs(10))).flatten()
            })
            .collect();
        self.stop(client, graph).await;
        SupervisedRun { wall_s, marks: marks(graph, &journal), daemons }
    }

    /// Journal entries since the last call.
    async fn journal(&mut self, client: &mut Client) -> Vec<Event> {
        let events = client.events(self.since, 0).await.expect("events");
        self.since = events.last().map_or(self.since, |e| e.seq);
        events
    }

    /// Stops every node, dependents first.
    pub async fn stop(&mut self, client: &mut Client, graph: &Graph) {
        for node in graph.nodes.iter().rev() {
            client.stop(&node.name, None).await.expect("stop");
        }
        // Skip the stops' entries next time.
        self.journal(client).await;
    }

    /// CPU time of every thread of the supervisor process alive now, in nanoseconds
    /// (`/proc/<pid>/task/*/schedstat`), and its utime + stime in clock ticks
    /// (`/proc/<pid>/stat`, which also counts threads that have exited).
    pub fn cpu(&self) -> (u64, u64) {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid())).into_iter().flatten().flatten();
        let ns = tasks
            .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
        let tick = |k: usize| fields.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        (ns, tick(11) + tick(12))
    }

    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// The supervisor's log, for a report of what went wrong.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("supervisor.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// When the supervisor recorded each node ready, and when it began spawning each,
/// from its journal (wall clock).
fn marks(graph: &Graph, journal: &[Event]) -> Marks {
    let first = |name: &str, ready: bool| {
        let label = format!("{name}/{name}");
        journal
            .iter()
            .find(|e| {
                e.action == label
                    && if ready {
                        matches!(e.kind, EventKind::Ready)
                    } else {
                        matches!(e.kind, EventKind::Spawned { .. })
                    }
            })
            .map(|e| e.at_us * 1000)
    };
    Marks {
        clock: Clock::Real,
        detected: graph.nodes.iter().map(|n| first(&n.name, true)).collect(),
        spawn_began: graph.nodes.iter().map(|n| first(&n.name, false)).collect(),
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let socket = self.socket();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        let _ = std::thread::spawn(move || {
            runtime.ok()?.block_on(async { Client::connect(&socket).await.ok()?.shutdown().await.ok() })
        })
        .join();
        let _ = self.child.wait();
    }
}
