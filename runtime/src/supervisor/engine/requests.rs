//! Requests: each one checks its input, writes goals (or starts a job or a waiter) and
//! replies; the reconcile that follows does the rest.

use std::path::Path;

use super::jobs::{Then, WaitKind, Waiter};
use super::*;

/// The longest a `logs` answer may be: the engine never reads more for one request.
const MAX_LOG_BYTES: u64 = 1 << 20;

impl Core {
    pub(super) fn call(&mut self, id: ReqId, request: Request) {
        if matches!(request, Request::Start(_) | Request::StartMany(_) | Request::Apply(_) | Request::Restart(_)) {
            // A program found missing before may have been installed since.
            let checking = &self.checking;
            let before = self.installed.len();
            self.installed.retain(|program, found| *found || checking.contains(program));
            if self.installed.len() != before {
                self.wake_waiting();
            }
        }
        let answer = match request {
            Request::Version => to_value(VersionInfo { api: API_VERSION, pid: std::process::id() }),
            Request::Define(spec) => return self.define(id, spec, None),
            Request::Apply(p) => return self.define(id, p.spec, Some(p.start)),
            Request::Start(target) => self.start(&target),
            Request::Stop(target) => match self.targets(&target) {
                Ok(keys) => {
                    let (keys, notes) = self.stop_set(keys);
                    let why = format!("requested stop of {}", target.service);
                    return self.stop_job(keys, Goal::Down, &why, notes, Then::Reply, Some(id));
                }
                Err(e) => Err(e),
            },
            Request::StartMany(targets) => self.start_many(&targets),
            Request::StopMany(targets) => match self.targets_of(&targets) {
                Ok(keys) => {
                    let (keys, notes) = self.stop_set(keys);
                    let names: Vec<&str> = targets.iter().map(|t| t.service.as_str()).collect();
                    let why = format!("requested stop of {}", crate::text::some_names(&names));
                    return self.stop_job(keys, Goal::Down, &why, notes, Then::Reply, Some(id));
                }
                Err(e) => Err(e),
            },
            Request::Restart(target) => match self.targets(&target) {
                Ok(keys) => {
                    let (set, notes) = self.stop_set(keys.clone());
                    // systemd's `requires`: what was up comes back up, with the targets themselves.
                    let up: Vec<Key> = set
                        .iter()
                        .filter(|k| keys.contains(k) || self.actions.get(*k).is_some_and(|a| a.goal == Goal::Up))
                        .cloned()
                        .collect();
                    let why = format!("requested restart of {}", target.service);
                    return self.stop_job(set, Goal::Down, &why, notes, Then::Start(up), Some(id));
                }
                Err(e) => Err(e),
            },
            Request::Remove(target) => match self.targets(&Target { service: target.service.clone(), action: None }) {
                Ok(keys) => {
                    let (set, notes) = self.stop_set(keys.clone());
                    let others: Vec<Key> = set.into_iter().filter(|k| !keys.contains(k)).collect();
                    let why = format!("{} is being removed", target.service);
                    self.stop_job(others, Goal::Down, &why, Vec::new(), Then::Reply, None);
                    return self.stop_job(keys, Goal::Removed, &why, notes, Then::Forget(target.service), Some(id));
                }
                Err(e) => Err(e),
            },
            Request::Status(scope) => match scope.service.as_deref().map(|s| self.known_service(s)).transpose() {
                Ok(_) => to_value(self.status(scope.service.as_deref())),
                Err(e) => Err(e),
            },
            Request::List => to_value(self.services.values().collect::<Vec<_>>()),
            Request::Logs(p) => {
                match self.targets(&Target { service: p.service.clone(), action: Some(p.action.clone()) }) {
                    Ok(_) => {
                        let key = (p.service, p.action);
                        let max = p.tail_bytes.unwrap_or(64 * 1024).min(MAX_LOG_BYTES);
                        self.effects.push(Effect::ReadLog { id, path: self.log_path(&key), max });
                        return;
                    }
                    Err(e) => Err(e),
                }
            }
            Request::Events(p) => {
                let deadline = self.now.mono_ms + p.wait_ms.min(600_000);
                self.waiters.push(Waiter { id, kind: WaitKind::Events { since: p.since }, deadline, keys: None });
                return;
            }
            Request::Wait(p) => match self.known_service(&p.service) {
                Ok(()) => {
                    let deadline = self.now.mono_ms + p.timeout_ms.min(3_600_000);
                    let kind = match p.until {
                        WaitFor::Settled => WaitKind::Settled { service: p.service },
                        WaitFor::Up => WaitKind::Up { service: p.service },
                        WaitFor::Stopped => WaitKind::Stopped { service: p.service },
                    };
                    self.waiters.push(Waiter { id, kind, deadline, keys: None });
                    return;
                }
                Err(e) => Err(e),
            },
            Request::Shutdown => return self.shutdown(Some(id)),
            Request::Info => to_value(SupervisorInfo {
                api: API_VERSION,
                pid: std::process::id(),
                socket: self.cfg.socket.clone(),
                state_dir: self.cfg.state_dir.clone(),
                bin_dir: self.cfg.bin_dir.clone(),
                socket_dir: self.cfg.socket_dir.clone(),
                started_ms: self.started_ms,
                uptime_ms: (self.now.wall_us / 1000).saturating_sub(self.started_ms),
                services: self.services.len(),
                journal_seq: self.next_seq.saturating_sub(1),
                open_files_limit: self.open_files,
                action_capacity: super::super::action_capacity(self.open_files),
                restored: self.restored.iter().cloned().collect(),
                profiles: self
                    .services
                    .values()
                    .filter(|s| !s.profiles.is_empty())
                    .map(|s| (s.name.clone(), s.profiles.clone()))
                    .collect(),
            }),
        };
        let durable = answer.is_ok() && self.dirty.any();
        self.reply(id, answer, durable);
    }

    fn known_service(&self, name: &str) -> Result<(), RpcError> {
        if let Some(problem) = service_manifest_core::validate_name(name) {
            return Err(RpcError::rejected(format!("service name `{}` {problem}", name.escape_debug())));
        }
        if self.services.contains_key(name) {
            return Ok(());
        }
        let known: Vec<&str> = self.services.keys().map(String::as_str).collect();
        Err(RpcError::rejected(format!(
            "no service `{name}` is defined (defined: {})",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        )))
    }

    /// Every action of every target, each once; the first unknown name is the error.
    fn targets_of(&self, targets: &[Target]) -> Result<Vec<Key>, RpcError> {
        let mut keys: Vec<Key> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for target in targets {
            for key in self.targets(target)? {
                if seen.insert(key.clone()) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    /// `start_many`: every target is checked first, so a bad one starts nothing; then each
    /// is started as `start` would, and the reports are merged into one.
    fn start_many(&mut self, targets: &[Target]) -> Result<Value, RpcError> {
        self.targets_of(targets)?;
        let mut merged = ChangeReport::default();
        let mut seen = std::collections::HashSet::new();
        for target in targets {
            let report = self.start_report(target)?;
            for (note, action) in report.notes.into_iter().zip(report.actions) {
                if seen.insert(action.clone()) {
                    merged.notes.push(note);
                    merged.actions.push(action);
                }
            }
        }
        to_value(merged)
    }

    fn targets(&self, target: &Target) -> Result<Vec<Key>, RpcError> {
        self.known_service(&target.service)?;
        let keys: Vec<Key> = self.actions.keys_of(&target.service).cloned().collect();
        match &target.action {
            None => Ok(keys),
            Some(action) => {
                let key = (target.service.clone(), action.clone());
                if self.actions.contains_key(&key) {
                    Ok(vec![key])
                } else {
                    Err(RpcError::rejected(format!(
                        "service `{}` has no action `{}`",
                        target.service,
                        action.escape_debug()
                    )))
                }
            }
        }
    }

    /// `define` (`start: None`) and `apply`: one step, one reply, persisted before it. An
    /// `apply` that starts waits until its definition is on disk, and starts nothing if
    /// it cannot be saved.
    fn define(&mut self, id: ReqId, spec: ServiceSpec, start: Option<bool>) {
        let service = spec.name.clone();
        let answer = self.define_inner(spec);
        let (changed, notes, restarting) = match answer {
            Ok(done) => done,
            Err(e) => return self.reply(id, Err(e), true),
        };
        if start != Some(true) {
            let answer = match start {
                None => to_value(DefineReport { changed }),
                Some(_) => to_value(ApplyReport { changed, notes, actions: Vec::new() }),
            };
            return self.reply(id, answer, true);
        }
        let deferred =
            super::persist::Deferred { id, service, batch: 0, changed, notes, restarting, superseded: Vec::new() };
        if self.dirty.has_service(&deferred.service) {
            // The flush at the end of this input issues the batch that carries it.
            self.deferred.push(super::persist::Deferred { batch: self.persists_issued + 1, ..deferred });
        } else {
            self.finish_apply(deferred);
        }
    }

    /// Starts what an `apply` defined, once the definition is on disk, and answers it.
    pub(super) fn finish_apply(&mut self, d: super::persist::Deferred) {
        if !self.services.contains_key(&d.service) {
            let message = format!("{} was removed by a later request before it started", d.service);
            return self.reply(d.id, Err(RpcError::rejected(message)), false);
        }
        let mut notes = d.notes;
        let mut actions = Vec::new();
        let keys: Vec<Key> = self.actions.keys_of(&d.service).cloned().collect();
        for key in keys {
            // An action this definition dropped is still stopping: it goes, it is not started.
            if self.actions.get(&key).is_some_and(|a| a.goal == Goal::Removed) {
                continue;
            }
            actions.push(label(&key));
            if d.restarting.contains(&key) {
                continue;
            }
            if let Some((_, by)) = d.superseded.iter().find(|(k, _)| *k == key) {
                notes.push(format!("not starting {}: superseded by a later request ({by})", label(&key)));
                continue;
            }
            match self.start(&Target { service: d.service.clone(), action: Some(key.1.clone()) }) {
                Ok(report) => {
                    let report: ChangeReport = serde_json::from_value(report).unwrap_or_default();
                    notes.extend(report.notes);
                }
                Err(e) => return self.reply(d.id, Err(e), true),
            }
        }
        let answer = to_value(ApplyReport { changed: d.changed, notes, actions });
        self.answering.push(d.id);
        self.reply(d.id, answer, true);
    }

    fn define_inner(&mut self, spec: ServiceSpec) -> Result<(bool, Vec<String>, Vec<Key>), RpcError> {
        if self.shutting_down {
            return Err(RpcError::rejected("the supervisor is shutting down"));
        }
        check_spec(&spec, &self.cfg.socket_dir)?;
        self.check_against_registrations(&spec)?;
        let name = spec.name.clone();
        // A definition that is not on disk yet (its save failed) is not "unchanged": it is
        // saved again, and the answer waits for it.
        let unsaved = self.unsaved.has_service(&name);
        // A define that arrives while the service is being removed wins: it stays.
        let removing =
            self.actions.keys_of(&name).any(|k| self.actions.get(k).is_some_and(|a| a.goal == Goal::Removed));
        let changed = self.services.get(&name) != Some(&spec) || unsaved || removing;
        if unsaved || self.unconfirmed.contains_key(&name) {
            // Not on disk yet, or still on its way there in a write that may fail: write it
            // again, and answer once this one is saved.
            self.dirty.service(&name);
        }
        let mut notes = Vec::new();
        let mut restarting: Vec<Key> = Vec::new();
        if changed {
            if let Some(cycle) = super::super::graph::find_cycle(&spec, |s| self.services.get(s)) {
                return Err(RpcError::rejected(format!(
                    "defining `{name}` would create a dependency cycle: {}",
                    cycle.join(" → ")
                )));
            }
            // A running action whose command changed is restarted, as `docker compose up`
            // recreates only what changed; an unchanged one is not touched.
            let mut restart = Vec::new();
            for action in &spec.actions {
                let key = (name.clone(), action.name.clone());
                if let Some(old) = self.actions.get(&key)
                    && old.goal == Goal::Up
                    && old.is_alive()
                {
                    let diff = spec_diff(&old.spec, action);
                    if !diff.is_empty() {
                        notes.push(format!("restarting {}: its definition changed ({})", label(&key), diff.join(", ")));
                        restart.push(key);
                    }
                }
            }
            let dropped: Vec<Key> =
                self.actions.keys_of(&name).filter(|k| spec.action(&k.1).is_none()).cloned().collect();
            self.install(spec);
            self.dirty.service(&name);
            if !dropped.is_empty() {
                self.stop_job(
                    dropped,
                    Goal::Removed,
                    "its service was redefined without it",
                    Vec::new(),
                    Then::Reply,
                    None,
                );
            }
            if !restart.is_empty() {
                let (set, stop_notes) = self.stop_set(restart.clone());
                let up: Vec<Key> = set
                    .iter()
                    .filter(|k| restart.contains(k) || self.actions.get(*k).is_some_and(|a| a.goal == Goal::Up))
                    .cloned()
                    .collect();
                notes.extend(stop_notes);
                restarting = set.clone();
                self.stop_job(set.clone(), Goal::Down, "its definition changed", Vec::new(), Then::Start(up), None);
                // A dependent restarts because what it requires does: its stop says that.
                let because: Vec<(Key, Key)> = set
                    .iter()
                    .filter(|k| !restart.contains(k))
                    .filter_map(|k| {
                        let a = self.actions.get(k)?;
                        let required = a
                            .spec
                            .depends_on
                            .iter()
                            .filter(|d| d.relation == service_manifest_core::Relation::Requires)
                            .filter_map(|d| self.resolve(d))
                            .find(|t| set.contains(t))?;
                        Some((k.clone(), required))
                    })
                    .collect();
                for (k, required) in because {
                    if let Some(a) = self.actions.get_mut(&k) {
                        a.stop_reason = Some(format!("restarting with {}, which it requires", label(&required)));
                    }
                }
            }
        }
        Ok((changed, notes, restarting))
    }

    /// A dependency on a service that is already registered must match that registration:
    /// the action exists there (only started binaries are registered), and a socket the
    /// edge names is the one that action serves. A mismatch names both sides, instead of
    /// turning into a timeout at run time.
    fn check_against_registrations(&self, spec: &ServiceSpec) -> Result<(), RpcError> {
        for action in &spec.actions {
            for dep in action.depends_on.iter().filter(|d| d.service != spec.name) {
                let (Some(theirs), Some(wanted)) = (self.services.get(&dep.service), dep.action.as_deref()) else {
                    continue;
                };
                let here = format!("{}/{} depends on {}", spec.name, action.name, dep.label());
                let Some(target) = theirs.action(wanted) else {
                    let started: Vec<&str> = theirs.actions.iter().map(|a| a.name.as_str()).collect();
                    return Err(RpcError::rejected(format!(
                        "{here}, but the registered service `{}` starts no `{wanted}` (it starts: {})",
                        dep.service,
                        started.join(", ")
                    )));
                };
                let resolve = |s: &str| crate::paths::resolve_socket(&self.cfg.socket_dir, s);
                if let (Some(expected), Some(served)) = (&dep.socket, &target.socket)
                    && resolve(expected) != resolve(served)
                {
                    return Err(RpcError::rejected(format!(
                        "{here} on socket {}, but {}/{wanted} is registered serving {}",
                        resolve(expected).display(),
                        dep.service,
                        resolve(served).display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Writes goal up; a start during a stop ends up, and one that failed for good is tried again.
    fn start(&mut self, target: &Target) -> Result<Value, RpcError> {
        self.start_report(target).and_then(to_value)
    }

    fn start_report(&mut self, target: &Target) -> Result<ChangeReport, RpcError> {
        if self.shutting_down {
            return Err(RpcError::rejected("the supervisor is shutting down"));
        }
        let all = self.targets(target)?;
        // An action a new definition dropped is still stopping: a start of the service
        // leaves it to its removal. Only a start of it by name, or of a service whose every
        // action is going, is refused.
        let removed = |k: &Key| self.actions.get(k).is_some_and(|a| a.goal == Goal::Removed);
        let keys: Vec<Key> = all.iter().filter(|k| !removed(k)).cloned().collect();
        if keys.is_empty()
            && let Some(k) = all.first()
        {
            return Err(RpcError::rejected(format!("{} is being removed", label(k))));
        }
        self.supersede(&keys, &format!("requested start of {}", target.service), false);
        let mut report = ChangeReport::default();
        for key in keys {
            let Some(a) = self.actions.get_mut(&key) else { continue };
            let note = match (a.goal, a.state()) {
                (_, RunState::Stopping) => format!("{} is stopping; it starts again once it has stopped", label(&key)),
                (Goal::Up, RunState::Ready | RunState::Running | RunState::Waiting) => {
                    format!("{} is already {}", label(&key), a.state())
                }
                _ => format!("starting {}", label(&key)),
            };
            if a.goal != Goal::Up || !a.is_alive() {
                a.phase.set_hold(Hold::None);
                a.recent_starts.clear();
                a.quick_deaths = 0;
            }
            if let Phase::Stopping { start_after, .. } = &mut a.phase {
                *start_after = true;
            }
            a.goal = Goal::Up;
            a.stop_reason = None;
            report.notes.push(note);
            report.actions.push(label(&key));
            self.dirty.action(&key, true);
        }
        // Conflicts stopped on the way are said too; they show once `reconcile` has run,
        // so the caller's reply is built after it.
        Ok(report)
    }

    pub(super) fn shutdown(&mut self, reply: Option<ReqId>) {
        if !self.shutting_down {
            self.wanted_at_shutdown =
                self.actions.iter().filter(|(_, a)| a.goal == Goal::Up).map(|(k, _)| k.clone()).collect();
            self.shutting_down = true;
        }
        // A restart under way does not bring anything back up: what it would have started
        // is saved as wanted (above), for the next supervisor.
        for job in &mut self.jobs {
            if matches!(job.then, Then::Start(_)) {
                job.then = Then::Reply;
            }
        }
        let keys: Vec<Key> = self.actions.keys().cloned().collect();
        self.stop_job(keys, Goal::Down, "the supervisor is shutting down", Vec::new(), Then::Exit, reply);
    }
}

/// What differs between two definitions of a running action, in words.
fn spec_diff(old: &ActionSpec, new: &ActionSpec) -> Vec<&'static str> {
    let mut diff = Vec::new();
    if old.exec != new.exec {
        diff.push("exec");
    }
    if old.args != new.args {
        diff.push("args");
    }
    if old.env != new.env {
        diff.push("env");
    }
    if old.socket != new.socket {
        diff.push("socket");
    }
    if old.watchdog_ms != new.watchdog_ms {
        // Its process was given WATCHDOG_USEC: only a new one learns the new period.
        diff.push("watchdog");
    }
    diff
}

/// Rejects a spec the supervisor could never run, checking every name with the
/// manifest's own rules: names become file paths.
fn check_spec(spec: &ServiceSpec, socket_dir: &Path) -> Result<(), RpcError> {
    let name_ok = |what: &str, name: &str| -> Result<(), RpcError> {
        match service_manifest_core::validate_name(name) {
            Some(problem) => Err(RpcError::rejected(format!("{what} name `{}` {problem}", name.escape_debug()))),
            None => Ok(()),
        }
    };
    name_ok("service", &spec.name)?;
    if spec.actions.is_empty() {
        return Err(RpcError::rejected(format!("service `{}` has no action", spec.name)));
    }
    let mut names = BTreeSet::new();
    for a in &spec.actions {
        name_ok("action", &a.name)?;
        if !names.insert(&a.name) {
            return Err(RpcError::rejected(format!("action `{}` is defined twice", a.name)));
        }
        if a.exec.is_empty() || a.exec.contains('\0') || a.args.iter().any(|x| x.contains('\0')) {
            return Err(RpcError::rejected(format!(
                "{}/{}: exec and args must be non-empty text without NUL",
                spec.name, a.name
            )));
        }
        for (k, v) in &a.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(RpcError::rejected(format!(
                    "{}/{}: environment variable `{}` must be a name without `=` or NUL",
                    spec.name,
                    a.name,
                    k.escape_debug()
                )));
            }
        }
        for dep in &a.depends_on {
            name_ok("dependency service", &dep.service)?;
            if let Some(action) = &dep.action {
                name_ok("dependency action", action)?;
            }
        }
        let sockets = a.socket.iter().chain(a.depends_on.iter().filter_map(|d| d.socket.as_ref()));
        for s in sockets {
            let path = crate::paths::resolve_socket(socket_dir, s);
            if s.contains('\0') || path.as_os_str().len() > service_manifest_core::MAX_SOCKET_PATH {
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
