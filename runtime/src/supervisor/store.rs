//! What survives a supervisor restart, one small file per thing so a change costs the
//! same however many services are registered:
//!
//! - `services/<service>.json`: the registration, written on define (atomic replace
//!   with fsync: it must survive a power loss);
//! - `actions/<service>/<action>.json`: whether the action is wanted up and its live
//!   process. A fixed-size record rewritten in place with one `pwrite`: no temporary
//!   file, no new inode, and a killed supervisor cannot leave half a record. It is
//!   fsynced when `wanted` changes; a pid only has to outlive the supervisor, and a
//!   power loss ends the process too.

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spec::ServiceSpec;

/// A process group the supervisor started, recognisable after a restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedProcess {
    /// The group leader's pid (also the process group).
    pub pid: u32,
    /// Its kernel start time, to tell it from a later process with the same pid.
    pub start_time: u64,
    /// The monitor process that waits for the group and records its exit.
    pub monitor: u32,
    /// The monitor's kernel start time.
    pub monitor_start: u64,
}

/// An action's durable state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// Whether it is wanted up.
    pub wanted: bool,
    /// The generation of its last spawn.
    #[serde(default)]
    pub run: u64,
    /// Its live process group, if any.
    pub process: Option<SavedProcess>,
    /// A one-shot that completed: not to be run again.
    #[serde(default)]
    pub done: bool,
    /// It was ready (a `notify` daemon said so): an adopted one need not say it again.
    #[serde(default)]
    pub ready: bool,
}

/// The size every action record is padded to: room for five 20-digit numbers and the keys.
const RECORD_BYTES: usize = 256;

/// Everything read back at start-up.
#[derive(Debug, Default)]
pub struct Saved {
    /// The registered services.
    pub services: Vec<ServiceSpec>,
    /// Action records by `(service, action)`.
    pub actions: Vec<((String, String), ActionRecord)>,
    /// Every journal sequence number handed out so far is below this.
    pub seq_floor: u64,
}

/// The state directory's files.
pub struct Store {
    /// The state directory: the monitors' logs and exit records are there too, and go
    /// with their service.
    dir: PathBuf,
    services: PathBuf,
    actions: PathBuf,
    seq: PathBuf,
    /// Directories known to exist, so a write does not `mkdir` again.
    made: HashSet<PathBuf>,
    /// Directories with an entry created or removed that is not yet fsynced: the next
    /// durable write there syncs the directory too, so the entry survives a power loss.
    unsynced: HashSet<PathBuf>,
}

impl Store {
    /// The store in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            services: dir.join("services"),
            actions: dir.join("actions"),
            seq: dir.join("journal.seq"),
            made: HashSet::new(),
            unsynced: HashSet::new(),
        }
    }

    /// Reads everything back. A file that cannot be read is reported and skipped, so
    /// one damaged record does not keep the others from being restored.
    pub fn load(&self) -> Saved {
        let seq_floor = std::fs::read_to_string(&self.seq).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(1);
        let mut saved = Saved { seq_floor, ..Saved::default() };
        for path in json_files(&self.services) {
            match read_json::<ServiceSpec>(&path) {
                Ok(spec) => saved.services.push(spec),
                Err(e) => tracing::error!("skipping {}: {e}", path.display()),
            }
        }
        for service_dir in std::fs::read_dir(&self.actions).into_iter().flatten().flatten() {
            let service = service_dir.file_name().to_string_lossy().into_owned();
            for path in json_files(&service_dir.path()) {
                let action = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                match read_json::<ActionRecord>(&path) {
                    Ok(record) => saved.actions.push(((service.clone(), action), record)),
                    Err(e) => tracing::error!("skipping {}: {e}", path.display()),
                }
            }
        }
        saved
    }

    /// Saves a service's registration.
    pub fn save_service(&mut self, spec: &ServiceSpec) -> std::io::Result<()> {
        let dir = self.services.clone();
        self.make_dir(&dir)?;
        let path = dir.join(format!("{}.json", spec.name));
        let tmp = path.with_extension("json.tmp");
        let mut file = open_nofollow(std::fs::OpenOptions::new().write(true).create(true).truncate(true), &tmp)?;
        file.write_all(&serde_json::to_vec(spec).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename is durable only once the directory is.
        self.entry_changed(&dir)
    }

    /// Forgets a service: its registration, its action records, its logs and exit records.
    pub fn remove_service(&mut self, name: &str) -> std::io::Result<()> {
        let dir = self.actions.join(name);
        self.made.remove(&dir);
        self.unsynced.remove(&dir);
        for dir in [dir, self.dir.join("logs").join(name), self.dir.join("exits").join(name)] {
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match std::fs::remove_file(self.services.join(format!("{name}.json"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        for dir in [self.actions.clone(), self.services.clone()] {
            self.entry_changed(&dir)?;
        }
        Ok(())
    }

    /// Rewrites an action's record in place; `durable` also fsyncs it.
    pub fn save_action(&mut self, key: &(String, String), record: &ActionRecord, durable: bool) -> std::io::Result<()> {
        let dir = self.actions.join(&key.0);
        self.make_dir(&dir)?;
        let mut bytes = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        if bytes.len() >= RECORD_BYTES {
            return Err(std::io::Error::other("action record larger than its slot"));
        }
        bytes.resize(RECORD_BYTES - 1, b' ');
        bytes.push(b'\n');
        let path = dir.join(format!("{}.json", key.1));
        let file = match open_nofollow(std::fs::OpenOptions::new().write(true), &path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.unsynced.insert(dir.clone());
                open_nofollow(std::fs::OpenOptions::new().write(true).create(true).truncate(false), &path)?
            }
            other => other?,
        };
        file.write_all_at(&bytes, 0)?;
        if durable {
            file.sync_data()?;
            self.sync_dir(&dir)?;
        }
        Ok(())
    }

    /// Forgets one action's record, logs and exit record (its service was redefined
    /// without it).
    pub fn remove_action(&mut self, key: &(String, String)) -> std::io::Result<()> {
        let log = crate::paths::action_log(&self.dir, &key.0, &key.1);
        let status = crate::paths::action_status(&self.dir, &key.0, &key.1);
        let gone = |file: &Path| match std::fs::remove_file(file) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        };
        gone(&log)?;
        gone(&status)?;
        // The rotated files, `.1` up, until one is missing.
        for i in 1.. {
            if !gone(&PathBuf::from(format!("{}.{i}", log.display())))? {
                break;
            }
        }
        let dir = self.actions.join(&key.0);
        match std::fs::remove_file(dir.join(format!("{}.json", key.1))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            Err(_) => Ok(()),
            Ok(()) => self.entry_changed(&dir),
        }
    }

    /// Records that sequence numbers below `floor` may have been handed out.
    pub fn save_seq_floor(&mut self, floor: u64) -> std::io::Result<()> {
        let existed = std::fs::symlink_metadata(&self.seq).is_ok();
        let file = open_nofollow(std::fs::OpenOptions::new().create(true).truncate(false).write(true), &self.seq)?;
        file.write_all_at(format!("{floor:020}\n").as_bytes(), 0)?;
        file.sync_data()?;
        if !existed {
            self.entry_changed(&self.dir.clone())?;
        }
        Ok(())
    }

    /// Creates `dir` (0700) and what is missing above it, each new entry made durable.
    fn make_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        if !self.made.contains(dir) {
            use std::os::unix::fs::DirBuilderExt;
            if std::fs::symlink_metadata(dir).is_err() {
                std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
                if let Some(parent) = dir.parent() {
                    self.entry_changed(parent)?;
                }
            }
            self.made.insert(dir.to_path_buf());
        }
        Ok(())
    }

    /// An entry in `dir` was created, renamed or removed: fsync it now, so the change
    /// survives a power loss.
    fn entry_changed(&mut self, dir: &Path) -> std::io::Result<()> {
        self.unsynced.insert(dir.to_path_buf());
        self.sync_dir(dir)
    }

    /// Fsyncs `dir` if an entry in it changed since it was last synced.
    fn sync_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        if self.unsynced.remove(dir) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// Opens a file of the state directory, never through a symbolic link.
fn open_nofollow(options: &mut std::fs::OpenOptions, path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(crate::trust::NOFOLLOW).mode(0o600).open(path)
}

fn json_files(dir: &Path) -> impl Iterator<Item = PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("corrupt: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_records_are_rewritten_in_place_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::new(dir.path());
        let key = ("svc".to_owned(), "a".to_owned());
        let process = SavedProcess { pid: u32::MAX, start_time: u64::MAX, monitor: u32::MAX, monitor_start: u64::MAX };
        let live = ActionRecord { wanted: true, run: u64::MAX, process: Some(process), done: true, ready: true };
        store.save_action(&key, &live, true).unwrap();
        let path = dir.path().join("actions/svc/a.json");
        let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
        store
            .save_action(&key, &ActionRecord { wanted: true, run: 1, process: None, done: false, ready: false }, false)
            .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::ino(&meta), inode, "same file, no new inode");
        assert_eq!(meta.len(), RECORD_BYTES as u64);
        let saved = store.load();
        assert_eq!(
            saved.actions,
            [(key, ActionRecord { wanted: true, run: 1, process: None, done: false, ready: false })]
        );
    }
}
