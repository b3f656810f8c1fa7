//! The zinit backend in the start-overhead section: the same chain of ten `sm-testd`
//! daemons (each binds its socket 50 ms after it is spawned), started through a real
//! `zinit-server` 0.3.9 by `backend::zinit` exactly as `--start --backend zinit` does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_manifest_runtime::backend::wait_socket;
use service_manifest_runtime::backend::zinit::{self, Target};
use service_manifest_runtime::{ActionDep, ActionSpec, BinaryKind, ReadyGate, Relation, ServiceSpec};

use crate::TESTD;

const WAITER: &str = env!("CARGO_BIN_EXE_service-manifest-wait-socket");

/// `ZINIT_SERVER`, the copy `.ci/run` installs, or one on `PATH`.
fn zinit_server() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ZINIT_SERVER") {
        return Some(path.into());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")));
    let cached = cache.map(|c| c.join("service_manifest/zinit-0.3.9/bin/zinit-server"));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("zinit-server"));
    cached.into_iter().chain(on_path).find(|p| p.is_file())
}

/// The zinit-server of one measurement: asked to stop everything and exit when dropped,
/// even when a start panics, and killed if it does not.
struct Server {
    child: std::process::Child,
    socket: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(mut z) = zinit::Zinit::connect(&self.socket) {
            let _ = z.call("system.shutdown", json!({}));
        }
        for _ in 0..200 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One service of ten actions, each requiring the previous one's socket.
fn chain(socket_dir: &Path, delay_ms: u64) -> ServiceSpec {
    let sock = |i: usize| socket_dir.join(format!("c{i}.sock")).display().to_string();
    let actions = (0..10)
        .map(|i| {
            let mut a = ActionSpec::new(format!("c{i}"), BinaryKind::Server)
                .exec(TESTD)
                .args(["--delay-ms", &delay_ms.to_string()])
                .socket(sock(i))
                .restart(service_manifest_runtime::RestartPolicy::Never);
            if i > 0 {
                a = a.depends_on(
                    ActionDep::new("zchain")
                        .action(format!("c{}", i - 1))
                        .socket(sock(i - 1))
                        .relation(Relation::Requires)
                        .ready(ReadyGate::Socket),
                );
            }
            a
        })
        .collect();
    ServiceSpec::new("zchain", actions)
}

/// The chain through zinit: wall time p50 and its ratios to the critical path, to the
/// floor's and to the embedded supervisor's p50 for the same shape, measured earlier
/// in this run.
pub fn chain_of_10(
    repeats: usize,
    delay_ms: u64,
    embedded_p50_s: Option<f64>,
    floor_p50_s: Option<f64>,
    base: &Path,
) -> Value {
    let Some(server) = zinit_server() else {
        println!("{:>20}  skipped: no zinit-server (set ZINIT_SERVER, or run .ci/run once)", "chain of 10 (zinit)");
        return json!({ "shape": "chain of 10 (zinit)", "skipped": "no zinit-server" });
    };
    let dir = tempfile::Builder::new().prefix("smbz").tempdir_in(base).expect("tempdir");
    let socket = dir.path().join("zinit.sock");
    let child = Command::new(&server)
        .arg("--config-dir")
        .arg(dir.path().join("cfg"))
        .arg("--socket")
        .arg(&socket)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn zinit-server");
    let server = Server { child, socket: socket.clone() };
    wait_socket::wait(&socket, Duration::from_secs(30)).expect("zinit-server listens");
    let bin_dir = Path::new(WAITER).parent().expect("the waiter has a directory").to_path_buf();
    let target = Target { socket: socket.clone(), bin_dir, socket_dir: dir.path().join("s") };
    let spec = chain(&target.socket_dir, delay_ms);
    let manifest = service_manifest_runtime::Manifest {
        service: service_manifest_core::ServiceInfo {
            name: "zchain".into(),
            description: None,
            profiles: Vec::new().into(),
        },
        binaries: Vec::new().into(),
        dependencies: Vec::new().into(),
    };
    let mut sink = std::io::sink();
    // The first start registers the ten services; only later starts are timed, as the
    // embedded rows time starts of already defined services.
    zinit::run_to(zinit::Command::Start, &spec, &manifest, &target, &mut sink).expect("first start");
    zinit::run_to(zinit::Command::Stop, &spec, &manifest, &target, &mut sink).expect("stop");
    let mut walls = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        zinit::run_to(zinit::Command::Start, &spec, &manifest, &target, &mut sink).expect("start");
        walls.push(t.elapsed().as_secs_f64());
        zinit::run_to(zinit::Command::Stop, &spec, &manifest, &target, &mut sink).expect("stop");
    }
    drop(server);
    walls.sort_by(f64::total_cmp);
    let p50 = walls[walls.len() / 2];
    let critical = (10 * delay_ms) as f64 / 1000.0;
    let vs_embedded = embedded_p50_s.map(|e| p50 / e);
    let vs_floor = floor_p50_s.map(|f| p50 / f);
    let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.3}×"));
    println!(
        "{:>20}  {:>7}  {:>6}ms  {:>10}  {:>8.1}ms  {:>11}  {:>9}  {:>8.3}×   zinit ÷ embedded {}",
        "chain of 10 (zinit)",
        10,
        10 * delay_ms,
        "",
        p50 * 1e3,
        ratio(vs_floor),
        "",
        p50 / critical,
        ratio(vs_embedded),
    );
    json!({ "shape": "chain of 10 (zinit)", "daemons": 10, "critical_path_ms": 10 * delay_ms, "repeats": repeats,
            "wall_ms": walls.iter().map(|w| w * 1e3).collect::<Vec<_>>(), "wall_p50_ms": p50 * 1e3,
            "ratio_to_critical_path": p50 / critical, "ratio_to_floor_p50": vs_floor,
            "ratio_to_embedded_p50": vs_embedded })
}
