//! `--follow`: prints what is appended to each source's log as it comes, woken by inotify
//! on the logs' directories (a slow poll covers a watch that cannot be set up). A file
//! replaced by rotation, or truncated, is read to its end and then reopened from the
//! start; a restarted action appends to the same file, so it simply goes on.

use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::read::{self, Line};
use super::{Source, Style};
use crate::cli::exit::Failure;

/// One followed log: its open file, and a line begun but not finished yet.
struct Followed {
    file: Option<std::fs::File>,
    partial: Vec<u8>,
}

impl Followed {
    /// Goes on with the file its tail was read from, where that read ended; or, when there
    /// was none, with whatever file appears at `path`, from its start.
    fn open(path: &Path, tail: Option<std::fs::File>) -> Self {
        Self { file: tail.or_else(|| std::fs::File::open(path).ok()), partial: Vec::new() }
    }

    /// The whole lines appended since the last read.
    fn read(&mut self, source: usize) -> Vec<Line> {
        let Some(f) = &mut self.file else { return Vec::new() };
        let mut bytes = Vec::new();
        if f.read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        self.partial.extend_from_slice(&bytes);
        let Some(last) = self.partial.iter().rposition(|b| *b == b'\n') else { return Vec::new() };
        let whole: Vec<u8> = self.partial.drain(..=last).collect();
        read::lines(&String::from_utf8_lossy(&whole), source)
    }

    /// Whether the file at `path` is another one now (rotated) or shorter (truncated).
    fn replaced(&self, path: &Path) -> bool {
        let now = std::fs::metadata(path).ok();
        match (&self.file, &now) {
            (None, Some(_)) => true,
            (Some(f), Some(now)) => f.metadata().is_ok_and(|m| m.ino() != now.ino()) || position(f) > now.len(),
            _ => false,
        }
    }
}

fn position(mut f: &std::fs::File) -> u64 {
    f.stream_position().unwrap_or(0)
}

/// Follows every source until the reader goes away or the process is interrupted.
pub(super) fn run(
    sources: &[Source],
    tails: Vec<Option<std::fs::File>>,
    style: &Style,
    out: &mut impl Write,
) -> Result<(), Failure> {
    use notify::Watcher;
    let mut followed: Vec<Followed> =
        sources.iter().zip(tails).map(|(s, tail)| Followed::open(&s.path, tail)).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |_| {
        let _ = tx.send(());
    })
    .ok();
    let dirs: std::collections::BTreeSet<&Path> = sources.iter().filter_map(|s| s.path.parent()).collect();
    for dir in dirs {
        let _ = std::fs::create_dir_all(dir);
        if let Some(w) = &mut watcher {
            let _ = w.watch(dir, notify::RecursiveMode::NonRecursive);
        }
    }
    loop {
        let mut lines = Vec::new();
        for (i, (source, f)) in sources.iter().zip(&mut followed).enumerate() {
            lines.extend(f.read(i));
            if f.replaced(&source.path) {
                // What was written before the rotation comes first.
                lines.extend(f.read(i));
                if sources.len() == 1 {
                    lines.push(Line {
                        at: None,
                        source: i,
                        text: format!("[log rotated: continuing in the new {}]", source.path.display()),
                    });
                }
                // A line the old file ended in the middle of goes on in the new one.
                let partial = std::mem::take(&mut f.partial);
                *f = Followed::open(&source.path, None);
                f.partial = partial;
                lines.extend(f.read(i));
            }
        }
        // One source is printed as it came; several are put in time order.
        let lines = if sources.len() > 1 { read::merge(lines) } else { lines };
        for line in lines {
            if out.write_all(style.render(&line, sources).as_bytes()).and_then(|()| out.flush()).is_err() {
                return Ok(()); // The reader went away (`| head`): nothing left to do.
            }
        }
        let _ = rx.recv_timeout(Duration::from_secs(if watcher.is_some() { 5 } else { 1 }));
        while rx.try_recv().is_ok() {}
    }
}
