//! Quoting one argument for the two command languages the backends write: systemd's
//! unit-file command lines and `/bin/sh -c` (which zinit runs every `exec` through).
//!
//! Both functions return a word that the consumer splits back into exactly the input
//! string, whatever it contains; the unit tests below pin every special character.

/// Where a systemd word appears: the two differ only in `$`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemdContext {
    /// `ExecStart=` and friends: `$VAR` and `${VAR}` are expanded, so a literal `$` is `$$`.
    Command,
    /// `Environment=`: no variable expansion ("the `$` character has no special meaning").
    Environment,
}

/// Quotes `word` as one argument of a systemd directive.
///
/// systemd splits a value on whitespace unless quoted, honours C-style backslash escapes
/// inside double quotes, expands `%` specifiers everywhere (quoted or not, so `%` is
/// written `%%`) and, in command lines, environment variables (`$` is written `$$`). A
/// word made only of characters none of these rules touch is left bare, so the common
/// case reads naturally in a unit file.
///
/// ```
/// use service_manifest_runtime::backend::quote::{systemd_word, SystemdContext::Command};
/// assert_eq!(systemd_word("--port", Command), "--port");
/// assert_eq!(systemd_word("a b", Command), "\"a b\"");
/// assert_eq!(systemd_word("100%", Command), "\"100%%\"");
/// assert_eq!(systemd_word("$HOME", Command), "\"$$HOME\"");
/// ```
pub fn systemd_word(word: &str, context: SystemdContext) -> String {
    let bare = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | ',' | '+' | '=' | '@'))
        // A lone `;` separates commands, and a leading `-`/`@`/`+`/`!`/`:` is a prefix
        // only on the program, which is always an absolute path here; `=` at the start
        // of an `Environment=` word would be an empty variable name, so quote it.
        && !(context == SystemdContext::Environment && word.starts_with('='));
    if bare {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '%' => out.push_str("%%"),
            '$' if context == SystemdContext::Command => out.push_str("$$"),
            c if c.is_control() => {
                // Control characters as `\xNN` (they are all ASCII); systemd's unescaper
                // reads exactly two hex digits.
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quotes `word` for `/bin/sh -c`: bare when safe, else in single quotes, with each
/// `'` written `'\''` (the only character single quotes cannot hold).
///
/// ```
/// use service_manifest_runtime::backend::quote::sh_word;
/// assert_eq!(sh_word("/opt/bin/x"), "/opt/bin/x");
/// assert_eq!(sh_word("it's"), "'it'\\''s'");
/// ```
pub fn sh_word(word: &str) -> String {
    let bare = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | ',' | '+' | '=' | '@'))
        && !word.starts_with('=');
    if bare { word.to_owned() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

/// A whole command line for `/bin/sh -c`, each word quoted.
pub fn sh_command<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words.into_iter().map(sh_word).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::SystemdContext::{Command, Environment};
    use super::*;

    /// systemd's splitter for one quoted-or-bare word, as `extract_first_word` with
    /// `EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE` and then the `$$`/`%%` unescaping: enough to
    /// prove the round trip of everything `systemd_word` emits.
    fn systemd_unquote(word: &str, context: SystemdContext) -> String {
        let inner = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')).unwrap_or(word);
        let mut out = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('x') => {
                        let hex: String = chars.by_ref().take(2).collect();
                        out.push(u8::from_str_radix(&hex, 16).map(char::from).unwrap_or('?'));
                    }
                    Some(other) => out.push(other),
                    None => panic!("dangling backslash in {word}"),
                },
                '%' => {
                    assert_eq!(chars.next(), Some('%'), "lone % in {word}");
                    out.push('%');
                }
                '$' if context == Command => {
                    assert_eq!(chars.next(), Some('$'), "lone $ in {word}");
                    out.push('$');
                }
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn plain_words_stay_bare() {
        for w in ["--port", "/opt/hero/bin/hero_proxy_server", "a=b", "x,y", "v1.2:3", "user@host"] {
            assert_eq!(systemd_word(w, Command), w);
            assert_eq!(sh_word(w), w);
        }
    }

    #[test]
    fn spaces_and_empty_words_are_quoted() {
        assert_eq!(systemd_word("hello world", Command), "\"hello world\"");
        assert_eq!(systemd_word("", Command), "\"\"");
        assert_eq!(systemd_word("a\tb", Command), "\"a\\tb\"");
        assert_eq!(systemd_word("line\nnext", Command), "\"line\\nnext\"");
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(systemd_word(r#"say "hi""#, Command), r#""say \"hi\"""#);
        assert_eq!(systemd_word("it's", Command), "\"it's\"");
        assert_eq!(systemd_word(r"C:\dir\", Command), r#""C:\\dir\\""#);
    }

    #[test]
    fn dollar_is_doubled_only_in_command_lines() {
        assert_eq!(systemd_word("$HOME", Command), "\"$$HOME\"");
        assert_eq!(systemd_word("${X}y", Command), "\"$${X}y\"");
        assert_eq!(systemd_word("K=$HOME", Environment), "\"K=$HOME\"");
    }

    #[test]
    fn percent_specifiers_are_doubled_everywhere() {
        assert_eq!(systemd_word("%h/x", Command), "\"%%h/x\"");
        assert_eq!(systemd_word("K=100%", Environment), "\"K=100%%\"");
    }

    #[test]
    fn a_lone_semicolon_is_quoted_so_it_does_not_separate_commands() {
        assert_eq!(systemd_word(";", Command), "\";\"");
    }

    #[test]
    fn control_characters_become_hex_escapes() {
        assert_eq!(systemd_word("a\u{1}b", Command), "\"a\\x01b\"");
    }

    #[test]
    fn every_tricky_word_round_trips_through_systemds_rules() {
        let words = [
            "a b",
            "",
            r#"say "hi" \o/"#,
            "$HOME and ${X} and $$",
            "%h %% %i",
            "tab\there\nnewline",
            "ünïcødé ✓",
            "'single'",
            ";",
            "\u{7f}\u{1b}",
        ];
        for w in words {
            for ctx in [Command, Environment] {
                assert_eq!(systemd_unquote(&systemd_word(w, ctx), ctx), w, "{w:?} in {ctx:?}");
            }
        }
    }

    #[test]
    fn sh_words_round_trip_through_a_real_shell() {
        let words = ["a b", "", "it's", r#"say "hi""#, "$HOME", "`id`", "a\\b", "*", "~", "x;y", "line\nnext"];
        let script = format!("printf '%s\\0' {}", sh_command(words));
        let out = std::process::Command::new("/bin/sh").arg("-c").arg(&script).output().expect("/bin/sh runs");
        // One NUL-terminated field per word, the empty word included.
        let fields = out.stdout.strip_suffix(&[0]).unwrap_or(&out.stdout);
        let got: Vec<String> = fields.split(|b| *b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
        assert_eq!(got, words);
    }
}
