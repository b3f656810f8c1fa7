//! `--status`: a table for people, JSON for scripts.

use crate::api::{ActionStatus, RunState, now_ms};

/// Renders statuses as an aligned table (action, state, pid, uptime, restarts, health,
/// reason) or JSON. In the table, a one-shot that `completed` says so rather than "exited".
pub(super) fn render(statuses: &[ActionStatus], json: bool, completed: impl Fn(&ActionStatus) -> bool) -> String {
    if json {
        return serde_json::to_string_pretty(statuses).map(|s| s + "\n").unwrap_or_default();
    }
    let now = now_ms();
    let rows: Vec<[String; 7]> = statuses
        .iter()
        .map(|s| {
            let uptime = if s.state.is_alive() { human(now.saturating_sub(s.since_ms)) } else { "-".into() };
            let reason = if s.state == RunState::Waiting && !s.waiting_on.is_empty() {
                format!("waiting on {}", s.waiting_on.join("; "))
            } else {
                s.reason.clone().unwrap_or_default()
            };
            [
                format!("{}/{}", s.service, s.action),
                if completed(s) { "completed".into() } else { s.state.to_string() },
                s.pid.map_or_else(|| "-".into(), |p| p.to_string()),
                uptime,
                s.restarts.to_string(),
                health(s, now),
                reason,
            ]
        })
        .collect();
    // Numbers align right.
    super::table::aligned(
        ["ACTION", "STATE", "PID", "UPTIME", "RESTARTS", "HEALTH", "REASON"],
        &rows,
        [false, false, true, true, true, false, false],
    )
}

/// `healthy`, `starting`, `unhealthy`, with the failures that count and the age of the
/// last check; `-` without a health check.
fn health(s: &ActionStatus, now: u64) -> String {
    let Some(h) = &s.health else { return "-".into() };
    let mut cell = h.state.to_string();
    if h.failures > 0 {
        cell.push_str(&format!(" ({} failed)", h.failures));
    }
    if let Some(at) = h.last_check_ms {
        cell.push_str(&format!(" {} ago", human(now.saturating_sub(at))));
    }
    cell
}

pub(super) fn human(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
