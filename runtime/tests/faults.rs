//! The supervisor under faults and hostile neighbours, with real processes: directories
//! and sockets of another user, a stop during a restart, a gate that timed out, a daemon
//! that exits before it is ready, a killed monitor, a record lost in a crash.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use service_manifest_runtime::api::{RunState, WaitFor};
use service_manifest_runtime::{ActionSpec, BinaryKind, ClientError, RestartPolicy};

/// Tests that need a second user run as root (CI does). Elsewhere they say they were
/// skipped; with `CI=true` a skip is a failure, so CI cannot pass without running them.
fn root_or_skip(what: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{what} needs root, and CI must run it");
    eprintln!("skipped: {what} needs root to act as a second user");
    false
}

/// Runs the supervisor on `socket` in the foreground until it exits; returns its exit
/// status and what it logged.
fn run_supervisor(socket: &Path, bin_dir: &Path, socket_dir: &Path) -> (std::process::ExitStatus, String) {
    let out = Command::new(SUPERVISOR)
        .args(["--socket", path(socket), "--bin-dir", path(bin_dir), "--socket-dir", path(socket_dir)])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status, text)
}

#[test]
fn a_state_directory_another_user_made_is_refused_and_nothing_it_registered_runs() {
    if !root_or_skip("planting a state directory owned by another user") {
        return;
    }
    let root = tempfile::Builder::new().prefix("smf").tempdir_in("/tmp").unwrap();
    let home = root.path().join("home");
    let state = home.join("sup.state");
    // The other user got there first: a registration that runs their program.
    let marker = root.path().join("ran-as-root");
    let evil = service(
        "evil",
        vec![
            ActionSpec::new("a", BinaryKind::Server)
                .exec("/bin/sh")
                .args(["-c", &format!("touch {}", marker.display())]),
        ],
    );
    std::fs::create_dir_all(state.join("services")).unwrap();
    std::fs::create_dir_all(state.join("actions/evil")).unwrap();
    std::fs::write(state.join("services/evil.json"), serde_json_vec(&evil)).unwrap();
    std::fs::write(state.join("actions/evil/a.json"), br#"{"wanted":true,"run":0,"process":null}"#).unwrap();
    for dir in [&home, &state, &state.join("services"), &state.join("actions"), &state.join("actions/evil")] {
        std::os::unix::fs::chown(dir, Some(65534), Some(65534)).unwrap();
    }
    let (status, log) = run_supervisor(&home.join("sup.sock"), &root.path().join("bin"), &root.path().join("s"));
    assert!(!status.success(), "{log}");
    assert!(log.contains(&format!("refusing to use {}", home.display())) && log.contains("uid 65534"), "{log}");
    assert!(!marker.exists(), "the other user's program ran");
}

#[test]
fn a_socket_directory_others_can_write_is_refused_naming_its_mode() {
    let root = tempfile::Builder::new().prefix("smf").tempdir_in("/tmp").unwrap();
    let open = root.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (status, log) = run_supervisor(&open.join("sup.sock"), &root.path().join("bin"), &root.path().join("s"));
    assert!(!status.success(), "{log}");
    assert!(log.contains(&open.display().to_string()) && log.contains("0777"), "{log}");
    assert!(!open.join("sup.sock").exists());
}

#[tokio::test(flavor = "current_thread")]
async fn the_client_sends_nothing_to_a_server_of_another_user() {
    if !root_or_skip("a server run by a second user") {
        return;
    }
    let root = tempfile::Builder::new().prefix("smf").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let shared = root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let socket = shared.join("sup.sock");
    let mut fake = Command::new(TESTD).args(["--socket", path(&socket)]).uid(65534).gid(65534).spawn().unwrap();
    let mut waited = 0;
    while !service_manifest_runtime::supervisor::socket_accepts(&socket) {
        assert!(fake.try_wait().unwrap().is_none(), "the fake server exited");
        waited += 1;
        assert!(waited < 20_000, "the fake server never listened");
        std::thread::sleep(Duration::from_millis(1));
    }
    let result = service_manifest_runtime::Client::connect(&socket).await;
    let _ = fake.kill();
    let _ = fake.wait();
    match result {
        Err(e @ ClientError::Untrusted { uid: 65534, .. }) => {
            assert!(e.to_string().contains("uid 65534"), "{e}");
        }
        Err(e) => panic!("expected a refusal naming uid 65534, got {e}"),
        Ok(_) => panic!("the client talked to another user's server"),
    }
}

fn serde_json_vec(spec: &service_manifest_runtime::ServiceSpec) -> Vec<u8> {
    serde_json::to_vec(spec).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_stop_asked_during_a_restart_wins_and_the_restart_says_it_was_superseded() {
    let h = Harness::new();
    let mut client = h.client().await;
    // It ignores SIGTERM, so the restart's stop phase lasts the whole grace.
    client.apply(&service("svc_r", vec![h.stubborn("mule")]), true).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_r", 20_000).await.unwrap()));
    h.wait_until_ignoring_term("mule");
    let head = client.info().await.unwrap().journal_seq;
    let socket = h.socket.clone();
    let restart = tokio::spawn(async move {
        let mut other = service_manifest_runtime::Client::connect(&socket).await.unwrap();
        other.restart("svc_r", None).await
    });
    events_after(&mut client, head, "svc_r/mule", "stopping").await;
    let stop = client.stop("svc_r", None).await.unwrap();
    assert_eq!(stop.superseded, None, "the later request is not superseded");
    let restart = restart.await.unwrap().unwrap();
    let by = restart.superseded.expect("the restart says it was superseded");
    assert!(by.contains("stop"), "{by}");
    // Both jobs are finished: nothing brings it back.
    let status = client.status(Some("svc_r")).await.unwrap();
    let mule = state_of(&status, "svc_r", "mule");
    assert!(!mule.wanted && mule.pid.is_none() && !mule.state.is_alive(), "{status:#?}");
    assert_eq!(h.groups_of("mule").len(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_gate_that_timed_out_but_holds_does_not_keep_the_supervisor_busy() {
    let h = Harness::new();
    let mut client = h.client().await;
    // The gate on `fast` holds within milliseconds and its 100 ms timeout passes while
    // the other gate keeps the dependent waiting: `slow` listens 2 s later.
    let fast = h.served("svc_g", "fast", 0);
    let slow = h.served("svc_g", "slow", 2_000);
    let dependent = h
        .served("svc_g", "dependent", 0)
        .depends_on(requires("svc_g", "fast", &h.sock("svc_g", "fast")).timeout_ms(100))
        .depends_on(requires("svc_g", "slow", &h.sock("svc_g", "slow")).timeout_ms(60_000));
    client.apply(&service("svc_g", vec![fast, slow, dependent]), true).await.unwrap();
    let events = events_after(&mut client, 0, "svc_g/fast", "ready").await;
    let cpu_before = cpu_ticks(client.info().await.unwrap().pid);
    let since = events.last().map_or(0, |e| e.seq);
    let spawned = events_after(&mut client, since, "svc_g/dependent", "spawned").await;
    assert!(has(&spawned, "svc_g/slow", "ready"), "{spawned:#?}");
    let used = cpu_ticks(client.info().await.unwrap().pid) - cpu_before;
    // Waking at once on the past deadline, over and over, cost a core for those ~2 s
    // (about 200 ticks); waiting costs next to nothing.
    assert!(used < 50, "the supervisor used {used} clock ticks of CPU while one gate waited");
}

/// The supervisor's user + system CPU time, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_daemon_that_exits_0_before_it_is_ready_fails_and_its_dependent_fails_at_once() {
    let h = Harness::new();
    let mut client = h.client().await;
    // It prints its usage and exits 0, never binding its socket.
    let quitter = h.served("svc_q", "quitter", 0).args(["--exit", "0", "--tag", &format!("{}@quitter", h.tag)]);
    let dependent = h
        .served("svc_q", "dependent", 0)
        .depends_on(requires("svc_q", "quitter", &h.sock("svc_q", "quitter")).timeout_ms(600_000));
    client.apply(&service("svc_q", vec![quitter, dependent]), true).await.unwrap();
    let answer = client.wait("svc_q", WaitFor::Up, 60_000).await.unwrap();
    assert!(!answer.settled, "{answer:#?}");
    let quitter = state_of(&answer.actions, "svc_q", "quitter");
    assert_eq!(quitter.state, RunState::Failed, "{answer:#?}");
    assert!(quitter.reason.as_deref().is_some_and(|r| r.contains("status 0 before it became ready")), "{quitter:#?}");
    // Its dependent did not wait out its ten-minute gate.
    let dependent = state_of(&answer.actions, "svc_q", "dependent");
    assert_eq!(dependent.state, RunState::Failed, "{answer:#?}");
    assert!(dependent.reason.as_deref().is_some_and(|r| r.contains("svc_q/quitter")), "{dependent:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_killed_monitor_of_an_adopted_daemon_never_lets_a_second_instance_run() {
    let mut h = Harness::new();
    let mut client = h.client().await;
    let daemon = h.served("svc_m", "kept", 0).restart(RestartPolicy::OnFailure);
    client.apply(&service("svc_m", vec![daemon]), true).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_m", 20_000).await.unwrap()));
    let old = state_of(&client.status(Some("svc_m")).await.unwrap(), "svc_m", "kept").pid.unwrap();
    drop(client);
    h.kill_supervisor();
    h.start_supervisor();
    let mut client = h.client().await;
    assert!(all_ready(&client.wait_settled("svc_m", 20_000).await.unwrap()), "adopted");
    let head = client.info().await.unwrap().journal_seq;
    // The OOM killer, or a clean-up script, ends the monitor; the daemon lives on.
    let status_file = h.state_dir().join("exits/svc_m/kept.status");
    let monitor: i32 = std::fs::read_to_string(&status_file).unwrap().split(' ').nth(2).unwrap().parse().unwrap();
    rustix::process::kill_process(rustix::process::Pid::from_raw(monitor).unwrap(), rustix::process::Signal::KILL)
        .unwrap();
    events_after(&mut client, head, "svc_m/kept", "ready").await;
    let groups = h.groups_of("kept");
    assert_eq!(groups.len(), 1, "one instance, not the old one beside a new one: {groups:?}");
    assert!(!groups.contains(&old), "the old instance was ended before the new one started");
}

#[tokio::test(flavor = "current_thread")]
async fn an_empty_action_record_after_a_crash_does_not_orphan_the_running_daemon() {
    let mut h = Harness::new();
    let mut client = h.client().await;
    client.apply(&service("svc_e", vec![h.served("svc_e", "kept", 0)]), true).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_e", 20_000).await.unwrap()));
    drop(client);
    h.kill_supervisor();
    // The crash left the record empty, as a power loss after its creation would.
    std::fs::write(h.state_dir().join("actions/svc_e/kept.json"), b"").unwrap();
    h.start_supervisor();
    let mut client = h.client().await;
    let events = client.events(0, 0).await.unwrap();
    assert!(has(&events, "svc_e/kept", "adopted"), "{events:#?}");
    // Asked again, it is already up: no second copy.
    client.apply(&service("svc_e", vec![h.served("svc_e", "kept", 0)]), true).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_e", 20_000).await.unwrap()));
    assert_eq!(h.groups_of("kept").len(), 1);
}

/// A small tmpfs mounted over `dir` for one test; unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Self {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs", path(dir)])
            .status()
            .unwrap();
        assert!(status.success(), "mount tmpfs on {}", dir.display());
        Self(dir.to_path_buf())
    }

    /// Writes a file until the file system is full; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.0.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").args(["-l", path(&self.0)]).status();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_disk_loses_nothing_that_was_acknowledged() {
    if !root_or_skip("mounting a small tmpfs as the full disk") {
        return;
    }
    let mut h = Harness::new();
    h.kill_supervisor();
    let state = h.state_dir();
    let disk = Tmpfs::mount(&state, "256k");
    h.start_supervisor();
    let mut client = h.client().await;
    let filler = disk.fill();
    let spec = service("svc_full", vec![h.served("svc_full", "kept", 0)]);
    // Not saved: an error, and the status names what is not on disk.
    let e = client.define(&spec).await.unwrap_err();
    assert!(e.to_string().contains("could not save"), "{e}");
    let status = client.status(Some("svc_full")).await.unwrap();
    let error = status[0].save_error.clone().unwrap_or_default();
    assert!(error.contains("registration of svc_full"), "{status:#?}");
    // The same define again is not "unchanged": it is still not on disk.
    let again = client.define(&spec).await;
    assert!(again.is_err(), "a retry of an unsaved define answered {again:?}");
    // Apply cannot save, so it starts nothing.
    let e = client.apply(&spec, true).await.unwrap_err();
    assert!(e.to_string().contains("nothing was started"), "{e}");
    let status = client.status(Some("svc_full")).await.unwrap();
    assert!(status.iter().all(|s| !s.wanted && s.pid.is_none()), "{status:#?}");
    assert_eq!(h.groups_of("kept").len(), 0);
    // Space again: the next request saves what was left unsaved, and the error clears.
    std::fs::remove_file(filler).unwrap();
    let report = client.define(&spec).await.unwrap();
    assert!(report.changed, "it was not on disk before this define");
    let status = client.status(Some("svc_full")).await.unwrap();
    assert!(status.iter().all(|s| s.save_error.is_none()), "{status:#?}");
    // What was acknowledged survives a crash.
    drop(client);
    h.kill_supervisor();
    h.start_supervisor();
    let mut client = h.client().await;
    let services = client.list().await.unwrap();
    assert!(services.iter().any(|s| s.name == "svc_full"), "{services:#?}");
    drop(client);
    h.kill_supervisor();
    drop(disk);
}

/// The supervisor's spawner process (its child, named `sm-spawner` once it has started:
/// the supervisor may answer before the fork has renamed itself, so look until it has).
fn spawner_of(supervisor: u32) -> i32 {
    let find = || {
        std::fs::read_dir("/proc").unwrap().flatten().filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok()).find(
            |pid| {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let ppid = stat.rfind(')').and_then(|i| stat[i + 2..].split(' ').nth(1)?.parse::<u32>().ok());
                comm.trim() == "sm-spawner" && ppid == Some(supervisor)
            },
        )
    };
    for _ in 0..10_000 {
        if let Some(pid) = find() {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("the supervisor has no spawner");
}

/// Waits until `done` holds; fails the test if it does not within 30 s.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(pid: i32, signal: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), signal).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_spawn_that_never_answers_is_abandoned_at_the_start_timeout_and_retried() {
    let h = Harness::new();
    let mut client = h.client().await;
    let spawner = spawner_of(client.info().await.unwrap().pid);
    signal(spawner, rustix::process::Signal::STOP);
    let daemon = h.served("svc_h", "patient", 0).start_timeout_ms(1_000).restart(RestartPolicy::OnFailure);
    client.apply(&service("svc_h", vec![daemon]), true).await.unwrap();
    let answer = client.wait("svc_h", WaitFor::Up, 60_000).await.unwrap();
    assert!(answer.settled, "{answer:#?}");
    let events = client.events(0, 0).await.unwrap();
    let abandoned = events.iter().any(|e| {
        matches!(&e.kind, service_manifest_runtime::api::EventKind::Failed { reason } if reason.contains("abandoned"))
    });
    assert!(abandoned, "{events:#?}");
    assert_eq!(state_of(&answer.actions, "svc_h", "patient").restarts, 1, "{answer:#?}");
    assert_eq!(h.groups_of("patient").len(), 1);
    // The stuck spawner was killed; monitors are forked directly now.
    let stat = std::fs::read_to_string(format!("/proc/{spawner}/stat")).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z "), "the stopped spawner is still there: {stat}");
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_finishes_while_a_spawn_hangs() {
    let h = Harness::new();
    let mut client = h.client().await;
    let spawner = spawner_of(client.info().await.unwrap().pid);
    signal(spawner, rustix::process::Signal::STOP);
    let daemon = h.served("svc_s", "never", 0).start_timeout_ms(2_000);
    client.apply(&service("svc_s", vec![daemon]), true).await.unwrap();
    let report = tokio::time::timeout(Duration::from_secs(60), client.shutdown()).await;
    let report = report.expect("shutdown did not finish").unwrap();
    assert!(report.actions.contains(&"svc_s/never".to_owned()), "{report:#?}");
    assert_eq!(h.groups_of("never").len(), 0, "nothing of the abandoned spawn runs");
}

/// Monitors outlive the spawner that started them (on x86-64 they share its memory, which
/// must stay theirs): after a `SIGKILL` to the spawner the running daemons keep their
/// logs, their stops are seen through to "the group is gone" with the exit recorded, and
/// new starts fork their monitors directly.
#[tokio::test(flavor = "current_thread")]
async fn a_killed_spawner_leaves_every_running_monitor_doing_its_work() {
    let h = Harness::new();
    let mut client = h.client().await;
    let ticker = ActionSpec::new("ticker", BinaryKind::Server)
        .exec("/bin/sh")
        .args(["-c", "while :; do echo tick; sleep 0.02; done", &format!("{}@ticker", h.tag)])
        .restart(RestartPolicy::Never);
    client.apply(&service("svc_k", vec![ticker, h.served("svc_k", "kept", 0)]), true).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_k", 20_000).await.unwrap()));
    let spawner = spawner_of(client.info().await.unwrap().pid);
    signal(spawner, rustix::process::Signal::KILL);
    let log = h.state_dir().join("logs/svc_k/ticker.log");
    let ticks = || std::fs::read_to_string(&log).unwrap_or_default().matches("tick").count();
    let at_kill = ticks();
    // The spawner is gone (reaped by the supervisor, or a zombie until then).
    let gone = || std::fs::read_to_string(format!("/proc/{spawner}/stat")).map_or(true, |s| s.contains(") Z "));
    wait_until("the spawner to die", gone);
    wait_until("the ticker's lines to reach its log", || ticks() >= at_kill + 5);
    // A start after it: its monitor is forked directly.
    client.apply(&service("svc_l", vec![h.served("svc_l", "later", 0)]), true).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_l", 20_000).await.unwrap()));
    // The old monitors see their groups through to the end and record how they ended.
    let head = client.info().await.unwrap().journal_seq;
    client.stop("svc_k", None).await.unwrap();
    for action in ["svc_k/ticker", "svc_k/kept"] {
        events_after(&mut client, head, action, "exited").await;
    }
    assert_eq!(h.groups_of("ticker").len() + h.groups_of("kept").len(), 0);
    for action in ["ticker", "kept"] {
        let status = std::fs::read_to_string(h.state_dir().join(format!("exits/svc_k/{action}.status"))).unwrap();
        assert!(status.starts_with("signal 15 "), "{action}: {status}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn remove_deletes_the_logs_and_exit_records_it_kept() {
    let h = Harness::new();
    let mut client = h.client().await;
    client.apply(&service("svc_x", vec![h.served("svc_x", "gone", 0)]), true).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_x", 20_000).await.unwrap()));
    let logs = h.state_dir().join("logs/svc_x");
    let exits = h.state_dir().join("exits/svc_x");
    assert!(logs.exists() && exits.exists());
    client.remove("svc_x").await.unwrap();
    assert!(!logs.exists(), "{} is left behind", logs.display());
    assert!(!exits.exists(), "{} is left behind", exits.display());
}

#[tokio::test(flavor = "current_thread")]
async fn a_start_asked_while_a_readiness_timeout_stops_it_starts_it_again() {
    let h = Harness::new();
    let mut client = h.client().await;
    // It never accepts on its socket and ignores SIGTERM: the readiness timeout stops it,
    // and the stop lasts the whole grace.
    let mute = h.stubborn("mute").socket("svc_t/mute.sock").start_timeout_ms(300);
    client.apply(&service("svc_t", vec![mute]), true).await.unwrap();
    let events = events_after(&mut client, 0, "svc_t/mute", "stopping").await;
    let since = events.last().map_or(0, |e| e.seq);
    let report = client.start("svc_t", None).await.unwrap();
    assert!(report.notes.iter().any(|n| n.contains("starts again once it has stopped")), "{report:#?}");
    let after = events_after(&mut client, since, "svc_t/mute", "spawned").await;
    assert!(before(&after, ("svc_t/mute", "failed"), ("svc_t/mute", "spawned")), "{after:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_restored_registration_runs_the_program_it_registered_whatever_the_next_bin_dir() {
    let mut h = Harness::new();
    // The service's daemons live in a directory of their own, not the supervisor's bin dir.
    let elsewhere = h.dir.path().join("acme-bin");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(TESTD, elsewhere.join("acme_notes_server")).unwrap();
    let daemon = ActionSpec::new("acme_notes_server", BinaryKind::Server)
        .args(["--tag", &format!("{}@acme", h.tag)])
        .socket("acme/notes.sock")
        .restart(RestartPolicy::Never);
    let mut spec = service("acme", vec![daemon]).with_programs_in(&elsewhere);
    spec.registered_by = Some("acme-cli".to_owned());
    let mut client = h.client().await;
    client.apply(&spec, true).await.unwrap();
    assert!(all_ready(&client.wait_settled("acme", 20_000).await.unwrap()));
    // A clean shutdown keeps it wanted; the next supervisor restores and starts it.
    client.shutdown().await.unwrap();
    drop(client);
    h.kill_supervisor();
    h.start_supervisor();
    let mut client = h.client().await;
    let answer = client.wait("acme", WaitFor::Up, 20_000).await.unwrap();
    assert!(answer.settled, "{answer:#?}");
    // Its program gone, a start fails naming the path and who registered it.
    std::fs::remove_file(elsewhere.join("acme_notes_server")).unwrap();
    client.restart("acme", None).await.unwrap();
    let answer = client.wait("acme", WaitFor::Up, 20_000).await.unwrap();
    let reason = state_of(&answer.actions, "acme", "acme_notes_server").reason.clone().unwrap_or_default();
    assert!(reason.contains(&format!("{}", elsewhere.join("acme_notes_server").display())), "{reason}");
    assert!(reason.contains("registered by acme-cli"), "{reason}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_file_that_is_not_a_socket_is_never_removed_to_start_a_daemon() {
    let h = Harness::new();
    let mut client = h.client().await;
    // Something of the user's sits where the daemon would bind.
    let path = h.sock("svc_f", "blocked");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "precious").unwrap();
    client.apply(&service("svc_f", vec![h.served("svc_f", "blocked", 0)]), true).await.unwrap();
    let answer = client.wait("svc_f", WaitFor::Up, 20_000).await.unwrap();
    let blocked = state_of(&answer.actions, "svc_f", "blocked");
    assert_eq!(blocked.state, RunState::Failed, "{answer:#?}");
    assert!(blocked.reason.as_deref().is_some_and(|r| r.contains("not a socket")), "{blocked:#?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[tokio::test(flavor = "current_thread")]
async fn the_supervisor_says_how_many_live_actions_its_open_files_limit_allows() {
    let h = Harness::new();
    let info = h.client().await.info().await.unwrap();
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum.unwrap_or(u64::MAX);
    // Raised to the hard limit (the test runs with the same hard limit as the supervisor).
    assert_eq!(info.open_files_limit, hard, "{info:#?}");
    assert!(info.action_capacity > 0 && info.action_capacity < info.open_files_limit, "{info:#?}");
}
