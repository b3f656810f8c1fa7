//! Dependency cycles across services, found when a service is defined.

use std::collections::BTreeSet;

use crate::spec::{ActionSpec, ServiceSpec};

/// The first cycle that defining `spec` would close, as `service/action` labels with the
/// first repeated at the end; `None` when there is none. `registered` looks up the other
/// services as they are now.
///
/// The registered graph has no cycle (every definition was checked like this one), so a
/// new cycle passes through `spec`: the search starts from its actions and visits only
/// what they reach, which keeps defining the n-th service independent of n.
pub(crate) fn find_cycle<'a>(
    spec: &'a ServiceSpec,
    registered: impl Fn(&str) -> Option<&'a ServiceSpec>,
) -> Option<Vec<String>> {
    let action = |service: &str, name: &str| -> Option<&'a ActionSpec> {
        let s = if service == spec.name { Some(spec) } else { registered(service) }?;
        s.actions.iter().find(|a| a.name == name)
    };
    let mut done = BTreeSet::new();
    for a in &spec.actions {
        let mut path = Vec::new();
        if let Some(cycle) = visit((&spec.name, &a.name), &action, &mut path, &mut done) {
            return Some(cycle);
        }
    }
    None
}

fn visit<'a>(
    node: (&'a str, &'a str),
    action: &impl Fn(&str, &str) -> Option<&'a ActionSpec>,
    path: &mut Vec<(&'a str, &'a str)>,
    done: &mut BTreeSet<(&'a str, &'a str)>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| *n == node) {
        let mut cycle: Vec<String> = path[at..].iter().map(|(s, a)| format!("{s}/{a}")).collect();
        cycle.push(format!("{}/{}", node.0, node.1));
        return Some(cycle);
    }
    if done.contains(&node) {
        return None;
    }
    path.push(node);
    // `conflicts` orders nothing: two services may declare it of each other.
    let edges = action(node.0, node.1)
        .into_iter()
        .flat_map(|a| &a.depends_on)
        .filter(|d| d.relation != service_manifest_core::Relation::Conflicts)
        .filter_map(|d| Some((d.service.as_str(), d.action.as_deref()?)));
    for next in edges {
        if let Some(cycle) = visit(next, action, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    done.insert(node);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ActionDep, ActionSpec};
    use service_manifest_core::BinaryKind;

    fn service(name: &str, action: &str, deps: &[(&str, &str)]) -> ServiceSpec {
        let mut a = ActionSpec::new(action, BinaryKind::Server);
        for (s, d) in deps {
            a = a.depends_on(ActionDep::new(*s).action(*d));
        }
        ServiceSpec::new(name, vec![a])
    }

    #[test]
    fn a_cycle_across_services_is_named_in_order() {
        let a = service("a", "a1", &[("b", "b1")]);
        let b = service("b", "b1", &[("c", "c1")]);
        let c = service("c", "c1", &[("a", "a1")]);
        let registered = |name: &str| [&b, &c].into_iter().find(|s| s.name == name);
        assert_eq!(find_cycle(&a, registered).unwrap(), ["a/a1", "b/b1", "c/c1", "a/a1"]);
    }

    #[test]
    fn a_redefinition_is_checked_as_it_will_be_not_as_it_was() {
        let a_old = service("a", "a1", &[]);
        let b = service("b", "b1", &[("a", "a1")]);
        let a_new = service("a", "a1", &[("b", "b1")]);
        let registered = |name: &str| [&a_old, &b].into_iter().find(|s| s.name == name);
        assert_eq!(find_cycle(&a_new, registered).unwrap(), ["a/a1", "b/b1", "a/a1"]);
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let a = service("a", "a1", &[("b", "b1"), ("c", "c1")]);
        let b = service("b", "b1", &[("d", "d1")]);
        let c = service("c", "c1", &[("d", "d1")]);
        let d = service("d", "d1", &[]);
        let registered = |name: &str| [&b, &c, &d].into_iter().find(|s| s.name == name);
        assert_eq!(find_cycle(&a, registered), None);
    }
}
