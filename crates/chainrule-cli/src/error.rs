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
/// runs of blanks squeezed, and very long texts cut (a 100,000-character
/// expression must not be echoed back whole).
pub fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    const MAX: usize = 300;
    if joined.chars().count() > MAX {
        let cut: String = joined.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        joined
    }
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
    fn quoting_shortens() {
        assert_eq!(quote("abc"), "'abc'");
        assert_eq!(quote(&"y".repeat(100)), format!("'{}...'", "y".repeat(40)));
    }
}
