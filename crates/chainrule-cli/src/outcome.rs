//! What a command hands back to `main`: its stdout and its exit code.

/// What a command produced: text for stdout and the exit code (0, or 1 when
/// `check` or `tour` found a disagreement).
pub struct Outcome {
    /// Everything to print on stdout.
    pub stdout: String,
    /// The process exit code.
    pub code: i32,
}

impl Outcome {
    /// A successful result.
    pub fn ok(stdout: String) -> Self {
        Outcome { stdout, code: 0 }
    }
}
