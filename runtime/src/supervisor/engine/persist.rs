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

/// The first wait before unsaved state is written again; it doubles up to [`RETRY_MAX_MS`].
pub(crate) const RETRY_FIRST_MS: u64 = 1_000;
pub(crate) const RETRY_MAX_MS: u64 = 30_000;

/// An `apply` whose start waits until its definition is on disk: if it cannot be saved,
/// nothing is started.
#[derive(Debug)]
pub(crate) struct Deferred {
    pub id: ReqId,
    pub service: String,
    /// The persist batch that carries the definition.
    pub batch: u64,
    pub changed: bool,
    pub notes: Vec<String>,
    /// Being restarted because their definition changed: they come up with the restart.
    pub restarting: Vec<Key>,
    /// Actions a later request decided about meanwhile (a stop), with that request: they
    /// are not started.
    pub superseded: Vec<(Key, String)>,
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

    /// Sequence numbers up to `floor` may be handed out (the highest floor asked for wins).
    pub(crate) fn seq(&mut self, floor: u64) {
        self.seq = Some(self.seq.map_or(floor, |f| f.max(floor)));
    }

    /// Whether anything durable is waiting to be saved.
    pub(crate) fn any(&self) -> bool {
        !self.services.is_empty() || self.actions.values().any(|d| *d) || self.seq.is_some()
    }

    /// Whether nothing at all is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.services.is_empty() && self.actions.is_empty() && self.seq.is_none()
    }

    /// Whether the registration of `service` is waiting to be saved.
    pub(crate) fn has_service(&self, service: &str) -> bool {
        self.services.contains(service)
    }

    /// Takes the registration of `service` out, to be saved with something else.
    pub(crate) fn take_service(&mut self, service: &str) {
        self.services.remove(service);
    }

    /// Marks what `write` would have saved, again.
    fn again(&mut self, write: &Write) {
        match write {
            Write::SaveService(spec) => self.service(&spec.name),
            Write::RemoveService(name) => self.service(name),
            Write::SaveAction(key, _, durable) => self.action(key, *durable),
            Write::RemoveAction(key) => self.action(key, true),
            Write::SeqFloor(floor) => self.seq(*floor),
        }
    }

    /// Adds everything `other` waits for.
    fn merge(&mut self, other: Dirty) {
        self.services.extend(other.services);
        for (key, durable) in other.actions {
            self.action(&key, durable);
        }
        if let Some(floor) = other.seq {
            self.seq(floor);
        }
    }

    /// What is waiting, in words, for an error message.
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self.services.iter().map(|s| format!("the registration of {s}")).collect();
        let actions = self.actions.len();
        if actions > 0 {
            parts.push(format!("{actions} action record{}", if actions == 1 { "" } else { "s" }));
        }
        if self.seq.is_some() {
            parts.push("the journal's sequence floor".to_owned());
        }
        parts.join(", ")
    }
}

impl Core {
    /// A persist batch finished. What failed stays unsaved and is written again (on the
    /// next request, or after a back-off); `save_error` names it until it is on disk. An
    /// `apply` waiting for this batch starts its service now, or, if the batch failed,
    /// starts nothing and says why.
    pub(crate) fn saved(&mut self, error: Option<String>, failed: Vec<Write>) {
        self.persists_done += 1;
        let done = self.persists_done;
        self.unconfirmed.retain(|_, batch| *batch > done);
        for write in &failed {
            self.unsaved.again(write);
        }
        if let Some(e) = &error
            && !self.unsaved.is_empty()
        {
            self.save_error = Some(format!("{e}; not yet on disk: {}", self.unsaved.describe()));
            self.retry_at = Some(self.now.mono_ms + self.retry_delay);
            self.retry_delay = (self.retry_delay * 2).min(RETRY_MAX_MS);
        } else if error.is_none() && self.unsaved.is_empty() && self.persists_done >= self.persists_issued {
            self.save_error = None;
            self.retry_delay = RETRY_FIRST_MS;
        }
        let (ready, waiting): (Vec<Deferred>, Vec<Deferred>) =
            std::mem::take(&mut self.deferred).into_iter().partition(|d| d.batch <= done);
        self.deferred = waiting;
        for d in ready {
            if let Some(e) = &error {
                let message = format!(
                    "{} is defined but could not be saved, so nothing was started (it would not survive a restart): {e}",
                    d.service
                );
                self.reply(d.id, Err(RpcError::rejected(message)), false);
            } else {
                self.finish_apply(d);
            }
        }
    }

    /// Puts what failed to save back among what is to be saved (a request came, or the
    /// back-off passed).
    pub(crate) fn retry_unsaved(&mut self) {
        if self.unsaved.is_empty() {
            self.retry_at = None;
            return;
        }
        let unsaved = std::mem::take(&mut self.unsaved);
        self.dirty.merge(unsaved);
        self.retry_at = None;
    }

    /// Emits what changed as one persist effect.
    pub(crate) fn flush(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        // A record never reaches the disk ahead of its service's definition: while that is
        // still on its way (in a batch that may yet fail) or failed to save, it goes again
        // with the record, so a reply waiting for this batch learns if it failed, and a
        // restart never finds a process of a service it does not know.
        let behind: BTreeSet<String> = dirty
            .actions
            .keys()
            .map(|k| &k.0)
            .filter(|s| !dirty.services.contains(*s) && self.services.contains_key(*s))
            .filter(|s| self.unconfirmed.contains_key(*s) || self.unsaved.has_service(s))
            .cloned()
            .collect();
        for service in behind {
            self.unsaved.take_service(&service);
            dirty.service(&service);
        }
        let mut writes = Vec::new();
        if let Some(floor) = dirty.seq {
            writes.push(Write::SeqFloor(floor));
        }
        for service in dirty.services {
            self.unconfirmed.insert(service.clone(), self.persists_issued + 1);
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
                        process: a.proc().map(|p| p.saved).filter(|p| p.pid != 0),
                        done: a.hold() == Hold::Done,
                        ready: a.state() == RunState::Ready,
                    };
                    writes.push(Write::SaveAction(key, record, durable));
                }
            }
        }
        if !writes.is_empty() {
            self.persists_issued += 1;
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
