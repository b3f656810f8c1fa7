//! Section 7: the restart of a crashed daemon that had run for more than a second (s6's
//! rule: restarted at once, no back-off), from its `SIGKILL` to the new process's `exec`,
//! under the supervisor and under a floor that respawns at once: a thread per daemon
//! waiting on it and spawning it again (std's `Command`, `posix_spawn`). Interleaved,
//! sample for sample, in one run; the new `exec` is stamped by the daemon itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use service_manifest_runtime::{ActionSpec, BinaryKind, RestartPolicy, ServiceSpec};

use crate::TESTD;
use crate::stamps::{self, mono_now, ms_between};
use crate::stats::{Summary, json_of, text_of};
use crate::supervised::Supervisor;

/// A daemon the floor keeps running: its pid now, and whether to stop respawning it.
struct Respawned {
    pid: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Respawned {
    fn start(socket: PathBuf, stamps: PathBuf) -> Self {
        let (pid, stop) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicBool::new(false)));
        let (p, s) = (pid.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let child = Command::new(TESTD)
                    .arg("--socket")
                    .arg(&socket)
                    .arg("--stamps")
                    .arg(&stamps)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn();
                let Ok(mut child) = child else { return };
                p.store(child.id(), Ordering::SeqCst);
                let _ = child.wait();
            }
        });
        Self { pid, stop, thread }
    }

    fn end(self) {
        self.stop.store(true, Ordering::SeqCst);
        kill(self.pid.load(Ordering::SeqCst));
        let _ = self.thread.join();
    }
}

fn kill(pid: u32) {
    // SAFETY: a signal to a process this benchmark started (or its supervisor did).
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
}

/// Kills `pid` and returns how long until a new process wrote its `exec` stamp to `file`.
fn kill_to_exec(pid: u32, file: &Path) -> Option<f64> {
    let _ = std::fs::remove_file(file);
    let t0 = mono_now();
    kill(pid);
    let daemon = stamps::take(file, Duration::from_secs(10))?;
    Some(ms_between(t0, daemon.exec.mono))
}

pub async fn run(samples: usize) -> Value {
    println!("\n7. restart: a daemon that ran over 1 s is SIGKILLed; kill → the new process's exec ({samples} each)");
    let sup = Supervisor::start();
    let mut client = sup.client().await;
    let dir = sup.dir.path().to_path_buf();
    let names: Vec<String> = (0..samples).map(|i| format!("crash{i}")).collect();
    let file = |who: &str, name: &str| dir.join("stamps").join(format!("{who}-{name}"));
    for name in &names {
        let action = ActionSpec::new(name, BinaryKind::Server)
            .exec(TESTD)
            .args(["--stamps".to_owned(), file("sup", name).display().to_string()])
            .socket(dir.join("s").join(format!("{name}.sock")).display().to_string())
            .restart(RestartPolicy::OnFailure);
        client.apply(&ServiceSpec::new(name, vec![action]), true).await.expect("apply");
    }
    for name in &names {
        let settled = client.wait_settled(name, 60_000).await.expect("wait");
        assert!(settled.iter().all(|s| s.pid.is_some()), "{name} did not start: {settled:#?}");
    }
    std::fs::create_dir_all(dir.join("f")).expect("floor sockets");
    let floor: Vec<Respawned> =
        names.iter().map(|n| Respawned::start(dir.join("f").join(format!("{n}.sock")), file("floor", n))).collect();
    // Every daemon has now run past s6's one second (setting up, not measured).
    std::thread::sleep(Duration::from_millis(1_300));
    let (mut supervised, mut floored) = (Vec::new(), Vec::new());
    for (name, respawned) in names.iter().zip(&floor) {
        let status = client.status(Some(name)).await.expect("status");
        let pid = status.first().and_then(|s| s.pid).expect("a running daemon");
        supervised.extend(kill_to_exec(pid, &file("sup", name)));
        floored.extend(kill_to_exec(respawned.pid.load(Ordering::SeqCst), &file("floor", name)));
    }
    floor.into_iter().for_each(Respawned::end);
    let targets: Vec<(&str, Option<&str>)> = names.iter().map(|n| (n.as_str(), None)).collect();
    client.stop_many(&targets).await.expect("stop");
    let extra = match (Summary::of(&supervised), Summary::of(&floored)) {
        (Some(s), Some(f)) => Some(s.p50 - f.p50),
        _ => None,
    };
    println!("   supervisor: {}", text_of(&supervised));
    println!("   floor:      {}", text_of(&floored));
    if let Some(extra) = extra {
        println!("   p50 extra over the floor: {extra:.3} ms (target ≤ 1 ms)");
    }
    json!({ "supervisor_ms": json_of(&supervised), "floor_ms": json_of(&floored), "p50_extra_ms": extra })
}
