//! The launched supervisor's own log (its standard output and error, which the CLI
//! pointed at `supervisor.log`), rotated like a daemon's: at the configured size the
//! file becomes `supervisor.log.1` (older ones move up, the oldest is dropped) and a
//! fresh file takes over descriptors 1 and 2, so a supervisor that runs for months
//! keeps a bounded log.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;

/// Writes to standard error and rotates the file behind it.
pub(super) struct OwnLog {
    path: PathBuf,
    max_bytes: u64,
    files: u32,
    /// Bytes in the current file.
    size: Mutex<u64>,
}

impl OwnLog {
    /// `Some` when standard error is the file at `path` (a supervisor the CLI launched);
    /// otherwise the log belongs to whoever started the process, who rotates it.
    pub(super) fn new(path: PathBuf, max_bytes: u64, files: u32) -> Option<Self> {
        let file = std::fs::metadata(&path).ok()?;
        let stderr = rustix::fs::fstat(std::io::stderr()).ok()?;
        if file.dev() != stderr.st_dev || file.ino() != stderr.st_ino {
            return None;
        }
        Some(Self { path, max_bytes: max_bytes.max(1), files: files.max(1), size: Mutex::new(file.len()) })
    }

    /// Shifts `log.N-1` → `log.N` … `log` → `log.1`, opens a fresh `log` and makes it
    /// descriptors 1 and 2.
    fn rotate(&self) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let numbered = |i: u32| crate::paths::rotated(&self.path, i);
        for i in (1..self.files).rev() {
            let from = if i == 1 { self.path.clone() } else { numbered(i - 1) };
            match std::fs::rename(&from, numbered(i)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        if self.files == 1 {
            std::fs::remove_file(&self.path)?;
        }
        let fresh = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(crate::trust::NOFOLLOW)
            .open(&self.path)?;
        for fd in [1, 2] {
            // SAFETY: duplicating an open descriptor onto the standard ones.
            if unsafe { libc::dup2(fresh.as_raw_fd(), fd) } < 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

/// One write of a log line.
pub(super) struct LineWriter<'a>(&'a OwnLog);

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = std::io::stderr().write(buf)?;
        let mut size = self.0.size.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *size += written as u64;
        if *size >= self.0.max_bytes {
            match self.0.rotate() {
                Ok(()) => *size = 0,
                // Keep logging where it is rather than lose lines; try again at the next.
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "cannot rotate {}: {e}", self.0.path.display());
                }
            }
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for OwnLog {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(self)
    }
}
