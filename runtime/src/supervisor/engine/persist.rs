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
