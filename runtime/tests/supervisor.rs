//! The supervisor enforces depends_on itself: real daemons, real sockets, and the
//! order of the supervisor's own journal as the evidence.

mod common;

use std::time::Duration;

use common::*;
use service_manifest_runtime::api::{RunState, codes};
use service_manifest_runtime::{ActionDep, ClientError, ReadyGate, Relation, RestartPolicy};

const LIMIT: Duration = Duration::from_secs(30);

/// a ← b ← c, each a separate service; c's daemon refuses to run unless b's socket accepts.
async fn define_chain(h: &Harness, c_delay: u64) -> service_manifest_runtime::Client {
    let mut client = h.client().await;
    let (sa, sb) = (h.sock("svc_a", "a"), h.sock("svc_b", "b"));
    client.define(&service("svc_a", vec![h.served("svc_a", "a", 100)])).await.unwrap();
    let b = h.served("svc_b", "b", 100).args(["--require", path(&sa)]).depends_on(requires("svc_a", "a", &sa));
    client.define(&service("svc_b", vec![b])).await.unwrap();
    let c = h.served("svc_c", "c", c_delay).args(["--require", path(&sb)]).depends_on(requires("svc_b", "b", &sb));
    client.define(&service("svc_c", vec![c])).await.unwrap();
    client
}

#[tokio::test(flavor = "current_thread")]
async fn chain_starts_in_order_through_socket_gates() {
    let h = Harness::new();
    let mut client = define_chain(&h, 0).await;
    client.start("svc_c", None).await.unwrap();
    let statuses = client.wait_settled("svc_c", 20_000).await.unwrap();
    assert!(all_ready(&statuses), "{statuses:#?}");
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_c/c", "ready")).await;
    assert!(before(&events, ("svc_a/a", "ready"), ("svc_b/b", "spawned")), "{events:#?}");
    assert!(before(&events, ("svc_b/b", "ready"), ("svc_c/c", "spawned")), "{events:#?}");
    assert!(has(&events, "svc_a/a", "pulled_in") && has(&events, "svc_b/b", "pulled_in"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_dependent_is_never_spawned_before_its_dependency_is_recorded_ready() {
    // Names sort dependent-first, so one reconcile pass visits the dependent before the dependency.
    let h = Harness::new();
    let mut client = h.client().await;
    let sz = h.sock("zz_dep", "z");
    client.define(&service("zz_dep", vec![h.served("zz_dep", "z", 150)])).await.unwrap();
    let a = h.served("aa_app", "a", 0).args(["--require", path(&sz)]).depends_on(requires("zz_dep", "z", &sz));
    client.define(&service("aa_app", vec![a])).await.unwrap();
    client.start("aa_app", None).await.unwrap();
    assert!(all_ready(&client.wait_settled("aa_app", 20_000).await.unwrap()));
    let events = events_until(&mut client, LIMIT, |e| has(e, "aa_app/a", "ready")).await;
    assert!(before(&events, ("zz_dep/z", "ready"), ("aa_app/a", "spawned")), "{events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn dependency_that_never_becomes_ready_fails_the_dependent_naming_it() {
    let h = Harness::new();
    let mut client = h.client().await;
    let sa = h.sock("svc_a", "a");
    // a binds somewhere else, so its declared socket never accepts.
    let elsewhere = h.dir.path().join("elsewhere.sock");
    let a = h.served("svc_a", "a", 0).args(["--socket", path(&elsewhere)]).start_timeout_ms(60_000);
    client.define(&service("svc_a", vec![a])).await.unwrap();
    let b = h.served("svc_b", "b", 0).depends_on(requires("svc_a", "a", &sa).timeout_ms(300));
    client.define(&service("svc_b", vec![b])).await.unwrap();
    client.start("svc_b", None).await.unwrap();
    let statuses = client.wait_settled("svc_b", 20_000).await.unwrap();
    let b = state_of(&statuses, "svc_b", "b");
    assert_eq!(b.state, RunState::Failed, "{statuses:#?}");
    let reason = b.reason.as_deref().unwrap();
    assert!(reason.contains("cannot start svc_b/b: requires svc_a/a: timed out after 300ms"), "{reason}");
    assert!(reason.contains("is not accepting connections"), "{reason}");
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_b/b", "failed")).await;
    assert!(has(&events, "svc_b/b", "waiting") && !has(&events, "svc_b/b", "spawned"), "{events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn requires_fails_with_a_failed_dependency_but_wants_starts_anyway() {
    let h = Harness::new();
    let mut client = h.client().await;
    let broken = h.served("svc_x", "x", 0).args(["--exit", "1"]);
    client.define(&service("svc_x", vec![broken])).await.unwrap();
    let sx = h.sock("svc_x", "x");
    let needs = h.served("svc_r", "r", 0).depends_on(requires("svc_x", "x", &sx));
    let likes = h.served("svc_w", "w", 0).depends_on(requires("svc_x", "x", &sx).relation(Relation::Wants));
    client.define(&service("svc_r", vec![needs])).await.unwrap();
    client.define(&service("svc_w", vec![likes])).await.unwrap();
    client.start("svc_r", None).await.unwrap();
    client.start("svc_w", None).await.unwrap();
    let r = client.wait_settled("svc_r", 20_000).await.unwrap();
    let w = client.wait_settled("svc_w", 20_000).await.unwrap();
    let failed = state_of(&r, "svc_r", "r");
    assert_eq!(failed.state, RunState::Failed);
    let reason = failed.reason.as_deref().unwrap();
    assert!(reason.contains("requires svc_x/x: failed: exited with status 1"), "{reason}");
    assert_eq!(state_of(&w, "svc_w", "w").state, RunState::Ready, "{w:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn after_orders_but_never_pulls_anything_in() {
    let h = Harness::new();
    let mut client = h.client().await;
    client.define(&service("svc_e", vec![h.served("svc_e", "e", 0)])).await.unwrap();
    let se = h.sock("svc_e", "e");
    let d = h.served("svc_d", "d", 0).depends_on(requires("svc_e", "e", &se).relation(Relation::After));
    client.define(&service("svc_d", vec![d])).await.unwrap();
    client.start("svc_d", None).await.unwrap();
    let statuses = client.wait_settled("svc_d", 20_000).await.unwrap();
    assert_eq!(state_of(&statuses, "svc_d", "d").state, RunState::Ready, "{statuses:#?}");
    let e = client.status(Some("svc_e")).await.unwrap();
    assert_eq!(e[0].state, RunState::Created, "after pulled svc_e in: {e:#?}");

    // When both are being started, `after` does order them.
    client.stop("svc_d", None).await.unwrap();
    let seen = client.events(0, 0).await.unwrap().last().unwrap().seq;
    client.start("svc_e", None).await.unwrap();
    client.start("svc_d", None).await.unwrap();
    let events = events_after(&mut client, seen, "svc_d/d", "ready").await;
    assert!(before(&events, ("svc_e/e", "ready"), ("svc_d/d", "spawned")), "{events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn completed_gate_waits_for_a_one_shot_to_exit_zero() {
    let h = Harness::new();
    let mut client = h.client().await;
    let migrate = |code: &str| h.daemon("migrate", 100).args(["--exit", code]);
    let on_migration = |svc: &str| {
        h.served("app", svc, 0).depends_on(
            ActionDep::new(format!("db_{svc}"))
                .action("migrate")
                .relation(Relation::Requires)
                .ready(ReadyGate::Completed),
        )
    };
    client.define(&service("db_ok", vec![migrate("0")])).await.unwrap();
    client.define(&service("db_bad", vec![migrate("3")])).await.unwrap();
    client.define(&service("app", vec![on_migration("ok"), on_migration("bad")])).await.unwrap();
    client.start("app", None).await.unwrap();
    let statuses = client.wait_settled("app", 20_000).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "app/ok", "ready") && has(e, "app/bad", "failed")).await;
    assert!(before(&events, ("db_ok/migrate", "exited"), ("app/ok", "spawned")), "{events:#?}");
    let bad = state_of(&statuses, "app", "bad");
    let reason = bad.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("requires db_bad/migrate: failed: exited with status 3"), "{statuses:#?}");
    assert!(!has(&events, "app/bad", "spawned"));
}

#[tokio::test(flavor = "current_thread")]
async fn independent_branches_start_in_parallel() {
    let h = Harness::new();
    let mut client = h.client().await;
    client.define(&service("left", vec![h.served("left", "l", 300)])).await.unwrap();
    client.define(&service("right", vec![h.served("right", "r", 300)])).await.unwrap();
    let top = h.served("top", "t", 0).depends_on(requires("left", "l", &h.sock("left", "l"))).depends_on(requires(
        "right",
        "r",
        &h.sock("right", "r"),
    ));
    client.define(&service("top", vec![top])).await.unwrap();
    client.start("top", None).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| has(e, "top/t", "ready")).await;
    // Both branches were spawned before either became ready: neither waited for the other.
    for spawned in ["left/l", "right/r"] {
        for ready in ["left/l", "right/r"] {
            assert!(before(&events, (spawned, "spawned"), (ready, "ready")), "{events:#?}");
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn stop_runs_in_reverse_order_and_says_why() {
    let h = Harness::new();
    let mut client = define_chain(&h, 0).await;
    client.start("svc_c", None).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_c", 20_000).await.unwrap()));
    let report = client.stop("svc_a", None).await.unwrap();
    assert_eq!(
        report.notes,
        ["stopping svc_b/b first: it requires svc_a/a", "stopping svc_c/c first: it requires svc_b/b"]
    );
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_a/a", "exited")).await;
    assert!(before(&events, ("svc_c/c", "exited"), ("svc_b/b", "stopping")), "{events:#?}");
    assert!(before(&events, ("svc_b/b", "exited"), ("svc_a/a", "stopping")), "{events:#?}");
    for s in client.status(None).await.unwrap() {
        assert!(!s.state.is_alive() && s.pid.is_none(), "{s:#?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn many_services_start_and_stop_in_one_request_each() {
    let h = Harness::new();
    let mut client = define_chain(&h, 0).await;
    client.define(&service("svc_x", vec![h.served("svc_x", "x", 0)])).await.unwrap();
    // One unknown name and nothing starts.
    let e = client.start_many(&[("svc_x", None), ("svc_nope", None)]).await.unwrap_err();
    assert!(e.to_string().contains("no service `svc_nope`"), "{e}");
    assert!(client.status(None).await.unwrap().iter().all(|s| !s.wanted), "nothing asked to start");
    // Both, in one reply that lists each action once (svc_b comes with svc_c).
    let report = client.start_many(&[("svc_c", None), ("svc_x", None), ("svc_c", None)]).await.unwrap();
    assert_eq!(report.actions, ["svc_c/c", "svc_x/x"], "{report:#?}");
    for service in ["svc_c", "svc_x"] {
        assert!(all_ready(&client.wait_settled(service, 20_000).await.unwrap()), "{service}");
    }
    // One stop job for both, dependents first, answered once everything is gone.
    let report = client.stop_many(&[("svc_a", None), ("svc_x", None)]).await.unwrap();
    assert!(report.notes.contains(&"stopping svc_c/c first: it requires svc_b/b".to_owned()), "{report:#?}");
    for s in client.status(None).await.unwrap() {
        assert!(!s.state.is_alive() && s.pid.is_none(), "gone when answered: {s:#?}");
    }
    let events = events_until(&mut client, LIMIT, |e| has(e, "svc_a/a", "exited")).await;
    assert!(before(&events, ("svc_c/c", "exited"), ("svc_b/b", "stopping")), "{events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn sigkill_mid_start_then_restart_converges_without_duplicates() {
    let mut h = Harness::new();
    let mut client = define_chain(&h, 1_500).await;
    client.start("svc_c", None).await.unwrap();
    events_until(&mut client, LIMIT, |e| has(e, "svc_c/c", "spawned")).await;
    drop(client);
    h.kill_supervisor();
    h.start_supervisor();
    let mut client = h.client().await;
    let statuses = client.wait_settled("svc_c", 20_000).await.unwrap();
    assert!(all_ready(&statuses), "{statuses:#?}\n{}", h.supervisor_log());
    let events = client.events(0, 0).await.unwrap();
    assert!(has(&events, "svc_c/c", "adopted"), "{events:#?}");
    for name in ["a", "b", "c"] {
        assert_eq!(h.processes_of(name), 1, "daemon {name}");
    }
    // A restart with everything up adopts all three and spawns nothing.
    drop(client);
    h.kill_supervisor();
    h.start_supervisor();
    let mut client = h.client().await;
    assert!(all_ready(&client.wait_settled("svc_c", 20_000).await.unwrap()));
    let events = client.events(0, 0).await.unwrap();
    assert!(!events.iter().any(|e| kind_name(&e.kind) == "spawned"), "{events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn registrations_and_wanted_state_survive_a_clean_restart() {
    let mut h = Harness::new();
    let mut client = h.client().await;
    client.define(&service("svc_a", vec![h.served("svc_a", "a", 0)])).await.unwrap();
    client.start("svc_a", None).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_a", 20_000).await.unwrap()));
    client.shutdown().await.unwrap();
    assert_eq!(h.processes_of("a"), 0, "shutdown stops everything");
    h.kill_supervisor();
    h.start_supervisor();
    let mut client = h.client().await;
    assert_eq!(client.list().await.unwrap()[0].name, "svc_a");
    let statuses = client.wait_settled("svc_a", 20_000).await.unwrap();
    assert!(all_ready(&statuses), "{statuses:#?}\n{}", h.supervisor_log());
}

#[tokio::test(flavor = "current_thread")]
async fn same_ordering_whether_started_directly_by_raw_request_or_pulled_in() {
    use std::io::{BufRead, Write};
    let h = Harness::new();
    let mut client = define_chain(&h, 0).await;
    let top = h.served("svc_top", "top", 0).depends_on(requires("svc_c", "c", &h.sock("svc_c", "c")));
    client.define(&service("svc_top", vec![top])).await.unwrap();
    for how in ["client", "raw", "pulled in"] {
        let seen = client.events(0, 0).await.unwrap().last().map_or(0, |e| e.seq);
        match how {
            "client" => drop(client.start("svc_c", None).await.unwrap()),
            "raw" => {
                let mut raw = std::os::unix::net::UnixStream::connect(&h.socket).unwrap();
                raw.write_all(
                    b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"start\",\"params\":{\"service\":\"svc_c\"}}\n",
                )
                .unwrap();
                let mut answer = String::new();
                std::io::BufReader::new(raw).read_line(&mut answer).unwrap();
                assert!(answer.contains("\"result\""), "{answer}");
            }
            _ => drop(client.start("svc_top", None).await.unwrap()),
        }
        let events = events_after(&mut client, seen, "svc_c/c", "ready").await;
        assert!(before(&events, ("svc_a/a", "ready"), ("svc_b/b", "spawned")), "{how}: {events:#?}");
        assert!(before(&events, ("svc_b/b", "ready"), ("svc_c/c", "spawned")), "{how}: {events:#?}");
        client.stop("svc_a", None).await.unwrap();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn requires_registers_a_dependency_from_its_declaration_when_its_binary_is_installed() {
    let h = Harness::new();
    std::os::unix::fs::symlink(TESTD, h.bin_dir.join("hero_proxy_server")).unwrap();
    let mut client = h.client().await;
    let proxy = h.sock("hero_proxy", "proxy");
    let collab = h.served("hero_collab", "server", 0).args(["--require", path(&proxy)]).depends_on(requires(
        "hero_proxy",
        "hero_proxy_server",
        &proxy,
    ));
    client.define(&service("hero_collab", vec![collab])).await.unwrap();
    client.start("hero_collab", None).await.unwrap();
    let statuses = client.wait_settled("hero_collab", 20_000).await.unwrap();
    assert!(all_ready(&statuses), "{statuses:#?}");
    assert_eq!(state_of(&statuses, "hero_proxy", "hero_proxy_server").state, RunState::Ready);

    // Not installed: the dependent fails and says where it looked.
    let missing = h.served("lonely", "l", 0).depends_on(requires("nowhere", "nowhere_server", &h.sock("nowhere", "n")));
    client.define(&service("lonely", vec![missing])).await.unwrap();
    client.start("lonely", None).await.unwrap();
    let statuses = client.wait_settled("lonely", 20_000).await.unwrap();
    let reason = state_of(&statuses, "lonely", "l").reason.clone().unwrap_or_default();
    assert!(
        reason
            .contains("requires nowhere/nowhere_server: not defined, and `nowhere_server` is not in the bin directory"),
        "{reason}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn on_failure_restarts_with_backoff_until_the_start_limit() {
    let h = Harness::new();
    let mut client = h.client().await;
    let crash = h.daemon("crash", 0).args(["--exit", "7"]).restart(RestartPolicy::OnFailure);
    client.define(&service("svc_crash", vec![crash])).await.unwrap();
    client.start("svc_crash", None).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| {
        e.iter().filter(|x| x.action == "svc_crash/crash" && kind_name(&x.kind) == "failed").count() == 5
    })
    .await;
    let restarts: Vec<u64> = events
        .iter()
        .filter_map(|e| match e.kind {
            service_manifest_runtime::api::EventKind::Restarting { in_ms } => Some(in_ms),
            _ => None,
        })
        .collect();
    assert_eq!(restarts, [100, 200, 400, 800], "exponential backoff");
    let status = client.wait_settled("svc_crash", 20_000).await.unwrap();
    let reason = status[0].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("exited with status 7") && reason.contains("start limit"), "{reason}");
    let log = client.logs("svc_crash", "crash", None).await.unwrap();
    assert_eq!(log.matches("sm-testd: done, exiting with 7").count(), 5, "{log}");
    assert_eq!(h.zombie_children(), 0, "every exited child was reaped");
}

#[tokio::test(flavor = "current_thread")]
async fn a_daemon_that_ran_a_while_is_restarted_at_once_as_s6_does() {
    let h = Harness::new();
    let mut client = h.client().await;
    // Each run lasts 1.2 s, longer than the 1 s that counts as a quick death.
    let steady =
        h.daemon("steady", 1_200).args(["--delay-ms", "1200", "--exit", "7"]).restart(RestartPolicy::OnFailure);
    client.define(&service("svc_steady", vec![steady])).await.unwrap();
    client.start("svc_steady", None).await.unwrap();
    let events = events_until(&mut client, LIMIT, |e| {
        e.iter().filter(|x| x.action == "svc_steady/steady" && kind_name(&x.kind) == "restarting").count() == 2
    })
    .await;
    let restarts: Vec<u64> = events
        .iter()
        .filter_map(|e| match e.kind {
            service_manifest_runtime::api::EventKind::Restarting { in_ms } => Some(in_ms),
            _ => None,
        })
        .collect();
    assert_eq!(restarts, [0, 0], "no back-off after a run that lasted");
    client.stop("svc_steady", None).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn cycles_across_services_are_rejected_naming_the_cycle_and_define_is_idempotent() {
    let h = Harness::new();
    let mut client = h.client().await;
    let a = h.served("ca", "a", 0).depends_on(requires("cb", "b", &h.sock("cb", "b")));
    assert!(client.define(&service("ca", vec![a.clone()])).await.unwrap().changed);
    assert!(!client.define(&service("ca", vec![a])).await.unwrap().changed, "same spec twice changes nothing");
    let b = h.served("cb", "b", 0).depends_on(requires("ca", "a", &h.sock("ca", "a")));
    match client.define(&service("cb", vec![b])).await {
        Err(ClientError::Rpc(e)) => {
            assert_eq!(e.code, codes::REJECTED);
            assert!(
                e.message.contains("cycle: ca/a → cb/b → ca/a") || e.message.contains("cycle: cb/b → ca/a → cb/b"),
                "{}",
                e.message
            );
        }
        other => panic!("cycle accepted: {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn bad_requests_get_errors_and_the_daemon_keeps_serving() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::net::UnixStream;
    let h = Harness::new();
    let ask = |stream: &mut UnixStream, bytes: &[u8]| {
        stream.write_all(bytes).unwrap();
        let mut line = String::new();
        BufReader::new(stream.try_clone().unwrap()).read_line(&mut line).unwrap();
        serde_json::from_str::<serde_json::Value>(&line).unwrap()
    };
    let mut s = UnixStream::connect(&h.socket).unwrap();
    assert_eq!(ask(&mut s, b"garbage\n")["error"]["code"], codes::PARSE_ERROR);
    assert_eq!(
        ask(&mut s, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"explode\"}\n")["error"]["code"],
        codes::METHOD_NOT_FOUND
    );
    assert_eq!(
        ask(&mut s, b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"start\",\"params\":{\"service\":\"ghost\"}}\n")["error"]
            ["code"],
        codes::REJECTED
    );
    assert_eq!(
        ask(&mut s, b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"version\"}\n")["result"]["api"],
        1,
        "same connection still served"
    );

    // Truncated: the peer hangs up in the middle of a request.
    let mut t = UnixStream::connect(&h.socket).unwrap();
    t.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":4,\"meth").unwrap();
    t.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    t.read_to_string(&mut answer).unwrap();
    assert!(answer.contains(&codes::PARSE_ERROR.to_string()), "{answer}");

    // Oversized: answered with an error, then that connection is closed.
    let mut big = UnixStream::connect(&h.socket).unwrap();
    let huge = vec![b'x'; service_manifest_runtime::api::MAX_REQUEST_BYTES + 10];
    let writer = std::thread::spawn({
        let mut big = big.try_clone().unwrap();
        move || {
            let _ = big.write_all(&huge);
        }
    });
    let mut answer = String::new();
    BufReader::new(&mut big).read_line(&mut answer).unwrap();
    assert!(answer.contains("request larger than"), "{answer}");
    drop(big);
    let _ = writer.join();

    let mut client = h.client().await;
    assert_eq!(client.version().await.unwrap().api, 1, "the daemon still serves everyone else");
}

#[tokio::test(flavor = "current_thread")]
async fn another_user_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: creating a second user's process needs root, and this test runs as another user");
        return;
    }
    let h = Harness::new();
    // Open the path up so the only thing standing in the way is the peer-credential check.
    // (The 0700 directory alone already keeps the other user out.)
    for dir in [h.dir.path(), h.socket.parent().unwrap(), h.socket.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let out =
        std::process::Command::new(TESTD).args(["--probe", path(&h.socket)]).uid(65534).gid(65534).output().unwrap();
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(answer.contains(&codes::FORBIDDEN.to_string()), "{answer} {}", String::from_utf8_lossy(&out.stderr));
    assert!(answer.contains("another user"), "{answer}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let h = Harness::new();
    let mut client = h.client().await;
    client.define(&service("svc_stubborn", vec![h.stubborn("mule")])).await.unwrap();
    client.start("svc_stubborn", None).await.unwrap();
    assert!(all_ready(&client.wait_settled("svc_stubborn", 20_000).await.unwrap()));
    h.wait_until_ignoring_term("mule");
    // One instance: one process group (the shell may show a forked child for a moment).
    assert_eq!(h.groups_of("mule").len(), 1);
    client.stop("svc_stubborn", None).await.unwrap();
    let events = client.events(0, 0).await.unwrap();
    let exit = events.iter().find(|e| e.action == "svc_stubborn/mule" && kind_name(&e.kind) == "exited").unwrap();
    // SIGTERM was ignored; the exit has no status code because SIGKILL ended it.
    assert_eq!(exit.kind, service_manifest_runtime::api::EventKind::Exited { code: None }, "{events:#?}");
    assert_eq!(h.processes_of("mule"), 0);
    assert_eq!(h.zombie_children(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn the_api_socket_is_private_to_its_user() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&h.socket), 0o600, "socket");
    assert_eq!(mode(h.socket.parent().unwrap()), 0o700, "its directory");
}
