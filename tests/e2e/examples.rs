//! The example services' main jobs: start order, stop order, restarts, failures.

use service_manifest::api::RunState;

use super::world::*;

#[tokio::test(flavor = "current_thread")]
async fn collab_start_brings_up_hero_proxy_first_then_stop_runs_in_reverse() {
    let w = World::new();
    let out = w.run("hero_collab", &["--start"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("hero_collab: all 3 actions up"), "{}", text(&out));

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
    let json = w.run("hero_collab", &["--status=json"]);
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
    w.knob("HERO_PROXY_FAIL", "1");
    let out = w.command("hero_collab", &["--start"]).output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let message = text(&out);
    // The root cause leads: hero_proxy's own failure, then what it caused.
    let errors: Vec<&str> = message.lines().filter(|l| l.starts_with("error: ")).collect();
    assert!(
        errors.first().is_some_and(|l| l.starts_with("error: hero_proxy/hero_proxy_server failed: exited with status 1 (its last output: hero_proxy_server: cannot start: HERO_PROXY_FAIL is set)")),
        "{message}"
    );
    assert!(message.contains("hero_proxy/hero_proxy_server: restarting in "), "restarts are shown: {message}");
    assert!(
        errors.get(1).is_some_and(|l| l.starts_with("error: hero_collab/hero_collab_server failed: cannot start hero_collab/hero_collab_server: requires hero_proxy/hero_proxy_server")),
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
    // Nothing was saved before: what the other start pulled in is not "brought back".
    for out in [&a, &b] {
        assert!(!text(out).contains("brings back"), "{}", text(out));
    }
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

    let json: serde_json::Value = serde_json::from_slice(&w.run("hero_collab", &["--plan=json"]).stdout).unwrap();
    assert_eq!(json["order"][0], "hero_proxy/hero_proxy_server");
    assert_eq!(json["install_only"][0]["name"], "hero_collab");

    let dot = text(&w.run("hero_collab", &["--graph"]));
    assert!(dot.starts_with("digraph \"hero_collab\"") && dot.contains("requires · socket"), "{dot}");
    let mermaid = text(&w.run("hero_livekit", &["--graph=mermaid"]));
    assert!(mermaid.contains("-.->|spawns|"), "{mermaid}");
    assert!(!w.dir.path().join("supervisor.sock").exists(), "nothing was started");
}

#[test]
fn status_without_a_supervisor_says_how_to_start_one() {
    let w = World::new();
    let out = w.run("hero_collab", &["--status"]);
    assert_eq!(out.status.code(), Some(3), "LSB: program is not running");
    assert!(
        text(&out).contains("no supervisor is running on") && text(&out).contains("--start starts one"),
        "{}",
        text(&out)
    );
}
