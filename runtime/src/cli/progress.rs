//! Following a start until every action is ready or one has failed: live spinners on
//! a terminal, one plain line per change otherwise.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::{ActionStatus, RunState, WaitFor};
use crate::client::Client;

/// How often the display refreshes while nothing settles.
const REFRESH_MS: u64 = 100;
/// How long a start may take before the CLI gives up waiting (the supervisor carries on).
const GIVE_UP: Duration = Duration::from_secs(600);

/// Waits until `service` settles; `Err` names each failed action, its dependency and the reason.
pub(super) async fn follow(client: &mut Client, service: &str) -> Result<(), String> {
    let mut view = View::new(std::io::stderr().is_terminal());
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    let settled = loop {
        let answer = client.wait(service, WaitFor::Settled, REFRESH_MS).await.map_err(|e| e.to_string())?;
        view.show(&answer.actions);
        if answer.settled {
            break answer.actions;
        }
        if tokio::time::Instant::now() >= deadline {
            view.finish();
            return Err(format!("{service} did not settle within {}s; see --status", GIVE_UP.as_secs()));
        }
    };
    view.finish();
    let failed: Vec<&ActionStatus> = settled.iter().filter(|s| s.wanted && s.state == RunState::Failed).collect();
    if failed.is_empty() {
        let ready = settled.iter().filter(|s| s.state == RunState::Ready).count();
        eprintln!("{service}: all {ready} actions ready");
        return Ok(());
    }
    Err(failed
        .iter()
        .map(|s| format!("{}/{} failed: {}", s.service, s.action, s.reason.as_deref().unwrap_or("no reason recorded")))
        .collect::<Vec<_>>()
        .join("\nerror: "))
}

/// One line per action: what state it is in and, while waiting, on what.
pub(super) fn describe(s: &ActionStatus) -> String {
    let mut line = format!("{}/{}: {}", s.service, s.action, s.state);
    if let Some(pid) = s.pid {
        line.push_str(&format!(" (pid {pid})"));
    }
    if !s.waiting_on.is_empty() {
        line.push_str(&format!(" on {}", s.waiting_on.join("; ")));
    } else if let Some(reason) = s.reason.as_deref().filter(|_| s.state == RunState::Failed) {
        line.push_str(&format!(": {reason}"));
    }
    line
}

enum View {
    Plain(BTreeMap<String, String>),
    Live(MultiProgress, BTreeMap<String, ProgressBar>),
}

impl View {
    fn new(terminal: bool) -> Self {
        if terminal {
            Self::Live(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), BTreeMap::new())
        } else {
            Self::Plain(BTreeMap::new())
        }
    }

    fn show(&mut self, statuses: &[ActionStatus]) {
        for s in statuses.iter().filter(|s| s.wanted || s.state != RunState::Created) {
            let key = format!("{}/{}", s.service, s.action);
            let line = describe(s);
            match self {
                Self::Plain(seen) => {
                    if seen.get(&key) != Some(&line) {
                        eprintln!("{line}");
                        seen.insert(key, line);
                    }
                }
                Self::Live(multi, bars) => {
                    let bar = bars.entry(key).or_insert_with(|| {
                        let bar = multi.add(ProgressBar::new_spinner());
                        bar.set_style(
                            ProgressStyle::with_template("{spinner} {msg}")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        bar.enable_steady_tick(Duration::from_millis(80));
                        bar
                    });
                    bar.set_message(line);
                    if matches!(s.state, RunState::Ready | RunState::Failed | RunState::Exited) {
                        bar.finish();
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Self::Live(_, bars) = self {
            bars.values().for_each(ProgressBar::finish);
        }
    }
}
