//! What changed and must be saved: collected while an input is handled, emitted as one
//! persist effect at the end, so a batch of changes costs one write per file.

use super::*;

/// One write to the store.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Write {
    SaveService(ServiceSpec),
    RemoveService(String),
    /// `durable`: fsync (what is wanted changed); otherwise a pid only has to outlive the supervisor.
    SaveAction(Key, ActionRecord, bool),
    RemoveAction(Key),
    /// Journal sequence numbers up to here may have been handed out.
    SeqFloor(u64),
}

#[derive(Default)]
pub(crate) struct Dirty {
    services: BTreeSet<String>,
    actions: BTreeMap<Key, bool>,
    seq: Option<u64>,
}

impl Dirty {
    pub(crate) fn service(&mut self, name: &str) {
        self.services.insert(name.to_owned());
    }

    pub(crate) fn action(&mut self, key: &Key, durable: bool) {
        *self.actions.entry(key.clone()).or_insert(false) |= durable;
    }

    pub(crate) fn seq(&mut self, floor: u64) {
        self.seq = Some(floor);
    }

    /// Whether anything durable is waiting to be saved.
    pub(crate) fn any(&self) -> bool {
        !self.services.is_empty() || self.actions.values().any(|d| *d) || self.seq.is_some()
    }
}

impl Core {
    /// Emits what changed as one persist effect.
    pub(crate) fn flush(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        let mut writes = Vec::new();
        if let Some(floor) = dirty.seq {
            writes.push(Write::SeqFloor(floor));
        }
        for service in dirty.services {
            writes.push(match self.services.get(&service) {
                Some(spec) => Write::SaveService(spec.clone()),
                None => Write::RemoveService(service),
            });
        }
        for (key, durable) in dirty.actions {
            match self.actions.get(&key) {
                None if self.services.contains_key(&key.0) => writes.push(Write::RemoveAction(key)),
                None => {}
                Some(a) => {
                    let wanted =
                        if self.shutting_down { self.wanted_at_shutdown.contains(&key) } else { a.goal == Goal::Up };
                    let record = ActionRecord {
                        wanted,
                        run: a.run,
                        process: a.proc.map(|p| p.saved).filter(|p| p.pid != 0),
                        done: a.hold == Hold::Done,
                        ready: a.state == RunState::Ready,
                    };
                    writes.push(Write::SaveAction(key, record, durable));
                }
            }
        }
        if !writes.is_empty() {
            self.effects.push(Effect::Persist(writes));
        }
    }
}

/// Group commit: the writes of every batch that queued up while the writer was busy,
/// reduced to what the last of them leaves on disk. Of several records of one action
/// only the last is written, durable if any of them had to be (a reply was promised
/// that); a removal is a barrier; of several sequence floors the last (the highest).
/// So a burst of events costs one write and at most one fsync per file.
pub(crate) fn coalesce(writes: Vec<Write>) -> Vec<Write> {
    use std::collections::HashMap;
    let mut kept: Vec<Write> = Vec::with_capacity(writes.len());
    let mut saved_action: HashMap<Key, usize> = HashMap::new();
    let mut saved_service: BTreeSet<String> = BTreeSet::new();
    let mut floor_kept = false;
    for write in writes.into_iter().rev() {
        match write {
            Write::SaveAction(key, record, durable) => match saved_action.get(&key) {
                Some(&later) => {
                    if durable && let Some(Write::SaveAction(_, _, d)) = kept.get_mut(later) {
                        *d = true;
                    }
                }
                None => {
                    saved_action.insert(key.clone(), kept.len());
                    kept.push(Write::SaveAction(key, record, durable));
                }
            },
            Write::RemoveAction(key) => {
                saved_action.remove(&key);
                kept.push(Write::RemoveAction(key));
            }
            Write::SaveService(spec) => {
                if saved_service.insert(spec.name.clone()) {
                    kept.push(Write::SaveService(spec));
                }
            }
            Write::RemoveService(name) => {
                saved_service.remove(&name);
                saved_action.retain(|k, _| k.0 != name);
                kept.push(Write::RemoveService(name));
            }
            Write::SeqFloor(floor) => {
                if !floor_kept {
                    floor_kept = true;
                    kept.push(Write::SeqFloor(floor));
                }
            }
        }
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(service: &str, action: &str) -> Key {
        (service.to_owned(), action.to_owned())
    }

    fn record(run: u64) -> ActionRecord {
        ActionRecord { wanted: true, run, ..ActionRecord::default() }
    }

    #[test]
    fn a_burst_of_records_of_one_action_is_one_write_durable_if_any_was() {
        let writes = vec![
            Write::SaveAction(key("s", "a"), record(1), true),
            Write::SaveAction(key("s", "b"), record(1), false),
            Write::SaveAction(key("s", "a"), record(2), false),
            Write::SeqFloor(100),
            Write::SeqFloor(200),
        ];
        assert_eq!(
            coalesce(writes),
            vec![
                Write::SaveAction(key("s", "b"), record(1), false),
                Write::SaveAction(key("s", "a"), record(2), true),
                Write::SeqFloor(200),
            ]
        );
    }

    #[test]
    fn a_removal_keeps_what_came_before_and_after_it() {
        let writes = vec![
            Write::SaveAction(key("s", "a"), record(1), true),
            Write::RemoveService("s".to_owned()),
            Write::SaveService(ServiceSpec::new("s", Vec::new())),
            Write::SaveAction(key("s", "a"), record(2), false),
            Write::RemoveAction(key("s", "a")),
            Write::SaveAction(key("s", "a"), record(3), false),
        ];
        assert_eq!(coalesce(writes.clone()), writes, "every write is on the other side of a removal");
    }
}
