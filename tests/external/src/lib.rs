//! Test-only crate: its tests are in `tests/`.
