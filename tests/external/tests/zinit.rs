//! The examples driven through `--backend zinit` against a real `zinit-server` 0.3.9,
//! with the real demo daemons and sockets, all in a private directory.
//!
//! `.ci/run` installs zinit-server into `${XDG_CACHE_HOME:-~/.cache}/service_manifest/zinit-0.3.9`;
//! the build script also looks at `ZINIT_SERVER` and `PATH`. Without it these tests are
//! ignored with the reason; in CI, `nothing_is_ignored_in_ci` fails instead.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;
use service_manifest_runtime::backend::wait_socket;
use service_manifest_runtime::backend::zinit::Zinit;

/// The zinit-server the build script found.
fn zinit_server() -> PathBuf {
    match option_env!("ZINIT_SERVER_FOUND") {
        Some(found) => PathBuf::from(found),
        None => panic!("no zinit-server was found when this was built"),
    }
}

/// `target/<profile>`: the examples are in `examples/` below it. The first call builds them (a no-op when they are up to date): `cargo test -p` of
/// this crate alone does not, and a test must never run a stale example.
fn profile_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "service_manifest", "--examples", "--manifest-path"]).arg(&root);
        build.arg("--target-dir").arg(profile.parent().unwrap());
        if profile.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        assert!(build.status().unwrap().success(), "building the examples failed");
    });
    profile
}

/// A private zinit-server, bin directory and socket directory.
struct World {
    dir: tempfile::TempDir,
    zinit: Child,
}

impl World {
    fn new(server: &Path) -> Self {
        let dir = tempfile::Builder::new().prefix("smz").tempdir_in("/tmp").unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // No socket waiter is installed: the CLI is its own (nothing extra to install).
        let zinit = Command::new(server)
            .arg("--config-dir")
            .arg(dir.path().join("zinit"))
            .arg("--socket")
            .arg(dir.path().join("zinit.sock"))
            // zinit hands its own environment to what it starts: a slow proxy makes an
            // early start of collab's server visible (it refuses to run without the proxy).
            .env("HERO_PROXY_START_DELAY_MS", "400")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let world = Self { dir, zinit };
        wait_socket::wait(&world.socket(), Duration::from_secs(30)).expect("zinit-server listens");
        world
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("zinit.sock")
    }

    fn run(&self, example: &str, args: &[&str]) -> Output {
        Command::new(profile_dir().join("examples").join(example))
            .args(["--backend", "zinit"])
            .args(args)
            .env("SERVICE_MANIFEST_ZINIT_SOCKET", self.socket())
            .env("SERVICE_MANIFEST_HOME", self.dir.path())
            .env("SERVICE_MANIFEST_BIN_DIR", self.dir.path().join("bin"))
            .env_remove("SERVICE_MANIFEST_SOCKET_DIR")
            .env_remove("SERVICE_MANIFEST_SUPERVISOR_SOCKET")
            .env_remove("SERVICE_MANIFEST_BACKEND")
            .output()
            .unwrap()
    }

    fn rpc(&self) -> Zinit {
        Zinit::connect(&self.socket()).unwrap()
    }

    fn logs(&self, name: &str) -> String {
        let lines = self.rpc().call("logs.get", json!({ "name": name, "lines": 10_000 })).unwrap();
        lines.as_array().unwrap().iter().filter_map(|l| l.as_str()).collect::<Vec<_>>().join("\n")
    }

    /// Live processes started from this world's bin directory, by program name.
    fn processes(&self, program: &str) -> usize {
        let wanted = self.dir.path().join("bin").join(program);
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                stat.rfind(')').and_then(|i| stat.get(i + 2..i + 3)).is_some_and(|s| s != "Z")
            })
            .filter(|e| {
                let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                cmd.split(|b| *b == 0).next() == Some(wanted.as_os_str().as_encoded_bytes())
            })
            .count()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // zinit leaves its children running when it is merely killed: ask it to stop
        // everything and exit, and kill it only if it does not.
        if let Ok(mut z) = Zinit::connect(&self.socket()) {
            let _ = z.call("system.shutdown", json!({}));
        }
        for _ in 0..200 {
            if self.zinit.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.zinit.kill();
        let _ = self.zinit.wait();
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
#[cfg_attr(no_zinit, ignore = "no zinit-server was found when this was built (see the README's Tests section)")]
fn collab_starts_through_zinit_only_once_hero_proxys_socket_accepts() {
    let server = zinit_server();
    let world = World::new(&server);
    let out = world.run("hero_collab", &["--start"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    // The proxy was pulled in: registered from collab's declaration and started first.
    assert!(said.contains("registered hero_proxy.hero_proxy_server with zinit"), "{said}");
    // The CLI samples zinit's states (and may miss a short `starting`), always the proxy
    // before collab's server in one sweep: the proxy is seen running no later than the server.
    let proxy_running = said.find("hero_proxy.hero_proxy_server: running").expect("the proxy ran");
    let server_running = said.find("hero_collab.hero_collab_server: running").expect("collab's server ran");
    assert!(proxy_running < server_running, "{said}");
    // collab's demo server refuses to start unless the proxy accepts: had zinit spawned it
    // before the (slow, 400 ms) proxy was ready, its log would say so, and it would have
    // been restarted.
    let log = world.logs("hero_collab.hero_collab_server");
    assert!(!log.contains("refusing to start"), "collab's server was spawned before the proxy accepted:\n{log}");
    assert_eq!(log.matches("listening on").count(), 1, "{log}");
    assert_eq!(world.processes("hero_collab_server"), 1);
    assert_eq!(world.processes("hero_proxy_server"), 1);

    // Counted as the embedded supervisor counts: the proxy it pulled in, the server, the admin.
    assert!(said.contains("hero_collab: all 3 actions up (zinit)"), "{said}");

    // --status through zinit, with the daemon's own pid (not a shell's).
    let out = world.run("hero_collab", &["--status"]);
    let status = text(&out);
    assert!(out.status.success(), "{status}");
    for action in ["hero_collab.hero_collab_server", "hero_collab.hero_collab_admin"] {
        let line = status.lines().find(|l| l.starts_with(action) && l.contains("running")).expect(&status);
        let pid: u32 = line.split_whitespace().nth(2).and_then(|p| p.parse().ok()).expect(line);
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let program = cmdline.split(|b| *b == 0).next().map(|p| String::from_utf8_lossy(p).into_owned());
        let daemon = world.dir.path().join("bin").join(action.split_once('.').unwrap().1);
        assert_eq!(program, Some(daemon.display().to_string()), "{line}");
    }

    // --logs through zinit.
    let out = world.run("hero_collab", &["--logs", "hero_collab_server"]);
    assert!(out.status.success() && text(&out).contains("listening on"), "{}", text(&out));
    // With the times the embedded supervisor's logs have, not zinit's epoch milliseconds.
    let listening =
        String::from_utf8_lossy(&out.stdout).lines().find(|l| l.contains("listening on")).unwrap().to_owned();
    let (stamp, rest) = listening.split_once(' ').unwrap();
    assert!(humantime::parse_rfc3339(stamp).is_ok() && rest.starts_with("listening on"), "{listening}");

    // A second --start changes nothing: no re-registration, same processes.
    let pid_before = world.rpc().status("hero_collab.hero_collab_server").unwrap().pid;
    let out = world.run("hero_collab", &["--start"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("registered"), "{}", text(&out));
    assert_eq!(world.rpc().status("hero_collab.hero_collab_server").unwrap().pid, pid_before);
}

#[test]
#[cfg_attr(no_zinit, ignore = "no zinit-server was found when this was built (see the README's Tests section)")]
fn stopping_the_proxy_through_zinit_stops_collab_first_and_start_brings_the_chain_back() {
    let server = zinit_server();
    let world = World::new(&server);
    assert!(world.run("hero_collab", &["--start"]).status.success());

    let out = world.run("hero_proxy", &["--stop"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("stopped hero_collab.hero_collab_server first: it depends on hero_proxy"), "{said}");
    assert!(said.contains("stopped hero_proxy.hero_proxy_server"), "{said}");
    assert_eq!(world.processes("hero_collab_server") + world.processes("hero_proxy_server"), 0);
    let stopped = world.run("hero_collab", &["--status"]);
    let status = text(&stopped);
    assert!(!status.contains("running"), "{status}");
    // The README's exit codes: 3 when something wanted is not up.
    assert_eq!(stopped.status.code(), Some(3), "{status}");
    assert!(status.contains("not up: hero_collab.hero_collab_server"), "{status}");

    // zinit would leave collab blocked on the stopped proxy; --start starts the chain.
    let out = world.run("hero_collab", &["--start"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(world.processes("hero_proxy_server"), 1);
    assert_eq!(world.processes("hero_collab_admin"), 1);

    // --restart through zinit: new processes, the dependency untouched.
    let proxy = world.rpc().status("hero_proxy.hero_proxy_server").unwrap().pid;
    let server = world.rpc().status("hero_collab.hero_collab_server").unwrap().pid;
    let out = world.run("hero_collab", &["--restart"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(world.rpc().status("hero_collab.hero_collab_server").unwrap().pid, server);
    assert_eq!(world.rpc().status("hero_proxy.hero_proxy_server").unwrap().pid, proxy);

    let out = world.run("hero_collab", &["--stop"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let admin = said.find("stopped hero_collab.hero_collab_admin").expect("admin stopped");
    let server = said.find("stopped hero_collab.hero_collab_server").expect("server stopped");
    assert!(admin < server, "reverse order: {said}");
    assert_eq!(world.processes("hero_collab_server"), 0);
    assert_eq!(world.processes("hero_proxy_server"), 1, "stopping collab leaves its dependency running");
}

#[test]
#[cfg_attr(no_zinit, ignore = "no zinit-server was found when this was built (see the README's Tests section)")]
fn lk_backend_is_never_registered_with_zinit_but_runs_as_its_parents_child() {
    let server = zinit_server();
    let world = World::new(&server);
    let out = world.run("hero_livekit", &["--start"]);
    assert!(out.status.success(), "{}", text(&out));
    let names = world.rpc().call("service.list", json!({})).unwrap();
    let names: Vec<&str> = names.as_array().unwrap().iter().filter_map(|n| n.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| !n.contains("lk-backend") && !n.contains("hero_do_hero_livekit")), "{names:?}");
    assert_eq!(world.processes("lk-backend"), 1, "hero_livekit_server spawns it");

    let out = world.run("hero_livekit", &["--logs", "lk-backend"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("`lk-backend` is install-only"), "{}", text(&out));
}

#[test]
fn a_command_without_zinit_running_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(profile_dir().join("examples/hero_collab"))
        .args(["--backend", "zinit", "--status", "--zinit-socket"])
        .arg(dir.path().join("none.sock"))
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "--status: nothing runs: {said}");
    assert!(said.contains("no zinit-server answers on") && said.contains("none.sock"), "{said}");
    // A command of the embedded supervisor alone is named as the user wrote it.
    let out = Command::new(profile_dir().join("examples/hero_collab"))
        .args(["--backend", "zinit", "--timeline", "--zinit-socket"])
        .arg(dir.path().join("none.sock"))
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("--timeline is a command of the embedded supervisor"), "{said}");
}

#[test]
#[cfg_attr(no_zinit, ignore = "no zinit-server was found when this was built (see the README's Tests section)")]
fn status_of_a_service_zinit_never_registered_exits_4() {
    let server = zinit_server();
    let world = World::new(&server);
    let out = world.run("hero_collab", &["--status"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not registered with zinit"), "{}", text(&out));
}

#[test]
#[cfg_attr(no_zinit, ignore = "no zinit-server was found when this was built (see the README's Tests section)")]
fn a_dependency_the_registration_no_longer_has_is_removed_from_zinit() {
    let server = zinit_server();
    let world = World::new(&server);
    assert!(world.run("hero_proxy", &["--start"]).status.success());
    assert!(world.run("hero_proxy", &["--stop"]).status.success());
    // What an earlier start left (with a profile that added a dependency, say): the proxy
    // requires a service that is not running, so zinit keeps it blocked.
    // (zinit 0.3.9 hangs on a `service.set` of a name it knows: delete it first.)
    let mut rpc = world.rpc();
    let ghost = json!({ "service": { "name": "ghost.ghost", "exec": "sleep 600" } });
    rpc.call("service.set", json!({ "config": ghost })).unwrap();
    let mut stored = rpc.config("hero_proxy.hero_proxy_server").unwrap().unwrap();
    stored["dependencies"]["requires"] = json!(["ghost.ghost"]);
    rpc.call("service.delete", json!({ "name": "hero_proxy.hero_proxy_server" })).unwrap();
    rpc.call("service.set", json!({ "config": stored })).unwrap();

    let out = world.run("hero_proxy", &["--start"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("registered hero_proxy.hero_proxy_server with zinit"), "{said}");
    let now = world.rpc().config("hero_proxy.hero_proxy_server").unwrap().unwrap();
    let requires = now["dependencies"]["requires"].as_array().map_or(0, Vec::len);
    assert_eq!(requires, 0, "{now}");
    assert_eq!(world.processes("hero_proxy_server"), 1);
}

#[test]
fn plan_with_the_zinit_backend_says_what_zinit_enforces_differently() {
    let out = Command::new(profile_dir().join("examples/hero_collab"))
        .args(["--backend", "zinit", "--plan"])
        .env_remove("SERVICE_MANIFEST_BACKEND")
        .output()
        .unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.starts_with("hero_collab: start plan\n"), "{said}");
    assert!(said.contains("zinit does not start a stopped dependency; --start starts the chain"), "{said}");
    // The proxy edge's own 15 s timeout cannot be kept; the sibling edge's is the sibling's.
    assert!(
        said.contains("hero_collab/hero_collab_server → hero_proxy/hero_proxy_server: the edge's timeout"),
        "{said}"
    );
    assert!(!said.contains("hero_collab_admin → hero_collab/hero_collab_server: the edge's timeout"), "{said}");
    let embedded = Command::new(profile_dir().join("examples/hero_collab"))
        .args(["--plan", "--backend", "embedded"])
        .output()
        .unwrap();
    assert!(!text(&embedded).contains("zinit"), "{}", text(&embedded));
}
