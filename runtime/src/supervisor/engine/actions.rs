//! The registered actions, with the indexes that keep an event's cost independent of how
//! many are registered.
//!
//! Reconcile visits what an input touched and the actions one edge away from it (a gate
//! or a stop order can only change when a neighbour does), plus what a timer or a socket
//! woke; the next deadline comes from an ordered index. With 10,000 registered, visiting
//! all of them on every event made starting and stopping quadratic.
//!
//! Every mutable access goes through this type and records its action as touched, so the
//! indexes cannot miss a change: read access is through `Deref`, and there is no
//! `DerefMut`. In tests, the simulation checks after every step that a full pass over
//! every action would move nothing, and that the indexes agree with the actions.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::path::{Path, PathBuf};

use super::{Action, Key};

/// The actions, by key, and their indexes.
#[derive(Default)]
pub(crate) struct Actions {
    map: BTreeMap<Key, Action>,
    /// Changed (or possibly changed) since the indexes were last brought up to date.
    touched: BTreeSet<Key>,
    /// To visit at the next reconcile although nothing of theirs changed: a timer fell
    /// due, a socket accepts, a neighbour was removed.
    woken: BTreeSet<Key>,
    /// The actions that are not inert (see [`Action::is_inert`]), as of the last update.
    movable: BTreeSet<Key>,
    /// Each action's earliest deadline, and the same ordered by time.
    deadline_of: BTreeMap<Key, u64>,
    by_deadline: BTreeSet<(u64, Key)>,
    /// For each action a dependency names (registered or not), the actions naming it.
    named_by: BTreeMap<Key, BTreeSet<Key>>,
    /// What each action's dependencies name, to undo its entries in `named_by`.
    names: BTreeMap<Key, Vec<Key>>,
    /// Where a relative socket name resolves (the supervisor's socket directory).
    socket_dir: PathBuf,
    /// For each socket path, the actions that read whether it accepts: its server (for
    /// readiness) and those with a dependency naming it. A socket that starts accepting
    /// wakes only these: waking every waiting and running action made a start of n
    /// services at once n² steps.
    reading: BTreeMap<PathBuf, BTreeSet<Key>>,
    /// What each action reads, to undo its entries in `reading`.
    reads: BTreeMap<Key, Vec<PathBuf>>,
    /// Counts changes of what is registered and of what each names: anything computed
    /// from the graph alone (a service's closure) holds while this stays the same.
    generation: u64,
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

/// A key as two borrowed names, so a lookup by a dependency's names builds no
/// `(String, String)`: gates look up every edge of a waiting action at each of its
/// dependencies' events.
pub(crate) trait Names {
    fn names(&self) -> (&str, &str);
}

impl Names for Key {
    fn names(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl Names for (&str, &str) {
    fn names(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn Names + 'a> for Key {
    fn borrow(&self) -> &(dyn Names + 'a) {
        self
    }
}

// The order of `Key` itself (a tuple of strings), so the map finds what it holds.
impl Ord for dyn Names + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.names().cmp(&other.names())
    }
}

impl PartialOrd for dyn Names + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for dyn Names + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.names() == other.names()
    }
}

impl Eq for dyn Names + '_ {}

impl Actions {
    /// The registered action `service`/`action`, with its key.
    pub(crate) fn named(&self, service: &str, action: &str) -> Option<(&Key, &Action)> {
        self.map.get_key_value(&(service, action) as &dyn Names)
    }

    /// No actions; relative socket names resolve against `socket_dir`.
    pub(crate) fn new(socket_dir: PathBuf) -> Self {
        Self { socket_dir, ..Self::default() }
    }

    /// The action at `key`, for changing: it and its neighbours are visited again.
    pub(crate) fn get_mut(&mut self, key: &Key) -> Option<&mut Action> {
        let action = self.map.get_mut(key)?;
        if !self.touched.contains(key) {
            self.touched.insert(key.clone());
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
        self.map.insert(key.clone(), action);
        self.spec_changed(&key);
        self.touched.insert(key);
    }

    /// The spec of the action at `key` was replaced (or it is gone).
    pub(crate) fn spec_changed(&mut self, key: &Key) {
        self.generation += 1;
        for target in self.names.remove(key).into_iter().flatten() {
            if let Some(dependents) = self.named_by.get_mut(&target) {
                dependents.remove(key);
                if dependents.is_empty() {
                    self.named_by.remove(&target);
                }
            }
        }
        for path in self.reads.remove(key).into_iter().flatten() {
            if let Some(readers) = self.reading.get_mut(&path) {
                readers.remove(key);
                if readers.is_empty() {
                    self.reading.remove(&path);
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
        let read = sockets_read(action, &self.socket_dir);
        for path in &read {
            self.reading.entry(path.clone()).or_default().insert(key.clone());
        }
        self.reads.insert(key.clone(), read);
    }

    /// See `generation`: it changes whenever an action is registered, replaced or removed.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Visits, at the next reconcile, the actions that read whether `path` accepts.
    pub(crate) fn wake_reading(&mut self, path: &Path) {
        if let Some(readers) = self.reading.get(path) {
            self.woken.extend(readers.iter().cloned());
        }
    }

    /// The actions that read whether `path` accepts (see `reading`).
    pub(crate) fn reading(&self, path: &Path) -> impl Iterator<Item = &Action> {
        self.reading.get(path).into_iter().flatten().filter_map(|k| self.map.get(k))
    }

    /// The registered actions with a dependency (of any relation) that names `key`.
    pub(crate) fn naming(&self, key: &Key) -> impl Iterator<Item = (&Key, &Action)> {
        self.named_by.get(key).into_iter().flatten().filter_map(|k| self.map.get(k).map(|a| (k, a)))
    }

    /// The actions `key` conflicts with, or that conflict with it.
    fn conflict_partners(&self, key: &Key) -> Vec<Key> {
        let conflicts = |d: &crate::ActionDep| d.relation == crate::Relation::Conflicts;
        let mut partners: Vec<Key> = self
            .map
            .get(key)
            .into_iter()
            .flat_map(|a| &a.spec.depends_on)
            .filter(|d| conflicts(d))
            .filter_map(|d| Some((d.service.clone(), d.action.clone()?)))
            .collect();
        for (k, a) in self.naming(key) {
            let names_it = |d: &crate::ActionDep| d.service == key.0 && d.action.as_deref() == Some(key.1.as_str());
            if a.spec.depends_on.iter().any(|d| conflicts(d) && names_it(d)) {
                partners.push(k.clone());
            }
        }
        partners
    }

    /// The actions one edge away from `key`, either way.
    fn neighbours<'a>(&'a self, key: &'a Key) -> impl Iterator<Item = &'a Key> {
        self.names.get(key).into_iter().flatten().chain(self.named_by.get(key).into_iter().flatten())
    }

    /// Forgets an action; its neighbours are visited again.
    pub(crate) fn remove(&mut self, key: &Key) -> Option<Action> {
        let neighbours: Vec<Key> = self.neighbours(key).cloned().collect();
        self.woken.extend(neighbours);
        let action = self.map.remove(key);
        self.spec_changed(key);
        self.forget_indexed(key);
        action
    }

    /// Keeps the actions `keep` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Key, &Action) -> bool) {
        let gone: Vec<Key> = self.map.iter().filter(|(k, a)| !keep(k, a)).map(|(k, _)| k.clone()).collect();
        for key in gone {
            self.remove(&key);
        }
    }

    fn forget_indexed(&mut self, key: &Key) {
        self.touched.remove(key);
        self.woken.remove(key);
        self.movable.remove(key);
        if let Some(t) = self.deadline_of.remove(key) {
            self.by_deadline.remove(&(t, key.clone()));
        }
    }

    /// The registered actions of `service`, in order.
    pub(crate) fn keys_of<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Key> {
        self.map.range((service.to_owned(), String::new())..).map(|(k, _)| k).take_while(move |k| k.0 == service)
    }

    /// The actions that were not inert at the last update.
    pub(crate) fn movable(&self) -> impl Iterator<Item = (&Key, &Action)> {
        self.movable.iter().filter_map(|k| self.map.get(k).map(|a| (k, a)))
    }

    /// Visits `keys` at the next reconcile.
    pub(crate) fn wake(&mut self, keys: impl IntoIterator<Item = Key>) {
        self.woken.extend(keys);
    }

    /// Visits, at the next reconcile, every action whose deadline is `now` or past.
    pub(crate) fn wake_due(&mut self, now: u64) {
        let due: Vec<Key> = self.by_deadline.iter().take_while(|(t, _)| *t <= now).map(|(_, k)| k.clone()).collect();
        self.woken.extend(due);
    }

    /// What an input or a pass touched or woke, and everything one edge away from it:
    /// the actions the next pass visits. Empties the touched and woken sets, and returns
    /// the touched ones too (their indexes need updating).
    pub(crate) fn take_dirty(&mut self) -> (BTreeSet<Key>, BTreeSet<Key>) {
        let touched = std::mem::take(&mut self.touched);
        let mut dirty = std::mem::take(&mut self.woken);
        for key in &touched {
            dirty.extend(self.neighbours(key).cloned());
            // Whether a conflict holds another action down changes what that action's own
            // dependents may do (a `wants` pulls it in only while nothing up conflicts
            // with it): two edges away, through the conflict.
            for partner in self.conflict_partners(key) {
                dirty.extend(self.neighbours(&partner).cloned());
            }
        }
        dirty.extend(touched.iter().cloned());
        dirty.retain(|k| self.map.contains_key(k));
        (dirty, touched)
    }

    /// Whether something was woken (a removal's neighbours) since the last pass took it.
    pub(crate) fn has_pending(&self) -> bool {
        !self.woken.is_empty()
    }

    /// Empties the touched set and returns it, for the index update at the end of a
    /// reconcile; what was woken stays for the next one.
    pub(crate) fn take_touched(&mut self) -> BTreeSet<Key> {
        std::mem::take(&mut self.touched)
    }

    /// Brings the indexes of `key` up to date: whether it is inert, and its deadline.
    pub(crate) fn update_index(&mut self, key: &Key, deadline: Option<u64>) {
        let Some(action) = self.map.get(key) else { return };
        if action.is_inert() {
            self.movable.remove(key);
        } else if !self.movable.contains(key) {
            self.movable.insert(key.clone());
        }
        let old = self.deadline_of.get(key).copied();
        if old != deadline {
            if let Some(t) = old {
                self.by_deadline.remove(&(t, key.clone()));
                self.deadline_of.remove(key);
            }
            if let Some(t) = deadline {
                self.by_deadline.insert((t, key.clone()));
                self.deadline_of.insert(key.clone(), t);
            }
        }
    }

    /// The earliest deadline of any action.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.by_deadline.first().map(|(t, _)| *t)
    }

    /// The deadline the index holds for `key` (the simulation checks it).
    #[cfg(test)]
    pub(crate) fn indexed_deadline(&self, key: &Key) -> Option<u64> {
        self.deadline_of.get(key).copied()
    }

    /// Whether the index holds `key` as movable (the simulation checks it).
    #[cfg(test)]
    pub(crate) fn is_indexed_movable(&self, key: &Key) -> bool {
        self.movable.contains(key)
    }

    /// Whether the index lists `key` as reading `path`.
    #[cfg(test)]
    pub(crate) fn is_listed_as_reading(&self, key: &Key, path: &Path) -> bool {
        self.reading.get(path).is_some_and(|k| k.contains(key))
    }

    /// Whether the index says `dependent` names `target`.
    #[cfg(test)]
    pub(crate) fn is_listed_as_naming(&self, dependent: &Key, target: &Key) -> bool {
        self.named_by.get(target).is_some_and(|d| d.contains(dependent))
    }
}

/// The sockets whose accepting `action` reads: its own (for readiness) and those its
/// dependencies name, resolved against `socket_dir`.
pub(crate) fn sockets_read(action: &Action, socket_dir: &Path) -> Vec<PathBuf> {
    let named = action.spec.depends_on.iter().filter_map(|d| d.socket.as_deref());
    action.socket.iter().cloned().chain(named.map(|s| crate::paths::resolve_socket(socket_dir, s))).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Key, Names};

    /// A lookup by borrowed names finds exactly what a lookup by key finds: the two orders agree.
    #[test]
    fn borrowed_names_find_what_keys_find() {
        let names = ["", "a", "ab", "a b", "b", "é", "a\u{0}", "zz"];
        let mut map = BTreeMap::new();
        for (i, s) in names.iter().enumerate() {
            for a in names.iter().skip(i % 3) {
                map.insert(((*s).to_owned(), (*a).to_owned()), ());
            }
        }
        for s in names {
            for a in names {
                let key: Key = (s.to_owned(), a.to_owned());
                let found = map.get_key_value(&(s, a) as &dyn Names).map(|(k, ())| k);
                assert_eq!(found, map.get_key_value(&key).map(|(k, ())| k), "{s:?}/{a:?}");
            }
        }
    }
}
