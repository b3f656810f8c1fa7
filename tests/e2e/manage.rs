//! Managing the supervisor itself from any service's CLI: shut it down, see its state,
//! run it in the foreground; and a directory that contradicts it is never ignored.

use super::world::*;

#[tokio::test(flavor = "current_thread")]
async fn shutdown_supervisor_stops_everything_in_reverse_order_and_leaves_nothing_running() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let info = w.run("hero_collab", &["--supervisor-info=json"]);
    let info: service_manifest::api::SupervisorInfo = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info.socket, w.socket());
    assert_eq!(info.bin_dir, w.path("bin"));
    assert_eq!(w.client().await.version().await.unwrap().pid, info.pid);

    let out = w.run("hero_proxy", &["--shutdown-supervisor"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let order: Vec<&str> = said.lines().filter_map(|l| l.strip_prefix("stopped ")).collect();
    assert_eq!(
        order,
        ["hero_collab/hero_collab_admin", "hero_collab/hero_collab_server", "hero_proxy/hero_proxy_server"],
        "{said}"
    );
    assert!(said.contains(&format!("the supervisor (pid {}) has exited", info.pid)), "{said}");
    // It said "exited" only once the process was gone.
    assert_eq!(w.supervisors(), 0);
    assert_eq!(w.any_processes(), Vec::<String>::new());
    let gone = w.run("hero_collab", &["--supervisor-info"]);
    assert_eq!(gone.status.code(), Some(3), "{}", text(&gone));
}

#[test]
fn stop_says_what_the_supervisor_still_runs_and_how_to_stop_it() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let said = text(&w.run("hero_collab", &["--stop"]));
    assert!(said.contains("still runs hero_proxy/hero_proxy_server; --shutdown-supervisor stops everything"), "{said}");
}

#[test]
fn a_bin_dir_that_differs_from_the_running_supervisors_is_refused_naming_both() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let other = w.path("other-bin");
    let out = w.run("hero_collab", &["--restart", "--bin-dir", other.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(other.to_str().unwrap()) && said.contains(w.path("bin").to_str().unwrap()), "{said}");
    assert!(said.contains("is not the running supervisor's"), "{said}");
    // The same directory, given explicitly, is fine.
    let same = w.run("hero_collab", &["--start", "--bin-dir", w.path("bin").to_str().unwrap()]);
    assert!(same.status.success(), "{}", text(&same));
}

#[tokio::test(flavor = "current_thread")]
async fn foreground_reports_a_crash_and_stops_everything_on_ctrl_c_saying_what_it_stopped() {
    let w = World::new();
    let mut fg = Running::spawn(w.command("hero_collab", &["--foreground"]));
    fg.wait_for_line("running in the foreground; Ctrl-C stops everything");
    assert_eq!(w.processes("hero_collab_server"), 1);

    // A crash while in the foreground is reported as it happens, and so is the restart.
    let statuses = w.client().await.status(Some("hero_collab")).await.unwrap();
    let admin = statuses.iter().find(|s| s.action == "hero_collab_admin").and_then(|s| s.pid).unwrap();
    let pid = rustix::process::Pid::from_raw(i32::try_from(admin).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
    fg.wait_for_line("hero_collab/hero_collab_admin: restarting in ");
    fg.wait_for_line("hero_collab/hero_collab_admin: ready");
    fg.signal(rustix::process::Signal::INT);
    let (status, stdout, stderr) = fg.finish();
    assert!(status.success(), "{status:?}\n{stdout}{stderr}");
    let order: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("stopped ")).collect();
    assert_eq!(
        order,
        ["hero_collab/hero_collab_admin", "hero_collab/hero_collab_server", "hero_proxy/hero_proxy_server"],
        "{stdout}{stderr}"
    );
    // It said at the start everything it would stop, the pulled-in proxy included.
    let supervising = stderr.lines().find_map(|l| l.strip_prefix("supervising ")).expect(&stderr);
    let mut announced: Vec<&str> = supervising.split(", ").collect();
    announced.sort_unstable();
    let mut stopped = order.clone();
    stopped.sort_unstable();
    assert_eq!(announced, stopped, "{stderr}");
    assert_eq!(w.any_processes(), Vec::<String>::new(), "everything stopped with the foreground supervisor");
    assert_eq!(w.supervisors(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_start_that_launches_the_supervisor_says_what_it_brings_back() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    assert!(w.run("hero_collab", &["--shutdown-supervisor"]).status.success());
    // hero_tasks' start launches a supervisor, which restores collab and the proxy it ran.
    let out = w.run("hero_tasks", &["service", "start"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let line = said
        .lines()
        .find_map(|l| l.strip_prefix("the supervisor also brings back what was running when it last stopped: "));
    assert_eq!(line, Some("hero_collab, hero_proxy"), "{said}");
    // It did bring collab back (which comes up beside hero_tasks, not before its answer).
    let up = w.client().await.wait("hero_collab", service_manifest::api::WaitFor::Up, 30_000).await.unwrap();
    assert!(up.settled, "{:#?}", up.actions);
}

#[test]
fn foreground_refuses_before_doing_anything_when_a_supervisor_runs() {
    let w = World::new();
    assert!(w.run("hero_proxy", &["--start"]).status.success());
    let out = w.run("hero_collab", &["--foreground"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("already runs on"), "{said}");
    assert!(!said.contains("running in the foreground") && !said.contains("hero_collab/"), "{said}");
    assert_eq!(w.processes("hero_collab_server"), 0);
}

#[test]
fn the_supervisor_s_own_log_rotates_at_its_size() {
    let w = World::new();
    let run = |args: &[&str]| {
        let out = w.command("hero_proxy", args).env("SERVICE_MANIFEST_LOG_MAX_BYTES", "1500").output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    };
    run(&["--start"]);
    let log = w.path("supervisor.state/supervisor.log");
    let first = w.path("supervisor.state/supervisor.log.1");
    // Each start and stop adds a few lines; go on until the log has rotated.
    for _ in 0..50 {
        if first.exists() {
            break;
        }
        run(&["--stop"]);
        run(&["--start"]);
    }
    assert!(first.exists(), "never rotated: {} bytes", std::fs::metadata(&log).map_or(0, |m| m.len()));
    for file in [&log, &first] {
        let len = std::fs::metadata(file).unwrap().len();
        // At most one line past the size.
        assert!(len < 1500 + 512, "{} is {len} bytes", file.display());
    }
    assert!(!w.path("supervisor.state/supervisor.log.3").exists(), "three files at most");
    run(&["--shutdown-supervisor"]);
}
