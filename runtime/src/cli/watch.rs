//! `--status --watch`: the status table, kept current from the supervisor's journal. On a
//! terminal the table is redrawn in place at each change (and each second, for the
//! uptimes); piped, each change is one line. The statuses are read again only when the
//! journal says something of the service changed: nothing polls the whole status.
//! Ctrl-C ends it and leaves the terminal as it found it.

use std::io::{IsTerminal, Write};

use super::exit::Failure;
use super::progress::Involved;
use super::status;
use crate::api::{ActionStatus, RunState, WaitFor};
use crate::client::Client;
use crate::spec::ServiceSpec;

/// How long one `events` long-poll waits: the uptimes are redrawn at least this often.
const POLL_MS: u64 = 1_000;

/// Watches `spec`'s service until Ctrl-C (or SIGTERM).
pub(super) async fn run(client: &mut Client, spec: &ServiceSpec) -> Result<(), Failure> {
    let stop = super::commands::interrupt()?;
    tokio::pin!(stop);
    let terminal = std::io::stdout().is_terminal();
    let mut involved = Involved::of(spec);
    let mut since = client.info().await?.journal_seq;
    let mut statuses = current(client, spec).await?;
    let mut drawn = 0;
    let mut out = std::io::stdout();
    if terminal {
        // The cursor would flicker over the table.
        let _ = write!(out, "\x1b[?25l");
    }
    let result = loop {
        if terminal {
            drawn = redraw(&mut out, &statuses, &involved, drawn);
        } else if drawn == 0 {
            let _ = write!(out, "{}", table(&statuses, &involved));
            drawn = 1;
        }
        let _ = out.flush();
        let events = tokio::select! {
            () = &mut stop => break Ok(()),
            events = client.events(since, POLL_MS) => match events {
                Ok(events) => events,
                Err(e) => break Err(Failure::from(e)),
            },
        };
        let mut changed = false;
        for e in &events {
            since = e.seq;
            if !involved.track(e) {
                continue;
            }
            changed = true;
            if !terminal && let Some(line) = involved.line(e) {
                let _ = writeln!(out, "{} {}: {line}", crate::logline::shown(e.at_us), e.action);
            }
        }
        if changed {
            match current(client, spec).await {
                Ok(now) => statuses = now,
                Err(e) => break Err(e),
            }
        }
    };
    if terminal {
        let _ = write!(out, "\x1b[?25h");
        let _ = out.flush();
    }
    result
}

/// The statuses of the service and what it pulls in, as `--status` shows them.
async fn current(client: &mut Client, spec: &ServiceSpec) -> Result<Vec<ActionStatus>, Failure> {
    Ok(client.wait(&spec.name, WaitFor::Settled, 0).await?.actions)
}

fn table(statuses: &[ActionStatus], involved: &Involved) -> String {
    status::render(statuses, false, |s| s.state == RunState::Exited && involved.is_up(s))
}

/// Draws the table over the `drawn` lines drawn last; returns how many it drew.
fn redraw(out: &mut impl Write, statuses: &[ActionStatus], involved: &Involved, drawn: usize) -> usize {
    let text = table(statuses, involved);
    if drawn > 0 {
        let _ = write!(out, "\x1b[{drawn}A\x1b[J");
    }
    let _ = write!(out, "{text}");
    text.lines().count()
}
