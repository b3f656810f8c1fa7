//! `--timeline`: where the last start of a service went, from the supervisor's journal,
//! in the spirit of `systemd-analyze critical-chain` and `plot`.
//!
//! [`Timeline::build`] reads the journal (and the registrations, for the edges) and
//! finds the service's last start: the latest `waiting` entry that began each of its own
//! actions' start, and, from the earliest of those on, every action that start involved
//! (its own and the dependencies it names, transitively) with when it began to wait,
//! what it waited on, when it was spawned, became ready and, with a health check, healthy.
//! The **critical chain** runs back from the action that came up last, through the
//! dependency that came up last before each one's spawn: the path that set the total.
//! Works after the fact, for any start the journal still holds.

pub mod svg;

pub use svg::Layout;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::api::{Event, EventKind, HealthState};
use crate::spec::ServiceSpec;

/// One action's part in a start; times in µs since the start began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// `service/action`.
    pub action: String,
    /// When it began to wait for its gates.
    pub waiting_us: u64,
    /// What it last waited on before its spawn (empty: nothing held it).
    pub waited_on: Vec<String>,
    /// When its process was spawned (`None`: it never was in this start).
    pub spawned_us: Option<u64>,
    /// When it was recorded ready.
    pub ready_us: Option<u64>,
    /// When it passed its first health check, if it has one.
    pub healthy_us: Option<u64>,
    /// How the start ended for it when it did not come up (`failed: …`, `exited`).
    pub ended: Option<String>,
    /// On the critical chain.
    pub critical: bool,
}

impl Span {
    /// When it counted as up: healthy when it has a health check that passed, else ready.
    pub fn up_us(&self) -> Option<u64> {
        self.healthy_us.or(self.ready_us)
    }
}

/// The last start of a service and what it involved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// The service.
    pub service: String,
    /// When the start began, in µs since the Unix epoch.
    pub started_at_us: u64,
    /// From the start to the last action up (or ended), in µs.
    pub total_us: u64,
    /// In the order they began to wait.
    pub actions: Vec<Span>,
    /// From the action that came up last back to the first link, as `service/action`.
    pub critical_chain: Vec<String>,
    /// Actions the start needed that were already up before it began.
    pub already_up: Vec<String>,
}

/// Why there is no timeline to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoTimeline {
    /// The journal holds no start of this service.
    #[error("the journal holds no start of {0}: start it first (--start)")]
    NeverStarted(String),
}

impl Timeline {
    /// The last start of `service` in `events`; `specs` are the registrations, for the
    /// dependency edges (the service's own is among them or passed again).
    pub fn build(service: &ServiceSpec, specs: &[ServiceSpec], events: &[Event]) -> Result<Self, NoTimeline> {
        let mut by_name: BTreeMap<&str, &ServiceSpec> = specs.iter().map(|s| (s.name.as_str(), s)).collect();
        by_name.insert(&service.name, service);
        // What each action waits on: the dependency, and whether its gate is its health.
        let edges = |label: &str| -> Vec<(String, bool)> {
            let Some((svc, action)) = label.split_once('/') else { return Vec::new() };
            let Some(a) = by_name.get(svc).and_then(|s| s.action(action)) else { return Vec::new() };
            let gated = a.depends_on.iter().filter(|d| d.action.is_some() && d.relation != crate::Relation::Conflicts);
            gated.map(|d| (d.label(), d.ready == crate::ReadyGate::Healthy)).collect()
        };
        let own: Vec<String> = service.actions.iter().map(|a| format!("{}/{}", service.name, a.name)).collect();
        let begins = |e: &Event| matches!(&e.kind, EventKind::Waiting { on } if on.is_empty());
        // The latest start of each own action; the start began at the earliest of them.
        let anchor = own
            .iter()
            .filter_map(|label| events.iter().rposition(|e| &e.action == label && begins(e)))
            .min()
            .ok_or_else(|| NoTimeline::NeverStarted(service.name.clone()))?;
        let t0 = events[anchor].at_us;
        // Everything the service needs, transitively.
        let mut involved: Vec<String> = Vec::new();
        let mut queue: Vec<String> = own.clone();
        let mut seen = BTreeSet::new();
        while let Some(label) = queue.pop() {
            if seen.insert(label.clone()) {
                queue.extend(edges(&label).into_iter().map(|(d, _)| d));
                involved.push(label);
            }
        }
        let later = &events[anchor..];
        let mut actions = Vec::new();
        let mut already_up = Vec::new();
        for label in &involved {
            let mine: Vec<&Event> = later.iter().filter(|e| &e.action == label).collect();
            let Some(start) = mine.iter().position(|e| begins(e)) else {
                already_up.push(label.clone());
                continue;
            };
            let mine = &mine[start..];
            let rel = |e: &&Event| e.at_us.saturating_sub(t0);
            let spawn = mine.iter().position(|e| matches!(e.kind, EventKind::Spawned { .. }));
            let before_spawn = &mine[..spawn.unwrap_or(mine.len())];
            let waited_on = before_spawn
                .iter()
                .rev()
                .find_map(|e| match &e.kind {
                    EventKind::Waiting { on } if !on.is_empty() => Some(on.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let after = &mine[spawn.unwrap_or(mine.len())..];
            let find = |pick: &dyn Fn(&EventKind) -> bool| after.iter().find(|e| pick(&e.kind)).map(rel);
            let ended = mine.iter().find_map(|e| match &e.kind {
                EventKind::Failed { reason } => Some(format!("failed: {reason}")),
                EventKind::Exited { .. } => Some("exited".to_owned()),
                _ => None,
            });
            actions.push(Span {
                action: label.clone(),
                waiting_us: rel(&mine[0]),
                waited_on,
                spawned_us: spawn.map(|i| rel(&mine[i])),
                ready_us: find(&|k| matches!(k, EventKind::Ready)),
                healthy_us: find(&|k| matches!(k, EventKind::Health { health: HealthState::Healthy, .. })),
                ended,
                critical: false,
            });
        }
        // In the order they were spawned (those never spawned last), as systemd-analyze plots.
        actions.sort_by_key(|s| (s.spawned_us.unwrap_or(u64::MAX), s.waiting_us, s.action.clone()));
        let total_us =
            actions.iter().filter_map(|s| s.up_us().or(s.spawned_us).max(Some(s.waiting_us))).max().unwrap_or_default();
        let critical_chain = critical_chain(&actions, &edges);
        for span in &mut actions {
            span.critical = critical_chain.contains(&span.action);
        }
        Ok(Self { service: service.name.clone(), started_at_us: t0, total_us, actions, critical_chain, already_up })
    }

    /// The span of `action`, if the start involved it.
    pub fn span(&self, action: &str) -> Option<&Span> {
        self.actions.iter().find(|s| s.action == action)
    }

    /// A table of every action, then the critical chain, `systemd-analyze critical-chain` style.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let ms = |us: u64| format_ms(us);
        let at = crate::logline::shown(self.started_at_us);
        let mut out = format!("{}: last start at {at}, {} to the last action up\n", self.service, ms(self.total_us));
        let rows: Vec<[String; 5]> = self
            .actions
            .iter()
            .map(|s| {
                let waited = s.spawned_us.map_or("-".to_owned(), |t| ms(t - s.waiting_us.min(t)));
                let starting = match (s.spawned_us, s.ready_us) {
                    (Some(a), Some(b)) => ms(b.saturating_sub(a)),
                    _ => "-".to_owned(),
                };
                let up = match (s.up_us(), &s.ended) {
                    (Some(t), _) => format!("@+{}", ms(t)),
                    (None, Some(ended)) => ended.clone(),
                    (None, None) => "not up".to_owned(),
                };
                let on = if s.waited_on.is_empty() { "-".to_owned() } else { s.waited_on.join("; ") };
                let mark = if s.critical { "*" } else { " " };
                [format!("{mark}{}", s.action), waited, starting, up, on]
            })
            .collect();
        let right = [false, true, true, false, false];
        out.push_str(&super::table::aligned([" ACTION", "WAITED", "SPAWN→READY", "UP", "WAITED ON"], &rows, right));
        if !self.already_up.is_empty() {
            let _ = writeln!(out, "already up before this start: {}", self.already_up.join(", "));
        }
        out.push_str(
            "\nThe critical chain (* above): when each became up after \"@\", how long it took after \"+\":\n",
        );
        for (depth, label) in self.critical_chain.iter().enumerate() {
            let Some(s) = self.span(label) else { continue };
            let took = match (s.spawned_us, s.up_us()) {
                (Some(a), Some(b)) => format!(" +{}", ms(b.saturating_sub(a))),
                _ => String::new(),
            };
            let up = s.up_us().map_or_else(|| "not up".to_owned(), |t| format!("@+{}", ms(t)));
            let branch = if depth == 0 { String::new() } else { format!("{}└─", "  ".repeat(depth - 1)) };
            let _ = writeln!(out, "{branch}{label} {up}{took}");
        }
        out
    }

    /// The timeline as JSON, times in µs since the start began.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).map(|s| s + "\n").unwrap_or_default()
    }

    /// A Gantt-style SVG picture; see [`svg`] for its layout.
    pub fn svg(&self) -> String {
        svg::render(self)
    }
}

/// From the action that came up last, back through the dependency whose gate held last
/// before each one's spawn (ready, or healthy for a `healthy` gate).
fn critical_chain(actions: &[Span], edges: &dyn Fn(&str) -> Vec<(String, bool)>) -> Vec<String> {
    let by_label: BTreeMap<&str, &Span> = actions.iter().map(|s| (s.action.as_str(), s)).collect();
    let last = actions.iter().filter(|s| s.up_us().is_some()).max_by_key(|s| (s.up_us(), s.waiting_us));
    let mut chain = Vec::new();
    let mut at = last;
    while let Some(span) = at {
        if chain.contains(&span.action) {
            break;
        }
        chain.push(span.action.clone());
        let spawned = span.spawned_us.unwrap_or(span.waiting_us);
        let held = |d: &Span, healthy: bool| if healthy { d.healthy_us } else { d.ready_us };
        at = edges(&span.action)
            .iter()
            .filter_map(|(d, healthy)| {
                Some((by_label.get(d.as_str()).copied()?, held(by_label.get(d.as_str())?, *healthy)?))
            })
            .filter(|(_, t)| *t <= spawned)
            .max_by_key(|(_, t)| *t)
            .map(|(d, _)| d);
    }
    chain
}

/// `412ms`, `1.25s`, `2m03s`.
pub(crate) fn format_ms(us: u64) -> String {
    let ms = us / 1000;
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.2}s", us as f64 / 1e6),
        _ => format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// The formats of `--timeline`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TimelineFormat {
    /// A table and the critical chain.
    #[default]
    Text,
    /// A Gantt-style picture.
    Svg,
    /// For tools.
    Json,
}

/// `--timeline`: the last start of `spec`'s service, from the running supervisor's journal.
pub(super) async fn show(
    at: &crate::paths::Locations,
    spec: &ServiceSpec,
    format: TimelineFormat,
) -> Result<(), super::exit::Failure> {
    use super::exit::{self, Failure};
    let Some(mut client) = super::launch::connect(&at.socket).await? else {
        return Err(Failure::new(
            exit::NOT_RUNNING,
            format!("no supervisor is running on {}: its journal went with it", at.socket.display()),
        ));
    };
    let specs = client.list().await?;
    let events = client.events(0, 0).await?;
    let timeline =
        Timeline::build(spec, &specs, &events).map_err(|e| Failure::new(exit::NOT_RUNNING, e.to_string()))?;
    print!(
        "{}",
        match format {
            TimelineFormat::Text => timeline.text(),
            TimelineFormat::Svg => timeline.svg(),
            TimelineFormat::Json => timeline.json(),
        }
    );
    Ok(())
}
