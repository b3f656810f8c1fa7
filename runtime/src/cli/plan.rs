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
    let mut out = format!("{}: start plan\n", spec.name);
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
