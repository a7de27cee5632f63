//! The one error type of the library.
//!
//! Every variant carries typed data (shapes, axes, counts, the offending
//! token and its [`Span`]), never a prepared message, so a caller matches on
//! what went wrong rather than on text; `Display` renders the message.

use std::fmt;

use crate::symbolic::Span;

/// Everything that can go wrong with input read at run time: expressions,
/// points, shapes, and misuse of the autograd graph.
///
/// ```
/// use chainrule::error::{Error, ParseErrorKind, Token};
/// let e = chainrule::symbolic::parse("x + * y").unwrap_err();
/// assert_eq!(e.to_string(), "unexpected '*' at column 5");
/// assert_eq!(e.column(), Some(5));
/// let Error::Parse { kind, .. } = e else { unreachable!() };
/// assert_eq!(kind, ParseErrorKind::UnexpectedToken { found: Token::Operator { op: '*' } });
///
/// let e = chainrule::Tensor::ones(&[2]).try_sum_dim(&[1], false).unwrap_err();
/// assert!(matches!(e, Error::AxisOutOfRange { op: "sum", axis: 1, ndim: 1 }));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- expressions ---------------------------------------------------------
    /// An expression could not be parsed.
    #[error("{kind} at column {}", span.start)]
    Parse {
        /// What was wrong.
        kind: ParseErrorKind,
        /// Where: the offending token (1-based columns, see [`Error::column`]).
        span: Span,
    },
    /// A symbolic computation that outgrew its budget of formula nodes
    /// (see [`Expr::try_diff_n`](crate::symbolic::Expr::try_diff_n)).
    #[error("the formula grew past the budget of {limit} new nodes")]
    FormulaTooLarge {
        /// The budget: how many nodes the computation could add.
        limit: usize,
    },
    /// A formula handle ([`Expr`](crate::symbolic::Expr)) used after its
    /// arena was collected ([`collect`](crate::symbolic::collect)) or
    /// replaced ([`with_fresh_arena`](crate::symbolic::with_fresh_arena)):
    /// refused rather than read as whatever formula now has its id.
    #[error(
        "this formula belongs to a formula arena that is gone (collected or replaced); keep \
         formulas that must outlive a collection as symbolic::Formula"
    )]
    StaleFormula,
    /// A formula needs the value of a variable that none was given for.
    #[error("no value for variable '{name}'")]
    UnboundVariable {
        /// The variable, as written in the expression.
        name: String,
        /// Where it stands in the source, when the formula was evaluated
        /// from its syntax.
        span: Option<Span>,
    },

    // ----- shapes --------------------------------------------------------------
    /// Two shapes that an operation cannot combine.
    #[error("{op}: shapes {left:?} and {right:?} are not compatible")]
    ShapeMismatch {
        /// The operation, as in `matmul` or `add`.
        op: &'static str,
        /// The first operand's shape.
        left: Vec<usize>,
        /// The second operand's shape.
        right: Vec<usize>,
    },
    /// A shape whose number of elements does not fit in memory's index range.
    #[error("{op}: the number of elements of shape {shape:?} overflows")]
    ShapeOverflow {
        /// The operation.
        op: &'static str,
        /// The shape asked for (its last entries may be saturated).
        shape: Vec<usize>,
    },
    /// A tensor of more elements than the library makes
    /// ([`MAX_NUMEL`](crate::tensor::MAX_NUMEL)), or an allocation of one
    /// that failed: an error rather than an abort.
    #[error(
        "{op}: {numel} elements is more than the limit of {limit} elements \
         (or more than memory can hold)"
    )]
    TooManyElements {
        /// The operation, as in `arange`.
        op: &'static str,
        /// The number of elements asked for (saturated at `usize::MAX`).
        numel: usize,
        /// The limit ([`MAX_NUMEL`](crate::tensor::MAX_NUMEL)).
        limit: usize,
    },
    /// A tensor of a rank (number of axes) the operation does not take.
    #[error("{op}: expected {expected}, got shape {shape:?}")]
    WrongRank {
        /// The operation (and operand), as in `trace`.
        op: &'static str,
        /// The ranks or layout it takes, as in `a matrix (2-d tensor)`.
        expected: &'static str,
        /// The shape it was given.
        shape: Vec<usize>,
    },
    /// A function transform that needs a scalar function got another output.
    #[error(
        "{op}: the function must return a scalar (0-d tensor), but it returned shape \
         {shape:?}; reduce it (e.g. `.sum()`) or use jacrev/vjp for non-scalar outputs"
    )]
    NonScalarOutput {
        /// The transform, as in `grad` or `hessian`.
        op: &'static str,
        /// The shape the function returned.
        shape: Vec<usize>,
    },
    /// A finite-difference gradient of a function with several outputs.
    #[error("{op}: the function has {outputs} outputs; use numerical_jacobian")]
    NonScalarFunction {
        /// The operation, `finite_difference`.
        op: &'static str,
        /// How many output elements the function has.
        outputs: usize,
    },
    /// A tensor of more than one element read as a number.
    #[error("a Tensor with {numel} elements cannot be converted to a scalar")]
    NotAScalar {
        /// Its number of elements.
        numel: usize,
    },
    /// An axis (dimension) that the tensor does not have.
    #[error("{op}: dimension {axis} out of range for a tensor with {ndim} dimensions")]
    AxisOutOfRange {
        /// The operation, as in `sum`.
        op: &'static str,
        /// The axis as given (negative counts from the end).
        axis: isize,
        /// The tensor's number of axes.
        ndim: usize,
    },
    /// Axes given to `permute` that are not a permutation of the tensor's.
    #[error(
        "permute: {axes:?} is not a permutation of the {} dimensions of shape {shape:?}",
        shape.len()
    )]
    NotAPermutation {
        /// The axes given.
        axes: Vec<usize>,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// An index past the end of an axis.
    #[error("index {index} is out of bounds for dimension {axis} with size {size}")]
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The axis it indexes.
        axis: usize,
        /// The axis's length.
        size: usize,
    },
    /// More indices than the tensor has axes.
    #[error("too many indices ({count}) for a tensor of dimension {ndim}")]
    TooManyIndices {
        /// How many indices were given.
        count: usize,
        /// The tensor's number of axes.
        ndim: usize,
    },
    /// A range `start..end` that runs past the end of an axis.
    #[error("{op}: {start}..{end} exceeds dimension {axis} of size {size}")]
    RangeOutOfRange {
        /// The operation, as in `narrow`.
        op: &'static str,
        /// The first index of the range.
        start: usize,
        /// One past its last index (saturated at `usize::MAX`).
        end: usize,
        /// The axis.
        axis: usize,
        /// The axis's length.
        size: usize,
    },
    /// A reduction without an identity over a tensor with no elements.
    #[error("{op}: the tensor is empty")]
    EmptyTensor {
        /// The reduction, as in `amax`.
        op: &'static str,
    },
    /// A loss or metric of a batch with no samples.
    #[error("{op}: the batch is empty")]
    EmptyBatch {
        /// The loss or metric.
        op: &'static str,
    },
    /// An operation on a list of tensors given none.
    #[error("{op}: expected a non-empty list of tensors")]
    EmptyList {
        /// The operation, as in `cat`.
        op: &'static str,
    },
    /// A class label that is not below the number of classes.
    #[error("{op}: label {label} of sample {sample} is not below the number of classes {classes}")]
    ClassOutOfRange {
        /// The operation, as in `one_hot` or `cross_entropy`.
        op: &'static str,
        /// The label.
        label: usize,
        /// Its position in the list of labels.
        sample: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A range for `arange` that is empty of meaning: a zero or non-finite
    /// step, or a non-finite end.
    #[error("arange: invalid range {start}..{end} step {step}")]
    InvalidRange {
        /// The first value.
        start: f64,
        /// The bound.
        end: f64,
        /// The step.
        step: f64,
    },
    /// A list of the wrong length (inputs, outputs, gradient slots, ...).
    #[error("{op}: {what}: expected {expected}, got {got}")]
    LengthMismatch {
        /// The operation, as in `grad` or `compiled`.
        op: &'static str,
        /// What the list holds, as in `inputs`.
        what: &'static str,
        /// The length wanted.
        expected: usize,
        /// The length given.
        got: usize,
    },

    // ----- the autograd graph --------------------------------------------------
    /// A backward pass through a graph whose saved values were already freed.
    #[error(
        "Trying to backward through the graph a second time (or directly access saved \
         tensors after they have already been freed). Saved intermediate values of the graph \
         are freed when you call backward() or autograd::grad(). Specify retain_graph=true \
         if you need to backward through the graph a second time or if you need to access \
         saved tensors after calling backward."
    )]
    FreedGraph,
    /// `backward()` without an output gradient on an output of more than one element.
    #[error("grad can be implicitly created only for scalar outputs")]
    ImplicitGradOfNonScalar {
        /// The output's shape.
        shape: Vec<usize>,
    },
    /// A backward pass from an output that was not computed from anything
    /// that requires gradients.
    #[error("element {index} of tensors does not require grad and does not have a grad_fn")]
    NoGradFn {
        /// The output's position in the list of outputs.
        index: usize,
    },
    /// A gradient asked for with respect to a tensor that does not require
    /// gradients.
    #[error("{op}: input {index} does not require grad")]
    InputDoesNotRequireGrad {
        /// The function, as in `grad`.
        op: &'static str,
        /// The input's position in the list of inputs.
        index: usize,
    },
    /// A backward pass that would store a gradient on a parameter's value
    /// that was replaced after the graph was built from it
    /// ([`Parameter::set`](crate::nn::Parameter::set) or an optimiser step
    /// between forward and backward): PyTorch's "modified by an inplace
    /// operation". The gradient would otherwise be lost silently.
    #[error(
        "one of the variables needed for gradient computation has been modified by an \
         inplace operation: a Parameter of shape {shape:?} was replaced (Parameter::set or \
         optimizer.step()) after the graph was built from it; build the graph again from \
         Parameter::value() (call step() after backward())"
    )]
    ModifiedParameter {
        /// The parameter's shape.
        shape: Vec<usize>,
    },
    /// `requires_grad_(false)` on a tensor that is not a leaf.
    #[error("you can only change requires_grad flags of leaf variables")]
    NotALeaf,

    // ----- compiled traces -----------------------------------------------------
    /// A trace started while another is active on the same thread.
    #[error("compiled: a trace is already active on this thread (traces do not nest)")]
    NestedTrace,
    /// A traced function that returned a value of another trace.
    #[error("compiled: the traced function returned a value of another trace")]
    ForeignTraceValue,

    // ----- hyperparameters -----------------------------------------------------
    /// An optimiser hyperparameter that is negative or not finite.
    #[error("Invalid {name} value: {value}")]
    InvalidHyperparameter {
        /// Its name, as in `learning rate`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// An Adam β outside [0, 1).
    #[error("Invalid beta parameter at index {index}: {value}")]
    InvalidBeta {
        /// 0 for β₁, 1 for β₂.
        index: usize,
        /// The value given.
        value: f64,
    },
    /// Nesterov momentum without a momentum, or with dampening.
    #[error("Nesterov momentum requires a momentum and zero dampening")]
    NesterovMomentum,
    /// A parameter listed twice for one optimiser (it would be updated twice
    /// per step).
    #[error("optimizer: parameter {index} appears more than once in the list")]
    DuplicateParameter {
        /// The position of its second appearance.
        index: usize,
    },
    /// A finite-difference step that is not a positive finite number.
    #[error("finite-difference step {value} is not positive")]
    InvalidStep {
        /// The step given.
        value: f64,
    },
    /// A noise level for `two_moons` that is negative or not finite.
    #[error("two_moons: the noise level {value} is not a finite non-negative number")]
    InvalidNoise {
        /// The level given.
        value: f64,
    },
}

impl Error {
    /// Where in an expression the error is, for the errors that know it.
    pub fn span(&self) -> Option<Span> {
        match self {
            Error::Parse { span, .. } => Some(*span),
            Error::UnboundVariable { span, .. } => *span,
            _ => None,
        }
    }

    /// The 1-based column of the error in an expression (the start of its
    /// [`span`](Error::span)), for the errors that know it.
    pub fn column(&self) -> Option<usize> {
        self.span().map(|s| s.start)
    }
}

/// What was wrong with an expression (see [`Error::Parse`]). The messages
/// are those of the command line, which adds the column.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The text is empty or blank.
    Empty,
    /// A character that the grammar does not use, or that may not stand in a
    /// name (names are ASCII letters, digits and `_`).
    UnexpectedChar {
        /// The character.
        found: char,
    },
    /// A number literal that does not read as a number.
    MalformedNumber {
        /// The literal as written.
        text: String,
    },
    /// An operand right after another (`2x`, `x y`, `x(1)`).
    MissingOperator {
        /// The second operand's first token.
        before: Token,
    },
    /// A token where an operand should start (`x + * y`, `(,`, `f()`).
    UnexpectedToken {
        /// The token.
        found: Token,
    },
    /// The text ends where an operand should start (`x +`).
    UnexpectedEnd,
    /// A `)` or `,` with no `(` open before it.
    Unmatched {
        /// The token.
        found: Token,
    },
    /// A `,` inside parentheses that are not a function call.
    CommaOutsideCall,
    /// A `(` that is never closed.
    Unclosed,
    /// A call of a name that is not a function.
    UnknownFunction {
        /// The name, as written.
        name: String,
    },
    /// A function name used without `(` and arguments.
    MissingArguments {
        /// The function's name, as written.
        name: String,
    },
    /// A function called with a number of arguments it does not take.
    Arity {
        /// The function's name, as written.
        name: String,
        /// The fewest arguments it takes (`u8` keeps [`Error`] as small
        /// as a shape mismatch: hot paths return `Result<Tensor>`).
        min: u8,
        /// The most arguments it takes.
        max: u8,
        /// How many it was given.
        got: usize,
    },
    /// Parentheses, calls, unary minus and chains of `^` nested deeper than
    /// the limit.
    NestingTooDeep {
        /// The deepest nesting accepted
        /// ([`MAX_NESTING`](crate::symbolic::MAX_NESTING)).
        limit: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::Empty => f.write_str("empty expression"),
            ParseErrorKind::UnexpectedChar { found } => write!(f, "unexpected character '{found}'"),
            ParseErrorKind::MalformedNumber { text } => write!(f, "malformed number '{text}'"),
            ParseErrorKind::MissingOperator { before } => write!(
                f,
                "missing operator before {before} (implicit multiplication is not allowed)"
            ),
            ParseErrorKind::UnexpectedToken { found } => write!(f, "unexpected {found}"),
            ParseErrorKind::UnexpectedEnd => f.write_str("unexpected end of input"),
            ParseErrorKind::Unmatched { found } => write!(f, "unmatched {found}"),
            ParseErrorKind::CommaOutsideCall => {
                f.write_str("unexpected ',' outside a function call")
            }
            ParseErrorKind::Unclosed => f.write_str("unclosed '('"),
            ParseErrorKind::UnknownFunction { name } => write!(f, "unknown function '{name}'"),
            ParseErrorKind::MissingArguments { name } => {
                write!(f, "function '{name}' needs '(' and arguments")
            }
            ParseErrorKind::Arity {
                name,
                min,
                max,
                got,
            } => {
                let plural = if *max == 1 { "argument" } else { "arguments" };
                if min == max {
                    write!(f, "'{name}' takes {max} {plural}, got {got}")
                } else {
                    write!(f, "'{name}' takes {min} or {max} {plural}, got {got}")
                }
            }
            ParseErrorKind::NestingTooDeep { limit } => write!(f, "nesting deeper than {limit}"),
        }
    }
}

/// A token of an expression, as an error names it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Token {
    /// A number literal.
    Number {
        /// The literal as written.
        text: String,
    },
    /// A name (a variable, constant or function).
    Name {
        /// The name as written.
        text: String,
    },
    /// An operator: `+`, `-`, `*`, `/` or `^` (`**` is shown as `^`).
    Operator {
        /// The operator's character.
        op: char,
    },
    /// `(`.
    LeftParen,
    /// `)`.
    RightParen,
    /// `,`.
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Number { text } | Token::Name { text } => write!(f, "'{text}'"),
            Token::Operator { op } => write!(f, "'{op}'"),
            Token::LeftParen => f.write_str("'('"),
            Token::RightParen => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
        }
    }
}

/// `Result` with chainrule's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_no_larger_than_a_shape_mismatch() {
        // Every fallible tensor operation returns `Result<Tensor>`: typed
        // errors must not make it larger than it was with string payloads.
        let words = 8 * std::mem::size_of::<usize>();
        assert!(std::mem::size_of::<Error>() <= words);
        assert!(std::mem::size_of::<Result<crate::Tensor>>() <= words);
    }
}
