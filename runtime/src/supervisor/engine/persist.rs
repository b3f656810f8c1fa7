//! Writing what changed to the store at the end of each reconcile.

use super::*;

impl Engine {
    /// Notes that an action's record must be rewritten; `durable` when what is wanted changed.
    pub(super) fn mark(&mut self, key: &Key, durable: bool) {
        *self.dirty_actions.entry(key.clone()).or_insert(false) |= durable;
    }

    /// Writes what changed: each changed registration, and each changed action record.
    pub(super) fn flush(&mut self) {
        for service in std::mem::take(&mut self.dirty_services) {
            let result = match self.services.get(&service) {
                Some(spec) => self.store.save_service(spec),
                None => self.store.remove_service(&service),
            };
            if let Err(e) = result {
                tracing::error!("cannot save service {service}: {e}");
            }
        }
        for (key, durable) in std::mem::take(&mut self.dirty_actions) {
            let result = match self.actions.get(&key) {
                None if self.services.contains_key(&key.0) => self.store.remove_action(&key),
                None => Ok(()),
                Some(a) => {
                    let wanted = if self.shutting_down { self.wanted_at_shutdown.contains(&key) } else { a.wanted };
                    let process = a.pid.zip(a.start_time).map(|(pid, start_time)| SavedProcess { pid, start_time });
                    self.store.save_action(&key, &ActionRecord { wanted, process }, durable && !self.shutting_down)
                }
            };
            if let Err(e) = result {
                tracing::error!("cannot save the record of {}: {e}", label(&key));
            }
        }
    }
}
