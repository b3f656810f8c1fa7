//! Requests that finish later: stop, restart and remove jobs (goals written, then the
//! reply once everything they touched has stopped), and waiters (`events`, `wait`).

use std::collections::HashSet;

use service_manifest_core::Relation;

use super::*;

/// What a job does once every action it stopped is gone.
#[derive(Debug)]
pub(crate) enum Then {
    Reply,
    /// Bring these back up: the members of the stop set that were up (restart).
    Start(Vec<Key>),
    /// Forget the service.
    Forget(String),
    /// The supervisor exits.
    Exit,
}

#[derive(Debug)]
pub(crate) struct Job {
    pub keys: Vec<Key>,
    /// The journal position when it began, to report the order things stopped in.
    pub since: u64,
    pub report: ChangeReport,
    pub then: Then,
    /// `None` once its client has gone: the job still finishes. It has no deadline of its
    /// own: what it waits for is bounded (a spawn by the start timeout, a stop by the grace
    /// and the monitor's kill).
    pub reply: Option<ReqId>,
    /// How many of `keys`, from the front, were seen finished: each check starts after
    /// them, so a job over n actions costs O(n) in all, not O(n) on every input.
    pub finished: usize,
}

#[derive(Debug)]
pub(crate) enum WaitKind {
    Events { since: u64 },
    Settled { service: String },
    Up { service: String },
    Stopped { service: String },
}

#[derive(Debug)]
pub(crate) struct Waiter {
    pub id: ReqId,
    pub kind: WaitKind,
    pub deadline: u64,
    /// The closure its condition reads, and the graph's generation it was computed at:
    /// waiters are checked after every input, and an umbrella over 100 services spent a
    /// fifth of the engine's time in a fan-out recomputing it.
    pub keys: Option<(u64, BTreeSet<Key>)>,
}

impl Core {
    /// Every action that must stop before the ones in `keys`: their `requires`
    /// dependents, transitively, with one note each saying why.
    pub(crate) fn stop_set(&self, keys: Vec<Key>) -> (Vec<Key>, Vec<String>) {
        let mut set: BTreeSet<Key> = keys.iter().cloned().collect();
        let mut order = keys;
        let mut notes = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let dependency = order[i].clone();
            for (key, a) in self.actions.naming(&dependency) {
                if set.contains(key) || !(a.goal == Goal::Up || a.is_alive()) {
                    continue;
                }
                let requires =
                    a.spec.depends_on.iter().any(|d| {
                        d.relation == Relation::Requires && self.target(d).is_some_and(|(k, _)| *k == dependency)
                    });
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

    /// Writes goal `goal` for `keys` and starts a job that finishes once they are down.
    pub(crate) fn stop_job(
        &mut self,
        keys: Vec<Key>,
        goal: Goal,
        why: &str,
        notes: Vec<String>,
        then: Then,
        reply: Option<ReqId>,
    ) {
        self.supersede(&keys, why, true);
        let now_seq = self.next_seq;
        for key in &keys {
            if let Some(a) = self.actions.get_mut(key) {
                a.goal = goal;
                a.goal_set_at = now_seq;
                a.phase.set_hold(Hold::None);
                a.stop_reason = Some(why.to_owned());
            }
            self.dirty.action(key, true);
        }
        let report = ChangeReport { notes, actions: keys.iter().map(label).collect(), superseded: None };
        self.jobs.push(Job { keys, since: self.next_seq, report, then, reply, finished: 0 });
    }

    /// The last request on an action decides its goal, as a systemd stop job replaces a
    /// pending restart: an earlier job touching `keys` no longer brings them back up, and
    /// answers that it was superseded by `by`. `restarts_too`: a stop supersedes restarts;
    /// a start leaves a restart be (it ends up, as asked) and supersedes plain stops.
    pub(crate) fn supersede(&mut self, keys: &[Key], by: &str, restarts_too: bool) {
        if restarts_too {
            // An `apply` whose start still waits for its save does not start them either.
            for d in &mut self.deferred {
                for key in keys.iter().filter(|k| k.0 == d.service) {
                    d.superseded.push((key.clone(), by.to_owned()));
                }
            }
        }
        // A batch against a pending batch has thousands of keys on each side; one start
        // against it, one key.
        let set: Option<HashSet<&Key>> = (keys.len() > 16).then(|| keys.iter().collect());
        let named = |k: &Key| set.as_ref().map_or_else(|| keys.contains(k), |set| set.contains(k));
        for job in &mut self.jobs {
            let restart = matches!(job.then, Then::Start(_));
            if !job.keys.iter().any(named) || (restart && !restarts_too) {
                continue;
            }
            if let Then::Start(up) = &mut job.then {
                up.retain(|k| !named(k));
            }
            job.report.superseded.get_or_insert_with(|| by.to_owned());
        }
    }

    /// Finishes every job whose actions are down (or were asked up again meanwhile).
    /// Returns whether goals changed.
    pub(crate) fn check_jobs(&mut self) -> bool {
        let mut changed = false;
        let jobs = std::mem::take(&mut self.jobs);
        for mut job in jobs {
            let finished = |k: &Key| {
                self.actions
                    .get(k)
                    .is_none_or(|a| a.goal == Goal::Up || (!a.is_alive() && a.state() != RunState::Waiting))
            };
            // The rest first, from where the last check stopped; then, once all of it is
            // finished, the front again (an action can be asked down again meanwhile).
            let pending = match job.keys[job.finished..].iter().position(|k| !finished(k)) {
                Some(i) => Some(job.finished + i),
                None => job.keys[..job.finished].iter().position(|k| !finished(k)),
            };
            if let Some(i) = pending {
                job.finished = i;
                self.jobs.push(job);
                continue;
            }
            let Job { keys, since, mut report, then, reply, .. } = job;
            report.actions = self.stop_order(&keys, since);
            match then {
                Then::Reply => {}
                Then::Start(_) if self.shutting_down => {}
                Then::Start(up) => {
                    for key in &up {
                        if let Some(a) = self.actions.get_mut(key) {
                            a.goal = Goal::Up;
                            a.phase.set_hold(Hold::None);
                            a.recent_starts.clear();
                            a.quick_deaths = 0;
                            a.stop_reason = None;
                            report.notes.push(format!("starting {} again", label(key)));
                        }
                        self.dirty.action(key, true);
                    }
                    changed = true;
                }
                Then::Forget(service) => {
                    // What was redefined meanwhile stays; the rest is forgotten.
                    self.actions.retain(|k, a| k.0 != service || a.goal != Goal::Removed || a.is_alive());
                    if self.actions.keys_of(&service).next().is_none() {
                        self.services.remove(&service);
                        // A gate on an action of it now reads "not defined": look again.
                        self.wake_waiting();
                    }
                    self.dirty.service(&service);
                }
                Then::Exit => self.effects.push(Effect::Exit),
            }
            if let Some(id) = reply {
                self.reply(id, to_value(report), true);
            }
        }
        changed
    }

    /// `keys` in the order they stopped after journal position `since`; those that were
    /// not running come first, as they had nothing to stop.
    fn stop_order(&self, keys: &[Key], since: u64) -> Vec<String> {
        // Sets, not `contains` on lists: a batch stop of 2,000 compared millions of labels.
        let labels: Vec<String> = keys.iter().map(label).collect();
        let asked: HashSet<&str> = labels.iter().map(String::as_str).collect();
        let mut stopped: Vec<&str> = self
            .journal
            .iter()
            .rev()
            .take_while(|e| e.seq >= since)
            .filter(|e| {
                matches!(e.kind, EventKind::Exited { .. } | EventKind::Failed { .. })
                    && asked.contains(e.action.as_str())
            })
            .map(|e| e.action.as_str())
            .collect();
        stopped.reverse();
        let ran: HashSet<&str> = stopped.iter().copied().collect();
        let mut order: Vec<String> = labels.iter().filter(|l| !ran.contains(l.as_str())).cloned().collect();
        let mut placed = HashSet::new();
        order.extend(stopped.into_iter().filter(|l| placed.insert(*l)).map(str::to_owned));
        order
    }

    /// The service's actions and what they pull in, transitively (`wants` too, unless `requires_only`).
    pub(crate) fn closure(&self, service: &str, requires_only: bool) -> BTreeSet<Key> {
        let mut set: BTreeSet<Key> = self.actions.keys_of(service).cloned().collect();
        let mut todo: Vec<Key> = set.iter().cloned().collect();
        while let Some(key) = todo.pop() {
            let Some(a) = self.actions.get(&key) else { continue };
            for dep in &a.spec.depends_on {
                let pulls = match dep.relation {
                    Relation::Requires => true,
                    Relation::Wants => !requires_only,
                    Relation::After | Relation::Conflicts => false,
                };
                if pulls
                    && let Some(t) = self.resolve(dep)
                    && set.insert(t.clone())
                {
                    todo.push(t);
                }
            }
        }
        set
    }

    /// Answers every waiter whose condition holds or whose deadline passed.
    pub(crate) fn check_waiters(&mut self) {
        let now = self.now.mono_ms;
        let waiters = std::mem::take(&mut self.waiters);
        for mut w in waiters {
            let expired = w.deadline <= now;
            match &w.kind {
                WaitKind::Events { since } => {
                    let new: Vec<&Event> = self.journal.iter().filter(|e| e.seq > *since).collect();
                    if !new.is_empty() || expired {
                        let answer = to_value(new);
                        self.reply(w.id, answer, false);
                        continue;
                    }
                }
                WaitKind::Settled { service } | WaitKind::Up { service } | WaitKind::Stopped { service } => {
                    let up = matches!(w.kind, WaitKind::Up { .. });
                    let generation = self.actions.generation();
                    let keys = match w.keys.take() {
                        Some((at, keys)) if at == generation => keys,
                        _ => self.closure(service, up),
                    };
                    #[cfg(test)]
                    if keys != self.closure(service, up) {
                        self.violations.push(format!("a stale closure of {service} for a waiter"));
                    }
                    let acts = || keys.iter().filter_map(|k| self.actions.get(k));
                    let (holds, finished) = match &w.kind {
                        WaitKind::Up { .. } => {
                            let failed = acts().any(Action::failed_for_good);
                            (acts().all(Action::is_up), failed)
                        }
                        WaitKind::Stopped { .. } => {
                            (keys.iter().filter(|k| k.0 == *service).all(|k| !self.actions[k].is_alive()), false)
                        }
                        // Something was asked of it (of one action, at least: a start of one
                        // leaves its siblings as they were), and all of it has got there.
                        _ => {
                            let asked = acts().any(|a| a.goal == Goal::Up || a.state() != RunState::Created);
                            (asked && acts().all(Action::is_settled), false)
                        }
                    };
                    if holds || finished || expired {
                        let actions: Vec<ActionStatus> =
                            keys.iter().filter_map(|k| self.actions.get(k).map(|a| self.status_of(k, a))).collect();
                        self.reply(w.id, to_value(Settled { settled: holds, actions }), false);
                        continue;
                    }
                    w.keys = Some((generation, keys));
                }
            }
            self.waiters.push(w);
        }
    }

    /// Forgets a request whose client went away; a job it started still finishes.
    pub(crate) fn cancel(&mut self, id: ReqId) {
        self.waiters.retain(|w| w.id != id);
        for job in &mut self.jobs {
            if job.reply == Some(id) {
                job.reply = None;
            }
        }
    }

    pub(crate) fn reply(&mut self, id: ReqId, result: Result<Value, RpcError>, durable: bool) {
        self.effects.push(Effect::Reply { id, result, durable });
    }
}
