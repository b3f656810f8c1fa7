//! Small text helpers shared by the supervisor's messages and the CLI's output.

/// A duration as written in `service.toml`: `15s`, or `500ms` when not whole seconds.
pub(crate) fn duration_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}
