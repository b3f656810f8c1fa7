//! The instants a benchmark needs from the daemon itself: when its process began
//! (read first thing in `main`, right after `exec`) and when it became reachable.
//!
//! Each instant is read on two clocks: `CLOCK_MONOTONIC`, to compare with other
//! daemons' stamps and the benchmark's own, and the wall clock, to compare with the
//! supervisor's journal (which records microseconds since the Unix epoch).

use std::ffi::{c_int, c_long};
use std::io::Write;

/// One instant on both clocks, in nanoseconds.
#[derive(Clone, Copy)]
pub struct Stamp {
    mono_ns: u64,
    real_ns: u64,
}

// Declared here rather than taken from the `libc` crate: the test daemon is plain std,
// so it builds with any feature set of the runtime crate. `timespec` is two `long`s on
// every Linux ABI whose `time_t` is a `long`.
#[repr(C)]
struct Timespec {
    tv_sec: c_long,
    tv_nsec: c_long,
}

unsafe extern "C" {
    fn clock_gettime(clock: c_int, tp: *mut Timespec) -> c_int;
}

const CLOCK_MONOTONIC: c_int = 1;

impl Stamp {
    /// Now, on both clocks (monotonic first: it is the one compared across processes).
    pub fn now() -> Self {
        let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable `timespec` for the call's duration.
        let ok = unsafe { clock_gettime(CLOCK_MONOTONIC, &raw mut ts) } == 0;
        let mono_ns = if ok { ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64 } else { 0 };
        let real_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Self { mono_ns, real_ns }
    }
}

/// The named instants of this process, written as one line to `--stamps FILE`.
#[derive(Default)]
pub struct Stamps {
    taken: Vec<(&'static str, Stamp)>,
}

impl Stamps {
    /// Records `what` happened now.
    pub fn mark(&mut self, what: &'static str) {
        self.record(what, Stamp::now());
    }

    /// Records `what` happened at `at`.
    pub fn record(&mut self, what: &'static str, at: Stamp) {
        self.taken.push((what, at));
    }

    /// Appends `pid=P name=MONO_NS,REAL_NS ...` to `file` in one write, so lines of
    /// several runs (or processes) sharing a file never interleave.
    pub fn append_to(&self, file: &str) {
        let mut line = format!("pid={}", std::process::id());
        for (what, at) in &self.taken {
            line.push_str(&format!(" {what}={},{}", at.mono_ns, at.real_ns));
        }
        line.push('\n');
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!("sm-testd: cannot write stamps to {file}: {e}");
        }
    }
}
