//! Whether one dependency edge lets its dependent start.

use std::path::Path;

use service_manifest_core::{ReadyGate, Relation};

use super::readiness::Probes;
use crate::api::RunState;
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

/// What the engine knows of the dependency's action, when it is registered.
pub(crate) struct TargetView<'a> {
    pub state: RunState,
    pub wanted: bool,
    /// Failed with no restart coming.
    pub failed_for_good: bool,
    pub exit_code: Option<i32>,
    pub reason: Option<&'a str>,
    /// The socket the dependency serves itself, if any.
    pub socket: Option<&'a Path>,
}

/// Evaluates the readiness gate of `dep`; `socket` is its resolved socket path.
pub(crate) fn evaluate(
    dep: &ActionDep,
    socket: Option<&Path>,
    target: Option<&TargetView<'_>>,
    probes: &mut Probes,
) -> Gate {
    if dep.relation == Relation::After && !target.is_some_and(|t| t.wanted) {
        // `after` only orders against a dependency that is being started; it never pulls one in.
        return Gate::Holds;
    }
    if let Some(t) = target
        && t.failed_for_good
    {
        return Gate::Broken(format!("failed: {}", t.reason.unwrap_or("no reason recorded")));
    }
    match dep.ready {
        ReadyGate::Socket => match socket {
            // The dependency's own socket: readiness is decided once, when the engine marks it
            // ready, so a dependent never runs ahead of what the journal and `status` say.
            Some(path) if target.is_some_and(|t| t.socket == Some(path)) => match target {
                Some(t) if t.state == RunState::Ready => Gate::Holds,
                _ => Gate::Pending(format!("socket {} is not accepting connections", path.display())),
            },
            Some(path) if probes.accepts(path) => Gate::Holds,
            Some(path) => Gate::Pending(format!("socket {} is not accepting connections", path.display())),
            None => running(target),
        },
        ReadyGate::Running => running(target),
        ReadyGate::Completed => match target {
            Some(t) if t.state == RunState::Exited && t.exit_code == Some(0) => Gate::Holds,
            Some(t) if t.state == RunState::Exited => Gate::Broken(format!(
                "did not complete: exited with status {}",
                t.exit_code.map_or_else(|| "unknown".to_owned(), |c| c.to_string())
            )),
            _ => Gate::Pending("has not completed yet".to_owned()),
        },
    }
}

fn running(target: Option<&TargetView<'_>>) -> Gate {
    match target {
        Some(t) if matches!(t.state, RunState::Running | RunState::Ready) => Gate::Holds,
        _ => Gate::Pending("is not running yet".to_owned()),
    }
}

/// Applies the relation to a broken gate: only `requires` fails the dependent.
pub(crate) fn settle(relation: Relation, gate: Gate) -> Gate {
    match (relation, gate) {
        (Relation::Requires, gate) => gate,
        (_, Gate::Broken(_)) => Gate::Holds,
        (_, gate) => gate,
    }
}
