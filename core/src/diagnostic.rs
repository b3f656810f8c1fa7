//! Diagnostics located in a `service.toml`, rendered the way rustc renders its own.
//!
//! A proc macro cannot point a diagnostic inside a non-Rust file on stable Rust, so
//! the location, the source line and a caret travel in the message text, the way
//! askama and the `toml` crate do it.

use std::fmt;
use std::ops::Range;

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
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: Range<usize>) -> Self {
        Self { severity: Severity::Error, message: message.into(), span: Some(span), help: None }
    }

    /// An error with no place in the file.
    pub fn unlocated(message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, message: message.into(), span: None, help: None }
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

/// A diagnostic ready to print: `error text`, then `--> file:line:col`, the line and a caret.
pub struct Rendered<'a> {
    diagnostic: &'a Diagnostic,
    file_name: &'a str,
    source: &'a str,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diagnostic;
        f.write_str(&d.message)?;
        match &d.span {
            None => writeln!(f, "\n --> {}", self.file_name)?,
            Some(span) => {
                let at = line_col(self.source, span.start);
                let text = self.source.lines().nth(at.line - 1).unwrap_or("").trim_end_matches('\r');
                let width = caret_width(text, at.col, self.source, span);
                let gutter = " ".repeat(at.line.to_string().len());
                writeln!(f, "\n{gutter}--> {}:{}:{}", self.file_name, at.line, at.col)?;
                writeln!(f, "{gutter} |")?;
                writeln!(f, "{} | {text}", at.line)?;
                writeln!(f, "{gutter} | {}{}", " ".repeat(at.col - 1), "^".repeat(width))?;
            }
        }
        if let Some(help) = &d.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}

/// How many carets to draw: the span's width, clipped to the end of its first line, at least one.
fn caret_width(line: &str, col: usize, source: &str, span: &Range<usize>) -> usize {
    let rest_of_line = line.chars().count().saturating_sub(col - 1);
    let end = floor_char_boundary(source, span.end.min(source.len()));
    let start = floor_char_boundary(source, span.start.min(end));
    source[start..end].chars().count().min(rest_of_line).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_caret_and_help() {
        let src = "[service]\nnmae = \"x\"\n";
        let d = Diagnostic::error("unknown key `nmae` in [service]", 10..14).help("did you mean `name`?");
        let text = d.render("service.toml", src).to_string();
        assert_eq!(
            text,
            "unknown key `nmae` in [service]\n --> service.toml:2:1\n  |\n2 | nmae = \"x\"\n  | ^^^^\n  = help: did you mean `name`?\n"
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
    }
}
