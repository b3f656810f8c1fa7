//! `cargo bench -p service_manifest_runtime`: what the macro costs a build, and how
//! close a start comes to its critical path. Every figure is a ratio or a
//! distribution measured within this one run; nothing here is asserted.
//!
//! Flags (after `--`): `--quick` (fewer repetitions, no build-cost section),
//! `--only SECTION` (codegen, start, latency, scale or build),
//! `--json PATH` (default `target/service_manifest-bench.json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_manifest_core::codegen::{Settings, expand};
use service_manifest_core::{Options, parse};
use service_manifest_runtime::api::EventKind;
use service_manifest_runtime::{ActionDep, ActionSpec, BinaryKind, Client, ReadyGate, Relation, ServiceSpec};

mod zinit_start;

const TESTD: &str = env!("CARGO_BIN_EXE_sm-testd");
const SUPERVISOR: &str = env!("CARGO_BIN_EXE_service-supervisor");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| workspace().join("target/service_manifest-bench.json"), PathBuf::from);
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let run = |section: &str| only.as_deref().is_none_or(|o| o == section);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");

    let mut report = BTreeMap::new();
    report.insert("machine", machine());
    if run("codegen") {
        report.insert("codegen", codegen(if quick { 0.2 } else { 1.0 }));
    }
    if run("start") {
        report.insert("start_overhead", runtime.block_on(start_overhead(if quick { 2 } else { 5 })));
    }
    if run("latency") {
        report.insert("readiness_latency", runtime.block_on(readiness_latency(if quick { 50 } else { 250 })));
    }
    if run("scale") {
        report.insert("scale", runtime.block_on(scale(if quick { 200 } else { 1000 }, if quick { 2 } else { 10 })));
    }
    if run("build") && (!quick || only.is_some()) {
        report.insert("build_cost", build_cost());
    }
    let json = serde_json::to_string_pretty(&report).expect("json");
    if let Some(dir) = json_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&json_path, json + "\n").expect("write json");
    println!("\nfigures written to {}", json_path.display());
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let base = home_base();
    let fs = file_system(&base);
    println!("machine: {cpu}, {cores} cores; supervisor files in {} ({fs})", base.display());
    json!({ "cpu": cpu, "cores": cores, "supervisor_dir": base, "supervisor_fs": fs })
}

// ---- 1. codegen ---------------------------------------------------------------------------

/// A manifest of `n` binaries: a chain of `after` edges, every fifth one install-only,
/// and two dependencies.
fn synthetic_manifest(n: usize) -> String {
    let mut s = String::from("[service]\nname = \"bench\"\n");
    for i in 0..n {
        let kind = if i % 5 == 4 { "cli" } else { "server" };
        s.push_str(&format!(
            "\n[[binaries]]\nname = \"bin_{i}\"\nkind = \"{kind}\"\nsocket = \"bench/bin_{i}.sock\"\n"
        ));
        if kind == "server" && i > 0 && (i - 1) % 5 != 4 {
            s.push_str(&format!("after = [\"bin_{}\"]\nstart_timeout = \"5s\"\n", i - 1));
        }
    }
    s.push_str("\n[[dependencies]]\nrepo = \"hero_proxy\"\nbin_name = \"hero_proxy_server\"\nsocket_name = \"hero_proxy/proxy.sock\"\n");
    s.push_str("\n[[dependencies]]\nrepo = \"hero_db\"\ncrate_name = \"hero_db\"\nbin_name = \"hero_db_server\"\nrelation = \"wants\"\n");
    s
}

/// Median seconds per call of `f`, repeated for about `budget` seconds.
fn time_per_call(budget: f64, mut f: impl FnMut()) -> f64 {
    f();
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < budget || samples.len() < 5 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn codegen(budget: f64) -> Value {
    println!("\n1. codegen: parse + validate + generate, per expansion (median)");
    println!("{:>9}  {:>12}  {:>12}  {:>12}  {:>10}", "binaries", "expansion", "toml::Table", "DeTable", "ratio");
    let mut rows = Vec::new();
    for n in [3, 100, 1000] {
        let text = synthetic_manifest(n);
        let options = Options::strict();
        let full = time_per_call(budget, || {
            let checked = parse(&text, &options).expect("valid synthetic manifest");
            // What the macro hands the compiler: tokens, never a string.
            std::hint::black_box(expand(&checked.manifest, &Settings::default()));
        });
        let table = time_per_call(budget, || {
            std::hint::black_box(text.parse::<toml::Table>().expect("toml"));
        });
        let spanned = time_per_call(budget, || {
            std::hint::black_box(toml::de::DeTable::parse(&text).expect("toml"));
        });
        let ratio = full / table;
        println!("{n:>9}  {:>10.1}µs  {:>10.1}µs  {:>10.1}µs  {ratio:>9.2}×", full * 1e6, table * 1e6, spanned * 1e6);
        rows.push(json!({ "binaries": n, "expansion_us": full * 1e6, "toml_table_us": table * 1e6,
                          "detable_us": spanned * 1e6, "ratio_to_toml_table": ratio }));
    }
    Value::Array(rows)
}

// ---- a supervisor process on private sockets ----------------------------------------------

/// Where the supervisor's files go: where it keeps them by default, `$XDG_RUNTIME_DIR`
/// (a tmpfs on a systemd machine), else `/dev/shm` (tmpfs too), else `/tmp`.
/// `SM_BENCH_DIR` overrides, e.g. to measure on a disk file system.
fn home_base() -> PathBuf {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    set("SM_BENCH_DIR")
        .or_else(|| set("XDG_RUNTIME_DIR"))
        .map(PathBuf::from)
        .or_else(|| Path::new("/dev/shm").is_dir().then(|| PathBuf::from("/dev/shm")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn file_system(dir: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, point, fs) = (f.next()?, f.next()?, f.next()?);
            dir.starts_with(point).then(|| (point.len(), fs.to_owned()))
        })
        .max()
        .map_or_else(|| "unknown".into(), |(_, fs)| fs)
}

struct Supervisor {
    dir: tempfile::TempDir,
    child: Child,
}

impl Supervisor {
    fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("smb").tempdir_in(home_base()).expect("tempdir");
        let log = std::fs::File::create(dir.path().join("supervisor.log")).expect("log");
        let child = Command::new(SUPERVISOR)
            .arg("--socket")
            .arg(dir.path().join("sup.sock"))
            .arg("--socket-dir")
            .arg(dir.path().join("s"))
            .arg("--bin-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn supervisor");
        let sup = Self { dir, child };
        while std::os::unix::net::UnixStream::connect(sup.socket()).is_err() {
            std::thread::sleep(Duration::from_millis(2));
        }
        sup
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sup.sock")
    }

    fn sock(&self, name: &str) -> String {
        self.dir.path().join("s").join(format!("{name}.sock")).display().to_string()
    }

    async fn client(&self) -> Client {
        Client::connect(&self.socket()).await.expect("connect")
    }

    /// A service of one daemon that binds `<name>.sock` `delay_ms` after it is spawned.
    fn daemon(&self, name: &str, delay_ms: u64, deps: &[&str]) -> ServiceSpec {
        let mut a = ActionSpec::new(name, BinaryKind::Server)
            .exec(TESTD)
            .args(["--delay-ms", &delay_ms.to_string()])
            .socket(self.sock(name))
            .restart(service_manifest_runtime::RestartPolicy::Never);
        for dep in deps {
            a = a.depends_on(
                ActionDep::new(*dep)
                    .action(*dep)
                    .socket(self.sock(dep))
                    .relation(Relation::Requires)
                    .ready(ReadyGate::Socket),
            );
        }
        ServiceSpec::new(name, vec![a])
    }

    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
        fields.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
            + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let socket = self.socket();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        let _ = std::thread::spawn(move || {
            runtime.ok()?.block_on(async { Client::connect(&socket).await.ok()?.shutdown().await.ok() })
        })
        .join();
        let _ = self.child.wait();
    }
}

/// Starts `root` and returns the wall time until everything it pulls in is ready.
async fn timed_start(client: &mut Client, root: &str) -> f64 {
    let t = Instant::now();
    client.start(root, None).await.expect("start");
    let settled = client.wait(root, service_manifest_runtime::api::WaitFor::Settled, 120_000).await.expect("wait");
    let elapsed = t.elapsed().as_secs_f64();
    assert!(
        settled.settled && settled.actions.iter().all(|s| s.state == service_manifest_runtime::api::RunState::Ready)
    );
    elapsed
}

// ---- 2. start overhead ---------------------------------------------------------------------

async fn start_overhead(repeats: usize) -> Value {
    const D: u64 = 50;
    println!(
        "\n2. start overhead: wall time from start to all ready ÷ critical path (each daemon binds {D}ms after spawn)"
    );
    println!(
        "{:>22}  {:>8}  {:>10}  {:>10}  {:>8}  {:>12}  {:>12}",
        "shape", "actions", "critical", "wall p50", "ratio", "overhead p50", "spawn burst"
    );
    let mut rows = Vec::new();
    for shape in ["chain of 10", "fan-out 1+100", "diamond"] {
        let sup = Supervisor::start();
        let mut client = sup.client().await;
        let (root, specs, critical_ms) = match shape {
            "chain of 10" => {
                let specs: Vec<ServiceSpec> = (0..10)
                    .map(|i: usize| {
                        let prev = i.checked_sub(1).map(|p| format!("c{p}"));
                        let deps: Vec<&str> = prev.iter().map(String::as_str).collect();
                        sup.daemon(&format!("c{i}"), D, &deps)
                    })
                    .collect();
                ("c9".to_owned(), specs, 10 * D)
            }
            "fan-out 1+100" => {
                let mut specs = vec![sup.daemon("root", D, &[])];
                let leaves: Vec<String> = (0..100).map(|i| format!("leaf{i}")).collect();
                specs.extend(leaves.iter().map(|l| sup.daemon(l, D, &["root"])));
                // An umbrella with no work of its own gathers the hundred dependents.
                let refs: Vec<&str> = leaves.iter().map(String::as_str).collect();
                specs.push(sup.daemon("all", 0, &refs));
                ("all".to_owned(), specs, 2 * D)
            }
            _ => {
                let specs = vec![
                    sup.daemon("bottom", D, &[]),
                    sup.daemon("left", D, &["bottom"]),
                    sup.daemon("right", D, &["bottom"]),
                    sup.daemon("top", D, &["left", "right"]),
                ];
                ("top".to_owned(), specs, 3 * D)
            }
        };
        for spec in &specs {
            client.define(spec).await.expect("define");
        }
        let mut walls = Vec::new();
        let mut bursts = Vec::new();
        for _ in 0..repeats {
            let since = client.events(0, 0).await.expect("events").last().map_or(0, |e| e.seq);
            walls.push(timed_start(&mut client, &root).await);
            bursts.push(spawn_burst_ms(&client.events(since, 0).await.expect("events")));
            for spec in &specs {
                client.stop(&spec.name, None).await.expect("stop");
            }
        }
        walls.sort_by(f64::total_cmp);
        bursts.sort_by(f64::total_cmp);
        let p50 = walls[walls.len() / 2];
        let burst = bursts[bursts.len() / 2];
        let critical = critical_ms as f64 / 1000.0;
        println!(
            "{shape:>22}  {:>8}  {:>8}ms  {:>8.1}ms  {:>7.3}×  {:>10.1}ms  {:>10.1}ms",
            specs.len(),
            critical_ms,
            p50 * 1e3,
            p50 / critical,
            (p50 - critical) * 1e3,
            burst
        );
        rows.push(json!({ "shape": shape, "actions": specs.len(), "critical_path_ms": critical_ms,
                          "wall_ms": walls.iter().map(|w| w * 1e3).collect::<Vec<_>>(), "wall_p50_ms": p50 * 1e3,
                          "ratio_p50": p50 / critical, "overhead_p50_ms": (p50 - critical) * 1e3,
                          "widest_spawn_burst_p50_ms": burst }));
    }
    let embedded_chain = rows.first().and_then(|r| r["wall_p50_ms"].as_f64()).map(|ms| ms / 1e3);
    rows.push(zinit_start::chain_of_10(repeats, D, embedded_chain, &home_base()));
    Value::Array(rows)
}

/// The supervisor's own share of a fan-out: from an action becoming ready to the last
/// of the dependents it released being spawned (the widest such burst in `events`).
fn spawn_burst_ms(events: &[service_manifest_runtime::api::Event]) -> f64 {
    let mut widest = 0u64;
    for (i, ready) in events.iter().enumerate().filter(|(_, e)| matches!(e.kind, EventKind::Ready)) {
        let burst_end = events[i + 1..]
            .iter()
            .take_while(|e| !matches!(e.kind, EventKind::Ready))
            .filter(|e| matches!(e.kind, EventKind::Spawned { .. }))
            .map(|e| e.at_us)
            .max();
        if let Some(end) = burst_end {
            widest = widest.max(end.saturating_sub(ready.at_us));
        }
    }
    widest as f64 / 1000.0
}

// ---- 3. readiness detection latency ----------------------------------------------------------

async fn readiness_latency(samples: usize) -> Value {
    println!("\n3. readiness detection: a dependency's listen() → the supervisor spawning its dependent");
    let sup = Supervisor::start();
    let mut client = sup.client().await;
    let mut latencies = Vec::new();
    for i in 0..samples {
        let (dep, dependent) = (format!("d{i}"), format!("e{i}"));
        let stamp = sup.dir.path().join(format!("{dep}.stamp"));
        // Spread the listen() moments so none lines up with any internal timer.
        let delay = 5 + (i as u64 * 7) % 13;
        let mut dep_spec = sup.daemon(&dep, delay, &[]);
        dep_spec.actions[0].args.extend(["--stamp".to_owned(), stamp.display().to_string()]);
        client.define(&dep_spec).await.expect("define");
        client.define(&sup.daemon(&dependent, 0, &[&dep])).await.expect("define");
        let since = client.events(0, 0).await.expect("events").last().map_or(0, |e| e.seq);
        timed_start(&mut client, &dependent).await;
        let events = client.events(since, 0).await.expect("events");
        let spawned = events
            .iter()
            .find(|e| e.action == format!("{dependent}/{dependent}") && matches!(e.kind, EventKind::Spawned { .. }))
            .map(|e| e.at_us)
            .expect("spawned event");
        let listened: u64 = std::fs::read_to_string(&stamp).expect("stamp").trim().parse().expect("stamp value");
        latencies.push(spawned.saturating_sub(listened) as f64 / 1000.0);
        client.remove(&dependent).await.expect("remove");
        client.remove(&dep).await.expect("remove");
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let (p50, p99, max) = (pick(0.5), pick(0.99), latencies[latencies.len() - 1]);
    println!("   {samples} samples: p50 {p50:.3}ms  p99 {p99:.3}ms  max {max:.3}ms");
    json!({ "samples": samples, "p50_ms": p50, "p99_ms": p99, "max_ms": max })
}

// ---- 4. scale --------------------------------------------------------------------------------

async fn scale(n: usize, idle_secs: u64) -> Value {
    println!("\n4. scale: {n} services registered and started, then {idle_secs}s idle");
    let sup = Supervisor::start();
    let mut client = sup.client().await;
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let t = Instant::now();
    for name in &names {
        client.define(&sup.daemon(name, 0, &[])).await.expect("define");
    }
    let define_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for name in &names {
        client.start(name, None).await.expect("start");
    }
    for name in &names {
        client.wait_settled(name, 120_000).await.expect("wait");
    }
    let start_s = t.elapsed().as_secs_f64();
    let rss = sup.rss_kib();
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let before = sup.cpu_ticks();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let idle_cpu = (sup.cpu_ticks() - before) as f64 / ticks_per_s / idle_secs as f64;
    println!(
        "   define {:.0}ms, start to all ready {:.0}ms, supervisor RSS {:.1} MiB, idle CPU {:.2}%",
        define_s * 1e3,
        start_s * 1e3,
        rss as f64 / 1024.0,
        idle_cpu * 100.0
    );
    json!({ "services": n, "define_ms": define_s * 1e3, "start_to_all_ready_ms": start_s * 1e3,
            "supervisor_rss_mib": rss as f64 / 1024.0, "idle_seconds": idle_secs, "idle_cpu_fraction": idle_cpu })
}

// ---- 5. build cost ---------------------------------------------------------------------------

fn build_cost() -> Value {
    println!("\n5. build cost (debug profile, private target directory)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = tempfile::Builder::new().prefix("smt").tempdir().expect("tempdir");
    let build = |args: &[&str]| {
        let t = Instant::now();
        let status = Command::new(&cargo)
            .args(args)
            .current_dir(workspace())
            .env("CARGO_TARGET_DIR", target.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("cargo");
        assert!(status.success(), "cargo {args:?} failed");
        t.elapsed().as_secs_f64()
    };
    let macros = build(&["build", "-p", "service_manifest_macros"]);
    build(&["build", "--example", "hero_proxy"]);
    let manifest = workspace().join("examples/hero_proxy/service.toml");
    let touch = || {
        let file = std::fs::File::options().append(true).open(&manifest).expect("manifest");
        file.set_modified(std::time::SystemTime::now()).expect("touch");
    };
    let mut rebuilds = Vec::new();
    for _ in 0..3 {
        touch();
        rebuilds.push(build(&["build", "--example", "hero_proxy"]));
    }
    rebuilds.sort_by(f64::total_cmp);
    let noop = build(&["build", "--example", "hero_proxy"]);
    let rebuild = rebuilds[1];
    println!("   clean build of the macro crate and its dependencies: {macros:.1}s");
    println!("   cargo build --example hero_proxy after touching service.toml: {rebuild:.2}s (no-op build {noop:.2}s)");
    json!({ "clean_macro_build_s": macros, "rebuild_after_touch_s": rebuild, "noop_build_s": noop })
}
