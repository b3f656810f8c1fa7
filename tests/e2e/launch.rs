//! Launching the supervisor: from a CLI with a required argument and subcommands, and
//! what the user hears when the launch fails.

use service_manifest::api::EventKind;

use super::world::*;

#[tokio::test(flavor = "current_thread")]
async fn a_cli_with_a_required_flag_and_subcommands_starts_its_service() {
    let w = World::new();
    // The launch re-executes hero_tasks, whose parser would refuse to run without --config
    // or with an unknown argument: the supervisor must come up without it ever running.
    let out = w.run("hero_tasks", &["--config", "tasks.toml", "--start"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("started the supervisor (pid "), "{said}");
    assert!(said.contains("hero_tasks: all 4 actions up (1 one-shot completed)"), "{said}");
    assert_eq!(w.supervisors(), 1);

    // The one-shot migration completed before the server was spawned, and the CLI said so.
    let events = w.events().await;
    let migrated =
        position(&events, "hero_tasks_db/hero_tasks_migrate", |k| matches!(k, EventKind::Exited { code: Some(0) }));
    let server = position(&events, "hero_tasks/hero_tasks_server", spawned);
    assert!(migrated < server, "{events:#?}");
    let completed = said.find("hero_tasks_db/hero_tasks_migrate: completed").expect(&said);
    let spawned_line = said.find("hero_tasks/hero_tasks_server: spawned").expect(&said);
    assert!(completed < spawned_line, "{said}");

    // The subcommand form needs none of the CLI's own required flags.
    let status = w.run("hero_tasks", &["service", "status"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let table = text(&status);
    let migrate = table.lines().find(|l| l.starts_with("hero_tasks_db/hero_tasks_migrate")).expect(&table);
    assert!(migrate.contains(" completed "), "a one-shot that exited 0 is shown as completed: {table}");
    // The CLI's own --json and subcommands still work beside the service flags.
    let own = w.run("hero_tasks", &["--config", "tasks.toml", "--json", "add", "write tests"]);
    assert_eq!(String::from_utf8_lossy(&own.stdout).trim(), r#"{"added":"write tests","config":"tasks.toml"}"#);
    // ... and keep their own required flag: the service commands lift it for themselves only.
    let missing = w.run("hero_tasks", &["add", "write tests"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("--config"), "{}", text(&missing));
    // A service flag with the CLI's own subcommand is refused, not one of them dropped.
    let both = w.run("hero_tasks", &["--status", "list"]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
    assert!(text(&both).contains("--status cannot be used with the subcommand 'list'"), "{}", text(&both));
    // A bin directory that is not the running supervisor's is refused by --status as by --start.
    for args in [&["--status", "--bin-dir", "/elsewhere"][..], &["service", "status", "--bin-dir", "/elsewhere"]] {
        let other = w.run("hero_tasks", args);
        assert_eq!(other.status.code(), Some(1), "{args:?}: {}", text(&other));
        assert!(text(&other).contains("is not the running supervisor's"), "{}", text(&other));
    }
    // The subcommand form takes the flag form's options too, and reads them in the same way.
    let units = w.path("units");
    let exported = w.run("hero_tasks", &["service", "export", "systemd", units.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    assert!(units.join("hero_tasks.target").exists(), "{}", text(&exported));
}

#[test]
fn the_supervisor_exiting_during_start_up_is_reported_with_its_log() {
    let w = World::new();
    // A directory where the socket should go: the supervisor cannot bind and exits.
    std::fs::create_dir_all(w.socket()).unwrap();
    let out = w.run("hero_collab", &["--start"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(!said.contains("started the supervisor"), "never claimed: {said}");
    assert!(said.contains("the supervisor exited during start-up"), "{said}");
    assert!(said.contains("the end of its log") && said.contains("binding"), "the log's last lines: {said}");
    assert_eq!(w.supervisors(), 0);
    assert_eq!(w.any_processes(), Vec::<String>::new(), "nothing was started");
}

#[test]
fn start_refuses_up_front_when_a_program_is_missing_or_a_socket_path_is_too_long() {
    let w = World::new();
    let out = w.command("hero_collab", &["--start"]).env("DEMO_NOT_INSTALLED", "hero_proxy_server").output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("nothing was started"), "{said}");
    assert!(said.contains("dependency hero_proxy/hero_proxy_server:") && said.contains("does not exist"), "{said}");
    assert!(!w.socket().exists(), "no supervisor was launched");

    let check = w.command("hero_collab", &["--check"]).env("DEMO_NOT_INSTALLED", "hero_proxy_server").output().unwrap();
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains("dependency hero_proxy/hero_proxy_server:"), "{}", text(&check));
    // It says where such a daemon comes from, and that --bin-dir can point at it.
    assert!(text(&check).contains("built by its crate `hero_proxy_server`"), "{}", text(&check));
    let elsewhere = w.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for entry in std::fs::read_dir(w.path("bin")).unwrap().flatten() {
        let target = std::fs::read_link(entry.path()).unwrap();
        std::os::unix::fs::symlink(&target, elsewhere.join(entry.file_name())).unwrap();
        std::os::unix::fs::symlink(&target, elsewhere.join("hero_proxy_server")).ok();
    }
    let there = w.run("hero_collab", &["--check", "--bin-dir", elsewhere.to_str().unwrap()]);
    assert_eq!(there.status.code(), Some(0), "{}", text(&there));

    // A socket directory deep enough that the service's socket paths cannot fit.
    let deep = w.path(&"d".repeat(100));
    let long = w.run("hero_collab", &["--start", "--socket-dir", deep.to_str().unwrap()]);
    assert_eq!(long.status.code(), Some(1), "{}", text(&long));
    assert!(text(&long).contains("a Unix socket address holds at most 107"), "{}", text(&long));
    let plan = text(&w.run("hero_collab", &["--plan", "--socket-dir", deep.to_str().unwrap()]));
    assert!(plan.contains("would not start (see --check):"), "{plan}");
    let json = w.run("hero_collab", &["--plan=json", "--socket-dir", deep.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(json["problems"][0].as_str().unwrap().contains("holds at most 107"), "{json:#}");
    assert!(!w.socket().exists(), "no supervisor was launched");
}

#[test]
fn a_server_that_never_opens_its_socket_is_named_first_when_the_start_fails() {
    let w = World::new();
    w.knob("HERO_TASKS_NO_SOCKET", "1");
    let out = w.command("hero_tasks", &["service", "start"]).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let first = said.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
    assert!(
        // Depending on which deadline the supervisor reaches first: the server's own start
        // timeout, or its dependent's wait for it.
        first.starts_with("error: hero_tasks/hero_tasks_server")
            && (first.contains("did not accept connections on") || first.contains("but never became ready")),
        "the server, the root cause, leads: {said}"
    );
    assert!(said.contains("error: hero_tasks/hero_tasks_web failed: "), "then its dependent: {said}");
}

/// `ps` tells the supervisor, its spawner and the monitors apart: each daemon's parent is
/// named `sm-monitor`; on x86-64 the monitors share the spawner's memory, and so its
/// command line, which says so.
#[tokio::test(flavor = "current_thread")]
async fn process_titles_say_what_each_process_is() {
    let w = World::new();
    let out = w.run("hero_collab", &["--start"]);
    assert!(out.status.success(), "{}", text(&out));
    let cmdline = |pid: u32| {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        String::from_utf8_lossy(&raw).split('\0').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
    };
    let comm = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned();
    // None once the process is gone (any process may exit while /proc is read).
    let parent = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat[stat.rfind(')')? + 2..].split(' ').nth(1)?.parse::<u32>().ok()
    };
    let supervisor = w.client().await.info().await.unwrap().pid;
    assert!(cmdline(supervisor).contains("--service-manifest-supervisor"), "{}", cmdline(supervisor));
    let spawners: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent(*pid) == Some(supervisor) && comm(*pid) == "sm-spawner")
        .collect();
    assert_eq!(spawners.len(), 1, "one spawner, a child of the supervisor");
    let title = cmdline(spawners[0]);
    let expected =
        if cfg!(target_arch = "x86_64") { "service_manifest spawner and monitors" } else { "service_manifest spawner" };
    assert_eq!(title, expected);
    let statuses = w.client().await.status(None).await.unwrap();
    for s in statuses.iter().filter(|s| s.pid.is_some()) {
        let monitor = parent(s.pid.unwrap()).expect("the daemon runs");
        assert_eq!(comm(monitor), "sm-monitor", "{}/{}", s.service, s.action);
        assert_eq!(parent(monitor), Some(spawners[0]), "the spawner started the monitor");
        if cfg!(target_arch = "x86_64") {
            assert_eq!(cmdline(monitor), title, "a monitor shares the spawner's command line");
        } else {
            assert_eq!(cmdline(monitor), format!("service_manifest monitor {}/{}", s.service, s.action));
        }
    }
    assert!(statuses.iter().filter(|s| s.pid.is_some()).count() >= 3, "{statuses:#?}");
    // The OOM killer takes every process that shares its victim's memory: where they can
    // (privileged, x86-64), the spawner and monitors are never its victims, and their
    // daemons are given back the supervisor's score.
    let oom = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap().trim().to_owned();
    let can_lower = std::process::Command::new("/bin/sh")
        .args(["-c", "echo -1000 > /proc/self/oom_score_adj"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let protected = cfg!(target_arch = "x86_64") && can_lower && oom(supervisor) != "-1000";
    let expected = if protected { "-1000".to_owned() } else { oom(supervisor) };
    assert_eq!(oom(spawners[0]), expected, "the spawner");
    for s in statuses.iter().filter(|s| s.pid.is_some()) {
        let daemon = s.pid.unwrap();
        assert_eq!(oom(daemon), oom(supervisor), "{}/{}", s.service, s.action);
        assert_eq!(oom(parent(daemon).unwrap()), expected, "the monitor of {}/{}", s.service, s.action);
    }
}
