//! `--plan` and `--graph`: what a start would do, drawn from the registration and the
//! manifest alone, without a supervisor.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::json;

use crate::Manifest;
use crate::spec::{ActionDep, ServiceSpec};

/// The formats of `--graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

/// One step of the start order.
struct Step<'a> {
    label: String,
    /// The action, for our own steps; `None` for another service's action.
    own: Option<&'a crate::ActionSpec>,
    /// For another service's action: pulled in (requires/wants) or only ordered against (after).
    pulled_in: bool,
}

/// Every node in start order: a dependency always comes before what needs it.
fn start_order<'a>(spec: &'a ServiceSpec) -> Vec<Step<'a>> {
    let own = |d: &ActionDep| d.service == spec.name && d.action.as_ref().is_some_and(|a| spec.action(a).is_some());
    let mut order: Vec<Step<'a>> = Vec::new();
    let mut placed = BTreeSet::new();
    for dep in spec.actions.iter().flat_map(|a| &a.depends_on).filter(|d| !own(d)) {
        if placed.insert(dep.label()) {
            let pulled_in = dep.relation != crate::Relation::After;
            order.push(Step { label: dep.label(), own: None, pulled_in });
        }
    }
    // Kahn's algorithm over our own actions; a cycle cannot pass validation, but if one
    // did the remaining actions are listed last rather than lost.
    let mut remaining: Vec<&crate::ActionSpec> = spec.actions.iter().collect();
    while !remaining.is_empty() {
        let ready =
            remaining.iter().position(|a| a.depends_on.iter().filter(|d| own(d)).all(|d| placed.contains(&d.label())));
        let a = remaining.remove(ready.unwrap_or(0));
        let label = format!("{}/{}", spec.name, a.name);
        placed.insert(label.clone());
        order.push(Step { label, own: Some(a), pulled_in: true });
    }
    order
}

fn gate(dep: &ActionDep) -> String {
    let mut text = format!("{} {}, gate: {}", dep.relation, dep.label(), dep.ready);
    if let Some(socket) = &dep.socket {
        let _ = write!(text, " {socket}");
    }
    if let Some(ms) = dep.timeout_ms {
        let _ = write!(text, ", timeout {}", crate::text::duration_ms(ms));
    }
    text
}

/// The start order as a tree: each step with the gates it waits on, then the
/// install-only binaries.
pub fn plan_text(spec: &ServiceSpec, manifest: &Manifest) -> String {
    let profiles = match (spec.profiles.as_slice(), manifest.service.profiles.is_empty()) {
        ([], true) => String::new(),
        ([], false) => {
            let declared: Vec<&str> = manifest.service.profiles.iter().map(AsRef::as_ref).collect();
            format!(" (no profile active; it declares {})", declared.join(", "))
        }
        (active, _) => format!(" ({})", super::announce::profiles_named(active)),
    };
    let mut out = format!("{}: start plan{profiles}\n", spec.name);
    for (i, step) in start_order(spec).iter().enumerate() {
        let n = i + 1;
        match step.own {
            None if step.pulled_in => {
                let _ = writeln!(out, "{n}. {}  (another service: pulled in and started first)", step.label);
            }
            None => {
                let _ = writeln!(out, "{n}. {}  (another service: waited for only if it is being started)", step.label);
            }
            Some(a) => {
                let ready = match &a.socket {
                    Some(s) => format!("ready when {s} accepts connections"),
                    None => "ready when running".to_owned(),
                };
                let _ = writeln!(out, "{n}. {} [{}]  {ready}", step.label, a.kind);
                if let Some(watch) = watching(a) {
                    let _ = writeln!(out, "   watched: {watch}");
                }
                let count = a.depends_on.len();
                for (j, dep) in a.depends_on.iter().enumerate() {
                    let branch = if j + 1 == count { "└─" } else { "├─" };
                    let _ = writeln!(out, "   {branch} {}", gate(dep));
                }
            }
        }
    }
    let install_only: Vec<_> = manifest.install_only().collect();
    if !install_only.is_empty() {
        out.push_str("install-only (never started):\n");
        for b in install_only {
            let owner = b.spawned_by.as_deref().map(|p| format!("  spawned by {p}")).unwrap_or_default();
            let _ = writeln!(out, "   {} [{}]{owner}", b.name, b.kind);
        }
    }
    out
}

/// The action's watchdog and health check, in words, when it has either.
fn watching(a: &crate::ActionSpec) -> Option<String> {
    let ms = crate::text::duration_ms;
    let mut parts = Vec::new();
    if let Some(w) = a.watchdog_ms {
        parts.push(format!("watchdog {}", ms(w)));
    }
    if let Some(h) = &a.health {
        let probe = match &h.probe {
            crate::Probe::Exec { command } => format!("runs `{}`", command.join(" ")),
            crate::Probe::Socket { send: Some(line), .. } => format!("sends `{line}` on its socket"),
            crate::Probe::Socket { expect: Some(_), .. } => "reads a line on its socket".to_owned(),
            crate::Probe::Socket { .. } => "connects to its socket".to_owned(),
        };
        let expect = match &h.probe {
            crate::Probe::Socket { expect: Some(text), .. } => format!(", expects `{text}`"),
            _ => String::new(),
        };
        parts.push(format!(
            "health check {probe}{expect} every {} (timeout {}, unhealthy after {} failures)",
            ms(h.interval_ms),
            ms(h.timeout_ms),
            h.retries
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The plan as JSON: `service`, `order`, `actions` (the registration) and `install_only`.
pub fn plan_json(spec: &ServiceSpec, manifest: &Manifest) -> String {
    let order: Vec<String> = start_order(spec).into_iter().map(|s| s.label).collect();
    let install_only: Vec<_> = manifest
        .install_only()
        .map(|b| json!({ "name": b.name, "kind": b.kind, "spawned_by": b.spawned_by }))
        .collect();
    let value = json!({ "service": spec.name, "order": order, "actions": spec.actions, "install_only": install_only });
    serde_json::to_string_pretty(&value).map(|s| s + "\n").unwrap_or_default()
}

/// The dependency graph: an edge from each dependent to what it depends on, install-only
/// binaries drawn dashed, and a dotted `spawns` edge from an owner to what it spawns.
pub fn graph(spec: &ServiceSpec, manifest: &Manifest, format: GraphFormat) -> String {
    let mut nodes: BTreeMap<String, (String, bool)> = BTreeMap::new();
    let mut edges: Vec<(String, String, String, bool)> = Vec::new();
    for step in start_order(spec) {
        let text = match step.own {
            Some(a) => format!("{} [{}]", step.label, a.kind),
            None => step.label.clone(),
        };
        nodes.insert(step.label, (text, false));
    }
    for a in &spec.actions {
        for d in &a.depends_on {
            edges.push((
                format!("{}/{}", spec.name, a.name),
                d.label(),
                format!("{} · {}", d.relation, d.ready),
                false,
            ));
        }
    }
    for b in manifest.install_only() {
        let label = format!("{}/{}", spec.name, b.name);
        nodes.insert(label.clone(), (format!("{label} [{}, install-only]", b.kind), true));
        if let Some(parent) = &b.spawned_by {
            edges.push((format!("{}/{parent}", spec.name), label, "spawns".into(), true));
        }
    }
    let ids: BTreeMap<&String, String> = nodes.keys().enumerate().map(|(i, k)| (k, format!("n{i}"))).collect();
    let id = |k: &String| ids.get(k).cloned().unwrap_or_default();
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            let _ = writeln!(out, "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];", spec.name);
            for (k, (text, dashed)) in &nodes {
                let style = if *dashed { ", style=dashed" } else { "" };
                let _ = writeln!(out, "  {} [label=\"{text}\"{style}];", id(k));
            }
            for (from, to, text, dotted) in &edges {
                let style = if *dotted { ", style=dotted" } else { "" };
                let _ = writeln!(out, "  {} -> {} [label=\"{text}\"{style}];", id(from), id(to));
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for (k, (text, dashed)) in &nodes {
                let class = if *dashed { ":::installonly" } else { "" };
                let _ = writeln!(out, "  {}[\"{text}\"]{class}", id(k));
            }
            for (from, to, text, dotted) in &edges {
                let arrow = if *dotted { "-.->" } else { "-->" };
                let _ = writeln!(out, "  {} {arrow}|{text}| {}", id(from), id(to));
            }
            out.push_str("  classDef installonly stroke-dasharray: 5 5\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{ActionDep, ActionSpec, BinaryKind, HealthCheck, Probe, ReadyGate, ServiceSpec};

    /// The plan shows what watches an action, and the zinit backend says it is not enforced.
    #[test]
    fn the_plan_shows_health_checks_and_watchdogs_and_zinit_says_what_it_leaves_out() {
        let check = HealthCheck::new(Probe::Socket { send: Some("ping".into()), expect: Some("pong".into()) });
        let db = ActionSpec::new("db", BinaryKind::Server).socket("s/db.sock").watchdog_ms(10_000).health(check);
        let app = ActionSpec::new("app", BinaryKind::Server)
            .depends_on(ActionDep::new("s").action("db").ready(ReadyGate::Healthy));
        let spec = ServiceSpec::new("s", vec![db, app]);
        let manifest = crate::Manifest {
            service: service_manifest_core::ServiceInfo {
                name: "s".into(),
                description: None,
                profiles: [][..].into(),
            },
            binaries: [][..].into(),
            dependencies: [][..].into(),
        };
        let text = super::plan_text(&spec, &manifest);
        let watched = "   watched: watchdog 10s; health check sends `ping` on its socket, expects `pong` every 30s \
                       (timeout 30s, unhealthy after 3 failures)\n";
        assert!(text.contains(watched), "{text}");
        assert!(text.contains("└─ requires s/db, gate: healthy"), "{text}");
        let notes = crate::backend::zinit::plan_notes(&spec);
        for part in ["s/db: its health check is not enforced", "s/db: its watchdog is not enforced", "`healthy` gate"] {
            assert!(notes.contains(part), "{part:?} missing from {notes}");
        }
    }
}
