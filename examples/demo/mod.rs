//! The demo daemons behind the examples. They stand in for the real services, with
//! the behaviour that makes ordering visible:
//!
//! - `hero_proxy_server` binds its socket after a start-up delay
//!   (`HERO_PROXY_START_DELAY_MS`, default 300; `HERO_PROXY_FAIL=1` makes it fail;
//!   `HERO_PROXY_CHATTER_MS=N` makes it log a numbered line every N ms). Knobs
//!   come from the environment or from `demo.env` in the socket directory (see `knob`);
//! - `hero_collab_server` refuses to start unless hero_proxy's socket accepts;
//! - `hero_livekit_server` spawns and owns `lk-backend`, which refuses to run standalone;
//! - `hero_tasks_migrate` is a one-shot that exits 0 (`HERO_TASKS_MIGRATE_FAIL=1`: exits 1);
//!   `hero_tasks_server` needs hero_proxy and never opens its socket with `HERO_TASKS_NO_SOCKET=1`.
//!
//! Every example binary contains all of them and runs one when invoked under its name
//! (argv[0]). [`install`] links those names into the bin directory, as a real install
//! step (`lab build`, `cargo install`) would put the real binaries there.

use std::io::{BufRead, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The daemon names every example binary answers to.
pub const DAEMONS: &[&str] = &[
    "hero_proxy_server",
    "hero_collab_server",
    "hero_collab_admin",
    "hero_livekit_server",
    "hero_livekit_admin",
    "lk-backend",
    "hero_tasks_server",
    "hero_tasks_web",
    "hero_tasks_debug",
    "hero_tasks_migrate",
];

/// Runs the daemon this process was invoked as, if it was invoked as one.
pub fn run_as_daemon() -> Option<ExitCode> {
    let argv0 = std::env::args_os().next()?;
    let name = Path::new(&argv0).file_name()?.to_str()?.to_owned();
    let daemon: fn(&Path) -> Result<(), String> = match name.as_str() {
        "hero_proxy_server" => proxy_server,
        "hero_collab_server" => collab_server,
        "hero_collab_admin" => |own| admin(own, "hero_collab/server.sock"),
        "hero_livekit_server" => livekit_server,
        "hero_livekit_admin" => |own| admin(own, "hero_livekit/server.sock"),
        "lk-backend" => lk_backend,
        "hero_tasks_server" => tasks_server,
        "hero_tasks_web" | "hero_tasks_debug" => |own| admin(own, "hero_tasks/server.sock"),
        "hero_tasks_migrate" => |_| tasks_migrate(),
        _ => return None,
    };
    let own = std::env::var_os("SERVICE_MANIFEST_SOCKET").map(PathBuf::from);
    let result = match own {
        Some(own) => daemon(&own),
        None if name == "lk-backend" => lk_backend(Path::new("")),
        None if name == "hero_tasks_migrate" => tasks_migrate(),
        None => Err("SERVICE_MANIFEST_SOCKET is not set: start me through the supervisor (--start)".into()),
    };
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    })
}

/// Before a start: links the daemons into the bin directory the start will use.
pub fn install_if_starting(starts: bool, at: &service_manifest::paths::Locations) -> Result<(), ExitCode> {
    if !starts {
        return Ok(());
    }
    let bin_dir = at.bin_dir_or_default();
    install(&bin_dir).map_err(|e| {
        eprintln!("error: cannot install the demo daemons into {}: {e}", bin_dir.display());
        ExitCode::FAILURE
    })
}

/// Links every daemon name in `bin_dir` to this executable.
pub fn install(bin_dir: &Path) -> std::io::Result<()> {
    let exe = std::env::current_exe()?;
    std::fs::create_dir_all(bin_dir)?;
    // `DEMO_NOT_INSTALLED=a,b` leaves those out (and removes them), as a broken install would.
    let left_out = std::env::var("DEMO_NOT_INSTALLED").unwrap_or_default();
    let left_out: Vec<&str> = left_out.split(',').collect();
    for name in DAEMONS {
        let link = bin_dir.join(name);
        if left_out.contains(name) {
            let _ = std::fs::remove_file(&link);
            continue;
        }
        if std::fs::read_link(&link).is_ok_and(|target| target == exe) {
            continue;
        }
        // Replace atomically: a supervisor may be starting the old link right now.
        let tmp = bin_dir.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&exe, &tmp)?;
        std::fs::rename(&tmp, &link)?;
    }
    Ok(())
}

fn socket_dir() -> PathBuf {
    std::env::var_os("SERVICE_MANIFEST_SOCKET_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn require(name: &str, relative: &str) -> Result<(), String> {
    let path = socket_dir().join(relative);
    if UnixStream::connect(&path).is_err() {
        return Err(format!("{name} is not accepting connections on {}; refusing to start", path.display()));
    }
    Ok(())
}

/// Binds `socket` and answers every connection with one line from `reply`.
fn serve(socket: &Path, reply: impl Fn() -> String) -> Result<(), String> {
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket).map_err(|e| format!("cannot bind {}: {e}", socket.display()))?;
    println!("listening on {}", socket.display());
    for mut stream in listener.incoming().flatten() {
        let _ = writeln!(stream, "{}", reply());
    }
    Ok(())
}

/// A demo knob: the environment variable, else a `NAME=value` line of `demo.env` in the
/// socket directory. The supervisor gives daemons a clean environment, never the shell's
/// that ran `--start`, so a test sets knobs in that file.
fn knob(name: &str) -> Option<String> {
    if let Ok(value) = std::env::var(name) {
        return Some(value);
    }
    let dir = std::env::var_os("SERVICE_MANIFEST_SOCKET_DIR")?;
    let text = std::fs::read_to_string(Path::new(&dir).join("demo.env")).ok()?;
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}

fn proxy_server(own: &Path) -> Result<(), String> {
    if knob("HERO_PROXY_FAIL").is_some() {
        return Err("cannot start: HERO_PROXY_FAIL is set".into());
    }
    let delay = knob("HERO_PROXY_START_DELAY_MS").and_then(|d| d.parse().ok()).unwrap_or(300);
    println!("starting up ({delay}ms)");
    std::thread::sleep(Duration::from_millis(delay));
    if let Some(every) = knob("HERO_PROXY_CHATTER_MS").and_then(|d| d.parse().ok()) {
        std::thread::spawn(move || {
            for n in 0u64.. {
                println!("chatter {n:06} {}", "·".repeat(40));
                std::thread::sleep(Duration::from_millis(every));
            }
        });
    }
    serve(own, || "hero_proxy: ok".into())
}

fn collab_server(own: &Path) -> Result<(), String> {
    require("hero_proxy", "hero_proxy/proxy.sock")?;
    serve(own, || "hero_collab: ok (behind hero_proxy)".into())
}

fn admin(own: &Path, server: &str) -> Result<(), String> {
    require("the server", server)?;
    serve(own, || "admin: ok".into())
}

fn livekit_server(own: &Path) -> Result<(), String> {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let bin_dir = Path::new(&argv0).parent().map(Path::to_path_buf).unwrap_or_default();
    let backend_socket = socket_dir().join("hero_livekit/lk-backend.sock");
    let mut backend = std::process::Command::new(bin_dir.join("lk-backend"))
        .env("LK_BACKEND_SOCKET", &backend_socket)
        .env("LK_PARENT", std::process::id().to_string())
        .env_remove("SERVICE_MANIFEST_SOCKET")
        .spawn()
        .map_err(|e| format!("cannot spawn lk-backend: {e}"))?;
    let pid = backend.id();
    println!("spawned lk-backend (pid {pid})");
    let mut pause = Duration::from_millis(1);
    while UnixStream::connect(&backend_socket).is_err() {
        if let Ok(Some(status)) = backend.try_wait() {
            return Err(format!("lk-backend exited during start-up: {status}"));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    // The server owns lk-backend: if it dies, so does the server, and the supervisor sees it.
    std::thread::spawn(move || {
        let status = backend.wait();
        eprintln!("hero_livekit_server: lk-backend exited ({status:?}); exiting");
        std::process::exit(1);
    });
    serve(own, move || {
        let state = UnixStream::connect(&backend_socket)
            .ok()
            .and_then(|s| std::io::BufReader::new(s).lines().next()?.ok())
            .unwrap_or_else(|| "not answering".into());
        format!("hero_livekit: ok; lk-backend (pid {pid}): {state}")
    })
}

fn lk_backend(_: &Path) -> Result<(), String> {
    let (Some(parent), Some(socket)) = (std::env::var_os("LK_PARENT"), std::env::var_os("LK_BACKEND_SOCKET")) else {
        return Err("must be started by hero_livekit_server, which passes its configuration".into());
    };
    println!("started by hero_livekit_server (pid {})", parent.to_string_lossy());
    serve(Path::new(&socket), || "running".into())
}

fn tasks_migrate() -> Result<(), String> {
    if std::env::var_os("HERO_TASKS_MIGRATE_FAIL").is_some() {
        return Err("migration 0002 failed: HERO_TASKS_MIGRATE_FAIL is set".into());
    }
    println!("applied migrations 0001, 0002");
    Ok(())
}

fn tasks_server(own: &Path) -> Result<(), String> {
    require("hero_proxy", "hero_proxy/proxy.sock")?;
    if knob("HERO_TASKS_NO_SOCKET").is_some() {
        println!("HERO_TASKS_NO_SOCKET is set: running without ever opening {}", own.display());
        loop {
            std::thread::park();
        }
    }
    serve(own, || "hero_tasks: ok".into())
}
