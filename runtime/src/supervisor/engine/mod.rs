//! The supervisor's state machine, as a pure reconciler.
//!
//! Requests only write **goals** (up, down, removed). Everything else happens in
//! [`Core::handle`]: it applies one [`Input`] (a request, a process report, a socket that
//! accepts, a tick of the clock), then re-evaluates every action that could move, level-
//! triggered, until nothing changes, and returns the [`Effect`]s to carry out: spawn,
//! signal, probe, persist, reply. It does no I/O and reads no clock, so the actor in
//! `supervisor::actor` runs it for real and `tests` drives it as a seeded simulation.
//!
//! Where an action is, is one [`Phase`] (see `phase`): a sum type whose variants carry
//! exactly their data, from which the wire's state is derived. [`Core::transition`] is the
//! only writer of a phase that changes that state, and of the journal, so every state
//! change has exactly one journal entry; `step` reads the machine off one `match`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use rustix::process::Signal;
use serde_json::Value;

use super::Config;
use super::monitor::{ExitStatus, StatusFile};
use super::store::{ActionRecord, SavedProcess};
use crate::api::*;
use crate::spec::{ActionDep, ActionSpec, ServiceSpec};

mod actions;
mod gates;
mod health;
mod jobs;
mod persist;
mod phase;
mod requests;
#[cfg(test)]
mod simulation;
mod step;

pub(crate) use health::ProbeOrder;
pub(crate) use persist::{Write, coalesce};
pub(crate) use phase::{Ended, Hold, Phase, Proc, StopWhy, Watch};

/// `(service, action)`.
pub(crate) type Key = (String, String);

/// `service/action`.
pub(crate) fn label(key: &Key) -> String {
    format!("{}/{}", key.0, key.1)
}

/// Identifies a request awaiting its reply.
pub(crate) type ReqId = u64;

const JOURNAL_LEN: usize = 100_000;
/// The journal is also bounded in bytes (its text, roughly), whatever its entries hold.
const JOURNAL_BYTES: usize = 16 << 20;
const START_LIMIT: usize = 5;
const START_LIMIT_WINDOW_MS: u64 = 60_000;
/// A process that ran at least this long is restarted without back-off (s6's one second).
const RAN_LONG_MS: u64 = 1_000;
/// Journal sequence numbers are reserved in blocks, so a restarted supervisor continues
/// above every number it ever handed out while saving only once per block.
const SEQ_BLOCK: u64 = 4096;

/// What an action should be doing; only requests write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Goal {
    Up,
    Down,
    /// Down, then forgotten.
    Removed,
}

/// The clock, as the actor reads it: monotonic for deadlines, wall time for the journal.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Now {
    pub mono_ms: u64,
    pub wall_us: u64,
}

/// What happened, as the core learns it.
#[derive(Debug)]
pub(crate) enum Input {
    Call(ReqId, Request),
    Spawned {
        key: Key,
        run: u64,
        saved: SavedProcess,
        at_us: u64,
    },
    SpawnFailed {
        key: Key,
        run: u64,
        error: String,
        /// It may pass (a timeout): retried as the restart policy says.
        by_policy: bool,
    },

    /// The group leader exited; `group_gone` when nothing of the group is left either.
    LeaderExited {
        key: Key,
        run: u64,
        status: Option<ExitStatus>,
        group_gone: bool,
        last_line: Option<String>,
    },
    /// Whether `program` is in the bin directory, as the actor found (see `CheckInstalled`).
    Installed {
        program: String,
        installed: bool,
    },
    /// Nothing of the group is left.
    GroupGone {
        key: Key,
        run: u64,
    },
    /// Something accepts connections on this socket.
    Accepts(PathBuf),
    /// A persist batch finished; `error` when it failed, with the writes that did not
    /// reach the disk (to be retried).
    Saved {
        error: Option<String>,
        failed: Vec<Write>,
    },
    /// A health probe ended: `ok` or not, with what it answered or why it failed.
    Probed {
        key: Key,
        run: u64,
        probe: u32,
        ok: bool,
        output: String,
    },
    /// An `sd_notify` datagram from the process `pid` (its credentials, from the kernel).
    Notify {
        pid: u32,
        message: String,
    },
    /// The client of this request went away.
    Cancelled(ReqId),
    /// SIGTERM or SIGINT.
    Terminate,
    /// Time passed.
    Tick,
}

/// Everything needed to start one process.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SpawnOrder {
    pub key: Key,
    pub run: u64,
    pub exec: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// A stale socket file to remove first: readiness must come from this instance.
    pub socket: Option<PathBuf>,
    pub log: PathBuf,
    pub status: PathBuf,
    /// How long the program may take to be exec'd (the action's start timeout).
    pub exec_timeout_ms: u64,
    /// Who registered the service, for a program that is not where it said.
    pub registered_by: Option<String>,
}

/// What the actor must do.
#[derive(Debug)]
pub(crate) enum Effect {
    Spawn(SpawnOrder),
    /// Signal a process group.
    Signal {
        pgid: u32,
        signal: Signal,
    },
    /// SIGKILL a monitor whose group does not drain (a descendant left the group).
    KillMonitor {
        pid: u32,
    },
    /// Watch a process group adopted from an earlier supervisor.
    Adopt {
        key: Key,
        run: u64,
        saved: SavedProcess,
        status: PathBuf,
    },
    /// Report `Accepts` once this socket accepts a connection.
    Await(PathBuf),
    /// Run one health probe off the engine thread, and report `Probed`.
    Probe(ProbeOrder),
    /// Find out, off the engine's thread, whether this program is in the bin directory,
    /// and report `Installed`.
    CheckInstalled(String),
    Persist(Vec<Write>),
    /// `durable`: the reply acknowledges a change, so it waits for every persist issued so far.
    Reply {
        id: ReqId,
        result: Result<Value, RpcError>,
        durable: bool,
    },
    /// Answer `logs` from the files, off the engine thread.
    ReadLog {
        id: ReqId,
        path: PathBuf,
        max: u64,
    },
    /// Stop serving and exit.
    Exit,
}

/// One registered action: what it is (`spec`), what was asked of it (`goal`) and where it
/// is (`phase`, see [`phase`]), plus what outlives a phase: its run counter, its last
/// exit, its start history for the start limit, and what its reason and journal show.
#[derive(Debug)]
pub(crate) struct Action {
    pub(crate) spec: ActionSpec,
    pub(crate) socket: Option<PathBuf>,
    pub(crate) goal: Goal,
    pub(crate) phase: Phase,
    pub(crate) reason: Option<String>,
    since_ms: u64,
    /// Journal position when it entered its current state.
    entered_seq: u64,
    /// The generation of its last spawn: reports of an earlier one are ignored.
    pub(crate) run: u64,
    /// How its last process ended.
    pub(crate) exit: Option<ExitStatus>,
    recent_starts: VecDeque<u64>,
    /// Runs in a row that ended within [`RAN_LONG_MS`]: what the back-off grows with.
    quick_deaths: u32,
    restarts: u32,
    /// Why the stop that a request asked for is asked (it becomes the stop's reason).
    stop_reason: Option<String>,
    /// The last line its process logged, for a failure's reason.
    last_line: Option<String>,
    /// The journal position when a request last set its goal down.
    goal_set_at: u64,
    /// The last `STATUS=` its process sent: shown when no other reason stands.
    notify_status: Option<String>,
    /// What its health check last found (its current or last run), for `status`.
    pub(crate) health: Option<HealthStatus>,
}

impl Action {
    fn new(spec: ActionSpec, socket: Option<PathBuf>, now: Now) -> Self {
        Self {
            spec,
            socket,
            goal: Goal::Down,
            phase: Phase::NEW,
            reason: None,
            since_ms: now.wall_us / 1000,
            entered_seq: 0,
            run: 0,
            exit: None,
            recent_starts: VecDeque::new(),
            quick_deaths: 0,
            restarts: 0,
            stop_reason: None,
            last_line: None,
            notify_status: None,
            goal_set_at: 0,
            health: None,
        }
    }

    /// The state the wire shows, derived from the phase.
    pub(crate) fn state(&self) -> RunState {
        self.phase.state()
    }

    /// Its process group, while it has one.
    pub(crate) fn proc(&self) -> Option<&Proc> {
        self.phase.proc()
    }

    /// A process of it may exist, or is being made.
    pub(crate) fn is_alive(&self) -> bool {
        self.phase.is_alive()
    }

    pub(crate) fn hold(&self) -> Hold {
        self.phase.hold()
    }

    /// Phases `step` has no arm for, whatever else happens: up and ready; down (not being
    /// removed) and idle; up but held (a completed one-shot, a failure given up on).
    /// Reconcile skips these, so its cost follows what is moving, not what is registered.
    fn is_inert(&self) -> bool {
        match (&self.phase, self.goal) {
            (_, Goal::Removed) => false,
            // A watched one has probes and a watchdog to look after.
            (Phase::Running { proc, .. }, Goal::Up) => proc.ready && unwatched(&self.spec),
            (Phase::Idle { hold: Hold::Done | Hold::GaveUp, .. }, Goal::Up) => true,
            (Phase::Idle { .. }, Goal::Down) => true,
            _ => false,
        }
    }

    pub(crate) fn failed_for_good(&self) -> bool {
        matches!(self.phase, Phase::Idle { ended: Ended::Failed, hold: Hold::GaveUp })
    }

    /// Up: ready (and, with a health check, its first probe passed, as docker compose's
    /// `up --wait` has it), or a one-shot that completed.
    pub(crate) fn is_up(&self) -> bool {
        match &self.phase {
            Phase::Running { proc, .. } => proc.ready && (self.spec.health.is_none() || proc.watch.passed),
            Phase::Idle { ended: Ended::Exited, .. } => self.exit == Some(ExitStatus::Code(0)),
            _ => false,
        }
    }

    /// Nothing is on its way: what its goal asks for holds, or it failed for good.
    pub(crate) fn is_settled(&self) -> bool {
        match self.goal {
            Goal::Up => self.is_up() || self.failed_for_good() || self.hold() == Hold::Done,
            Goal::Down | Goal::Removed => matches!(self.phase, Phase::Idle { .. }),
        }
    }
}

/// The whole state of the supervisor; see the module documentation.
pub(crate) struct Core {
    cfg: Config,
    /// What the actor found, off this thread, when asked whether a program named by a
    /// dependency is in the bin directory (a hung mount must not stop the engine). A "no"
    /// is forgotten at the next start request, so a program installed since is found.
    installed: BTreeMap<String, bool>,
    /// Programs whose check is under way.
    checking: BTreeSet<String>,
    pub(crate) services: BTreeMap<String, ServiceSpec>,
    pub(crate) actions: actions::Actions,
    pub(crate) journal: VecDeque<Event>,
    /// What the journal's entries hold, roughly, in bytes (see [`JOURNAL_BYTES`]).
    journal_bytes: usize,
    next_seq: u64,
    seq_reserved: u64,
    /// Sockets known to accept, until their owner restarts or a dependent asks afresh.
    accepting: BTreeSet<PathBuf>,
    jobs: Vec<jobs::Job>,
    waiters: Vec<jobs::Waiter>,
    dirty: persist::Dirty,
    effects: Vec<Effect>,
    pub(crate) shutting_down: bool,
    /// What was wanted when shutdown began: saved as wanted, so the next supervisor restores it.
    wanted_at_shutdown: BTreeSet<Key>,
    save_error: Option<String>,
    /// What did not reach the disk, retried on the next request or at `retry_at`.
    pub(crate) unsaved: persist::Dirty,
    /// When to retry saving `unsaved` (monotonic ms).
    retry_at: Option<u64>,
    /// How long the next retry waits, doubling from 1 s to 30 s while saves fail.
    retry_delay: u64,
    /// Persist batches issued and finished: a reply can wait for a given batch.
    persists_issued: u64,
    persists_done: u64,
    /// Registrations written in a batch not finished yet, with that batch: a repeated
    /// define is saved again rather than acknowledged on the strength of a write that may
    /// still fail.
    unconfirmed: BTreeMap<String, u64>,
    /// `apply` requests answered while handling an input that was not theirs.
    answering: Vec<ReqId>,
    /// `apply` requests whose start waits for their definition to be on disk.
    deferred: Vec<persist::Deferred>,
    started_ms: u64,
    now: Now,
    /// When the spawn being recorded began, so `spawned` is dated at the fork.
    spawn_began: Option<u64>,
    /// `sd_notify` messages from pids not yet recorded as an action's (see `notified`).
    early_notify: Vec<(u32, String)>,
    /// Lines for the reply to the request being handled, from what reconcile did for it
    /// (conflicting actions it stopped).
    notes: Vec<String>,
    /// The open-files limit the supervisor runs with, for `info`.
    pub(crate) open_files: u64,
    /// The services it brought back from the saved state (something of them was wanted).
    pub(crate) restored: BTreeSet<String>,
    /// Broken invariants the simulation looks for.
    #[cfg(test)]
    pub(crate) violations: Vec<String>,
}

fn to_value<T: serde::Serialize>(value: T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::rejected(format!("cannot encode the answer: {e}")))
}

impl Core {
    /// A core with nothing defined.
    pub(crate) fn new(cfg: Config, now: Now) -> Self {
        let registered = actions::Actions::new(cfg.socket_dir.clone());
        Self {
            cfg,
            installed: BTreeMap::new(),
            checking: BTreeSet::new(),
            services: BTreeMap::new(),
            actions: registered,
            journal: VecDeque::new(),
            journal_bytes: 0,
            next_seq: 1,
            seq_reserved: 0,
            accepting: BTreeSet::new(),
            jobs: Vec::new(),
            waiters: Vec::new(),
            dirty: persist::Dirty::default(),
            effects: Vec::new(),
            shutting_down: false,
            wanted_at_shutdown: BTreeSet::new(),
            save_error: None,
            unsaved: persist::Dirty::default(),
            retry_at: None,
            retry_delay: persist::RETRY_FIRST_MS,
            persists_issued: 0,
            persists_done: 0,
            deferred: Vec::new(),
            answering: Vec::new(),
            unconfirmed: BTreeMap::new(),
            started_ms: now.wall_us / 1000,
            now,
            spawn_began: None,
            early_notify: Vec::new(),
            notes: Vec::new(),
            open_files: 0,
            restored: BTreeSet::new(),
            #[cfg(test)]
            violations: Vec::new(),
        }
    }

    /// Restores saved state, the one place where recovery after a supervisor restart is
    /// decided: registrations, goals, and for each action what its record and its
    /// monitor's status file say together (a run the record never saw is adopted if its
    /// monitor lives, and judged by its recorded exit if it ended), checked against the
    /// live processes that `procs` finds.
    pub(crate) fn restore(
        &mut self,
        services: Vec<ServiceSpec>,
        found: Vec<Found>,
        seq_floor: u64,
        procs: &dyn Processes,
    ) -> Vec<Effect> {
        self.next_seq = seq_floor.max(1);
        self.seq_reserved = 0;
        for spec in services {
            self.install(spec);
        }
        let records = found.into_iter().map(|f| merge(f, procs));
        for (key, record, status, ran_unrecorded) in records {
            let Some(a) = self.actions.get_mut(&key) else {
                if let Some(p) = record.process
                    && procs.alive(&p).1
                {
                    // A process of a service that is no longer registered: stop it rather than leak it.
                    self.effects.push(Effect::Signal { pgid: p.pid, signal: Signal::TERM });
                }
                continue;
            };
            a.goal = if record.wanted { Goal::Up } else { Goal::Down };
            a.run = record.run;
            if record.wanted {
                self.restored.insert(key.0.clone());
            }
            if record.done {
                // A one-shot that completed stays completed: it is not run again.
                a.exit = Some(ExitStatus::Code(0));
                let done = Phase::Idle { ended: Ended::Exited, hold: Hold::Done };
                self.transition(&key, Some(done), Some("completed".to_owned()), EventKind::Exited { code: Some(0) });
            }
            let Some(saved) = record.process else { continue };
            let Some(a) = self.actions.get(&key) else { continue };
            // Whether it was ready before it ended: by the record, or by having nothing to be
            // ready for (how it ended is judged by `group_gone`).
            let was_ready = record.ready || (a.socket.is_none() && !a.spec.notify);
            let socket = a.socket.clone();
            let timeout = self.start_timeout_of(&a.spec);
            let (monitor_alive, leader_alive) = if ran_unrecorded { (false, false) } else { procs.alive(&saved) };
            // A notify daemon said READY=1 to the earlier supervisor; it will not again.
            let proc = Proc { notified: record.ready, ..Proc::new(saved, self.now.mono_ms) };
            if ran_unrecorded {
                // It ran to its end while no supervisor recorded it: judge how, as if seen.
                let proc = Proc { leader_exited: Some(status), ready: was_ready, ..proc };
                if let Some(a) = self.actions.get_mut(&key) {
                    a.phase = Phase::Stopping {
                        proc,
                        why: StopWhy::Cleanup,
                        kill_at: None,
                        kill_monitor_at: None,
                        start_after: false,
                    };
                }
            } else if monitor_alive {
                let deadline = socket.as_ref().map(|_| self.now.mono_ms + timeout);
                let status_path = self.status_path(&key);
                self.effects.push(Effect::Adopt { key: key.clone(), run: record.run, saved, status: status_path });
                let running = Phase::Running { proc, deadline };
                self.transition(&key, Some(running), None, EventKind::Adopted { pid: saved.pid });
                if let Some(socket) = socket {
                    self.effects.push(Effect::Await(socket));
                }
                if !leader_alive {
                    if let Some(p) = self.actions.get_mut(&key).and_then(|a| a.phase.proc_mut()) {
                        p.ready = was_ready;
                    }
                    self.leader_exited(&key, status, false, None);
                }
                self.dirty.action(&key, false);
                continue;
            } else {
                // It ended while no supervisor ran: the monitor recorded how.
                let proc = Proc { leader_exited: Some(status), ready: was_ready, ..proc };
                let running = Phase::Running { proc, deadline: None };
                self.transition(&key, Some(running), None, EventKind::Adopted { pid: saved.pid });
            }
            self.group_gone(&key);
            self.dirty.action(&key, false);
        }
        self.reconcile();
        std::mem::take(&mut self.effects)
    }

    /// Applies one input, reconciles, and returns what to do.
    pub(crate) fn handle(&mut self, input: Input, now: Now) -> Vec<Effect> {
        self.now = now;
        let call = self.apply(input);
        self.settle(call)
    }

    /// Applies inputs that queued while the engine was busy, in order, and reconciles
    /// once: 2,000 exits at once are one pass and one save, not 2,000. Requests come
    /// through [`Core::handle`], one at a time, so what reconcile did goes to their reply.
    pub(crate) fn handle_many(&mut self, inputs: Vec<Input>, now: Now) -> Vec<Effect> {
        self.now = now;
        for input in inputs {
            debug_assert!(!matches!(input, Input::Call(..)), "a request in a batch");
            self.apply(input);
        }
        self.settle(None)
    }

    /// Applies one input; returns the request it is, if it is one.
    fn apply(&mut self, input: Input) -> Option<ReqId> {
        let mut call = None;
        match input {
            Input::Call(id, request) => {
                call = Some(id);
                self.call(id, request);
            }
            Input::Spawned { key, run, saved, at_us } => self.spawned(&key, run, saved, at_us),
            Input::SpawnFailed { key, run, error, by_policy } => self.spawn_failed(&key, run, error, by_policy),
            Input::LeaderExited { key, run, status, group_gone, last_line } => {
                if self.is_current(&key, run) {
                    self.leader_exited(&key, status, group_gone, last_line);
                }
            }
            Input::GroupGone { key, run } => {
                if self.is_current(&key, run) {
                    self.group_gone(&key);
                }
            }
            Input::Accepts(path) => {
                // Its server's readiness and the gates naming it read this, nothing else.
                self.actions.wake_reading(&path);
                self.accepting.insert(path);
            }
            Input::Notify { pid, message } => self.notified(pid, &message),
            Input::Probed { key, run, probe, ok, output } => {
                if self.is_current(&key, run) {
                    self.probed(&key, probe, ok, output);
                }
            }
            Input::Installed { program, installed } => {
                self.checking.remove(&program);
                self.installed.insert(program, installed);
                self.wake_waiting();
            }
            Input::Saved { error, failed } => self.saved(error, failed),
            Input::Cancelled(id) => self.cancel(id),
            Input::Terminate => self.shutdown(None),
            Input::Tick => {}
        }
        call
    }

    /// Reconciles after inputs were applied, and returns what to do.
    fn settle(&mut self, call: Option<ReqId>) -> Vec<Effect> {
        self.actions.wake_due(self.now.mono_ms);
        if call.is_some() || self.retry_at.is_some_and(|t| t <= self.now.mono_ms) {
            self.retry_unsaved();
        }
        self.reconcile();
        let notes = std::mem::take(&mut self.notes);
        // What reconcile did goes to the request being handled, or to the `apply`s whose
        // start this input released.
        let answering: BTreeSet<ReqId> = call.into_iter().chain(std::mem::take(&mut self.answering)).collect();
        if !notes.is_empty() {
            for id in answering {
                self.add_notes(id, notes.clone());
            }
        }
        std::mem::take(&mut self.effects)
    }

    /// Adds what reconcile did on a request's behalf to its reply's `notes`.
    fn add_notes(&mut self, id: ReqId, notes: Vec<String>) {
        for effect in &mut self.effects {
            if let Effect::Reply { id: rid, result: Ok(Value::Object(map)), .. } = effect
                && *rid == id
                && let Some(Value::Array(list)) = map.get_mut("notes")
            {
                list.extend(notes.into_iter().map(Value::String));
                return;
            }
        }
    }

    /// `sd_notify` from the main process of an action: `READY=1` makes a `notify` action
    /// ready, `STATUS=` shows in its reason; other fields are accepted and ignored, and a
    /// datagram from any other process is dropped, as systemd's `NotifyAccess=main` does.
    fn notified(&mut self, pid: u32, message: &str) {
        let Some(a) = self.actions.find_mut(|a| a.proc().is_some_and(|p| p.saved.pid == pid)) else {
            // A fast daemon can speak before its spawn is recorded: keep the message for
            // `spawned` (a few, so strangers cannot grow it).
            if self.early_notify.len() < 64 && self.actions.values().any(|a| matches!(a.phase, Phase::Spawning { .. }))
            {
                self.early_notify.push((pid, message.to_owned()));
            } else {
                tracing::debug!("sd_notify from {pid}, which is no action's main process: ignored");
            }
            return;
        };
        let now = self.now.mono_ms;
        apply_notify(a, message, now);
    }

    /// Every waiting action looks at its gates again (what they read changed).
    pub(crate) fn wake_waiting(&mut self) {
        let waiting: Vec<Key> = self
            .actions
            .movable()
            .filter(|(_, a)| matches!(a.phase, Phase::Waiting { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        self.actions.wake(waiting);
    }

    fn is_current(&self, key: &Key, run: u64) -> bool {
        self.actions.get(key).is_some_and(|a| a.run == run && a.proc().is_some())
    }
}

/// What the actor found of one action at start-up: its record, if one could be read, and
/// its monitor's status file. Every registered action has one, with a record or without.
pub(crate) struct Found {
    pub key: Key,
    pub record: Option<ActionRecord>,
    pub status: Option<StatusFile>,
}

/// What the engine may ask about processes while it restores (the actor looks in `/proc`).
pub(crate) trait Processes {
    /// Whether the group's monitor and its leader are alive (pid and start time).
    fn alive(&self, process: &SavedProcess) -> (bool, bool);
    /// The group led by `pid` under the live monitor `monitor`, if that is one of ours.
    fn monitor(&self, pid: u32, monitor: u32) -> Option<SavedProcess>;
}

/// An action's record with what its status file adds: a run the killed supervisor never
/// recorded (adopted, not started twice, if its monitor lives), or how a run ended.
/// Returns the record, the exit status of its recorded run, and whether that run ended
/// while no supervisor had recorded it at all.
fn merge(found: Found, procs: &dyn Processes) -> (Key, ActionRecord, Option<ExitStatus>, bool) {
    let recorded = found.record.is_some();
    let mut record = found.record.unwrap_or_default();
    match found.status {
        // A later run than the record knows: an earlier one is gone (a run starts only once
        // the last one's group is), and this one is adopted if its monitor lives.
        Some(StatusFile::Running { pid, monitor, run }) if run > record.run => {
            record.run = run;
            record.process = procs.monitor(pid, monitor);
            if !recorded && record.process.is_some() {
                // No readable record, but its process runs: it was wanted.
                record.wanted = true;
            }
            (found.key, record, None, false)
        }
        // A run the killed supervisor never recorded ended meanwhile: judge it as if seen.
        Some(StatusFile::Ended(status, run)) if run > record.run => {
            record.run = run;
            record.process = Some(SavedProcess::default());
            (found.key, record, Some(status), true)
        }
        Some(StatusFile::Ended(status, run)) if run == record.run => (found.key, record, Some(status), false),
        _ => (found.key, record, None, false),
    }
}

/// An event's size for [`JOURNAL_BYTES`]: its text, and a fixed part for the rest.
fn event_bytes(e: &Event) -> usize {
    let text = match &e.kind {
        EventKind::Waiting { on } => on.iter().map(String::len).sum(),
        EventKind::PulledIn { by } => by.len(),
        EventKind::Stopping { reason } | EventKind::Failed { reason } => reason.len(),
        EventKind::Health { output, .. } => output.len(),
        _ => 0,
    };
    64 + e.action.len() + text
}

/// A running action's health check changed: the new one takes over at once (probing
/// now, if it is ready), with its count of failures started afresh.
fn rearm_health(a: &mut Action, checked: bool, now: u64) {
    let Phase::Running { proc, .. } = &mut a.phase else { return };
    proc.watch.probing = None;
    proc.watch.failures = 0;
    proc.watch.probe_at = (checked && proc.ready).then_some(now);
    let state = if proc.watch.passed { HealthState::Healthy } else { HealthState::Starting };
    a.health = checked.then_some(HealthStatus { state, failures: 0, last_check_ms: None, last_output: None });
}

/// Whether an action has neither a health check nor a watchdog to look after.
fn unwatched(spec: &ActionSpec) -> bool {
    spec.health.is_none() && spec.watchdog_ms.is_none()
}

/// Applies the fields of one `sd_notify` message to its action: `READY=1` is noted on its
/// process (readiness is recorded by `check_ready`), `STATUS=` on the action, `WATCHDOG=1`
/// re-arms an armed watchdog and `WATCHDOG=trigger` fires it (checked by `check_watch`).
fn apply_notify(a: &mut Action, message: &str, now: u64) {
    let watchdog = a.spec.watchdog_ms;
    for line in message.lines() {
        match line.split_once('=') {
            Some(("READY", "1")) => {
                if let Some(p) = a.phase.proc_mut() {
                    p.notified = true;
                }
            }
            Some(("WATCHDOG", "1")) => {
                if let (Some(ms), Phase::Running { proc, .. }) = (watchdog, &mut a.phase)
                    && proc.watch.watchdog_at.is_some()
                {
                    proc.watch.watchdog_at = Some(now + ms);
                }
            }
            Some(("WATCHDOG", "trigger")) => {
                if let (Some(_), Phase::Running { proc, .. }) = (watchdog, &mut a.phase) {
                    proc.watch.triggered = true;
                }
            }
            Some(("STATUS", text)) => a.notify_status = Some(text.to_owned()),
            _ => {}
        }
    }
}

impl Core {
    pub(crate) fn install(&mut self, spec: ServiceSpec) {
        for action in &spec.actions {
            let key = (spec.name.clone(), action.name.clone());
            let socket = action.socket.as_deref().map(|s| crate::paths::resolve_socket(&self.cfg.socket_dir, s));
            match self.actions.get_mut(&key) {
                Some(existing) => {
                    if existing.spec.health != action.health {
                        rearm_health(existing, action.health.is_some(), self.now.mono_ms);
                    }
                    existing.spec = action.clone();
                    existing.socket = socket;
                    if existing.goal == Goal::Removed {
                        existing.goal = Goal::Down;
                    }
                    self.actions.spec_changed(&key);
                }
                None => {
                    self.actions.insert(key, Action::new(action.clone(), socket, self.now));
                }
            }
        }
        self.services.insert(spec.name.clone(), spec);
    }

    /// The only writer of an action's state and of the journal: every state change is
    /// one entry, and an entry that changes no state (`pulled_in`, `restarting`, a new
    /// list of what it waits on) leaves the state as it is.
    /// `phase`: where the action goes (`None`: it stays where it is).
    pub(crate) fn transition(&mut self, key: &Key, phase: Option<Phase>, reason: Option<String>, kind: EventKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.next_seq > self.seq_reserved {
            self.seq_reserved = self.next_seq + SEQ_BLOCK;
            self.dirty.seq(self.seq_reserved);
        }
        if let Some(a) = self.actions.get_mut(key) {
            let before = a.state();
            if let Some(phase) = phase {
                a.phase = phase;
            }
            if a.state() != before {
                a.entered_seq = seq;
                a.since_ms = self.now.wall_us / 1000;
            }
            a.reason = reason;
        }
        let at_us = match kind {
            EventKind::Spawned { .. } => self.spawn_began.take().unwrap_or(self.now.wall_us),
            _ => self.now.wall_us,
        };
        tracing::info!(action = %label(key), ?kind);
        let event = Event { seq, at_ms: at_us / 1000, at_us, action: label(key), kind };
        self.journal_bytes += event_bytes(&event);
        self.journal.push_back(event);
        while self.journal.len() > JOURNAL_LEN || self.journal_bytes > JOURNAL_BYTES {
            let Some(old) = self.journal.pop_front() else { break };
            self.journal_bytes -= event_bytes(&old);
        }
    }

    fn start_timeout_of(&self, spec: &ActionSpec) -> u64 {
        spec.start_timeout_ms.unwrap_or(self.cfg.default_start_timeout_ms)
    }

    pub(crate) fn log_path(&self, key: &Key) -> PathBuf {
        crate::paths::action_log(&self.cfg.state_dir, &key.0, &key.1)
    }

    pub(crate) fn status_path(&self, key: &Key) -> PathBuf {
        crate::paths::action_status(&self.cfg.state_dir, &key.0, &key.1)
    }

    /// The earliest deadline in milliseconds of the monotonic clock: a timeout, a
    /// restart, a kill, a waiter's. `None`: nothing is due and the supervisor sleeps.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        let waiters = self.waiters.iter().map(|w| w.deadline);
        self.actions.next_deadline().into_iter().chain(waiters).chain(self.retry_at).min()
    }

    /// The earliest of an action's own deadlines: a restart back-off, a stop's
    /// escalation, a readiness deadline, a gate's timeout.
    pub(crate) fn deadline_of(&self, a: &Action) -> Option<u64> {
        let gates = match (&a.phase, a.goal) {
            (Phase::Waiting { since, .. }, Goal::Up) => {
                let since = *since;
                Some(
                    a.spec
                        .depends_on
                        .iter()
                        .map(move |dep| since + dep.timeout_ms.unwrap_or(self.cfg.default_timeout_ms)),
                )
            }
            _ => None,
        };
        // A back-off counts only while the goal is up.
        let phase = a.phase.deadlines().filter(|_| a.goal == Goal::Up || !matches!(a.phase, Phase::Idle { .. }));
        // Reconcile has just handled every deadline that is due: one still due would wake
        // the engine at once, for nothing, over and over (a gate that timed out but holds).
        let now = self.now.mono_ms;
        phase.chain(gates.into_iter().flatten()).filter(|t| *t > now).min()
    }

    /// Whether something still waits on `path`: a running action that is not ready yet
    /// and serves it, or a waiting action whose gate names it. Asked of the actions that
    /// read it (the socket index), so its cost does not grow with what is registered.
    pub(crate) fn awaits(&self, path: &Path) -> bool {
        self.actions.reading(path).any(|a| self.sockets_awaited_by(a).any(|p| p == path))
    }

    /// The sockets whose accepting decides what `a` does next (what must go on being
    /// probed): its own while it runs unready, and while it waits, those its gates name
    /// that no action of ours serves (a served one's gate follows its server's readiness).
    #[cfg(test)]
    pub(crate) fn sockets_deciding(&self, a: &Action) -> Vec<PathBuf> {
        self.sockets_awaited_by(a)
            .filter(|p| {
                a.socket.as_ref() == Some(p)
                    || !a.spec.depends_on.iter().any(|d| {
                        let target = self.resolve(d);
                        let own = target.as_ref().and_then(|k| self.actions.get(k)).and_then(|t| t.socket.as_ref());
                        own == Some(p)
                    })
            })
            .collect()
    }

    /// The sockets `a` waits on: its own while it runs unready, or those its gates name
    /// while it waits.
    fn sockets_awaited_by<'a>(&'a self, a: &'a Action) -> impl Iterator<Item = PathBuf> + 'a {
        let up = a.goal == Goal::Up;
        let own = match &a.phase {
            Phase::Running { proc, .. } if up && !proc.ready && !a.spec.notify => a.socket.clone(),
            _ => None,
        };
        let gates = matches!(a.phase, Phase::Waiting { .. }) && up;
        let named = a
            .spec
            .depends_on
            .iter()
            .filter(move |d| gates && d.relation != service_manifest_core::Relation::Conflicts)
            .filter_map(|dep| self.dep_socket(dep, self.resolve(dep).as_ref()));
        own.into_iter().chain(named)
    }

    pub(crate) fn status(&self, service: Option<&str>) -> Vec<ActionStatus> {
        self.actions
            .iter()
            .filter(|(k, _)| service.is_none_or(|s| k.0 == s))
            .map(|(k, a)| self.status_of(k, a))
            .collect()
    }

    fn status_of(&self, k: &Key, a: &Action) -> ActionStatus {
        ActionStatus {
            service: k.0.clone(),
            action: k.1.clone(),
            wanted: a.goal == Goal::Up,
            state: a.state(),
            reason: a.reason.clone().or_else(|| a.notify_status.clone().filter(|_| a.proc().is_some())),
            pid: a.proc().map(|p| p.saved.pid),
            since_ms: a.since_ms,
            waiting_on: match &a.phase {
                Phase::Waiting { on, .. } => on.clone(),
                _ => Vec::new(),
            },
            restarts: a.restarts,
            exit_code: match a.exit {
                Some(ExitStatus::Code(c)) => Some(c),
                _ => None,
            },
            save_error: self.save_error.clone(),
            health: a.health.clone(),
            profiles: self.services.get(&k.0).map(|s| s.profiles.clone()).unwrap_or_default(),
        }
    }
}
