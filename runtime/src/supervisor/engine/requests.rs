//! Answering API requests: define, start, stop, status, logs, shutdown.

use super::*;

impl Engine {
    pub(crate) fn call(&mut self, request: Request, reply: Reply) {
        let answer = match request {
            Request::Version => to_value(VersionInfo { api: API_VERSION, pid: std::process::id() }),
            Request::Define(spec) => self.define(spec),
            Request::Apply(p) => {
                let service = p.spec.name.clone();
                self.define(p.spec).and_then(|d| {
                    let changed = serde_json::from_value::<DefineReport>(d).map(|d| d.changed).unwrap_or(true);
                    if !p.start {
                        return to_value(ApplyReport { changed, ..ApplyReport::default() });
                    }
                    let started: ChangeReport =
                        serde_json::from_value(self.start(&Target { service, action: None })?).unwrap_or_default();
                    to_value(ApplyReport { changed, notes: started.notes, actions: started.actions })
                })
            }
            Request::Info => to_value(SupervisorInfo {
                api: API_VERSION,
                pid: std::process::id(),
                socket: self.cfg.socket.clone(),
                state_dir: self.cfg.state_dir.clone(),
                bin_dir: self.cfg.bin_dir.clone(),
                socket_dir: self.cfg.socket_dir.clone(),
                started_ms: self.started_ms,
                uptime_ms: now_ms().saturating_sub(self.started_ms),
                services: self.services.len(),
            }),
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
                    WaitFor::Settled | WaitFor::Up => Waiter::Settled { service: p.service, deadline, reply },
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

    pub(super) fn unknown_service(&self, name: &str) -> RpcError {
        let known: Vec<&str> = self.services.keys().map(String::as_str).collect();
        RpcError::rejected(format!(
            "no service `{name}` is defined (defined: {})",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ))
    }

    pub(super) fn keys_of(&self, service: &str) -> Vec<Key> {
        self.actions.keys().filter(|k| k.0 == service).cloned().collect()
    }

    pub(super) fn targets(&self, target: &Target) -> Result<Vec<Key>, RpcError> {
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

    pub(super) fn define(&mut self, spec: ServiceSpec) -> Result<Value, RpcError> {
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

    pub(super) fn start(&mut self, target: &Target) -> Result<Value, RpcError> {
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

    /// Every action that must stop before the ones in `keys`: their `requires`
    /// dependents, transitively, with one note each saying why.
    pub(super) fn stop_set(&self, keys: Vec<Key>) -> (Vec<Key>, Vec<String>) {
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

    pub(super) fn stop(&mut self, target: &Target, then: Then, reply: Reply) {
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

    pub(super) fn shutdown(&mut self, reply: Reply) {
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

    pub(super) fn status(&self, service: Option<&str>) -> Vec<ActionStatus> {
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

    pub(super) fn log_path(&self, key: &Key) -> PathBuf {
        self.cfg.state_dir.join("logs").join(&key.0).join(format!("{}.log", key.1))
    }

    pub(super) fn logs(&self, p: &LogsParams) -> Result<Value, RpcError> {
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
