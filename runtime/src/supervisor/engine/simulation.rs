//! The engine as a deterministic simulation: random services, then random interleavings
//! of requests, spawn answers, exits and crashes, sockets that accept, time passing and
//! supervisor restarts, from a seed. Invariants are checked after every step; a failure
//! names the seed and the step, and `SIM_SEED=<seed>` replays exactly that case.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use rustix::process::Signal;
use service_manifest_core::model::{HealthCheck, Probe};
use service_manifest_core::{BinaryKind, ReadyGate, Relation, RestartPolicy};

use super::super::monitor::StatusFile;
use super::*;

/// xorshift64*: small, seedable, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A process group as the simulated world sees it.
#[derive(Clone, Copy, Debug)]
struct Group {
    saved: SavedProcess,
    run: u64,
    leader_alive: bool,
    /// A SIGTERM or SIGKILL reached it: it will exit.
    signalled: bool,
}

struct World {
    rng: Rng,
    now: Now,
    core: Core,
    specs: Vec<ServiceSpec>,
    /// Spawn orders not answered yet.
    spawns: Vec<SpawnOrder>,
    groups: BTreeMap<Key, Group>,
    /// Sockets the core awaits.
    awaited: Vec<PathBuf>,
    /// Health probes out, not answered yet.
    probes: Vec<ProbeOrder>,
    /// What the store would hold.
    store_services: BTreeMap<String, ServiceSpec>,
    store_actions: BTreeMap<Key, ActionRecord>,
    seq_floor: u64,
    next_pid: u32,
    next_id: ReqId,
    /// Exit statuses the monitors wrote.
    statuses: BTreeMap<Key, ExitStatus>,
    highest_seq: u64,
    /// Actions whose last request was a stop, with the journal position it came at: the
    /// last request decides, so only a pull-in after it may bring them back up.
    stopped: BTreeMap<Key, u64>,
    /// Persist batches the store has not finished, oldest first, numbered.
    saves: VecDeque<(u64, Vec<Write>)>,
    issued: u64,
    /// Requests by id, to know what a reply acknowledges.
    requests: BTreeMap<ReqId, Request>,
    /// Definitions acknowledged once batch N is saved (`None`: a removal).
    pending_acks: Vec<(u64, String, Option<ServiceSpec>)>,
    /// What a client was told is saved: it must be there after a restart.
    acked: BTreeMap<String, ServiceSpec>,
    /// The last define, apply or remove request on each service.
    latest: BTreeMap<String, ReqId>,
    /// Inputs held back during a burst, for one batch.
    queued: Option<Vec<Input>>,
}

fn config() -> Config {
    Config {
        socket: "/sim/sup.sock".into(),
        state_dir: "/sim/state".into(),
        bin_dir: "/sim/bin".into(),
        socket_dir: "/sim/s".into(),
        default_timeout_ms: 3_000,
        default_start_timeout_ms: 3_000,
        stop_grace: Duration::from_millis(500),
        log_max_bytes: 1 << 20,
        log_files: 3,
        base_env: vec![("PATH".into(), "/usr/bin:/bin".into())],
    }
}

fn new_core(now: Now) -> Core {
    Core::new(config(), now)
}

/// Two to four services, each action depending only on earlier ones (no cycles).
fn services(rng: &mut Rng) -> Vec<ServiceSpec> {
    let mut specs: Vec<ServiceSpec> = Vec::new();
    let mut earlier: Vec<(String, String, bool)> = Vec::new();
    for s in 0..2 + rng.below(3) {
        let name = format!("svc{s}");
        let mut actions = Vec::new();
        for a in 0..1 + rng.below(3) {
            let action = format!("a{a}");
            let served = rng.chance(60);
            let mut spec = ActionSpec::new(action.clone(), BinaryKind::Server);
            if served {
                spec = spec.socket(format!("{name}/{action}.sock"));
            }
            spec.restart = [RestartPolicy::Never, RestartPolicy::OnFailure, RestartPolicy::Always][rng.below(3)];
            if rng.chance(30) {
                let probe = if served {
                    Probe::Socket { send: Some("ping".into()), expect: Some("pong".into()) }
                } else {
                    Probe::Exec { command: vec!["check".into()].into() }
                };
                spec = spec.health(HealthCheck {
                    interval_ms: [1_000, 10_000][rng.below(2)],
                    timeout_ms: 500,
                    retries: 1 + u32::try_from(rng.below(3)).unwrap_or(0),
                    start_period_ms: [0, 2_000][rng.below(2)],
                    start_interval_ms: 200,
                    ..HealthCheck::new(probe)
                });
            }
            if rng.chance(20) {
                spec = spec.watchdog_ms([20_000, 60_000][rng.below(2)]);
            }
            for _ in 0..rng.below(3) {
                if earlier.is_empty() {
                    break;
                }
                let (ds, da, dserved) = earlier[rng.below(earlier.len())].clone();
                if spec.depends_on.iter().any(|d| d.service == ds && d.action.as_deref() == Some(&da)) {
                    continue;
                }
                let relation =
                    [Relation::Requires, Relation::Requires, Relation::Wants, Relation::After, Relation::Conflicts]
                        [rng.below(5)];
                let ready = match rng.below(4) {
                    0 if dserved => ReadyGate::Socket,
                    1 => ReadyGate::Completed,
                    2 => ReadyGate::Healthy,
                    _ => ReadyGate::Running,
                };
                spec = spec.depends_on(ActionDep::new(ds).action(da).relation(relation).ready(ready));
            }
            if rng.chance(15) {
                // A socket no action of ours serves: the gate reads whether it accepts.
                let path = format!("ext/{}.sock", rng.below(2));
                spec = spec.depends_on(ActionDep::new("ext").socket(path).ready(ReadyGate::Socket));
            }
            earlier.push((name.clone(), action, served));
            actions.push(spec);
        }
        specs.push(ServiceSpec::new(name, actions));
    }
    specs
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed.max(1));
        let specs = services(&mut rng);
        let now = Now { mono_ms: 0, wall_us: 1_000_000 };
        Self {
            rng,
            now,
            core: new_core(now),
            specs,
            spawns: Vec::new(),
            groups: BTreeMap::new(),
            awaited: Vec::new(),
            probes: Vec::new(),
            store_services: BTreeMap::new(),
            store_actions: BTreeMap::new(),
            seq_floor: 1,
            next_pid: 100,
            next_id: 1,
            statuses: BTreeMap::new(),
            highest_seq: 0,
            stopped: BTreeMap::new(),
            saves: VecDeque::new(),
            issued: 0,
            requests: BTreeMap::new(),
            pending_acks: Vec::new(),
            acked: BTreeMap::new(),
            latest: BTreeMap::new(),
            queued: None,
        }
    }

    fn feed(&mut self, input: Input) -> Result<(), String> {
        if let Some(queued) = &mut self.queued {
            queued.push(input);
            return Ok(());
        }
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("input at {}: {input:?}", self.now.mono_ms);
        }
        let effects = self.core.handle(input, self.now);
        self.carry_out(effects)
    }

    fn carry_out(&mut self, effects: Vec<Effect>) -> Result<(), String> {
        // As the actor does: saves first, so the replies of the same input wait for them.
        let (saves, rest): (Vec<Effect>, Vec<Effect>) =
            effects.into_iter().partition(|e| matches!(e, Effect::Persist(_)));
        for effect in saves.into_iter().chain(rest) {
            match effect {
                Effect::Spawn(order) => {
                    self.prune_spawns();
                    if self.groups.contains_key(&order.key) || self.spawns.iter().any(|s| s.key == order.key) {
                        return Err(format!("a second process group for {}", label(&order.key)));
                    }
                    self.spawns.push(order);
                }
                Effect::Signal { pgid, signal } => {
                    for g in self.groups.values_mut().filter(|g| g.saved.pid == pgid) {
                        g.signalled |= [Signal::TERM, Signal::KILL, Signal::ABORT].contains(&signal);
                    }
                }
                Effect::KillMonitor { pid } => {
                    let keys: Vec<Key> =
                        self.groups.iter().filter(|(_, g)| g.saved.monitor == pid).map(|(k, _)| k.clone()).collect();
                    for key in keys {
                        if let Some(g) = self.groups.remove(&key) {
                            let input = Input::GroupGone { key, run: g.run };
                            self.feed(input)?;
                        }
                    }
                }
                Effect::Await(path) => self.awaited.push(path),
                Effect::Probe(order) => {
                    // Of the action's current run (it may have moved on within the same input).
                    if self.core.actions.get(&order.key).is_some_and(|a| a.run != order.run) {
                        return Err(format!("a health probe of an earlier run of {}", label(&order.key)));
                    }
                    self.probes.push(order);
                }
                Effect::CheckInstalled(program) => {
                    let installed = program.starts_with("installed");
                    self.feed(Input::Installed { program, installed })?;
                }
                Effect::Persist(writes) => {
                    self.issued += 1;
                    self.saves.push_back((self.issued, writes));
                }
                Effect::Reply { id, result: Ok(_), durable: true } => {
                    let acked = match self.requests.get(&id) {
                        Some(Request::Define(spec)) => Some((spec.name.clone(), Some(spec.clone()))),
                        Some(Request::Apply(p)) => Some((p.spec.name.clone(), Some(p.spec.clone()))),
                        Some(Request::Remove(t)) => Some((t.service.clone(), None)),
                        _ => None,
                    };
                    if std::env::var_os("SIM_TRACE").is_some() {
                        eprintln!("reply {id} durable, last batch {:?}", self.saves.back().map(|b| b.0));
                    }
                    // Only the answer to the last request on a service says what is on disk.
                    let acked = acked.filter(|(name, _)| self.latest.get(name) == Some(&id));
                    if let Some((name, spec)) = acked {
                        // The actor holds the reply until every batch issued so far is saved.
                        match self.saves.back() {
                            Some((batch, _)) => self.pending_acks.push((*batch, name, spec)),
                            None => self.ack(name, spec),
                        }
                    }
                }
                Effect::Adopt { .. } | Effect::Reply { .. } | Effect::ReadLog { .. } | Effect::Exit => {}
            }
        }
        Ok(())
    }

    /// Spawns the engine abandoned at their deadline: their monitor was killed, and with
    /// it whatever they would have started.
    fn prune_spawns(&mut self) {
        let actions = &self.core.actions;
        self.spawns.retain(|o| {
            actions.get(&o.key).is_some_and(|a| matches!(a.phase, Phase::Spawning { .. }) && a.run == o.run)
        });
    }

    fn ack(&mut self, name: String, spec: Option<ServiceSpec>) {
        match spec {
            Some(spec) => self.acked.insert(name, spec),
            None => self.acked.remove(&name),
        };
    }

    /// The store finishes its oldest batch: on disk, or (with `fail`) not at all.
    fn finish_save(&mut self, fail: bool) -> Result<(), String> {
        let Some((batch, writes)) = self.saves.pop_front() else { return Ok(()) };
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("save {batch} fail={fail}: {writes:?}");
        }
        if fail {
            // A failed batch's replies become errors: nothing it acknowledged stands.
            // (Its sequence floor is written all the same: numbers handed out above a floor
            // that never reached the disk are a gap the simulation does not cover yet.)
            self.pending_acks.retain(|(b, _, _)| *b != batch);
            let (floors, failed): (Vec<Write>, Vec<Write>) =
                writes.into_iter().partition(|w| matches!(w, Write::SeqFloor(_)));
            self.apply_writes(floors);
            return self.feed(Input::Saved { error: Some("No space left on device".into()), failed });
        }
        self.apply_writes(writes);
        let (done, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.pending_acks).into_iter().partition(|(b, _, _)| *b <= batch);
        self.pending_acks = rest;
        for (_, name, spec) in done {
            self.ack(name, spec);
        }
        self.feed(Input::Saved { error: None, failed: Vec::new() })
    }

    fn apply_writes(&mut self, writes: Vec<Write>) {
        {
            {
                {
                    for w in writes {
                        match w {
                            Write::SaveService(spec) => {
                                self.store_services.insert(spec.name.clone(), spec);
                            }
                            Write::RemoveService(name) => {
                                self.store_services.remove(&name);
                                self.store_actions.retain(|k, _| k.0 != name);
                            }
                            Write::SaveAction(key, record, _) => {
                                self.store_actions.insert(key, record);
                            }
                            Write::RemoveAction(key) => {
                                self.store_actions.remove(&key);
                            }
                            Write::SeqFloor(floor) => self.seq_floor = floor,
                        }
                    }
                }
            }
        }
    }

    fn check(&mut self) -> Result<(), String> {
        if let Some(v) = self.core.violations.first() {
            return Err(v.clone());
        }
        self.prune_spawns();
        // Every state change has its journal entry: the latest state-carrying entry of an
        // action names its state, and sequence numbers only grow.
        let mut last: BTreeMap<&str, RunState> = BTreeMap::new();
        for e in &self.core.journal {
            let state = match &e.kind {
                EventKind::Waiting { .. } => Some(RunState::Waiting),
                EventKind::Spawned { .. } | EventKind::Adopted { .. } => Some(RunState::Running),
                EventKind::Ready => Some(RunState::Ready),
                EventKind::Stopping { .. } => Some(RunState::Stopping),
                EventKind::Exited { .. } => Some(RunState::Exited),
                EventKind::Failed { .. } => Some(RunState::Failed),
                EventKind::PulledIn { .. } | EventKind::Restarting { .. } | EventKind::Health { .. } => None,
            };
            if let Some(state) = state {
                last.insert(&e.action, state);
            }
        }
        for (key, a) in &self.core.actions {
            // `created` is only ever the state of a fresh registration (a removed and
            // redefined service starts over), never entered by a transition.
            let expected = last.get(label(key).as_str()).copied().unwrap_or(RunState::Created);
            if a.state() != RunState::Created && a.state() != expected {
                return Err(format!("{} is {} but its journal says {expected}", label(key), a.state()));
            }
            if a.goal != Goal::Up && matches!(a.phase, Phase::Waiting { .. }) {
                return Err(format!("{} waits although its goal is {:?}", label(key), a.goal));
            }
            if a.is_inert() == self.core.actions.is_indexed_movable(key) {
                return Err(format!("{} movable: {}, but the index says otherwise", label(key), !a.is_inert()));
            }
            if self.core.deadline_of(a) != self.core.actions.indexed_deadline(key) {
                return Err(format!(
                    "{} has deadline {:?}, but the index says otherwise",
                    label(key),
                    self.core.deadline_of(a)
                ));
            }
            for path in super::actions::sockets_read(a, &self.core.cfg.socket_dir) {
                if !self.core.actions.is_listed_as_reading(key, &path) {
                    return Err(format!("{} reads {} but the socket index misses it", label(key), path.display()));
                }
            }
            // A socket whose accepting decides something is never dropped from the probes:
            // a server's own while it runs unready, a gate's on a socket no action of ours serves.
            for path in self.core.sockets_deciding(a) {
                if !self.core.awaits(&path) {
                    return Err(format!("{} waits on {} but it would not be probed", label(key), path.display()));
                }
            }
            for dep in &a.spec.depends_on {
                let Some(target) = dep.action.clone().map(|action| (dep.service.clone(), action)) else { continue };
                if !self.core.actions.is_listed_as_naming(key, &target) {
                    return Err(format!("{} names {} but the reverse index misses it", label(key), label(&target)));
                }
            }
            if a.is_alive() != (self.groups.contains_key(key) || self.spawns.iter().any(|s| &s.key == key)) {
                return Err(format!("{} alive: engine {} world {}", label(key), a.is_alive(), !a.is_alive()));
            }
        }
        for (key, since) in &self.stopped {
            let Some(a) = self.core.actions.get(key) else { continue };
            let pulled = self
                .core
                .journal
                .iter()
                .any(|e| e.seq >= *since && e.action == label(key) && matches!(e.kind, EventKind::PulledIn { .. }));
            if a.goal == Goal::Up && !pulled {
                return Err(format!("{} is up again although the last request on it was a stop", label(key)));
            }
        }
        // Across supervisor restarts too: the next number is above every one handed out.
        if self.core.next_seq <= self.highest_seq {
            return Err(format!("journal sequence went back: next {} after {}", self.core.next_seq, self.highest_seq));
        }
        self.highest_seq = self.core.journal.back().map_or(self.highest_seq, |e| e.seq);
        Ok(())
    }

    fn request(&mut self, request: Request) -> Result<(), String> {
        let whole = |service: &str| Target { service: service.to_owned(), action: None };
        let targets: Vec<Target> = match &request {
            Request::Define(spec) => vec![whole(&spec.name)],
            Request::Apply(p) => vec![whole(&p.spec.name)],
            Request::Remove(t) => vec![whole(&t.service)],
            Request::Start(t) | Request::Stop(t) | Request::Restart(t) => vec![t.clone()],
            Request::StartMany(ts) | Request::StopMany(ts) => ts.clone(),
            _ => Vec::new(),
        };
        // A request naming something unknown is refused as a whole: it stops nothing.
        let valid = targets.iter().all(|t| {
            self.core.services.contains_key(&t.service)
                && t.action.as_ref().is_none_or(|a| self.core.actions.contains_key(&(t.service.clone(), a.clone())))
        });
        let stopping = matches!(request, Request::Stop(_) | Request::StopMany(_));
        for target in &targets {
            let keys: Vec<Key> = self
                .core
                .actions
                .keys_of(&target.service)
                .filter(|k| target.action.as_ref().is_none_or(|a| &k.1 == a))
                .cloned()
                .collect();
            for key in keys {
                if stopping && valid && !self.core.shutting_down {
                    self.stopped.insert(key, self.core.next_seq);
                } else if !matches!(request, Request::Define(_)) {
                    self.stopped.remove(&key);
                }
            }
        }
        if let Request::Define(ServiceSpec { name, .. })
        | Request::Apply(ApplyParams { spec: ServiceSpec { name, .. }, .. })
        | Request::Remove(Target { service: name, .. }) = &request
        {
            // A later request on the service decides what must be on disk once it is answered.
            self.acked.remove(name);
            self.pending_acks.retain(|(_, n, _)| n != name);
            self.latest.insert(name.clone(), self.next_id);
        }
        let id = self.next_id;
        self.next_id += 1;
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("request {id}: {request:?}");
        }
        self.requests.insert(id, request.clone());
        self.feed(Input::Call(id, request))
    }

    /// A probe ends, passing or failing, late or not (the engine gives up on one at its
    /// timeout and ignores its report then).
    fn answer_probe(&mut self, ok: bool) -> Result<(), String> {
        if self.probes.is_empty() {
            return Ok(());
        }
        let order = self.probes.remove(self.rng.below(self.probes.len()));
        let output = if ok { "pong".to_owned() } else { "no reply within 500ms".to_owned() };
        self.feed(Input::Probed { key: order.key, run: order.run, probe: order.probe, ok, output })
    }

    /// A random live group pings its watchdog, or triggers it `trigger_percent` of the time.
    fn ping_one(&mut self, trigger_percent: u64) -> Result<(), String> {
        let keys: Vec<Key> = self.groups.keys().cloned().collect();
        if keys.is_empty() {
            return Ok(());
        }
        let key = keys[self.rng.below(keys.len())].clone();
        let trigger = self.rng.chance(trigger_percent);
        self.ping(&key, trigger)
    }

    /// The leader of a live group pings its watchdog, or (rarely) triggers it.
    fn ping(&mut self, key: &Key, trigger: bool) -> Result<(), String> {
        let Some(g) = self.groups.get(key).filter(|g| g.leader_alive) else { return Ok(()) };
        let message = if trigger { "WATCHDOG=trigger" } else { "WATCHDOG=1" };
        self.feed(Input::Notify { pid: g.saved.pid, message: message.into() })
    }

    fn random_step(&mut self) -> Result<(), String> {
        if self.rng.chance(8) {
            return self.burst();
        }
        match self.rng.below(12) {
            10 => {
                let ok = self.rng.chance(70);
                self.answer_probe(ok)
            }
            11 => self.ping_one(5),
            0..=2 => {
                let spec = self.specs[self.rng.below(self.specs.len())].clone();
                let service = spec.name.clone();
                let action = if self.rng.chance(30) { spec.actions.first().map(|a| a.name.clone()) } else { None };
                let target = Target { service, action };
                let other = self.specs[self.rng.below(self.specs.len())].name.clone();
                let many = vec![target.clone(), Target { service: other, action: None }];
                let request = match self.rng.below(10) {
                    0 => Request::Define(spec),
                    1 | 2 => Request::Apply(ApplyParams { spec, start: true }),
                    3 => Request::Start(target),
                    4 => Request::Stop(target),
                    5 => Request::Restart(target),
                    6 => Request::StartMany(many),
                    7 => Request::StopMany(many),
                    8 if self.rng.chance(50) => {
                        let until = [WaitFor::Settled, WaitFor::Up, WaitFor::Stopped][self.rng.below(3)];
                        Request::Wait(WaitParams { service: target.service, until, timeout_ms: 5_000 })
                    }
                    _ => Request::Remove(target),
                };
                self.request(request)
            }
            3 => self.spawn_one(),
            4 => self.exit_one(),
            5 => {
                if self.awaited.is_empty() {
                    return Ok(());
                }
                let path = self.awaited.remove(self.rng.below(self.awaited.len()));
                // Only a live owner (or nothing of ours) can make a socket accept.
                let owner =
                    self.core.actions.iter().find(|(_, a)| a.socket.as_ref() == Some(&path)).map(|(k, _)| k.clone());
                match owner {
                    Some(k) if !self.groups.get(&k).is_some_and(|g| g.leader_alive) => Ok(()),
                    _ => self.feed(Input::Accepts(path)),
                }
            }
            6 | 7 => {
                let ms = [1, 50, 400, 700, 4_000][self.rng.below(5)];
                self.now.mono_ms += ms;
                self.now.wall_us += ms * 1000;
                self.feed(Input::Tick)
            }
            8 if self.rng.chance(20) => self.restart_supervisor(),
            8 => {
                let fail = self.rng.chance(15);
                self.finish_save(fail)
            }
            // SIGTERM: everything stops and nothing starts again, whatever was under way.
            9 if self.rng.chance(3) => self.feed(Input::Terminate),
            _ => Ok(()),
        }
    }

    /// A spawn order is answered: the monitor started the process, or failed to.
    fn spawn_one(&mut self) -> Result<(), String> {
        if self.spawns.is_empty() {
            return Ok(());
        }
        let order = self.spawns.remove(self.rng.below(self.spawns.len()));
        if self.rng.chance(10) {
            return self.feed(Input::SpawnFailed {
                key: order.key,
                run: order.run,
                error: "no such file".into(),
                by_policy: false,
            });
        }
        let pid = self.next_pid;
        self.next_pid += 2;
        let saved = SavedProcess { pid, start_time: 1, monitor: pid + 1, monitor_start: 1 };
        self.groups.insert(order.key.clone(), Group { saved, run: order.run, leader_alive: true, signalled: false });
        self.feed(Input::Spawned { key: order.key, run: order.run, saved, at_us: self.now.wall_us })
    }

    /// What happens while the engine is busy reaches it at once: a few processes start,
    /// exit, answer probes and ping, their inputs queue, and the actor hands them over in
    /// one batch ([`Core::handle_many`]).
    fn burst(&mut self) -> Result<(), String> {
        self.queued = Some(Vec::new());
        for _ in 0..3 + self.rng.below(10) {
            let happened = match self.rng.below(5) {
                0 | 1 => self.exit_one(),
                2 => self.spawn_one(),
                3 => {
                    let ok = self.rng.chance(70);
                    self.answer_probe(ok)
                }
                _ => self.ping_one(0),
            };
            if happened.is_err() {
                self.queued = None;
                return happened;
            }
        }
        let inputs = self.queued.take().unwrap_or_default();
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("a batch of {} inputs", inputs.len());
        }
        if inputs.is_empty() {
            return Ok(());
        }
        let effects = self.core.handle_many(inputs, self.now);
        self.carry_out(effects)
    }

    /// A process exits: crashes, completes, or obeys a signal.
    fn exit_one(&mut self) -> Result<(), String> {
        let keys: Vec<Key> = self.groups.keys().cloned().collect();
        if keys.is_empty() {
            return Ok(());
        }
        let key = keys[self.rng.below(keys.len())].clone();
        let g = self.groups[&key];
        if self.rng.chance(10) {
            // Its monitor is killed (the OOM killer, a clean-up script): the actor kills what
            // is left of the group, and reports it gone once nothing of it is left.
            self.groups.remove(&key);
            return self.feed(Input::LeaderExited { key, run: g.run, status: None, group_gone: true, last_line: None });
        }
        if !g.leader_alive {
            self.groups.remove(&key);
            return self.feed(Input::GroupGone { key, run: g.run });
        }
        let status = if g.signalled {
            ExitStatus::Signal(15)
        } else if self.rng.chance(50) {
            ExitStatus::Code(0)
        } else {
            ExitStatus::Code(1)
        };
        self.statuses.insert(key.clone(), status);
        let group_gone = self.rng.chance(70);
        if group_gone {
            self.groups.remove(&key);
        } else if let Some(g) = self.groups.get_mut(&key) {
            g.leader_alive = false;
        }
        self.feed(Input::LeaderExited { key, run: g.run, status: Some(status), group_gone, last_line: None })
    }

    /// The supervisor dies and a new one restores what was saved; processes live on.
    fn restart_supervisor(&mut self) -> Result<(), String> {
        // Spawns in flight are lost with the supervisor that ordered them; none of them
        // had a process yet in this model.
        self.spawns.clear();
        self.awaited.clear();
        self.probes.clear();
        self.stopped.clear();
        // Batches not written yet die with the supervisor; nothing acknowledged was in them.
        // (Sequence floors are kept: the engine hands out numbers before its floor is on
        // disk, a gap the simulation does not cover yet.)
        let floors: Vec<Write> =
            self.saves.drain(..).flat_map(|(_, w)| w).filter(|w| matches!(w, Write::SeqFloor(_))).collect();
        self.apply_writes(floors);
        self.pending_acks.clear();
        for (name, spec) in &self.acked {
            if self.store_services.get(name) != Some(spec) {
                return Err(format!(
                    "{name} was acknowledged as saved but the store has {:?}",
                    self.store_services.get(name)
                ));
            }
        }
        self.now.mono_ms += 10;
        self.core = new_core(self.now);
        let records = self
            .store_actions
            .iter()
            .map(|(k, r)| Found {
                key: k.clone(),
                record: Some(*r),
                // The monitor of the recorded run wrote how it ended, if it did.
                status: r.process.and_then(|_| self.statuses.get(k).map(|s| StatusFile::Ended(*s, r.run))),
            })
            .collect();
        let alive = SimProcesses(self.groups.clone());
        // Groups the store does not know of (a spawn answered but not saved yet) are the
        // world's, not the engine's: drop them from the model as an orphan would be.
        let known: BTreeSet<u32> = self.store_actions.values().filter_map(|r| r.process.map(|p| p.pid)).collect();
        self.groups.retain(|_, g| known.contains(&g.saved.pid));
        let effects =
            self.core.restore(self.store_services.values().cloned().collect(), records, self.seq_floor, &alive);
        self.carry_out(effects)
    }

    /// No more chaos: every spawn succeeds, every awaited socket accepts, time passes.
    fn settle(&mut self) -> Result<(), String> {
        for _ in 0..200 {
            if !self.saves.is_empty() {
                self.finish_save(false)?;
            } else if let Some(order) = self.spawns.pop() {
                let pid = self.next_pid;
                self.next_pid += 2;
                let saved = SavedProcess { pid, start_time: 1, monitor: pid + 1, monitor_start: 1 };
                self.groups
                    .insert(order.key.clone(), Group { saved, run: order.run, leader_alive: true, signalled: false });
                self.feed(Input::Spawned { key: order.key, run: order.run, saved, at_us: self.now.wall_us })?;
            } else if let Some(path) = self.awaited.pop() {
                self.feed(Input::Accepts(path))?;
            } else if let Some(order) = self.probes.pop() {
                let input = Input::Probed {
                    key: order.key,
                    run: order.run,
                    probe: order.probe,
                    ok: true,
                    output: "pong".into(),
                };
                self.feed(input)?;
            } else if let Some((key, g)) =
                self.groups.iter().find(|(_, g)| g.signalled || !g.leader_alive).map(|(k, g)| (k.clone(), *g))
            {
                self.groups.remove(&key);
                let input = Input::LeaderExited {
                    key,
                    run: g.run,
                    status: Some(ExitStatus::Signal(15)),
                    group_gone: true,
                    last_line: None,
                };
                self.feed(input)?;
            } else {
                // Every daemon that has a watchdog works, so it pings before time passes.
                let keys: Vec<Key> = self.groups.keys().cloned().collect();
                for key in keys {
                    self.ping(&key, false)?;
                }
                self.now.mono_ms += 11_000;
                self.now.wall_us += 11_000_000;
                self.feed(Input::Tick)?;
            }
            self.check()?;
        }
        // Liveness: whatever is asked to be up and can come up has arrived, or says why not.
        for (key, a) in &self.core.actions {
            if a.goal == Goal::Up && !a.is_settled() && a.state() != RunState::Stopping {
                return Err(format!("{} is still {} ({:?}) after everything settled", label(key), a.state(), a.reason));
            }
            if a.goal != Goal::Up && a.is_alive() {
                return Err(format!("{} is alive although its goal is {:?}", label(key), a.goal));
            }
            if a.state() == RunState::Failed && a.reason.is_none() {
                return Err(format!("{} failed without a reason", label(key)));
            }
        }
        Ok(())
    }
}

/// The simulated world's processes, as a restoring engine sees them.
struct SimProcesses(BTreeMap<Key, Group>);

impl Processes for SimProcesses {
    fn alive(&self, p: &SavedProcess) -> (bool, bool) {
        let g = self.0.values().find(|g| g.saved.pid == p.pid);
        (g.is_some(), g.is_some_and(|g| g.leader_alive))
    }

    fn monitor(&self, _pid: u32, _monitor: u32) -> Option<SavedProcess> {
        None
    }
}

fn run_case(seed: u64, steps: usize) -> Result<(), String> {
    let mut w = World::new(seed);
    let journal = |w: &World| {
        let tail: Vec<String> = w
            .core
            .journal
            .iter()
            .rev()
            .take(25)
            .rev()
            .map(|e| format!("  {} {} {:?}", e.seq, e.action, e.kind))
            .collect();
        tail.join("\n")
    };
    for i in 0..steps {
        w.random_step()
            .and_then(|()| w.check())
            .map_err(|e| format!("step {i}: {e}\nlast entries:\n{}", journal(&w)))?;
    }
    w.settle().map_err(|e| format!("settling: {e}\nlast entries:\n{}", journal(&w)))
}

#[test]
fn random_interleavings_keep_every_invariant() {
    let seeds: Vec<u64> = match std::env::var("SIM_SEED") {
        Ok(s) => vec![s.parse().expect("SIM_SEED is a number")],
        Err(_) => (1..=2_000).map(|i| i * 0x9E37_79B9).collect(),
    };
    for seed in seeds {
        if let Err(e) = run_case(seed, 150) {
            panic!("simulation failed with seed {seed} (replay: SIM_SEED={seed}): {e}");
        }
    }
}

impl Core {
    /// No dependent is spawned before each of its `requires` gates holds, nor one whose
    /// goal is not up: checked at the moment the engine orders the spawn.
    pub(super) fn check_spawn(&mut self, key: &Key) {
        let Some(a) = self.actions.get(key) else { return };
        if a.goal != Goal::Up {
            self.violations.push(format!("{} spawned although its goal is {:?}", label(key), a.goal));
        }
        for dep in a.spec.depends_on.iter().filter(|d| d.relation == Relation::Requires) {
            let Some(t) = self.resolve(dep).and_then(|k| self.actions.get(&k)) else { continue };
            // A one-shot that ran to its end held a gate on its process while it ran.
            let completed = t.state() == RunState::Exited
                && t.exit == Some(ExitStatus::Code(0))
                && t.hold() == Hold::Done
                && !t.is_alive();
            let holds = match dep.ready {
                ReadyGate::Socket if t.socket.is_some() => t.state() == RunState::Ready,
                ReadyGate::Socket | ReadyGate::Running => {
                    matches!(t.state(), RunState::Running | RunState::Ready) || completed
                }
                ReadyGate::Completed => t.state() == RunState::Exited && t.exit == Some(ExitStatus::Code(0)),
                ReadyGate::Healthy => t.state() == RunState::Ready && t.proc().is_some_and(|p| p.watch.passed),
            };
            if !holds {
                self.violations.push(format!("{} spawned while {} is {}", label(key), dep.label(), t.state()));
            }
        }
    }
}

/// A gate on a socket no action of ours serves holds once it accepts; an accepting
/// socket wakes what reads it (its server, the gates naming it) and nothing else.
#[test]
fn a_socket_that_accepts_wakes_the_gates_that_name_it() {
    let now = Now { mono_ms: 0, wall_us: 1_000_000 };
    let mut core = new_core(now);
    let ext = ActionDep::new("ext").socket("ext/e.sock").ready(ReadyGate::Socket);
    let app = ActionSpec::new("app", BinaryKind::Server).depends_on(ext);
    let db = ActionSpec::new("db", BinaryKind::Server).socket("db.sock");
    let spec = ServiceSpec::new("svc", vec![app, db]);
    core.handle(Input::Call(1, Request::Apply(ApplyParams { spec, start: true })), now);
    let effects = core.handle(Input::Saved { error: None, failed: Vec::new() }, now);
    let spawned = |effects: &[Effect]| -> Vec<String> {
        effects.iter().filter_map(|e| if let Effect::Spawn(o) = e { Some(o.key.1.clone()) } else { None }).collect()
    };
    assert_eq!(spawned(&effects), vec!["db"], "app waits for the socket");
    assert!(effects.iter().any(|e| matches!(e, Effect::Await(p) if p.ends_with("ext/e.sock"))), "{effects:?}");
    let db_key = ("svc".to_owned(), "db".to_owned());
    let saved = SavedProcess { pid: 10, start_time: 1, monitor: 11, monitor_start: 1 };
    core.handle(Input::Spawned { key: db_key, run: 1, saved, at_us: now.wall_us }, now);
    let effects = core.handle(Input::Accepts("/sim/s/db.sock".into()), now);
    assert!(spawned(&effects).is_empty(), "db's socket is not the one app waits on");
    let effects = core.handle(Input::Accepts("/sim/s/ext/e.sock".into()), now);
    assert_eq!(spawned(&effects), vec!["app"], "{:?}", core.actions[&("svc".to_owned(), "app".to_owned())].reason);
    assert_eq!(core.actions[&("svc".to_owned(), "db".to_owned())].state(), RunState::Ready);
    assert!(core.violations.is_empty(), "{:?}", core.violations);
}

/// A start while its service's definition is still on its way to the disk, in a batch
/// that then fails: the start's records and its process's carry the definition again, so
/// the start's answer waits for it and a restart never finds a process of a service it
/// does not know (the simulation found one running with its definition lost).
#[test]
fn a_record_never_reaches_the_disk_ahead_of_its_service() {
    let now = Now { mono_ms: 0, wall_us: 1_000_000 };
    let mut core = new_core(now);
    let spec = ServiceSpec::new("svc", vec![ActionSpec::new("a", BinaryKind::Server)]);
    let written = |effects: &[Effect]| -> Vec<Write> {
        effects
            .iter()
            .filter_map(|e| if let Effect::Persist(w) = e { Some(w.clone()) } else { None })
            .flatten()
            .collect()
    };
    let carries = |writes: &[Write]| writes.iter().any(|w| matches!(w, Write::SaveService(s) if s.name == "svc"));
    let effects = core.handle(Input::Call(1, Request::Define(spec.clone())), now);
    assert!(carries(&written(&effects)));
    let start = Request::Start(Target { service: "svc".to_owned(), action: None });
    let effects = core.handle(Input::Call(2, start), now);
    let writes = written(&effects);
    assert!(writes.iter().any(|w| matches!(w, Write::SaveAction(..))), "{writes:?}");
    assert!(carries(&writes), "the definition goes with the start's records: {writes:?}");
    let full = Some("No space left on device".to_owned());
    core.handle(Input::Saved { error: full.clone(), failed: vec![Write::SaveService(spec.clone())] }, now);
    core.handle(Input::Saved { error: full, failed: written(&effects) }, now);
    let key = ("svc".to_owned(), "a".to_owned());
    let saved = SavedProcess { pid: 10, start_time: 1, monitor: 11, monitor_start: 1 };
    let effects = core.handle(Input::Spawned { key, run: 1, saved, at_us: now.wall_us }, now);
    let writes = written(&effects);
    assert!(carries(&writes), "the process's record waits for the definition too: {writes:?}");
    assert!(core.violations.is_empty(), "{:?}", core.violations);
}

#[test]
fn the_journal_stays_within_its_byte_bound_whatever_its_entries_hold() {
    let now = Now { mono_ms: 0, wall_us: 1_000_000 };
    let mut core = new_core(now);
    core.install(ServiceSpec::new("svc", vec![ActionSpec::new("a", BinaryKind::Server)]));
    let key = ("svc".to_owned(), "a".to_owned());
    let reason = "x".repeat(4096);
    for _ in 0..6_000 {
        core.transition(&key, None, None, EventKind::Failed { reason: reason.clone() });
    }
    let held: usize = core.journal.iter().map(super::event_bytes).sum();
    assert!(held <= super::JOURNAL_BYTES, "{held} bytes held");
    assert!(core.journal.len() < 6_000, "old entries were dropped");
    assert_eq!(core.journal.back().map(|e| e.seq), Some(6_000), "the newest are kept");
}

/// A stop of many services in one request names a few of them in each action's reason:
/// naming all of them made every reason and journal entry as long as the request (the
/// journal, bounded in bytes, then dropped the start's history to hold them), and the
/// reply's order came from comparing every label with every other.
#[test]
fn a_batch_stop_names_a_few_and_keeps_the_journal() {
    let now = Now { mono_ms: 0, wall_us: 1_000_000 };
    let mut core = new_core(now);
    let names: Vec<String> = (0..500).map(|i| format!("batch_{i:03}")).collect();
    let targets: Vec<Target> = names.iter().map(|n| Target { service: n.clone(), action: None }).collect();
    for name in &names {
        core.handle(
            Input::Call(1, Request::Define(ServiceSpec::new(name, vec![ActionSpec::new("a", BinaryKind::Server)]))),
            now,
        );
    }
    let mut effects = core.handle(Input::Call(2, Request::StartMany(targets.clone())), now);
    effects.extend(core.handle(Input::Saved { error: None, failed: Vec::new() }, now));
    let orders: Vec<SpawnOrder> =
        effects.into_iter().filter_map(|e| if let Effect::Spawn(o) = e { Some(o) } else { None }).collect();
    assert_eq!(orders.len(), names.len());
    for (pid, order) in (10..).step_by(2).zip(&orders) {
        let saved = SavedProcess { pid, start_time: 1, monitor: pid + 1, monitor_start: 1 };
        core.handle(Input::Spawned { key: order.key.clone(), run: order.run, saved, at_us: now.wall_us }, now);
    }
    let first_seq = core.journal.front().map(|e| e.seq);
    let effects = core.handle(Input::Call(3, Request::StopMany(targets)), now);
    assert_eq!(effects.iter().filter(|e| matches!(e, Effect::Signal { .. })).count(), names.len());
    let reason = core.actions[&(names[0].clone(), "a".to_owned())].reason.clone().unwrap_or_default();
    assert_eq!(reason, "requested stop of batch_000, batch_001, batch_002 and 497 more");
    assert_eq!(core.journal.front().map(|e| e.seq), first_seq, "the journal kept the starts");
    let mut answered = None;
    for order in orders.iter().rev() {
        let status = Some(ExitStatus::Signal(15));
        let exited =
            Input::LeaderExited { key: order.key.clone(), run: order.run, status, group_gone: true, last_line: None };
        for effect in core.handle(exited, now) {
            if let Effect::Reply { id: 3, result, .. } = effect {
                answered = Some(result);
            }
        }
    }
    let Some(Ok(report)) = answered else { panic!("the stop was not answered: {answered:?}") };
    let order: Vec<&str> = report["actions"].as_array().into_iter().flatten().filter_map(|a| a.as_str()).collect();
    let expected: Vec<String> = names.iter().rev().map(|n| format!("{n}/a")).collect();
    assert_eq!(order, expected, "the reply lists them in the order they stopped");
    assert!(core.violations.is_empty(), "{:?}", core.violations);
}

/// The health path step by step: a dependent gated on `healthy` waits for the first
/// passed probe; failures in the start period do not count; `retries` counted failures
/// stop the daemon as a failure and its restart policy brings it back; a late report of
/// a probe given up on is ignored; the watchdog fires with SIGABRT.
#[test]
fn health_checks_gate_dependents_and_restart_an_unhealthy_daemon() {
    let mut now = Now { mono_ms: 0, wall_us: 1_000_000 };
    let mut core = new_core(now);
    let check = HealthCheck {
        interval_ms: 1_000,
        timeout_ms: 100,
        retries: 2,
        start_period_ms: 500,
        start_interval_ms: 50,
        ..HealthCheck::new(Probe::Socket { send: Some("ping".into()), expect: Some("pong".into()) })
    };
    let db = ActionSpec::new("db", BinaryKind::Server).socket("db.sock").health(check).watchdog_ms(5_000);
    let app = ActionSpec::new("app", BinaryKind::Server)
        .depends_on(ActionDep::new("svc").action("db").ready(ReadyGate::Healthy));
    let db_key = ("svc".to_owned(), "db".to_owned());
    let app_key = ("svc".to_owned(), "app".to_owned());
    let feed = |core: &mut Core, now: Now, input: Input| core.handle(input, now);
    let spec = ServiceSpec::new("svc", vec![db, app]);
    feed(&mut core, now, Input::Call(1, Request::Apply(ApplyParams { spec, start: true })));
    // The start waits for the definition to be on disk.
    let effects = feed(&mut core, now, Input::Saved { error: None, failed: Vec::new() });
    let spawned: Vec<Key> =
        effects.iter().filter_map(|e| if let Effect::Spawn(o) = e { Some(o.key.clone()) } else { None }).collect();
    assert_eq!(spawned, vec![db_key.clone()], "only the dependency is spawned first");
    let saved = SavedProcess { pid: 10, start_time: 1, monitor: 11, monitor_start: 1 };
    feed(&mut core, now, Input::Spawned { key: db_key.clone(), run: 1, saved, at_us: now.wall_us });
    let effects = feed(&mut core, now, Input::Accepts("/sim/s/db.sock".into()));
    let probe =
        |effects: &[Effect]| effects.iter().find_map(|e| if let Effect::Probe(o) = e { Some(o.probe) } else { None });
    let first = probe(&effects).expect("the first probe goes out once it is ready");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Spawn(_))), "the dependent waits for healthy");
    // A failure within the start period does not count; the next probe comes sooner.
    let effects = feed(
        &mut core,
        now,
        Input::Probed { key: db_key.clone(), run: 1, probe: first, ok: false, output: "no".into() },
    );
    assert!(probe(&effects).is_none());
    assert_eq!(core.actions[&db_key].health.as_ref().map(|h| h.failures), Some(0));
    now.mono_ms += 50;
    let effects = feed(&mut core, now, Input::Tick);
    let second = probe(&effects).expect("the start interval applies");
    let effects = feed(
        &mut core,
        now,
        Input::Probed { key: db_key.clone(), run: 1, probe: second, ok: true, output: "pong".into() },
    );
    assert!(effects.iter().any(|e| matches!(e, Effect::Spawn(o) if o.key == app_key)), "healthy releases the gate");
    assert_eq!(core.actions[&db_key].health.as_ref().map(|h| h.state), Some(HealthState::Healthy));
    let saved = SavedProcess { pid: 30, start_time: 1, monitor: 31, monitor_start: 1 };
    feed(&mut core, now, Input::Spawned { key: app_key.clone(), run: 1, saved, at_us: now.wall_us });
    // Two failures in a row: unhealthy, stopped with SIGTERM, then restarted by policy.
    let mut stopped = Vec::new();
    for _ in 0..2 {
        now.mono_ms += 1_000;
        let mut effects = feed(&mut core, now, Input::Notify { pid: 10, message: "WATCHDOG=1".into() });
        effects.extend(feed(&mut core, now, Input::Tick));
        let n = probe(&effects).expect("a probe each interval");
        // A late report of an earlier probe is ignored.
        feed(
            &mut core,
            now,
            Input::Probed { key: db_key.clone(), run: 1, probe: n.wrapping_sub(1), ok: true, output: "pong".into() },
        );
        stopped = feed(
            &mut core,
            now,
            Input::Probed { key: db_key.clone(), run: 1, probe: n, ok: false, output: "no reply".into() },
        );
    }
    assert!(stopped.iter().any(|e| matches!(e, Effect::Signal { pgid: 10, signal: Signal::TERM })), "{stopped:?}");
    assert_eq!(core.actions[&db_key].state(), RunState::Stopping);
    let effects = feed(
        &mut core,
        now,
        Input::LeaderExited {
            key: db_key.clone(),
            run: 1,
            status: Some(ExitStatus::Signal(15)),
            group_gone: true,
            last_line: None,
        },
    );
    let failed = core.journal.iter().rev().find_map(|e| match &e.kind {
        EventKind::Failed { reason } if e.action == "svc/db" => Some(reason.clone()),
        _ => None,
    });
    assert!(failed.is_some_and(|r| r.contains("unhealthy: 2 health checks in a row failed (last: no reply)")));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Spawn(o) if o.key == db_key)),
        "restarted at once: it ran over a second"
    );
    assert_eq!(
        core.actions[&app_key].state(),
        RunState::Ready,
        "a requires dependent keeps running (systemd's Requires=)"
    );
    // The next run: ready, then silent past its watchdog: SIGABRT.
    let saved = SavedProcess { pid: 20, start_time: 1, monitor: 21, monitor_start: 1 };
    feed(&mut core, now, Input::Spawned { key: db_key.clone(), run: 2, saved, at_us: now.wall_us });
    feed(&mut core, now, Input::Accepts("/sim/s/db.sock".into()));
    now.mono_ms += 5_000;
    let effects = feed(&mut core, now, Input::Tick);
    assert!(effects.iter().any(|e| matches!(e, Effect::Signal { pgid: 20, signal: Signal::ABORT })), "{effects:?}");
    assert!(core.actions[&db_key].reason.as_deref().is_some_and(|r| r.contains("no WATCHDOG=1 within 5s")));
    assert!(core.violations.is_empty(), "{:?}", core.violations);
}

/// A new health check for a running action takes over at once, without a restart; a new
/// watchdog period restarts it (its process was given the old one).
#[test]
fn a_changed_health_check_applies_at_once_and_a_changed_watchdog_restarts() {
    let now = Now { mono_ms: 0, wall_us: 1_000_000 };
    let mut core = new_core(now);
    let key = ("svc".to_owned(), "db".to_owned());
    let plain = ActionSpec::new("db", BinaryKind::Server);
    core.handle(
        Input::Call(1, Request::Apply(ApplyParams { spec: ServiceSpec::new("svc", vec![plain.clone()]), start: true })),
        now,
    );
    core.handle(Input::Saved { error: None, failed: Vec::new() }, now);
    let saved = SavedProcess { pid: 10, start_time: 1, monitor: 11, monitor_start: 1 };
    core.handle(Input::Spawned { key: key.clone(), run: 1, saved, at_us: now.wall_us }, now);
    assert_eq!(core.actions[&key].state(), RunState::Ready);
    let check = HealthCheck::new(Probe::Exec { command: vec!["check".into()].into() });
    let checked = plain.clone().health(check);
    let effects = core.handle(Input::Call(2, Request::Define(ServiceSpec::new("svc", vec![checked.clone()]))), now);
    assert!(effects.iter().any(|e| matches!(e, Effect::Probe(o) if o.key == key)), "probed at once: {effects:?}");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Signal { .. })), "not restarted: {effects:?}");
    let effects =
        core.handle(Input::Call(3, Request::Define(ServiceSpec::new("svc", vec![checked.watchdog_ms(5_000)]))), now);
    assert!(effects.iter().any(|e| matches!(e, Effect::Signal { pgid: 10, signal: Signal::TERM })), "{effects:?}");
    assert!(core.violations.is_empty(), "{:?}", core.violations);
}

/// A start of a service while an action its new definition dropped is still stopping
/// starts the rest and leaves that one to its removal (it was refused before).
#[test]
fn a_start_while_a_dropped_action_is_still_stopping_starts_the_rest() {
    let now = Now { mono_ms: 0, wall_us: 1_000_000 };
    let mut core = new_core(now);
    let (a, b) = (ActionSpec::new("a", BinaryKind::Server), ActionSpec::new("b", BinaryKind::Server));
    core.handle(
        Input::Call(1, Request::Apply(ApplyParams { spec: ServiceSpec::new("svc", vec![a.clone(), b]), start: true })),
        now,
    );
    core.handle(Input::Saved { error: None, failed: Vec::new() }, now);
    for (n, name) in ["a", "b"].into_iter().enumerate() {
        let pid = 10 + 2 * u32::try_from(n).unwrap();
        let saved = SavedProcess { pid, start_time: 1, monitor: pid + 1, monitor_start: 1 };
        core.handle(Input::Spawned { key: ("svc".into(), name.into()), run: 1, saved, at_us: now.wall_us }, now);
    }
    // The new definition drops b, which is stopping, and starts at once.
    let effects = core.handle(
        Input::Call(2, Request::Apply(ApplyParams { spec: ServiceSpec::new("svc", vec![a]), start: true })),
        now,
    );
    let mut effects = effects;
    // Every batch issued so far is saved: the apply's start goes ahead.
    for _ in 0..8 {
        effects.extend(core.handle(Input::Saved { error: None, failed: Vec::new() }, now));
    }
    assert!(effects.iter().any(|e| matches!(e, Effect::Reply { id: 2, .. })), "answered: {effects:?}");
    let refused = effects.iter().any(|e| matches!(e, Effect::Reply { id: 2, result: Err(_), .. }));
    assert!(!refused, "{effects:?}");
    assert_eq!(core.actions[&("svc".to_owned(), "a".to_owned())].goal, Goal::Up);
    core.handle(
        Input::LeaderExited {
            key: ("svc".into(), "b".into()),
            run: 1,
            status: Some(ExitStatus::Signal(15)),
            group_gone: true,
            last_line: None,
        },
        now,
    );
    assert!(!core.actions.contains_key(&("svc".to_owned(), "b".to_owned())), "b is gone");
    assert!(core.violations.is_empty(), "{:?}", core.violations);
}
