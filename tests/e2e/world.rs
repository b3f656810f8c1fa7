//! A private world per test: a home for the supervisor, its sockets and the installed
//! binaries in a temporary directory, and the helpers the tests read it with.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use service_manifest::Client;
use service_manifest::api::{Event, EventKind};

/// Where cargo put the example binaries: `target/<profile>/examples`, beside `deps`.
/// `cargo test --test e2e` does not build examples, so the first call builds them (a no-op
/// when they are up to date): a test never runs a stale example.
fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    BUILT.get_or_init(|| {
        let target = profile.parent().unwrap();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--examples", "--quiet", "--manifest-path", env!("CARGO_MANIFEST_PATH")]);
        build.arg("--target-dir").arg(target);
        if profile.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().unwrap();
        assert!(status.success(), "building the examples failed");
    });
    profile.join("examples").join(name)
}

/// A private home for the supervisor, sockets and installed binaries. Dropping it shuts
/// down its supervisor, which stops everything it runs.
pub struct World {
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> Self {
        let w = Self { dir: tempfile::Builder::new().prefix("sme").tempdir_in("/tmp").unwrap() };
        w.knob("HERO_PROXY_START_DELAY_MS", "200");
        w
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn socket(&self) -> PathBuf {
        self.path("supervisor.sock")
    }

    pub fn command(&self, example_name: &str, args: &[&str]) -> Command {
        let mut c = Command::new(example(example_name));
        c.args(args)
            .env("SERVICE_MANIFEST_HOME", self.dir.path())
            .env("SERVICE_MANIFEST_BIN_DIR", self.path("bin"))
            .env_remove("SERVICE_MANIFEST_SUPERVISOR_SOCKET")
            .env_remove("SERVICE_MANIFEST_SOCKET_DIR")
            .env_remove("DEMO_NOT_INSTALLED");
        c
    }

    /// Sets a demo daemon's knob. Daemons get a clean environment from the supervisor, so
    /// knobs go into `demo.env` in the socket directory, where the demo daemons read them.
    pub fn knob(&self, name: &str, value: &str) {
        let dir = self.path("sockets");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("demo.env");
        let old = std::fs::read_to_string(&file).unwrap_or_default();
        let mut lines: Vec<String> =
            old.lines().filter(|l| !l.starts_with(&format!("{name}="))).map(str::to_owned).collect();
        lines.push(format!("{name}={value}"));
        std::fs::write(file, lines.join("\n") + "\n").unwrap();
    }

    pub fn run(&self, example_name: &str, args: &[&str]) -> Output {
        self.command(example_name, args).output().unwrap()
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.socket()).await.unwrap()
    }

    pub async fn events(&self) -> Vec<Event> {
        self.client().await.events(0, 0).await.unwrap()
    }

    /// Live processes started from this world's bin directory, by program name.
    pub fn processes(&self, program: &str) -> usize {
        let wanted = self.path("bin").join(program);
        live_cmdlines()
            .filter(|cmd| cmd.split(|b| *b == 0).next() == Some(wanted.as_os_str().as_encoded_bytes()))
            .count()
    }

    /// Live processes of this world's bin directory, whatever their name: their command lines.
    pub fn any_processes(&self) -> Vec<String> {
        let bin = self.path("bin");
        let prefix = bin.as_os_str().as_encoded_bytes();
        live_cmdlines()
            .filter(|cmd| cmd.starts_with(prefix))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .collect()
    }

    /// Live supervisors serving this world's socket. The spawner and the monitors are forks
    /// of the supervisor, with its command line; their own names tell them apart.
    pub fn supervisors(&self) -> usize {
        let socket = self.socket();
        let needle = socket.as_os_str().as_encoded_bytes().to_vec();
        live_processes()
            .filter(|(comm, _)| !comm.starts_with(b"sm-monitor") && !comm.starts_with(b"sm-spawner"))
            .map(|(_, cmd)| cmd)
            .filter(|cmd| {
                cmd.split(|b| *b == 0).any(|a| a == b"--service-manifest-supervisor")
                    && cmd.split(|b| *b == 0).any(|a| a == needle.as_slice())
            })
            .count()
    }
}

/// The command lines of every live (not zombie) process.
fn live_cmdlines() -> impl Iterator<Item = Vec<u8>> {
    live_processes().map(|(_, cmd)| cmd)
}

/// The name and command line of every live (not zombie) process.
fn live_processes() -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            stat.rfind(')').and_then(|i| stat.get(i + 2..i + 3)).is_some_and(|s| s != "Z")
        })
        .map(|e| {
            let comm = std::fs::read(e.path().join("comm")).unwrap_or_default();
            (comm, std::fs::read(e.path().join("cmdline")).unwrap_or_default())
        })
}

impl Drop for World {
    /// Shuts the world's supervisor down (it stops every action first) and returns once the
    /// supervisor has exited: its connection closes only when the process is gone.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::os::unix::net::UnixStream::connect(self.socket()) else { return };
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(60)));
        let _ = stream.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}\n");
        let _ = stream.read_to_end(&mut Vec::new());
    }
}

/// Everything a command printed, stdout then stderr.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The index of the first journal entry for `action` of the kind `kind` accepts.
pub fn position(events: &[Event], action: &str, kind: fn(&EventKind) -> bool) -> usize {
    events
        .iter()
        .position(|e| e.action == action && kind(&e.kind))
        .unwrap_or_else(|| panic!("no such event for {action} in {events:#?}"))
}

pub fn spawned(k: &EventKind) -> bool {
    matches!(k, EventKind::Spawned { .. })
}
pub fn ready(k: &EventKind) -> bool {
    matches!(k, EventKind::Ready)
}
pub fn stopping(k: &EventKind) -> bool {
    matches!(k, EventKind::Stopping { .. })
}
pub fn exited(k: &EventKind) -> bool {
    matches!(k, EventKind::Exited { .. })
}

/// A child process killed when dropped, so a failing test leaves nothing behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// A command left running, its standard error read line by line; killed if dropped unfinished.
pub struct Running {
    pub child: KillOnDrop,
    pub stderr: BufReader<std::process::ChildStderr>,
    pub seen: String,
}

impl Running {
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        Self { child: KillOnDrop(child), stderr, seen: String::new() }
    }

    /// Reads standard error until a line contains `needle` (the command's own word that it got
    /// there); panics with everything read if the command ends first.
    pub fn wait_for_line(&mut self, needle: &str) {
        loop {
            let mut line = String::new();
            let n = self.stderr.read_line(&mut line).unwrap();
            assert!(n > 0, "the command ended before printing {needle:?}:\n{}", self.seen);
            self.seen.push_str(&line);
            if line.contains(needle) {
                return;
            }
        }
    }

    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(i32::try_from(self.child.0.id()).unwrap()).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// Waits for the command to end; its exit status, standard output, and all of its standard error.
    pub fn finish(mut self) -> (std::process::ExitStatus, String, String) {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stderr, &mut rest).unwrap();
        self.seen.push_str(&rest);
        let mut stdout = String::new();
        if let Some(out) = self.child.0.stdout.as_mut() {
            std::io::Read::read_to_string(out, &mut stdout).unwrap();
        }
        let status = self.child.0.wait().unwrap();
        (status, stdout, std::mem::take(&mut self.seen))
    }
}
