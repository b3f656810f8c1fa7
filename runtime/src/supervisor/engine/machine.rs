//! The state machine: gates, pull-in, spawning, readiness, exits, restarts and stops.

use super::*;

impl Engine {
    pub(super) fn enter_waiting(&mut self, key: &Key) {
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

    pub(super) fn fail(&mut self, key: &Key, reason: String) {
        self.set_state(key, RunState::Failed, Some(reason.clone()));
        self.record(key, EventKind::Failed { reason });
    }

    pub(super) fn schedule_restart(&mut self, key: &Key) {
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

    pub(super) fn resolve(&self, dep: &ActionDep) -> Option<Key> {
        let key = (dep.service.clone(), dep.action.clone()?);
        self.actions.contains_key(&key).then_some(key)
    }

    pub(super) fn dep_socket(&self, dep: &ActionDep, target: Option<&Key>) -> Option<PathBuf> {
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
    pub(super) fn socket_pending(&self) -> bool {
        self.actions.values().any(Action::awaits_socket)
    }

    pub(super) fn step(&mut self, key: &Key, now: Instant) -> bool {
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
    pub(super) fn try_start(&mut self, key: &Key, now: Instant) -> bool {
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

    pub(super) fn unresolvable(&self, dep: &ActionDep) -> Gate {
        let bin = dep.action.as_deref().unwrap_or_default();
        if self.services.contains_key(&dep.service) {
            Gate::Broken(format!("not an action of the defined service `{}`", dep.service))
        } else {
            Gate::Broken(format!("not defined, and `{bin}` is not in the bin directory {}", self.cfg.bin_dir.display()))
        }
    }

    /// Makes the dependency wanted; registers it from the declaration when its binary
    /// is in the bin directory. Returns whether anything changed.
    pub(super) fn pull_in(&mut self, dep: &ActionDep, by: &Key) -> bool {
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

    pub(super) fn spawn(&mut self, key: &Key) {
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
        self.set_state(key, RunState::Running, Some("waiting for its socket to accept connections".into()));
        if let Some(a) = self.actions.get_mut(key) {
            a.ready_deadline = socket.is_some().then(|| Instant::now() + start_timeout);
        }
        // check_ready makes a socket-less action ready at once, and a served one when it accepts.
        self.check_ready(key, Instant::now());
    }

    pub(super) fn check_ready(&mut self, key: &Key, now: Instant) -> bool {
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
    pub(super) fn begin_stop(&mut self, key: &Key, now: Instant) -> bool {
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
}
