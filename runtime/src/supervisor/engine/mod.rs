//! The supervisor's state machine. One task owns all of it: requests, child exits,
//! socket events and timers arrive as messages, and after each one `reconcile` moves
//! every action as far as its gates allow. Nothing here blocks on a process.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::process::Signal;
use serde_json::Value;
use service_manifest_core::{BinaryKind, Relation, RestartPolicy};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::gates::{self, Gate, TargetView};
use super::graph;
use super::process::{self, Launch};
use super::readiness::{self, Probes, SocketWatcher};
use super::store::{ActionRecord, SavedProcess, Store};
use super::{Config, Msg};

use crate::api::*;
use crate::paths::{resolve_exec, resolve_socket};
use crate::spec::{ActionDep, ActionSpec, ServiceSpec};

mod machine;
mod persist;
mod requests;
mod waiters;

/// `(service, action)`.
pub(crate) type Key = (String, String);

pub(crate) fn label(key: &Key) -> String {
    format!("{}/{}", key.0, key.1)
}

const JOURNAL_LEN: usize = 100_000;
const START_LIMIT: usize = 5;
const START_LIMIT_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Action {
    spec: ActionSpec,
    socket: Option<PathBuf>,
    wanted: bool,
    state: RunState,
    reason: Option<String>,
    since_ms: u64,
    pid: Option<u32>,
    start_time: Option<u64>,
    generation: u64,
    exit_code: Option<i32>,
    wait_started: Option<Instant>,
    ready_deadline: Option<Instant>,
    kill_at: Option<Instant>,
    restart_at: Option<Instant>,
    fail_on_exit: Option<String>,
    recent_starts: VecDeque<Instant>,
    restarts: u32,
    waiting_on: Vec<String>,
    /// Why it is being stopped (shown in `stopping` events).
    stop_reason: Option<String>,
    /// Delete the registration once the process is gone.
    removing: bool,
    /// The journal sequence number when it entered its current state: tells whether a
    /// dependency settled before or after a dependent began waiting for it.
    entered_seq: u64,
}

impl Action {
    fn new(spec: ActionSpec, socket: Option<PathBuf>) -> Self {
        Self {
            spec,
            socket,
            wanted: false,
            state: RunState::Created,
            reason: None,
            since_ms: now_ms(),
            pid: None,
            start_time: None,
            generation: 0,
            exit_code: None,
            wait_started: None,
            ready_deadline: None,
            kill_at: None,
            restart_at: None,
            fail_on_exit: None,
            recent_starts: VecDeque::new(),
            restarts: 0,
            waiting_on: Vec::new(),
            stop_reason: None,
            removing: false,
            entered_seq: 0,
        }
    }

    /// Whether `step` could change this action: it waits, runs towards ready, stops, is due
    /// a restart, or must stop or be removed. Kept in line with the arms of `step`.
    fn can_move(&self) -> bool {
        match (self.wanted, self.state) {
            (true, RunState::Waiting | RunState::Running) => true,
            (true, RunState::Exited | RunState::Failed) => self.restart_at.is_some(),
            (false, RunState::Waiting | RunState::Running | RunState::Ready | RunState::Starting) => true,
            (_, RunState::Stopping) => true,
            (false, RunState::Created | RunState::Exited | RunState::Failed) => self.removing,
            _ => false,
        }
    }

    /// Whether it waits on a socket: on its gates, or running towards its own socket.
    fn awaits_socket(&self) -> bool {
        (self.wanted && self.state == RunState::Waiting) || (self.state == RunState::Running && self.socket.is_some())
    }

    fn failed_for_good(&self) -> bool {
        self.state == RunState::Failed && self.restart_at.is_none()
    }

    /// Not running and not on its way: a start request moves it to waiting.
    fn is_idle(&self) -> bool {
        matches!(self.state, RunState::Created | RunState::Exited | RunState::Failed) && self.restart_at.is_none()
    }

    fn view(&self) -> TargetView<'_> {
        TargetView {
            state: self.state,
            wanted: self.wanted,
            failed_for_good: self.failed_for_good(),
            exit_code: self.exit_code,
            reason: self.reason.as_deref(),
            socket: self.socket.as_deref(),
        }
    }
}

enum Then {
    Reply,
    /// Answer `wait` with the service's statuses.
    Settled(String),
    Start(Target),
    Forget(String),
    Exit,
}

enum Waiter {
    Events {
        since: u64,
        deadline: Instant,
        reply: Reply,
    },
    Settled {
        service: String,
        deadline: Instant,
        reply: Reply,
    },
    /// `since`: the journal position when the stop began, to report the order things stopped in.
    Stopped {
        keys: Vec<Key>,
        since: u64,
        report: ChangeReport,
        then: Then,
        reply: Reply,
    },
}

pub(crate) type Reply = oneshot::Sender<Result<Value, RpcError>>;

pub(crate) struct Engine {
    cfg: Config,
    services: BTreeMap<String, ServiceSpec>,
    actions: BTreeMap<Key, Action>,
    journal: VecDeque<Event>,
    next_seq: u64,
    watcher: SocketWatcher,
    tx: mpsc::UnboundedSender<Msg>,
    waiters: Vec<Waiter>,
    store: Store,
    /// Services whose registration must be written (or removed) at the end of this reconcile.
    dirty_services: BTreeSet<String>,
    /// Actions whose record must be rewritten, and whether the change must be durable
    /// (what is wanted) or only outlive the supervisor (a pid).
    dirty_actions: BTreeMap<Key, bool>,
    /// What was wanted when shutdown began: saved as wanted, so the next supervisor restores it.
    wanted_at_shutdown: BTreeSet<Key>,
    probes: Probes,
    /// Log directories known to exist, so a spawn does not `mkdir` again.
    log_dirs: std::collections::HashSet<PathBuf>,
    /// While shutting down, what is wanted is not saved: the next supervisor restores it.
    shutting_down: bool,
    pub(crate) exit: bool,
    started_ms: u64,
}

fn to_value<T: serde::Serialize>(value: T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::rejected(format!("cannot encode the answer: {e}")))
}

impl Engine {
    /// Loads the saved state, adopting processes an earlier supervisor left running.
    pub(crate) fn load(cfg: Config, tx: mpsc::UnboundedSender<Msg>) -> Result<Self, String> {
        let store = Store::new(&cfg.state_dir);
        let saved = store.load();
        let watcher = SocketWatcher::new(tx.clone(), Msg::Wake);
        let mut engine = Self {
            cfg,
            services: BTreeMap::new(),
            actions: BTreeMap::new(),
            journal: VecDeque::new(),
            next_seq: 1,
            watcher,
            tx,
            waiters: Vec::new(),
            store,
            dirty_services: BTreeSet::new(),
            dirty_actions: BTreeMap::new(),
            wanted_at_shutdown: BTreeSet::new(),
            probes: Probes::new(),
            log_dirs: std::collections::HashSet::new(),
            shutting_down: false,
            exit: false,
            started_ms: now_ms(),
        };
        for spec in saved.services {
            engine.install(spec);
        }
        for (key, record) in saved.actions {
            if let Some(a) = engine.actions.get_mut(&key) {
                a.wanted = record.wanted;
            }
            if let Some(p) = record.process {
                engine.adopt(key, p);
            }
        }
        let idle_wanted: Vec<Key> =
            engine.actions.iter().filter(|(_, a)| a.wanted && a.is_idle()).map(|(k, _)| k.clone()).collect();
        for key in idle_wanted {
            engine.enter_waiting(&key);
        }
        Ok(engine)
    }

    fn adopt(&mut self, key: Key, saved: SavedProcess) {
        if !process::is_same_process(saved.pid, saved.start_time) {
            // Gone, or its pid reused by another process: forget the pid.
            self.mark(&key, false);
            return;
        }
        let Some(a) = self.actions.get_mut(&key) else {
            // A process of a service that is no longer registered: stop it rather than leak it.
            process::signal_group(saved.pid, Signal::TERM);
            return;
        };
        a.pid = Some(saved.pid);
        a.start_time = Some(saved.start_time);
        a.generation += 1;
        a.state = RunState::Running;
        a.since_ms = now_ms();
        a.ready_deadline = Some(Instant::now() + self.cfg.start_timeout(&a.spec));
        let (tx, generation, pid) = (self.tx.clone(), a.generation, saved.pid);
        if let Some(socket) = a.socket.clone() {
            self.watcher.watch(&socket);
        }
        let k = key.clone();
        tokio::spawn(async move {
            process::wait_for_exit(pid).await;
            let _ = tx.send(Msg::Exited { key: k, generation, code: None, signal: None });
        });
        self.record(&key, EventKind::Adopted { pid: saved.pid });
    }

    fn install(&mut self, spec: ServiceSpec) {
        for action in &spec.actions {
            let key = (spec.name.clone(), action.name.clone());
            let socket = action.socket.as_deref().map(|s| resolve_socket(&self.cfg.socket_dir, s));
            match self.actions.get_mut(&key) {
                Some(existing) => {
                    existing.spec = action.clone();
                    existing.socket = socket;
                    existing.removing = false;
                }
                None => {
                    self.actions.insert(key, Action::new(action.clone(), socket));
                }
            }
        }
        self.services.insert(spec.name.clone(), spec);
    }

    fn record(&mut self, key: &Key, kind: EventKind) {
        self.record_at(key, kind, now_us());
    }

    /// Records an event that happened at `at_us` (a spawn is dated when it began).
    fn record_at(&mut self, key: &Key, kind: EventKind, at_us: u64) {
        tracing::info!(action = %label(key), ?kind);
        let event = Event { seq: self.next_seq, at_ms: at_us / 1000, at_us, action: label(key), kind };
        self.next_seq += 1;
        if self.journal.len() == JOURNAL_LEN {
            self.journal.pop_front();
        }
        self.journal.push_back(event);
    }

    fn set_state(&mut self, key: &Key, state: RunState, reason: Option<String>) {
        let seq = self.next_seq;
        if let Some(a) = self.actions.get_mut(key) {
            a.entered_seq = seq;
            a.state = state;
            a.reason = reason;
            a.since_ms = now_ms();
        }
    }
}
