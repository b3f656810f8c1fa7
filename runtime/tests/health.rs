//! Health checks and the watchdog with real daemons and real sockets: a daemon that stops
//! answering is declared unhealthy after `retries` failed probes and restarted, one that
//! answers slowly within the timeout is not, a watchdog that stops being pinged (or is
//! triggered) stops the daemon with SIGABRT, and a dependent gated on `healthy` starts
//! only after the first passed probe.

mod common;

use std::time::Duration;

use common::*;
use service_manifest_runtime::api::{Event, EventKind, HealthState, RunState};
use service_manifest_runtime::{ActionDep, ActionSpec, HealthCheck, Probe, ReadyGate, RestartPolicy};

const LIMIT: Duration = Duration::from_secs(30);

/// A served daemon that answers `ping` with `pong`, probed every 100 ms.
fn answering(h: &Harness, service: &str, name: &str, extra: &[&str], check: HealthCheck) -> ActionSpec {
    h.served(service, name, 0).args(["--answer", "pong"]).args(extra.iter().copied()).health(check)
}

fn ping_pong(interval_ms: u64, timeout_ms: u64, retries: u32) -> HealthCheck {
    HealthCheck {
        interval_ms,
        timeout_ms,
        retries,
        ..HealthCheck::new(Probe::Socket { send: Some("ping".into()), expect: Some("pong".into()) })
    }
}

fn pid_of(events: &[Event], action: &str, nth: usize) -> Option<u32> {
    events
        .iter()
        .filter(|e| e.action == action)
        .filter_map(|e| if let EventKind::Spawned { pid } = e.kind { Some(pid) } else { None })
        .nth(nth)
}

fn reason_of(events: &[Event], action: &str, kind: &str) -> String {
    events
        .iter()
        .filter(|e| e.action == action && kind_name(&e.kind) == kind)
        .find_map(|e| match &e.kind {
            EventKind::Stopping { reason } | EventKind::Failed { reason } => Some(reason.clone()),
            EventKind::Health { output, .. } => Some(output.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn signal(pid: u32, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_daemon_that_stops_answering_is_unhealthy_after_its_retries_and_restarted() {
    let h = Harness::new();
    let mut client = h.client().await;
    let spec = answering(&h, "svc_h", "d", &[], ping_pong(100, 200, 3)).restart(RestartPolicy::OnFailure);
    let client_of_d = h.daemon("c", 0).depends_on(requires("svc_h", "d", &h.sock("svc_h", "d")));
    client.apply(&service("svc_h", vec![spec, client_of_d]), true).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_h/d", "healthy") && has(e, "svc_h/c", "ready")).await;
    let c = pid_of(&events, "svc_h/c", 0).unwrap();
    let first = pid_of(&events, "svc_h/d", 0).unwrap();
    // Hung: the kernel still completes connections into its backlog, nobody answers.
    signal(first, rustix::process::Signal::STOP);
    let seen = events.last().unwrap().seq;
    let events = events_until(&mut client, LIMIT, |e| {
        e.iter().filter(|x| x.seq > seen && x.action == "svc_h/d" && kind_name(&x.kind) == "healthy").count() == 1
    })
    .await;
    let after: Vec<Event> = events.into_iter().filter(|e| e.seq > seen).collect();
    let order = ["unhealthy", "stopping", "failed", "restarting", "spawned", "ready", "healthy"];
    for pair in order.windows(2) {
        assert!(before(&after, ("svc_h/d", pair[0]), ("svc_h/d", pair[1])), "{pair:?} out of order: {after:#?}");
    }
    assert!(reason_of(&after, "svc_h/d", "unhealthy").contains("no reply within 200ms"), "{after:#?}");
    assert!(reason_of(&after, "svc_h/d", "failed").contains("3 health checks in a row failed"), "{after:#?}");
    let second = pid_of(&after, "svc_h/d", 0).unwrap();
    assert_ne!(first, second, "a new process");
    let status = client.status(Some("svc_h")).await.unwrap();
    let d = state_of(&status, "svc_h", "d");
    assert_eq!((d.state, d.restarts, d.pid), (RunState::Ready, 1, Some(second)), "{d:#?}");
    assert_eq!(d.health.as_ref().map(|x| x.state), Some(HealthState::Healthy), "{d:#?}");
    // Its requires dependent kept running through it (systemd's Requires= without BindsTo=).
    assert!(!has(&after, "svc_h/c", "stopping"), "{after:#?}");
    assert_eq!(state_of(&status, "svc_h", "c").pid, Some(c));
}

#[tokio::test(flavor = "current_thread")]
async fn a_daemon_that_answers_slowly_within_the_timeout_stays_healthy() {
    let h = Harness::new();
    let mut client = h.client().await;
    // Every answer takes 150 ms of a 1 s timeout; one failure would be enough to fail it.
    let spec = answering(&h, "svc_s", "d", &["--answer-delay-ms", "150"], ping_pong(50, 1_000, 1));
    client.apply(&service("svc_s", vec![spec]), true).await.unwrap();
    let mut checks = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + LIMIT;
    while checks.len() < 6 {
        assert!(std::time::Instant::now() < deadline, "fewer than 6 probes in {LIMIT:?}: {checks:?}");
        let status = client.status(Some("svc_s")).await.unwrap();
        let d = state_of(&status, "svc_s", "d");
        if let Some(health) = &d.health
            && let Some(at) = health.last_check_ms
        {
            assert_eq!((health.state, health.failures), (HealthState::Healthy, 0), "{d:#?}");
            assert_eq!(health.last_output.as_deref(), Some("pong"));
            checks.insert(at);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = client.events(0, 0).await.unwrap();
    assert_eq!(events.iter().filter(|e| kind_name(&e.kind) == "spawned").count(), 1, "{events:#?}");
    assert!(!has(&events, "svc_s/d", "unhealthy"), "{events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_watchdog_that_is_no_longer_pinged_stops_the_daemon_with_sigabrt_and_restarts_it() {
    let h = Harness::new();
    let mut client = h.client().await;
    let env_file = h.dir.path().join("env");
    let spec = h
        .daemon("w", 0)
        .args(["--watchdog-pings", "4", "--env-file", path(&env_file)])
        .watchdog_ms(1_000)
        .restart(RestartPolicy::OnFailure);
    client.apply(&service("svc_w", vec![spec]), true).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_w/w", "restarting")).await;
    let pid = pid_of(&events, "svc_w/w", 0).unwrap();
    // The variables reached it as systemd sets them: its own pid, the period in µs.
    let env_file = h.dir.path().join(format!("env.{pid}"));
    let env = std::fs::read_to_string(&env_file).unwrap();
    assert!(env.contains("WATCHDOG_USEC=1000000\n"), "{env}");
    assert!(env.contains(&format!("WATCHDOG_PID={pid}\n")) && env.contains(&format!("pid={pid}\n")), "{env}");
    assert!(reason_of(&events, "svc_w/w", "stopping").contains("no WATCHDOG=1 within 1s"), "{events:#?}");
    // Each ping re-armed it: it was stopped only once its pings had ended.
    let logs = client.logs("svc_w", "w", None).await.unwrap();
    let first_run = logs.split("--- svc_w/w started").nth(1).unwrap_or_default();
    assert!(first_run.contains("WATCHDOG=1 (4 of 4)"), "{logs}");
    let failed = reason_of(&events, "svc_w/w", "failed");
    assert!(failed.contains("stopped working"), "{failed}");
    let env = std::fs::read_to_string(&env_file).unwrap();
    assert!(env.ends_with("got SIGABRT\n"), "SIGABRT first, as systemd does: {env}");
}

#[tokio::test(flavor = "current_thread")]
async fn watchdog_trigger_fails_the_daemon_at_once() {
    let h = Harness::new();
    let mut client = h.client().await;
    let spec = h
        .daemon("t", 0)
        .args(["--watchdog-pings", "100", "--watchdog-trigger-after-ms", "200"])
        .watchdog_ms(60_000)
        .restart(RestartPolicy::Never);
    client.apply(&service("svc_t", vec![spec]), true).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_t/t", "failed")).await;
    assert!(reason_of(&events, "svc_t/t", "failed").contains("WATCHDOG=trigger"), "{events:#?}");
    let status = client.status(Some("svc_t")).await.unwrap();
    let t = state_of(&status, "svc_t", "t");
    assert_eq!(t.state, RunState::Failed, "restart = never: it stays failed");
    assert_eq!(t.health, None, "no health check, so no health to show");
}

#[tokio::test(flavor = "current_thread")]
async fn a_dependent_gated_on_healthy_starts_only_after_the_first_passed_probe() {
    let h = Harness::new();
    let mut client = h.client().await;
    let check = HealthCheck { start_period_ms: 10_000, start_interval_ms: 50, ..ping_pong(1_000, 500, 1) };
    // It accepts at once, but answers `starting` for its first 600 ms: probes fail, uncounted.
    let db = answering(&h, "svc_db", "db", &["--answer-after-ms", "600"], check);
    let app = h.daemon("app", 0).depends_on(ActionDep::new("svc_db").action("db").ready(ReadyGate::Healthy));
    client.apply(&service("svc_db", vec![db, app]), true).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_db/app", "ready")).await;
    assert!(before(&events, ("svc_db/db", "ready"), ("svc_db/db", "healthy")), "{events:#?}");
    assert!(before(&events, ("svc_db/db", "healthy"), ("svc_db/app", "spawned")), "{events:#?}");
    assert!(!has(&events, "svc_db/db", "unhealthy"), "failures in the start period do not count: {events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_exec_probe_runs_a_command_and_its_exit_status_decides() {
    let h = Harness::new();
    let mut client = h.client().await;
    let flag = h.dir.path().join("healthy");
    std::fs::write(&flag, "").unwrap();
    let script = format!("echo checked $SERVICE_MANIFEST_ACTION; test -e {}", flag.display());
    let check = HealthCheck {
        interval_ms: 100,
        timeout_ms: 2_000,
        retries: 2,
        ..HealthCheck::new(Probe::Exec { command: vec!["/bin/sh".into(), "-c".into(), script.into()].into() })
    };
    let spec = h.daemon("x", 0).health(check).restart(RestartPolicy::Never);
    client.apply(&service("svc_x", vec![spec]), true).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_x/x", "healthy")).await;
    assert_eq!(reason_of(&events, "svc_x/x", "healthy"), "checked x", "its output, in the daemon's environment");
    std::fs::remove_file(&flag).unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_x/x", "failed")).await;
    let failed = reason_of(&events, "svc_x/x", "failed");
    assert!(failed.contains("2 health checks in a row failed (last: exited with status 1: checked x)"), "{failed}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_exec_probe_that_floods_a_pipe_or_leaves_a_child_behind_is_judged_by_its_exit() {
    let h = Harness::new();
    let mut client = h.client().await;
    // 200 KB on stderr (more than a pipe holds) before its answer, and a leftover in its
    // process group that keeps stdout open for good.
    let script = format!("head -c 200000 /dev/zero | tr '\\0' x >&2; {TESTD} --tag {}@leftover & echo answered", h.tag);
    let check = HealthCheck {
        interval_ms: 60_000,
        timeout_ms: 5_000,
        retries: 1,
        ..HealthCheck::new(Probe::Exec { command: vec!["/bin/sh".into(), "-c".into(), script.into()].into() })
    };
    let spec = h.daemon("f", 0).health(check).restart(RestartPolicy::Never);
    client.apply(&service("svc_f", vec![spec]), true).await.unwrap();
    let events =
        events_until(&mut client, LIMIT, |e| has(e, "svc_f/f", "healthy") || has(e, "svc_f/f", "unhealthy")).await;
    assert!(has(&events, "svc_f/f", "healthy"), "{events:#?}");
    // What the command left in its group was ended with it.
    let deadline = std::time::Instant::now() + LIMIT;
    while h.processes_of("leftover") > 0 {
        assert!(std::time::Instant::now() < deadline, "the probe's leftover still runs");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
