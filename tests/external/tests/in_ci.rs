//! In CI nothing here may be ignored: a missing program there is a broken CI, not a skip.

#[test]
fn nothing_is_ignored_in_ci() {
    if std::env::var("CI").as_deref() != Ok("true") {
        return;
    }
    let missing: Vec<&str> = [
        (cfg!(no_zinit), "zinit-server 0.3.9 (.ci/run installs it; or set ZINIT_SERVER)"),
        (cfg!(no_systemd_analyze), "systemd-analyze (systemd >= 252)"),
    ]
    .into_iter()
    .filter_map(|(missing, what)| missing.then_some(what))
    .collect();
    assert!(missing.is_empty(), "missing in CI, so their suites were ignored: {}", missing.join(", "));
}
