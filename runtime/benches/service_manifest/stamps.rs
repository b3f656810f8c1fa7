//! The instants `sm-testd --stamps FILE` records about itself, and the clocks to
//! compare them with.

use std::path::Path;
use std::time::{Duration, Instant};

/// One instant on the two clocks `sm-testd` stamps with, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct At {
    pub mono: u64,
    pub real: u64,
}

impl At {
    pub fn on(&self, clock: Clock) -> u64 {
        match clock {
            Clock::Mono => self.mono,
            Clock::Real => self.real,
        }
    }
}

/// Which clock an instant was read on: the benchmark's own instants are monotonic,
/// the supervisor's journal is wall-clock (microseconds since the Unix epoch).
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    Mono,
    Real,
}

/// What one daemon process recorded: when it began, and the instants it called
/// `listen()`, `rename()` (into place) and sent `READY=1`. Each is taken just before the
/// call, the earliest moment a client could see its effect, so a lateness measured
/// from it is an upper bound (the daemon may be preempted inside the call, often by
/// the very process its call wakes up).
#[derive(Clone, Debug, Default)]
pub struct Daemon {
    pub exec: At,
    pub listen: Option<At>,
    pub rename: Option<At>,
    pub notify: Option<At>,
}

impl Daemon {
    fn parse(line: &str) -> Option<Self> {
        let mut d = Self::default();
        let mut exec = None;
        for field in line.split_whitespace() {
            let Some((key, value)) = field.split_once('=') else { continue };
            let Some((mono, real)) = value.split_once(',') else { continue };
            let at = At { mono: mono.parse().ok()?, real: real.parse().ok()? };
            match key {
                "exec" => exec = Some(at),
                "listen" => d.listen = Some(at),
                "rename" => d.rename = Some(at),
                "notify" => d.notify = Some(at),
                _ => {}
            }
        }
        d.exec = exec?;
        Some(d)
    }
}

/// The stamps in `file`, waiting up to `patience` for the daemon to write them: it
/// writes them just after it became reachable, which may be just after the
/// benchmark's orchestrator saw it so. Then removes the file for the next run.
pub fn take(file: &Path, patience: Duration) -> Option<Daemon> {
    let until = Instant::now() + patience;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if let Some(daemon) = text.lines().last().filter(|_| text.ends_with('\n')).and_then(Daemon::parse) {
            let _ = std::fs::remove_file(file);
            return Some(daemon);
        }
        if Instant::now() >= until {
            return None;
        }
        // Bookkeeping after the measured run, not a readiness check.
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `CLOCK_MONOTONIC` now, in nanoseconds: the clock `sm-testd` stamps with.
pub fn mono_now() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable `timespec` for the call's duration.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds between two instants, as milliseconds (negative when `to` came first).
pub fn ms_between(from: u64, to: u64) -> f64 {
    (to as i128 - from as i128) as f64 / 1e6
}
