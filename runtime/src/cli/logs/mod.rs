//! `--logs`: read straight from the supervisor's state directory, so it works with no
//! supervisor running. With an action, that action's log; without one, every action the
//! service involves (its own and the dependencies it names or pulled in), merged in time
//! order from the stamp on each line (see [`crate::logline`]), each line prefixed with its
//! action, coloured on a terminal. `--lines N` keeps the last N lines, `--since D` those
//! of the last D; `--follow` keeps printing what is appended, across rotation and across
//! restarts of an action.

mod follow;
mod read;

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::exit::Failure;
use super::launch;
use crate::Manifest;
use crate::api::WaitFor;
use crate::paths::{self, Locations};
use crate::spec::ServiceSpec;

/// How much of the end of each log is read when no `--lines` or `--since` asks for more.
const TAIL_BYTES: u64 = 64 * 1024;
/// How much of each log (its rotated files included) `--lines` or `--since` may read.
const DEEP_BYTES: u64 = 16 << 20;

/// What `--logs` was asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogQuery {
    /// One action (`action` or `service/action`); `None`: every action the service involves.
    pub action: Option<String>,
    pub follow: bool,
    /// Only the last this many lines.
    pub lines: Option<usize>,
    /// Only the lines of the last this long.
    pub since: Option<Duration>,
}

/// An action whose log is shown.
pub(super) struct Source {
    pub label: String,
    pub path: PathBuf,
}

/// How lines are printed: with the action in front (several sources), coloured or not.
struct Style {
    prefixed: bool,
    colour: bool,
    width: usize,
}

/// Foreground colours a terminal shows on light and dark backgrounds alike.
const PALETTE: [&str; 6] = ["36", "33", "35", "32", "34", "31"];

impl Style {
    fn new(sources: &[Source]) -> Self {
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            prefixed: sources.len() > 1,
            colour: std::io::stdout().is_terminal() && !no_colour,
            width: sources.iter().map(|s| s.label.chars().count()).max().unwrap_or(0),
        }
    }

    /// One line as printed: its time, its action (with several), its text.
    fn render(&self, line: &read::Line, sources: &[Source]) -> String {
        let stamp = line.at.map(crate::logline::shown).unwrap_or_default();
        if !self.prefixed {
            return if stamp.is_empty() { format!("{}\n", line.text) } else { format!("{stamp} {}\n", line.text) };
        }
        let stamp = if stamp.is_empty() { " ".repeat(24) } else { stamp };
        let label = format!("{:w$}", sources[line.source].label, w = self.width);
        let label =
            if self.colour { format!("\x1b[{}m{label}\x1b[0m", PALETTE[line.source % PALETTE.len()]) } else { label };
        format!("{stamp} {label} | {}\n", line.text)
    }
}

/// `--logs`: the action named (or all the service involves), read from disk, supervisor or not.
pub(super) async fn show(
    at: &Locations,
    spec: &ServiceSpec,
    manifest: &Manifest,
    query: &LogQuery,
) -> Result<(), Failure> {
    let (state_dir, candidates) = involved(at, spec).await?;
    let labels = match &query.action {
        Some(name) => vec![pick(name, &candidates, spec, manifest)?],
        None => candidates,
    };
    let sources: Vec<Source> = labels
        .into_iter()
        .map(|label| {
            let (service, action) = label.split_once('/').unwrap_or((spec.name.as_str(), label.as_str()));
            let path = paths::action_log(&state_dir, service, action);
            Source { label, path }
        })
        .collect();
    let style = Style::new(&sources);
    let mut out = std::io::stdout().lock();
    let tails = print_tails(&sources, &style, query, &mut out)?;
    if query.follow {
        follow::run(&sources, tails, &style, &mut out)?;
    }
    Ok(())
}

/// The state directory and every action the service involves: its own, the dependencies
/// it names, and what the running supervisor pulled in for it.
async fn involved(at: &Locations, spec: &ServiceSpec) -> Result<(PathBuf, Vec<String>), Failure> {
    let mut candidates: Vec<String> = spec.actions.iter().map(|a| format!("{}/{}", spec.name, a.name)).collect();
    for dep in spec.actions.iter().flat_map(|a| &a.depends_on).filter(|d| d.action.is_some()) {
        candidates.push(dep.label());
    }
    let mut state_dir = at.state_dir();
    if let Some(mut client) = launch::connect(&at.socket).await? {
        state_dir = client.info().await?.state_dir;
        if let Ok(answer) = client.wait(&spec.name, WaitFor::Settled, 0).await {
            candidates.extend(answer.actions.iter().map(|s| format!("{}/{}", s.service, s.action)));
        }
    }
    let mut seen = BTreeSet::new();
    candidates.retain(|c| seen.insert(c.clone()));
    Ok((state_dir, candidates))
}

/// The one candidate `name` means (`action` or `service/action`).
fn pick(name: &str, candidates: &[String], spec: &ServiceSpec, manifest: &Manifest) -> Result<String, Failure> {
    let matches: Vec<&String> = candidates
        .iter()
        .filter(|c| c.as_str() == name || c.rsplit_once('/').is_some_and(|(_, action)| action == name))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            use super::announce::needs_profile;
            let dependency = manifest.dependencies.iter().find(|d| {
                !d.profiles.is_empty()
                    && d.bin.as_deref().is_some_and(|b| name == b || name == format!("{}/{b}", d.repo))
            });
            let why = match manifest.binary(name) {
                None if let Some(d) = dependency => {
                    format!("`{name}` is a dependency of {} {}", spec.name, needs_profile(&d.profiles))
                }
                Some(b) if b.is_started() && !b.profiles.is_empty() => {
                    format!("`{name}` runs {}", needs_profile(&b.profiles))
                }
                Some(b) if b.is_started() => format!("`{name}` has not run with this supervisor yet"),
                Some(_) => format!("`{name}` is install-only: the supervisor never starts it, so it has no log"),
                None => format!("`{name}` is not an action {} involves", spec.name),
            };
            Err(Failure::from(format!("{why}; actions with logs: {}", candidates.join(", "))))
        }
        many => {
            let names: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
            Err(Failure::from(format!("`{name}` is ambiguous: {}; name it as service/action", names.join(", "))))
        }
    }
}

/// Prints what the query asks for of each source's log; returns each live file, positioned
/// where the read ended.
fn print_tails(
    sources: &[Source],
    style: &Style,
    query: &LogQuery,
    out: &mut impl Write,
) -> Result<Vec<Option<std::fs::File>>, Failure> {
    let budget = if query.lines.is_some() || query.since.is_some() { DEEP_BYTES } else { TAIL_BYTES };
    let mut all = Vec::new();
    let mut ends = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let (text, cut, end) = match read::tail(&source.path, budget) {
            Ok(read) => read,
            Err(e) => return Err(Failure::from(format!("cannot read {}: {e}", source.path.display()))),
        };
        if end.is_none() && sources.len() == 1 {
            eprintln!("nothing logged yet: {} does not exist", source.path.display());
        }
        if cut && query.lines.is_none() && query.since.is_none() {
            let older =
                read::files(&source.path).into_iter().nth(1).map(|p| format!(", older output in {}", p.display()));
            let _ = writeln!(
                out,
                "[… earlier bytes not shown of {}; the whole log is {}{}]",
                source.label,
                source.path.display(),
                older.unwrap_or_default()
            );
        }
        all.extend(read::lines(&text, i));
        ends.push(end);
    }
    let mut merged = read::merge(all);
    if let Some(since) = query.since {
        let from = u64::try_from(
            (std::time::SystemTime::now() - since)
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros(),
        )
        .unwrap_or(0);
        merged.retain(|l| l.at.is_some_and(|at| at >= from));
    }
    if let Some(n) = query.lines {
        merged.drain(..merged.len().saturating_sub(n));
    }
    for line in &merged {
        if out.write_all(style.render(line, sources).as_bytes()).is_err() {
            break;
        }
    }
    let _ = out.flush();
    Ok(ends)
}
