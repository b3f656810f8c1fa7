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
            let options = systemd::ExportOptions::new(absolute(bin_dir)?, absolute(socket_dir)?);
            let units = systemd::export(std::slice::from_ref(spec), &options).map_err(|e| e.to_string())?;
            for unit in systemd::write(dir, &units).map_err(|e| e.to_string())? {
                let said = if unit.changed { "wrote" } else { "unchanged" };
                println!("{said} {}", unit.path.display());
            }
            for note in systemd::export_notes(std::slice::from_ref(spec)) {
                eprintln!("note: {note}");
            }
            if !options.wait_socket.is_file() && spec.actions.iter().any(|a| a.socket.is_some()) {
                eprintln!(
                    "note: the units wait for sockets with {}, which is not there yet: install it beside the daemons \
                     (from this workspace: cargo install --path runtime --bin {})",
                    options.wait_socket.display(),
                    systemd::WAIT_SOCKET_PROGRAM
                );
            }
            Ok(())
        }
    }
}
