//! What a health check meets: a daemon that answers a request line (slowly, or not yet
//! while it warms up), and one that pings its watchdog and then hangs.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// How to answer a request line.
pub struct Answer {
    pub text: Option<String>,
    pub delay: Duration,
    /// Until this long after the start, answer `starting`.
    pub after: Duration,
    /// After this long, hang: stop accepting, and write the instant (µs since the Unix
    /// epoch) to `hang_stamp`.
    pub hang_after: Option<Duration>,
    pub hang_stamp: Option<String>,
    started: Instant,
}

impl Default for Answer {
    fn default() -> Self {
        let started = Instant::now();
        Self { text: None, delay: Duration::ZERO, after: Duration::ZERO, hang_after: None, hang_stamp: None, started }
    }
}

impl Answer {
    /// Hangs for good once its time has come, as a deadlocked daemon does: the socket stays
    /// bound and the kernel still completes connections into its backlog.
    pub fn maybe_hang(&self) {
        let Some(after) = self.hang_after else { return };
        if self.started.elapsed() < after {
            return;
        }
        if let Some(file) = &self.hang_stamp {
            let _ = std::fs::write(file, format!("{}\n", crate::now_us()));
        }
        loop {
            std::thread::park();
        }
    }

    /// Reads one line and answers it, one connection at a time, as a simple daemon does.
    pub fn reply(&self, stream: UnixStream) {
        let Ok(mut writer) = stream.try_clone() else { return };
        let mut line = String::new();
        if BufReader::new(stream).read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        std::thread::sleep(self.delay);
        let text = if self.started.elapsed() < self.after { "starting" } else { self.text.as_deref().unwrap_or("") };
        let _ = writer.write_all(format!("{text}\n").as_bytes());
    }
}

/// Pings or triggers the watchdog from a thread of its own.
#[derive(Default)]
pub struct Watchdog {
    pub pings: Option<u32>,
    pub trigger_after: Option<Duration>,
    pub env_file: Option<String>,
}

#[repr(C)]
struct Rlimit {
    cur: u64,
    max: u64,
}

unsafe extern "C" {
    fn setrlimit(resource: i32, limit: *const Rlimit) -> i32;
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    fn _exit(status: i32) -> !;
}

const RLIMIT_CORE: i32 = 4;
const SIGABRT: i32 = 6;

/// Where the SIGABRT handler says it ran (the env file's descriptor, opened before).
static ABORT_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Records that SIGABRT arrived, then ends as the signal would (status 134).
extern "C" fn on_abort(_: i32) {
    let fd = ABORT_FD.load(std::sync::atomic::Ordering::Relaxed);
    let text = b"got SIGABRT\n";
    // SAFETY: async-signal-safe calls on a static buffer.
    unsafe {
        write(fd, text.as_ptr(), text.len());
        _exit(134);
    }
}

impl Watchdog {
    pub fn start(self) {
        if let Some(file) = &self.env_file {
            // One file per process: a restarted instance must not overwrite the last one's.
            let file = &format!("{file}.{}", std::process::id());
            let var = |k: &str| std::env::var(k).unwrap_or_default();
            let text = format!(
                "pid={}\nWATCHDOG_USEC={}\nWATCHDOG_PID={}\n",
                std::process::id(),
                var("WATCHDOG_USEC"),
                var("WATCHDOG_PID")
            );
            let _ = std::fs::write(file, text);
            if let Ok(f) = std::fs::OpenOptions::new().append(true).open(file) {
                use std::os::fd::IntoRawFd;
                ABORT_FD.store(f.into_raw_fd(), std::sync::atomic::Ordering::Relaxed);
                // SAFETY: installs a handler that only makes async-signal-safe calls.
                unsafe { signal(SIGABRT, on_abort) };
            }
        }
        if self.pings.is_none() && self.trigger_after.is_none() {
            return;
        }
        // A watchdog's SIGABRT must not leave a core file behind in a test.
        let none = Rlimit { cur: 0, max: 0 };
        // SAFETY: a plain system call on a value that lives across it.
        unsafe { setrlimit(RLIMIT_CORE, &raw const none) };
        let usec: u64 = std::env::var("WATCHDOG_USEC").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
        std::thread::spawn(move || {
            if let Some(after) = self.trigger_after {
                std::thread::sleep(after);
                crate::sd_notify("WATCHDOG=trigger");
            }
            let pings = self.pings.unwrap_or(0);
            for n in 1..=pings {
                crate::sd_notify("WATCHDOG=1");
                println!("sm-testd: WATCHDOG=1 ({n} of {pings})");
                std::thread::sleep(Duration::from_micros(usec / 3));
            }
        });
    }
}
