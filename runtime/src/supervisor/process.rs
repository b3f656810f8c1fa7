//! Spawning, signalling and adopting action processes.
//!
//! Every action runs in its own process group, so a stop reaches the children it
//! spawned itself (hero_livekit_server's lk-backend) and the group outlives a
//! supervisor that is killed: a restarted supervisor adopts it instead of starting a
//! second copy.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::Stdio;

use rustix::process::{Pid, Signal};
use tokio::process::{Child, Command};

/// What the supervisor passes every action, besides the spec's own environment.
pub struct Launch<'a> {
    /// The program.
    pub program: &'a Path,
    /// Its arguments.
    pub args: &'a [String],
    /// Its extra environment.
    pub env: Vec<(String, String)>,
    /// Where stdout and stderr go (appended).
    pub log: &'a Path,
}

/// Spawns the action in a new process group with its output appended to its log
/// (whose directory the caller has created).
pub fn spawn(launch: &Launch<'_>) -> std::io::Result<Child> {
    let log = OpenOptions::new().create(true).append(true).open(launch.log)?;
    let mut command = Command::new(launch.program);
    command
        .args(launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .kill_on_drop(false);
    command.spawn()
}

/// Sends `signal` to the process group led by `pid`.
pub fn signal_group(pid: u32, signal: Signal) {
    if let Some(pid) = to_pid(pid) {
        let _ = rustix::process::kill_process_group(pid, signal);
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

/// Resolves when the (non-child) process `pid` exits, via a pidfd.
pub async fn wait_for_exit(pid: u32) {
    let Some(fd) = to_pid(pid).and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok())
    else {
        return;
    };
    // SAFETY: `fd` is an `OwnedFd`: it owns an open descriptor and keeps returning that same
    // descriptor until the `AsyncFd` drops it, which is all `register` asks.
    if let Ok(fd) = unsafe { tokio::io::unix::AsyncFd::register(fd) } {
        let _ = fd.readable().await;
    }
}

/// The last non-empty line of a log file, for failure reasons.
pub fn last_log_line(log: &Path) -> Option<String> {
    let tail = read_tail(log, 4096).ok()?;
    tail.lines().rev().map(str::trim).find(|l| !l.is_empty()).map(str::to_owned)
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
