//! The monitor: one small process per running action, in the spirit of s6-supervise and
//! podman's conmon, that outlives the supervisor.
//!
//! The spawner starts it (on x86-64 sharing the spawner's memory, see [`start_shared`];
//! elsewhere, or without a spawner, it is forked); it starts the daemon in a new process
//! group, sharing its memory until the exec (vfork semantics), and then only waits.
//! Because it is the daemon's parent and a child subreaper, it reaps the leader
//! and every descendant orphaned inside the group, so:
//!
//! - the leader's exit status is written to a status file (and fsynced) the moment it
//!   is known, whether or not a supervisor is running: a one-shot that finishes while the
//!   supervisor is down is not mistaken for a failure, nor run again;
//! - "the whole group is gone" is an event (the monitor exits once it has no children),
//!   not a guess: the supervisor counts an action as stopped only then;
//! - it carries the daemon's stdout and stderr into the log with size-based rotation
//!   (as s6-log does), so a log never grows without bound and no pipe breaks when the
//!   supervisor restarts.
//!
//! It reports to the supervisor over a pipe in fixed 9-byte records: `M pid` (its own) first, `P pid errno` once
//! the exec succeeded (errno 0) or failed, `L kind value` when the leader exited (kind 0:
//! exit code, 1: signal), and `G` when nothing of the group is left.
//!
//! After `fork` the child is a copy of a multi-threaded process, and a monitor sharing the
//! spawner's memory runs beside it, so it only makes system calls on memory prepared before
//! it started: no allocation, no locks, and no reading of `errno` (see `sys`).

use std::ffi::{CString, c_char, c_int};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::sys;

/// Everything the monitor and the daemon need, prepared before the fork.
pub struct Plan {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    cwd: CString,
    /// `log`, `log.1`, … `log.N`: the live file first.
    logs: Vec<CString>,
    log_max_bytes: u64,
    status: CString,
    separator: Vec<u8>,
    /// The engine's number for this spawn, written into the status file.
    run: i64,
    /// Where in `envp` the daemon's own pid goes (see [`WATCHDOG_PID`]).
    watchdog_pid: Option<usize>,
}

/// systemd's variable for the pid that must send `WATCHDOG=1`: the daemon's own, known
/// only once it is forked, so the monitor's child writes it. Whatever value the plan's
/// environment gives it is replaced.
pub const WATCHDOG_PID: &str = "WATCHDOG_PID";

/// What the spawned daemon is.
#[derive(Debug)]
pub struct Started {
    /// The daemon's pid, which is also its process group.
    pub pid: u32,
    /// The monitor's pid.
    pub monitor: u32,
    /// The read end of the monitor's report pipe.
    pub reports: OwnedFd,
    /// The monitor is this process's child (so this process reaps it), not the spawner's.
    pub direct: bool,
}

/// One report from a monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// The monitor's own pid, its first report.
    Monitor(u32),
    /// The exec happened (`errno` 0) or failed with `errno`.
    Exec { pid: u32, errno: i32 },
    /// The group leader exited; others of the group remain.
    Leader(ExitStatus),
    /// The group leader exited and nothing of the group is left.
    LeaderAndGroup(ExitStatus),
    /// No process of the group is left; the monitor exits.
    GroupGone,
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

/// What a monitor's status file says: its group runs, or how its leader ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFile {
    /// `running PID MONITOR RUN`: written once the exec succeeded.
    Running { pid: u32, monitor: u32, run: u64 },
    /// `exit N RUN` or `signal N RUN`: written (and fsynced) the moment the leader was reaped.
    Ended(ExitStatus, u64),
}

impl StatusFile {
    /// Reads a status file a monitor wrote.
    pub fn read(path: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut words = text.split_whitespace();
        let kind = words.next()?;
        let value = words.next()?;
        match kind {
            "exit" => Some(Self::Ended(ExitStatus::Code(value.parse().ok()?), words.next()?.parse().ok()?)),
            "signal" => Some(Self::Ended(ExitStatus::Signal(value.parse().ok()?), words.next()?.parse().ok()?)),
            "running" => Some(Self::Running {
                pid: value.parse().ok()?,
                monitor: words.next()?.parse().ok()?,
                run: words.next()?.parse().ok()?,
            }),
            _ => None,
        }
    }
}

impl ExitStatus {
    /// How the leader ended, if the status file says so.
    pub fn read(path: &Path) -> Option<Self> {
        match StatusFile::read(path)? {
            StatusFile::Ended(status, _) => Some(status),
            StatusFile::Running { .. } => None,
        }
    }
}

/// Decodes one 9-byte record.
pub fn decode(record: &[u8; 9]) -> Option<Report> {
    let a = i32::from_ne_bytes([record[1], record[2], record[3], record[4]]);
    let b = i32::from_ne_bytes([record[5], record[6], record[7], record[8]]);
    match record[0] {
        b'M' => Some(Report::Monitor(u32::try_from(a).ok()?)),
        b'P' => Some(Report::Exec { pid: u32::try_from(a).ok()?, errno: b }),
        b'L' | b'X' => {
            let status = if a == 0 { ExitStatus::Code(b) } else { ExitStatus::Signal(b) };
            Some(if record[0] == b'X' { Report::LeaderAndGroup(status) } else { Report::Leader(status) })
        }
        b'G' => Some(Report::GroupGone),
        _ => None,
    }
}

fn cstring(text: impl Into<Vec<u8>>, what: &str) -> io::Result<CString> {
    CString::new(text).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{what} contains a NUL byte")))
}

fn path_cstring(path: &Path, what: &str) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    cstring(path.as_os_str().as_bytes(), what)
}

impl Plan {
    /// NULL-terminated pointer arrays of the arguments and the environment.
    fn pointers(&self) -> (Vec<*const c_char>, Vec<*const c_char>) {
        let nul = std::iter::once(std::ptr::null());
        let argv = self.argv.iter().map(|a| a.as_ptr()).chain(nul.clone()).collect();
        let envp = self.envp.iter().map(|e| e.as_ptr()).chain(nul).collect();
        (argv, envp)
    }

    /// A plan to run `program` with `args` and exactly `env`, in `cwd`, logging to `log`
    /// (rotated at `log_max_bytes` into `log_files` files in all) and writing the exit
    /// status to `status`. `separator` is written to the log before the daemon starts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        cwd: &Path,
        log: &Path,
        log_max_bytes: u64,
        log_files: u32,
        status: &Path,
        separator: String,
        run: u64,
    ) -> io::Result<Self> {
        let program = path_cstring(program, "the program path")?;
        let mut argv = vec![program.clone()];
        for a in args {
            argv.push(cstring(a.as_str(), "an argument")?);
        }
        let envp: Vec<CString> = env
            .iter()
            .map(|(k, v)| cstring(format!("{k}={v}"), "an environment variable"))
            .collect::<Result<_, _>>()?;
        let watchdog_pid = env.iter().position(|(k, _)| k == WATCHDOG_PID);
        let mut logs = vec![path_cstring(log, "the log path")?];
        for n in 1..log_files.max(1) {
            logs.push(path_cstring(&crate::paths::rotated(log, n), "the log path")?);
        }
        Ok(Self {
            program,
            argv,
            envp,
            cwd: path_cstring(cwd, "the working directory")?,
            logs,
            log_max_bytes: log_max_bytes.max(4096),
            status: path_cstring(status, "the status path")?,
            separator: separator.into_bytes(),
            run: i64::try_from(run).unwrap_or(i64::MAX),
            watchdog_pid,
        })
    }
}

/// `service_manifest monitor <service>/<action>` as the monitor's title, the names read
/// from the daemon's environment; without allocating (it runs after a fork).
fn set_title(envp: &[*const c_char]) {
    let value = |prefix: &[u8]| {
        envp.iter().filter(|p| !p.is_null()).find_map(|&p| {
            // SAFETY: every entry is a NUL-terminated string made before the fork.
            let entry = unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes();
            entry.strip_prefix(prefix)
        })
    };
    let service = value(b"SERVICE_MANIFEST_SERVICE=").unwrap_or_default();
    let action = value(b"SERVICE_MANIFEST_ACTION=").unwrap_or_default();
    // SAFETY: the monitor never reads its arguments.
    unsafe { super::title::set(&[b"service_manifest monitor ", service, b"/", action]) };
}

/// `WATCHDOG_PID=<pid>` and a NUL into `buf`, without allocating (it runs after a fork).
fn write_pid_entry(buf: &mut [u8; 32], pid: i32) {
    let prefix = b"WATCHDOG_PID=";
    let mut digits = [0u8; 24];
    let digits = itoa(i64::from(pid), &mut digits);
    let end = prefix.len() + digits.len();
    buf[..prefix.len()].copy_from_slice(prefix);
    buf[prefix.len()..end].copy_from_slice(digits);
    buf[end] = 0;
}

fn last_error() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn pipe() -> io::Result<(c_int, c_int)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

fn close(fd: c_int) {
    // SAFETY: closing a descriptor this module opened and no one else owns.
    unsafe { libc::close(fd) };
}

/// Forks the monitor, which starts the daemon; returns once the exec happened
/// or failed. Blocks for that long: call it off the engine thread. The monitor is a child
/// of this process (see [`Started::direct`]).
pub fn spawn(plan: &Plan, deadline: std::time::Instant) -> Result<Started, ExecError> {
    let (report_r, report_w) = pipe()?;
    // SAFETY: `report_r` is an open descriptor this function owns from here on.
    let reports = unsafe { OwnedFd::from_raw_fd(report_r) };
    let forked = fork_monitor(plan, report_w);
    close(report_w);
    let monitor = forked?;
    let started = await_exec(reports, deadline).map_err(|e| match e {
        ExecError::NoMonitor => io::Error::other("the monitor process ended before starting the program").into(),
        other => other,
    });
    if let Err(ExecError::TimedOut { .. }) = started {
        // SAFETY: our own child; the daemon dies with it (its parent-death signal).
        unsafe { libc::kill(monitor, libc::SIGKILL) };
    }
    if started.is_err() {
        reap(monitor);
    }
    started.map(|s| Started { direct: true, ..s })
}

/// Why a spawn did not get its program exec'd.
#[derive(Debug)]
pub enum ExecError {
    /// It failed, with this error.
    Failed(io::Error),
    /// Nothing came by the deadline; `monitor` is the monitor's pid if it had said it.
    TimedOut { monitor: Option<u32> },
    /// The report pipe closed before any monitor said its pid: none was forked for this
    /// job (a monitor reports its pid before it starts the daemon), so nothing runs.
    NoMonitor,
}

impl From<io::Error> for ExecError {
    fn from(e: io::Error) -> Self {
        Self::Failed(e)
    }
}

/// Reads the monitor's first reports: its pid, then the exec's outcome, waiting until
/// `deadline` at most.
pub fn await_exec(reports: OwnedFd, deadline: std::time::Instant) -> Result<Started, ExecError> {
    let mut monitor = 0;
    let mut record = [0u8; 9];
    loop {
        if !readable_by(&reports, deadline) {
            return Err(ExecError::TimedOut { monitor: (monitor > 0).then_some(monitor) });
        }
        if read_full(&reports, &mut record).is_err() {
            if monitor == 0 {
                return Err(ExecError::NoMonitor);
            }
            return Err(io::Error::other("the monitor process ended before starting the program").into());
        }
        match decode(&record) {
            Some(Report::Monitor(pid)) => monitor = pid,
            Some(Report::Exec { pid, errno: 0 }) => return Ok(Started { pid, monitor, reports, direct: false }),
            Some(Report::Exec { errno, .. }) => return Err(io::Error::from_raw_os_error(errno).into()),
            _ => return Err(io::Error::other("the monitor process sent an unexpected report").into()),
        }
    }
}

/// Waits until `fd` has something to read (or its writer closed it), or `deadline`.
fn readable_by(fd: &OwnedFd, deadline: std::time::Instant) -> bool {
    use std::os::fd::AsRawFd;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ms = c_int::try_from(left.as_millis()).unwrap_or(c_int::MAX);
        let mut pfd = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd on the stack, for a descriptor this function borrows.
        let n = unsafe { libc::poll(&raw mut pfd, 1, ms) };
        match n {
            n if n > 0 => return true,
            0 => return false,
            _ if last_error() == libc::EINTR => continue,
            // Let the read report what is wrong.
            _ => return true,
        }
    }
}

/// Forks a monitor for `plan` that reports on `report_w`; returns its pid. The caller
/// keeps (and closes) its own copy of `report_w`.
pub fn fork_monitor(plan: &Plan, report_w: c_int) -> io::Result<i32> {
    let (argv, mut envp) = plan.pointers();
    let (fds, _owned) = daemon_fds(report_w)?;
    // The fork's copy of this mapping is the daemon's stack until its exec; the parent's goes.
    let stack = Stack::new(0)?;
    // SAFETY: the child only makes async-signal-safe system calls on memory prepared above
    // and exits with `_exit`; see `monitor_main`.
    let monitor = unsafe { libc::fork() };
    if monitor == 0 {
        // SAFETY: in the forked child; never returns.
        unsafe {
            monitor_main(
                plan,
                &argv,
                &mut envp,
                fds,
                Launch { daemon_stack: stack.daemon_top(), titled: true, oom_score_adj: None },
            )
        }
    }
    if monitor < 0 { Err(io::Error::last_os_error()) } else { Ok(monitor) }
}

/// The monitor's descriptors: `/dev/null` for the daemon's stdin, the pipe its output
/// comes through, and `report_w`; with this process's own copies of the first three,
/// closed when dropped (the monitor has its own).
fn daemon_fds(report_w: c_int) -> io::Result<(Fds, [OwnedFd; 3])> {
    use rustix::fs::{Mode, OFlags};
    let devnull = rustix::fs::open("/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())?;
    let (out_r, out_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let fds = Fds { devnull: devnull.as_raw_fd(), report_w, out_r: out_r.as_raw_fd(), out_w: out_w.as_raw_fd() };
    Ok((fds, [devnull, out_r, out_w]))
}

/// A monitor's stack and, below it, the one its daemon runs on until the exec; each with
/// a guard page under it, so an overflow faults instead of writing over other memory.
/// Pages are committed only as they are touched.
pub struct Stack {
    base: *mut libc::c_void,
    monitor: usize,
}

const PAGE: usize = 4096;
/// `madvise` advice that makes a page fault on access without a mapping of its own.
const MADV_GUARD_INSTALL: c_int = 102;
/// The daemon's side of the clone runs on this much until its exec.
const DAEMON_STACK: usize = 64 * 1024;
/// A monitor's own stack: its frames and its 16 KiB copy buffer.
pub const MONITOR_STACK: usize = 128 * 1024;

impl Stack {
    /// Maps a stack: the daemon's, and `monitor` bytes (a multiple of the page size) for the
    /// monitor's own on top when it is not forked with one.
    pub fn new(monitor: usize) -> io::Result<Self> {
        use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
        let len = Self::len(monitor);
        // SAFETY: a fresh anonymous mapping, owned by the returned value.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::NORESERVE | MapFlags::STACK,
            )?
        };
        let stack = Self { base, monitor };
        let guards: &[usize] = if monitor > 0 { &[0, PAGE + DAEMON_STACK] } else { &[0] };
        for &at in guards {
            // SAFETY: a page of the mapping just made.
            unsafe {
                let page = base.cast::<u8>().add(at).cast();
                // A guard marker in the page table (Linux 6.13): a protected page would split the
                // mapping in three, and with thousands of monitors sharing one address space
                // that made each exit 50 µs slower. Older kernels get the split.
                if libc::madvise(page, PAGE, MADV_GUARD_INSTALL) != 0 {
                    rustix::mm::mprotect(page, PAGE, MprotectFlags::empty())?;
                }
            }
        }
        Ok(stack)
    }

    fn len(monitor: usize) -> usize {
        PAGE + DAEMON_STACK + if monitor > 0 { PAGE + monitor } else { 0 }
    }

    fn daemon_top(&self) -> *mut u8 {
        // SAFETY: inside the mapping.
        unsafe { self.base.cast::<u8>().add(PAGE + DAEMON_STACK) }
    }

    fn monitor_top(&self) -> *mut u8 {
        // SAFETY: the end of the mapping.
        unsafe { self.base.cast::<u8>().add(Self::len(self.monitor)) }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping `new` made; nothing runs on it any more (its owner saw to that).
        let _ = unsafe { rustix::mm::munmap(self.base, Self::len(self.monitor)) };
    }
}

/// What a monitor that shares the spawner's memory reads: kept by the spawner, unmoved and
/// unfreed, until the monitor has exited (then [`Shared::free`]). The monitor holds a
/// pointer to it, so the spawner holds one too, never a `Box` that claims it alone.
pub struct Shared(std::ptr::NonNull<Memory>);

impl Shared {
    /// Whether the monitor has exited: the kernel zeroes `running` then
    /// (`CLONE_CHILD_CLEARTID`), after which it runs no code of ours.
    pub fn exited(&self) -> bool {
        // SAFETY: alive until `free`.
        unsafe { self.0.as_ref() }.running.load(std::sync::atomic::Ordering::Acquire) == 0
    }

    /// Frees what the monitor read.
    ///
    /// # Safety
    ///
    /// The monitor has exited.
    pub unsafe fn free(self) {
        // SAFETY: made by `Box::leak` in `start_shared`; its only other user is gone.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

struct Memory {
    /// Non-zero until the monitor has exited.
    running: std::sync::atomic::AtomicU32,
    plan: Plan,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    fds: Fds,
    launch: Launch,
}

/// Starts a monitor for `plan` that shares this process's memory (so no page table is
/// copied for it and none torn down when it exits), on `stack` (made with
/// [`MONITOR_STACK`]), reporting on `report_w`; its daemon's `oom_score_adj` is set to
/// `oom_score_adj` if given (see [`protect_from_oom`]). Returns its pid and what it reads:
/// both `stack` and that must outlive it (see [`Shared::exited`]). Only for a
/// single-threaded caller that never reads `errno` (the monitor shares it; see `sys`).
pub fn start_shared(
    plan: Plan,
    report_w: c_int,
    stack: &Stack,
    oom_score_adj: Option<i32>,
) -> io::Result<(i32, Shared)> {
    let (argv, envp) = plan.pointers();
    let (fds, _owned) = daemon_fds(report_w)?;
    let launch = Launch { daemon_stack: stack.daemon_top(), titled: false, oom_score_adj };
    let memory = Box::new(Memory { running: 1.into(), plan, argv, envp, fds, launch });
    let shared = Shared(std::ptr::NonNull::from(Box::leak(memory)));
    // SAFETY: the monitor runs on `stack` and reads `shared`, which the caller keeps until
    // it has exited; its descriptor table is its own copy (no CLONE_FILES), so the ones
    // dropped here stay open there.
    let pid = unsafe {
        let flags = libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD;
        let running = (&raw const (*shared.0.as_ptr()).running).cast::<u32>().cast_mut();
        sys::clone(flags, stack.monitor_top(), running, shared_main, shared.0.as_ptr().cast())
    };
    match pid {
        Ok(pid) => Ok((pid, shared)),
        Err(errno) => {
            // SAFETY: no monitor was started.
            unsafe { shared.free() };
            Err(io::Error::from_raw_os_error(errno))
        }
    }
}

extern "C" fn shared_main(arg: *mut libc::c_void) -> c_int {
    // SAFETY: `arg` is the spawner's `Memory`, kept until this process has exited.
    unsafe {
        let shared = &mut *arg.cast::<Memory>();
        monitor_main(&shared.plan, &shared.argv, &mut shared.envp, shared.fds, shared.launch)
    }
}

/// Tells the reader of `reports` that no monitor could be started, with `errno`.
pub fn report_failure(reports: &OwnedFd, errno: i32) {
    use std::os::fd::AsRawFd;
    // SAFETY: writing a stack buffer to an open descriptor.
    unsafe { report(reports.as_raw_fd(), b'P', 0, errno) };
}

fn read_full(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::from(fd.try_clone()?);
    file.read_exact(buf)
}

/// Reaps a child monitor that has exited or is about to (blocks until then).
pub fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    while unsafe { libc::waitpid(pid, &raw mut status, 0) } < 0 && last_error() == libc::EINTR {}
}

#[derive(Clone, Copy)]
struct Fds {
    devnull: c_int,
    report_w: c_int,
    out_r: c_int,
    out_w: c_int,
}

/// Writes one report record; a supervisor that is gone (EPIPE) is not an error.
unsafe fn report(fd: c_int, tag: u8, a: i32, b: i32) {
    let mut rec = [0u8; 9];
    rec[0] = tag;
    rec[1..5].copy_from_slice(&a.to_ne_bytes());
    rec[5..9].copy_from_slice(&b.to_ne_bytes());
    // SAFETY: writing a stack buffer.
    unsafe { libc::write(fd, rec.as_ptr().cast(), rec.len()) };
}

/// Formats `n` into `buf` without allocating; returns the digits.
fn itoa(mut n: i64, buf: &mut [u8; 24]) -> &[u8] {
    let neg = n < 0;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + u8::try_from((n % 10).unsigned_abs()).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

unsafe fn write_all(fd: c_int, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writing from a live slice.
        match unsafe { sys::write(fd, bytes) } {
            Ok(n) => bytes = &bytes[n.min(bytes.len())..],
            Err(libc::EINTR) => {}
            Err(_) => return,
        }
    }
}

unsafe fn open_log(path: &CString) -> (c_int, u64) {
    // SAFETY: a NUL-terminated path prepared before the fork; `st` is plain old data.
    unsafe {
        let fd = libc::open(
            path.as_ptr(),
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            0o640,
        );
        let mut st: libc::stat = std::mem::zeroed();
        let size =
            if fd >= 0 && libc::fstat(fd, &raw mut st) == 0 { u64::try_from(st.st_size).unwrap_or(0) } else { 0 };
        (fd, size)
    }
}

/// Shifts `log.N-1` → `log.N` … `log` → `log.1` and opens a fresh `log`.
unsafe fn rotate(plan: &Plan, log: &mut c_int, size: &mut u64) {
    // SAFETY: paths prepared before the fork.
    unsafe {
        close(*log);
        if plan.logs.len() > 1 {
            for i in (1..plan.logs.len()).rev() {
                libc::rename(plan.logs[i - 1].as_ptr(), plan.logs[i].as_ptr());
            }
        } else {
            libc::truncate(plan.logs[0].as_ptr(), 0);
        }
        (*log, *size) = open_log(&plan.logs[0]);
    }
}

/// A status file's line, built on the stack (nothing is allocated after a fork) and
/// written with one `write`, so a reader never sees half of it.
struct Line {
    buf: [u8; 96],
    len: usize,
}

impl Line {
    fn new(word: &[u8]) -> Self {
        let mut line = Self { buf: [0; 96], len: 0 };
        line.push(word);
        line
    }

    fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    /// ` N`: a space and the number.
    fn number(&mut self, n: i64) {
        let mut digits = [0u8; 24];
        self.push(b" ");
        self.push(itoa(n, &mut digits));
    }

    /// Replaces the status file with this line (and a newline); with `sync`, fsyncs it.
    unsafe fn replace(mut self, plan: &Plan, sync: bool) {
        self.push(b"\n");
        // SAFETY: a path prepared before the fork; a stack buffer.
        unsafe {
            let fd = libc::open(
                plan.status.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                0o600,
            );
            if fd >= 0 {
                write_all(fd, &self.buf[..self.len]);
                if sync {
                    libc::fsync(fd);
                }
                close(fd);
            }
        }
    }
}

/// `exit N RUN` or `signal N RUN`, fsynced: how the leader ended outlives a power loss.
unsafe fn write_status(plan: &Plan, status: c_int) {
    let (word, value): (&[u8], _) = if libc::WIFEXITED(status) {
        (b"exit", libc::WEXITSTATUS(status))
    } else {
        (b"signal", libc::WTERMSIG(status))
    };
    let mut line = Line::new(word);
    line.number(i64::from(value));
    line.number(plan.run);
    // SAFETY: see `Line::replace`.
    unsafe { line.replace(plan, true) };
}

/// `running PID MONITOR RUN`: a supervisor killed before it recorded this spawn finds the
/// group through this file and adopts it instead of starting a second one.
unsafe fn write_running(plan: &Plan, pid: c_int) {
    let mut line = Line::new(b"running");
    line.number(i64::from(pid));
    // SAFETY: getpid has no preconditions; see `Line::replace`.
    unsafe {
        line.number(i64::from(libc::getpid()));
        line.number(plan.run);
        line.replace(plan, false);
    }
}

/// What the daemon's side of the clone reads, and where it leaves an exec's error: on the
/// monitor's stack, which the monitor leaves alone until the child has exec'd or exited.
struct Child<'a> {
    plan: &'a Plan,
    argv: &'a [*const c_char],
    envp: *mut *const c_char,
    fds: &'a Fds,
    monitor: c_int,
    oom_score_adj: Option<i32>,
    errno: c_int,
}

/// Becomes the daemon: its own process group, the log as stdout and stderr, default
/// signals, then the exec. Shares the monitor's memory (see `monitor_main`), so it only
/// makes system calls and writes to its own stack and to `Child::errno`.
extern "C" fn daemon_main(arg: *mut libc::c_void) -> c_int {
    // SAFETY: `arg` is the monitor's `Child`, alive until this process execs or exits; the
    // calls below touch only memory prepared before the fork.
    unsafe {
        let child = &mut *arg.cast::<Child>();
        let (plan, fds) = (child.plan, child.fds);
        // The daemon never outlives its monitor: killed with it (an exec that hangs on a
        // file system and is abandoned, a monitor the OOM killer took) rather than left
        // running unwatched.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != child.monitor {
            std::ptr::write_volatile(&raw mut child.errno, libc::ESRCH);
            libc::_exit(1);
        }
        // Its own group, before it runs anything: no signal meant for the monitor's
        // reaches it, and the supervisor's group signals reach all it forks.
        libc::setpgid(0, 0);
        libc::dup2(fds.devnull, 0);
        libc::dup2(fds.out_w, 1);
        libc::dup2(fds.out_w, 2);
        for fd in [fds.devnull, fds.report_w, fds.out_r, fds.out_w] {
            if fd > 2 {
                close(fd);
            }
        }
        // The descriptor table is the child's own (no CLONE_FILES), the dispositions too
        // (no CLONE_SIGHAND): changing them leaves the monitor's as they are.
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &raw const none, std::ptr::null_mut());
        // Written on this stack, which lives until the exec; the monitor never reads `envp` again.
        let mut pid_entry = [0u8; 32];
        if let Some(at) = plan.watchdog_pid {
            write_pid_entry(&mut pid_entry, libc::getpid());
            *child.envp.add(at) = pid_entry.as_ptr().cast();
        }
        // The monitor's protection from the OOM killer is not the daemon's: it gets back the
        // value the spawner had, or does not run.
        let restored = child.oom_score_adj.map_or(Ok(()), |value| set_oom_score_adj(value));
        let errno = match restored.and_then(|()| sys::chdir(plan.cwd.as_ptr())) {
            Ok(()) => sys::execve(plan.program.as_ptr(), child.argv.as_ptr(), child.envp.cast_const()),
            Err(errno) => errno,
        };
        std::ptr::write_volatile(&raw mut child.errno, errno);
        libc::_exit(127)
    }
}

/// How a monitor was started, and what its daemon is given besides its plan.
#[derive(Clone, Copy)]
struct Launch {
    /// The top of the stack its daemon starts on.
    daemon_stack: *mut u8,
    /// It has a command line of its own to title (it was forked, not started sharing memory).
    titled: bool,
    /// The daemon's `oom_score_adj`, when the monitor's was lowered (see [`protect_from_oom`]).
    oom_score_adj: Option<i32>,
}

/// Lowers this process's `oom_score_adj` to the minimum, so the OOM killer neither picks
/// it nor, since it kills every process sharing its victim's memory, takes it along with a
/// monitor; monitors started sharing its memory inherit that. Returns the value it had,
/// which their daemons are given back, or `None` if it cannot be lowered (only a
/// privileged process may). Call it before starting any monitor: it reads `errno`.
pub fn protect_from_oom() -> Option<i32> {
    const PATH: &str = "/proc/self/oom_score_adj";
    let had: i32 = std::fs::read_to_string(PATH).ok()?.trim().parse().ok()?;
    (had > OOM_SCORE_ADJ_MIN && std::fs::write(PATH, OOM_SCORE_ADJ_MIN.to_string()).is_ok()).then_some(had)
}

const OOM_SCORE_ADJ_MIN: i32 = -1000;

/// Writes `value` to the calling process's `oom_score_adj`, without allocating.
unsafe fn set_oom_score_adj(value: i32) -> Result<(), i32> {
    let mut digits = [0u8; 24];
    let digits = itoa(i64::from(value), &mut digits);
    // SAFETY: a constant path and a stack buffer.
    unsafe {
        let fd = sys::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC)?;
        let written = sys::write(fd, digits);
        close(fd);
        written.map(drop)
    }
}

/// The monitor: starts the daemon as `launch` says, then watches it.
unsafe fn monitor_main(plan: &Plan, argv: &[*const c_char], envp: &mut [*const c_char], fds: Fds, launch: Launch) -> ! {
    // SAFETY: only system calls on memory prepared before the fork, ending in `_exit`.
    unsafe {
        libc::setsid();
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        // A fork has the supervisor's command line; its name tells it apart in `ps` and `pgrep`.
        libc::prctl(libc::PR_SET_NAME, c"sm-monitor".as_ptr(), 0, 0, 0);
        if launch.titled {
            set_title(envp);
        }
        // The supervisor's stop signals go to the daemon's group, never here; a terminal's or a
        // dying supervisor's must not end the monitor before it has recorded the exit.
        for sig in
            [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGPIPE, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2]
        {
            libc::signal(sig, libc::SIG_IGN);
        }
        let mut chld: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut chld);
        libc::sigaddset(&raw mut chld, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_BLOCK, &raw const chld, std::ptr::null_mut());
        // Nothing of the supervisor's (its API socket, its epoll, other actions' pipes) may
        // stay open here: the monitor outlives the supervisor.
        let mut keep = [fds.devnull, fds.report_w, fds.out_r, fds.out_w];
        close_all_but(&mut keep);
        // The spawner ignores SIGCHLD (the kernel reaps monitors); the monitor reaps its own.
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        report(fds.report_w, b'M', libc::getpid(), 0);
        // The daemon's process shares this one's memory until its exec (vfork semantics, as
        // `posix_spawn` does): no page table is copied and none torn down at the exec, and
        // this process sleeps until the exec has happened or failed, so the outcome is
        // known on return without a pipe.
        let mut child = Child {
            plan,
            argv,
            envp: envp.as_mut_ptr(),
            fds: &fds,
            monitor: libc::getpid(),
            oom_score_adj: launch.oom_score_adj,
            errno: 0,
        };
        // The separator's stamp is the moment before the daemon can run: a dependent is
        // started only once this daemon is ready, so in a merged log its separator comes
        // after this one even when this monitor is scheduled late to copy it.
        let mut started: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_REALTIME, &raw mut started);
        let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
        let pid =
            match sys::clone(flags, launch.daemon_stack, std::ptr::null_mut(), daemon_main, (&raw mut child).cast()) {
                Ok(pid) => pid,
                Err(errno) => {
                    report(fds.report_w, b'P', 0, errno);
                    libc::_exit(1);
                }
            };
        close(fds.out_w);
        let errno = std::ptr::read_volatile(&raw const child.errno);
        if errno != 0 {
            let mut status = 0;
            libc::waitpid(pid, &raw mut status, 0);
            report(fds.report_w, b'P', pid, errno);
            libc::_exit(0);
        }
        // Before anything else can go wrong: a supervisor killed from here on finds this run.
        write_running(plan, pid);
        report(fds.report_w, b'P', pid, 0);
        // The log is opened after the report (the supervisor waits for it): the separator
        // still comes first, since the daemon's output is copied only below.
        let (mut log, mut size) = open_log(&plan.logs[0]);
        let mut line_start = true;
        copy_stamped(plan, &mut log, &mut size, &plan.separator, &mut line_start, Some(started));
        let sfd = libc::signalfd(-1, &raw const chld, libc::SFD_CLOEXEC);
        let mut out = fds.out_r;
        let mut leader_done = false;
        let mut children_gone = false;
        let mut buf = [0u8; 16384];
        loop {
            if children_gone && out < 0 {
                report(fds.report_w, b'G', 0, 0);
                libc::_exit(0);
            }
            let mut polls = [
                libc::pollfd { fd: out, events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: if children_gone { -1 } else { sfd }, events: libc::POLLIN, revents: 0 },
            ];
            if libc::poll(polls.as_mut_ptr(), 2, -1) < 0 {
                continue;
            }
            if polls[0].revents != 0 {
                match sys::read(out, &mut buf) {
                    Ok(n) if n > 0 => copy_out(plan, &mut log, &mut size, &buf[..n], &mut line_start),
                    Err(libc::EINTR) => {}
                    _ => {
                        close(out);
                        out = -1;
                    }
                }
            }
            if polls[1].revents != 0 {
                let mut info = [0u8; 128];
                libc::read(sfd, info.as_mut_ptr().cast(), info.len());
                let mut leader_now = None;
                loop {
                    let mut status = 0;
                    let r = libc::waitpid(-1, &raw mut status, libc::WNOHANG);
                    if r == pid && !leader_done {
                        leader_done = true;
                        write_status(plan, status);
                        leader_now = Some(status);
                    } else if r > 0 {
                        continue;
                    } else {
                        // 0: children remain; -1 (ECHILD): none is left, orphans included.
                        children_gone = r < 0 && leader_done;
                        break;
                    }
                }
                if let Some(status) = leader_now {
                    let (kind, value) = if libc::WIFEXITED(status) {
                        (0, libc::WEXITSTATUS(status))
                    } else {
                        (1, libc::WTERMSIG(status))
                    };
                    if children_gone {
                        // One report for the common case: the log is complete, the group gone.
                        drain(plan, out, &mut log, &mut size, &mut buf, &mut line_start);
                        report(fds.report_w, b'X', kind, value);
                        libc::_exit(0);
                    }
                    report(fds.report_w, b'L', kind, value);
                }
            }
        }
    }
}

/// Copies what is left in the output pipe into the log: every writer has exited, so it ends.
unsafe fn drain(
    plan: &Plan,
    out: c_int,
    log: &mut c_int,
    size: &mut u64,
    buf: &mut [u8; 16384],
    line_start: &mut bool,
) {
    if out < 0 {
        return;
    }
    // SAFETY: reading into a stack buffer from our own pipe.
    unsafe {
        loop {
            match sys::read(out, buf) {
                Ok(0) => break,
                Ok(n) => copy_out(plan, log, size, &buf[..n], line_start),
                Err(libc::EINTR) => {}
                Err(_) => break,
            }
        }
    }
}

/// Appends `chunk` of the daemon's output to the log, each line after the time its first
/// byte arrived (see [`crate::logline`]), rotating first when it would not fit.
/// `line_start`: the next byte begins a line.
unsafe fn copy_out(plan: &Plan, log: &mut c_int, size: &mut u64, chunk: &[u8], line_start: &mut bool) {
    // SAFETY: as `copy_stamped`.
    unsafe { copy_stamped(plan, log, size, chunk, line_start, None) }
}

/// [`copy_out`], with the first line stamped `at` (if given) instead of now.
unsafe fn copy_stamped(
    plan: &Plan,
    log: &mut c_int,
    size: &mut u64,
    mut chunk: &[u8],
    line_start: &mut bool,
    mut at: Option<libc::timespec>,
) {
    let lines = chunk.iter().filter(|b| **b == b'\n').count() + 1;
    let grows = (chunk.len() + lines * crate::logline::STAMP_LEN) as u64;
    // SAFETY: paths and buffers prepared before the fork, or on this stack.
    unsafe {
        if *size > 0 && *size + grows > plan.log_max_bytes {
            rotate(plan, log, size);
        }
        let mut stamp = [0u8; crate::logline::STAMP_LEN];
        while !chunk.is_empty() {
            if *line_start {
                let now = match at.take() {
                    Some(at) => at,
                    None => {
                        let mut now: libc::timespec = std::mem::zeroed();
                        libc::clock_gettime(libc::CLOCK_REALTIME, &raw mut now);
                        now
                    }
                };
                crate::logline::write_stamp(&mut stamp, now.tv_sec, u32::try_from(now.tv_nsec / 1000).unwrap_or(0));
                write_all(*log, &stamp);
                *size += stamp.len() as u64;
            }
            let end = chunk.iter().position(|b| *b == b'\n').map_or(chunk.len(), |i| i + 1);
            write_all(*log, &chunk[..end]);
            *size += end as u64;
            *line_start = chunk[end - 1] == b'\n';
            chunk = &chunk[end..];
        }
    }
}

/// Closes every descriptor from 3 up except those in `keep` (which it sorts): after a
/// fork, nothing of the supervisor's (its API listener, its lock, other pipes) may stay
/// open in a process that outlives it.
pub(crate) unsafe fn close_all_but(keep: &mut [c_int]) {
    keep.sort_unstable();
    let mut next: libc::c_uint = 3;
    let mut ok = true;
    // SAFETY: closing descriptors inherited from the supervisor, which the monitor never uses.
    unsafe {
        for &fd in keep.iter() {
            let Ok(fd) = libc::c_uint::try_from(fd) else { continue };
            if fd > next {
                ok &= libc::syscall(libc::SYS_close_range, next, fd - 1, 0) == 0;
            }
            next = next.max(fd + 1);
        }
        ok &= libc::syscall(libc::SYS_close_range, next, libc::c_uint::MAX, 0) == 0;
        if !ok {
            // No close_range (an old kernel, a sandbox): one by one, up to the limit.
            let mut limit: libc::rlimit = std::mem::zeroed();
            let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) == 0 {
                c_int::try_from(limit.rlim_cur.min(65_536)).unwrap_or(65_536)
            } else {
                4096
            };
            for fd in 3..max {
                if !keep.contains(&fd) {
                    libc::close(fd);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_formats_without_allocating() {
        let mut buf = [0u8; 24];
        assert_eq!(itoa(0, &mut buf), b"0");
        assert_eq!(itoa(-15, &mut buf), b"-15");
        assert_eq!(itoa(i64::from(i32::MAX), &mut buf), b"2147483647");
    }

    #[test]
    fn status_lines_are_read_back_as_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = dir.path().join("status");
        let plan = Plan::new(
            Path::new("/bin/true"),
            &[],
            &[],
            Path::new("/"),
            &dir.path().join("log"),
            4096,
            1,
            &status,
            String::new(),
            77,
        )
        .expect("plan");
        let me = std::process::id();
        // SAFETY: plain file writes, in a test's own process.
        unsafe { write_running(&plan, 1234) };
        assert_eq!(StatusFile::read(&status), Some(StatusFile::Running { pid: 1234, monitor: me, run: 77 }));
        // Raw wait statuses: exit code 3, then death by signal 9.
        unsafe { write_status(&plan, 3 << 8) };
        assert_eq!(StatusFile::read(&status), Some(StatusFile::Ended(ExitStatus::Code(3), 77)));
        unsafe { write_status(&plan, 9) };
        assert_eq!(std::fs::read_to_string(&status).expect("status"), "signal 9 77\n");
    }

    #[test]
    fn a_daemon_s_oom_score_adj_is_written_without_allocating() {
        let read = || std::fs::read_to_string("/proc/self/oom_score_adj").expect("oom_score_adj").trim().to_owned();
        let now: i32 = read().parse().expect("a number");
        // Raising it is allowed to anyone (and harmless for a test process).
        let raised = (now + 1).min(1000);
        // SAFETY: a write to this process's own /proc file.
        assert_eq!(unsafe { set_oom_score_adj(raised) }, Ok(()));
        assert_eq!(read(), raised.to_string());
    }

    /// Each guard page of a stack faults when written (a forked child tries).
    #[test]
    fn a_stack_s_guard_pages_fault() {
        let stack = Stack::new(MONITOR_STACK).expect("stack");
        for at in [0, PAGE + DAEMON_STACK] {
            // SAFETY: the child writes one byte and exits; nothing else runs in it.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                unsafe {
                    std::ptr::write_volatile(stack.base.cast::<u8>().add(at), 1);
                    libc::_exit(0);
                }
            }
            let mut status = 0;
            // SAFETY: our own child.
            assert_eq!(unsafe { libc::waitpid(pid, &raw mut status, 0) }, pid);
            assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSEGV, "{at}: {status}");
        }
    }

    /// A monitor sharing this process's memory runs a daemon to its end on a fraction of
    /// its stack, and says when it has exited.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_shared_monitor_runs_its_daemon_on_a_fraction_of_its_stack() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (log, status) = (dir.path().join("log"), dir.path().join("status"));
        let args = ["-c".to_owned(), "echo one; echo two >&2; exit 3".to_owned()];
        let plan =
            Plan::new(Path::new("/bin/sh"), &args, &[], Path::new("/"), &log, 1 << 20, 1, &status, "---\n".into(), 5)
                .expect("plan");
        let stack = Stack::new(MONITOR_STACK).expect("stack");
        let bottom = stack.daemon_top().wrapping_add(PAGE);
        // SAFETY: the monitor's part of the mapping, before anything runs on it.
        unsafe { std::ptr::write_bytes(bottom, 0xA5, MONITOR_STACK) };
        let (report_r, report_w) = pipe().expect("pipe");
        let (pid, shared) = start_shared(plan, report_w, &stack, None).expect("started");
        close(report_w);
        // SAFETY: our descriptor.
        let reports = unsafe { OwnedFd::from_raw_fd(report_r) };
        let started = await_exec(reports, std::time::Instant::now() + std::time::Duration::from_secs(30));
        assert!(started.is_ok(), "{started:?}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !shared.exited() {
            assert!(std::time::Instant::now() < deadline, "the monitor did not exit");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let mut wait = 0;
        // SAFETY: our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &raw mut wait, 0) }, pid);
        assert_eq!(StatusFile::read(&status), Some(StatusFile::Ended(ExitStatus::Code(3), 5)));
        let text = std::fs::read_to_string(&log).expect("log");
        assert!(text.contains(" ---\n") && text.contains(" one\n") && text.contains(" two\n"), "{text}");
        // SAFETY: the monitor's part of the mapping; the monitor has exited.
        let region = unsafe { std::slice::from_raw_parts(bottom, MONITOR_STACK) };
        let used = MONITOR_STACK - region.iter().position(|b| *b != 0xA5).unwrap_or(MONITOR_STACK);
        assert!(used > 0 && used < MONITOR_STACK / 4, "the monitor used {used} bytes of its stack");
        // SAFETY: the monitor has exited.
        unsafe { shared.free() };
    }

    #[test]
    fn records_round_trip() {
        let mut rec = [0u8; 9];
        rec[0] = b'L';
        rec[1..5].copy_from_slice(&1i32.to_ne_bytes());
        rec[5..9].copy_from_slice(&15i32.to_ne_bytes());
        assert_eq!(decode(&rec), Some(Report::Leader(ExitStatus::Signal(15))));
        rec[0] = b'?';
        assert_eq!(decode(&rec), None);
    }
}
