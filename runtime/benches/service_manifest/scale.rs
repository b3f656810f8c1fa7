//! Section 4: many services at once. `n` independent daemons are defined one by one,
//! then started; the supervisor's memory and its CPU while everything idles are read
//! from `/proc`. The floor starting the same daemons gives what the machine itself
//! needs to start that many processes.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_manifest_runtime::api::{RunState, WaitFor};

use crate::floor;
use crate::graph::Graph;
use crate::machine::{home_base, load};
use crate::supervised::Supervisor;

pub async fn run(n: usize, idle_secs: u64, target_s: f64) -> Value {
    println!("\n4. scale: {n} services defined, then started, then {idle_secs} s idle");
    let graph = Graph::independent(&format!("s{n}_"), n);
    let load_before = load();
    let floor = match std::panic::catch_unwind(|| floor::run(&graph, &home_base())) {
        Ok(run) => {
            println!(
                "   floor: {n} daemons spawned and listening in {:.0} ms; SIGTERM to all and reaped in {:.0} ms",
                run.wall_s * 1e3,
                run.stop_s * 1e3
            );
            Some(run)
        }
        Err(_) => {
            println!("   floor: failed (see the message above)");
            None
        }
    };
    let floor_s = floor.as_ref().map(|f| f.wall_s);
    let floor_stop_s = floor.as_ref().map(|f| f.stop_s);
    let sup = Supervisor::start();
    let mut client = sup.client().await;
    let rss_empty = sup.rss_kib();
    let mut failure = None;
    let t = Instant::now();
    for i in 0..n {
        if let Err(e) = client.define(&sup.spec(&graph, i)).await {
            failure = Some(format!("define of service {i} of {n} failed: {e}"));
            break;
        }
    }
    let define_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut not_ready = 0;
    if failure.is_none() {
        for (i, node) in graph.nodes.iter().enumerate() {
            if let Err(e) = client.start(&node.name, None).await {
                failure = Some(format!("start of service {i} of {n} failed: {e}"));
                break;
            }
        }
    }
    if failure.is_none() {
        (not_ready, failure) = all_ready(&mut client, &graph).await;
    }
    let start_s = t.elapsed().as_secs_f64();
    let rss = sup.rss_kib();
    let fds = std::fs::read_dir(format!("/proc/{}/fd", sup.pid())).map_or(0, |d| d.count());
    let threads = || std::fs::read_dir(format!("/proc/{}/task", sup.pid())).map_or(0, |d| d.count());
    let threads_before = threads();
    let (ns_before, ticks_before) = sup.cpu();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let (ns_after, ticks_after) = sup.cpu();
    let threads_after = threads();
    let idle_cpu = (ns_after.saturating_sub(ns_before)) as f64 / 1e9 / idle_secs as f64;
    let idle_ticks = ticks_after.saturating_sub(ticks_before);
    let rss_per_1000 = (rss.saturating_sub(rss_empty)) as f64 / 1024.0 / n as f64 * 1000.0;
    if let Some(f) = &failure {
        println!("   FAILED: {f} ({not_ready} not ready)\n   supervisor log:\n{}", sup.log_tail());
    }
    println!(
        "   supervisor: define {:.0} ms, start → all ready {:.0} ms (target ≤ {target_s} s), RSS {:.1} MiB \
         ({:.1} MiB empty, {rss_per_1000:.2} MiB per 1,000 actions), {fds} descriptors, \
         idle CPU {:.3} % ({:.1} ms in {idle_secs} s on the threads alive throughout; {idle_ticks} ticks of \
         10 ms in /proc/<pid>/stat, which counts threads that exited meanwhile: {threads_before} → {threads_after} threads)",
        define_s * 1e3,
        start_s * 1e3,
        rss as f64 / 1024.0,
        rss_empty as f64 / 1024.0,
        idle_cpu * 100.0,
        idle_cpu * idle_secs as f64 * 1e3,
    );
    let t = Instant::now();
    let answered = client.shutdown().await.map(|_| t.elapsed().as_secs_f64()).ok();
    drop(client);
    drop(sup);
    let shutdown_s = t.elapsed().as_secs_f64();
    println!(
        "   shutdown (stopping all {n}): answered in {} ms ({}), the supervisor gone in {:.0} ms",
        answered.map_or("-".to_owned(), |a| format!("{:.0}", a * 1e3)),
        answered.map_or("no floor".to_owned(), |a| vs(a, floor_stop_s)),
        shutdown_s * 1e3
    );
    json!({
        "services": n, "define_ms": define_s * 1e3, "start_to_all_ready_ms": start_s * 1e3,
        "target_start_ms": target_s * 1e3, "met": failure.is_none() && start_s <= target_s,
        "floor_start_to_all_ready_ms": floor_s.map(|s| s * 1e3),
        "ratio_to_floor": floor_s.map(|f| start_s / f),
        "supervisor_rss_mib": rss as f64 / 1024.0, "supervisor_rss_empty_mib": rss_empty as f64 / 1024.0,
        "rss_mib_per_1000_actions": rss_per_1000, "supervisor_fds": fds,
        "idle_seconds": idle_secs, "idle_cpu_fraction": idle_cpu, "idle_cpu_ms": idle_cpu * idle_secs as f64 * 1e3,
        "idle_cpu_ticks": idle_ticks, "threads_before_idle": threads_before, "threads_after_idle": threads_after,
        "shutdown_ms": shutdown_s * 1e3, "shutdown_answered_ms": answered.map(|a| a * 1e3),
        "floor_stop_ms": floor_stop_s.map(|s| s * 1e3),
        "shutdown_answer_ratio_to_floor": answered.zip(floor_stop_s).map(|(a, f)| a / f),
        "failure": failure, "not_ready": not_ready, "load_before": load_before, "load_after": load(),
    })
}

/// Waits until every service of `graph` has settled; counts those that did not end ready
/// and describes the first.
async fn all_ready(client: &mut service_manifest_runtime::Client, graph: &Graph) -> (usize, Option<String>) {
    let (mut not_ready, mut failure) = (0, None);
    for node in &graph.nodes {
        match client.wait(&node.name, WaitFor::Settled, 600_000).await {
            Ok(settled) if settled.settled && settled.actions.iter().all(|a| a.state == RunState::Ready) => {}
            Ok(settled) => {
                not_ready += 1;
                if failure.is_none() {
                    let a = settled.actions.first();
                    failure = Some(format!(
                        "{} is {:?}: {}",
                        node.name,
                        a.map(|a| a.state),
                        a.and_then(|a| a.reason.clone()).unwrap_or_default()
                    ));
                }
            }
            Err(e) => return (not_ready, Some(format!("waiting for {} failed: {e}", node.name))),
        }
    }
    (not_ready, failure)
}

/// Section `scale2k`: `n` independent daemons started and stopped twice by one
/// supervisor, first each in one request (`start_many`, `stop_many`: one save, one
/// reply), then a request per service and `shutdown`, against the floor in the same run.
pub async fn many_at_once(n: usize) -> Value {
    println!("\n4b. {n} services, started and stopped in one request, then one request each");
    let graph = Graph::independent(&format!("m{n}_"), n);
    let floor = std::panic::catch_unwind(|| floor::run(&graph, &home_base())).ok();
    if let Some(f) = &floor {
        println!(
            "   floor: started and listening in {:.0} ms; SIGTERM to all and reaped in {:.0} ms",
            f.wall_s * 1e3,
            f.stop_s * 1e3
        );
    }
    let sup = Supervisor::start();
    let mut client = sup.client().await;
    for i in 0..n {
        if let Err(e) = client.define(&sup.spec(&graph, i)).await {
            return json!({ "services": n, "failure": format!("define of service {i} of {n} failed: {e}") });
        }
    }
    let targets: Vec<(&str, Option<&str>)> = graph.nodes.iter().map(|node| (node.name.as_str(), None)).collect();
    let (floor_start, floor_stop) = (floor.as_ref().map(|f| f.wall_s), floor.as_ref().map(|f| f.stop_s));

    let t = Instant::now();
    let mut failure = client.start_many(&targets).await.err().map(|e| format!("start_many failed: {e}"));
    let (mut not_ready, waited) = all_ready(&mut client, &graph).await;
    failure = failure.or(waited);
    let batch_start = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let stopped = client.stop_many(&targets).await;
    let batch_stop = t.elapsed().as_secs_f64();
    failure = failure.or(stopped.err().map(|e| format!("stop_many failed: {e}")));
    println!(
        "   one request: start → all ready {:.0} ms ({}), stop → answered {:.0} ms ({})",
        batch_start * 1e3,
        vs(batch_start, floor_start),
        batch_stop * 1e3,
        vs(batch_stop, floor_stop)
    );

    let t = Instant::now();
    for node in &graph.nodes {
        if let Err(e) = client.start(&node.name, None).await {
            failure = failure.or(Some(format!("start of {} failed: {e}", node.name)));
            break;
        }
    }
    let (one_by_one_not_ready, waited) = all_ready(&mut client, &graph).await;
    not_ready += one_by_one_not_ready;
    failure = failure.or(waited);
    let each_start = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let answered = client.shutdown().await.map(|_| t.elapsed().as_secs_f64()).ok();
    drop(client);
    drop(sup);
    println!(
        "   a request each: start → all ready {:.0} ms ({}); shutdown answered in {} ms ({})",
        each_start * 1e3,
        vs(each_start, floor_start),
        answered.map_or("-".to_owned(), |a| format!("{:.0}", a * 1e3)),
        answered.map_or("-".to_owned(), |a| vs(a, floor_stop))
    );
    if let Some(f) = &failure {
        println!("   FAILED: {f} ({not_ready} not ready)");
    }
    json!({
        "services": n,
        "floor_start_to_all_ready_ms": floor_start.map(|s| s * 1e3), "floor_stop_ms": floor_stop.map(|s| s * 1e3),
        "start_many_to_all_ready_ms": batch_start * 1e3, "start_many_ratio_to_floor": floor_start.map(|f| batch_start / f),
        "stop_many_answered_ms": batch_stop * 1e3, "stop_many_ratio_to_floor": floor_stop.map(|f| batch_stop / f),
        "start_each_to_all_ready_ms": each_start * 1e3, "start_each_ratio_to_floor": floor_start.map(|f| each_start / f),
        "shutdown_answered_ms": answered.map(|a| a * 1e3),
        "shutdown_ratio_to_floor": answered.zip(floor_stop).map(|(a, f)| a / f),
        "failure": failure, "not_ready": not_ready, "load_after": load(),
    })
}

/// `s` as a multiple of the floor's time, if the floor ran.
fn vs(s: f64, floor_s: Option<f64>) -> String {
    floor_s.map_or("no floor".to_owned(), |f| format!("{:.2}× the floor", s / f))
}
