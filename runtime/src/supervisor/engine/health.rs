//! Health checks and the watchdog of a ready action: when a probe goes out, how its
//! result counts, and when a daemon that stopped working is stopped.
//!
//! Both are armed when a run becomes ready. Probes run off the engine thread (the actor
//! carries out [`Effect::Probe`] and reports [`Input::Probed`]); one is out at a time, the
//! next goes out `interval` after it ended. A failure counts unless the run has not passed
//! a probe yet and is within its start period; `retries` counted failures in a row make it
//! unhealthy. Unhealthy, a missed `WATCHDOG=1` and `WATCHDOG=trigger` are failures of the
//! running action ([`StopWhy::Unhealthy`]): its group is stopped and its restart policy
//! applies, with the usual back-off and start limit.

use std::path::PathBuf;

use rustix::process::Signal;
use service_manifest_core::model::{HealthCheck, Probe};

use super::*;

/// A probe that has not reported this long after its own timeout counts as failed.
const PROBE_SLACK_MS: u64 = 1_000;

/// Everything needed to run one probe.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ProbeOrder {
    pub key: Key,
    pub run: u64,
    /// Its number within the run: a late report of an earlier probe is ignored.
    pub probe: u32,
    pub check: HealthCheck,
    /// The action's own socket, for a socket probe.
    pub socket: Option<PathBuf>,
    /// The daemon's environment, for an `exec` probe (empty for a socket probe).
    pub env: Vec<(String, String)>,
}

impl Core {
    /// Arms the health check (its first probe goes out now) and the watchdog of a run
    /// that has just become ready.
    pub(super) fn arm_watch(&self, spec: &ActionSpec, watch: &mut Watch) {
        let now = self.now.mono_ms;
        if spec.health.is_some() {
            watch.probe_at = Some(now);
        }
        if let Some(ms) = spec.watchdog_ms {
            watch.watchdog_at = Some(now + ms);
        }
    }

    /// A ready, wanted action: its watchdog may have fired, a probe may be due or overdue.
    pub(super) fn check_watch(&mut self, key: &Key) -> bool {
        let now = self.now.mono_ms;
        let Some(a) = self.actions.get(key) else { return false };
        let Phase::Running { proc, .. } = &a.phase else { return false };
        let watch = proc.watch;
        if watch.triggered || watch.watchdog_at.is_some_and(|t| t <= now) {
            let within = a.spec.watchdog_ms.map(crate::text::duration_ms).unwrap_or_default();
            let why = if watch.triggered {
                "it asked for its watchdog to fire (WATCHDOG=trigger)".to_owned()
            } else {
                format!("it sent no WATCHDOG=1 within {within} (its watchdog)")
            };
            let reason = format!("{} stopped working: {why}", label(key));
            self.stop_unhealthy(key, Signal::ABORT, why, reason);
            return true;
        }
        if watch.probe_at.is_none_or(|t| t > now) {
            return false;
        }
        let Some(check) = a.spec.health.clone() else { return false };
        if let Some(out) = watch.probing {
            let waited = crate::text::duration_ms(check.timeout_ms + PROBE_SLACK_MS);
            self.probed(key, out, false, format!("the probe did not report within {waited}"));
            return true;
        }
        let probe = watch.probes.wrapping_add(1);
        let order = ProbeOrder {
            key: key.clone(),
            run: a.run,
            probe,
            socket: a.socket.clone(),
            // A command gets the daemon's environment, less what is for the daemon's own
            // process alone; a socket probe needs none.
            env: match check.probe {
                Probe::Exec { .. } => self
                    .env_for(key)
                    .into_iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "NOTIFY_SOCKET" | "WATCHDOG_USEC" | "WATCHDOG_PID"))
                    .collect(),
                Probe::Socket { .. } => Vec::new(),
            },
            check: check.clone(),
        };
        self.effects.push(Effect::Probe(order));
        self.update_watch(key, |w| {
            w.probes = probe;
            w.probing = Some(probe);
            w.probe_at = Some(now + check.timeout_ms + PROBE_SLACK_MS);
        });
        // Only a deadline changed, which the index learns at the end of reconcile.
        false
    }

    /// A probe of the current run ended. A stale report (a probe given up on) is ignored.
    pub(super) fn probed(&mut self, key: &Key, probe: u32, ok: bool, output: String) {
        let now = self.now.mono_ms;
        let Some(a) = self.actions.get(key) else { return };
        let (Phase::Running { proc, .. }, Some(check)) = (&a.phase, a.spec.health.clone()) else { return };
        if proc.watch.probing != Some(probe) {
            return;
        }
        let watch = proc.watch;
        let output = crate::text::cut_line(&output);
        let in_start = !watch.passed && now < watch.started + check.start_period_ms;
        let failures = match (ok, in_start) {
            (true, _) => 0,
            (false, true) => watch.failures,
            (false, false) => watch.failures + 1,
        };
        let unhealthy = failures >= check.retries.max(1);
        let next = if in_start && !ok { check.start_interval_ms } else { check.interval_ms };
        self.update_watch(key, |w| {
            w.probing = None;
            w.failures = failures;
            w.passed |= ok;
            w.probe_at = (!unhealthy).then_some(now + next);
        });
        let wall = self.now.wall_us / 1000;
        if let Some(h) = self.actions.get_mut(key).and_then(|a| a.health.as_mut()) {
            h.failures = failures;
            h.last_check_ms = Some(wall);
            h.last_output = Some(output.clone()).filter(|o| !o.is_empty());
        }
        if ok && !watch.passed {
            self.set_health(key, HealthState::Healthy, output.clone());
            let reason = self.actions.get(key).and_then(|a| a.reason.clone());
            self.transition(key, None, reason, EventKind::Health { health: HealthState::Healthy, output });
        } else if unhealthy {
            let times =
                if failures == 1 { "1 health check".to_owned() } else { format!("{failures} health checks in a row") };
            let reason = format!("{} is unhealthy: {times} failed (last: {output})", label(key));
            self.stop_unhealthy(key, Signal::TERM, output, reason);
        }
    }

    /// It stopped working: the journal says so with `output` (the probe's answer, or why the
    /// watchdog fired), and its group gets `signal`; its end is judged as a failure.
    fn stop_unhealthy(&mut self, key: &Key, signal: Signal, output: String, reason: String) {
        self.set_health(key, HealthState::Unhealthy, output.clone());
        self.transition(key, None, None, EventKind::Health { health: HealthState::Unhealthy, output });
        self.signal_stop(key, signal, StopWhy::Unhealthy(reason.clone()), reason);
    }

    fn set_health(&mut self, key: &Key, state: HealthState, output: String) {
        if let Some(h) = self.actions.get_mut(key).and_then(|a| a.health.as_mut()) {
            h.state = state;
            h.last_output = Some(output).filter(|o| !o.is_empty());
        }
    }

    /// Changes the watch of a running action: a deadline or a count, never what the wire shows.
    fn update_watch(&mut self, key: &Key, change: impl FnOnce(&mut Watch)) {
        if let Some(Phase::Running { proc, .. }) = self.actions.get_mut(key).map(|a| &mut a.phase) {
            change(&mut proc.watch);
        }
    }
}
