//! Collects every diagnostic of a manifest so they are reported in one build.
//!
//! Modelled on serde_derive's `Ctxt`: checks push and carry on instead of returning
//! early, and [`Ctxt::finish`] must be called exactly once. Dropping a context that
//! still holds errors is a bug in this crate, so it panics in debug builds.

use std::ops::Range;

use crate::diagnostic::{Diagnostic, Severity};

/// Whether unknown keys are errors (the macro) or warnings (the run-time loader).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// Every unknown key is an error.
    Strict,
    /// Unknown keys are warnings, so an older reader never rejects a newer file.
    Lenient,
}

#[derive(Debug)]
pub(crate) struct Ctxt {
    diagnostics: Option<Vec<Diagnostic>>,
    pub(crate) strictness: Strictness,
}

impl Ctxt {
    pub(crate) fn new(strictness: Strictness) -> Self {
        Self { diagnostics: Some(Vec::new()), strictness }
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        if let Some(all) = &mut self.diagnostics {
            all.push(diagnostic);
        }
    }

    pub(crate) fn error(&mut self, message: impl Into<String>, span: Range<usize>) {
        self.push(Diagnostic::error(message, span));
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diagnostics.iter().flatten().any(|d| d.severity == Severity::Error)
    }

    /// Hands every diagnostic over, errors and warnings alike, in the order they were found.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.diagnostics.take().unwrap_or_default()
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if cfg!(debug_assertions) && !std::thread::panicking() && self.diagnostics.is_some() {
            panic!("service_manifest_core: diagnostics were collected but never reported");
        }
    }
}
