//! Every class of manifest mistake, checked through the public `parse`: each must be
//! rejected with a message and a `line:col` that point at the mistake.

use service_manifest_core::{Diagnostic, Options, parse};

const HEADER: &str = "[service]\nname = \"svc\"\n\n[[binaries]]\nname = \"svc_server\"\nkind = \"server\"\nsocket = \"svc/server.sock\"\n";

/// Every rendered error for `source`, or a panic if it was accepted.
fn errors(source: &str) -> Vec<String> {
    match parse(source, &Options::strict()) {
        Ok(_) => panic!("accepted:\n{source}"),
        Err(errors) => errors.iter().map(|d: &Diagnostic| d.render("service.toml", source).to_string()).collect(),
    }
}

fn only_error(source: &str) -> String {
    let all = errors(source);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.into_iter().next().unwrap()
}

fn with(extra: &str) -> String {
    format!("{HEADER}{extra}")
}

#[test]
fn toml_syntax_error_is_located() {
    let e = only_error(&with("args = [\"--a\"\n"));
    assert!(e.starts_with("TOML syntax error"), "{e}");
    assert!(e.contains("--> service.toml:8:"), "{e}");
}

#[test]
fn unknown_key_suggests_the_closest_known_key() {
    let e = only_error(&with("descripton = \"x\"\n"));
    assert!(e.contains("unknown key `descripton` in [[binaries]]"), "{e}");
    assert!(e.contains("--> service.toml:8:1"), "{e}");
    assert!(e.contains("did you mean `description`?"), "{e}");
}

#[test]
fn unknown_dependency_key_suggests_the_long_form() {
    let e = only_error(&with("\n[[dependencies]]\nrepo = \"p\"\nbin_nme = \"p_server\"\nsocket = \"p.sock\"\n"));
    assert!(e.contains("unknown key `bin_nme`"), "{e}");
    assert!(e.contains("did you mean `bin_name`?"), "{e}");
}

#[test]
fn wrong_value_type_names_both_types() {
    let e = only_error(&with("args = \"--verbose\"\n"));
    assert!(e.contains("`args` in [[binaries]] must be an array of strings, found string"), "{e}");
    assert!(e.contains("--> service.toml:8:8"), "{e}");
}

#[test]
fn missing_required_key_points_at_the_table_header() {
    let e = only_error(&with("\n[[binaries]]\nname = \"svc_admin\"\n"));
    assert!(e.contains("missing required key `kind` in [[binaries]]"), "{e}");
    assert!(e.contains("--> service.toml:9:1"), "{e}");
    assert!(e.contains("`server`, `admin`, `web`, `cli`, `tool`"), "{e}");
}

#[test]
fn bad_enum_value_lists_the_valid_ones() {
    let e = only_error("[service]\nname = \"s\"\n[[binaries]]\nname = \"b\"\nkind = \"daemon\"\n");
    assert!(e.contains("`kind` in [[binaries]] cannot be `daemon`"), "{e}");
    assert!(e.contains("valid values are `server`, `admin`, `web`, `cli`, `tool`"), "{e}");
    let e = only_error(&with("restart = \"on_failure\"\n"));
    assert!(e.contains("did you mean `on-failure`?"), "{e}");
}

#[test]
fn duplicate_binary_names_the_first_declaration() {
    let e = only_error(&with("\n[[binaries]]\nname = \"svc_server\"\nkind = \"admin\"\n"));
    assert!(e.contains("duplicate binary `svc_server`"), "{e}");
    assert!(e.contains("--> service.toml:10:8"), "{e}");
    assert!(e.contains("already declared on line 5"), "{e}");
}

#[test]
fn binaries_that_would_share_an_identifier_are_rejected() {
    let e = only_error(&with("\n[[binaries]]\nname = \"svc-server\"\nkind = \"cli\"\n"));
    assert!(e.contains("would both be `Binary::SvcServer`"), "{e}");
}

#[test]
fn duplicate_dependency_is_rejected() {
    let dep = "\n[[dependencies]]\nrepo = \"p\"\nbin = \"p_server\"\n";
    let e = only_error(&with(&format!("{dep}{dep}")));
    assert!(e.contains("duplicate dependency on `p`"), "{e}");
    assert!(e.contains("--> service.toml:13:1"), "{e}");
}

#[test]
fn ill_formed_names_are_rejected_with_the_reason() {
    for (name, reason) in [
        ("", "is empty"),
        ("my server", "contains whitespace"),
        ("bin/server", "contains a path separator"),
        ("a..b", "contains `..`"),
        ("-x", "does not start with a letter or digit"),
        ("x$", "contains a character other than"),
    ] {
        let e = only_error(&format!("[service]\nname = \"s\"\n[[binaries]]\nname = \"{name}\"\nkind = \"cli\"\n"));
        assert!(e.contains(reason), "{name:?}: {e}");
        assert!(e.contains("--> service.toml:4:8"), "{e}");
    }
}

#[test]
fn both_key_forms_in_one_table_is_an_error_at_the_second() {
    let e = only_error(&with("\n[[dependencies]]\nrepo = \"p\"\nbin = \"p_server\"\nbin_name = \"p_server\"\n"));
    assert!(e.contains("both `bin` and `bin_name`"), "{e}");
    assert!(e.contains("--> service.toml:12:1"), "{e}");
}

#[test]
fn dependency_with_neither_bin_nor_socket_is_the_silent_repo_only_case() {
    let e = only_error(&with("\n[[dependencies]]\nrepo = \"hero_proxy\"\ncrate_name = \"hero_proxy_server\"\n"));
    assert!(e.contains("names neither a bin nor a socket"), "{e}");
}

#[test]
fn references_to_unknown_binaries_suggest_the_right_one() {
    for key in ["after", "spawned_by"] {
        let value = if key == "after" { "[\"svc_sever\"]" } else { "\"svc_sever\"" };
        let e =
            only_error(&with(&format!("\n[[binaries]]\nname = \"svc_admin\"\nkind = \"admin\"\n{key} = {value}\n")));
        assert!(e.contains(&format!("`{key}` names unknown binary `svc_sever`")), "{e}");
        assert!(e.contains("did you mean `svc_server`?"), "{e}");
    }
    let e = only_error(&with("\n[[dependencies]]\nrepo = \"p\"\nbin = \"p\"\napplies_to = [\"nope\"]\n"));
    assert!(e.contains("`applies_to` names unknown binary `nope`"), "{e}");
}

#[test]
fn after_and_applies_to_cannot_name_install_only_binaries() {
    let cli = "\n[[binaries]]\nname = \"svc\"\nkind = \"cli\"\n";
    let e = only_error(&with(&format!("after = [\"svc\"]\n{cli}")));
    assert!(e.contains("`after` of svc_server names `svc`, which is install-only"), "{e}");
    let e = only_error(&with(&format!("{cli}\n[[dependencies]]\nrepo = \"p\"\nbin = \"p\"\napplies_to = [\"svc\"]\n")));
    assert!(e.contains("`applies_to` of this dependency names `svc`, which is install-only"), "{e}");
}

#[test]
fn spawned_by_must_name_a_started_binary() {
    let e = only_error(&with(
        "\n[[binaries]]\nname = \"tool\"\nkind = \"tool\"\n\n[[binaries]]\nname = \"child\"\nkind = \"server\"\nspawned_by = \"tool\"\n",
    ));
    assert!(e.contains("`child` is spawned by `tool`, which is itself never started"), "{e}");
}

#[test]
fn dependency_on_the_service_itself_is_rejected() {
    let e = only_error(&with("\n[[dependencies]]\nrepo = \"svc\"\nbin = \"svc_server\"\n"));
    assert!(e.contains("service `svc` depends on itself"), "{e}");
}

#[test]
fn after_cycle_prints_the_cycle_path() {
    let e = only_error(
        "[service]\nname = \"s\"\n[[binaries]]\nname = \"a\"\nkind = \"server\"\nafter = [\"c\"]\n[[binaries]]\nname = \"b\"\nkind = \"server\"\nafter = [\"a\"]\n[[binaries]]\nname = \"c\"\nkind = \"server\"\nafter = [\"b\"]\n",
    );
    assert!(e.contains("`after` forms a cycle: a → c → b → a"), "{e}");
}

#[test]
fn socket_path_too_long_for_sun_path_is_rejected() {
    let long = "s".repeat(108);
    let e = only_error(&format!(
        "[service]\nname = \"s\"\n[[binaries]]\nname = \"b\"\nkind = \"server\"\nsocket = \"{long}\"\n"
    ));
    assert!(e.contains("is 108 bytes long; a Unix socket address holds at most 107"), "{e}");
}

#[test]
fn bad_duration_is_rejected_with_an_example() {
    let e = only_error(&with("start_timeout = \"30 parsecs\"\n"));
    assert!(e.contains("bad duration `30 parsecs` for `start_timeout`"), "{e}");
    assert!(e.contains("\"500ms\""), "{e}");
    let e = only_error(&with("start_timeout = \"0s\"\n"));
    assert!(e.contains("must be at least 1ms"), "{e}");
}

#[test]
fn manifest_with_no_binary_is_rejected() {
    let e = only_error("[service]\nname = \"s\"\n");
    assert!(e.contains("the manifest declares no binary"), "{e}");
}

#[test]
fn socket_gate_without_a_socket_is_rejected() {
    let e = only_error(&with("\n[[dependencies]]\nrepo = \"p\"\nbin = \"p\"\nready = \"socket\"\n"));
    assert!(e.contains("`ready = \"socket\"` on `p`, but no socket is named"), "{e}");
}

#[test]
fn six_mistakes_give_six_located_errors_in_file_order() {
    let source = "[service]\nname = \"s\"\n\n[[binaries]]\nname = \"a\"\nkind = \"deamon\"\n\n[[binaries]]\nname = \"a\"\nkind = \"server\"\nstart_timeout = \"soon\"\nafter = [\"zz\"]\n\n[[dependencies]]\nrepo = \"p\"\ncolour = \"blue\"\n";
    let all = errors(source);
    let places: Vec<&str> = all.iter().map(|e| e.lines().find(|l| l.contains("-->")).unwrap().trim()).collect();
    assert_eq!(
        places,
        [
            "--> service.toml:6:8",   // bad kind
            "--> service.toml:9:8",   // duplicate binary
            "--> service.toml:11:17", // bad duration
            "--> service.toml:12:10", // unknown after target
            "--> service.toml:14:1",  // dependency names neither bin nor socket
            "--> service.toml:16:1",  // unknown key
        ],
        "{all:#?}"
    );
}

#[test]
fn lenient_loader_turns_unknown_keys_into_warnings() {
    let source = with("colour = \"blue\"\n");
    let checked = parse(&source, &Options::lenient()).expect("lenient accepts unknown keys");
    assert_eq!(checked.warnings.len(), 1);
    assert!(checked.warnings[0].message.contains("unknown key `colour` in [[binaries]] (ignored)"));
    // Everything else is as strict as the macro.
    assert!(parse(&with("kind2 = 1\nargs = 3\n"), &Options::lenient()).is_err());
}

#[test]
fn lenient_loader_reports_every_error_once_each_with_one_error_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.toml");
    // Two errors and an unknown key, which the lenient loader only warns about.
    let source = "[service]\nname = \"s\"\n\n[[binaries]]\nname = \"a\"\nkind = \"deamon\"\ncolour = \"blue\"\nstart_timeout = \"soon\"\n";
    std::fs::write(&path, source).unwrap();
    let text = service_manifest_core::load_lenient(&path, None).expect_err("rejected").to_string();
    assert_eq!(text.matches("error: ").count(), 2, "{text}");
    assert!(!text.contains("error: error"), "{text}");
    assert!(text.contains("error: `kind` in [[binaries]] cannot be `deamon`\n"), "{text}");
    assert!(text.contains("service.toml:6:8\n"), "{text}");
    assert!(text.contains("error: bad duration `soon`"), "{text}");
    assert!(text.contains("service.toml:8:17\n"), "{text}");
    assert!(!text.contains("colour"), "a warning is not an error: {text}");
}

#[test]
fn a_warning_renders_like_an_error_with_its_place() {
    let source = with("colour = \"blue\"\n");
    let checked = parse(&source, &Options::lenient()).unwrap();
    let text = checked.warnings[0].render("service.toml", &source).to_string();
    assert!(text.starts_with("unknown key `colour` in [[binaries]] (ignored)\n --> service.toml:8:1\n"), "{text}");
    assert!(text.contains("8 | colour = \"blue\"\n  | ^^^^^^\n"), "{text}");
}

#[test]
fn service_name_defaults_to_the_package_name() {
    let source = "[[binaries]]\nname = \"b\"\nkind = \"server\"\n";
    assert!(parse(source, &Options::strict()).is_err());
    let checked = parse(source, &Options::strict().default_service_name("pkg")).unwrap();
    assert_eq!(checked.manifest.service.name, "pkg");
}

/// `HEADER` with `[service] profiles` declared.
fn with_profiles(declared: &str, extra: &str) -> String {
    HEADER.replacen("name = \"svc\"\n", &format!("name = \"svc\"\nprofiles = {declared}\n"), 1) + extra
}

#[test]
fn undeclared_profile_suggests_the_declared_one() {
    let e = only_error(&with_profiles(r#"["proxy-auth"]"#, "profiles = [\"proxy_auht\"]\n"));
    assert!(e.contains("profile `proxy_auht` is not declared"), "{e}");
    assert!(e.contains("--> service.toml:9:13"), "{e}");
    assert!(e.contains("did you mean `proxy-auth`?"), "{e}");
}

#[test]
fn profile_named_when_none_is_declared_says_where_to_declare_it() {
    let e = only_error(&with("\n[[dependencies]]\nrepo = \"p\"\nbin = \"p_server\"\nprofiles = [\"debug\"]\n"));
    assert!(e.contains("profile `debug` is not declared"), "{e}");
    assert!(e.contains("declare it in `[service]`: `profiles = [\"debug\"]`"), "{e}");
}

#[test]
fn declared_profiles_must_be_distinct_identifiers() {
    let all = errors(&with_profiles(r#"["debug", "debug", "proxy-auth", "Proxy_Auth", "a b"]"#, ""));
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(all[0].contains("profile `debug` is declared twice"), "{}", all[0]);
    assert!(all[1].contains("profiles `proxy-auth` and `Proxy_Auth` would both be `Profile::ProxyAuth`"), "{}", all[1]);
    assert!(all[2].contains("profile name `a b` contains whitespace"), "{}", all[2]);
}

#[test]
fn after_may_name_a_sibling_in_profiles_only_from_a_binary_in_some_of_them() {
    let sibling = "\n[[binaries]]\nname = \"svc_debug\"\nkind = \"web\"\nprofiles = [\"debug\"]\n";
    let ok = with_profiles(
        r#"["debug", "trace"]"#,
        &format!(
            "{sibling}\n[[binaries]]\nname = \"svc_ui\"\nkind = \"web\"\nafter = [\"svc_debug\"]\nprofiles = [\"debug\"]\n"
        ),
    );
    assert!(parse(&ok, &Options::strict()).is_ok());
    let e = only_error(&with_profiles(
        r#"["debug", "trace"]"#,
        &format!(
            "{sibling}\n[[binaries]]\nname = \"svc_ui\"\nkind = \"web\"\nafter = [\"svc_debug\"]\nprofiles = [\"debug\", \"trace\"]\n"
        ),
    ));
    assert!(
        e.contains("`svc_ui` runs in `debug`, `trace`, but `after` names `svc_debug`, which runs only in `debug`"),
        "{e}"
    );
}

#[test]
fn edges_carry_their_profiles_and_hold_only_while_one_is_active() {
    let source = with_profiles(
        r#"["proxy-auth"]"#,
        "\n[[dependencies]]\nrepo = \"p\"\nbin = \"p_server\"\nprofiles = [\"proxy-auth\"]\n",
    );
    let m = parse(&source, &Options::strict()).unwrap().manifest;
    let server = m.binary("svc_server").unwrap();
    let edges = m.edges_of(server);
    assert_eq!(edges.len(), 1, "edges_of lists the edge of every profile");
    assert!(!edges[0].is_active(&[]));
    assert!(edges[0].is_active(&["proxy-auth"]));
}
