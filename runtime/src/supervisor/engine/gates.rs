//! Whether one dependency edge lets its dependent start.

use std::path::PathBuf;

use service_manifest_core::{ReadyGate, Relation};

use super::{Core, Key, label};
use crate::spec::ActionDep;

/// The verdict on one edge; the texts leave out the dependency's name, which the caller adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// The dependent may start, as far as this edge goes.
    Holds,
    /// Not yet; the text says what is awaited.
    Pending(String),
    /// It never will; the text says why.
    Broken(String),
}

impl Core {
    /// The registered action a dependency names, if any.
    pub(crate) fn resolve(&self, dep: &ActionDep) -> Option<Key> {
        self.target(dep).map(|(key, _)| key.clone())
    }

    /// The registered action a dependency names, if any, borrowed.
    pub(crate) fn target(&self, dep: &ActionDep) -> Option<(&Key, &super::Action)> {
        self.actions.named(&dep.service, dep.action.as_deref()?)
    }

    /// The socket a dependency's gate waits on: the one it names, or its action's own.
    pub(crate) fn dep_socket(&self, dep: &ActionDep, target: Option<&Key>) -> Option<PathBuf> {
        match &dep.socket {
            Some(s) => Some(crate::paths::resolve_socket(&self.cfg.socket_dir, s)),
            None => target.and_then(|k| self.actions.get(k)).and_then(|a| a.socket.clone()),
        }
    }

    /// Evaluates one edge of a waiting action, `waited_ms` after it began waiting.
    pub(crate) fn gate(&self, dep: &ActionDep, waited_ms: u64) -> Gate {
        let found = self.target(dep);
        let (target, t) = (found.map(|(k, _)| k), found.map(|(_, a)| a));
        if dep.relation == Relation::Conflicts {
            return match (t, target) {
                // Started again since this one began waiting: the later request wins.
                (Some(t), Some(k)) if t.goal == super::Goal::Up => {
                    Gate::Broken(format!("conflicts with {}, which is up", label(k)))
                }
                (Some(t), Some(k)) if t.is_alive() => {
                    Gate::Pending(format!("conflicting {} is still stopping", label(k)))
                }
                _ => Gate::Holds,
            };
        }
        if dep.relation == Relation::After && !t.is_some_and(|t| t.goal == super::Goal::Up) {
            // `after` only orders against a dependency that is being started; it never pulls one in.
            return Gate::Holds;
        }
        if target.is_none() && dep.action.is_some() && dep.relation != Relation::After {
            return self.unresolvable(dep);
        }
        if let (Some(t), Some(k)) = (t, target)
            && t.goal != super::Goal::Up
            && dep.relation != Relation::After
        {
            if t.goal == super::Goal::Removed {
                return Gate::Broken("is being removed".to_owned());
            }
            if let Some(other) = self.conflicting_up(k) {
                return Gate::Broken(format!("conflicts with {}, which is up", label(&other)));
            }
        }
        if let Some(t) = t
            && t.failed_for_good()
        {
            return Gate::Broken(format!("failed: {}", t.reason.as_deref().unwrap_or("no reason recorded")));
        }
        if let Some(t) = t
            && t.goal == super::Goal::Up
            && t.hold() == super::Hold::Done
            && !t.is_alive()
            && dep.ready != ReadyGate::Completed
        {
            // It ran to its end and nothing starts it again: a gate on its socket can never
            // hold; one on its process held while it ran (systemd's oneshot does the same).
            match self.dep_socket(dep, target) {
                _ if dep.ready == ReadyGate::Healthy => {
                    return Gate::Broken(format!(
                        "{}, so it is not running to be healthy; nothing restarts it",
                        super::step::describe(t.exit)
                    ));
                }
                Some(p) if dep.ready == ReadyGate::Socket && t.socket.as_ref() == Some(&p) => {
                    return Gate::Broken(format!(
                        "{} and no longer serves its socket; nothing restarts it",
                        super::step::describe(t.exit)
                    ));
                }
                Some(_) if dep.ready == ReadyGate::Socket => {}
                _ => return Gate::Holds,
            }
        }
        let gate = match dep.ready {
            ReadyGate::Socket => match self.dep_socket(dep, target) {
                // The dependency's own socket: readiness is decided once, when it is marked
                // ready, so a dependent never runs ahead of what the journal and `status` say.
                Some(path) if t.is_some_and(|t| t.socket.as_ref() == Some(&path)) => {
                    if t.is_some_and(|t| t.state() == crate::api::RunState::Ready) {
                        Gate::Holds
                    } else {
                        Gate::Pending(format!("socket {} is not accepting connections", path.display()))
                    }
                }
                Some(path) if self.accepting.contains(&path) => Gate::Holds,
                Some(path) => Gate::Pending(format!("socket {} is not accepting connections", path.display())),
                None => running(t),
            },
            ReadyGate::Running => running(t),
            ReadyGate::Healthy => match t {
                Some(t) if t.spec.health.is_none() => {
                    Gate::Broken("has no health check ([binaries.health]), so it is never healthy".to_owned())
                }
                Some(t) if t.state() == crate::api::RunState::Ready && t.proc().is_some_and(|p| p.watch.passed) => {
                    Gate::Holds
                }
                _ => Gate::Pending("has not passed a health check yet".to_owned()),
            },
            ReadyGate::Completed => match t {
                Some(t) if t.is_up() && !t.is_alive() => Gate::Holds,
                Some(t) if t.state() == crate::api::RunState::Exited && !t.is_alive() => Gate::Broken(format!(
                    "did not complete: {}",
                    t.reason.as_deref().unwrap_or("exited with an unknown status")
                )),
                _ => Gate::Pending("has not completed yet".to_owned()),
            },
        };
        let timeout = dep.timeout_ms.unwrap_or(self.cfg.default_timeout_ms);
        match gate {
            Gate::Pending(why) if waited_ms >= timeout => {
                Gate::Broken(format!("timed out after {} waiting: {why}", crate::text::duration_ms(timeout)))
            }
            gate => gate,
        }
    }

    fn unresolvable(&self, dep: &ActionDep) -> Gate {
        let bin = dep.action.as_deref().unwrap_or_default();
        if !self.services.contains_key(&dep.service) && self.checking.contains(bin) {
            return Gate::Pending(format!("looking for `{bin}` in the bin directory {}", self.cfg.bin_dir.display()));
        }
        if self.services.contains_key(&dep.service) {
            Gate::Broken(format!("not an action of the defined service `{}`", dep.service))
        } else {
            Gate::Broken(format!("not defined, and `{bin}` is not in the bin directory {}", self.cfg.bin_dir.display()))
        }
    }
}

/// A process that reports readiness (`notify`) counts as running once it said so.
fn running(t: Option<&super::Action>) -> Gate {
    match t {
        Some(t) if t.spec.notify && t.state() == crate::api::RunState::Running => {
            Gate::Pending("has not sent READY=1 yet".to_owned())
        }
        Some(t) if matches!(t.state(), crate::api::RunState::Running | crate::api::RunState::Ready) => Gate::Holds,
        _ => Gate::Pending("is not running yet".to_owned()),
    }
}

/// Applies the relation to a broken gate: only `requires` and `conflicts` fail the dependent.
pub(crate) fn settle(relation: Relation, gate: Gate) -> Gate {
    match (relation, gate) {
        (Relation::Requires | Relation::Conflicts, gate) => gate,
        (_, Gate::Broken(_)) => Gate::Holds,
        (_, gate) => gate,
    }
}
