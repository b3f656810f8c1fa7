//! The dependency graphs both orchestrators start, node for node the same daemons with
//! the same arguments, and what a run of one tells about each hop of it.

use std::path::Path;

use crate::stamps::{Clock, Daemon, ms_between};

/// How a daemon tells it is ready.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Readiness {
    /// Its socket accepts connections.
    Socket,
    /// It sends `READY=1` to `$NOTIFY_SOCKET`; it has no socket.
    Notify,
}

/// One `sm-testd` daemon.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    /// Its own work before it becomes ready: the `--delay-ms` sleep.
    pub delay_ms: u64,
    /// Indices of the nodes it requires.
    pub deps: Vec<usize>,
    pub readiness: Readiness,
    /// `--listen-gap-ms`: between `bind()` and `listen()`.
    pub gap_ms: u64,
    /// `--rename`: listen under a temporary name, then rename into place.
    pub rename: bool,
}

impl Node {
    fn new(name: String, delay_ms: u64, deps: Vec<usize>) -> Self {
        Self { name, delay_ms, deps, readiness: Readiness::Socket, gap_ms: 0, rename: false }
    }
}

/// Daemons and who requires whom; node names are unique within one supervisor.
#[derive(Clone, Debug)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// Whether the daemons record their stamps (not at scale: 10,000 files to read back).
    pub stamped: bool,
}

impl Graph {
    /// `n` daemons, each requiring the previous one.
    pub fn chain(prefix: &str, n: usize, delay_ms: u64) -> Self {
        let nodes = (0..n).map(|i| Node::new(format!("{prefix}{i}"), delay_ms, i.checked_sub(1).into_iter().collect()));
        Self { nodes: nodes.collect(), stamped: true }
    }

    /// A bottom, two daemons requiring it, and a top requiring both.
    pub fn diamond(prefix: &str, delay_ms: u64) -> Self {
        let node = |name: &str, deps: Vec<usize>| Node::new(format!("{prefix}{name}"), delay_ms, deps);
        let nodes =
            vec![node("bottom", vec![]), node("left", vec![0]), node("right", vec![0]), node("top", vec![1, 2])];
        Self { nodes, stamped: true }
    }

    /// A root, `n` daemons requiring it, and an umbrella with no work of its own
    /// requiring all of them.
    pub fn fan_out(prefix: &str, n: usize, delay_ms: u64) -> Self {
        let mut nodes = vec![Node::new(format!("{prefix}root"), delay_ms, vec![])];
        nodes.extend((0..n).map(|i| Node::new(format!("{prefix}leaf{i}"), delay_ms, vec![0])));
        nodes.push(Node::new(format!("{prefix}all"), 0, (1..=n).collect()));
        Self { nodes, stamped: true }
    }

    /// `n` independent pairs: a dependency made ready as `shape` says, and a dependent
    /// of it. Dependency `i` works `first_ms + i * spacing_ms`, so their readiness
    /// moments are spread and each detection is measured on its own.
    pub fn pairs(prefix: &str, n: usize, first_ms: u64, spacing_ms: u64, shape: &Node) -> Self {
        let mut nodes = Vec::with_capacity(2 * n);
        for i in 0..n {
            let mut dep = shape.clone();
            dep.name = format!("{prefix}d{i}");
            dep.delay_ms = first_ms + i as u64 * spacing_ms;
            nodes.push(dep);
            nodes.push(Node::new(format!("{prefix}e{i}"), 0, vec![2 * i]));
        }
        Self { nodes, stamped: true }
    }

    /// `n` daemons with no dependencies that listen at once.
    pub fn independent(prefix: &str, n: usize) -> Self {
        Self { nodes: (0..n).map(|i| Node::new(format!("{prefix}{i}"), 0, vec![])).collect(), stamped: false }
    }

    /// The shape of a dependency in the detection sweep.
    pub fn shape(readiness: Readiness, gap_ms: u64, rename: bool) -> Node {
        Node { name: String::new(), delay_ms: 0, deps: vec![], readiness, gap_ms, rename }
    }

    /// The longest sum of the daemons' own delays (work and bind→listen gaps) along
    /// any path: what no orchestrator can beat, leaving out process start-up.
    pub fn critical_path_ms(&self) -> u64 {
        let mut finish = vec![0u64; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            // Nodes only require earlier nodes, so one pass in order suffices.
            let start = node.deps.iter().map(|&d| finish[d]).max().unwrap_or(0);
            finish[i] = start + node.delay_ms + node.gap_ms;
        }
        finish.into_iter().max().unwrap_or(0)
    }

    /// Nodes nothing requires: starting these starts everything.
    pub fn sinks(&self) -> Vec<usize> {
        let mut required = vec![false; self.nodes.len()];
        for node in &self.nodes {
            for &d in &node.deps {
                required[d] = true;
            }
        }
        (0..self.nodes.len()).filter(|&i| !required[i]).collect()
    }

    /// The command-line arguments of node `i`, the same under every orchestrator.
    pub fn args(&self, i: usize, socket: &Path, stamps: &Path) -> Vec<String> {
        let node = &self.nodes[i];
        let mut args = vec!["--delay-ms".to_owned(), node.delay_ms.to_string()];
        if self.stamped {
            args.extend(["--stamps".to_owned(), stamps.display().to_string()]);
        }
        match node.readiness {
            Readiness::Socket => args.extend(["--socket".to_owned(), socket.display().to_string()]),
            Readiness::Notify => args.push("--notify".to_owned()),
        }
        if node.gap_ms > 0 {
            args.extend(["--listen-gap-ms".to_owned(), node.gap_ms.to_string()]);
        }
        if node.rename {
            args.push("--rename".to_owned());
        }
        args
    }

    /// The instant node `i` became ready, by its own account: it called `listen()`,
    /// called `rename()` to put its socket in place, or sent `READY=1`.
    pub fn ready_at(&self, i: usize, d: &Daemon) -> Option<crate::stamps::At> {
        match (self.nodes[i].readiness, self.nodes[i].rename) {
            (Readiness::Notify, _) => d.notify,
            (Readiness::Socket, true) => d.rename,
            (Readiness::Socket, false) => d.listen,
        }
    }

    /// Every hop of a run: for each node with dependencies, from the last of them
    /// becoming ready to the node's process starting, split at the orchestrator's
    /// own marks when it has them.
    pub fn hops(&self, daemons: &[Option<Daemon>], marks: &Marks) -> Hops {
        let mut hops = Hops::default();
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(me) = &daemons[i] else { continue };
            let ready = |d: &usize| Some((*d, self.ready_at(*d, daemons[*d].as_ref()?)?));
            let Some(readies) = node.deps.iter().map(ready).collect::<Option<Vec<_>>>() else { continue };
            let Some(&(last, at)) = readies.iter().max_by_key(|(_, at)| at.mono) else { continue };
            hops.lateness.push(ms_between(at.mono, me.exec.mono));
            let clock = marks.clock;
            if let (Some(seen), Some(began)) = (marks.detected[last], marks.spawn_began[i]) {
                hops.detect.push(ms_between(at.on(clock), seen));
                hops.react.push(ms_between(seen, began));
                hops.spawn.push(ms_between(began, me.exec.on(clock)));
            }
        }
        hops
    }
}

/// An orchestrator's own record of a run, on one clock: when it saw each node ready,
/// and when it began spawning each.
pub struct Marks {
    pub clock: Clock,
    pub detected: Vec<Option<u64>>,
    pub spawn_began: Vec<Option<u64>>,
}

/// Per-hop samples in milliseconds. `lateness` is the dependent's `exec` minus the
/// dependency's readiness (both stamped by the daemons); the other three split it at
/// the orchestrator's marks: readiness → seen, seen → spawn begun, spawn begun → `exec`.
#[derive(Default)]
pub struct Hops {
    pub lateness: Vec<f64>,
    pub detect: Vec<f64>,
    pub react: Vec<f64>,
    pub spawn: Vec<f64>,
}

impl Hops {
    pub fn extend(&mut self, other: Hops) {
        self.lateness.extend(other.lateness);
        self.detect.extend(other.detect);
        self.react.extend(other.react);
        self.spawn.extend(other.spawn);
    }

    pub fn json(&self) -> serde_json::Value {
        use crate::stats::json_of;
        serde_json::json!({
            "lateness": json_of(&self.lateness),
            "share_detect": json_of(&self.detect),
            "share_react": json_of(&self.react),
            "share_spawn": json_of(&self.spawn),
        })
    }
}
