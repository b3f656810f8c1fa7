//! Process titles: what `ps` shows for the spawner and the monitors. Both descend from the
//! supervisor and would show its command line (`mycli --service-manifest-supervisor …`);
//! their titles say what they are. A forked monitor also says which action it watches;
//! monitors that share the spawner's memory (x86-64) share its command line too, so there
//! the spawner's title speaks for all of them, and each monitor is its daemon's parent:
//!
//! ```text
//! hero_collab --service-manifest-supervisor /run/user/1000/service_manifest/supervisor.sock
//! service_manifest spawner and monitors
//! service_manifest monitor hero_collab/hero_collab_server    (a forked monitor)
//! ```
//!
//! The title is written over the memory the kernel shows as `/proc/<pid>/cmdline` (the
//! argument strings, as nginx and PostgreSQL do), so it is as long as the supervisor's
//! command line at most. The area is found once in the supervisor, before anything is
//! forked, so a fork writes its title without reading a file or allocating.

use std::sync::OnceLock;

/// `[arg_start, arg_end)` of this process, from `/proc/self/stat`.
static AREA: OnceLock<Option<(usize, usize)>> = OnceLock::new();

/// Finds the command-line area; call before forking anything that titles itself.
pub fn prepare() {
    AREA.get_or_init(|| {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name, which may hold spaces: field 3 is the state;
        // arg_start and arg_end are fields 48 and 49.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let start: usize = fields.get(48 - 3)?.parse().ok()?;
        let end: usize = fields.get(49 - 3)?.parse().ok()?;
        (start != 0 && end > start).then_some((start, end))
    });
}

/// Writes the words as the title, truncated to the area; without allocating, so a forked
/// child of a multi-threaded process may call it.
///
/// # Safety
///
/// Nothing in this process may read its arguments (`std::env::args`) afterwards expecting
/// the originals: they are overwritten.
pub unsafe fn set(words: &[&[u8]]) {
    let Some(Some((start, end))) = AREA.get().copied() else { return };
    let len = end - start;
    // SAFETY: [start, end) is this process's argument strings (the kernel's own record of
    // them), mapped and writable on the initial stack; nothing else aliases it as Rust data.
    let area = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, len) };
    let mut at = 0;
    for word in words {
        let n = word.len().min(len.saturating_sub(1 + at));
        area[at..at + n].copy_from_slice(&word[..n]);
        at += n;
    }
    area[at..].fill(0);
}
