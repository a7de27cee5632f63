//! The CLI's one error type: a single line for stderr, exit code 2.

use std::fmt;

/// What went wrong with the user's input, as one line (no trailing newline).
#[derive(Debug, Clone, PartialEq)]
pub struct CliError {
    message: String,
}

impl CliError {
    /// An error with this message (newlines are folded into spaces so the
    /// message stays one line).
    pub fn new(message: impl Into<String>) -> Self {
        let message: String = message.into();
        CliError {
            message: one_line(&message),
        }
    }

    /// The message, without the `error: ` prefix.
    #[cfg(test)]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)
    }
}

impl From<chainrule::Error> for CliError {
    fn from(e: chainrule::Error) -> Self {
        CliError::new(e.to_string())
    }
}

/// `Result` with [`CliError`].
pub type CliResult<T> = std::result::Result<T, CliError>;

/// Folds a possibly multi-line text into one line: lines joined by "; ",
/// runs of blanks squeezed, control characters escaped (a carriage return
/// or an escape sequence in an expression or a point must not reach the
/// terminal: `\r`, `\x1b`, bidirectional overrides as `U+202E`), and very
/// long texts shortened in the middle, so that the end of the line (the
/// "at column N" of a 300-character token) stays.
pub fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let escaped = escape_controls(&joined);
    const MAX: usize = 300;
    const TAIL: usize = 100;
    let n = escaped.chars().count();
    if n > MAX {
        let head: String = escaped.chars().take(MAX - TAIL).collect();
        let tail: String = escaped.chars().skip(n - TAIL).collect();
        format!("{head}...{tail}")
    } else {
        escaped
    }
}

/// Whether `c` may not be echoed to a terminal as it is: C0 and C1 control
/// characters, DEL, and the invisible characters that reorder or hide text
/// (bidirectional overrides and isolates, zero-width characters).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// `text` with every character [`is_unsafe`] written out: `\t`, `\r`,
/// `\n`, `\xNN` below U+0100, `U+XXXX` above.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_unsafe) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if is_unsafe(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe(c) => out.push_str(&format!("U+{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Quotes a piece of user input for an error message, shortened when long.
pub fn quote(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        let head: String = text.chars().take(MAX).collect();
        format!("'{head}...'")
    } else {
        format!("'{text}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = CliError::new("first\n  second\n\nthird");
        assert_eq!(e.to_string(), "error: first; second; third");
        let long = "x+".repeat(1000);
        assert!(CliError::new(long).message().len() < 320);
    }

    #[test]
    fn control_characters_are_escaped() {
        let e = CliError::new("'x=1\r\u{1b}[31mFAKE OK' is not a number\u{7}\u{202e}");
        assert_eq!(
            e.to_string(),
            "error: 'x=1\\r\\x1b[31mFAKE OK' is not a number\\x07U+202E"
        );
        assert!(!e.to_string().chars().any(char::is_control));
        assert_eq!(escape_controls("tab\there"), "tab\\there");
    }

    #[test]
    fn a_long_line_keeps_its_end() {
        let token = "y".repeat(300);
        let e = CliError::new(format!("the expression: unexpected '{token}' at column 17"));
        assert!(e.message().ends_with("at column 17"), "{e}");
        assert!(e.message().chars().count() <= 303);
    }

    #[test]
    fn quoting_shortens() {
        assert_eq!(quote("abc"), "'abc'");
        assert_eq!(quote(&"y".repeat(100)), format!("'{}...'", "y".repeat(40)));
    }
}
