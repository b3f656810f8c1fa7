//! The operator's view, as a user meets it: where the last start's time went
//! (`--timeline`, as text, JSON and a picture).

use service_manifest::cli::timeline::{Layout, Timeline, svg};

use super::world::*;

#[test]
fn the_timeline_of_the_main_job_shows_its_critical_chain_and_a_picture_of_it() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let out = w.run("hero_collab", &["--timeline"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let chain: Vec<&str> = said.lines().skip_while(|l| !l.starts_with("The critical chain")).skip(1).collect();
    let names: Vec<&str> =
        chain.iter().map(|l| l.trim_start_matches([' ', '└', '─']).split(' ').next().unwrap()).collect();
    // The JSON is the same timeline, for tools.
    let json = w.run("hero_collab", &["--timeline=json"]);
    let t: Timeline = serde_json::from_slice(&json.stdout).unwrap();
    let proxy = t.span("hero_proxy/hero_proxy_server").unwrap();
    let server = t.span("hero_collab/hero_collab_server").unwrap();
    let admin = t.span("hero_collab/hero_collab_admin").unwrap();
    // The chain runs back from what came up last: the admin (ready), or the server, which is
    // up only once healthy and can pass its first probe after the admin is ready.
    let mut expected = vec!["hero_collab/hero_collab_server", "hero_proxy/hero_proxy_server"];
    if (admin.up_us(), admin.waiting_us) > (server.up_us(), server.waiting_us) {
        expected.insert(0, "hero_collab/hero_collab_admin");
    }
    assert_eq!(names, expected, "{said}");
    assert!(server.spawned_us >= proxy.ready_us && server.healthy_us.is_some(), "{t:#?}");
    // The picture renders, with the proxy's start-up (300 ms of the demo's) drawn where it was.
    let picture = w.run("hero_collab", &["--timeline=svg"]);
    let tree = resvg::usvg::Tree::from_data(&picture.stdout, &resvg::usvg::Options::default()).expect("a valid SVG");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let layout = Layout::of(&t);
    let row = t.actions.iter().position(|s| s.action == proxy.action).unwrap();
    let x = layout.x((proxy.spawned_us.unwrap() + proxy.ready_us.unwrap()) / 2);
    let p = pixmap.pixel(x as u32, layout.middle(row) as u32).unwrap();
    let blue = u32::from_str_radix(&svg::STARTING[1..], 16).unwrap();
    assert_eq!([p.red(), p.green(), p.blue()], [(blue >> 16) as u8, (blue >> 8) as u8, blue as u8]);
    if let Some(path) = std::env::var_os("SERVICE_MANIFEST_TIMELINE_PNG") {
        let mut options = resvg::usvg::Options::default();
        options.fontdb_mut().load_system_fonts();
        let tree = resvg::usvg::Tree::from_data(&picture.stdout, &options).unwrap();
        let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
        resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
        pixmap.save_png(path).unwrap();
    }
}

/// The lines `--logs` printed: (stamp, action, text) for the prefixed form.
fn merged(out: &std::process::Output) -> Vec<(String, String, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (stamp, rest) = l.split_once(' ')?;
            let (action, text) = rest.split_once(" | ")?;
            Some((stamp.to_owned(), action.trim().to_owned(), text.to_owned()))
        })
        .collect()
}

/// `2026-…Z ` for `ago` before now, as the monitor stamps a line.
fn stamp(ago: std::time::Duration) -> String {
    format!("{} ", humantime::format_rfc3339_micros(std::time::SystemTime::now() - ago))
}

#[test]
fn since_and_lines_go_by_the_stamps_across_actions_and_rotated_files() {
    let w = World::new();
    let logs = w.path("supervisor.state/logs");
    let (proxy, server) =
        (logs.join("hero_proxy/hero_proxy_server.log"), logs.join("hero_collab/hero_collab_server.log"));
    std::fs::create_dir_all(proxy.parent().unwrap()).unwrap();
    std::fs::create_dir_all(server.parent().unwrap()).unwrap();
    let min = |m: u64| std::time::Duration::from_secs(60 * m);
    // Older output of the proxy in its rotated file; the two actions' lines interleave.
    std::fs::write(proxy.with_extension("log.1"), format!("{}proxy 3h ago\n", stamp(min(180)))).unwrap();
    std::fs::write(&proxy, format!("{}proxy 2h ago\n{}proxy 30m ago\n", stamp(min(120)), stamp(min(30)))).unwrap();
    std::fs::write(&server, format!("{}server 1h ago\n{}server 1m ago\n", stamp(min(60)), stamp(min(1)))).unwrap();
    let texts =
        |args: &[&str]| -> Vec<String> { merged(&w.run("hero_collab", args)).into_iter().map(|l| l.2).collect() };
    assert_eq!(texts(&["--logs", "--since", "45m"]), ["proxy 30m ago", "server 1m ago"]);
    assert_eq!(
        texts(&["--logs", "--since", "4h"]),
        ["proxy 3h ago", "proxy 2h ago", "server 1h ago", "proxy 30m ago", "server 1m ago"]
    );
    assert_eq!(texts(&["--logs", "--lines", "2"]), ["proxy 30m ago", "server 1m ago"]);
    // One action: no prefix, the same filters.
    let one = w.run("hero_collab", &["--logs", "hero_proxy_server", "--since", "150m"]);
    let shown: Vec<String> =
        String::from_utf8_lossy(&one.stdout).lines().map(|l| l.split_once(' ').unwrap().1.to_owned()).collect();
    assert_eq!(shown, ["proxy 2h ago", "proxy 30m ago"], "{}", text(&one));
}

#[test]
fn logs_of_the_whole_service_are_merged_in_time_order_with_each_line_s_action() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    // A socket can accept before its daemon's "listening" line is through its monitor's
    // pipe: wait until the admin's, the last to start, is in the log.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let out = loop {
        let out = w.run("hero_collab", &["--logs"]);
        let admin_listening =
            merged(&out).iter().any(|l| l.1 == "hero_collab/hero_collab_admin" && l.2.starts_with("listening on"));
        if admin_listening || std::time::Instant::now() > deadline {
            break out;
        }
    };
    assert!(out.status.success(), "{}", text(&out));
    let lines = merged(&out);
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!raw.contains('\x1b'), "no colour when piped: {raw}");
    let actions: std::collections::BTreeSet<&str> = lines.iter().map(|l| l.1.as_str()).collect();
    let all = ["hero_collab/hero_collab_admin", "hero_collab/hero_collab_server", "hero_proxy/hero_proxy_server"];
    assert_eq!(actions.into_iter().collect::<Vec<_>>(), all, "{raw}");
    let stamps: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    assert!(stamps.windows(2).all(|p| p[0] <= p[1]), "in time order: {raw}");
    // Each start came after what it waits for was ready. The separator is the causal mark:
    // its monitor stamps it before the daemon can run, whenever it gets to write it, while
    // a daemon's own "listening" line can be stamped after its socket already accepted,
    // when it was preempted in between (both seen under load).
    let at = |action: &str, what: &str| lines.iter().position(|l| l.1 == action && l.2.contains(what)).unwrap();
    assert!(at(all[2], "started at") < at(all[1], "started at"), "{raw}");
    assert!(at(all[1], "started at") < at(all[0], "started at"), "{raw}");
    // The last N lines, and the lines of the last while.
    let last = merged(&w.run("hero_collab", &["--logs", "--lines", "2"]));
    assert_eq!(last, lines[lines.len() - 2..], "{raw}");
    assert_eq!(merged(&w.run("hero_collab", &["--logs", "--since", "1h"])), lines);
    // The subcommand form says the same.
    let sub = w.run("hero_tasks", &["service", "logs", "-n", "1"]);
    assert!(sub.status.success(), "{}", text(&sub));
}

/// Reads stdout lines until one satisfies `done`; returns them all.
fn read_until(out: &mut impl std::io::BufRead, done: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "ended early: {seen:#?}");
        let stop = done(&line);
        seen.push(line);
        if stop {
            return seen;
        }
    }
}

#[test]
fn follow_goes_on_across_a_rotation_and_a_restart_of_one_action() {
    let w = World::new();
    w.knob("HERO_PROXY_CHATTER_MS", "5");
    // Small logs, so the chatter rotates them within moments.
    let start = w.command("hero_collab", &["--start"]).env("SERVICE_MANIFEST_LOG_MAX_BYTES", "4096").output().unwrap();
    assert!(start.status.success(), "{}", text(&start));
    let mut follow = w.command("hero_collab", &["--logs", "--follow"]);
    follow.stdout(std::process::Stdio::piped());
    let mut child = KillOnDrop(follow.spawn().unwrap());
    let mut out = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let chatter = |l: &str| {
        l.split(" | ").nth(1).and_then(|t| t.strip_prefix("chatter ")).and_then(|t| t[..6].parse::<u64>().ok())
    };
    // Two rotations' worth of chatter (about 70 bytes a line), every number once, in order.
    let seen = read_until(&mut out, |l| chatter(l).is_some_and(|n| n >= 150));
    let numbers: Vec<u64> = seen.iter().filter_map(|l| chatter(l)).collect();
    let from = numbers[0];
    assert_eq!(numbers, (from..from + numbers.len() as u64).collect::<Vec<_>>(), "a line lost or repeated");
    let rotated = w.path("supervisor.state/logs/hero_proxy/hero_proxy_server.log.1");
    assert!(rotated.exists(), "the log rotated meanwhile");
    // A restart of the proxy: its new start and new chatter follow, prefixed with it.
    assert!(w.run("hero_proxy", &["--restart"]).status.success());
    let seen = read_until(&mut out, |l| l.contains("hero_proxy/hero_proxy_server started at"));
    assert!(seen.last().unwrap().contains("hero_proxy/hero_proxy_server   | --- "), "{seen:#?}");
    let seen = read_until(&mut out, |l| chatter(l) == Some(3));
    assert!(seen.iter().all(|l| l.contains(" | ")), "{seen:#?}");
    drop(child);
}

#[test]
fn the_active_profiles_show_in_status_plan_and_info_and_a_start_that_changes_them_says_so() {
    let w = World::new();
    let start = w.run("hero_tasks", &["service", "start", "--profile", "debug"]);
    assert!(start.status.success(), "{}", text(&start));
    let status = text(&w.run("hero_tasks", &["service", "status"]));
    assert!(status.starts_with("hero_tasks: profile debug active\n"), "{status}");
    assert!(status.contains("hero_tasks/hero_tasks_debug"), "{status}");
    let plan = text(&w.run("hero_tasks", &["service", "plan", "--profile", "debug"]));
    assert!(plan.starts_with("hero_tasks: start plan (profile debug)\n"), "{plan}");
    let plain_plan = text(&w.run("hero_tasks", &["service", "plan"]));
    assert!(plain_plan.starts_with("hero_tasks: start plan (no profile active; it declares debug)\n"), "{plain_plan}");
    let info = text(&w.run("hero_tasks", &["service", "info"]));
    assert!(info.contains("profiles     hero_tasks: debug\n"), "{info}");
    // A plain start drops the profile, and says so.
    let plain = w.run("hero_tasks", &["service", "start"]);
    let said = text(&plain);
    assert!(plain.status.success(), "{said}");
    assert!(said.contains("note: hero_tasks was defined with profile debug; this start uses no profile"), "{said}");
    let status = text(&w.run("hero_tasks", &["service", "status"]));
    assert!(status.starts_with("hero_tasks: no profile active (it declares debug)\n"), "{status}");
    // Its log is still asked for by name: the answer says which profile it needs.
    let logs = w.run("hero_tasks", &["service", "logs", "hero_tasks_debug"]);
    let said = text(&logs);
    assert_eq!(logs.status.code(), Some(1), "{said}");
    assert!(said.contains("`hero_tasks_debug` runs only in the profile `debug`, which is not active here"), "{said}");
}

/// A pseudo-terminal: the master side, and a file for the slave side.
fn pty() -> (std::fs::File, std::fs::File) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::File::options().read(true).write(true).open(name.to_str().unwrap()).unwrap();
    (std::fs::File::from(master), slave)
}

#[test]
fn status_watch_on_a_terminal_redraws_at_a_change_and_ctrl_c_restores_the_terminal() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let (mut master, slave) = pty();
    let mut watch = w.command("hero_collab", &["--status", "--watch"]);
    watch.stdin(slave.try_clone().unwrap()).stdout(slave.try_clone().unwrap()).stderr(slave);
    let child = KillOnDrop(watch.spawn().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut master, &mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let wait_for = |what: &dyn Fn(&str) -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if what(&seen.lock().unwrap()) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "gave up; the terminal shows:\n{}", seen.lock().unwrap());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    // The last drawing of the admin's row.
    let admin_row = |screen: &str| -> String {
        let last = screen.rfind("hero_collab/hero_collab_admin").unwrap_or(0);
        screen[last..].lines().next().unwrap_or_default().to_owned()
    };
    wait_for(&|s| admin_row(s).contains("ready"));
    assert!(seen.lock().unwrap().starts_with("\x1b[?25l"), "the cursor is hidden while it draws");
    let stop = w.run("hero_collab", &["--stop", "--action", "hero_collab_admin"]);
    assert!(stop.status.success(), "{}", text(&stop));
    let t = std::time::Instant::now();
    wait_for(&|s| admin_row(s).contains("exited"));
    eprintln!("the change was drawn {:?} after --stop returned", t.elapsed());
    let screen = seen.lock().unwrap().clone();
    assert!(screen.contains("A\x1b[J"), "redrawn in place (cursor up, clear), not appended: {screen:?}");
    // Ctrl-C: it ends, successfully, and gives the cursor back.
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.0.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let mut child = child;
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    wait_for(&|s| s.ends_with("\x1b[?25h"));
    drop(reader);
}

#[test]
fn status_watch_piped_prints_one_line_per_change() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let mut watch = w.command("hero_collab", &["--status", "--watch"]);
    watch.stdout(std::process::Stdio::piped());
    let mut child = KillOnDrop(watch.spawn().unwrap());
    let mut out = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let table = read_until(&mut out, |l| l.starts_with("hero_proxy/hero_proxy_server"));
    assert!(table[0].starts_with("ACTION"), "{table:?}");
    assert!(w.run("hero_collab", &["--restart", "--action", "hero_collab_admin"]).status.success());
    let lines = read_until(&mut out, |l| l.contains("hero_collab/hero_collab_admin: ready"));
    let said: Vec<&str> = lines.iter().map(|l| l.split_once(' ').unwrap().1.trim_end()).collect();
    assert!(said.iter().any(|l| l.starts_with("hero_collab/hero_collab_admin: stopping")), "{said:?}");
    assert!(said.iter().any(|l| l.starts_with("hero_collab/hero_collab_admin: spawned")), "{said:?}");
    assert!(!lines.iter().any(|l| l.contains('\x1b')), "no escapes when piped: {lines:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn one_action_starts_stops_and_restarts_alone_with_what_it_requires() {
    let w = World::new();
    let out = w.run("hero_collab", &["--start", "--action", "hero_collab_server"]);
    assert!(out.status.success(), "{}", text(&out));
    let statuses = w.client().await.status(None).await.unwrap();
    let wanted =
        |label: &str| statuses.iter().find(|s| format!("{}/{}", s.service, s.action) == label).map(|s| s.wanted);
    assert_eq!(wanted("hero_collab/hero_collab_server"), Some(true));
    assert_eq!(wanted("hero_proxy/hero_proxy_server"), Some(true), "what it requires came along");
    assert_eq!(wanted("hero_collab/hero_collab_admin"), Some(false), "its sibling did not");
    // The subcommand form, on the admin alone; then a restart of the server alone.
    assert!(w.run("hero_collab", &["--start", "--action", "hero_collab_admin"]).status.success());
    let before = w.client().await.status(Some("hero_collab")).await.unwrap();
    let out = w.run("hero_tasks", &["service", "restart", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("`nope` is not an action of hero_tasks"), "{}", text(&out));
    let stop = w.run("hero_collab", &["--stop", "--action", "hero_collab_admin"]);
    assert!(stop.status.success(), "{}", text(&stop));
    assert_eq!(stop.stdout, b"stopped hero_collab/hero_collab_admin\n", "{}", text(&stop));
    let after = w.client().await.status(Some("hero_collab")).await.unwrap();
    let pid =
        |list: &[service_manifest::api::ActionStatus], a: &str| list.iter().find(|s| s.action == a).and_then(|s| s.pid);
    assert_eq!(pid(&after, "hero_collab_server"), pid(&before, "hero_collab_server"), "the server kept running");
    assert_eq!(pid(&after, "hero_collab_admin"), None);
    let out = w.run("hero_collab", &["--status", "--action", "hero_collab_admin"]);
    assert_eq!(out.status.code(), Some(2), "--action goes with start, stop, restart: {}", text(&out));
}
