//! Supervisors other than the embedded one: the same registration, enforced by systemd
//! (exported unit files) or by a running zinit.
//!
//! The engine-independent parts (`--plan`, `--graph`, the generated registration) do
//! not change per backend; only the service commands (`--start`, `--stop`, `--status`,
//! …) and the export go through here. The CLI picks a backend with `--backend` or
//! [`BACKEND_ENV`], embedded by default.

pub mod quote;
pub mod systemd;
pub mod wait_socket;
pub mod zinit;

use std::path::{Path, PathBuf};

use crate::spec::ServiceSpec;

/// The environment variable choosing the backend (`embedded` or `zinit`).
pub const BACKEND_ENV: &str = "SERVICE_MANIFEST_BACKEND";

/// Which supervisor carries out the service commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// The embedded supervisor (started on demand).
    #[default]
    Embedded,
    /// A running `zinit-server`, reached on its socket.
    Zinit,
}

/// The argument that makes a program linking this crate's CLI glue the socket waiter: the
/// role hook sees it before `main` runs (see [`Waiter::this_program`]).
pub const WAIT_SOCKET_ARG: &str = "--service-manifest-wait-socket";

/// The program exported units and zinit's health checks run to wait for a socket (and to
/// create socket directories), with the arguments that make it the waiter; see
/// [`wait_socket`] for what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiter {
    /// The program, absolute.
    pub program: PathBuf,
    /// What goes before the waiter's own arguments.
    pub args: Vec<String>,
}

impl Waiter {
    /// The standalone `service-manifest-wait-socket` in `bin_dir`.
    ///
    /// ```
    /// use service_manifest_runtime::backend::Waiter;
    /// let w = Waiter::standalone("/opt/hero/bin");
    /// assert_eq!(w.words(), ["/opt/hero/bin/service-manifest-wait-socket"]);
    /// ```
    pub fn standalone(bin_dir: impl AsRef<Path>) -> Self {
        Self { program: bin_dir.as_ref().join(systemd::WAIT_SOCKET_PROGRAM), args: Vec::new() }
    }

    /// The running program itself, as `<program> --service-manifest-wait-socket …`: the
    /// service's own CLI, so the units and checks name a program that exists wherever the
    /// CLI does, and nothing else has to be installed. Its role hook answers before `main`
    /// (and its argument parser) runs; calling this links the hook into the program.
    pub fn this_program() -> std::io::Result<Self> {
        crate::cli::keep_role_hook();
        let program = std::env::current_exe()?;
        Ok(Self { program: std::fs::canonicalize(&program).unwrap_or(program), args: vec![WAIT_SOCKET_ARG.to_owned()] })
    }

    /// The program and its leading arguments, as words of a command line.
    pub fn words(&self) -> Vec<String> {
        std::iter::once(self.program.display().to_string()).chain(self.args.iter().cloned()).collect()
    }
}

/// The export formats of `--export FORMAT DIR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// systemd unit files.
    Systemd,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "systemd" => Ok(Self::Systemd),
            other => Err(format!("unknown export format `{other}`; the formats are: systemd")),
        }
    }
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("cannot make {} absolute: {e}", path.display()))
}

/// `--export FORMAT DIR`: writes `spec` in `format` into `dir` and lists what it wrote.
pub fn export_command(
    format: &str,
    dir: &Path,
    spec: &ServiceSpec,
    bin_dir: &Path,
    socket_dir: &Path,
) -> Result<(), String> {
    match format.parse::<ExportFormat>()? {
        ExportFormat::Systemd => {
            let mut options = systemd::ExportOptions::new(absolute(bin_dir)?, absolute(socket_dir)?);
            options.waiter = Waiter::this_program().map_err(|e| format!("cannot find this program: {e}"))?;
            let units = systemd::export(std::slice::from_ref(spec), &options).map_err(|e| e.to_string())?;
            for unit in systemd::write(dir, &units).map_err(|e| e.to_string())? {
                let said = if unit.changed { "wrote" } else { "unchanged" };
                println!("{said} {}", unit.path.display());
            }
            for note in systemd::export_notes(std::slice::from_ref(spec)) {
                eprintln!("note: {note}");
            }
            Ok(())
        }
    }
}
