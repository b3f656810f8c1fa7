//! Section 6: health checks. What a socket request probe costs (connect, send, reply,
//! measured from this process against a real daemon, beside a bare connect); the
//! supervisor's CPU while `n` services are each probed every 10 s; and how long a hung
//! daemon takes to be restarted: the daemon hangs when the first probe after its time
//! comes, so the probes' own schedule (`retries` timeouts and the intervals between them)
//! is known exactly, and the rest is the supervisor's. It hangs after 1.2 s of running,
//! so it is restarted at once (a quick death would back off 100 ms first, by design).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_manifest_runtime::api::{Event, EventKind, HealthState, WaitFor};
use service_manifest_runtime::{ActionSpec, BinaryKind, HealthCheck, Probe, RestartPolicy, ServiceSpec};

use crate::TESTD;
use crate::machine::load;
use crate::stats::Summary;
use crate::supervised::Supervisor;

fn ping_pong(interval_ms: u64, timeout_ms: u64, retries: u32) -> HealthCheck {
    HealthCheck {
        interval_ms,
        timeout_ms,
        retries,
        ..HealthCheck::new(Probe::Socket { send: Some("ping".into()), expect: Some("pong".into()) })
    }
}

fn answering(name: &str, sup: &Supervisor, check: HealthCheck, extra: &[String]) -> ServiceSpec {
    let socket = sup.dir.path().join("s").join(format!("{name}.sock"));
    let action = ActionSpec::new(name, BinaryKind::Server)
        .exec(TESTD)
        .args(["--answer", "pong"])
        .args(extra.iter().cloned())
        .socket(socket.display().to_string())
        .health(check)
        .restart(RestartPolicy::OnFailure);
    ServiceSpec::new(name, vec![action])
}

pub async fn run(n: usize, idle_secs: u64) -> Value {
    println!("\n6. health: a probe's cost, {n} services probed every 10 s, a hang to its restart");
    let cost = probe_cost().await;
    let idle = probed_idle(n, idle_secs).await;
    let hang = hang_to_restart(if n >= 1000 { 20 } else { 5 }).await;
    json!({ "probe_cost": cost, "probed_services": idle, "hang_to_restart": hang })
}

/// One probe as the supervisor runs it (connect, one line out, one line back), from this
/// process against a live `sm-testd --answer`, beside a bare connect.
async fn probe_cost() -> Value {
    let dir = tempfile::Builder::new().prefix("smh").tempdir_in(crate::machine::home_base()).expect("tempdir");
    let socket = dir.path().join("d.sock");
    let mut daemon = std::process::Command::new(TESTD)
        .args(["--answer", "pong", "--socket"])
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("sm-testd");
    while UnixStream::connect(&socket).is_err() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let (mut connects, mut requests) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        let t = Instant::now();
        drop(UnixStream::connect(&socket).expect("connect"));
        connects.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let mut stream = UnixStream::connect(&socket).expect("connect");
        stream.write_all(b"ping\n").expect("send");
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).expect("reply");
        requests.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(line, "pong\n");
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    let (c, r) = (Summary::of(&connects).expect("samples"), Summary::of(&requests).expect("samples"));
    println!("   a probe (connect, send, reply): {}; a bare connect: {}", r.text(), c.text());
    json!({ "request_ms": r.json(), "connect_ms": c.json() })
}

/// The supervisor's CPU while `n` ready services are each probed every 10 s.
async fn probed_idle(n: usize, idle_secs: u64) -> Value {
    let sup = Supervisor::start();
    let mut client = sup.client().await;
    let names: Vec<String> = (0..n).map(|i| format!("h{i}")).collect();
    for name in &names {
        client.apply(&answering(name, &sup, ping_pong(10_000, 2_000, 3), &[]), true).await.expect("apply");
    }
    for name in &names {
        let settled = client.wait(name, WaitFor::Up, 600_000).await.expect("wait");
        assert!(settled.settled, "{name} did not come up");
    }
    let seq = client.events(0, 0).await.expect("events").last().map_or(0, |e| e.seq);
    let (ns_before, _) = sup.cpu();
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let (ns_after, _) = sup.cpu();
    let seconds = t.elapsed().as_secs_f64();
    let statuses = client.status(None).await.expect("status");
    let unhealthy = client
        .events(seq, 0)
        .await
        .expect("events")
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Health { .. }))
        .count();
    let checked = statuses.iter().filter(|s| s.health.as_ref().is_some_and(|h| h.last_check_ms.is_some())).count();
    let cpu = ns_after.saturating_sub(ns_before) as f64 / 1e9 / seconds;
    let probes = n as f64 * seconds / 10.0;
    let per_probe_us = ns_after.saturating_sub(ns_before) as f64 / 1e3 / probes;
    println!(
        "   {n} services probed every 10 s for {seconds:.0} s: supervisor CPU {:.3} % of one core (target ≤ 0.5 %), \
         about {per_probe_us:.0} µs of it per probe; {checked} of {n} checked, {unhealthy} health changes",
        cpu * 100.0
    );
    drop(client);
    drop(sup);
    json!({
        "services": n, "seconds": seconds, "interval_ms": 10_000, "cpu_fraction": cpu, "target_cpu_fraction": 0.005,
        "met": cpu <= 0.005, "cpu_us_per_probe": per_probe_us, "checked": checked, "health_changes": unhealthy,
        "load": load(),
    })
}

/// A daemon that hangs (stops accepting; the kernel still completes connections) is
/// declared unhealthy and restarted: from the hang to the new process's exec, minus the
/// probes' own schedule (`retries × timeout + (retries − 1) × interval`).
async fn hang_to_restart(samples: usize) -> Value {
    let (interval, timeout, retries) = (100u64, 50u64, 3u32);
    let schedule_ms = (u64::from(retries) * timeout + u64::from(retries - 1) * interval) as f64;
    let sup = Supervisor::start();
    let mut client = sup.client().await;
    let (mut totals, mut beyond, mut restart) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..samples {
        let name = format!("hang{i}");
        let stamp = sup.dir.path().join(format!("{name}.hung"));
        let extra =
            ["--hang-after-ms".to_owned(), "1200".to_owned(), "--hang-stamp".to_owned(), stamp.display().to_string()];
        let spec = answering(&name, &sup, ping_pong(interval, timeout, retries), &extra);
        let since = client.events(0, 0).await.expect("events").last().map_or(0, |e| e.seq);
        client.apply(&spec, true).await.expect("apply");
        let label = format!("{name}/{name}");
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.iter().filter(|e: &&Event| e.action == label && matches!(e.kind, EventKind::Spawned { .. })).count()
            < 2
        {
            assert!(Instant::now() < deadline, "{name} was not restarted: {seen:#?}");
            let from = seen.last().map_or(since, |e: &Event| e.seq);
            seen.extend(client.events(from, 1_000).await.expect("events"));
        }
        let hung: f64 = std::fs::read_to_string(&stamp).expect("hang stamp").trim().parse().expect("µs");
        let at = |pick: &dyn Fn(&EventKind) -> bool, nth: usize| {
            seen.iter().filter(|e| e.action == label && pick(&e.kind)).nth(nth).map(|e| e.at_us as f64)
        };
        let unhealthy = at(&|k| matches!(k, EventKind::Health { health: HealthState::Unhealthy, .. }), 0);
        let respawned = at(&|k| matches!(k, EventKind::Spawned { .. }), 1).expect("second spawn");
        totals.push((respawned - hung) / 1e3);
        if let Some(u) = unhealthy {
            beyond.push((u - hung) / 1e3 - schedule_ms);
            restart.push((respawned - u) / 1e3);
        }
        client.stop(&name, None).await.expect("stop");
    }
    let (t, b, r) = (Summary::of(&totals), Summary::of(&beyond), Summary::of(&restart));
    let text = |s: &Option<Summary>| s.as_ref().map_or("no samples".to_owned(), Summary::text);
    println!(
        "   hang → new exec ({retries} × {timeout} ms timeouts + {} × {interval} ms intervals = {schedule_ms:.0} ms of schedule): {}",
        retries - 1,
        text(&t)
    );
    println!("     detection beyond the schedule (hang → unhealthy − schedule): {}", text(&b));
    println!("     unhealthy → new exec (stop by SIGTERM, restart at once): {} (target: ≤ 10 ms in all)", text(&r));
    json!({
        "interval_ms": interval, "timeout_ms": timeout, "retries": retries, "schedule_ms": schedule_ms,
        "hang_to_exec_ms": t.map(|s| s.json()), "detection_beyond_schedule_ms": b.map(|s| s.json()),
        "unhealthy_to_exec_ms": r.map(|s| s.json()),
    })
}
