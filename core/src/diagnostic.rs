//! Diagnostics located in a `service.toml`, rendered the way rustc renders its own.
//!
//! A proc macro cannot point a diagnostic inside a non-Rust file on stable Rust, so
//! the location, the source line and a caret travel in the message text, the way
//! askama and the `toml` crate do it. The text is laid out by `annotate-snippets`,
//! the renderer rustc itself uses, which measures tabs and wide characters (CJK,
//! emoji) by their display width so the caret lands under the right character.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};

/// Whether a diagnostic stops the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The manifest is rejected.
    Error,
    /// Reported, but the manifest is accepted (the lenient run-time loader's unknown keys).
    Warning,
}

/// One problem in a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Byte range in the source; `None` when the problem has no place (file missing).
    pub span: Option<Range<usize>>,
    /// A suggestion, rendered as `= help: …`.
    pub help: Option<String>,
    /// Other places that take part (each edge of a cycle, say), each with a note.
    pub labels: Vec<(Range<usize>, String)>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: Range<usize>) -> Self {
        Self { severity: Severity::Error, message: message.into(), span: Some(span), help: None, labels: Vec::new() }
    }

    /// An error with no place in the file.
    pub fn unlocated(message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, message: message.into(), span: None, help: None, labels: Vec::new() }
    }

    /// Points at another place that takes part, with a note (shown under the same file).
    pub fn label(mut self, span: Range<usize>, note: impl Into<String>) -> Self {
        self.labels.push((span, note.into()));
        self
    }

    /// Adds a suggestion.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders against `source`, naming the file as `file_name`.
    pub fn render<'a>(&'a self, file_name: &'a str, source: &'a str) -> Rendered<'a> {
        Rendered { diagnostic: self, file_name, source }
    }
}

/// A 1-based line and column (in characters) of a byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
}

/// Finds the line and column of `offset`; an offset past the end is clamped.
pub fn line_col(source: &str, offset: usize) -> LineCol {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol { line, col: source[line_start..offset].chars().count() + 1 }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A diagnostic ready to print: the message, then `--> file:line:col`, the line and a
/// caret under the span, then `= help: …`. Plain text, no colour: it ends up inside
/// `compile_error!`, which rustc prints verbatim.
///
/// The message carries no `error: ` of its own, because rustc (or whoever prints it)
/// adds one; callers that print it themselves prefix the severity.
///
/// ```
/// use service_manifest_core::Diagnostic;
///
/// let source = "[service]\nnmae = \"x\"\n";
/// let d = Diagnostic::error("unknown key `nmae`", 10..14).help("did you mean `name`?");
/// let text = d.render("service.toml", source).to_string();
/// assert!(text.starts_with("unknown key `nmae`\n --> service.toml:2:1\n"));
/// assert!(text.contains("2 | nmae = \"x\"\n  | ^^^^\n"));
/// assert!(text.contains("= help: did you mean `name`?"));
/// ```
pub struct Rendered<'a> {
    diagnostic: &'a Diagnostic,
    file_name: &'a str,
    source: &'a str,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diagnostic;
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        // The severity's name is left out: the caller's prefix (rustc's `error: `) says it.
        let title = level.no_name().primary_title(d.message.as_str());
        let mut group = match &d.span {
            None => title.element(Origin::path(self.file_name)),
            Some(span) => {
                let mut snippet = Snippet::source(self.source)
                    .path(self.file_name)
                    .annotation(AnnotationKind::Primary.span(first_line_of(self.source, span)));
                for (other, note) in &d.labels {
                    let other = first_line_of(self.source, other);
                    snippet = snippet.annotation(AnnotationKind::Context.span(other).label(note.as_str()));
                }
                title.element(snippet)
            }
        };
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        writeln!(f, "{}", Renderer::plain().term_width(TERM_WIDTH).render(&[group]))
    }
}

/// Wide enough that no manifest line is cut short: the text is not shown on a terminal
/// we could measure, and a cut line hides the value the caret points at.
const TERM_WIDTH: usize = 1_000;

/// The span, clamped to the source and to character boundaries, and cut at the end of
/// its first line: a table's span covers its whole body, and the header line is where
/// the reader looks.
fn first_line_of(source: &str, span: &Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
    let line_end = source[start..end].find(['\n', '\r']).map_or(end, |i| start + i);
    start..line_end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_point_at_the_other_places_that_take_part() {
        let src = "a = 1\nb = 2\nc = 3\n";
        let d = Diagnostic::error("cycle", 12..13).label(0..1, "first").label(6..7, "second");
        let text = d.render("f.toml", src).to_string();
        assert!(text.contains("--> f.toml:3:1"), "{text}");
        assert!(text.contains("1 | a = 1\n  | - first\n"), "{text}");
        assert!(text.contains("2 | b = 2\n  | - second\n"), "{text}");
    }

    #[test]
    fn renders_location_line_caret_and_help() {
        let src = "[service]\nnmae = \"x\"\n";
        let d = Diagnostic::error("unknown key `nmae` in [service]", 10..14).help("did you mean `name`?");
        let text = d.render("service.toml", src).to_string();
        assert_eq!(
            text,
            "unknown key `nmae` in [service]\n --> service.toml:2:1\n  |\n2 | nmae = \"x\"\n  | ^^^^\n  |\n  = help: did you mean `name`?\n"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "a = \"é\" b";
        assert_eq!(line_col(src, src.find('b').unwrap()), LineCol { line: 1, col: 9 });
    }

    #[test]
    fn offsets_past_the_end_or_inside_a_character_are_clamped() {
        let src = "é";
        assert_eq!(line_col(src, 1), LineCol { line: 1, col: 1 });
        assert_eq!(line_col(src, 99), LineCol { line: 1, col: 2 });
        let d = Diagnostic::error("x", 1..99);
        assert!(d.render("f", src).to_string().contains("--> f:1:1"));
        // Empty files, empty spans at the very end and CRLF line ends render too.
        for (src, span) in [("", 0..0), ("a = 1\n", 6..6), ("a = 1\r\nb = 2\r\n", 7..12)] {
            let text = Diagnostic::error("x", span).render("f", src).to_string();
            assert!(text.contains("--> f:"), "{text}");
        }
    }

    /// The rendered line that shows `line` of the source, and the caret line under it.
    fn shown_and_caret(text: &str, line: usize) -> (&str, &str) {
        let prefix = format!("{line} | ");
        let mut lines = text.lines().skip_while(|l| !l.starts_with(&prefix));
        let shown = lines.next().expect("the source line is shown");
        let caret = lines.next().expect("a caret line follows it");
        (&shown[prefix.len()..], &caret[prefix.len()..])
    }

    #[test]
    fn a_tab_before_the_error_puts_the_caret_under_the_key() {
        let src = "[service]\n\tnmae = \"x\"\n";
        let d = Diagnostic::error("unknown key `nmae`", 11..15);
        let text = d.render("service.toml", src).to_string();
        // The column counts the tab as one character, as rustc does.
        assert!(text.contains("--> service.toml:2:2"), "{text}");
        let (shown, caret) = shown_and_caret(&text, 2);
        // The tab is shown as spaces, so the caret's column is the key's column on screen.
        assert!(!shown.contains('\t'), "{text}");
        assert_eq!(caret.find('^'), shown.find("nmae"), "{text}");
        assert_eq!(caret.trim(), "^^^^", "{text}");
    }

    #[test]
    fn wide_characters_before_the_error_move_the_caret_by_their_display_width() {
        let src = "tags = [\"日本語\", \"🚀\", \"bad\"]\n";
        let bad = src.find("\"bad\"").unwrap();
        let d = Diagnostic::error("unknown tag", bad..bad + 5);
        let text = d.render("service.toml", src).to_string();
        // Columns count characters: `tags = ["日本語", "🚀", ` is 20 of them.
        assert!(text.contains("--> service.toml:1:21"), "{text}");
        let (_, caret) = shown_and_caret(&text, 1);
        // On screen each of the four wide characters takes two cells: 20 + 4 = 24.
        assert_eq!(caret.find('^'), Some(24), "{text}");
        assert_eq!(caret.trim(), "^^^^^", "{text}");
    }

    #[test]
    fn a_span_over_several_lines_is_underlined_on_its_first() {
        let src = "[[dependencies]]\nrepo = \"x\"\n";
        let d = Diagnostic::error("neither bin nor socket", 0..src.len());
        let text = d.render("service.toml", src).to_string();
        let (_, caret) = shown_and_caret(&text, 1);
        assert_eq!(caret, "^^^^^^^^^^^^^^^^", "{text}");
        assert!(!text.contains("2 |"), "{text}");
    }

    #[test]
    fn an_unlocated_error_names_the_file_and_keeps_its_help() {
        let d = Diagnostic::unlocated("cannot read `service.toml`").help("the path is relative to the crate");
        let text = d.render("service.toml", "").to_string();
        assert!(text.starts_with("cannot read `service.toml`\n--> service.toml\n"), "{text}");
        assert!(text.contains("= help: the path is relative to the crate"), "{text}");
    }

    #[test]
    fn the_message_has_no_severity_prefix_and_no_colour() {
        let d = Diagnostic::error("bad", 0..1);
        let text = d.render("service.toml", "x").to_string();
        assert!(!text.starts_with("error"), "rustc adds `error: ` itself: {text}");
        assert!(!text.contains('\x1b'), "{text:?}");
    }
}
