//! Conventions: exit codes, modifiers without their command, logs, progress order.

use service_manifest::api::EventKind;

use super::world::*;

#[test]
fn status_exit_codes_follow_systemctl() {
    let w = World::new();
    assert_eq!(w.run("hero_collab", &["--status"]).status.code(), Some(3), "no supervisor: not running");
    w.knob("HERO_PROXY_FAIL", "1");
    let failed = w.command("hero_collab", &["--start"]).output().unwrap();
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let status = w.run("hero_collab", &["--status"]);
    assert_eq!(status.status.code(), Some(3), "a wanted action failed: {}", text(&status));
    assert!(text(&status).contains("not up: "), "{}", text(&status));
    let unknown = w.run("hero_livekit", &["--status"]);
    assert_eq!(unknown.status.code(), Some(4), "not defined: {}", text(&unknown));
}

#[test]
fn status_exits_0_when_everything_is_up() {
    let w = World::new();
    assert!(w.run("hero_proxy", &["--start"]).status.success());
    let status = w.run("hero_proxy", &["--status"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    assert!(w.run("hero_proxy", &["--stop"]).status.success());
    assert_eq!(w.run("hero_proxy", &["--status"]).status.code(), Some(3), "stopped: not running");
}

#[test]
fn modifiers_without_their_command_are_usage_errors() {
    let w = World::new();
    for args in [&["--json"][..], &["--follow"], &["--bin-dir", "/tmp"], &["--status", "--json"]] {
        let out = w.run("hero_collab", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
    assert!(!w.socket().exists());
}

#[tokio::test(flavor = "current_thread")]
async fn logs_of_a_pulled_in_dependency_are_read_from_disk_without_a_supervisor() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    assert!(w.run("hero_collab", &["--shutdown-supervisor"]).status.success());
    assert_eq!(w.supervisors(), 0);

    let logs = w.run("hero_collab", &["--logs", "hero_proxy_server"]);
    assert!(logs.status.success(), "{}", text(&logs));
    assert!(text(&logs).contains("listening on"), "{}", text(&logs));
    let qualified = w.run("hero_collab", &["--logs", "hero_proxy/hero_proxy_server"]);
    assert_eq!(qualified.stdout, logs.stdout);

    // A long log is cut at a line boundary, and says so.
    let path = w.path("supervisor.state/logs/hero_proxy/hero_proxy_server.log");
    let mut filler = String::new();
    for i in 0..5_000 {
        filler.push_str(&format!("filler line {i:05}\n"));
    }
    filler.push_str("the last line\n");
    std::fs::write(&path, filler).unwrap();
    let cut = String::from_utf8(w.run("hero_collab", &["--logs", "hero_proxy_server"]).stdout).unwrap();
    let first = cut.lines().next().unwrap();
    assert!(first.starts_with("[… ") && first.contains("earlier bytes not shown"), "{first}");
    assert!(cut.lines().nth(1).unwrap().starts_with("filler line "), "starts at a whole line");
    assert!(cut.ends_with("the last line\n"));

    let install_only = w.run("hero_collab", &["--logs", "hero_collab"]);
    assert!(text(&install_only).contains("is install-only"), "{}", text(&install_only));
}

#[test]
fn logs_follow_prints_what_is_appended() {
    let w = World::new();
    let path = w.path("supervisor.state/logs/hero_proxy/hero_proxy_server.log");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "first\n").unwrap();
    let mut follow = w.command("hero_collab", &["--logs", "hero_proxy_server", "--follow"]);
    follow.stdout(std::process::Stdio::piped());
    let mut child = KillOnDrop(follow.spawn().unwrap());
    let mut out = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line, "first\n");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"second\n"))
        .unwrap();
    line.clear();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line, "second\n");
    // Rotation: the file moves to .1 (after one last line) and a new one takes its place.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"third\n"))
        .unwrap();
    std::fs::rename(&path, path.with_extension("log.1")).unwrap();
    std::fs::write(&path, "fourth\n").unwrap();
    let mut rest = Vec::new();
    for _ in 0..3 {
        line.clear();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        rest.push(line.clone());
    }
    assert_eq!(rest[0], "third\n", "{rest:?}");
    assert!(rest[1].starts_with("[log rotated"), "{rest:?}");
    assert_eq!(rest[2], "fourth\n", "{rest:?}");
    drop(child);
}

#[tokio::test(flavor = "current_thread")]
async fn progress_lines_come_in_journal_order() {
    let w = World::new();
    // hero_proxy takes a while to open its socket, so collab's actions wait on it.
    w.knob("HERO_PROXY_START_DELAY_MS", "300");
    let out = w.command("hero_collab", &["--start"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let printed: Vec<(String, &str)> = said
        .lines()
        .filter_map(|l| {
            let (action, what) = l.split_once(": ")?;
            let kind = if what.starts_with("spawned") {
                "spawned"
            } else if what == "ready" {
                "ready"
            } else {
                return None;
            };
            Some((action.to_owned(), kind))
        })
        .collect();
    let journal: Vec<(String, &str)> = w
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Spawned { .. } => Some((e.action, "spawned")),
            EventKind::Ready => Some((e.action, "ready")),
            _ => None,
        })
        .collect();
    assert_eq!(printed, journal, "{said}");
    assert_eq!(printed.len(), 6, "{said}");
    assert!(said.contains("hero_collab/hero_collab_server: waiting on hero_proxy/hero_proxy_server"), "{said}");
    assert!(said.ends_with("hero_collab: all 3 actions up\n"), "{said}");

    // The count is of the same set however the start goes: again, with everything already up.
    let again = w.run("hero_collab", &["--start"]);
    let again = String::from_utf8_lossy(&again.stderr).into_owned();
    assert!(again.ends_with("hero_collab: all 3 actions up\n"), "{again}");
    assert!(!again.contains(": spawned"), "nothing new was spawned: {again}");
}
