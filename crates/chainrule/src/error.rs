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

    // ----- matrix expressions (chainrule::matrix) ------------------------------
    /// Two sizes of a matrix expression that must agree and do not.
    #[error(
        "{op}: size {} does not agree with size {} at column {}",
        sizes[0], sizes[1], span.start
    )]
    MatrixSizeMismatch {
        /// The operation, as in `*` or `+`.
        op: &'static str,
        /// The two sizes, as the `names` field shows them or described
        /// (`rows of A`); boxed to keep [`Error`] small.
        sizes: Box<[String; 2]>,
        /// Where.
        span: Span,
    },
    /// An operand of a kind the operation does not take (`tr` of a vector).
    #[error("{op} takes {expected}, not a {}, at column {}", found.name(), span.start)]
    MatrixOperand {
        /// The operation, as in `tr`.
        op: &'static str,
        /// What it takes, as in `a square matrix`.
        expected: &'static str,
        /// The kind it was given (`vector`).
        found: crate::matrix::Kind,
        /// Where the operand is.
        span: Span,
    },
    /// A name declared twice in a declaration list.
    #[error("'{name}' is declared twice at column {}", span.start)]
    MatrixDuplicateDeclaration {
        /// The name.
        name: String,
        /// Where the second declaration is.
        span: Span,
    },
    /// A derivative that would be a tensor of three or more axes.
    #[error(
        "the derivative of a {of} with respect to a {wrt} is a tensor of {axes} axes, \
         which has no matrix form"
    )]
    MatrixTooManyAxes {
        /// The kind of the expression.
        of: &'static str,
        /// The kind of the variable.
        wrt: &'static str,
        /// How many axes the derivative has.
        axes: usize,
    },
    /// A derivative of at most two axes whose index form has no product,
    /// transpose, trace or elementwise pattern to be written with.
    #[error(
        "the derivative of a {of} with respect to a {wrt} has no matrix form \
         (an index shared by three or more factors)"
    )]
    MatrixNoForm {
        /// The kind of the expression.
        of: &'static str,
        /// The kind of the variable.
        wrt: &'static str,
    },
    /// A Hessian of a non-scalar expression, or with respect to a matrix.
    #[error(
        "a Hessian needs a scalar expression and a scalar or vector variable, \
         not a {of} and a {wrt}"
    )]
    MatrixHessian {
        /// The kind of the expression.
        of: &'static str,
        /// The kind of the variable.
        wrt: &'static str,
    },
    /// Differentiation with respect to a name the expression does not have.
    #[error("'{name}' does not occur in the expression")]
    MatrixUnknownName {
        /// The name.
        name: String,
    },
    /// A value given for a name of a matrix expression that does not fit it.
    #[error("'{name}': {problem}")]
    MatrixValue {
        /// The name.
        name: String,
        /// What is wrong (boxed to keep [`Error`] small).
        problem: Box<ValueProblem>,
    },
    /// A size that no value gives (an `I` or `ones(n)` whose size is unknown).
    #[error("no value gives the size {size}")]
    MatrixUnboundSize {
        /// The size's name.
        size: String,
    },

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
            Error::MatrixSizeMismatch { span, .. }
            | Error::MatrixOperand { span, .. }
            | Error::MatrixDuplicateDeclaration { span, .. } => Some(*span),
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
    /// name (names are ASCII letters, digits and `_`). The message names an
    /// invisible character by its code point (`U+200B`) and says what to
    /// write instead of a bracket (`[`, `{`) or a prime.
    UnexpectedChar {
        /// The character.
        found: char,
    },
    /// A number literal that does not read as a number.
    MalformedNumber {
        /// The literal as written.
        text: String,
    },
    /// An operand right after another (`2x`, `x y`, `x(1)`): implicit
    /// multiplication is not part of the grammar.
    MissingOperator {
        /// The second operand's first token (boxed, as every payload here
        /// that would make [`Error`] larger than a shape mismatch).
        before: Box<Token>,
        /// What to write instead, as in `2*x`.
        write: Box<str>,
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
        /// The name, as written (boxed: [`Error`] stays as small as a
        /// shape mismatch).
        name: Box<str>,
        /// The nearest function name, or a formula to write instead.
        hint: Option<Box<Hint>>,
    },
    /// A function name used without `(` and arguments (`sin + 1`, `sin x`).
    MissingArguments {
        /// The function's name, as written.
        name: Box<str>,
        /// The operand that follows it, when one does (`x` in `sin x`).
        argument: Option<Box<str>>,
    },
    /// A name that is a function's name glued to a variable (`sinx`,
    /// `expy1`): read as `sin(x)` by people, refused by the grammar.
    GluedCall {
        /// The name as written.
        name: String,
        /// How many of its characters are the function's name.
        split: usize,
    },
    /// A negative power of a function's name (`sin^-1(x)`, `sin⁻¹(x)`):
    /// the inverse function or the reciprocal?
    InversePower {
        /// The function's name.
        name: String,
    },
    /// A power right after `√x` (`√x^2`): the root of the power or the
    /// power of the root? Also a power of a superscript power (`x²^3`).
    AmbiguousPower {
        /// What the power applies to, as written (`√x`, `x²`).
        base: Box<str>,
    },
    /// `√` or `∛` before something that is not a number, a name, a call or
    /// a parenthesis (`√-x`).
    RootNeedsParentheses {
        /// The root sign.
        sign: char,
    },
    /// An absolute-value bar `|` that is never closed.
    UnclosedBar,
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
    /// The order of `spherical_jn(n, x)` that is not a whole number from 0
    /// to [`MAX_ORDER`](crate::symbolic::MAX_ORDER) written as a literal.
    NotAnOrder {
        /// The first argument as written, when it is a number or a name.
        text: Option<Box<str>>,
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
            ParseErrorKind::UnexpectedChar { found } => unexpected_char(f, *found),
            ParseErrorKind::MalformedNumber { text } => write!(f, "malformed number '{text}'"),
            ParseErrorKind::MissingOperator { before, write } => write!(
                f,
                "missing operator before {before} (implicit multiplication is not allowed): \
                 write {write}"
            ),
            ParseErrorKind::UnexpectedToken { found } => write!(f, "unexpected {found}"),
            ParseErrorKind::UnexpectedEnd => f.write_str("unexpected end of input"),
            ParseErrorKind::Unmatched { found } => write!(f, "unmatched {found}"),
            ParseErrorKind::CommaOutsideCall => {
                f.write_str("unexpected ',' outside a function call")
            }
            ParseErrorKind::Unclosed => f.write_str("unclosed '('"),
            ParseErrorKind::UnknownFunction { name, hint } => {
                write!(f, "unknown function '{name}'")?;
                match hint.as_deref() {
                    Some(Hint::Name(n)) => write!(f, "; did you mean '{n}'?"),
                    Some(Hint::Write(w)) => write!(f, "; write {w}"),
                    None => f.write_str(" (chainrule help expressions lists the functions)"),
                }
            }
            ParseErrorKind::MissingArguments { name, argument } => {
                write!(f, "function '{name}' needs '(' and arguments")?;
                match argument {
                    Some(a) => write!(f, ": write {name}({a})"),
                    None => Ok(()),
                }
            }
            ParseErrorKind::GluedCall { name, split } => {
                let (fun, arg) = name.split_at(*split);
                write!(
                    f,
                    "unknown name '{name}': did you mean {fun}({arg})? \
                     (a function's argument goes in parentheses)"
                )
            }
            ParseErrorKind::InversePower { name } => {
                write!(f, "'{name}^-1' is ambiguous: write ")?;
                let inverse = format!("a{name}");
                if crate::symbolic::is_function(&inverse) {
                    write!(f, "{inverse}(x) for the inverse function or ")?;
                }
                write!(f, "1/{name}(x) for the reciprocal")
            }
            ParseErrorKind::AmbiguousPower { base } => write!(
                f,
                "a power of {base} is ambiguous: put parentheses around what is raised, \
                 as in ({base})^2"
            ),
            ParseErrorKind::RootNeedsParentheses { sign } => {
                write!(f, "'{sign}' needs parentheses here: write {sign}(...)")
            }
            ParseErrorKind::UnclosedBar => f.write_str("unclosed '|' (write |x| for abs(x))"),
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
            ParseErrorKind::NotAnOrder { text } => {
                write!(
                    f,
                    "spherical_jn's first argument is its order, a whole number from 0 to {} \
                     written as a number",
                    crate::symbolic::MAX_ORDER
                )?;
                if let Some(text) = text {
                    write!(f, ", not '{text}'")?;
                }
                f.write_str(": write spherical_jn(2, x)")
            }
            ParseErrorKind::NestingTooDeep { limit } => write!(f, "nesting deeper than {limit}"),
        }
    }
}

/// What is wrong with a value given for a name of a matrix expression
/// (see [`Error::MatrixValue`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ValueProblem {
    /// No value was given for the name.
    Missing,
    /// A value was given for a name the expression does not have.
    Extra,
    /// A value of another kind (a vector for a matrix).
    WrongKind {
        /// The kind declared or inferred.
        expected: &'static str,
        /// The shape of the value given.
        got: Vec<usize>,
    },
    /// A value whose size disagrees with another value's for the same size.
    SizeDisagrees {
        /// The size's name.
        size: String,
        /// Its value from an earlier name.
        expected: usize,
        /// Its value here.
        got: usize,
    },
    /// A matrix declared symmetric whose value is not.
    Asymmetric,
    /// A value that is not a number, or a ragged list.
    Malformed,
}

impl fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueProblem::Missing => f.write_str("no value given"),
            ValueProblem::Extra => f.write_str("not a name of the expression"),
            ValueProblem::WrongKind { expected, got } => {
                write!(f, "expected a {expected}, got a value of shape {got:?}")
            }
            ValueProblem::SizeDisagrees {
                size,
                expected,
                got,
            } => write!(f, "size {size} is {got} here but {expected} elsewhere"),
            ValueProblem::Asymmetric => f.write_str("declared symmetric, but the value is not"),
            ValueProblem::Malformed => {
                f.write_str("not a number, or a list of numbers, or a list of equal-length lists")
            }
        }
    }
}

/// What to write instead of an unknown function (see
/// [`ParseErrorKind::UnknownFunction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// The nearest name of a function of the grammar (`sin` for `sinn`).
    Name(&'static str),
    /// A formula in the grammar that computes the function (`1/cos(x)` for `sec(x)`).
    Write(&'static str),
}

/// The message of [`ParseErrorKind::UnexpectedChar`]: invisible characters
/// by code point, and what to write instead of the characters people try.
fn unexpected_char(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    let invisible = match c {
        '\u{200B}' => Some("zero width space"),
        '\u{200C}' => Some("zero width non-joiner"),
        '\u{200D}' => Some("zero width joiner"),
        '\u{2060}' => Some("word joiner"),
        '\u{FEFF}' => Some("byte order mark"),
        '\u{00AD}' => Some("soft hyphen"),
        c if c.is_control() => Some("control character"),
        _ => None,
    };
    if let Some(what) = invisible {
        return write!(
            f,
            "unexpected invisible character U+{:04X} ({what}); delete it",
            c as u32
        );
    }
    write!(f, "unexpected character '{c}'")?;
    if !c.is_ascii() {
        write!(f, " (U+{:04X})", c as u32)?;
    }
    match c {
        '[' | ']' | '{' | '}' => f.write_str("; group with ( and )"),
        '\'' | '′' => f.write_str("; for a derivative use chainrule diff"),
        '=' => f.write_str("; give values with --at x=1"),
        '!' => f.write_str("; there is no factorial"),
        _ => Ok(()),
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
    /// `|`, an absolute-value bar.
    Bar,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Number { text } | Token::Name { text } => write!(f, "'{text}'"),
            Token::Operator { op } => write!(f, "'{op}'"),
            Token::LeftParen => f.write_str("'('"),
            Token::RightParen => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
            Token::Bar => f.write_str("'|'"),
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
