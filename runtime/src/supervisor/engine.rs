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

    // ---- requests -------------------------------------------------------------------

    pub(crate) fn call(&mut self, request: Request, reply: Reply) {
        let answer = match request {
            Request::Version => to_value(VersionInfo { api: API_VERSION, pid: std::process::id() }),
            Request::Define(spec) => self.define(spec),
            Request::Start(target) => self.start(&target),
            Request::Stop(target) => return self.stop(&target, Then::Reply, reply),
            Request::Restart(target) => {
                return self.stop(&target.clone(), Then::Start(target), reply);
            }
            Request::Remove(target) => {
                let service = target.service.clone();
                return self.stop(&Target { service: service.clone(), action: None }, Then::Forget(service), reply);
            }
            Request::Status(scope) => to_value(self.status(scope.service.as_deref())),
            Request::List => to_value(self.services.values().collect::<Vec<_>>()),
            Request::Logs(p) => self.logs(&p),
            Request::Events(p) => {
                let deadline = Instant::now() + Duration::from_millis(p.wait_ms.min(600_000));
                self.waiters.push(Waiter::Events { since: p.since, deadline, reply });
                return self.check_waiters();
            }
            Request::Wait(p) => {
                if !self.services.contains_key(&p.service) {
                    let _ = reply.send(Err(self.unknown_service(&p.service)));
                    return;
                }
                let deadline = Instant::now() + Duration::from_millis(p.timeout_ms.min(3_600_000));
                let waiter = match p.until {
                    WaitFor::Settled => Waiter::Settled { service: p.service, deadline, reply },
                    WaitFor::Stopped => Waiter::Stopped {
                        since: self.next_seq,
                        keys: self.keys_of(&p.service),
                        report: ChangeReport::default(),
                        then: Then::Settled(p.service),
                        reply,
                    },
                };
                self.waiters.push(waiter);
                return self.check_waiters();
            }
            Request::Shutdown => return self.shutdown(reply),
        };
        let _ = reply.send(answer);
    }

    fn unknown_service(&self, name: &str) -> RpcError {
        let known: Vec<&str> = self.services.keys().map(String::as_str).collect();
        RpcError::rejected(format!(
            "no service `{name}` is defined (defined: {})",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ))
    }

    fn keys_of(&self, service: &str) -> Vec<Key> {
        self.actions.keys().filter(|k| k.0 == service).cloned().collect()
    }

    fn targets(&self, target: &Target) -> Result<Vec<Key>, RpcError> {
        if !self.services.contains_key(&target.service) {
            return Err(self.unknown_service(&target.service));
        }
        match &target.action {
            None => Ok(self.keys_of(&target.service)),
            Some(action) => {
                let key = (target.service.clone(), action.clone());
                if self.actions.contains_key(&key) {
                    Ok(vec![key])
                } else {
                    Err(RpcError::rejected(format!("service `{}` has no action `{action}`", target.service)))
                }
            }
        }
    }

    fn define(&mut self, spec: ServiceSpec) -> Result<Value, RpcError> {
        if self.shutting_down {
            return Err(RpcError::rejected("the supervisor is shutting down"));
        }
        check_spec(&spec, &self.cfg.socket_dir)?;
        if self.services.get(&spec.name) == Some(&spec) {
            return to_value(DefineReport { changed: false });
        }
        let mut all: Vec<&ServiceSpec> = self.services.values().filter(|s| s.name != spec.name).collect();
        all.push(&spec);
        if let Some(cycle) = graph::find_cycle(&all) {
            return Err(RpcError::rejected(format!(
                "defining `{}` would create a dependency cycle: {}",
                spec.name,
                cycle.join(" → ")
            )));
        }
        let spec_name = spec.name.clone();
        let dropped: Vec<Key> = self.keys_of(&spec.name).into_iter().filter(|k| spec.action(&k.1).is_none()).collect();
        self.install(spec);
        for key in dropped {
            if let Some(a) = self.actions.get_mut(&key) {
                a.wanted = false;
                a.removing = true;
                a.stop_reason = Some("its service was redefined without it".into());
            }
        }
        self.dirty_services.insert(spec_name);
        to_value(DefineReport { changed: true })
    }

    fn start(&mut self, target: &Target) -> Result<Value, RpcError> {
        if self.shutting_down {
            return Err(RpcError::rejected("the supervisor is shutting down"));
        }
        let keys = self.targets(target)?;
        let mut report = ChangeReport::default();
        for key in keys {
            let a = self.actions.get_mut(&key).ok_or_else(|| RpcError::rejected("action vanished"))?;
            a.wanted = true;
            a.stop_reason = None;
            if a.is_idle() || a.state == RunState::Failed {
                a.restart_at = None;
                a.recent_starts.clear();
                self.enter_waiting(&key);
                report.notes.push(format!("starting {}", label(&key)));
            } else {
                report.notes.push(format!("{} is already {}", label(&key), a.state));
            }
            report.actions.push(label(&key));
            self.mark(&key, true);
        }
        to_value(report)
    }

    fn enter_waiting(&mut self, key: &Key) {
        let seq = self.next_seq;
        if let Some(a) = self.actions.get_mut(key) {
            a.entered_seq = seq;
            a.state = RunState::Waiting;
            a.reason = None;
            a.since_ms = now_ms();
            a.wait_started = Some(Instant::now());
            a.exit_code = None;
            a.waiting_on.clear();
            a.restart_at = None;
            a.fail_on_exit = None;
        }
        // Look at the sockets it waits on right away, not at the next sweep.
        let now = Instant::now();
        let deps = self.actions.get(key).map(|a| a.spec.depends_on.clone()).unwrap_or_default();
        for dep in &deps {
            let target = self.resolve(dep);
            if let Some(path) = self.dep_socket(dep, target.as_ref()) {
                self.probes.freshen(&path, now);
            }
        }
        self.record(key, EventKind::Waiting { on: Vec::new() });
    }

    /// Every action that must stop before the ones in `keys`: their `requires`
    /// dependents, transitively, with one note each saying why.
    fn stop_set(&self, keys: Vec<Key>) -> (Vec<Key>, Vec<String>) {
        let mut set: BTreeSet<Key> = keys.iter().cloned().collect();
        let mut order = keys;
        let mut notes = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let dependency = order[i].clone();
            for (key, a) in &self.actions {
                if set.contains(key) || !(a.wanted || a.state.is_alive()) {
                    continue;
                }
                let requires = a
                    .spec
                    .depends_on
                    .iter()
                    .any(|d| d.relation == Relation::Requires && self.resolve(d).as_ref() == Some(&dependency));
                if requires {
                    notes.push(format!("stopping {} first: it requires {}", label(key), label(&dependency)));
                    set.insert(key.clone());
                    order.push(key.clone());
                }
            }
            i += 1;
        }
        (order, notes)
    }

    fn stop(&mut self, target: &Target, then: Then, reply: Reply) {
        let keys = match self.targets(target) {
            Ok(keys) => keys,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let (keys, notes) = self.stop_set(keys);
        for key in &keys {
            if let Some(a) = self.actions.get_mut(key) {
                a.wanted = false;
                a.restart_at = None;
                if a.stop_reason.is_none() {
                    a.stop_reason = Some(format!("requested stop of {}", target.service));
                }
            }
        }
        let report = ChangeReport { notes, actions: keys.iter().map(label).collect() };
        for key in &keys {
            self.mark(key, true);
        }
        self.waiters.push(Waiter::Stopped { keys, since: self.next_seq, report, then, reply });
        self.check_waiters();
    }

    fn shutdown(&mut self, reply: Reply) {
        if !self.shutting_down {
            self.wanted_at_shutdown = self.actions.iter().filter(|(_, a)| a.wanted).map(|(k, _)| k.clone()).collect();
            self.shutting_down = true;
        }
        let keys: Vec<Key> = self.actions.keys().cloned().collect();
        for a in self.actions.values_mut() {
            a.wanted = false;
            a.restart_at = None;
            a.stop_reason.get_or_insert_with(|| "the supervisor is shutting down".into());
        }
        let report = ChangeReport { notes: Vec::new(), actions: keys.iter().map(label).collect() };
        self.waiters.push(Waiter::Stopped { keys, since: self.next_seq, report, then: Then::Exit, reply });
        self.check_waiters();
    }

    fn status(&self, service: Option<&str>) -> Vec<ActionStatus> {
        self.actions
            .iter()
            .filter(|(k, _)| service.is_none_or(|s| k.0 == s))
            .map(|(k, a)| ActionStatus {
                service: k.0.clone(),
                action: k.1.clone(),
                wanted: a.wanted,
                state: a.state,
                reason: a.reason.clone(),
                pid: a.pid,
                since_ms: a.since_ms,
                waiting_on: a.waiting_on.clone(),
                restarts: a.restarts,
            })
            .collect()
    }

    fn log_path(&self, key: &Key) -> PathBuf {
        self.cfg.state_dir.join("logs").join(&key.0).join(format!("{}.log", key.1))
    }

    fn logs(&self, p: &LogsParams) -> Result<Value, RpcError> {
        let key = (p.service.clone(), p.action.clone());
        if !self.actions.contains_key(&key) {
            return Err(RpcError::rejected(format!("no action `{}`", label(&key))));
        }
        match process::read_tail(&self.log_path(&key), p.tail_bytes.unwrap_or(64 * 1024)) {
            Ok(text) => to_value(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => to_value(String::new()),
            Err(e) => Err(RpcError::rejected(format!("cannot read the log of {}: {e}", label(&key)))),
        }
    }

    // ---- events from processes and sockets ---------------------------------------------

    pub(crate) fn exited(&mut self, key: Key, generation: u64, code: Option<i32>, signal: Option<i32>) {
        let Some(a) = self.actions.get_mut(&key) else {
            return;
        };
        if a.generation != generation || a.pid.is_none() {
            return;
        }
        a.pid = None;
        a.start_time = None;
        a.kill_at = None;
        a.ready_deadline = None;
        a.exit_code = code;
        self.mark(&key, false);
        let how = match (code, signal) {
            (Some(c), _) => format!("exited with status {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => "exited (status unknown: adopted after a supervisor restart)".to_owned(),
        };
        let log = self.log_path(&key);
        let Some(a) = self.actions.get_mut(&key) else {
            return;
        };
        if let Some(reason) = a.fail_on_exit.take() {
            self.fail(&key, reason);
            return;
        }
        if !a.wanted || a.state == RunState::Stopping {
            self.set_state(&key, RunState::Exited, Some("stopped".into()));
            self.record(&key, EventKind::Exited { code });
            if self.actions.get(&key).is_some_and(|a| a.removing) {
                self.mark(&key, false);
                self.actions.remove(&key);
            }
            return;
        }
        let policy = a.spec.restart;
        if code == Some(0) {
            self.set_state(&key, RunState::Exited, Some(how));
            self.record(&key, EventKind::Exited { code });
            if policy == RestartPolicy::Always {
                self.schedule_restart(&key);
            }
        } else {
            let detail = process::last_log_line(&log).map(|l| format!(": {l}")).unwrap_or_default();
            self.fail(&key, format!("{how}{detail}"));
            if policy != RestartPolicy::Never {
                self.schedule_restart(&key);
            }
        }
    }

    fn fail(&mut self, key: &Key, reason: String) {
        self.set_state(key, RunState::Failed, Some(reason.clone()));
        self.record(key, EventKind::Failed { reason });
    }

    fn schedule_restart(&mut self, key: &Key) {
        let now = Instant::now();
        let Some(a) = self.actions.get_mut(key) else {
            return;
        };
        while a.recent_starts.front().is_some_and(|t| now.duration_since(*t) > START_LIMIT_WINDOW) {
            a.recent_starts.pop_front();
        }
        if a.recent_starts.len() >= START_LIMIT {
            let reason = format!(
                "{}; not restarted: started {START_LIMIT} times within {}s (start limit)",
                a.reason.clone().unwrap_or_default(),
                START_LIMIT_WINDOW.as_secs()
            );
            a.state = RunState::Failed;
            a.reason = Some(reason);
            return;
        }
        let exponent = u32::try_from(a.recent_starts.len().saturating_sub(1)).unwrap_or(16).min(16);
        let delay = Duration::from_millis(100 * 2u64.pow(exponent)).min(Duration::from_secs(10));
        a.restart_at = Some(now + delay);
        let in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.record(key, EventKind::Restarting { in_ms });
    }

    /// Entries appeared in a watched directory: probe them on the quick schedule.
    pub(crate) fn woken(&mut self, paths: Vec<PathBuf>) {
        let now = Instant::now();
        for path in paths {
            self.probes.freshen(&path, now);
        }
    }

    // ---- the state machine ---------------------------------------------------------

    fn resolve(&self, dep: &ActionDep) -> Option<Key> {
        let key = (dep.service.clone(), dep.action.clone()?);
        self.actions.contains_key(&key).then_some(key)
    }

    fn dep_socket(&self, dep: &ActionDep, target: Option<&Key>) -> Option<PathBuf> {
        match &dep.socket {
            Some(s) => Some(resolve_socket(&self.cfg.socket_dir, s)),
            None => target.and_then(|k| self.actions.get(k)).and_then(|a| a.socket.clone()),
        }
    }

    /// Moves every action as far as it can go, until nothing changes.
    pub(crate) fn reconcile(&mut self) {
        let pending = self.socket_pending();
        self.probes.begin(Instant::now(), pending);
        loop {
            // Only actions that can move are visited: a ready, wanted action, or an idle
            // unwanted one, has nothing to do until something else changes it.
            let keys: Vec<Key> = self.actions.iter().filter(|(_, a)| a.can_move()).map(|(k, _)| k.clone()).collect();
            let now = Instant::now();
            let mut changed = false;
            for key in &keys {
                changed |= self.step(key, now);
            }
            if !changed {
                break;
            }
        }
        self.check_waiters();
        self.flush();
    }

    /// Whether any socket is awaited: an action waiting on gates, or running towards its own.
    fn socket_pending(&self) -> bool {
        self.actions
            .values()
            .any(|a| (a.wanted && a.state == RunState::Waiting) || (a.state == RunState::Running && a.socket.is_some()))
    }

    fn step(&mut self, key: &Key, now: Instant) -> bool {
        let Some(a) = self.actions.get(key) else {
            return false;
        };
        match (a.wanted, a.state) {
            (true, RunState::Exited | RunState::Failed) if a.restart_at.is_some_and(|t| t <= now) => {
                if let Some(a) = self.actions.get_mut(key) {
                    a.restarts += 1;
                }
                self.enter_waiting(key);
                true
            }
            (true, RunState::Waiting) => self.try_start(key, now),
            (true, RunState::Running) => self.check_ready(key, now),
            (false, RunState::Waiting) => {
                self.set_state(key, RunState::Exited, Some("stopped before it started".into()));
                self.record(key, EventKind::Exited { code: None });
                if self.actions.get(key).is_some_and(|a| a.removing) {
                    self.mark(key, false);
                    self.actions.remove(key);
                }
                true
            }
            (false, RunState::Running | RunState::Ready | RunState::Starting) => self.begin_stop(key, now),
            (_, RunState::Stopping) => {
                if a.kill_at.is_some_and(|t| t <= now) {
                    if let Some(pid) = a.pid {
                        process::signal_group(pid, Signal::KILL);
                    }
                    if let Some(a) = self.actions.get_mut(key) {
                        a.kill_at = None;
                    }
                }
                false
            }
            (false, RunState::Created | RunState::Exited | RunState::Failed) if a.removing && a.pid.is_none() => {
                self.mark(key, false);
                self.actions.remove(key);
                true
            }
            _ => false,
        }
    }

    /// Pulls in what the action requires or wants, then spawns it if every gate holds.
    fn try_start(&mut self, key: &Key, now: Instant) -> bool {
        let Some(a) = self.actions.get(key) else {
            return false;
        };
        let deps = a.spec.depends_on.clone();
        let waited = a.wait_started.map_or(Duration::ZERO, |t| now.duration_since(t));
        let mut changed = false;
        let mut pending = Vec::new();
        for dep in &deps {
            if dep.relation != Relation::After {
                changed |= self.pull_in(dep, key);
            }
            let target = self.resolve(dep);
            let socket = self.dep_socket(dep, target.as_ref());
            if let Some(path) = &socket {
                self.watcher.watch(path);
            }
            let view = target.as_ref().and_then(|k| self.actions.get(k)).map(Action::view);
            let mut gate = if target.is_none() && dep.action.is_some() && dep.relation != Relation::After {
                self.unresolvable(dep)
            } else {
                gates::evaluate(dep, socket.as_deref(), view.as_ref(), &mut self.probes)
            };
            if let Gate::Pending(why) = &gate {
                let timeout = Duration::from_millis(dep.timeout_ms.unwrap_or(self.cfg.default_timeout_ms));
                if waited >= timeout {
                    gate = Gate::Broken(format!(
                        "timed out after {} waiting: {why}",
                        crate::text::duration_ms(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
                    ));
                }
            }
            match gates::settle(dep.relation, gate) {
                Gate::Holds => {}
                Gate::Pending(why) => pending.push(format!("{}: {why}", dep.label())),
                Gate::Broken(why) => {
                    let reason = format!("cannot start {}: requires {}: {why}", label(key), dep.label());
                    self.fail(key, reason);
                    return true;
                }
            }
        }
        if pending.is_empty() {
            self.spawn(key);
            return true;
        }
        if let Some(a) = self.actions.get_mut(key)
            && a.waiting_on != pending
        {
            a.waiting_on = pending.clone();
            a.reason = Some(format!("waiting for {}", pending.join("; ")));
            self.record(key, EventKind::Waiting { on: pending });
        }
        changed
    }

    fn unresolvable(&self, dep: &ActionDep) -> Gate {
        let bin = dep.action.as_deref().unwrap_or_default();
        if self.services.contains_key(&dep.service) {
            Gate::Broken(format!("not an action of the defined service `{}`", dep.service))
        } else {
            Gate::Broken(format!("not defined, and `{bin}` is not in the bin directory {}", self.cfg.bin_dir.display()))
        }
    }

    /// Makes the dependency wanted; registers it from the declaration when its binary
    /// is in the bin directory. Returns whether anything changed.
    fn pull_in(&mut self, dep: &ActionDep, by: &Key) -> bool {
        let Some(action) = dep.action.clone() else {
            return false;
        };
        let key = (dep.service.clone(), action.clone());
        if !self.actions.contains_key(&key) {
            if self.services.contains_key(&dep.service) {
                return false;
            }
            let program = resolve_exec(&self.cfg.bin_dir, &action);
            if !program.is_file() {
                return false;
            }
            let mut spec = ActionSpec::new(action.clone(), BinaryKind::Server);
            spec.socket = dep.socket.clone();
            self.install(ServiceSpec { name: dep.service.clone(), actions: vec![spec] });
            self.dirty_services.insert(dep.service.clone());
        }
        let asked_at = self.actions.get(by).map_or(0, |d| d.entered_seq);
        let Some(a) = self.actions.get_mut(&key) else {
            return false;
        };
        // Pull in what is not wanted yet; retry what is wanted but settled (failed for good,
        // or a finished one-shot) only if it settled before this dependent began waiting.
        // A dependency that fails while its dependent waits stays failed, and the gate says so.
        if a.wanted && !(a.is_idle() && a.entered_seq < asked_at) {
            return false;
        }
        let was_idle = a.is_idle();
        a.wanted = true;
        a.stop_reason = None;
        self.mark(&key, true);
        self.record(&key, EventKind::PulledIn { by: label(by) });
        if was_idle {
            if let Some(a) = self.actions.get_mut(&key) {
                a.recent_starts.clear();
            }
            self.enter_waiting(&key);
        }
        true
    }

    fn spawn(&mut self, key: &Key) {
        let Some(a) = self.actions.get(key) else {
            return;
        };
        let program = resolve_exec(&self.cfg.bin_dir, &a.spec.exec);
        if !program.is_file() {
            let reason = format!("cannot start {}: `{}` not found", label(key), program.display());
            self.fail(key, reason);
            return;
        }
        let socket = a.socket.clone();
        if let Some(path) = &socket {
            self.watcher.watch(path);
            if path.exists() && !readiness::accepts(path) {
                let _ = std::fs::remove_file(path);
            }
            self.probes.reset(path);
        }
        let mut env = vec![
            ("SERVICE_MANIFEST_SERVICE".to_owned(), key.0.clone()),
            ("SERVICE_MANIFEST_ACTION".to_owned(), key.1.clone()),
            (crate::paths::SOCKET_DIR_ENV.to_owned(), self.cfg.socket_dir.display().to_string()),
        ];
        if let Some(path) = &socket {
            env.push(("SERVICE_MANIFEST_SOCKET".to_owned(), path.display().to_string()));
        }
        env.extend(a.spec.env.iter().cloned());
        let log = self.log_path(key);
        let launch = Launch { program: &program, args: &a.spec.args, env, log: &log };
        let began_us = now_us();
        if let Some(dir) = log.parent().filter(|d| !self.log_dirs.contains(*d)) {
            if let Err(e) = std::fs::create_dir_all(dir) {
                let reason = format!("cannot start {}: cannot create {}: {e}", label(key), dir.display());
                self.fail(key, reason);
                return;
            }
            self.log_dirs.insert(dir.to_path_buf());
        }
        let child = match process::spawn(&launch) {
            Ok(child) => child,
            Err(e) => {
                let reason = format!("cannot start {}: spawning {} failed: {e}", label(key), program.display());
                self.fail(key, reason);
                return;
            }
        };
        let Some(pid) = child.id() else { return };
        let start_timeout = self.cfg.start_timeout(&a.spec);
        let Some(a) = self.actions.get_mut(key) else {
            return;
        };
        a.generation += 1;
        a.pid = Some(pid);
        a.start_time = process::start_time(pid);
        a.recent_starts.push_back(Instant::now());
        a.waiting_on.clear();
        let generation = a.generation;
        self.mark(key, false);
        let (tx, k) = (self.tx.clone(), key.clone());
        tokio::spawn(async move {
            let mut child = child;
            let status = child.wait().await.ok();
            use std::os::unix::process::ExitStatusExt;
            let (code, signal) = status.map_or((None, None), |s| (s.code(), s.signal()));
            let _ = tx.send(Msg::Exited { key: k, generation, code, signal });
        });
        self.record_at(key, EventKind::Spawned { pid }, began_us);
        if socket.is_some() {
            self.set_state(key, RunState::Running, Some("waiting for its socket to accept connections".into()));
            if let Some(a) = self.actions.get_mut(key) {
                a.ready_deadline = Some(Instant::now() + start_timeout);
            }
            self.check_ready(key, Instant::now());
        } else {
            self.set_state(key, RunState::Ready, None);
            self.record(key, EventKind::Ready);
        }
    }

    fn check_ready(&mut self, key: &Key, now: Instant) -> bool {
        let Some(a) = self.actions.get(key) else {
            return false;
        };
        let Some(socket) = a.socket.clone() else {
            self.set_state(key, RunState::Ready, None);
            self.record(key, EventKind::Ready);
            return true;
        };
        if self.probes.accepts(&socket) {
            if let Some(a) = self.actions.get_mut(key) {
                a.ready_deadline = None;
            }
            self.set_state(key, RunState::Ready, None);
            self.record(key, EventKind::Ready);
            return true;
        }
        if a.ready_deadline.is_some_and(|t| t <= now) {
            let timeout = self.cfg.start_timeout(&a.spec);
            let reason = format!(
                "{} did not accept connections on {} within {}",
                label(key),
                socket.display(),
                crate::text::duration_ms(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
            );
            let grace = self.cfg.stop_grace;
            if let Some(a) = self.actions.get_mut(key) {
                a.fail_on_exit = Some(reason.clone());
                a.ready_deadline = None;
                a.kill_at = Some(now + grace);
                if let Some(pid) = a.pid {
                    process::signal_group(pid, Signal::TERM);
                }
            }
            self.set_state(key, RunState::Stopping, Some(reason.clone()));
            self.record(key, EventKind::Stopping { reason });
            return true;
        }
        false
    }

    /// SIGTERM once every dependent that is being stopped has gone.
    fn begin_stop(&mut self, key: &Key, now: Instant) -> bool {
        let blocked = self.actions.iter().any(|(other, a)| {
            other != key
                && !a.wanted
                && a.state.is_alive()
                && a.spec.depends_on.iter().any(|d| self.resolve(d).as_ref() == Some(key))
        });
        if blocked {
            return false;
        }
        let grace = self.cfg.stop_grace;
        let Some(a) = self.actions.get_mut(key) else {
            return false;
        };
        let reason = a.stop_reason.clone().unwrap_or_else(|| "stop requested".into());
        a.kill_at = Some(now + grace);
        a.ready_deadline = None;
        if let Some(pid) = a.pid {
            process::signal_group(pid, Signal::TERM);
        }
        self.set_state(key, RunState::Stopping, Some(reason.clone()));
        self.record(key, EventKind::Stopping { reason });
        true
    }

    fn check_waiters(&mut self) {
        let now = Instant::now();
        let waiters = std::mem::take(&mut self.waiters);
        for waiter in waiters {
            match waiter {
                Waiter::Events { since, deadline, reply } => {
                    let new: Vec<&Event> = self.journal.iter().filter(|e| e.seq > since).collect();
                    if !new.is_empty() || deadline <= now {
                        let _ = reply.send(to_value(new));
                    } else {
                        self.waiters.push(Waiter::Events { since, deadline, reply });
                    }
                }
                Waiter::Settled { service, deadline, reply } => {
                    let settled = self.is_settled(&service);
                    if settled || deadline <= now {
                        let closure = self.closure(&service);
                        let actions: Vec<ActionStatus> = self
                            .status(None)
                            .into_iter()
                            .filter(|s| closure.contains(&(s.service.clone(), s.action.clone())))
                            .collect();
                        let _ = reply.send(to_value(Settled { settled, actions }));
                    } else {
                        self.waiters.push(Waiter::Settled { service, deadline, reply });
                    }
                }
                Waiter::Stopped { keys, since, mut report, then, reply } => {
                    let alive = keys.iter().any(|k| self.actions.get(k).is_some_and(|a| a.state.is_alive()));
                    if alive {
                        self.waiters.push(Waiter::Stopped { keys, since, report, then, reply });
                        continue;
                    }
                    report.actions = self.stop_order(&keys, since);
                    match then {
                        Then::Reply => {
                            let _ = reply.send(to_value(report));
                        }
                        Then::Settled(service) => {
                            let actions = self.status(Some(&service));
                            let _ = reply.send(to_value(Settled { settled: true, actions }));
                        }
                        Then::Start(target) => {
                            let _ = reply.send(self.start(&target).and(to_value(report)));
                        }
                        Then::Forget(service) => {
                            self.actions.retain(|k, _| k.0 != service);
                            self.services.remove(&service);
                            self.dirty_services.insert(service);
                            let _ = reply.send(to_value(report));
                        }
                        Then::Exit => {
                            let _ = reply.send(to_value(report));
                            self.exit = true;
                        }
                    }
                }
            }
        }
    }

    /// `keys` in the order they exited after journal position `since`; those that were
    /// not running come first, as they had nothing to stop.
    fn stop_order(&self, keys: &[Key], since: u64) -> Vec<String> {
        let labels: Vec<String> = keys.iter().map(label).collect();
        let exits: Vec<String> = self
            .journal
            .iter()
            .filter(|e| e.seq >= since && matches!(e.kind, EventKind::Exited { .. }) && labels.contains(&e.action))
            .map(|e| e.action.clone())
            .collect();
        let mut order: Vec<String> = labels.iter().filter(|l| !exits.contains(l)).cloned().collect();
        for l in exits {
            if !order.contains(&l) {
                order.push(l);
            }
        }
        order
    }

    /// The service's actions and everything they pull in, transitively.
    fn closure(&self, service: &str) -> BTreeSet<Key> {
        let mut set: BTreeSet<Key> = self.keys_of(service).into_iter().collect();
        let mut todo: Vec<Key> = set.iter().cloned().collect();
        while let Some(key) = todo.pop() {
            let Some(a) = self.actions.get(&key) else {
                continue;
            };
            for dep in &a.spec.depends_on {
                if dep.relation == Relation::After {
                    continue;
                }
                if let Some(t) = self.resolve(dep)
                    && set.insert(t.clone())
                {
                    todo.push(t);
                }
            }
        }
        set
    }

    /// Every wanted action of the service is ready (or completed), or one failed for good.
    fn is_settled(&self, service: &str) -> bool {
        let mut all_up = true;
        for key in self.keys_of(service) {
            let Some(a) = self.actions.get(&key) else {
                continue;
            };
            if !a.wanted {
                continue;
            }
            if a.failed_for_good() {
                return true;
            }
            let up = a.state == RunState::Ready || (a.state == RunState::Exited && a.exit_code == Some(0));
            all_up &= up;
        }
        all_up
    }

    /// Notes that an action's record must be rewritten; `durable` when what is wanted changed.
    fn mark(&mut self, key: &Key, durable: bool) {
        *self.dirty_actions.entry(key.clone()).or_insert(false) |= durable;
    }

    /// Writes what changed: each changed registration, and each changed action record.
    fn flush(&mut self) {
        for service in std::mem::take(&mut self.dirty_services) {
            let result = match self.services.get(&service) {
                Some(spec) => self.store.save_service(spec),
                None => self.store.remove_service(&service),
            };
            if let Err(e) = result {
                tracing::error!("cannot save service {service}: {e}");
            }
        }
        for (key, durable) in std::mem::take(&mut self.dirty_actions) {
            let result = match self.actions.get(&key) {
                None if self.services.contains_key(&key.0) => self.store.remove_action(&key),
                None => Ok(()),
                Some(a) => {
                    let wanted = if self.shutting_down { self.wanted_at_shutdown.contains(&key) } else { a.wanted };
                    let process = a.pid.zip(a.start_time).map(|(pid, start_time)| SavedProcess { pid, start_time });
                    self.store.save_action(&key, &ActionRecord { wanted, process }, durable && !self.shutting_down)
                }
            };
            if let Err(e) = result {
                tracing::error!("cannot save the record of {}: {e}", label(&key));
            }
        }
    }

    /// The next moment something is due: a timeout, a restart, a kill, a waiter's
    /// deadline, or a connect retry. `None` when nothing is: the supervisor sleeps.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        for a in self.actions.values() {
            a.restart_at.into_iter().chain(a.kill_at).chain(a.ready_deadline).for_each(&mut consider);
            if a.wanted && a.state == RunState::Waiting {
                let started = a.wait_started.unwrap_or(now);
                for dep in &a.spec.depends_on {
                    consider(started + Duration::from_millis(dep.timeout_ms.unwrap_or(self.cfg.default_timeout_ms)));
                }
            }
        }
        for w in &self.waiters {
            match w {
                Waiter::Events { deadline, .. } | Waiter::Settled { deadline, .. } => consider(*deadline),
                Waiter::Stopped { .. } => {}
            }
        }
        if let Some(t) = self.probes.next_deadline(now, self.socket_pending()) {
            consider(t);
        }
        next
    }
}

/// Rejects a spec the supervisor could never run.
fn check_spec(spec: &ServiceSpec, socket_dir: &Path) -> Result<(), RpcError> {
    if service_manifest_core::validate_name(&spec.name).is_some() || spec.actions.is_empty() {
        return Err(RpcError::rejected(format!(
            "service name `{}` is not valid, or the service has no action",
            spec.name.escape_debug()
        )));
    }
    let mut names = BTreeSet::new();
    for a in &spec.actions {
        if let Some(problem) = service_manifest_core::validate_name(&a.name) {
            return Err(RpcError::rejected(format!("action name `{}` {problem}", a.name.escape_debug())));
        }
        if !names.insert(&a.name) {
            return Err(RpcError::rejected(format!("action `{}` is defined twice", a.name)));
        }
        let sockets = a.socket.iter().chain(a.depends_on.iter().filter_map(|d| d.socket.as_ref()));
        for s in sockets {
            let path = resolve_socket(socket_dir, s);
            if path.as_os_str().len() > service_manifest_core::MAX_SOCKET_PATH {
                return Err(RpcError::rejected(format!(
                    "socket path {} of {}/{} is {} bytes; a Unix socket address holds at most {}",
                    path.display(),
                    spec.name,
                    a.name,
                    path.as_os_str().len(),
                    service_manifest_core::MAX_SOCKET_PATH
                )));
            }
        }
    }
    Ok(())
}
