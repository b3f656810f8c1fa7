//! Exit codes, following `systemctl` and the LSB init-script conventions where they apply.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done; for `--status`, every action the service involves is up (ready, or a completed one-shot) |
//! | 1 | failed: a start failed, the supervisor refused, a check found a problem, an I/O error |
//! | 2 | usage: a flag clap rejects, or a modifier (`--follow`, `--bin-dir`, …) given without its command |
//! | 3 | `--status`: something wanted is not up, or nothing runs (no supervisor, or the service is stopped) |
//! | 4 | `--status`: the service is not defined with the running supervisor (systemctl's "no such unit") |

use std::process::ExitCode;

/// Everything went as asked.
pub const SUCCESS: u8 = 0;
/// The command failed.
pub const FAILURE: u8 = 1;
/// The command line was not understood (clap's own code for usage errors).
pub const USAGE: u8 = 2;
/// `--status`: not running, or something wanted is not up (LSB "program is not running").
pub const NOT_RUNNING: u8 = 3;
/// `--status`: the service is unknown to the supervisor (systemctl's "no such unit").
pub const UNKNOWN: u8 = 4;

/// Why a service command did not succeed: what to print, and the exit code.
///
/// ```
/// use service_manifest_runtime::cli::exit::{Failure, NOT_RUNNING};
/// let f = Failure::new(NOT_RUNNING, "not up: hero_collab/hero_collab_server (inactive)");
/// assert_eq!(f.code, 3);
/// ```
#[derive(Debug)]
pub struct Failure {
    /// The exit code: one of the constants of this module.
    pub code: u8,
    /// What to print after `error: ` (nothing when empty).
    pub message: String,
}

impl Failure {
    /// A failure with this exit code and message.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::new(FAILURE, message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Self::new(FAILURE, message)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (exit code {})", self.message, self.code)
    }
}

impl From<crate::ClientError> for Failure {
    fn from(e: crate::ClientError) -> Self {
        Self::new(FAILURE, e.to_string())
    }
}

/// Prints the failure (if any) and turns the outcome into the process's exit code.
pub(crate) fn report(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("error: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}
