//! What survives a supervisor restart: registrations, which actions are wanted up,
//! and the processes that were running. Every write is atomic (write, fsync, rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spec::ServiceSpec;

/// The persisted state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Saved {
    /// Every registered service.
    pub services: Vec<ServiceSpec>,
    /// `service/action` of every action wanted up.
    pub wanted: Vec<String>,
    /// Live processes by `service/action`.
    pub processes: BTreeMap<String, SavedProcess>,
}

/// A process the supervisor started, recognisable after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedProcess {
    /// Its pid (also its process group).
    pub pid: u32,
    /// Its kernel start time, to tell it from a later process with the same pid.
    pub start_time: u64,
}

/// The state file in `dir`.
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// The store in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join("state.json") }
    }

    /// Reads the saved state; a missing file is an empty state, a corrupt one is an error.
    pub fn load(&self) -> Result<Saved, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{} is corrupt: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Saved::default()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// Replaces the saved state atomically.
    pub fn save(&self, saved: &Saved) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(saved).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }
}
