//! `--logs`: an action's log read straight from the supervisor's state directory, so it
//! works with no supervisor running; `--follow` keeps printing as the file grows and
//! carries on across rotation.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::exit::Failure;

/// How much of the end of a log is shown.
const TAIL_BYTES: u64 = 64 * 1024;

/// Prints the end of the log at `path` (with a marker when earlier output is cut), then,
/// with `follow`, whatever is appended until the process is interrupted.
pub(super) fn show(path: &Path, follow: bool) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let mut file = match std::fs::File::open(path) {
        Ok(file) => Some(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("nothing logged yet: {} does not exist", path.display());
            None
        }
        Err(e) => return Err(Failure::from(format!("cannot read {}: {e}", path.display()))),
    };
    if let Some(file) = &mut file {
        print_tail(file, path, &mut out)?;
    }
    if !follow {
        return Ok(());
    }
    follow_file(path, file, &mut out)
}

fn print_tail(file: &mut std::fs::File, path: &Path, out: &mut impl Write) -> Result<(), Failure> {
    let err = |e: std::io::Error| Failure::from(format!("cannot read {}: {e}", path.display()));
    let len = file.metadata().map_err(err)?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start)).map_err(err)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(err)?;
    let mut text = &bytes[..];
    if start > 0 {
        // Start at a line boundary, and say what was left out and where to find it.
        let skip = text.iter().position(|b| *b == b'\n').map_or(text.len(), |i| i + 1);
        text = &text[skip..];
        let rotated = path.with_extension("log.1");
        let older = if rotated.exists() { format!(", older output in {}", rotated.display()) } else { String::new() };
        let _ = writeln!(
            out,
            "[… {} earlier bytes not shown; the whole log is {}{older}]",
            start + u64::try_from(skip).unwrap_or(0),
            path.display()
        );
    }
    let _ = out.write_all(text);
    let _ = out.flush();
    Ok(())
}

/// Prints what is appended to `path`. Woken by inotify on the log's directory (a slow
/// fallback poll covers a watch that cannot be set up); a file replaced by rotation, or
/// truncated, is reopened from its start.
fn follow_file(path: &Path, mut file: Option<std::fs::File>, out: &mut impl Write) -> Result<(), Failure> {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel();
    let dir = path.parent().unwrap_or(Path::new("."));
    let _ = std::fs::create_dir_all(dir);
    let mut watcher = notify::recommended_watcher(move |_| {
        let _ = tx.send(());
    })
    .ok();
    if let Some(w) = &mut watcher {
        let _ = w.watch(dir, notify::RecursiveMode::NonRecursive);
    }
    loop {
        if let Some(f) = &mut file
            && !drain(f, path, out)?
        {
            return Ok(()); // The reader went away (`| head`): nothing left to do.
        }
        let _ = rx.recv_timeout(Duration::from_secs(if watcher.is_some() { 5 } else { 1 }));
        while rx.try_recv().is_ok() {}
        let current = std::fs::metadata(path).ok();
        let replaced = match (&file, &current) {
            (None, Some(_)) => true,
            (Some(f), Some(now)) => f.metadata().is_ok_and(|m| m.ino() != now.ino() || f_pos(f) > now.len()),
            _ => false,
        };
        if replaced {
            if let Some(f) = &mut file {
                // What was written before the rotation comes first.
                if !drain(f, path, out)? {
                    return Ok(());
                }
                let _ = writeln!(out, "[log rotated: continuing in the new {}]", path.display());
            }
            file = std::fs::File::open(path).ok();
        }
    }
}

fn f_pos(mut f: &std::fs::File) -> u64 {
    f.stream_position().unwrap_or(0)
}

/// Copies what is left of `f` to `out`; `false` when `out` is closed.
fn drain(f: &mut std::fs::File, path: &Path, out: &mut impl Write) -> Result<bool, Failure> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| Failure::from(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            return Ok(true);
        }
        if out.write_all(&buf[..n]).and_then(|()| out.flush()).is_err() {
            return Ok(false);
        }
    }
}
