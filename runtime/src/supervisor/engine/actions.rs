//! The registered actions, with an index of the ones that can move.
//!
//! Reconcile, the next deadline and the awaited sockets only concern actions that can
//! move (see [`Action::is_inert`]) or have a deadline pending; with 10,000 registered and
//! one changing, visiting all of them on every event made a start quadratic. Every
//! mutable access goes through this type and marks its action, so the index cannot miss
//! one: read access is through `Deref`, and there is no `DerefMut`. The same goes for
//! the reverse edges.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use super::{Action, Key};

/// The actions, by key, and the keys worth visiting.
#[derive(Default)]
pub(crate) struct Actions {
    map: BTreeMap<Key, Action>,
    /// A superset of the keys that are not inert or have a deadline pending.
    active: BTreeSet<Key>,
    /// For each action a dependency names (registered or not), the actions naming it:
    /// dependents and the other side of a conflict are looked up here, not searched for.
    named_by: BTreeMap<Key, BTreeSet<Key>>,
    /// What each action's dependencies name, to undo its entries in `named_by`.
    names: BTreeMap<Key, Vec<Key>>,
}

impl Deref for Actions {
    type Target = BTreeMap<Key, Action>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<'a> IntoIterator for &'a Actions {
    type Item = (&'a Key, &'a Action);
    type IntoIter = std::collections::btree_map::Iter<'a, Key, Action>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

impl Actions {
    /// The action at `key`, for changing: it is visited again.
    pub(crate) fn get_mut(&mut self, key: &Key) -> Option<&mut Action> {
        let action = self.map.get_mut(key)?;
        if !self.active.contains(key) {
            self.active.insert(key.clone());
        }
        Some(action)
    }

    /// The first action `pred` accepts, for changing.
    pub(crate) fn find_mut(&mut self, pred: impl Fn(&Action) -> bool) -> Option<&mut Action> {
        let key = self.map.iter().find(|(_, a)| pred(a)).map(|(k, _)| k.clone())?;
        self.get_mut(&key)
    }

    /// Registers (or replaces) an action.
    pub(crate) fn insert(&mut self, key: Key, action: Action) {
        self.active.insert(key.clone());
        self.map.insert(key.clone(), action);
        self.spec_changed(&key);
    }

    /// The spec of the action at `key` was replaced (or it is gone).
    pub(crate) fn spec_changed(&mut self, key: &Key) {
        for target in self.names.remove(key).into_iter().flatten() {
            if let Some(dependents) = self.named_by.get_mut(&target) {
                dependents.remove(key);
                if dependents.is_empty() {
                    self.named_by.remove(&target);
                }
            }
        }
        let Some(action) = self.map.get(key) else { return };
        let targets: Vec<Key> =
            action.spec.depends_on.iter().filter_map(|d| Some((d.service.clone(), d.action.clone()?))).collect();
        for target in &targets {
            self.named_by.entry(target.clone()).or_default().insert(key.clone());
        }
        self.names.insert(key.clone(), targets);
    }

    /// The registered actions with a dependency (of any relation) that names `key`.
    pub(crate) fn naming(&self, key: &Key) -> impl Iterator<Item = (&Key, &Action)> {
        self.named_by.get(key).into_iter().flatten().filter_map(|k| self.map.get(k).map(|a| (k, a)))
    }

    /// Forgets an action.
    pub(crate) fn remove(&mut self, key: &Key) -> Option<Action> {
        self.active.remove(key);
        let action = self.map.remove(key);
        self.spec_changed(key);
        action
    }

    /// The registered actions of `service`, in order.
    pub(crate) fn keys_of<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Key> {
        self.map.range((service.to_owned(), String::new())..).map(|(k, _)| k).take_while(move |k| k.0 == service)
    }

    /// Keeps the actions `keep` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Key, &Action) -> bool) {
        let mut gone = Vec::new();
        self.map.retain(|k, a| {
            let kept = keep(k, a);
            if !kept {
                gone.push(k.clone());
            }
            kept
        });
        for k in gone {
            self.active.remove(&k);
            self.spec_changed(&k);
        }
    }

    /// The actions worth visiting: every one that is not inert or has a deadline, and
    /// perhaps a few that are settled since (until [`Actions::prune`]).
    pub(crate) fn active(&self) -> impl Iterator<Item = (&Key, &Action)> {
        self.active.iter().filter_map(|k| self.map.get(k).map(|a| (k, a)))
    }

    /// The keys of [`Actions::active`] that are not inert, in order.
    pub(crate) fn movable_keys(&self) -> Vec<Key> {
        self.active().filter(|(_, a)| !a.is_inert()).map(|(k, _)| k.clone()).collect()
    }

    /// Drops from the index what is inert with no deadline: it is not visited until
    /// something changes it.
    pub(crate) fn prune(&mut self) {
        let map = &self.map;
        self.active.retain(|k| map.get(k).is_some_and(|a| !a.is_inert() || a.has_deadline()));
    }

    /// Whether the index holds `key` (the simulation checks it misses nothing).
    #[cfg(test)]
    pub(crate) fn is_indexed(&self, key: &Key) -> bool {
        self.active.contains(key)
    }

    /// Whether the index says `dependent` names `target`.
    #[cfg(test)]
    pub(crate) fn is_listed_as_naming(&self, dependent: &Key, target: &Key) -> bool {
        self.named_by.get(target).is_some_and(|d| d.contains(dependent))
    }
}
