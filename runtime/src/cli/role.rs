//! The supervisor role: how a CLI runs the supervisor from its own executable without
//! its `main`, or its argument parser, ever running.
//!
//! `--start` re-executes the running program with [`ROLE_ENV`] set to `supervisor`. A
//! function registered in `.init_array` runs before `main` in every program that links
//! this crate: it sees the variable, removes it (so the services the supervisor spawns,
//! which may be this very executable under another name, never inherit it), runs the
//! supervisor and exits. The user's `main` and clap parser are never reached, so a
//! required `--config` or a mandatory subcommand cannot get in the way.
//!
//! Why not exec a `service-supervisor` binary found beside the CLI or in the bin
//! directory: it may be a different version from the CLI that defines the service (a
//! stale install), it is not built by `cargo run --example` or `cargo test` of a user's
//! crate, and a search through directories is one more place for the wrong file to be
//! found. The CLI's own executable always speaks its API version.
//!
//! The same hook makes the CLI the socket waiter of exported systemd units and zinit's
//! health checks: run as `<cli> --service-manifest-wait-socket [--timeout-ms MS] SOCKET`
//! (an argument, not the environment, which the unit's daemon would inherit), it waits
//! for SOCKET and exits, again before `main`.

/// The environment variable that gives a process linking this crate its role.
pub(crate) const ROLE_ENV: &str = "SERVICE_MANIFEST_ROLE";
/// The value of [`ROLE_ENV`] that makes the process the supervisor.
pub(crate) const SUPERVISOR: &str = "supervisor";
/// The first argument the supervisor is launched with. The hook does not read it: it
/// names the process in `ps`, and if the hook were ever missing, the CLI's own parser
/// rejects this flag and the launcher reports the early exit with the log, instead of
/// the CLI doing something else.
pub(crate) const MARKER_ARG: &str = "--service-manifest-supervisor";

// Registered with the dynamic loader; the linker keeps the section because
// `keep_linked` is called from every entry point of the CLI glue, which pulls this
// object file into every program that uses the CLI. glibc passes `.init_array` functions
// the program's arguments (the waiter role is asked for by one); elsewhere they are read
// from /proc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[unsafe(link_section = ".init_array")]
static ROLE_HOOK: extern "C" fn(libc::c_int, *const *const libc::c_char, *const *const libc::c_char) = role_hook_gnu;
#[cfg(all(target_os = "linux", not(target_env = "gnu")))]
#[used]
#[unsafe(link_section = ".init_array")]
static ROLE_HOOK: extern "C" fn() = role_hook;

/// Makes sure [`ROLE_HOOK`] is linked into the program: called from the CLI's entry points.
pub(crate) fn keep_linked() {
    #[cfg(target_os = "linux")]
    std::hint::black_box(&ROLE_HOOK);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn role_hook_gnu(argc: libc::c_int, argv: *const *const libc::c_char, _: *const *const libc::c_char) {
    // SAFETY: glibc passes `main`'s argc and argv, valid for the process's lifetime.
    let first = (argc >= 2 && !argv.is_null()).then(|| unsafe { *argv.add(1) }).filter(|p| !p.is_null());
    // SAFETY: each argv entry is a NUL-terminated string.
    if first.is_some_and(|p| unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes() == WAITER_ARG.as_bytes()) {
        wait_socket(argc, argv);
    }
    role_hook();
}

/// The waiter role: `<program> --service-manifest-wait-socket [--timeout-ms MS] SOCKET`,
/// as the exported units and zinit's health checks run it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn wait_socket(argc: libc::c_int, argv: *const *const libc::c_char) -> ! {
    use std::os::unix::ffi::OsStrExt;
    let args = (2..usize::try_from(argc).unwrap_or(0)).map(|i| {
        // SAFETY: i < argc, and each entry is a NUL-terminated string.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
    });
    let code = crate::backend::wait_socket::code(args.collect::<Vec<_>>());
    std::process::exit(i32::from(code));
}

#[cfg(all(target_os = "linux", not(target_env = "gnu")))]
extern "C" fn role_hook() {
    use std::os::unix::ffi::OsStrExt;
    let cmdline = std::fs::read("/proc/self/cmdline").unwrap_or_default();
    let mut words = cmdline.split(|b| *b == 0);
    if words.nth(1) == Some(WAITER_ARG.as_bytes()) {
        let args: Vec<_> = words.filter(|w| !w.is_empty()).map(|w| std::ffi::OsStr::from_bytes(w).to_owned()).collect();
        std::process::exit(i32::from(crate::backend::wait_socket::code(args)));
    }
    supervisor_role();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn role_hook() {
    supervisor_role();
}

/// The first argument that makes the program the socket waiter.
const WAITER_ARG: &str = crate::backend::WAIT_SOCKET_ARG;

#[cfg(target_os = "linux")]
fn supervisor_role() {
    if std::env::var_os(ROLE_ENV).is_none_or(|role| role != SUPERVISOR) {
        return;
    }
    // SAFETY: this runs before `main`, while the process has a single thread, so nothing
    // can read the environment concurrently.
    unsafe { std::env::remove_var(ROLE_ENV) };
    // SAFETY: installing SIG_IGN has no memory effects. Rust's start-up does this before
    // `main`, which has not run: without it, a client closing its connection while the
    // supervisor writes the answer would kill the supervisor.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let code = match super::launch::run_daemon(crate::supervisor::Config::from_env()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("service_manifest supervisor: {e}");
            1
        }
    };
    std::process::exit(code);
}
