//! The reconcile loop: after every input, each action moves as far as its goal, its
//! gates and its process allow. Level-triggered: a rule here holds whichever event
//! made it true.

use service_manifest_core::{Relation, RestartPolicy};

use super::gates::{Gate, settle};
use super::*;

/// How an exit reads in a reason.
pub(crate) fn describe(status: Option<ExitStatus>) -> String {
    match status {
        Some(ExitStatus::Code(c)) => format!("exited with status {c}"),
        Some(ExitStatus::Signal(s)) => format!("was killed by signal {s}"),
        None => "ended with an unknown status (its monitor process was killed)".to_owned(),
    }
}

impl Core {
    /// Moves every action until nothing changes, then settles jobs and waiters and saves.
    pub(crate) fn reconcile(&mut self) {
        let mut touched = BTreeSet::new();
        loop {
            loop {
                // What changed, and its neighbours: nothing else can have a reason to move.
                let (dirty, changed_keys) = self.actions.take_dirty();
                touched.extend(changed_keys);
                // A visited action may not move (a gate that timed out but holds), yet its
                // deadline has passed: its index must say when it is next due, or the
                // engine wakes at once, for nothing, over and over.
                touched.extend(dirty.iter().cloned());
                let mut changed = false;
                for key in &dirty {
                    if self.actions.get(key).is_some_and(|a| !a.is_inert()) {
                        changed |= self.step(key);
                    }
                }
                if !changed && !self.actions.has_pending() {
                    break;
                }
            }
            // A finished restart job writes goals again, a finished removal wakes what named
            // the removed actions: go round once more.
            if !self.check_jobs() && !self.actions.has_pending() {
                break;
            }
        }
        self.check_waiters();
        touched.extend(self.actions.take_touched());
        for key in &touched {
            let deadline = self.actions.get(key).and_then(|a| self.deadline_of(a));
            self.actions.update_index(key, deadline);
        }
        #[cfg(test)]
        self.check_nothing_left_to_move();
        #[cfg(test)]
        if let Some(t) = self.next_deadline().filter(|t| *t <= self.now.mono_ms) {
            // It would wake the engine at once, for nothing, over and over.
            self.violations.push(format!("the next wake-up ({t}) is not in the future ({})", self.now.mono_ms));
        }
        self.flush();
    }

    /// A full pass over every action moves nothing that the pass over the touched ones
    /// and their neighbours left: the indexes miss no reason to move.
    #[cfg(test)]
    fn check_nothing_left_to_move(&mut self) {
        let keys: Vec<Key> = self.actions.iter().filter(|(_, a)| !a.is_inert()).map(|(k, _)| k.clone()).collect();
        for key in keys {
            if self.step(&key) {
                self.violations.push(format!("{} moved in a full pass after reconcile", label(&key)));
            }
        }
    }

    /// Where the action goes next, read off its phase and its goal.
    fn step(&mut self, key: &Key) -> bool {
        let now = self.now.mono_ms;
        let Some(a) = self.actions.get(key) else {
            return false;
        };
        match (&a.phase, a.goal) {
            (Phase::Idle { hold, .. }, Goal::Up) => match *hold {
                Hold::None => {
                    self.enter_waiting(key);
                    true
                }
                Hold::Backoff(t) if t <= now => {
                    if let Some(a) = self.actions.get_mut(key) {
                        a.restarts += 1;
                    }
                    self.enter_waiting(key);
                    true
                }
                Hold::Backoff(_) | Hold::Done | Hold::GaveUp => false,
            },
            (Phase::Idle { .. }, Goal::Down) => false,
            (Phase::Idle { .. }, Goal::Removed) => {
                self.actions.remove(key);
                self.dirty.action(key, true);
                true
            }
            (Phase::Waiting { .. }, Goal::Up) => self.try_start(key),
            (Phase::Waiting { .. }, Goal::Down | Goal::Removed) => {
                let idle = Phase::Idle { ended: Ended::Exited, hold: Hold::None };
                let reason = Some("stopped before it started".into());
                self.transition(key, Some(idle), reason, EventKind::Exited { code: None });
                true
            }
            // Nothing moves until the spawn answers, or until it is abandoned.
            (Phase::Spawning { deadline }, _) if *deadline <= now => {
                let within = crate::text::duration_ms(self.start_timeout_of(&a.spec));
                let error = format!(
                    "its program was not started within {within} (an exec on a hung file system, or a stuck spawner); abandoned"
                );
                let run = a.run;
                self.spawn_failed(key, run, error, true);
                true
            }
            (Phase::Spawning { .. }, _) => false,
            (Phase::Running { proc, .. }, Goal::Up) if proc.ready => self.check_watch(key),
            (Phase::Running { .. }, Goal::Up) => self.check_ready(key),
            (Phase::Running { .. }, Goal::Down | Goal::Removed) => self.begin_stop(key),
            (Phase::Stopping { .. }, _) => {
                self.escalate(key);
                false
            }
        }
    }

    /// Changes the phase without changing what the wire shows (a hold, a deadline, a spawn
    /// order going out while it still shows waiting), so with no journal entry.
    fn rephase(&mut self, key: &Key, phase: Phase) {
        if let Some(a) = self.actions.get_mut(key) {
            #[cfg(test)]
            let before = a.state();
            a.phase = phase;
            #[cfg(test)]
            if a.state() != before {
                let change = format!("{} went from {before} to {} without a journal entry", label(key), a.state());
                self.violations.push(change);
            }
        }
    }

    pub(super) fn enter_waiting(&mut self, key: &Key) {
        let now = self.now.mono_ms;
        let Some(a) = self.actions.get_mut(key) else { return };
        a.exit = None;
        let deps = a.spec.depends_on.clone();
        let waiting = Phase::Waiting { since: now, on: Vec::new() };
        self.transition(key, Some(waiting), None, EventKind::Waiting { on: Vec::new() });
        // Sockets that no action of ours serves are asked afresh: an answer from before
        // says nothing of now.
        for dep in &deps {
            if dep.relation == Relation::Conflicts {
                continue;
            }
            let target = self.resolve(dep);
            let own = target.as_ref().and_then(|k| self.actions.get(k)).and_then(|t| t.socket.clone());
            if let Some(path) = self.dep_socket(dep, target.as_ref())
                && Some(&path) != own.as_ref()
            {
                self.forget_accepting(&path);
                self.effects.push(Effect::Await(path));
            }
        }
        self.stop_conflicts(key);
    }

    /// The actions `key` conflicts with (either side may declare it) that are up or alive.
    fn conflicts_of(&self, key: &Key) -> Vec<Key> {
        let mut conflicting: Vec<Key> = Vec::new();
        if let Some(a) = self.actions.get(key) {
            for dep in a.spec.depends_on.iter().filter(|d| d.relation == Relation::Conflicts) {
                conflicting.extend(self.resolve(dep));
            }
        }
        for (other, a) in self.actions.naming(key) {
            if a.spec
                .depends_on
                .iter()
                .any(|d| d.relation == Relation::Conflicts && self.target(d).is_some_and(|(k, _)| k == key))
            {
                conflicting.push(other.clone());
            }
        }
        conflicting.retain(|k| self.actions.get(k).is_some_and(|a| a.goal == Goal::Up || a.is_alive()));
        conflicting
    }

    /// An action whose goal is up that `key` conflicts with.
    pub(super) fn conflicting_up(&self, key: &Key) -> Option<Key> {
        self.conflicts_of(key).into_iter().find(|k| self.actions.get(k).is_some_and(|a| a.goal == Goal::Up))
    }

    /// Starting an action stops what it conflicts with (either side may declare it).
    fn stop_conflicts(&mut self, key: &Key) {
        let conflicting = self.conflicts_of(key);
        if conflicting.is_empty() {
            return;
        }
        let (set, mut notes) = self.stop_set(conflicting);
        for k in &set {
            if let Some(a) = self.actions.get_mut(k) {
                a.goal = Goal::Down;
                a.phase.set_hold(Hold::None);
                a.stop_reason.get_or_insert_with(|| format!("conflicts with {}", label(key)));
            }
            self.dirty.action(k, true);
            notes.push(format!("stopping {}: it conflicts with {}", label(k), label(key)));
        }
        self.notes.extend(notes);
    }

    /// Pulls in what the action requires or wants, then spawns it if every gate holds.
    fn try_start(&mut self, key: &Key) -> bool {
        let Some(a) = self.actions.get(key) else { return false };
        let Phase::Waiting { since, on } = &a.phase else { return false };
        let (since, on) = (*since, on.clone());
        let waited = self.now.mono_ms.saturating_sub(since);
        let mut changed = false;
        let mut pending = Vec::new();
        // By index, cloning only an edge that may pull its target in: this runs each time
        // any dependency changes, and an umbrella over 100 cloned all 100 each time.
        fn edge<'a>(core: &'a Core, key: &Key, i: usize) -> Option<&'a ActionDep> {
            core.actions.get(key).and_then(|a| a.spec.depends_on.get(i))
        }
        for i in 0..a.spec.depends_on.len() {
            let pulls = edge(self, key, i).filter(|dep| self.may_pull_in(dep)).cloned();
            if let Some(dep) = pulls {
                changed |= self.pull_in(&dep, key);
            }
            let Some(dep) = edge(self, key, i) else { break };
            match settle(dep.relation, self.gate(dep, waited)) {
                Gate::Holds => {}
                Gate::Pending(why) => pending.push(format!("{}: {why}", dep.label())),
                Gate::Broken(why) => {
                    let reason = format!("cannot start {}: {} {}: {why}", label(key), dep.relation, dep.label());
                    let failed = Phase::Idle { ended: Ended::Failed, hold: Hold::GaveUp };
                    self.transition(key, Some(failed), Some(reason.clone()), EventKind::Failed { reason });
                    return true;
                }
            }
        }
        if pending.is_empty() {
            self.spawn(key);
            return true;
        }
        if on != pending {
            let reason = format!("waiting for {}", pending.join("; "));
            let waiting = Phase::Waiting { since, on: pending.clone() };
            self.transition(key, Some(waiting), Some(reason), EventKind::Waiting { on: pending });
            changed = true;
        }
        changed
    }

    /// Whether [`Core::pull_in`] may change anything for this edge: `false` only where it
    /// certainly would not (its target is registered and up, and has not given up).
    fn may_pull_in(&self, dep: &ActionDep) -> bool {
        if !matches!(dep.relation, Relation::Requires | Relation::Wants) || self.shutting_down {
            return false;
        }
        !self.target(dep).is_some_and(|(_, t)| t.goal == Goal::Up && t.hold() != Hold::GaveUp)
    }

    /// Makes the dependency's goal up; registers it from the declaration when it is not
    /// defined and its program is installed. Returns whether anything changed.
    fn pull_in(&mut self, dep: &ActionDep, by: &Key) -> bool {
        let Some(action) = dep.action.clone() else { return false };
        if self.shutting_down {
            return false;
        }
        let key = (dep.service.clone(), action.clone());
        if !self.actions.contains_key(&key) {
            if self.services.contains_key(&dep.service) {
                return false;
            }
            match self.installed.get(&action) {
                Some(true) => {}
                Some(false) => return false,
                None => {
                    // Asked once; the gate waits for the answer.
                    self.installed.insert(action.clone(), false);
                    self.checking.insert(action.clone());
                    self.effects.push(Effect::CheckInstalled(action));
                    return false;
                }
            }
            let mut spec = ActionSpec::new(action, service_manifest_core::BinaryKind::Server);
            spec.socket = dep.socket.clone();
            self.install(ServiceSpec::new(dep.service.clone(), vec![spec]));
            self.dirty.service(&dep.service);
        }
        let asked_at = self.actions.get(by).map_or(0, |d| d.entered_seq);
        if self.actions.get(&key).is_some_and(|t| t.goal != Goal::Up) && self.conflicting_up(&key).is_some() {
            // A pull-in never overrides a conflict; the gate says which action is in the way.
            return false;
        }
        // Read first: a mutable access marks the action changed, and an umbrella waiting on
        // 100 dependencies then had all 100 (and their neighbours) visited again each time.
        let Some(t) = self.actions.get(&key) else { return false };
        if t.goal == Goal::Removed || (t.goal == Goal::Down && t.goal_set_at > asked_at) {
            // A stop asked for after this dependent began waiting stands: the gate waits
            // (and a `wants` edge gives up at its timeout) rather than undoing the stop.
            return false;
        }
        // A dependency that failed for good before this dependent began waiting is tried
        // again; one that fails while it waits stays failed, and the gate says so.
        if t.goal == Goal::Up && !(t.hold() == Hold::GaveUp && t.entered_seq < asked_at) {
            return false;
        }
        let Some(t) = self.actions.get_mut(&key) else { return false };
        if t.goal == Goal::Up {
            t.recent_starts.clear();
            t.quick_deaths = 0;
        }
        t.goal = Goal::Up;
        t.stop_reason = None;
        if t.hold() == Hold::GaveUp {
            t.phase.set_hold(Hold::None);
        }
        let reason = t.reason.clone();
        self.dirty.action(&key, true);
        self.transition(&key, None, reason, EventKind::PulledIn { by: label(by) });
        true
    }

    /// Whether `path` accepts is asked afresh: what read the old answer (another gate
    /// naming the same socket) looks again.
    fn forget_accepting(&mut self, path: &std::path::Path) {
        if self.accepting.remove(path) {
            self.actions.wake_reading(path);
        }
    }

    fn spawn(&mut self, key: &Key) {
        #[cfg(test)]
        self.check_spawn(key);
        let now = self.now.mono_ms;
        let env = self.env_for(key);
        let (log, status) = (self.log_path(key), self.status_path(key));
        let timeout = self.actions.get(key).map(|a| self.start_timeout_of(&a.spec)).unwrap_or_default();
        let registered_by = self.services.get(&key.0).and_then(|s| s.registered_by.clone());
        let Some(a) = self.actions.get_mut(key) else { return };
        a.run += 1;
        a.notify_status = None;
        a.reason = Some("starting its process".into());
        while a.recent_starts.front().is_some_and(|t| now.saturating_sub(*t) > START_LIMIT_WINDOW_MS) {
            a.recent_starts.pop_front();
        }
        a.recent_starts.push_back(now);
        let order = SpawnOrder {
            key: key.clone(),
            run: a.run,
            exec: a.spec.exec.clone(),
            args: a.spec.args.clone(),
            env,
            socket: a.socket.clone(),
            log,
            status,
            exec_timeout_ms: timeout,
            registered_by,
        };
        if let Some(socket) = &order.socket {
            self.forget_accepting(socket);
        }
        self.rephase(key, Phase::Spawning { deadline: now + timeout });
        self.effects.push(Effect::Spawn(order));
    }

    /// The environment of a daemon: a fixed minimal set, never the launching shell's.
    pub(super) fn env_for(&self, key: &Key) -> Vec<(String, String)> {
        let mut env: BTreeMap<String, String> = self.cfg.base_env.iter().cloned().collect();
        env.insert("SERVICE_MANIFEST_SERVICE".into(), key.0.clone());
        env.insert("SERVICE_MANIFEST_ACTION".into(), key.1.clone());
        env.insert(crate::paths::SOCKET_DIR_ENV.into(), self.cfg.socket_dir.display().to_string());
        env.insert(crate::paths::SOCKET_ENV.into(), self.cfg.socket.display().to_string());
        if let Some(a) = self.actions.get(key) {
            if a.spec.notify || a.spec.watchdog_ms.is_some() {
                env.insert("NOTIFY_SOCKET".into(), self.cfg.notify_socket().display().to_string());
            }
            if let Some(ms) = a.spec.watchdog_ms {
                // As systemd sets them; the monitor writes the daemon's pid into WATCHDOG_PID.
                env.insert("WATCHDOG_USEC".into(), (ms.saturating_mul(1000)).to_string());
                env.insert(crate::supervisor::monitor::WATCHDOG_PID.into(), String::new());
            }
            if let Some(socket) = &a.socket {
                env.insert("SERVICE_MANIFEST_SOCKET".into(), socket.display().to_string());
            }
            env.extend(a.spec.env.iter().cloned());
        }
        env.into_iter().collect()
    }

    pub(super) fn spawned(&mut self, key: &Key, run: u64, saved: SavedProcess, at_us: u64) {
        let now = self.now.mono_ms;
        let timeout = self.actions.get(key).map(|a| self.start_timeout_of(&a.spec)).unwrap_or_default();
        let Some(a) = self.actions.get_mut(key).filter(|a| a.run == run && matches!(a.phase, Phase::Spawning { .. }))
        else {
            // Its action is gone, or its spawn was abandoned: nothing may outlive that.
            self.effects.push(Effect::Signal { pgid: saved.pid, signal: Signal::KILL });
            return;
        };
        let socket = a.socket.clone();
        let notify = a.spec.notify;
        let deadline = (notify || socket.is_some()).then_some(now + timeout);
        if let Some(socket) = socket.as_ref().filter(|_| !notify) {
            self.effects.push(Effect::Await(socket.clone()));
        }
        let reason = if notify {
            Some("waiting for READY=1 on NOTIFY_SOCKET".to_owned())
        } else {
            socket.map(|_| "waiting for its socket to accept connections".to_owned())
        };
        self.spawn_began = Some(at_us);
        let running = Phase::Running { proc: Proc::new(saved, now), deadline };
        if let Some(a) = self.actions.get_mut(key) {
            a.health = a.spec.health.as_ref().map(|_| HealthStatus {
                state: HealthState::Starting,
                failures: 0,
                last_check_ms: None,
                last_output: None,
            });
        }
        self.transition(key, Some(running), reason, EventKind::Spawned { pid: saved.pid });
        // A fast daemon can speak before its spawn is recorded: what it said counts now.
        let early: Vec<String> =
            self.early_notify.iter().filter(|(pid, _)| *pid == saved.pid).map(|(_, m)| m.clone()).collect();
        self.early_notify.retain(|(pid, _)| *pid != saved.pid);
        if let Some(a) = self.actions.get_mut(key) {
            for message in &early {
                super::apply_notify(a, message, now);
            }
        }
        self.dirty.action(key, false);
    }

    /// A spawn failed. `by_policy`: a failure that may pass (a timeout) is retried as the
    /// restart policy says; one that will not (no such program) fails for good at once.
    pub(super) fn spawn_failed(&mut self, key: &Key, run: u64, error: String, by_policy: bool) {
        let Some(a) = self.actions.get(key).filter(|a| a.run == run && matches!(a.phase, Phase::Spawning { .. }))
        else {
            return;
        };
        let reason = format!("cannot start {}: {error}", label(key));
        if by_policy && a.goal == Goal::Up && a.spec.restart != RestartPolicy::Never {
            self.schedule_restart(key, Some(reason));
            return;
        }
        let failed = Phase::Idle { ended: Ended::Failed, hold: Hold::GaveUp };
        self.transition(key, Some(failed), Some(reason.clone()), EventKind::Failed { reason });
    }

    fn check_ready(&mut self, key: &Key) -> bool {
        let now = self.now.mono_ms;
        let Some(a) = self.actions.get(key) else { return false };
        let Phase::Running { proc, deadline } = &a.phase else { return false };
        if proc.ready {
            return false;
        }
        let ready = match (&a.socket, a.spec.notify) {
            (_, true) => proc.notified,
            (None, false) => true,
            (Some(socket), false) => self.accepting.contains(socket),
        };
        if ready {
            let mut proc = Proc { ready: true, ..*proc };
            self.arm_watch(&a.spec, &mut proc.watch);
            let running = Phase::Running { proc, deadline: None };
            self.transition(key, Some(running), None, EventKind::Ready);
            self.dirty.action(key, false);
            return true;
        }
        if deadline.is_some_and(|t| t <= now) {
            let within = crate::text::duration_ms(self.start_timeout_of(&a.spec));
            let reason = match &a.socket {
                _ if a.spec.notify => format!("{} did not send READY=1 on NOTIFY_SOCKET within {within}", label(key)),
                Some(socket) => {
                    format!("{} did not accept connections on {} within {within}", label(key), socket.display())
                }
                None => format!("{} did not become ready within {within}", label(key)),
            };
            self.signal_stop(key, Signal::TERM, StopWhy::Failing(reason.clone()), reason);
            return true;
        }
        false
    }

    /// SIGTERM to the group once every dependent that is also stopping has gone:
    /// the reverse of the start order, whatever the relation.
    fn begin_stop(&mut self, key: &Key) -> bool {
        let blocked = self.actions.naming(key).any(|(other, a)| {
            other != key
                && a.goal != Goal::Up
                && a.is_alive()
                && a.spec
                    .depends_on
                    .iter()
                    .any(|d| d.relation != Relation::Conflicts && self.target(d).is_some_and(|(k, _)| k == key))
        });
        if blocked {
            return false;
        }
        let reason =
            self.actions.get(key).and_then(|a| a.stop_reason.clone()).unwrap_or_else(|| "stop requested".into());
        self.signal_stop(key, Signal::TERM, StopWhy::Asked, reason);
        true
    }

    /// `signal` (SIGTERM; SIGABRT for a watchdog, so a stack or core dump is possible) to
    /// the group; SIGKILL after the grace (see `escalate`).
    pub(super) fn signal_stop(&mut self, key: &Key, signal: Signal, why: StopWhy, reason: String) {
        let now = self.now.mono_ms;
        let grace = u64::try_from(self.cfg.stop_grace.as_millis()).unwrap_or(u64::MAX);
        let Some(proc) = self.actions.get(key).and_then(|a| a.proc().copied()) else { return };
        self.effects.push(Effect::Signal { pgid: proc.saved.pid, signal });
        let stopping =
            Phase::Stopping { proc, why, kill_at: Some(now + grace), kill_monitor_at: None, start_after: false };
        self.transition(key, Some(stopping), Some(reason.clone()), EventKind::Stopping { reason });
    }

    /// After the grace, SIGKILL the whole group, also when its leader is already gone;
    /// after another grace, the monitor (a descendant left the group and keeps it waiting).
    fn escalate(&mut self, key: &Key) {
        let now = self.now.mono_ms;
        let grace = u64::try_from(self.cfg.stop_grace.as_millis()).unwrap_or(u64::MAX);
        let Some(a) = self.actions.get(key) else { return };
        let Phase::Stopping { proc, why, kill_at, kill_monitor_at, start_after } = &a.phase else { return };
        let (proc, why, start_after) = (*proc, why.clone(), *start_after);
        if kill_at.is_some_and(|t| t <= now) {
            self.effects.push(Effect::Signal { pgid: proc.saved.pid, signal: Signal::KILL });
            let next = Some(now + grace);
            self.rephase(key, Phase::Stopping { proc, why, kill_at: None, kill_monitor_at: next, start_after });
        } else if kill_monitor_at.is_some_and(|t| t <= now) {
            self.effects.push(Effect::KillMonitor { pid: proc.saved.monitor });
            self.rephase(key, Phase::Stopping { proc, why, kill_at: None, kill_monitor_at: None, start_after });
        }
    }

    pub(super) fn leader_exited(
        &mut self,
        key: &Key,
        status: Option<ExitStatus>,
        group_gone: bool,
        last_line: Option<String>,
    ) {
        let Some(a) = self.actions.get_mut(key) else { return };
        if let Some(p) = a.phase.proc_mut() {
            p.leader_exited = Some(status);
        }
        a.exit = status;
        a.last_line = last_line;
        if group_gone {
            self.group_gone(key);
        } else if matches!(a.phase, Phase::Running { .. }) {
            // A group whose leader ended is cleaned up before anything else happens to it.
            let reason = format!("its main process {}; stopping what is left of its process group", describe(status));
            self.signal_stop(key, Signal::TERM, StopWhy::Cleanup, reason);
        }
    }

    /// Nothing of the group is left: the action goes idle, and how it ended is judged.
    pub(super) fn group_gone(&mut self, key: &Key) {
        let Some(a) = self.actions.get(key) else { return };
        let (proc, why, start_after) = match &a.phase {
            Phase::Running { proc, .. } => (*proc, StopWhy::Cleanup, false),
            Phase::Stopping { proc, why, start_after, .. } => (*proc, why.clone(), *start_after),
            _ => return,
        };
        self.judge_end(key, proc, why);
        // A start asked for while it stopped: it comes up again, as that answer said.
        if let Some(a) = self.actions.get_mut(key)
            && start_after
            && a.goal == Goal::Up
        {
            a.phase.set_hold(Hold::None);
            a.recent_starts.clear();
            a.quick_deaths = 0;
        }
    }

    fn judge_end(&mut self, key: &Key, proc: Proc, why: StopWhy) {
        let Some(a) = self.actions.get_mut(key) else { return };
        let status = proc.leader_exited.flatten();
        a.exit = status;
        let last_line = a.last_line.take();
        self.dirty.action(key, false);
        let code = match status {
            Some(ExitStatus::Code(c)) => Some(c),
            _ => None,
        };
        let idle = |ended, hold| Some(Phase::Idle { ended, hold });
        if let StopWhy::Failing(reason) = why {
            self.transition(key, idle(Ended::Failed, Hold::GaveUp), Some(reason.clone()), EventKind::Failed { reason });
            return;
        }
        if why == StopWhy::Asked || a.goal != Goal::Up {
            self.transition(key, idle(Ended::Exited, Hold::None), Some("stopped".into()), EventKind::Exited { code });
            return;
        }
        let policy = a.spec.restart;
        if let StopWhy::Unhealthy(reason) = why {
            // A daemon that stopped working is a crash to its restart policy.
            if policy == RestartPolicy::Never {
                let failed = idle(Ended::Failed, Hold::GaveUp);
                self.transition(key, failed, Some(reason.clone()), EventKind::Failed { reason });
            } else {
                self.schedule_restart(key, Some(reason));
            }
            return;
        }
        if code == Some(0) && proc.ready {
            self.transition(key, idle(Ended::Exited, Hold::Done), Some(describe(status)), EventKind::Exited { code });
            if policy == RestartPolicy::Always {
                self.schedule_restart(key, None);
            }
            return;
        }
        let early = if code == Some(0) { " before it became ready" } else { "" };
        let detail =
            last_line.map(|l| format!(" (its last output: {})", crate::text::cut_line(&l))).unwrap_or_default();
        let reason = format!("{}{early}{detail}", describe(status));
        if policy == RestartPolicy::Never {
            self.transition(key, idle(Ended::Failed, Hold::GaveUp), Some(reason.clone()), EventKind::Failed { reason });
        } else {
            self.schedule_restart(key, Some(reason));
        }
    }

    /// A restart after back-off, or none once the start limit is reached. With `failed`,
    /// records the failure first (its reason says when a limit stopped the restarts).
    fn schedule_restart(&mut self, key: &Key, failed: Option<String>) {
        let now = self.now.mono_ms;
        let Some(a) = self.actions.get_mut(key) else { return };
        while a.recent_starts.front().is_some_and(|t| now.saturating_sub(*t) > START_LIMIT_WINDOW_MS) {
            a.recent_starts.pop_front();
        }
        let limited = a.recent_starts.len() >= START_LIMIT;
        // As s6-supervise does: a process that ran a while is restarted at once; only quick
        // deaths in a row back off (100 ms, doubling to 10 s). The start limit still ends a
        // crash loop either way.
        let ran_ms = a.recent_starts.back().map_or(0, |started| now.saturating_sub(*started));
        a.quick_deaths = if ran_ms >= RAN_LONG_MS { 0 } else { a.quick_deaths.saturating_add(1) };
        let delay = match a.quick_deaths {
            0 => 0,
            n => (100 * 2u64.pow((n - 1).min(16))).min(10_000),
        };
        let hold = if limited { Hold::GaveUp } else { Hold::Backoff(now + delay) };
        match failed {
            Some(reason) => {
                let reason = if limited {
                    format!(
                        "{reason}; not restarted: started {START_LIMIT} times within {}s (start limit)",
                        START_LIMIT_WINDOW_MS / 1000
                    )
                } else {
                    reason
                };
                let failed = Phase::Idle { ended: Ended::Failed, hold };
                self.transition(key, Some(failed), Some(reason.clone()), EventKind::Failed { reason });
            }
            None => {
                let ended = match a.phase {
                    Phase::Idle { ended, .. } => ended,
                    _ => Ended::Exited,
                };
                self.rephase(key, Phase::Idle { ended, hold });
            }
        }
        if !limited && let Some(a) = self.actions.get(key) {
            let reason = a.reason.clone();
            self.transition(key, None, reason, EventKind::Restarting { in_ms: delay });
        }
    }
}
