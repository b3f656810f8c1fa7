//! Dependency cycles across services, found when a service is defined.

use std::collections::BTreeMap;

use crate::spec::ServiceSpec;

/// The first cycle among the actions of `services`, as `service/action` labels with
/// the first repeated at the end; `None` when there is none.
pub(crate) fn find_cycle(services: &[&ServiceSpec]) -> Option<Vec<String>> {
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in services {
        for a in &s.actions {
            // `conflicts` orders nothing: two services may declare it of each other.
            let targets = a
                .depends_on
                .iter()
                .filter(|d| d.relation != service_manifest_core::Relation::Conflicts)
                .filter_map(|d| Some(format!("{}/{}", d.service, d.action.as_ref()?)))
                .collect();
            edges.insert(format!("{}/{}", s.name, a.name), targets);
        }
    }
    let mut done = std::collections::BTreeSet::new();
    for start in edges.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(start, &edges, &mut path, &mut done) {
            return Some(cycle);
        }
    }
    None
}

fn visit(
    node: &str,
    edges: &BTreeMap<String, Vec<String>>,
    path: &mut Vec<String>,
    done: &mut std::collections::BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut cycle = path[at..].to_vec();
        cycle.push(node.to_owned());
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_owned());
    for next in edges.get(node).into_iter().flatten() {
        if let Some(cycle) = visit(next, edges, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    done.insert(node.to_owned());
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
        assert_eq!(find_cycle(&[&a, &b, &c]).unwrap(), ["a/a1", "b/b1", "c/c1", "a/a1"]);
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let a = service("a", "a1", &[("b", "b1"), ("c", "c1")]);
        let b = service("b", "b1", &[("d", "d1")]);
        let c = service("c", "c1", &[("d", "d1")]);
        let d = service("d", "d1", &[]);
        assert_eq!(find_cycle(&[&a, &b, &c, &d]), None);
    }
}
