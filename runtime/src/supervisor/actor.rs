//! The actor: the one task that owns the engine. It turns requests, process reports,
//! socket events and the clock into inputs, and carries out the engine's effects:
//! spawns and log reads on the blocking pool, saves on a writer thread (a reply that
//! acknowledges a change goes out only once it is saved), signals and probes inline
//! (neither can block).

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use rustix::process::Signal;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::engine::{Core, Effect, Input, Key, Now, ProbeOrder, ReqId, SpawnOrder, Write, coalesce};
use super::monitor::{self, ExitStatus, Report, StatusFile};
use super::readiness::{Awaited, SocketWatcher};
use super::spawner::{Job, Spawner};
use super::store::{ActionRecord, SavedProcess, Store};
use super::{Config, SupervisorError, io, lock, process, server};
use crate::api::{Request, RpcError};

pub(crate) type Reply = oneshot::Sender<Result<Value, RpcError>>;

/// A reply waiting for a save: the request, its answer, and whether it acknowledges a change.
type HeldReply = (ReqId, Result<Value, RpcError>, bool);

/// How many requests may queue before a client waits to send (back-pressure).
const REQUEST_QUEUE: usize = 256;

/// Everything that reaches the actor besides requests.
pub(crate) enum Msg {
    Input(Input),
    /// Entries appeared in a watched socket directory.
    Wake(Vec<PathBuf>),
    /// A persist batch finished: its error, and the writes that did not reach the disk.
    Persisted(Option<String>, Vec<Write>),
    /// The answer to `shutdown` has been written.
    ExitNow,
}

struct Actor {
    cfg: Config,
    core: Core,
    tx: mpsc::UnboundedSender<Msg>,
    replies: BTreeMap<ReqId, Reply>,
    next_id: ReqId,
    /// Persist batches in flight, oldest first, each with the replies that wait for it.
    in_flight: VecDeque<Vec<HeldReply>>,
    writer: std::sync::mpsc::Sender<Vec<Write>>,
    watcher: SocketWatcher,
    awaited: Awaited,
    started: Instant,
    exiting: bool,
    /// The shutdown came through the API: exit once its answer is written.
    exit_after_reply: Option<ReqId>,
    spawner: std::sync::Arc<Spawner>,
    signalled: Signalled,
}

/// The most messages handled in one turn of the loop: a burst of exits is one engine
/// pass, and a request queued behind it waits for at most this many.
const BATCH: usize = 256;

/// The process groups the supervisor has sent a signal to, by leader pid. Their leader's
/// end is then judged by why it was signalled (a stop, a failed readiness, a missed
/// watchdog), never by its last output, so that output is not read: a stop of 2,000
/// daemons read 2,000 log tails on the blocking pool for nothing.
type Signalled = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<u32>>>;

/// Runs the supervisor on the current tokio runtime until it is shut down.
pub async fn run(cfg: Config) -> Result<(), SupervisorError> {
    super::create_state_dir(&cfg)?;
    let _lock = lock(&cfg)?;
    let listener = server::bind(&cfg.socket).map_err(io(format!("binding {}", cfg.socket.display())))?;
    // Both binds narrow the process-wide umask for a moment: before any other thread exists.
    let notify_socket = super::notify::bind(&cfg.notify_socket());
    // Before the spawner is forked, so it keeps its freed memory too.
    super::heap::keep_freed_memory();
    // Now that this is the supervisor, and while it is small and has one thread: see `spawner`.
    let spawner = std::sync::Arc::new(Spawner::start());
    let (calls_tx, mut calls_rx) = mpsc::channel::<(Request, Reply)>(REQUEST_QUEUE);
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let store = Store::new(&cfg.state_dir);
    let saved = store.load();
    let started = Instant::now();
    let mut core = Core::new(cfg.clone(), now(started));
    core.open_files = super::raise_open_files();
    // What each action's record and its monitor's status file say; the engine decides.
    // A registered action whose record is missing or unreadable (a crash before it reached
    // the disk) is looked at too: its monitor's status file may say it runs.
    let mut records: std::collections::BTreeMap<Key, Option<ActionRecord>> =
        saved.actions.into_iter().map(|(key, record)| (key, Some(record))).collect();
    for spec in &saved.services {
        for action in &spec.actions {
            records.entry((spec.name.clone(), action.name.clone())).or_insert(None);
        }
    }
    let found = records
        .into_iter()
        .map(|(key, record)| {
            let status = StatusFile::read(&status_path(&cfg, &key));
            super::engine::Found { key, record, status }
        })
        .collect();
    let effects = core.restore(saved.services, found, saved.seq_floor, &LiveProcesses);
    let watcher = SocketWatcher::new(tx.clone(), Msg::Wake);
    let mut actor = Actor {
        cfg: cfg.clone(),
        core,
        tx: tx.clone(),
        replies: BTreeMap::new(),
        next_id: 1,
        in_flight: VecDeque::new(),
        writer: spawn_writer(store, tx.clone()),
        watcher,
        awaited: Awaited::new(),
        started,
        exiting: false,
        exit_after_reply: None,
        spawner,
        signalled: Signalled::default(),
    };
    actor.execute(effects);
    let server = tokio::spawn(server::serve(listener, calls_tx, tx.clone()));
    match notify_socket {
        Ok(socket) => {
            tokio::spawn(super::notify::receive(socket, tx.clone()));
        }
        Err(e) => tracing::warn!("no sd_notify socket at {}: {e}", cfg.notify_socket().display()),
    }
    tokio::spawn(forward_signals(tx.clone()));
    tracing::info!("supervisor listening on {}", cfg.socket.display());
    let timer = super::timer::Timer::new();
    loop {
        let deadline = actor.deadline();
        let input = tokio::select! {
            call = calls_rx.recv() => match call {
                Some((request, reply)) => {
                    let id = actor.next_id;
                    actor.next_id += 1;
                    if request == Request::Shutdown {
                        actor.exit_after_reply = Some(id);
                    }
                    actor.replies.insert(id, reply);
                    Some(Input::Call(id, request))
                }
                None => None,
            },
            msg = rx.recv() => match msg {
                Some(msg) => {
                    if actor.take(msg, &mut rx) {
                        break;
                    }
                    None
                }
                None => None,
            },
            () = timer.sleep_until(deadline) => Some(Input::Tick),
        };
        actor.probe();
        if let Some(input) = input {
            actor.handle(input);
        }
        actor.cancel_abandoned();
        if actor.exiting && actor.in_flight.is_empty() && actor.exit_after_reply.is_none() {
            break;
        }
    }
    server.abort();
    let _ = std::fs::remove_file(&cfg.socket);
    let _ = std::fs::remove_file(cfg.notify_socket());
    Ok(())
}

fn now(started: Instant) -> Now {
    Now { mono_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX), wall_us: crate::api::now_us() }
}

/// The processes the engine asks about while it restores, as `/proc` shows them.
struct LiveProcesses;

impl super::engine::Processes for LiveProcesses {
    fn alive(&self, p: &SavedProcess) -> (bool, bool) {
        (process::is_same_process(p.monitor, p.monitor_start), process::is_same_process(p.pid, p.start_time))
    }

    fn monitor(&self, pid: u32, monitor: u32) -> Option<SavedProcess> {
        process::is_monitor(monitor).then(|| SavedProcess {
            pid,
            start_time: process::start_time(pid).unwrap_or_default(),
            monitor,
            monitor_start: process::start_time(monitor).unwrap_or_default(),
        })
    }
}

fn status_path(cfg: &Config, key: &Key) -> PathBuf {
    crate::paths::action_status(&cfg.state_dir, &key.0, &key.1)
}

impl Actor {
    fn handle(&mut self, input: Input) {
        let effects = self.core.handle(input, now(self.started));
        self.execute(effects);
    }

    /// Handles `first` and what queued behind it, in order, up to [`BATCH`] messages; the
    /// inputs among them in one engine pass. Returns whether to exit now.
    fn take(&mut self, first: Msg, rx: &mut mpsc::UnboundedReceiver<Msg>) -> bool {
        let mut batch = Vec::new();
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(msg) = next {
            taken += 1;
            match msg {
                Msg::Input(input) => batch.push(input),
                Msg::Wake(paths) => self.awaited.woken(&paths, Instant::now()),
                Msg::Persisted(error, failed) => {
                    // Its replies wait for it, not for what queued behind it.
                    self.handle_many(std::mem::take(&mut batch));
                    self.persisted(error.clone());
                    self.handle(Input::Saved { error, failed });
                }
                Msg::ExitNow => {
                    self.handle_many(batch);
                    return true;
                }
            }
            next = if taken < BATCH { rx.try_recv().ok() } else { None };
        }
        self.handle_many(batch);
        false
    }

    fn handle_many(&mut self, inputs: Vec<Input>) {
        if !inputs.is_empty() {
            let effects = self.core.handle_many(inputs, now(self.started));
            self.execute(effects);
        }
    }

    /// The engine's next deadline, or the next readiness probe.
    fn deadline(&self) -> Option<Instant> {
        let core = self.core.next_deadline().map(|ms| self.started + Duration::from_millis(ms));
        let probe = self.awaited.next_deadline();
        core.into_iter().chain(probe).min()
    }

    /// Probes what is due; each socket that accepts is an input.
    fn probe(&mut self) {
        // A socket nothing waits on any more (a timeout, a stop) is dropped when it is next
        // due, so an idle supervisor soon sets no timer. Asking after every input instead
        // cost a pass over every awaited socket each time: n² for n started at once.
        let core = &self.core;
        for path in self.awaited.probe_due(Instant::now(), |path| core.awaits(path)) {
            self.handle(Input::Accepts(path));
        }
    }

    /// Requests whose client went away are forgotten; a job they began still finishes.
    fn cancel_abandoned(&mut self) {
        let gone: Vec<ReqId> = self.replies.iter().filter(|(_, r)| r.is_closed()).map(|(id, _)| *id).collect();
        for id in gone {
            self.replies.remove(&id);
            if self.exit_after_reply == Some(id) {
                self.exit_after_reply = None;
            }
            self.handle(Input::Cancelled(id));
        }
    }

    fn execute(&mut self, effects: Vec<Effect>) {
        // Saves first, so replies in the same batch wait for them.
        let mut rest = Vec::with_capacity(effects.len());
        for effect in effects {
            match effect {
                Effect::Persist(writes) => {
                    self.in_flight.push_back(Vec::new());
                    if self.writer.send(writes).is_err() {
                        tracing::error!("the state writer has stopped");
                    }
                }
                other => rest.push(other),
            }
        }
        for effect in rest {
            match effect {
                // Nothing is shown before it is saved: a reply waits for every save issued
                // before it, and one that acknowledges a change fails if its save failed.
                Effect::Reply { id, result, durable } => match self.in_flight.back_mut() {
                    Some(batch) => batch.push((id, result, durable)),
                    None => self.send(id, result),
                },
                Effect::Spawn(order) => self.spawn(order),
                Effect::Signal { pgid, signal } => {
                    // Before the signal: its report can arrive only after it.
                    self.signalled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(pgid);
                    process::signal_group(pgid, signal);
                }
                Effect::KillMonitor { pid } => process::signal_process(pid, Signal::KILL),
                Effect::Adopt { key, run, saved, status } => {
                    tokio::spawn(watch_adopted(self.tx.clone(), key, run, saved, status));
                }
                Effect::Await(path) => {
                    self.watcher.watch(&path);
                    if self.awaited.add(path.clone(), Instant::now()) {
                        let _ = self.tx.send(Msg::Input(Input::Accepts(path)));
                    }
                }
                Effect::Probe(order) => {
                    let (tx, bin_dir) = (self.tx.clone(), self.cfg.bin_dir.clone());
                    tokio::spawn(async move {
                        let (ok, output) = super::probe::run(&order, &bin_dir).await;
                        let ProbeOrder { key, run, probe, .. } = order;
                        let _ = tx.send(Msg::Input(Input::Probed { key, run, probe, ok, output }));
                    });
                }
                Effect::ReadLog { id, path, max } => {
                    if let Some(reply) = self.replies.remove(&id) {
                        tokio::task::spawn_blocking(move || {
                            let answer = match process::read_log_tail(&path, max) {
                                Ok(text) => Ok(Value::String(text)),
                                Err(e) => Err(RpcError::rejected(format!("cannot read {}: {e}", path.display()))),
                            };
                            let _ = reply.send(answer);
                        });
                    }
                }
                Effect::CheckInstalled(program) => {
                    // A stat on a hung mount blocks this pool thread, never the engine.
                    let (tx, path) = (self.tx.clone(), crate::paths::resolve_exec(&self.cfg.bin_dir, &program));
                    tokio::task::spawn_blocking(move || {
                        let installed = path.is_file();
                        let _ = tx.send(Msg::Input(Input::Installed { program, installed }));
                    });
                }
                Effect::Exit => self.exiting = true,
                Effect::Persist(_) => {}
            }
        }
    }

    fn send(&mut self, id: ReqId, result: Result<Value, RpcError>) {
        if let Some(reply) = self.replies.remove(&id)
            && reply.send(result).is_err()
            && self.exit_after_reply == Some(id)
        {
            // Nobody to tell: exit without waiting for the answer to be written.
            self.exit_after_reply = None;
        }
    }

    /// The oldest batch is saved: its replies go out, as errors if the save failed.
    fn persisted(&mut self, error: Option<String>) {
        let Some(batch) = self.in_flight.pop_front() else { return };
        for (id, result, durable) in batch {
            let result = match (&error, result) {
                (Some(e), Ok(_)) if durable => Err(RpcError::rejected(format!(
                    "applied, but the supervisor could not save it, so it would not survive a restart: {e}"
                ))),
                (_, result) => result,
            };
            self.send(id, result);
        }
    }

    /// Starts the monitor (through the spawner) on the blocking pool; its reports come
    /// back as inputs.
    fn spawn(&mut self, order: SpawnOrder) {
        let tx = self.tx.clone();
        let cfg = self.cfg.clone();
        let log = order.log.clone();
        let spawner = self.spawner.clone();
        let signalled = self.signalled.clone();
        tokio::spawn(async move {
            let (key, run) = (order.key.clone(), order.run);
            let began = crate::api::now_us();
            // The start times are read from /proc here too: on the engine's thread they
            // delayed every other input behind each spawn.
            let started = tokio::task::spawn_blocking(move || {
                start(&cfg, &spawner, &order).map(|started| {
                    let saved = SavedProcess {
                        pid: started.pid,
                        start_time: process::start_time(started.pid).unwrap_or_default(),
                        monitor: started.monitor,
                        monitor_start: process::start_time(started.monitor).unwrap_or_default(),
                    };
                    (started, saved)
                })
            })
            .await;
            let (started, saved) = match started {
                Ok(Ok(started)) => started,
                Ok(Err(error)) => {
                    let _ = tx.send(Msg::Input(Input::SpawnFailed {
                        key,
                        run,
                        error: error.text,
                        by_policy: error.passes,
                    }));
                    return;
                }
                Err(e) => {
                    let input = Input::SpawnFailed { key, run, error: e.to_string(), by_policy: false };
                    let _ = tx.send(Msg::Input(input));
                    return;
                }
            };
            // A pid of a group that ended (an adopted one, one signalled as it ended) may be
            // reused by this one: it has not been signalled.
            signalled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&started.pid);
            let _ = tx.send(Msg::Input(Input::Spawned { key: key.clone(), run, saved, at_us: began }));
            follow_reports(tx, key, run, started, log, signalled).await;
        });
    }
}

/// Why a spawn failed, and whether trying again may help (it timed out).
struct SpawnError {
    text: String,
    passes: bool,
}

impl From<String> for SpawnError {
    fn from(text: String) -> Self {
        Self { text, passes: false }
    }
}

/// Prepares the files and forks: runs on the blocking pool.
fn start(cfg: &Config, spawner: &Spawner, order: &SpawnOrder) -> Result<monitor::Started, SpawnError> {
    let program = crate::paths::resolve_exec(&cfg.bin_dir, &order.exec);
    if !program.is_file() {
        let by = order.registered_by.as_deref().map(|b| format!(" (registered by {b})")).unwrap_or_default();
        return Err(format!("`{}` not found{by}", program.display()).into());
    }
    for path in [&order.log, &order.status] {
        if let Some(dir) = path.parent() {
            super::readiness::create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    match std::fs::remove_file(&order.status) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot remove the old {}: {e}", order.status.display()).into());
        }
        _ => {}
    }
    if let Some(socket) = &order.socket {
        // The daemon binds here: its directory must exist. Readiness must come from this
        // instance, never from a file an earlier one left.
        if let Some(dir) = socket.parent() {
            super::readiness::create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        server::remove_stale_socket(socket).map_err(|e| format!("cannot remove the old socket: {e}"))?;
    }
    let separator = format!(
        "--- {} started at {} ---\n",
        crate::supervisor::engine::label(&order.key),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    );
    let job = Job {
        program: program.clone(),
        args: order.args.clone(),
        env: order.env.clone(),
        cwd: "/".into(),
        log: order.log.clone(),
        log_max_bytes: cfg.log_max_bytes,
        log_files: cfg.log_files,
        status: order.status.clone(),
        separator,
        run: order.run,
    };
    let deadline = std::time::Instant::now() + Duration::from_millis(order.exec_timeout_ms);
    spawner.spawn(&job, deadline).map_err(|e| match e {
        super::monitor::ExecError::Failed(e) => format!("spawning {} failed: {e}", program.display()).into(),
        super::monitor::ExecError::NoMonitor => {
            format!("spawning {} failed: no monitor process was started", program.display()).into()
        }
        super::monitor::ExecError::TimedOut { .. } => SpawnError {
            text: format!(
                "{} was not exec'd within {} (a hung file system, or a stuck spawner); abandoned",
                program.display(),
                crate::text::duration_ms(order.exec_timeout_ms)
            ),
            passes: true,
        },
    })
}

/// Turns a monitor's reports into inputs until its group is gone, then reaps it.
async fn follow_reports(
    tx: mpsc::UnboundedSender<Msg>,
    key: Key,
    run: u64,
    started: monitor::Started,
    log: PathBuf,
    signalled: Signalled,
) {
    use tokio::io::AsyncReadExt;
    let (monitor_pid, direct, leader) = (started.monitor, started.direct, started.pid);
    let last_line = |log: PathBuf| {
        let asked = signalled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&leader);
        async move { if asked { None } else { last_line(log).await } }
    };
    let mut gone = false;
    if let Ok(mut pipe) = tokio::net::unix::pipe::Receiver::from_owned_fd(started.reports) {
        let mut record = [0u8; 9];
        while !gone && pipe.read_exact(&mut record).await.is_ok() {
            let input = match monitor::decode(&record) {
                Some(Report::Leader(status)) => {
                    let last_line = last_line(log.clone()).await;
                    Input::LeaderExited { key: key.clone(), run, status: Some(status), group_gone: false, last_line }
                }
                Some(Report::LeaderAndGroup(status)) => {
                    gone = true;
                    let last_line = last_line(log.clone()).await;
                    Input::LeaderExited { key: key.clone(), run, status: Some(status), group_gone: true, last_line }
                }
                Some(Report::GroupGone) => {
                    gone = true;
                    Input::GroupGone { key: key.clone(), run }
                }
                _ => continue,
            };
            let _ = tx.send(Msg::Input(input));
        }
    }
    if !gone {
        // The monitor ended without a word (killed): nothing would reap or report the
        // group any more, so end what is left of it, and only once nothing of it is left
        // may a new instance start.
        process::kill_group_and_drain(leader).await;
        let _ = tx.send(Msg::Input(Input::GroupGone { key, run }));
    }
    signalled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&leader);
    if direct {
        // A monitor forked without the spawner is our child: reap it.
        let _ = tokio::task::spawn_blocking(move || monitor::reap(i32::try_from(monitor_pid).unwrap_or(0))).await;
    }
}

/// The last line the process logged, read off the engine's thread.
async fn last_line(log: PathBuf) -> Option<String> {
    tokio::task::spawn_blocking(move || process::last_log_line(&log)).await.ok().flatten()
}

/// Watches a group adopted from an earlier supervisor: the leader and the monitor are not
/// our children, so their pidfds say when they end, and the status file says how. A
/// monitor that dies says nothing of the group: what is left of it is killed, and the
/// group is reported gone only once it is.
async fn watch_adopted(tx: mpsc::UnboundedSender<Msg>, key: Key, run: u64, saved: SavedProcess, status: PathBuf) {
    let leader = process::wait_for_exit(saved.pid, saved.start_time);
    let monitor = process::wait_for_exit(saved.monitor, saved.monitor_start);
    tokio::pin!(leader, monitor);
    let mut leader_done = !process::is_same_process(saved.pid, saved.start_time);
    loop {
        tokio::select! {
            () = &mut leader, if !leader_done => {
                leader_done = true;
                let exit = read_status(&status).await;
                let input = Input::LeaderExited { key: key.clone(), run, status: exit, group_gone: false, last_line: None };
                let _ = tx.send(Msg::Input(input));
            }
            () = &mut monitor => {
                process::kill_group_and_drain(saved.pid).await;
                let exit = if leader_done { ExitStatus::read(&status) } else { None };
                let input = Input::LeaderExited { key: key.clone(), run, status: exit, group_gone: true, last_line: None };
                let _ = tx.send(Msg::Input(input));
                return;
            }
        }
    }
}

/// The monitor writes the status file right after reaping the leader: wait for it briefly.
async fn read_status(path: &std::path::Path) -> Option<ExitStatus> {
    for _ in 0..100 {
        if let Some(status) = ExitStatus::read(path) {
            return Some(status);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// The store's single writer: applies batches in order, fsyncing what must be durable,
/// and reports each batch so its replies can go out. The batches that queued up while it
/// was busy are written together (see [`coalesce`]), and reported only once all of them
/// are on disk, so no reply goes out before its data is safe.
fn spawn_writer(mut store: Store, tx: mpsc::UnboundedSender<Msg>) -> std::sync::mpsc::Sender<Vec<Write>> {
    let (writer, batches) = std::sync::mpsc::channel::<Vec<Write>>();
    std::thread::spawn(move || {
        while let Ok(first) = batches.recv() {
            let mut group = vec![first];
            group.extend(batches.try_iter());
            let count = group.len();
            let mut error = None;
            let mut failed = Vec::new();
            for write in coalesce(group.into_iter().flatten().collect()) {
                let result = match &write {
                    Write::SaveService(spec) => store.save_service(spec),
                    Write::RemoveService(name) => store.remove_service(name),
                    Write::SaveAction(key, record, durable) => store.save_action(key, record, *durable),
                    Write::RemoveAction(key) => store.remove_action(key),
                    Write::SeqFloor(floor) => store.save_seq_floor(*floor),
                };
                if let Err(e) = result {
                    tracing::error!("cannot save state: {e}");
                    error.get_or_insert_with(|| e.to_string());
                    failed.push(write);
                }
            }
            for i in 1..=count {
                let failed = if i == count { std::mem::take(&mut failed) } else { Vec::new() };
                if tx.send(Msg::Persisted(error.clone(), failed)).is_err() {
                    return;
                }
            }
        }
    });
    writer
}

async fn forward_signals(tx: mpsc::UnboundedSender<Msg>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        if tx.send(Msg::Input(Input::Terminate)).is_err() {
            return;
        }
    }
}
