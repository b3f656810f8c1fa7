//! The spawner: a small process forked when the supervisor starts, while it is still
//! small and single-threaded, that starts every monitor (the "zygote" or fork-server
//! pattern).
//!
//! Forking the grown supervisor for each monitor copied its page tables every time and
//! left each monitor holding a copy-on-write share of the supervisor's memory: 100
//! spawns at once spent most of their time in `fork`. The spawner's address space stays
//! the size it had at start-up, so a fork of it is cheap and a monitor is small.
//!
//! On x86-64 a monitor is not even a fork: it is a process that shares the spawner's
//! memory (`clone` with `CLONE_VM`, its own pid, descriptors and signal dispositions), so
//! starting one copies no page table and its exit tears down no address space; a fork of
//! the spawner paid both, and more the more monitors shared its pages. The spawner keeps
//! what each monitor reads, and its stack, until the kernel says the monitor has exited
//! (see `Monitors::sweep`); what exited monitors used is freed at a later start, not at
//! their exit. If the spawner dies, the memory stays the monitors' (the kernel frees it
//! with the last of them). The cost is in the operator's view: all of them show one
//! command line, and unless the spawner may lower its `oom_score_adj` (a privileged one
//! may), the OOM killer treats them as one.
//!
//! Each request is one `SOCK_SEQPACKET` message: a JSON [`Job`], with the write end of the
//! monitor's report pipe passed alongside (`SCM_RIGHTS`). The monitor reports its own pid
//! and the exec's outcome on that pipe, as a directly forked one does. The spawner exits
//! when the supervisor's end of the socket closes. If it cannot be started, or dies,
//! monitors are forked directly.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage,
    SendFlags, SocketFlags, SocketType,
};
use serde::{Deserialize, Serialize};

use super::monitor::{self, ExecError, Plan, Started};

/// The largest request the spawner reads.
const MAX_JOB_BYTES: usize = 1 << 20;

/// Everything a monitor needs, as data that crosses to the spawner.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub log: PathBuf,
    pub log_max_bytes: u64,
    pub log_files: u32,
    pub status: PathBuf,
    pub separator: String,
    pub run: u64,
}

impl Job {
    fn plan(&self) -> io::Result<Plan> {
        Plan::new(
            &self.program,
            &self.args,
            &self.env,
            &self.cwd,
            &self.log,
            self.log_max_bytes,
            self.log_files,
            &self.status,
            self.separator.clone(),
            self.run,
        )
    }
}

/// The supervisor's handle on its spawner.
pub struct Spawner {
    /// `None` once it is gone or was given up on: monitors are then forked directly.
    socket: std::sync::Mutex<Option<OwnedFd>>,
    pid: i32,
}

impl Spawner {
    /// Forks the spawner. Call it first thing, while the process is small and has one
    /// thread; without a spawner, monitors are forked directly.
    pub fn start() -> Self {
        super::title::prepare();
        let pair = rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None);
        let Ok((ours, theirs)) = pair else {
            tracing::warn!("no spawner process (socketpair failed): monitors are forked directly");
            return Self { socket: std::sync::Mutex::new(None), pid: 0 };
        };
        // SAFETY: the child runs `serve`, which never returns; see there for what it may do.
        match unsafe { libc::fork() } {
            0 => {
                // The listener, the lock and everything else of the supervisor's go: the
                // spawner must not keep its API socket answering after it is gone.
                // SAFETY: closing descriptors in the forked child, keeping its own socket.
                unsafe { monitor::close_all_but(&mut [theirs.as_raw_fd()]) };
                std::mem::forget(ours);
                serve(theirs)
            }
            pid if pid < 0 => {
                tracing::warn!("no spawner process ({}): monitors are forked directly", io::Error::last_os_error());
                Self { socket: std::sync::Mutex::new(None), pid: 0 }
            }
            pid => Self { socket: std::sync::Mutex::new(Some(ours)), pid },
        }
    }

    /// Starts `job` under a new monitor; returns once the exec happened or failed, or at
    /// `deadline`. Blocks for that long: call it off the engine thread. A spawn abandoned
    /// at its deadline leaves nothing behind: its monitor is killed (and the daemon with
    /// it); a spawner that never forked the monitor (stopped, stuck) is killed and
    /// replaced by forking monitors directly.
    pub fn spawn(&self, job: &Job, deadline: std::time::Instant) -> Result<Started, ExecError> {
        let sent = {
            let socket = self.socket.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            socket.as_ref().map(|socket| send(socket, job))
        };
        match sent {
            Some(Ok(reports)) => match monitor::await_exec(reports, deadline) {
                Err(ExecError::TimedOut { monitor: None }) => {
                    tracing::warn!("the spawner process did not fork a monitor in time: replacing it");
                    self.give_up();
                    Err(ExecError::TimedOut { monitor: None })
                }
                Err(ExecError::NoMonitor) => {
                    // The spawner went away with the job (killed, or given up on while this
                    // job queued behind a stuck one): no monitor exists for it, so fork one
                    // directly rather than fail the start.
                    tracing::warn!("the spawner process dropped a job: forking the monitor directly");
                    self.give_up();
                    monitor::spawn(&job.plan()?, deadline)
                }
                Err(ExecError::TimedOut { monitor: Some(pid) }) => {
                    if let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
                        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                    }
                    Err(ExecError::TimedOut { monitor: Some(pid) })
                }
                other => other,
            },
            Some(Err(e)) => {
                tracing::warn!("the spawner process did not take a job ({e}): forking the monitor directly");
                monitor::spawn(&job.plan()?, deadline)
            }
            None => monitor::spawn(&job.plan()?, deadline),
        }
    }

    /// Kills the spawner and forks monitors directly from now on.
    fn give_up(&self) {
        let taken = self.socket.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if taken.is_some()
            && let Some(pid) = rustix::process::Pid::from_raw(self.pid)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Spawner {
    /// Closing its socket ends the spawner; wait for that, so nothing of the supervisor
    /// is left when it has exited.
    fn drop(&mut self) {
        let socket = self.socket.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if self.pid > 0 {
            // Closing the socket ends it (a given-up one was killed): reap it either way.
            drop(socket);
            monitor::reap(self.pid);
        }
    }
}

/// Sends a job with a fresh report pipe's write end; returns the read end.
fn send(socket: &OwnedFd, job: &Job) -> io::Result<OwnedFd> {
    let payload = serde_json::to_vec(job).map_err(io::Error::other)?;
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut ancillary = SendAncillaryBuffer::new(&mut space);
    let fds = [write.as_fd()];
    ancillary.push(SendAncillaryMessage::ScmRights(&fds));
    // Never wait on a spawner that stopped reading: fork directly instead.
    rustix::net::sendmsg(
        socket,
        &[io::IoSlice::new(&payload)],
        &mut ancillary,
        SendFlags::NOSIGNAL | SendFlags::DONTWAIT,
    )?;
    Ok(read)
}

/// The spawner's loop: one monitor per message, until the supervisor goes away.
fn serve(socket: OwnedFd) -> ! {
    // SAFETY: dispositions only. The spawner outlives nothing of the supervisor's: it
    // must not die of the terminal's Ctrl-C meant for the supervisor, which stops
    // everything first and then closes the socket.
    unsafe {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE, libc::SIGQUIT] {
            libc::signal(sig, libc::SIG_IGN);
        }
        // The kernel reaps the monitors: waiting for one of 2,000 children scans them all.
        libc::signal(libc::SIGCHLD, libc::SIG_IGN);
        // A fork has the supervisor's command line; its name tells it apart in `ps` and `pgrep`.
        libc::prctl(libc::PR_SET_NAME, c"sm-spawner".as_ptr(), 0, 0, 0);
    }
    let mut monitors = super::sys::SHARED_MONITORS.then(Monitors::new);
    // SAFETY: the title, before any monitor exists.
    unsafe {
        if monitors.is_some() {
            // The monitors share this process's command line, so the title is theirs too.
            super::title::set(&[b"service_manifest spawner and monitors"]);
        } else {
            super::title::set(&[b"service_manifest spawner"]);
        }
    }
    let mut buf = vec![0u8; MAX_JOB_BYTES];
    loop {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut ancillary = RecvAncillaryBuffer::new(&mut space);
        let mut iov = [io::IoSliceMut::new(&mut buf)];
        let received = rustix::net::recvmsg(&socket, &mut iov, &mut ancillary, RecvFlags::CMSG_CLOEXEC);
        let bytes = match received {
            Ok(msg) if msg.bytes == 0 => break,
            Ok(msg) => msg.bytes,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        };
        let mut report = None;
        for message in ancillary.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = message {
                report = fds.into_iter().next();
            }
        }
        let Some(report) = report else { continue };
        let plan = serde_json::from_slice::<Job>(&buf[..bytes]).map_err(io::Error::other).and_then(|j| j.plan());
        let started = plan.and_then(|plan| match &mut monitors {
            Some(monitors) => monitors.start(plan, report.as_raw_fd()),
            None => monitor::fork_monitor(&plan, report.as_raw_fd()).map(drop),
        });
        if let Err(e) = started {
            monitor::report_failure(&report, e.raw_os_error().unwrap_or(libc::EINVAL));
        }
    }
    // SAFETY: ending the forked child without running the supervisor's exit handlers.
    unsafe { libc::_exit(0) }
}

/// The monitors sharing the spawner's memory that may still run, with what each reads;
/// and stacks kept for the next ones.
struct Monitors {
    live: Vec<(monitor::Shared, monitor::Stack)>,
    /// `live` is swept for monitors that have exited when it grows to this many.
    sweep_at: usize,
    /// Freed stacks, their touched pages still mapped: a burst of starts after a burst of
    /// stops faults none in.
    spare: Vec<monitor::Stack>,
    /// The `oom_score_adj` the daemons get back, if the spawner's (and so the monitors')
    /// could be lowered.
    oom_score_adj: Option<i32>,
}

/// How many freed stacks are kept (128 KiB of address space each, a few pages touched).
const SPARE_STACKS: usize = 64;

impl Monitors {
    fn new() -> Self {
        Self { live: Vec::new(), sweep_at: SPARE_STACKS, spare: Vec::new(), oom_score_adj: monitor::protect_from_oom() }
    }

    /// Frees what the monitors that have exited read. The kernel says so in each one's
    /// memory (`CLONE_CHILD_CLEARTID`, as glibc learns that a thread's stack is free), so
    /// this costs no system call; sweeping only when `live` has doubled keeps it O(1) a
    /// start.
    fn sweep(&mut self) {
        let mut i = 0;
        while i < self.live.len() {
            if self.live[i].0.exited() {
                let (shared, stack) = self.live.swap_remove(i);
                // SAFETY: its monitor has exited: nothing reads it any more.
                unsafe { shared.free() };
                if self.spare.len() < SPARE_STACKS {
                    self.spare.push(stack);
                }
            } else {
                i += 1;
            }
        }
    }

    fn start(&mut self, plan: monitor::Plan, report_w: std::os::fd::RawFd) -> io::Result<()> {
        if self.live.len() >= self.sweep_at {
            self.sweep();
            self.sweep_at = (self.live.len() * 2).max(SPARE_STACKS);
        }
        let stack = match self.spare.pop() {
            Some(stack) => stack,
            None => monitor::Stack::new(monitor::MONITOR_STACK)?,
        };
        match monitor::start_shared(plan, report_w, &stack, self.oom_score_adj) {
            Ok((_, shared)) => {
                self.live.push((shared, stack));
                Ok(())
            }
            Err(e) => {
                self.spare.push(stack);
                Err(e)
            }
        }
    }
}
