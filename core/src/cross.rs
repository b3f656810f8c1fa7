//! Checks a manifest's `[[dependencies]]` against the dependencies' own manifests,
//! when those can be found on a search path (`SERVICE_MANIFEST_PATH` for the macro,
//! like `PKG_CONFIG_PATH`): the binary exists and is started, the socket is the one it
//! serves, and the gate can hold. A mismatch is an error at the dependency's key in
//! this manifest, naming what the other file says.
//!
//! In each directory of the path, a dependency `repo = "x"` is looked for as
//! `x/service.toml` (a checkout) and then `x.toml`; the first found is used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::context::Ctxt;
use crate::diagnostic::{Diagnostic, Severity};
use crate::load::{Options, parse};
use crate::model::Manifest;
use crate::schema::{RawDependency, RawManifest, closest, quoted_list};

/// The environment variable the macro reads the search path from.
pub const SEARCH_PATH_VAR: &str = "SERVICE_MANIFEST_PATH";

/// A dependency's manifest found on the search path.
struct Found {
    /// Where it was found, relative to its search directory (no machine path in messages).
    shown: String,
    /// The parsed manifest, or why it could not be used.
    manifest: Result<Manifest, String>,
}

/// Runs the checks for every dependency whose manifest is on `search_path`; returns
/// every file it read, so the caller can rebuild when one changes.
pub(crate) fn check(raw: &RawManifest, search_path: &[PathBuf], cx: &mut Ctxt) -> Vec<PathBuf> {
    let mut read = Vec::new();
    if search_path.is_empty() {
        return read;
    }
    let mut found: HashMap<&str, Option<Found>> = HashMap::new();
    for d in &raw.dependencies {
        let Some(repo) = &d.repo else { continue };
        let entry = found.entry(repo.value.as_str()).or_insert_with(|| find(&repo.value, search_path, &mut read));
        if let Some(other) = entry {
            check_one(d, &repo.value, other, cx);
        }
    }
    read
}

fn find(repo: &str, search_path: &[PathBuf], read: &mut Vec<PathBuf>) -> Option<Found> {
    if crate::validate::name_problem(repo).is_some() {
        return None; // already an error; never let a name walk the file system
    }
    let candidates = [Path::new(repo).join("service.toml"), PathBuf::from(format!("{repo}.toml"))];
    let (dir, relative) = search_path
        .iter()
        .flat_map(|dir| candidates.iter().map(move |c| (dir, c)))
        .find(|(dir, c)| dir.join(c).is_file())?;
    let path = dir.join(relative);
    let shown = relative.display().to_string();
    read.push(path.clone());
    let manifest = match std::fs::read_to_string(&path) {
        Err(e) => Err(format!("cannot read it: {e}")),
        Ok(source) => {
            parse(&source, &Options::lenient().default_service_name(repo)).map(|c| c.manifest).map_err(|errors| {
                let first = errors.iter().find(|d| d.severity == Severity::Error);
                match first {
                    Some(e) => format!("it is invalid: {}", e.render(&shown, &source).to_string().trim_end()),
                    None => "it is invalid".to_owned(),
                }
            })
        }
    };
    Some(Found { shown, manifest })
}

fn check_one(d: &RawDependency, repo: &str, other: &Found, cx: &mut Ctxt) {
    let shown = &other.shown;
    let m = match &other.manifest {
        Ok(m) => m,
        Err(why) => {
            cx.push(
                Diagnostic::error(format!("`{repo}` has a manifest on {SEARCH_PATH_VAR}, but {why}"), d.header.clone())
                    .help(format!("fix {shown}, or take its directory off {SEARCH_PATH_VAR}")),
            );
            return;
        }
    };
    if m.service.name != repo
        && let Some(r) = &d.repo
    {
        cx.push(
            Diagnostic::error(format!("{shown} names its service `{}`, not `{repo}`", m.service.name), r.span.clone())
                .help(format!("`repo` is the dependency's service name: use `repo = \"{}\"`", m.service.name)),
        );
    }
    let started: Vec<&str> = m.started().map(|b| b.name.as_ref()).collect();
    let served = m.started().filter_map(|b| Some((b.name.as_ref(), b.socket.as_deref()?)));
    let served: Vec<(&str, &str)> = served.collect();
    match &d.bin {
        Some(bin) => {
            let Some(b) = m.binary(&bin.value) else {
                let d = Diagnostic::error(
                    format!("`{repo}` has no binary `{}` (per {shown})", bin.value),
                    bin.span.clone(),
                );
                cx.push(match closest(&bin.value, &started) {
                    Some(close) => d.help(format!("did you mean `{close}`?")),
                    None => d.help(format!("its started binaries are {}", quoted_list(&started))),
                });
                return;
            };
            if !b.is_started() {
                let why = match &b.spawned_by {
                    Some(parent) => format!("spawned by `{parent}`"),
                    None => format!("of kind `{}`", b.kind),
                };
                cx.push(
                    Diagnostic::error(
                        format!(
                            "`{}` of `{repo}` is never started ({why}, per {shown}), so nothing could wait for it",
                            bin.value
                        ),
                        bin.span.clone(),
                    )
                    .help(format!("depend on one of its started binaries: {}", quoted_list(&started))),
                );
                return;
            }
            if let Some(ready) = &d.ready
                && ready.value == crate::vocab::ReadyGate::Healthy
                && b.health.is_none()
            {
                cx.push(
                    Diagnostic::error(
                        format!(
                            "`{}` of `{repo}` has no health check (per {shown}), so it never becomes healthy",
                            bin.value
                        ),
                        ready.span.clone(),
                    )
                    .help(format!(
                        "add `[binaries.health]` to `{}` in {shown}, or gate on `ready = \"socket\"`",
                        bin.value
                    )),
                );
            }
            match (&d.socket, b.socket.as_deref()) {
                (Some(ours), Some(theirs)) if ours.value != theirs => cx.push(
                    Diagnostic::error(
                        format!("`{}` of `{repo}` serves `{theirs}` (per {shown}), not `{}`", bin.value, ours.value),
                        ours.span.clone(),
                    )
                    .help(format!("write \"{theirs}\" here, as {shown} does")),
                ),
                (Some(ours), None) => cx.push(
                    Diagnostic::error(
                        format!(
                            "`{}` of `{repo}` serves no socket (per {shown}), so `{}` would never accept",
                            bin.value, ours.value
                        ),
                        ours.span.clone(),
                    )
                    .help("remove the socket and gate on `ready = \"running\"`"),
                ),
                _ => {}
            }
        }
        None => {
            if let Some(ours) = &d.socket
                && !served.iter().any(|(_, s)| *s == ours.value)
            {
                let sockets: Vec<&str> = served.iter().map(|(_, s)| *s).collect();
                let d = Diagnostic::error(
                    format!("no started binary of `{repo}` serves `{}` (per {shown})", ours.value),
                    ours.span.clone(),
                );
                cx.push(match closest(&ours.value, &sockets) {
                    Some(close) => d.help(format!("did you mean `{close}`?")),
                    None if sockets.is_empty() => d.help(format!("`{repo}` serves no socket")),
                    None => d.help(format!("it serves {}", quoted_list(&sockets))),
                });
            }
        }
    }
}
