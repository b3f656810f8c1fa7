//! Following a start through the supervisor's journal: every change to the actions the
//! service involves, in the order it happened, as live spinners on a terminal or one
//! plain line per event otherwise; then a summary or, when the start failed, the
//! failures with the root cause first.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::exit::Failure;
use crate::api::{ActionStatus, Event, EventKind, RunState, WaitFor};
use crate::client::Client;
use crate::spec::ServiceSpec;
use crate::{ReadyGate, Relation};

/// How long one `events` long-poll waits for something new.
const POLL_MS: u64 = 1_000;
/// How long a start may take before the CLI stops following (the supervisor carries on).
const GIVE_UP: Duration = Duration::from_secs(600);

/// The journal position now: follow a request from here to see only what it caused.
pub(super) async fn journal_head(client: &mut Client) -> Result<u64, Failure> {
    Ok(client.info().await?.journal_seq)
}

/// What the CLI knows of the actions a start involves, for naming and judging them.
pub(super) struct Involved {
    service: String,
    /// `service/action` of every action whose events are shown.
    labels: BTreeSet<String>,
    /// One-shots: dependencies gated on `completed`, so an exit 0 is their success.
    one_shots: BTreeSet<String>,
    /// Dependencies only wanted: their failure does not fail the start.
    wanted_only: BTreeSet<String>,
    /// Own actions with a health check: up once healthy, not when ready.
    watched: BTreeSet<String>,
}

impl Involved {
    /// The service's own actions and the dependencies it names.
    pub(super) fn of(spec: &ServiceSpec) -> Self {
        let mut me = Self {
            service: spec.name.clone(),
            labels: spec.actions.iter().map(|a| format!("{}/{}", spec.name, a.name)).collect(),
            one_shots: BTreeSet::new(),
            wanted_only: BTreeSet::new(),
            watched: spec
                .actions
                .iter()
                .filter(|a| a.health.is_some())
                .map(|a| format!("{}/{}", spec.name, a.name))
                .collect(),
        };
        for dep in spec.actions.iter().flat_map(|a| &a.depends_on).filter(|d| d.action.is_some()) {
            let label = dep.label();
            if dep.relation == Relation::After {
                continue;
            }
            if dep.ready == ReadyGate::Completed {
                me.one_shots.insert(label.clone());
            }
            if dep.relation == Relation::Wants {
                me.wanted_only.insert(label.clone());
            }
            me.labels.insert(label);
        }
        me
    }

    /// Whether `status` counts as up: ready (healthy, with a health check), or a one-shot
    /// that completed.
    pub(super) fn is_up(&self, s: &ActionStatus) -> bool {
        let label = format!("{}/{}", s.service, s.action);
        s.state == RunState::Ready
            && !self.one_shots.contains(&label)
            && s.health.as_ref().is_none_or(|h| h.state == crate::api::HealthState::Healthy)
            || s.state == RunState::Exited && self.one_shots.contains(&label) && s.reason.as_deref() != Some("stopped")
    }

    /// The line an event gives, or `None` for one that says nothing new (a first `waiting`
    /// with no gate, recorded before the gates are looked at).
    pub(super) fn line(&self, e: &Event) -> Option<String> {
        let one_shot = self.one_shots.contains(&e.action);
        let what = match &e.kind {
            EventKind::Waiting { on } if on.is_empty() => return None,
            EventKind::Waiting { on } => format!("waiting on {}", on.join("; ")),
            EventKind::PulledIn { by } => format!("pulled in by {by}"),
            EventKind::Spawned { pid } => format!("spawned (pid {pid})"),
            EventKind::Adopted { pid } => format!("adopted the running process (pid {pid})"),
            EventKind::Ready if one_shot => "running (a one-shot: done when it exits 0)".into(),
            EventKind::Ready => "ready".into(),
            EventKind::Stopping { reason } => format!("stopping: {reason}"),
            EventKind::Exited { code: Some(0) } if one_shot => "completed".into(),
            EventKind::Exited { code: Some(code) } => format!("exited with code {code}"),
            EventKind::Exited { code: None } => "stopped".into(),
            EventKind::Failed { reason } => format!("failed: {reason}"),
            EventKind::Restarting { in_ms } => format!("restarting in {}", crate::text::duration_ms(*in_ms)),
            EventKind::Health { health, output } if output.is_empty() => health.to_string(),
            EventKind::Health { health, output } => format!("{health} ({output})"),
        };
        Some(what)
    }

    /// Whether the event ends the action's start: `Some(true)` up, `Some(false)` down or failed.
    fn outcome(&self, e: &Event) -> Option<bool> {
        let one_shot = self.one_shots.contains(&e.action);
        match e.kind {
            EventKind::Ready if !one_shot && !self.watched.contains(&e.action) => Some(true),
            EventKind::Health { health: crate::api::HealthState::Healthy, .. } => Some(true),
            EventKind::Health { health: crate::api::HealthState::Unhealthy, .. } => Some(false),
            EventKind::Exited { code: Some(0) } if one_shot => Some(true),
            EventKind::Exited { .. } | EventKind::Failed { .. } => Some(false),
            _ => None,
        }
    }

    /// Takes in an event: a pull-in by an involved action involves the pulled one too.
    pub(super) fn track(&mut self, e: &Event) -> bool {
        if let EventKind::PulledIn { by } = &e.kind
            && self.labels.contains(by)
        {
            self.labels.insert(e.action.clone());
        }
        self.labels.contains(&e.action)
    }
}

/// Shows the journal from `since` until the service settles; `Err` leads with the root cause.
pub(super) async fn follow(client: &mut Client, spec: &ServiceSpec, since: u64) -> Result<(), Failure> {
    follow_from(client, spec, &mut since.clone()).await
}

/// [`follow`], leaving `since` at the last journal entry read.
pub(super) async fn follow_from(client: &mut Client, spec: &ServiceSpec, since: &mut u64) -> Result<(), Failure> {
    let mut involved = Involved::of(spec);
    let mut view = View::new(std::io::stderr().is_terminal());
    let mut failed_at: BTreeMap<String, u64> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    let mut take = |events: Vec<Event>, since: &mut u64, view: &mut View| {
        for e in events {
            *since = e.seq;
            if !involved.track(&e) {
                continue;
            }
            if matches!(e.kind, EventKind::Failed { .. }) {
                failed_at.entry(e.action.clone()).or_insert(e.seq);
            }
            if let Some(line) = involved.line(&e) {
                view.show(&e.action, &line, involved.outcome(&e));
            }
        }
    };
    let settled = loop {
        let events = client.events(*since, POLL_MS).await?;
        take(events, since, &mut view);
        let answer = client.wait(&spec.name, WaitFor::Settled, 0).await?;
        if answer.settled {
            // Whatever happened between the last batch and the settling.
            take(client.events(*since, 0).await?, since, &mut view);
            break answer.actions;
        }
        if tokio::time::Instant::now() >= deadline {
            view.finish();
            return Err(Failure::from(format!(
                "{} did not settle within {}s; the supervisor carries on (see --status)",
                spec.name,
                GIVE_UP.as_secs()
            )));
        }
    };
    view.finish();
    let involved = Involved::of(spec);
    summarise(&involved, &settled, &failed_at)
}

/// After a start, in the foreground: one plain line per journal entry of the actions the
/// service involves (restarts, failures, stops), until `stop` completes. Give it a
/// connection of its own: a request cut short by `stop` leaves its connection unusable.
pub(super) async fn watch(
    mut client: Client,
    spec: &ServiceSpec,
    mut since: u64,
    stop: impl Future<Output = ()>,
) -> Result<(), Failure> {
    let mut involved = Involved::of(spec);
    tokio::pin!(stop);
    loop {
        let events = tokio::select! {
            () = &mut stop => return Ok(()),
            events = client.events(since, 60_000) => events?,
        };
        for e in events {
            since = e.seq;
            if involved.track(&e)
                && let Some(line) = involved.line(&e)
            {
                eprintln!("{}: {line}", e.action);
            }
        }
    }
}

/// The outcome of a settled start: a count of what is up, or the failures, root cause first.
fn summarise(involved: &Involved, settled: &[ActionStatus], failed_at: &BTreeMap<String, u64>) -> Result<(), Failure> {
    let label = |s: &ActionStatus| format!("{}/{}", s.service, s.action);
    let wanted: Vec<&ActionStatus> = settled.iter().filter(|s| s.wanted).collect();
    let (failed, up): (Vec<&ActionStatus>, Vec<&ActionStatus>) =
        wanted.iter().partition(|s| s.state == RunState::Failed);
    let (soft, hard): (Vec<&ActionStatus>, Vec<&ActionStatus>) =
        failed.into_iter().partition(|s| involved.wanted_only.contains(&label(s)));
    for s in &soft {
        eprintln!("warning: {} failed (wanted, not required): {}", label(s), reason(s));
    }
    if hard.is_empty() {
        let up = up.iter().filter(|s| involved.is_up(s)).count();
        let completed = wanted.iter().filter(|s| s.state == RunState::Exited && involved.is_up(s)).count();
        let one_shots = if completed > 0 { format!(" ({completed} one-shot completed)") } else { String::new() };
        let count = wanted.len();
        if up == count {
            eprintln!("{}: all {count} actions up{one_shots}", involved.service);
        } else {
            eprintln!("{}: {up} of {count} actions up{one_shots}", involved.service);
        }
        return Ok(());
    }
    Err(Failure::from(root_cause_first(hard, settled, failed_at).join("\nerror: ")))
}

/// The failures ordered so that one whose own failure caused the others comes first: an
/// action whose reason names no other failed action leads, then the rest in the order the
/// journal recorded them. A dependency that is still not ready while its dependents gave
/// up waiting on it (a server that never opened its socket) is named first of all.
fn root_cause_first(
    failed: Vec<&ActionStatus>,
    settled: &[ActionStatus],
    failed_at: &BTreeMap<String, u64>,
) -> Vec<String> {
    let label = |s: &ActionStatus| format!("{}/{}", s.service, s.action);
    let labels: Vec<String> = failed.iter().map(|s| label(s)).collect();
    let caused_by_another =
        |s: &ActionStatus| labels.iter().any(|other| *other != label(s) && reason(s).contains(other.as_str()));
    let mut ordered: Vec<&ActionStatus> = failed.clone();
    ordered.sort_by_key(|s| (caused_by_another(s), failed_at.get(&label(s)).copied().unwrap_or(u64::MAX)));
    let mut lines: Vec<String> = settled
        .iter()
        .filter(|s| s.wanted && s.state != RunState::Failed && s.state != RunState::Ready)
        .filter(|s| failed.iter().any(|f| reason(f).contains(&label(s))))
        .map(|s| format!("{} is {} but never became ready: {}", label(s), s.state, reason(s)))
        .collect();
    lines.extend(ordered.iter().map(|s| format!("{} failed: {}", label(s), reason(s))));
    lines
}

fn reason(s: &ActionStatus) -> &str {
    s.reason.as_deref().unwrap_or("no reason recorded")
}

/// Where progress goes: spinners on a terminal, plain lines otherwise.
enum View {
    Plain,
    Live(MultiProgress, BTreeMap<String, ProgressBar>),
}

impl View {
    fn new(terminal: bool) -> Self {
        if terminal {
            Self::Live(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), BTreeMap::new())
        } else {
            Self::Plain
        }
    }

    /// Shows the action's latest state; `outcome` says whether its start has ended, and how.
    fn show(&mut self, action: &str, what: &str, outcome: Option<bool>) {
        match self {
            Self::Plain => eprintln!("{action}: {what}"),
            Self::Live(multi, bars) => {
                // Bars appear in the order actions first show up in the journal.
                let bar = bars.entry(action.to_owned()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(spinner_style());
                    bar.enable_steady_tick(Duration::from_millis(80));
                    bar
                });
                match outcome {
                    Some(up) => {
                        bar.set_style(
                            ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        bar.finish_with_message(format!("{} {action}: {what}", if up { "✔" } else { "✘" }));
                    }
                    None => {
                        if bar.is_finished() {
                            // Restarting after a failure: spin again.
                            bar.set_style(spinner_style());
                            bar.reset();
                            bar.enable_steady_tick(Duration::from_millis(80));
                        }
                        bar.set_message(format!("{action}: {what}"));
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Self::Live(_, bars) = self {
            bars.values().filter(|b| !b.is_finished()).for_each(ProgressBar::finish);
        }
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(label: &str, state: RunState, reason: &str) -> ActionStatus {
        let (service, action) = label.split_once('/').unwrap();
        ActionStatus {
            service: service.into(),
            action: action.into(),
            wanted: true,
            state,
            reason: Some(reason.into()),
            pid: None,
            since_ms: 0,
            waiting_on: Vec::new(),
            restarts: 0,
            exit_code: None,
            save_error: None,
            health: None,
            profiles: Vec::new(),
        }
    }

    #[test]
    fn the_failure_that_caused_the_others_leads_even_when_recorded_last() {
        let admin = status("c/admin", RunState::Failed, "cannot start c/admin: requires c/server: failed: …");
        let server = status("c/server", RunState::Failed, "cannot start c/server: requires p/proxy: failed: …");
        let proxy = status("p/proxy", RunState::Failed, "exited with status 1");
        let journal = BTreeMap::from([("c/admin".into(), 1), ("c/server".into(), 2), ("p/proxy".into(), 3)]);
        let settled = [admin.clone(), server.clone(), proxy.clone()];
        let lines = root_cause_first(vec![&admin, &server, &proxy], &settled, &journal);
        assert!(lines[0].starts_with("p/proxy failed: exited with status 1"), "{lines:#?}");
        assert!(lines[1].starts_with("c/admin failed") && lines[2].starts_with("c/server failed"), "{lines:#?}");
    }

    #[test]
    fn a_dependency_still_not_ready_that_dependents_gave_up_on_is_named_first() {
        let web = status("t/web", RunState::Failed, "cannot start t/web: requires t/server: timed out after 5s");
        let server = status("t/server", RunState::Running, "waiting for its socket to accept connections");
        let settled = [web.clone(), server];
        let lines = root_cause_first(vec![&web], &settled, &BTreeMap::new());
        assert_eq!(
            lines[0],
            "t/server is running but never became ready: waiting for its socket to accept connections"
        );
        assert!(lines[1].starts_with("t/web failed: "));
    }

    #[test]
    fn a_one_shot_is_up_once_completed_and_a_server_only_when_ready() {
        let spec = crate::ServiceBuilder::new("t")
            .action(
                crate::ActionSpec::new("server", crate::BinaryKind::Server)
                    .depends_on(crate::ActionDep::new("db").action("migrate").ready(ReadyGate::Completed)),
            )
            .build();
        let involved = Involved::of(&spec);
        assert!(involved.is_up(&status("db/migrate", RunState::Exited, "exited with status 0")));
        assert!(!involved.is_up(&status("db/migrate", RunState::Ready, "")), "a running one-shot is not done");
        assert!(!involved.is_up(&status("db/migrate", RunState::Exited, "stopped")));
        assert!(involved.is_up(&status("t/server", RunState::Ready, "")));
        assert!(!involved.is_up(&status("t/server", RunState::Exited, "exited with status 0")));
    }
}
