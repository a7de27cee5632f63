//! The one error type of the library.

/// Everything that can go wrong with input read at run time: expressions,
/// points, shapes, and misuse of the autograd graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An expression could not be parsed; `column` is 1-based.
    #[error("{message} at column {column}")]
    Parse {
        /// What was wrong, naming the offending token.
        message: String,
        /// 1-based column of the offending token.
        column: usize,
    },
    /// Two shapes that an operation cannot combine.
    #[error("{op}: shapes {lhs:?} and {rhs:?} are not compatible")]
    Shape {
        /// The operation, as in `matmul` or `add`.
        op: &'static str,
        /// The first operand's shape.
        lhs: Vec<usize>,
        /// The second operand's shape.
        rhs: Vec<usize>,
    },
    /// A variable that a formula needs has no value, or a value names no variable.
    #[error("{0}")]
    Variable(String),
    /// Misuse of the autograd graph (backward through a freed graph, a
    /// non-scalar output without an output gradient, ...).
    #[error("{0}")]
    Autograd(String),
    /// Any other invalid argument (an axis out of range, an index out of
    /// bounds, a value that is not a number).
    #[error("{0}")]
    Invalid(String),
}

/// `Result` with chainrule's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
