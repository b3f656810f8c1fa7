//! The engine loop's wake-up: a `timerfd`, because tokio's timer rounds every deadline
//! up to the next whole millisecond, and the fast readiness probes (see
//! [`super::readiness`]) are due every half millisecond.

use std::io;

use rustix::fd::OwnedFd;
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

/// Sleeps until a deadline with the kernel's precision rather than tokio's millisecond.
pub struct Timer {
    /// `None` where no timerfd can be had; tokio's timer then stands in.
    fd: Option<AsyncFd<OwnedFd>>,
}

impl Timer {
    /// A timer backed by a `CLOCK_MONOTONIC` timerfd, the clock `Instant` reads.
    pub fn new() -> Self {
        let fd =
            rustix::time::timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC)
                .map_err(io::Error::from)
                .and_then(|fd| {
                    // SAFETY: the OwnedFd moves into the AsyncFd, which owns it until dropped, so
                    // the descriptor stays open and the same for the AsyncFd's whole life.
                    unsafe { AsyncFd::register(fd) }.map_err(io::Error::from)
                });
        if let Err(e) = &fd {
            tracing::warn!("no timerfd ({e}); deadlines are rounded to the millisecond");
        }
        Self { fd: fd.ok() }
    }

    /// Returns at `deadline`; never for `None`. Cancel-safe: dropping the future and
    /// calling again re-arms the timer for the new deadline.
    pub async fn sleep_until(&self, deadline: Option<Instant>) {
        let Some(deadline) = deadline else { return std::future::pending().await };
        let Some(fd) = &self.fd else { return tokio::time::sleep_until(deadline).await };
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return;
        }
        let spec = Itimerspec {
            it_interval: Timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: Timespec {
                tv_sec: i64::try_from(wait.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(wait.subsec_nanos()),
            },
        };
        // Arming resets the count of expirations, so one left over from an earlier,
        // cancelled sleep cannot end this one early.
        if rustix::time::timerfd_settime(fd.get_ref(), TimerfdTimerFlags::empty(), &spec).is_err() {
            return tokio::time::sleep_until(deadline).await;
        }
        loop {
            let Ok(mut ready) = fd.readable().await else { return tokio::time::sleep_until(deadline).await };
            let mut expirations = [0u8; 8];
            match rustix::io::read(fd.get_ref(), &mut expirations) {
                Ok(_) => return,
                Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
                Err(_) => return tokio::time::sleep_until(deadline).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "current_thread")]
    async fn a_sleep_ends_at_its_deadline_and_a_cancelled_one_does_not_end_the_next() {
        let timer = Timer::new();
        assert!(timer.fd.is_some(), "Linux has timerfd");
        let start = Instant::now();
        timer.sleep_until(Some(start + Duration::from_micros(300))).await;
        assert!(Instant::now() >= start + Duration::from_micros(300), "not before its deadline");

        // A short sleep abandoned before it ends must not wake the next, longer one.
        let short = Instant::now() + Duration::from_micros(100);
        tokio::select! {
            () = timer.sleep_until(Some(short)) => {}
            () = std::future::ready(()) => {}
        }
        let fd = timer.fd.as_ref().expect("timerfd").get_ref();
        while rustix::time::timerfd_gettime(fd).expect("gettime").it_value.tv_nsec != 0 {
            std::hint::spin_loop(); // until the abandoned timer has expired
        }
        let later = Instant::now() + Duration::from_millis(20);
        timer.sleep_until(Some(later)).await;
        assert!(Instant::now() >= later, "a stale expiration ended the sleep early");
    }
}
