//! The examples driven as a user drives them: real CLI processes, a real supervisor
//! they launch themselves, real daemons and sockets, all in a private directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use service_manifest::Client;
use service_manifest::api::{Event, EventKind, RunState};

/// Where cargo put the example binaries: `target/<profile>/examples`, beside `deps`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    profile.join("examples").join(name)
}

/// A private home for the supervisor, sockets and installed binaries.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        Self { dir: tempfile::Builder::new().prefix("sme").tempdir_in("/tmp").unwrap() }
    }

    fn command(&self, example_name: &str, args: &[&str]) -> Command {
        let mut c = Command::new(example(example_name));
        c.args(args)
            .env("SERVICE_MANIFEST_HOME", self.dir.path())
            .env("SERVICE_MANIFEST_BIN_DIR", self.dir.path().join("bin"))
            .env_remove("SERVICE_MANIFEST_SUPERVISOR_SOCKET")
            .env_remove("SERVICE_MANIFEST_SOCKET_DIR")
            .env("HERO_PROXY_START_DELAY_MS", "200");
        c
    }

    fn run(&self, example_name: &str, args: &[&str]) -> Output {
        self.command(example_name, args).output().unwrap()
    }

    async fn client(&self) -> Client {
        Client::connect(&self.dir.path().join("supervisor.sock")).await.unwrap()
    }

    async fn events(&self) -> Vec<Event> {
        self.client().await.events(0, 0).await.unwrap()
    }

    /// Live processes started from this world's bin directory, by program name.
    fn processes(&self, program: &str) -> usize {
        let wanted = self.dir.path().join("bin").join(program);
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
            .filter(|e| {
                let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                stat.rfind(')').and_then(|i| stat.get(i + 2..i + 3)) != Some("Z")
            })
            .filter(|e| {
                let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                cmd.split(|b| *b == 0).next() == Some(wanted.as_os_str().as_encoded_bytes())
            })
            .count()
    }

    fn supervisors(&self) -> usize {
        let socket = self.dir.path().join("supervisor.sock");
        let needle = socket.as_os_str().as_encoded_bytes().to_vec();
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                // Monitors are forks of the supervisor: same command line, their own name.
                let monitor = std::fs::read(e.path().join("comm")).is_ok_and(|c| c.starts_with(b"sm-monitor"));
                !monitor
                    && cmd.split(|b| *b == 0).any(|a| a == b"--run-supervisor")
                    && cmd.split(|b| *b == 0).any(|a| a == needle.as_slice())
            })
            .count()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // Drop may run inside a test's runtime, which cannot be blocked on: use a thread of its own.
        let socket = self.dir.path().join("supervisor.sock");
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async { Client::connect(&socket).await.ok()?.shutdown().await.ok() })
        })
        .join();
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn position(events: &[Event], action: &str, kind: fn(&EventKind) -> bool) -> usize {
    events
        .iter()
        .position(|e| e.action == action && kind(&e.kind))
        .unwrap_or_else(|| panic!("no such event for {action} in {events:#?}"))
}

fn spawned(k: &EventKind) -> bool {
    matches!(k, EventKind::Spawned { .. })
}
fn ready(k: &EventKind) -> bool {
    matches!(k, EventKind::Ready)
}
fn stopping(k: &EventKind) -> bool {
    matches!(k, EventKind::Stopping { .. })
}
fn exited(k: &EventKind) -> bool {
    matches!(k, EventKind::Exited { .. })
}

#[tokio::test(flavor = "current_thread")]
async fn collab_start_brings_up_hero_proxy_first_then_stop_runs_in_reverse() {
    let w = World::new();
    let out = w.run("hero_collab", &["--start"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("hero_collab: all 3 actions ready"), "{}", text(&out));

    let events = w.events().await;
    let proxy_ready = position(&events, "hero_proxy/hero_proxy_server", ready);
    let server_spawned = position(&events, "hero_collab/hero_collab_server", spawned);
    let server_ready = position(&events, "hero_collab/hero_collab_server", ready);
    let admin_spawned = position(&events, "hero_collab/hero_collab_admin", spawned);
    assert!(proxy_ready < server_spawned && server_ready < admin_spawned, "{events:#?}");

    let status = w.run("hero_collab", &["--status"]);
    let table = text(&status);
    for row in ["hero_proxy/hero_proxy_server", "hero_collab/hero_collab_server", "hero_collab/hero_collab_admin"] {
        let line = table.lines().find(|l| l.starts_with(row)).unwrap_or_else(|| panic!("{row} missing:\n{table}"));
        assert!(line.contains(" ready "), "{line}");
    }
    let json = w.run("hero_collab", &["--status", "--json"]);
    let statuses: Vec<service_manifest::api::ActionStatus> = serde_json::from_slice(&json.stdout).unwrap();
    assert!(statuses.iter().all(|s| s.state == RunState::Ready && s.pid.is_some()), "{statuses:#?}");

    let logs = w.run("hero_collab", &["--logs", "hero_collab_server"]);
    assert!(text(&logs).contains("listening on"), "{}", text(&logs));

    let stop = w.run("hero_collab", &["--stop"]);
    assert!(stop.status.success(), "{}", text(&stop));
    let said = text(&stop);
    let (admin, server) =
        (said.find("stopped hero_collab/hero_collab_admin"), said.find("stopped hero_collab/hero_collab_server"));
    assert!(admin.is_some() && server.is_some() && admin < server, "reverse order:\n{said}");
    let events = w.events().await;
    let admin_exited = position(&events, "hero_collab/hero_collab_admin", exited);
    let server_stopping = position(&events, "hero_collab/hero_collab_server", stopping);
    assert!(admin_exited < server_stopping, "{events:#?}");
    assert_eq!(w.processes("hero_collab_server") + w.processes("hero_collab_admin"), 0);
    assert_eq!(w.processes("hero_proxy_server"), 1, "stopping collab leaves hero_proxy running");

    // Stopping the dependency stops what requires it first, and says so.
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let said = text(&w.run("hero_proxy", &["--stop"]));
    assert!(
        said.contains("stopping hero_collab/hero_collab_server first: it requires hero_proxy/hero_proxy_server"),
        "{said}"
    );
    let order: Vec<&str> = said.lines().filter_map(|l| l.strip_prefix("stopped ")).collect();
    assert_eq!(
        order,
        ["hero_collab/hero_collab_admin", "hero_collab/hero_collab_server", "hero_proxy/hero_proxy_server"]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn livekit_never_starts_lk_backend_as_an_action() {
    let w = World::new();
    let out = w.run("hero_livekit", &["--start"]);
    assert!(out.status.success(), "{}", text(&out));
    let statuses = w.client().await.status(None).await.unwrap();
    let actions: Vec<&str> = statuses.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["hero_livekit_admin", "hero_livekit_server"]);
    assert!(!w.events().await.iter().any(|e| e.action.ends_with("/lk-backend")));
    // lk-backend runs exactly once: as hero_livekit_server's child.
    assert_eq!(w.processes("lk-backend"), 1);
    let before = w.client().await.status(Some("hero_livekit")).await.unwrap();
    let restart = w.run("hero_livekit", &["--restart"]);
    assert!(restart.status.success(), "{}", text(&restart));
    let after = w.client().await.status(Some("hero_livekit")).await.unwrap();
    for (b, a) in before.iter().zip(&after) {
        assert!(a.state == RunState::Ready && a.pid.is_some() && a.pid != b.pid, "{b:#?} -> {a:#?}");
    }
    assert_eq!(w.processes("lk-backend"), 1, "the restarted server brought its own lk-backend back");
    let plan = text(&w.run("hero_livekit", &["--plan"]));
    assert!(plan.contains("lk-backend [server]  spawned by hero_livekit_server"), "{plan}");
}

#[tokio::test(flavor = "current_thread")]
async fn collab_fails_naming_hero_proxy_when_it_cannot_start() {
    let w = World::new();
    // The daemon does not inherit the CLI's environment: the failure is asked for with a file.
    std::fs::create_dir_all(w.dir.path().join("sockets")).unwrap();
    std::fs::write(w.dir.path().join("sockets/hero_proxy.fail"), "").unwrap();
    let out = w.command("hero_collab", &["--start"]).output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let message = text(&out);
    assert!(
        message.contains("error: hero_collab/hero_collab_server failed: cannot start hero_collab/hero_collab_server: requires hero_proxy/hero_proxy_server: failed: exited with status 1: hero_proxy_server: cannot start: HERO_PROXY_FAIL is set"),
        "{message}"
    );
    assert_eq!(w.processes("hero_collab_server"), 0, "collab was never started");
}

#[tokio::test(flavor = "current_thread")]
async fn two_concurrent_starts_leave_one_process_per_action() {
    let w = World::new();
    let a = w.command("hero_collab", &["--start"]).spawn().unwrap();
    let b = w.command("hero_collab", &["--start"]).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{}\n{}", text(&a), text(&b));
    for program in ["hero_proxy_server", "hero_collab_server", "hero_collab_admin"] {
        assert_eq!(w.processes(program), 1, "{program}");
    }
    assert_eq!(w.supervisors(), 1);
}

#[test]
fn plan_and_graph_need_no_supervisor() {
    let w = World::new();
    let plan = w.run("hero_collab", &["--plan"]);
    let plan = text(&plan);
    let proxy = plan.find("1. hero_proxy/hero_proxy_server").unwrap();
    let server = plan.find("2. hero_collab/hero_collab_server").unwrap();
    let admin = plan.find("3. hero_collab/hero_collab_admin").unwrap();
    assert!(proxy < server && server < admin, "{plan}");
    assert!(plan.contains("install-only (never started):\n   hero_collab [cli]"), "{plan}");

    let json: serde_json::Value = serde_json::from_slice(&w.run("hero_collab", &["--plan", "--json"]).stdout).unwrap();
    assert_eq!(json["order"][0], "hero_proxy/hero_proxy_server");
    assert_eq!(json["install_only"][0]["name"], "hero_collab");

    let dot = text(&w.run("hero_collab", &["--graph"]));
    assert!(dot.starts_with("digraph \"hero_collab\"") && dot.contains("requires · socket"), "{dot}");
    let mermaid = text(&w.run("hero_livekit", &["--graph", "mermaid"]));
    assert!(mermaid.contains("-.->|spawns|"), "{mermaid}");
    assert!(!w.dir.path().join("supervisor.sock").exists(), "nothing was started");
}

#[test]
fn status_without_a_supervisor_says_how_to_start_one() {
    let w = World::new();
    let out = w.run("hero_collab", &["--status"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no supervisor is running on") && text(&out).contains("--start starts one"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn foreground_runs_until_ctrl_c_then_stops_everything() {
    let w = World::new();
    let child = w
        .command("hero_collab", &["--foreground"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let socket = w.dir.path().join("supervisor.sock");
    let mut client = loop {
        // The supervisor comes up inside the CLI's own process; wait for its socket.
        match Client::connect(&socket).await {
            Ok(c) => break c,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
    };
    let mut settled = client.wait("hero_collab", service_manifest::api::WaitFor::Settled, 20_000).await;
    while settled.as_ref().is_err() {
        // `wait` answers "no such service" until the CLI has defined it.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        settled = client.wait("hero_collab", service_manifest::api::WaitFor::Settled, 20_000).await;
    }
    let settled = settled.unwrap();
    assert!(settled.settled && settled.actions.iter().all(|s| s.state == RunState::Ready), "{settled:#?}");
    assert_eq!(w.processes("hero_collab_server"), 1);
    drop(client);

    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("running in the foreground; Ctrl-C stops everything"), "{}", text(&out));
    for program in ["hero_proxy_server", "hero_collab_server", "hero_collab_admin"] {
        assert_eq!(w.processes(program), 0, "{program} outlived the foreground supervisor");
    }
}
