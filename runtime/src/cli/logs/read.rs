//! Reading logs: the tail of an action's log files (the live one and, when more is asked
//! for, the rotated ones before it), split into stamped lines, and merged across actions
//! in time order.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One line of one action's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Line {
    /// When its first byte came, in µs since the Unix epoch (an unstamped line takes the
    /// stamp of the line before it).
    pub at: Option<u64>,
    /// Which of the sources it came from.
    pub source: usize,
    pub text: String,
}

/// `log`, `log.1`, `log.2`, …: the live file first, then the older ones that exist.
pub(super) fn files(live: &Path) -> Vec<PathBuf> {
    let mut files = vec![live.to_path_buf()];
    for n in 1.. {
        let older = crate::paths::rotated(live, n);
        if !older.exists() {
            break;
        }
        files.push(older);
    }
    files
}

/// The last `budget` bytes of the log at `live` and the rotated files before it, from a
/// line boundary, oldest first; whether anything older was left out; and the live file,
/// positioned where the read ended, for `--follow` to go on from exactly there.
pub(super) fn tail(live: &Path, budget: u64) -> std::io::Result<(String, bool, Option<std::fs::File>)> {
    // Every file is opened before any is read: a rotation meanwhile renames them, but the
    // handles keep what they opened, so nothing is read twice or missed.
    let mut handles = Vec::new();
    for path in files(live) {
        match std::fs::File::open(&path) {
            Ok(file) => handles.push(Some(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => handles.push(None),
            Err(e) => return Err(e),
        }
    }
    let count = handles.len();
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut left = budget;
    let mut cut = false;
    let mut end = None;
    for (i, file) in handles.into_iter().enumerate() {
        let Some(mut file) = file else { continue };
        let len = file.metadata()?.len();
        let take = len.min(left);
        file.seek(SeekFrom::Start(len - take))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        left -= take;
        if take < len {
            // Start at a line boundary; what is before it is left out.
            let skip = bytes.iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| i + 1);
            bytes.drain(..skip);
        }
        parts.push(bytes);
        if i == 0 {
            end = Some(file);
        }
        if left == 0 {
            cut = take < len || i + 1 < count;
            break;
        }
    }
    parts.reverse();
    Ok((String::from_utf8_lossy(&parts.concat()).into_owned(), cut, end))
}

/// The lines of `text`, stamped (see [`crate::logline`]).
pub(super) fn lines(text: &str, source: usize) -> Vec<Line> {
    let mut last = None;
    text.lines()
        .map(|line| {
            let (at, rest) = crate::logline::split(line);
            last = at.or(last);
            Line { at: last, source, text: rest.to_owned() }
        })
        .collect()
}

/// Every source's lines in one stream, by time; lines of one source keep their order.
pub(super) fn merge(mut all: Vec<Line>) -> Vec<Line> {
    all.sort_by_key(|l| l.at.unwrap_or(0));
    all
}
