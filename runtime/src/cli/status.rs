//! `--status`: a table for people, JSON for scripts.

use crate::api::{ActionStatus, RunState, now_ms};

/// Renders statuses as an aligned table (action, state, pid, uptime, reason) or JSON. In
/// the table, a one-shot that `completed` says so rather than "exited".
pub(super) fn render(statuses: &[ActionStatus], json: bool, completed: impl Fn(&ActionStatus) -> bool) -> String {
    if json {
        return serde_json::to_string_pretty(statuses).map(|s| s + "\n").unwrap_or_default();
    }
    let now = now_ms();
    let rows: Vec<[String; 5]> = statuses
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
                reason,
            ]
        })
        .collect();
    let header = ["ACTION", "STATE", "PID", "UPTIME", "REASON"].map(String::from);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:w0$}  {:w1$}  {:>w2$}  {:>w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub(super) fn human(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
