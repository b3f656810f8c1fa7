//! Small text helpers shared by the supervisor's messages and the CLI's output.

/// A duration as written in `service.toml`: `15s`, or `500ms` when not whole seconds.
pub(crate) fn duration_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

/// The most of a log line a reason quotes: a reason is shown in one line of `--status`
/// and kept in the journal, so a daemon's 4 KiB line must not become one.
pub(crate) const REASON_LINE_CHARS: usize = 160;

/// `line`, cut to [`REASON_LINE_CHARS`] characters with `…` where it was cut.
pub(crate) fn cut_line(line: &str) -> String {
    match line.char_indices().nth(REASON_LINE_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let line = "é".repeat(1000);
        let cut = super::cut_line(&line);
        assert_eq!(cut.chars().count(), super::REASON_LINE_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(super::cut_line("short"), "short");
    }
}
