//! Carrying out a service command against the supervisor.

use std::collections::BTreeSet;
use std::process::ExitCode;

use super::check::{self, Dirs};
use super::exit::{self, Failure};
use super::launch::{self, Mode};
use super::progress::{self, Involved};
use super::{Command, Format, Via, plan, status};
use crate::Manifest;
use crate::api::{RunState, SupervisorInfo, WaitFor};
use crate::client::{Client, ClientError};
use crate::paths::{self, Locations};
use crate::spec::ServiceSpec;

/// Runs `command` for `spec` and turns the outcome into an exit code.
pub(super) fn run(command: Command, at: &Locations, via: &Via, spec: ServiceSpec, manifest: &Manifest) -> ExitCode {
    if let Command::Graph(format) = command {
        print!("{}", plan::graph(&spec, manifest, format));
        return ExitCode::SUCCESS;
    }
    if let Command::Export { format, dir } = &command {
        let exported =
            crate::backend::export_command(format, dir, &spec, &at.bin_dir_or_default(), &at.socket_dir_or_default());
        return exit::report(exported.map_err(Failure::from));
    }
    if let Via::Zinit(socket) = via {
        return exit::report(zinit(command, at, socket, &spec, manifest));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return exit::report(Err(Failure::from(format!("cannot start the async runtime: {e}")))),
    };
    exit::report(runtime.block_on(execute(command, at, &spec, manifest)))
}

/// `--backend zinit`: the service commands carried out by a running zinit-server.
fn zinit(
    command: Command,
    at: &Locations,
    socket: &std::path::Path,
    spec: &ServiceSpec,
    manifest: &Manifest,
) -> Result<(), Failure> {
    use crate::backend::zinit::{self, Command as Z};
    let command = match command {
        Command::Start(Some(_)) | Command::Stop(Some(_)) | Command::Restart(Some(_)) => {
            return Err(Failure::new(
                exit::USAGE,
                "with --backend zinit, a command acts on the whole service: drop --action",
            ));
        }
        Command::Start(None) => Z::Start,
        Command::Stop(None) => Z::Stop,
        Command::Restart(None) => Z::Restart,
        Command::Status(_, true) => {
            return Err(Failure::new(exit::USAGE, "with --backend zinit, use zinit's own tools to watch"));
        }
        Command::Status(format, false) => Z::Status { json: format == Format::Json },
        Command::Logs(query) => match query.action {
            Some(action) => Z::Logs(action),
            None => {
                return Err(Failure::new(
                    exit::USAGE,
                    "with --backend zinit, --logs needs an action: zinit keeps one log per service",
                ));
            }
        },
        Command::Plan(format) => {
            let text =
                if format == Format::Json { plan::plan_json(spec, manifest) } else { plan::plan_text(spec, manifest) };
            print!("{text}{}", zinit::plan_notes(spec));
            return Ok(());
        }
        other => {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "{} is a command of the embedded supervisor; with --backend zinit, use zinit's own tools",
                    other.flag()
                ),
            ));
        }
    };
    let target = zinit::Target {
        socket: socket.to_path_buf(),
        bin_dir: at.bin_dir_or_default(),
        socket_dir: at.socket_dir_or_default(),
    };
    zinit::run(command, spec, manifest, &target)
}

async fn execute(command: Command, at: &Locations, spec: &ServiceSpec, manifest: &Manifest) -> Result<(), Failure> {
    if matches!(command, Command::Status(..) | Command::Logs(_) | Command::Timeline(_) | Command::Stop(_)) {
        agrees_with_running(at).await?;
    }
    match command {
        Command::Start(action) => start(at, spec, checked(action, spec, manifest)?).await,
        Command::Restart(action) => restart(at, spec, checked(action, spec, manifest)?).await,
        Command::Stop(action) => stop(at, spec, checked(action, spec, manifest)?).await,
        Command::Status(Format::Json, true) => Err(Failure::new(
            exit::USAGE,
            "--watch draws the table; for JSON, follow the supervisor's journal (the events API)",
        )),
        Command::Status(_, true) => watch(at, spec).await,
        Command::Status(format, false) => show_status(at, spec, manifest, format).await,
        Command::Logs(query) => super::logs::show(at, spec, manifest, &query).await,
        Command::Plan(format) => show_plan(at, spec, manifest, format).await,
        Command::Check => check_only(at, spec).await,
        Command::Graph(_) => Ok(()),
        Command::Foreground => foreground(at, spec).await,
        Command::Shutdown => shutdown(at).await,
        Command::Info(format) => info(at, format).await,
        Command::Export { .. } => Ok(()),
        Command::Timeline(format) => super::timeline::show(at, spec, format).await,
    }
}

/// The directories a start resolves names in, decided in one place: the running
/// supervisor's, which a different choice on this command line may not contradict; else
/// the choice, else the defaults, for the supervisor this command would launch.
async fn dirs(at: &Locations, client: Option<&mut Client>) -> Result<(Dirs, BTreeSet<String>), Failure> {
    let Some(client) = client else {
        let dirs = Dirs {
            bin_dir: at.bin_dir_or_default(),
            socket_dir: at.socket_dir_or_default(),
            launch_socket: Some(at.socket.clone()),
        };
        return Ok((dirs, BTreeSet::new()));
    };
    let info = client.info().await?;
    agree("bin directory", "--bin-dir", paths::BIN_DIR_ENV, at.bin_dir.as_deref(), &info.bin_dir, &info)?;
    agree(
        "socket directory",
        "--socket-dir",
        paths::SOCKET_DIR_ENV,
        at.socket_dir.as_deref(),
        &info.socket_dir,
        &info,
    )?;
    let defined = client.list().await?.into_iter().map(|s| s.name).collect();
    Ok((Dirs { bin_dir: info.bin_dir, socket_dir: info.socket_dir, launch_socket: None }, defined))
}

/// A directory chosen on the command line is refused by every command that reads a running
/// supervisor when it is not that supervisor's, as `--start` refuses it: the answer would
/// be about other directories than the ones asked for.
async fn agrees_with_running(at: &Locations) -> Result<(), Failure> {
    if at.bin_dir.is_none() && at.socket_dir.is_none() {
        return Ok(());
    }
    match launch::connect(&at.socket).await? {
        Some(mut client) => dirs(at, Some(&mut client)).await.map(drop),
        None => Ok(()),
    }
}

/// A directory chosen here must be the running supervisor's: it resolves every name, and
/// one supervisor has one of each.
fn agree(
    what: &str,
    flag: &str,
    env: &str,
    chosen: Option<&std::path::Path>,
    running: &std::path::Path,
    info: &SupervisorInfo,
) -> Result<(), Failure> {
    // The same directory reached through a symlink is the same directory.
    let same = |a: &std::path::Path, b: &std::path::Path| {
        a == b || std::fs::canonicalize(a).is_ok_and(|a| std::fs::canonicalize(b).is_ok_and(|b| a == b))
    };
    match chosen {
        Some(chosen) if !same(chosen, running) => Err(Failure::from(format!(
            "the {what} {} (from {flag} or {env}) is not the running supervisor's, {}; the supervisor (pid {}) on {} \
             resolves every name in its own. Drop the option, or stop that supervisor first (--shutdown-supervisor) so \
             the next start launches one with yours",
            chosen.display(),
            running.display(),
            info.pid,
            info.socket.display()
        ))),
        _ => Ok(()),
    }
}

/// Refuses a start that could only half-succeed: a missing program, a socket path too long.
fn preflight(spec: &ServiceSpec, dirs: &Dirs, defined: &BTreeSet<String>) -> Result<(), Failure> {
    let found = check::check(spec, dirs, defined);
    for w in &found.warnings {
        eprintln!("warning: {w}");
    }
    if found.problems.is_empty() {
        return Ok(());
    }
    Err(Failure::from(format!("not starting {}; nothing was started:\n  {}", spec.name, found.problems.join("\n  "))))
}

/// The registration as this CLI sends it: its programs resolved where they were checked,
/// and who sent it.
fn registration(spec: &ServiceSpec, dirs: &Dirs) -> ServiceSpec {
    let mut spec = spec.with_programs_in(&dirs.bin_dir);
    // The program, not its pid: the same CLI defining the same service changes nothing.
    spec.registered_by = std::env::current_exe().ok().map(|p| p.display().to_string());
    spec
}

/// The action `--action` names, if it is one of this service's started ones.
fn checked(action: Option<String>, spec: &ServiceSpec, manifest: &Manifest) -> Result<Option<String>, Failure> {
    let Some(name) = action else { return Ok(None) };
    if spec.action(&name).is_some() {
        return Ok(Some(name));
    }
    let why = match manifest.binary(&name) {
        Some(b) if !b.is_started() => format!("`{name}` is install-only: the supervisor never starts it"),
        Some(b) if !b.profiles.is_empty() => format!("`{name}` runs {}", super::announce::needs_profile(&b.profiles)),
        _ => format!("`{name}` is not an action of {}", spec.name),
    };
    let actions: Vec<&str> = spec.actions.iter().map(|a| a.name.as_str()).collect();
    Err(Failure::new(exit::USAGE, format!("{why}; its actions are {}", actions.join(", "))))
}

async fn start(at: &Locations, spec: &ServiceSpec, action: Option<String>) -> Result<(), Failure> {
    let mut client = launch::connect(&at.socket).await?;
    let (dirs, defined) = dirs(at, client.as_mut()).await?;
    preflight(spec, &dirs, &defined)?;
    let spec = &registration(spec, &dirs);
    let mut client = match client {
        Some(c) => c,
        None => {
            let mut client = launch::launch(at, Mode::Detached).await?;
            super::announce::restored(&mut client, spec).await?;
            client
        }
    };
    let Some(action) = action else { return apply_and_follow(&mut client, spec).await };
    // The definition as a whole, then the one action (and what it requires).
    super::announce::profile_change(&mut client, spec).await?;
    let since = progress::journal_head(&mut client).await?;
    client.apply(spec, false).await?;
    let report = client.start(&spec.name, Some(&action)).await?;
    print_notes(&report.notes);
    progress::follow(&mut client, spec, since).await
}

async fn apply_and_follow(client: &mut Client, spec: &ServiceSpec) -> Result<(), Failure> {
    apply_and_follow_from(client, spec, &mut 0).await
}

/// Applies and starts the service, shows its progress; `since` ends at the last entry shown.
async fn apply_and_follow_from(client: &mut Client, spec: &ServiceSpec, since: &mut u64) -> Result<(), Failure> {
    super::announce::profile_change(client, spec).await?;
    *since = progress::journal_head(client).await?;
    let report = client.apply(spec, true).await?;
    print_notes(&report.notes);
    progress::follow_from(client, spec, since).await
}

/// The notes worth a line: not the "starting …" the progress shows anyway.
fn print_notes(notes: &[String]) {
    for note in notes.iter().filter(|n| !n.starts_with("starting ")) {
        eprintln!("{note}");
    }
}

async fn restart(at: &Locations, spec: &ServiceSpec, action: Option<String>) -> Result<(), Failure> {
    let mut client = launch::connect(&at.socket).await?;
    let (dirs, defined) = dirs(at, client.as_mut()).await?;
    preflight(spec, &dirs, &defined)?;
    let spec = &registration(spec, &dirs);
    let Some(mut client) = client else {
        // Nothing runs, so there is nothing to stop: a restart is a start (as with systemctl).
        return start(at, spec, action).await;
    };
    super::announce::profile_change(&mut client, spec).await?;
    client.apply(spec, false).await?;
    let since = progress::journal_head(&mut client).await?;
    let report = client.restart(&spec.name, action.as_deref()).await?;
    // "starting … again" would come before the stop lines the progress shows: the
    // progress shows the starts as they happen.
    print_notes(&report.notes);
    if let Some(by) = &report.superseded {
        return Err(Failure::from(format!("the restart of {} was superseded by a later request: {by}", spec.name)));
    }
    progress::follow(&mut client, spec, since).await
}

async fn stop(at: &Locations, spec: &ServiceSpec, action: Option<String>) -> Result<(), Failure> {
    let Some(mut client) = launch::connect(&at.socket).await? else {
        println!("nothing to stop: no supervisor is running on {}", at.socket.display());
        return Ok(());
    };
    let before = alive(&mut client).await?;
    let report = match client.stop(&spec.name, action.as_deref()).await {
        Err(e) if is_unknown(&e) => {
            println!("nothing to stop: {} is not defined with the supervisor", spec.name);
            return Ok(());
        }
        other => other?,
    };
    if let Some(by) = &report.superseded {
        return Err(Failure::from(format!("the stop of {} was superseded by a later request: {by}", spec.name)));
    }
    print_stopped(&report.notes, &report.actions, &before);
    // Say what the supervisor still runs (dependencies this service pulled in, others), and how
    // to stop that too: nothing is left running without a word.
    let alive: Vec<String> = alive(&mut client).await?.into_iter().collect();
    let pid = client.version().await?.pid;
    if alive.is_empty() {
        eprintln!("the supervisor (pid {pid}) runs nothing now; --shutdown-supervisor stops it");
    } else {
        eprintln!("the supervisor (pid {pid}) still runs {}; --shutdown-supervisor stops everything", alive.join(", "));
    }
    Ok(())
}

fn is_unknown(e: &ClientError) -> bool {
    matches!(e, ClientError::Rpc(rpc) if rpc.message.starts_with("no service"))
}

async fn show_status(at: &Locations, spec: &ServiceSpec, manifest: &Manifest, format: Format) -> Result<(), Failure> {
    let Some(mut client) = launch::connect(&at.socket).await? else {
        return Err(Failure::new(
            exit::NOT_RUNNING,
            format!("no supervisor is running on {} (--start starts one)", at.socket.display()),
        ));
    };
    let answer = match client.wait(&spec.name, WaitFor::Settled, 0).await {
        Err(e) if is_unknown(&e) => {
            return Err(Failure::new(
                exit::UNKNOWN,
                format!(
                    "{} is not defined with the supervisor on {} (--start defines and starts it)",
                    spec.name,
                    at.socket.display()
                ),
            ));
        }
        other => other?,
    };
    let involved = Involved::of(spec);
    let completed = |s: &crate::api::ActionStatus| s.state == RunState::Exited && involved.is_up(s);
    if format == Format::Text
        && let Some(line) = super::announce::profiles_line(
            &spec.name,
            &super::announce::defined_profiles(&answer.actions, &spec.name),
            manifest,
        )
    {
        println!("{line}");
    }
    print!("{}", status::render(&answer.actions, format == Format::Json, completed));
    let down: Vec<String> = answer
        .actions
        .iter()
        .filter(|s| !(s.wanted && involved.is_up(s)))
        .map(|s| {
            let wanted = if s.wanted { "" } else { ", not wanted" };
            format!("{}/{} ({}{wanted})", s.service, s.action, s.state)
        })
        .collect();
    if down.is_empty() {
        return Ok(());
    }
    // The table already said it all; a short reason on stderr keeps JSON on stdout clean.
    Err(Failure::new(exit::NOT_RUNNING, format!("not up: {}", down.join(", "))))
}

async fn show_plan(at: &Locations, spec: &ServiceSpec, manifest: &Manifest, format: Format) -> Result<(), Failure> {
    let mut client = launch::connect(&at.socket).await?;
    let (dirs, defined) = dirs(at, client.as_mut()).await?;
    let found = check::check(spec, &dirs, &defined);
    if format == Format::Json {
        // The plan, plus what would stop a start (`problems`) and what would not (`warnings`).
        let mut value: serde_json::Value =
            serde_json::from_str(&plan::plan_json(spec, manifest)).map_err(|e| e.to_string())?;
        if let Some(map) = value.as_object_mut() {
            map.insert("problems".into(), found.problems.into());
            map.insert("warnings".into(), found.warnings.into());
        }
        println!("{}", serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?);
        return Ok(());
    }
    print!("{}", plan::plan_text(spec, manifest));
    if !found.problems.is_empty() {
        println!("would not start (see --check):");
        found.problems.iter().for_each(|p| println!("   {p}"));
    }
    found.warnings.iter().for_each(|w| println!("warning: {w}"));
    Ok(())
}

async fn check_only(at: &Locations, spec: &ServiceSpec) -> Result<(), Failure> {
    let mut client = launch::connect(&at.socket).await?;
    let (dirs, defined) = dirs(at, client.as_mut()).await?;
    let found = check::check(spec, &dirs, &defined);
    found.warnings.iter().for_each(|w| println!("warning: {w}"));
    if found.problems.is_empty() {
        println!("{}: ready to start (programs found in {}, socket paths fit)", spec.name, dirs.bin_dir.display());
        return Ok(());
    }
    found.problems.iter().for_each(|p| println!("{p}"));
    Err(Failure::from(format!("{}: {} problem(s) would stop a start", spec.name, found.problems.len())))
}

/// `--foreground`: a supervisor tied to this command. Refuses before doing anything when
/// one already runs; on Ctrl-C (or SIGTERM) asks it to shut down and says what stopped.
async fn foreground(at: &Locations, spec: &ServiceSpec) -> Result<(), Failure> {
    if let Some(mut running) = launch::connect(&at.socket).await? {
        let pid = running.version().await?.pid;
        return Err(Failure::from(format!(
            "a supervisor (pid {pid}) already runs on {}; --foreground runs one of its own. Use --start with that one, \
             or stop it first with --shutdown-supervisor",
            at.socket.display()
        )));
    }
    let (dirs, defined) = dirs(at, None).await?;
    preflight(spec, &dirs, &defined)?;
    let spec = &registration(spec, &dirs);
    // Catch Ctrl-C from here on: one that arrives during the start must still stop everything
    // through the supervisor, with the report, rather than kill this process.
    let interrupted = interrupt()?;
    let mut client = launch::launch(at, Mode::Foreground).await?;
    let mut since = 0;
    let started = apply_and_follow_from(&mut client, spec, &mut since).await;
    // Everything Ctrl-C will stop, this service's and what it pulled in or brought back.
    let supervised = alive(&mut client).await?;
    if !supervised.is_empty() {
        let list: Vec<&str> = supervised.iter().map(String::as_str).collect();
        eprintln!("supervising {}", list.join(", "));
    }
    match &started {
        Ok(()) => eprintln!("running in the foreground; Ctrl-C stops everything"),
        Err(f) => eprintln!("error: {}\nstill supervising; Ctrl-C stops everything", f.message),
    }
    // Until Ctrl-C, say what happens to the service (a crash, a restart) as it happens.
    let watcher = Client::connect(&at.socket).await?;
    progress::watch(watcher, spec, since, interrupted).await?;
    eprintln!("stopping everything in reverse dependency order");
    let pid = client.version().await?.pid;
    let alive = alive(&mut client).await?;
    let report = client.shutdown().await?;
    print_stopped(&report.notes, &report.actions, &alive);
    wait_gone(pid).await;
    started.map_err(|f| Failure::new(f.code, String::new()))
}

/// `--status --watch`.
async fn watch(at: &Locations, spec: &ServiceSpec) -> Result<(), Failure> {
    let Some(mut client) = launch::connect(&at.socket).await? else {
        return Err(Failure::new(
            exit::NOT_RUNNING,
            format!("no supervisor is running on {} (--start starts one)", at.socket.display()),
        ));
    };
    super::watch::run(&mut client, spec).await
}

/// Listens for SIGINT and SIGTERM from now on; the future completes at the first.
pub(super) fn interrupt() -> Result<impl Future<Output = ()>, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot catch Ctrl-C: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("cannot catch SIGTERM: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

/// The actions with a live process, as `service/action`.
async fn alive(client: &mut Client) -> Result<BTreeSet<String>, Failure> {
    Ok(client
        .status(None)
        .await?
        .into_iter()
        .filter(|s| s.state.is_alive())
        .map(|s| format!("{}/{}", s.service, s.action))
        .collect())
}

/// The notes, then one line per action that was running before, in the order it stopped
/// (the report also lists actions that had nothing to stop).
fn print_stopped(notes: &[String], actions: &[String], alive: &BTreeSet<String>) {
    for note in notes {
        println!("{note}");
    }
    for action in actions.iter().filter(|a| alive.contains(*a)) {
        println!("stopped {action}");
    }
}

/// `--shutdown-supervisor`: everything stops in reverse dependency order, then the supervisor
/// exits; returns once it has.
async fn shutdown(at: &Locations) -> Result<(), Failure> {
    let Some(mut client) = launch::connect(&at.socket).await? else {
        println!("no supervisor is running on {}", at.socket.display());
        return Ok(());
    };
    let pid = client.version().await?.pid;
    let alive = alive(&mut client).await?;
    let report = client.shutdown().await?;
    print_stopped(&report.notes, &report.actions, &alive);
    if !wait_gone(pid).await {
        return Err(Failure::from(format!(
            "the supervisor (pid {pid}) stopped everything but has not exited within {}s",
            GONE_WITHIN.as_secs()
        )));
    }
    println!("the supervisor (pid {pid}) has exited");
    Ok(())
}

/// How long `--shutdown-supervisor` waits for the process to be gone after its answer.
const GONE_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits up to [`GONE_WITHIN`] for process `pid` to exit (a pidfd, or looking now and
/// then without one); says whether it did.
async fn wait_gone(pid: u32) -> bool {
    use crate::supervisor::process;
    let Some(started) = process::start_time(pid) else { return true };
    tokio::time::timeout(GONE_WITHIN, process::wait_for_exit(pid, started)).await.is_ok()
}

/// `--supervisor-info`: the supervisor's own state.
async fn info(at: &Locations, format: Format) -> Result<(), Failure> {
    let Some(mut client) = launch::connect(&at.socket).await? else {
        return Err(Failure::new(
            exit::NOT_RUNNING,
            format!(
                "no supervisor is running on {} (its state would be in {})",
                at.socket.display(),
                at.state_dir().display()
            ),
        ));
    };
    let info = client.info().await?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&info).unwrap_or_default());
        return Ok(());
    }
    let running =
        client.status(None).await?.iter().filter(|s| s.state == RunState::Ready || s.state.is_alive()).count();
    println!("pid          {}", info.pid);
    println!("api version  {}", info.api);
    println!("socket       {}", info.socket.display());
    println!("state dir    {}", info.state_dir.display());
    println!("log          {}", paths::supervisor_log(&info.state_dir).display());
    println!("bin dir      {}", info.bin_dir.display());
    println!("socket dir   {}", info.socket_dir.display());
    println!("uptime       {}", status::human(info.uptime_ms));
    println!("services     {} defined, {running} actions running", info.services);
    println!("open files   limit {}: room for about {} live actions", info.open_files_limit, info.action_capacity);
    let profiles: Vec<String> = info.profiles.iter().map(|(s, p)| format!("{s}: {}", p.join(", "))).collect();
    println!("profiles     {}", if profiles.is_empty() { "none active".to_owned() } else { profiles.join("; ") });
    Ok(())
}
