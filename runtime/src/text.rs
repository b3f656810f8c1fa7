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

/// How many names a reason lists before it counts the rest.
const NAMED: usize = 3;

/// `a, b, c`, or `a, b, c and 1997 more`: each action a batch request stops keeps the
/// request in its reason and its journal entry, so naming all 2,000 made every one of them
/// 18 KiB (and the journal, bounded in bytes, dropped its history to hold them).
pub(crate) fn some_names(names: &[&str]) -> String {
    let mut text = names.iter().take(NAMED).copied().collect::<Vec<_>>().join(", ");
    if names.len() > NAMED {
        text.push_str(&format!(" and {} more", names.len() - NAMED));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_batch_is_named_by_its_first_few() {
        assert_eq!(super::some_names(&["a", "b"]), "a, b");
        assert_eq!(super::some_names(&["a", "b", "c"]), "a, b, c");
        assert_eq!(super::some_names(&["a", "b", "c", "d", "e"]), "a, b, c and 2 more");
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let line = "é".repeat(1000);
        let cut = super::cut_line(&line);
        assert_eq!(cut.chars().count(), super::REASON_LINE_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(super::cut_line("short"), "short");
    }
}
