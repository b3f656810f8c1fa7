//! Requests that answer later (`events`, `wait`, `stop`), and when the engine must wake.

use super::*;

impl Engine {
    pub(super) fn check_waiters(&mut self) {
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
    pub(super) fn stop_order(&self, keys: &[Key], since: u64) -> Vec<String> {
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
    pub(super) fn closure(&self, service: &str) -> BTreeSet<Key> {
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
    pub(super) fn is_settled(&self, service: &str) -> bool {
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

    /// The next moment something is due: a timeout, a restart, a kill, a waiter's
    /// deadline, or a connect retry. `None` when nothing is: the supervisor sleeps.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        let mut socket_pending = false;
        for a in self.actions.values() {
            socket_pending |= a.awaits_socket();
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
        if let Some(t) = self.probes.next_deadline(now, socket_pending) {
            consider(t);
        }
        next
    }
}
