//! A dependency checked against its own manifest, found on a search path: each
//! mismatch is an error at our key that names what the other file says.

use std::path::{Path, PathBuf};

use service_manifest_core::{Diagnostic, Options, parse};

const PROXY: &str = r#"
[service]
name = "hero_proxy"

[[binaries]]
name = "hero_proxy_server"
kind = "server"
socket = "hero_proxy/proxy.sock"

[[binaries]]
name = "hero_proxy"
kind = "cli"
"#;

const OURS: &str = "[service]\nname = \"collab\"\n\n[[binaries]]\nname = \"collab_server\"\nkind = \"server\"\n\n[[dependencies]]\nrepo = \"hero_proxy\"\n";

/// A search directory holding `hero_proxy/service.toml`.
fn search_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("hero_proxy")).unwrap();
    std::fs::write(dir.path().join("hero_proxy/service.toml"), PROXY).unwrap();
    dir
}

fn check(dependency: &str, search: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<String>> {
    let source = format!("{OURS}{dependency}");
    let options = Options::strict().search_path(search.iter().cloned());
    match parse(&source, &options) {
        Ok(checked) => Ok(checked.dependency_files),
        Err(errors) => Err(errors.iter().map(|d: &Diagnostic| d.render("service.toml", &source).to_string()).collect()),
    }
}

fn only_error(dependency: &str, dir: &Path) -> String {
    let errors = check(dependency, &[dir.to_path_buf()]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn a_dependency_that_agrees_is_accepted_and_its_file_reported_for_tracking() {
    let dir = search_dir();
    let read =
        check("bin = \"hero_proxy_server\"\nsocket = \"hero_proxy/proxy.sock\"\n", &[dir.path().into()]).unwrap();
    assert_eq!(read, [dir.path().join("hero_proxy/service.toml")]);
}

#[test]
fn without_a_search_path_nothing_is_checked() {
    assert!(check("bin = \"hero_proxy_srv\"\n", &[]).is_ok());
}

#[test]
fn a_socket_that_drifted_names_the_one_really_served() {
    let dir = search_dir();
    let e = only_error("bin = \"hero_proxy_server\"\nsocket = \"hero_proxy/prxy.sock\"\n", dir.path());
    assert!(e.contains("`hero_proxy_server` of `hero_proxy` serves `hero_proxy/proxy.sock` (per hero_proxy/service.toml), not `hero_proxy/prxy.sock`"), "{e}");
    assert!(e.contains("--> service.toml:11:10"), "{e}");
    assert!(e.contains("write \"hero_proxy/proxy.sock\" here, as hero_proxy/service.toml does"), "{e}");
}

#[test]
fn an_unknown_binary_suggests_a_started_one() {
    let dir = search_dir();
    let e = only_error("bin = \"hero_proxy_srv\"\n", dir.path());
    assert!(e.contains("`hero_proxy` has no binary `hero_proxy_srv` (per hero_proxy/service.toml)"), "{e}");
    assert!(e.contains("did you mean `hero_proxy_server`?"), "{e}");
}

#[test]
fn an_install_only_binary_cannot_be_waited_for() {
    let dir = search_dir();
    let e = only_error("bin = \"hero_proxy\"\n", dir.path());
    assert!(e.contains("`hero_proxy` of `hero_proxy` is never started (of kind `cli`"), "{e}");
    assert!(e.contains("`hero_proxy_server`"), "{e}");
}

#[test]
fn a_socket_alone_must_be_served_by_some_started_binary() {
    let dir = search_dir();
    let e = only_error("socket = \"hero_proxy/proxy.socket\"\n", dir.path());
    assert!(e.contains("no started binary of `hero_proxy` serves `hero_proxy/proxy.socket`"), "{e}");
    assert!(e.contains("did you mean `hero_proxy/proxy.sock`?"), "{e}");
}

#[test]
fn the_first_directory_on_the_path_wins_and_a_flat_file_counts() {
    let (broken, good) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(good.path().join("hero_proxy.toml"), PROXY).unwrap();
    std::fs::write(broken.path().join("hero_proxy.toml"), PROXY.replace("proxy.sock", "other.sock")).unwrap();
    let dep = "bin = \"hero_proxy_server\"\nsocket = \"hero_proxy/proxy.sock\"\n";
    assert!(check(dep, &[good.path().into(), broken.path().into()]).is_ok());
    let errors = check(dep, &[broken.path().into(), good.path().into()]).unwrap_err();
    assert!(errors[0].contains("serves `hero_proxy/other.sock` (per hero_proxy.toml)"), "{errors:#?}");
}

#[test]
fn an_invalid_dependency_manifest_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hero_proxy.toml"), "[[binaries]]\nname = \"x\"\nkind = \"demon\"\n").unwrap();
    let e = only_error("bin = \"hero_proxy_server\"\n", dir.path());
    assert!(e.contains("`hero_proxy` has a manifest on SERVICE_MANIFEST_PATH, but it is invalid"), "{e}");
    assert!(e.contains("hero_proxy.toml:3:8"), "{e}");
}

#[test]
fn the_examples_agree_with_each_other() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let source = std::fs::read_to_string(examples.join("hero_collab/service.toml")).unwrap();
    let checked = parse(&source, &Options::strict().search_path([examples.clone()])).unwrap();
    assert_eq!(checked.dependency_files, [examples.join("hero_proxy/service.toml")]);
}
