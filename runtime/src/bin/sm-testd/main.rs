//! A small real daemon for tests and benchmarks: waits, optionally checks that the
//! sockets it needs accept connections, then serves its own socket (or exits).
//!
//! `sm-testd [--delay-ms N] [--socket PATH] [--require PATH]... [--exit CODE] [--notify] [--tag T]
//! [--stamp FILE] [--stamps FILE] [--listen-gap-ms N] [--rename]`
//!
//! - With `--notify` it sends `READY=1` over `$NOTIFY_SOCKET` (systemd's `sd_notify`) after the delay.
//! - `--socket` defaults to `$SERVICE_MANIFEST_SOCKET`; with neither, it runs until
//!   killed, or exits with `--exit CODE` after the delay (a one-shot job).
//! - `--tag` is ignored: it marks processes so tests can count them.
//! - `--stamp FILE` writes the microsecond (Unix epoch) at which the socket started listening.
//! - `--stamps FILE` appends one line for benchmarks: `pid=P exec=M,R bound=M,R ...`, each
//!   `M,R` an instant in nanoseconds on `CLOCK_MONOTONIC` and since the Unix epoch.
//!   `exec` is read first thing in `main`, right after `exec`; `bound` once `bind()`
//!   returned; `listen`, `rename`, `notify` just before `listen()`, `rename()` and the
//!   `READY=1` send; `listening`, `renamed`, `notified` once each returned.
//! - `--listen-gap-ms N` waits N ms between `bind()` and `listen()`.
//! - `--rename` binds and listens on a temporary name beside the socket, then renames it into place.
//!
//! - `--answer TEXT` answers each line a client sends with TEXT (a health probe's reply),
//!   after `--answer-delay-ms N`; within `--answer-after-ms N` of its start it answers
//!   `starting` instead (a daemon still warming up). With `--hang-after-ms N` it stops
//!   accepting after N ms (at its next connection) and writes that instant to
//!   `--hang-stamp FILE` (µs since the Unix epoch).
//! - `--watchdog-pings N` sends `WATCHDOG=1` N times, three per `$WATCHDOG_USEC`, then
//!   falls silent (a daemon that hung); `--watchdog-trigger-after-ms N` sends
//!   `WATCHDOG=trigger` after N ms. `--env-file FILE` writes its pid, `WATCHDOG_USEC` and
//!   `WATCHDOG_PID` to `FILE.<pid>`, and "got SIGABRT" when that signal ends it.
//!
//! `sm-testd --probe SOCKET` sends one `version` request and prints the answer (the
//! peer-credential test).

mod answer;
mod listen;
mod stamps;

use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::Duration;

use listen::Serve;
use stamps::{Stamp, Stamps};

fn main() -> ExitCode {
    // Before anything else: this is the instant the process image began running.
    let exec = Stamp::now();
    let mut stamps = Stamps::default();
    stamps.record("exec", exec);
    let mut args = std::env::args().skip(1);
    let (mut delay, mut socket, mut require, mut exit, mut stamp) = (0u64, None, Vec::new(), None, None);
    let (mut notify, mut stamps_file, mut serve) = (false, None, Serve::default());
    let mut answer = answer::Answer::default();
    let mut watchdog = answer::Watchdog::default();
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--delay-ms" => delay = value().parse().unwrap_or(0),
            "--socket" => socket = Some(value()),
            "--require" => require.push(value()),
            "--exit" => exit = value().parse::<u8>().ok(),
            "--stamp" => stamp = Some(value()),
            "--stamps" => stamps_file = Some(value()),
            "--listen-gap-ms" => serve.gap = Duration::from_millis(value().parse().unwrap_or(0)),
            "--rename" => serve.rename = true,
            "--notify" => notify = true,
            "--answer" => answer.text = Some(value()),
            "--answer-delay-ms" => answer.delay = Duration::from_millis(value().parse().unwrap_or(0)),
            "--answer-after-ms" => answer.after = Duration::from_millis(value().parse().unwrap_or(0)),
            "--hang-after-ms" => answer.hang_after = value().parse().ok().map(Duration::from_millis),
            "--hang-stamp" => answer.hang_stamp = Some(value()),
            "--watchdog-pings" => watchdog.pings = value().parse().ok(),
            "--watchdog-trigger-after-ms" => watchdog.trigger_after = value().parse().ok().map(Duration::from_millis),
            "--env-file" => watchdog.env_file = Some(value()),
            "--tag" => {
                value();
            }
            "--probe" => return probe(&value()),
            other => {
                eprintln!("sm-testd: unknown argument {other}");
                return ExitCode::from(2);
            }
        }
    }
    // The stamps are written once the daemon is reachable (or about to exit or idle), so
    // the file write never delays what is being measured.
    let write_stamps = |stamps: &Stamps| {
        if let Some(file) = &stamps_file {
            stamps.append_to(file);
        }
    };
    watchdog.start();
    for needed in &require {
        if UnixStream::connect(needed).is_err() {
            eprintln!("sm-testd: required socket {needed} is not accepting connections");
            return ExitCode::from(3);
        }
    }
    if notify {
        sd_notify("STATUS=warming up");
    }
    std::thread::sleep(Duration::from_millis(delay));
    if notify {
        stamps.mark("notify");
        sd_notify("READY=1\nSTATUS=serving");
        stamps.mark("notified");
    }
    if let Some(code) = exit {
        write_stamps(&stamps);
        println!("sm-testd: done, exiting with {code}");
        return ExitCode::from(code);
    }
    let socket = socket.or_else(|| std::env::var("SERVICE_MANIFEST_SOCKET").ok());
    let Some(path) = socket else {
        write_stamps(&stamps);
        loop {
            std::thread::park();
        }
    };
    let listener = match listen::serve(&path, &serve, &mut stamps) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sm-testd: cannot bind {path}: {e}");
            return ExitCode::from(4);
        }
    };
    if let Some(file) = stamp {
        // listen() has returned: the socket accepts from this moment.
        let _ = std::fs::write(file, format!("{}\n", now_us()));
    }
    write_stamps(&stamps);
    println!("sm-testd: listening on {path}");
    for stream in listener.incoming() {
        answer.maybe_hang();
        match (&answer.text, stream) {
            (Some(_), Ok(stream)) => answer.reply(stream),
            (_, stream) => drop(stream),
        }
    }
    ExitCode::SUCCESS
}

/// Sends one `sd_notify` datagram to `$NOTIFY_SOCKET`, as a `Type=notify` daemon does.
pub(crate) fn sd_notify(message: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET") {
        let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else { return };
        if let Err(e) = socket.send_to(message.as_bytes(), path) {
            eprintln!("sm-testd: sd_notify failed: {e}");
        }
    }
}

fn probe(socket: &str) -> ExitCode {
    use std::io::{BufRead, Write};
    let Ok(mut stream) = UnixStream::connect(socket) else {
        eprintln!("sm-testd: cannot connect to {socket}");
        return ExitCode::from(5);
    };
    let _ = stream.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"version\"}\n");
    let mut line = String::new();
    let _ = std::io::BufReader::new(stream).read_line(&mut line);
    print!("{line}");
    ExitCode::SUCCESS
}

pub(crate) fn now_us() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros())
}
