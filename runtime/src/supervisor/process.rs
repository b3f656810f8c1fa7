//! Signalling and recognising action processes, and reading their logs.
//!
//! Every action runs in its own process group (see `monitor`), so a stop reaches the
//! children it spawned itself (hero_livekit_server's lk-backend), and the group outlives
//! a supervisor that is killed: a restarted supervisor adopts it instead of starting a
//! second copy.

use std::path::Path;

use rustix::process::{Pid, Signal};

/// Sends `signal` to the process group led by `pid`.
pub fn signal_group(pid: u32, signal: Signal) {
    if let Some(pid) = to_pid(pid) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

/// Sends `signal` to the process `pid` alone.
pub fn signal_process(pid: u32, signal: Signal) {
    if let Some(pid) = to_pid(pid) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

fn to_pid(pid: u32) -> Option<Pid> {
    Pid::from_raw(i32::try_from(pid).ok()?)
}

/// The kernel's start time of `pid` (field 22 of `/proc/<pid>/stat`), which tells a
/// process apart from a later one that reuses its pid.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// Whether `pid` is alive, not a zombie, and started at `started`.
pub fn is_same_process(pid: u32, started: u64) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let zombie = stat.rfind(')').and_then(|i| stat.get(i + 2..i + 3)) == Some("Z");
    !zombie && start_time(pid) == Some(started)
}

/// Whether `pid` is a live monitor process (named so by `monitor`).
pub fn is_monitor(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with(b"sm-monitor"))
        && start_time(pid).is_some_and(|t| is_same_process(pid, t))
}

/// Resolves when the (non-child) process `pid`, started at `started`, exits: via a
/// pidfd, or by looking every [`POLL_EVERY`] when no pidfd can be had (out of
/// descriptors, say). A failure to watch is never taken for an exit.
pub async fn wait_for_exit(pid: u32, started: u64) {
    let Some(p) = to_pid(pid) else { return };
    match rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) {
        Err(rustix::io::Errno::SRCH) => {}
        Ok(fd) => {
            // The pidfd pins the process it was opened for: check it is the one we mean.
            if !is_same_process(pid, started) {
                return;
            }
            // SAFETY: `fd` is an `OwnedFd`: it owns an open descriptor and keeps returning
            // that same descriptor until the `AsyncFd` drops it, which is all `register` asks.
            match unsafe { tokio::io::unix::AsyncFd::register(fd) } {
                Ok(fd) => {
                    let _ = fd.readable().await;
                }
                Err(e) => poll_until_gone(pid, started, &e.to_string()).await,
            }
        }
        Err(e) => poll_until_gone(pid, started, &e.to_string()).await,
    }
}

/// How often a process that cannot be watched with a pidfd is looked at.
pub const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

async fn poll_until_gone(pid: u32, started: u64, why: &str) {
    tracing::warn!("cannot watch pid {pid} with a pidfd ({why}); looking every {}ms instead", POLL_EVERY.as_millis());
    while is_same_process(pid, started) {
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Whether any process (a zombie too) is still in the process group `pgid`.
pub fn group_exists(pgid: u32) -> bool {
    let Some(p) = to_pid(pgid) else { return false };
    !matches!(rustix::process::test_kill_process_group(p), Err(rustix::io::Errno::SRCH))
}

/// SIGKILLs what is left of the group `pgid` and resolves once nothing of it is left:
/// what runs after a monitor died, so no second instance starts beside a survivor.
pub async fn kill_group_and_drain(pgid: u32) {
    let mut pause = std::time::Duration::from_millis(1);
    while group_exists(pgid) {
        signal_group(pgid, Signal::KILL);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_EVERY);
    }
}

/// The last non-empty line of a log file, for failure reasons.
pub fn last_log_line(log: &Path) -> Option<String> {
    let tail = read_tail(log, 4096).ok()?;
    tail.lines().rev().map(|l| crate::logline::split(l).1.trim()).find(|l| !l.is_empty()).map(str::to_owned)
}

/// The last `max` bytes of a log file.
pub fn read_tail(log: &Path, max: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(log)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(max)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The marker that starts a log tail which does not begin at the start of the log.
pub const CUT_MARKER: &str = "[… earlier output cut …]\n";

/// The last `max` bytes of a log, from a line boundary, with [`CUT_MARKER`] first when
/// anything was left out. A log not written yet is empty.
pub fn read_log_tail(log: &Path, max: u64) -> std::io::Result<String> {
    let len = match std::fs::metadata(log) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(e),
    };
    let text = read_tail(log, max)?;
    if len <= max {
        return Ok(text);
    }
    let from = text.find('\n').map_or(text.len(), |i| i + 1);
    Ok(format!("{CUT_MARKER}{}", &text[from..]))
}
