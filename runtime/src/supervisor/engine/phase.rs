//! Where an action is: one sum type whose variants carry exactly the data of that phase.
//!
//! ```text
//!            start (goal up, no hold)        gates hold           exec'd
//!   Idle ────────────────────────────▶ Waiting ──────────▶ Spawning ──────▶ Running
//!    ▲  ▲                                 │ stop / gate broken │ abandoned     │ ready: proc.ready
//!    │  └─────────────────────────────────┘                    ▼               │ stop, leader exit,
//!    │                       group gone (judged: Exited / Failed, hold)  Idle  │ readiness timeout
//!    └──────────────────────────────────────────── Stopping ◀──────────────────┘
//! ```
//!
//! The wire's [`RunState`] is derived from it ([`Phase::state`]); the goal (what requests
//! asked for) lives beside it on the action, as systemd keeps a unit's state apart from
//! its job. A process exists exactly in `Running` and `Stopping`, a spawn order is out
//! exactly in `Spawning`, a hold (back-off, completed, gave up) exists only in `Idle`.

use super::{ExitStatus, RunState, SavedProcess};

/// Why an action whose goal is up is not being started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hold {
    None,
    /// Restart due at this time (ms).
    Backoff(u64),
    /// A one-shot that completed: it is not run again until a start request says so.
    Done,
    /// Failed with no restart coming.
    GaveUp,
}

/// How the last run of an idle action ended, as the wire shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Never ran (a fresh registration).
    Never,
    /// Stopped, or exited without failing.
    Exited,
    Failed,
}

/// A live process group of an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Proc {
    pub saved: SavedProcess,
    /// The leader exited (with this status, when known) while the group lingers.
    pub leader_exited: Option<Option<ExitStatus>>,
    /// It was recorded ready: an exit with status 0 before that is a failed start.
    pub ready: bool,
    /// Its process sent `READY=1` (for a `notify` action).
    pub notified: bool,
    /// Its health check and watchdog.
    pub watch: Watch,
}

impl Proc {
    /// A process spawned (or first seen) at `now` (monotonic ms).
    pub(crate) fn new(saved: SavedProcess, now: u64) -> Self {
        Self { saved, leader_exited: None, ready: false, notified: false, watch: Watch::new(now) }
    }
}

/// What the health check and the watchdog know of one run. Both are armed when the run
/// becomes ready (systemd arms `WatchdogSec=` once start-up completed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Watch {
    /// When it was first seen (monotonic ms): its start period runs from here.
    pub started: u64,
    /// When the next probe goes out; with a probe out, when that one counts as failed.
    pub probe_at: Option<u64>,
    /// The number of the probe that is out: a report of any other is stale.
    pub probing: Option<u32>,
    /// Probes sent so far, to number the next.
    pub probes: u32,
    /// A probe passed: it is healthy (a `healthy` gate holds).
    pub passed: bool,
    /// Failed probes in a row that count.
    pub failures: u32,
    /// The watchdog fires at this time unless a `WATCHDOG=1` comes first.
    pub watchdog_at: Option<u64>,
    /// It sent `WATCHDOG=trigger`.
    pub triggered: bool,
}

impl Watch {
    pub(crate) const fn new(started: u64) -> Self {
        Self {
            started,
            probe_at: None,
            probing: None,
            probes: 0,
            passed: false,
            failures: 0,
            watchdog_at: None,
            triggered: false,
        }
    }
}

/// Why a stop is under way: how its end is judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StopWhy {
    /// A request (or a conflict, or a shutdown) asked for it: its end is "stopped".
    Asked,
    /// It failed (a readiness timeout): its end is this failure.
    Failing(String),
    /// Its leader exited and what is left of the group is cleaned up: its end is judged
    /// by the leader's exit status.
    Cleanup,
    /// It stopped working while it ran (unhealthy, a missed watchdog): its end is this
    /// failure, and the restart policy applies as to a crash.
    Unhealthy(String),
}

/// Where an action is; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Nothing of it runs or is being made.
    Idle { ended: Ended, hold: Hold },
    /// Its goal is up and it waits for its gates, since `since` (monotonic ms).
    Waiting { since: u64, on: Vec<String> },
    /// A spawn order is out; abandoned at `deadline`, so an exec on a hung file system or
    /// a stopped spawner cannot hold it (or a stop of it) forever.
    Spawning { deadline: u64 },
    /// Its process group runs; not yet ready until `deadline` (when it has one).
    Running { proc: Proc, deadline: Option<u64> },
    /// SIGTERM went to its group: SIGKILL at `kill_at`, its monitor at `kill_monitor_at`.
    /// `start_after`: a start came meanwhile, so it starts again once stopped.
    Stopping { proc: Proc, why: StopWhy, kill_at: Option<u64>, kill_monitor_at: Option<u64>, start_after: bool },
}

impl Phase {
    /// A fresh registration.
    pub(crate) const NEW: Self = Self::Idle { ended: Ended::Never, hold: Hold::None };

    /// The state the wire shows.
    pub(crate) fn state(&self) -> RunState {
        match self {
            Self::Idle { ended: Ended::Never, .. } => RunState::Created,
            Self::Idle { ended: Ended::Exited, .. } => RunState::Exited,
            Self::Idle { ended: Ended::Failed, .. } => RunState::Failed,
            Self::Waiting { .. } | Self::Spawning { .. } => RunState::Waiting,
            Self::Running { proc, .. } if proc.ready => RunState::Ready,
            Self::Running { .. } => RunState::Running,
            Self::Stopping { .. } => RunState::Stopping,
        }
    }

    /// Its process group, while it has one.
    pub(crate) fn proc(&self) -> Option<&Proc> {
        match self {
            Self::Running { proc, .. } | Self::Stopping { proc, .. } => Some(proc),
            _ => None,
        }
    }

    pub(crate) fn proc_mut(&mut self) -> Option<&mut Proc> {
        match self {
            Self::Running { proc, .. } | Self::Stopping { proc, .. } => Some(proc),
            _ => None,
        }
    }

    /// A process of it may exist, or is being made.
    pub(crate) fn is_alive(&self) -> bool {
        matches!(self, Self::Spawning { .. } | Self::Running { .. } | Self::Stopping { .. })
    }

    /// Why an up goal does not start it: only an idle action has a hold.
    pub(crate) fn hold(&self) -> Hold {
        match self {
            Self::Idle { hold, .. } => *hold,
            _ => Hold::None,
        }
    }

    /// Sets the hold of an idle action; any other phase has none to set.
    pub(crate) fn set_hold(&mut self, to: Hold) {
        if let Self::Idle { hold, .. } = self {
            *hold = to;
        }
    }

    /// The deadlines of this phase: a spawn's, readiness', a stop's escalations, a
    /// back-off's (the gates' are the action's, from its spec).
    pub(crate) fn deadlines(&self) -> impl Iterator<Item = u64> {
        let all = match self {
            Self::Idle { hold: Hold::Backoff(t), .. } => [Some(*t), None, None],
            Self::Spawning { deadline } => [Some(*deadline), None, None],
            Self::Running { deadline, proc } => [*deadline, proc.watch.probe_at, proc.watch.watchdog_at],
            Self::Stopping { kill_at, kill_monitor_at, .. } => [*kill_at, *kill_monitor_at, None],
            _ => [None, None, None],
        };
        all.into_iter().flatten()
    }
}
