//! A small real daemon for tests and benchmarks: waits, optionally checks that the
//! sockets it needs accept connections, then serves its own socket (or exits).
//!
//! `sm-testd [--delay-ms N] [--socket PATH] [--require PATH]... [--exit CODE] [--notify] [--tag T]`
//! With `--notify` it sends `READY=1` over `$NOTIFY_SOCKET` (systemd's `sd_notify`) after the delay.
//! `--socket` defaults to `$SERVICE_MANIFEST_SOCKET`; with neither, it runs until
//! killed, or exits with `--exit CODE` after the delay (a one-shot job). `--tag` is
//! ignored: it marks processes so tests can count them. `--stamp FILE` writes the
//! microsecond (Unix epoch) at which the socket started listening, for benchmarks. `sm-testd --probe SOCKET`
//! sends one `version` request and prints the answer (the peer-credential test).

use std::os::unix::net::{UnixListener, UnixStream};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut delay, mut socket, mut require, mut exit, mut stamp) = (0u64, None, Vec::new(), None, None);
    let mut notify = false;
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--delay-ms" => delay = value().parse().unwrap_or(0),
            "--socket" => socket = Some(value()),
            "--require" => require.push(value()),
            "--exit" => exit = value().parse::<u8>().ok(),
            "--stamp" => stamp = Some(value()),
            "--notify" => notify = true,
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
        sd_notify("READY=1\nSTATUS=serving");
    }
    if let Some(code) = exit {
        println!("sm-testd: done, exiting with {code}");
        return ExitCode::from(code);
    }
    let socket = socket.or_else(|| std::env::var("SERVICE_MANIFEST_SOCKET").ok());
    let Some(path) = socket else {
        loop {
            std::thread::park();
        }
    };
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sm-testd: cannot bind {path}: {e}");
            return ExitCode::from(4);
        }
    };
    if let Some(file) = stamp {
        // bind() has returned, so listen() has too: the socket accepts from this moment.
        let _ = std::fs::write(file, format!("{}\n", now_us()));
    }
    println!("sm-testd: listening on {path}");
    for stream in listener.incoming() {
        drop(stream);
    }
    ExitCode::SUCCESS
}

/// Sends one `sd_notify` datagram to `$NOTIFY_SOCKET`, as a `Type=notify` daemon does.
fn sd_notify(message: &str) {
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

fn now_us() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros())
}
