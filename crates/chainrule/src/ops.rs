//! The vocabulary of scalar operations, declared once.
//!
//! `for_each_unary_op!` and `for_each_binary_op!` below are the op table:
//! one row per primitive, giving its enum variant, its [`Real`] method, its
//! name in the expression grammar, its PyTorch `grad_fn` name, its LaTeX
//! name, its parity and an exact value where simplification folds it, whether
//! it is smooth, the domain where the property tests sample it, and its f64
//! kernel. Everything else about an op is derived from its row: the
//! [`UnaryOp`]/[`BinaryOp`] enums and their methods here, the
//! [`Real`](crate::Real) methods, the monomorphised tensor loops
//! (`tensor/kernels.rs`), Taylor mode (its generic recurrence integrates the
//! derivative from [`rules`](crate::rules)), and the tests, which walk
//! [`UnaryOp::ALL`] and [`BinaryOp::ALL`].
//!
//! Adding an operation means one row here and one derivative line in
//! [`rules`](crate::rules) (plus a kernel function where the op is not a plain
//! f64 method call); the exhaustive `match` in `rules.rs` refuses to compile
//! until the rule is there. See docs/DESIGN-notes.md.
//!
//! [`Real`]: crate::Real

/// The table of unary operations. It calls `$callback! { [args] rows }`,
/// so that each module derives what it needs from the rows (a macro cannot
/// be read any other way); the enum and its methods come from
/// `define_unary_op!` below.
///
/// A row is `kind Variant { method, names, backward, latex, parity, exact,
/// smooth, domain, kernel }`:
///
/// - `kind`: `fn` for a function of the grammar (`sin(x)`), `op` for an
///   operator without a name of its own (its name is only printed);
/// - `Variant`, with `(n: i32 = [...])` for a parameter and the values
///   [`UnaryOp::ALL`] lists it with;
/// - `method`: the [`Real`](crate::Real) method that applies it, or `_`;
/// - `names`: the grammar name, then `|`-separated aliases;
/// - `backward`: PyTorch's `grad_fn` name; `latex`: the LaTeX name;
/// - `parity`: `Odd`, `Even` or `Neither` ([`Parity`]);
/// - `exact`: `[x => p]` or `[x => p/q]`, an integer point where the value is
///   that exact rational (symbolic simplification folds it), or `[]`;
/// - `smooth` or `kink`: whether the derivative is smooth on the domain
///   (`kink`: gradgradcheck skips it);
/// - `domain`: where tests sample it ([`Domain`]);
/// - `kernel`: `|x| f64 expression`, always inlined into the tensor loops.
macro_rules! for_each_unary_op {
    ($($callback:ident)::+ $(, $($args:tt)*)?) => {
        $($callback)::+! { [$($($args)*)?]
        // kind name         method    names             backward              latex                        parity    exact      smooth  domain                     kernel
        /// −x
        op   Neg           { _,        "neg",            "NegBackward0",       "-",                         Odd,      [0 => 0],  smooth, Domain::WHOLE,             |x| -x }
        /// eˣ
        fn   Exp           { exp,      "exp",            "ExpBackward0",       r"\exp",                     Neither,  [0 => 1],  smooth, Domain::WHOLE,             |x| x.exp() }
        /// Natural logarithm (`log` and `ln` in the grammar).
        fn   Ln            { ln,       "log" | "ln",     "LogBackward0",       r"\log",                     Neither,  [1 => 0],  smooth, Domain::new(0.3, 3.0),     |x| x.ln() }
        /// Base-2 logarithm.
        fn   Log2          { log2,     "log2",           "Log2Backward0",      r"\log_{2}",                 Neither,  [1 => 0],  smooth, Domain::new(0.3, 3.0),     |x| x.log2() }
        /// Base-10 logarithm.
        fn   Log10         { log10,    "log10",          "Log10Backward0",     r"\log_{10}",                Neither,  [1 => 0],  smooth, Domain::new(0.3, 3.0),     |x| x.log10() }
        /// √x
        fn   Sqrt          { sqrt,     "sqrt",           "SqrtBackward0",      r"\sqrt",                    Neither,  [0 => 0],  smooth, Domain::new(0.3, 3.0),     |x| x.sqrt() }
        /// ∛x (defined for negative x too).
        fn   Cbrt          { cbrt,     "cbrt",           "CbrtBackward0",      r"\operatorname{cbrt}",      Odd,      [0 => 0],  smooth, Domain::WHOLE.gap(0.3),    |x| x.cbrt() }
        /// sin x
        fn   Sin           { sin,      "sin",            "SinBackward0",       r"\sin",                     Odd,      [0 => 0],  smooth, Domain::WHOLE,             |x| x.sin() }
        /// cos x
        fn   Cos           { cos,      "cos",            "CosBackward0",       r"\cos",                     Even,     [0 => 1],  smooth, Domain::WHOLE,             |x| x.cos() }
        /// tan x
        fn   Tan           { tan,      "tan",            "TanBackward0",       r"\tan",                     Odd,      [0 => 0],  smooth, Domain::new(-1.2, 1.2),    |x| x.tan() }
        /// arcsin x
        fn   Asin          { asin,     "asin",           "AsinBackward0",      r"\operatorname{asin}",      Odd,      [0 => 0],  smooth, Domain::new(-0.8, 0.8),    |x| x.asin() }
        /// arccos x
        fn   Acos          { acos,     "acos",           "AcosBackward0",      r"\operatorname{acos}",      Neither,  [1 => 0],  smooth, Domain::new(-0.8, 0.8),    |x| x.acos() }
        /// arctan x
        fn   Atan          { atan,     "atan",           "AtanBackward0",      r"\operatorname{atan}",      Odd,      [0 => 0],  smooth, Domain::WHOLE,             |x| x.atan() }
        /// sinh x
        fn   Sinh          { sinh,     "sinh",           "SinhBackward0",      r"\sinh",                    Odd,      [0 => 0],  smooth, Domain::WHOLE,             |x| x.sinh() }
        /// cosh x
        fn   Cosh          { cosh,     "cosh",           "CoshBackward0",      r"\cosh",                    Even,     [0 => 1],  smooth, Domain::WHOLE,             |x| x.cosh() }
        /// tanh x
        fn   Tanh          { tanh,     "tanh",           "TanhBackward0",      r"\tanh",                    Odd,      [0 => 0],  smooth, Domain::WHOLE,             |x| x.tanh() }
        /// arsinh x
        fn   Asinh         { asinh,    "asinh",          "AsinhBackward0",     r"\operatorname{asinh}",     Odd,      [0 => 0],  smooth, Domain::WHOLE,             |x| asinh(x) }
        /// arcosh x
        fn   Acosh         { acosh,    "acosh",          "AcoshBackward0",     r"\operatorname{acosh}",     Neither,  [1 => 0],  smooth, Domain::new(1.3, 3.0),     |x| acosh(x) }
        /// artanh x
        fn   Atanh         { atanh,    "atanh",          "AtanhBackward0",     r"\operatorname{atanh}",     Odd,      [0 => 0],  smooth, Domain::new(-0.8, 0.8),    |x| x.atanh() }
        /// The logistic function 1 / (1 + e⁻ˣ).
        fn   Sigmoid       { sigmoid,  "sigmoid" | "logistic" | "expit", "SigmoidBackward0",   r"\sigma",                   Neither,  [0 => 1/2], smooth, Domain::WHOLE,            |x| sigmoid(x) }
        /// ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|).
        fn   Softplus      { softplus, "softplus",       "SoftplusBackward0",  r"\operatorname{softplus}",  Neither,  [],        smooth, Domain::WHOLE,             |x| softplus(x) }
        /// max(x, 0); its derivative at 0 is 0, as in PyTorch.
        fn   Relu          { relu,     "relu",           "ReluBackward0",      r"\operatorname{relu}",      Neither,  [0 => 0],  kink,   Domain::WHOLE.gap(0.3),    |x| relu(x) }
        /// |x|; its derivative at 0 is 0, as in PyTorch.
        fn   Abs           { abs,      "abs",            "AbsBackward0",       r"\operatorname{abs}",       Even,     [0 => 0],  kink,   Domain::WHOLE.gap(0.3),    |x| x.abs() }
        /// The error function.
        fn   Erf           { erf,      "erf",            "ErfBackward0",       r"\operatorname{erf}",       Odd,      [0 => 0],  smooth, Domain::WHOLE,             |x| libm::erf(x) }
        /// −1, 0 or 1 (0 at 0, NaN at NaN); derivative 0.
        fn   Sign          { sign,     "sign",           "SignBackward0",      r"\operatorname{sign}",      Odd,      [0 => 0],  kink,   Domain::WHOLE.gap(0.3),    |x| sign(x) }
        /// The Heaviside step: 1 for x > 0, else 0 (NaN at NaN); derivative 0.
        /// It is the derivative of `relu` and of `max`/`min`.
        fn   Step          { step,     "step",           "HeavisideBackward0", r"\theta",                   Neither,  [0 => 0],  kink,   Domain::WHOLE.gap(0.3),    |x| step(x) }
        /// xⁿ for a fixed integer n.
        op   Powi(n: i32 = [-3, -2, -1, 0, 1, 2, 3, 5])
                           { powi,     "powi",           "PowBackward0",       r"\operatorname{powi}",
                             if n % 2 == 0 { Even } else { Odd },     [1 => 1],  smooth,
                             if n < 0 { Domain::WHOLE.gap(0.3) } else { Domain::WHOLE },                                                |x| x.powi(n) }
        /// ln(1 + x), exact near 0 (log1p(1e-17) = 1e-17, where ln(1 + x) gives 0).
        fn   Log1p         { log1p,    "log1p",          "Log1PBackward0",     r"\operatorname{log1p}",    Neither,  [0 => 0],  smooth, Domain::new(-0.7, 3.0),    |x| x.ln_1p() }
        /// eˣ − 1, exact near 0 (expm1(1e-17) = 1e-17, where eˣ − 1 gives 0).
        fn   Expm1         { expm1,    "expm1",          "Expm1Backward0",     r"\operatorname{expm1}",    Neither,  [0 => 0],  smooth, Domain::WHOLE,             |x| x.exp_m1() }
        /// The complementary error function 1 − erf(x), exact in the right
        /// tail (erfc(10) = 2.088e-45, where 1 − erf gives 0).
        fn   Erfc          { erfc,     "erfc",           "ErfcBackward0",      r"\operatorname{erfc}",     Neither,  [0 => 1],  smooth, Domain::WHOLE,             |x| libm::erfc(x) }
        /// sin(x)/x, 1 at 0 (unnormalised, as SymPy's; NumPy's is sin(πx)/(πx)).
        /// Its derivative is −j₁(x) (`spherical_jn(1, x)`), 0 at 0: the
        /// quotient (cos x − sinc x)/x would be 0/0 there.
        fn   Sinc          { sinc,     "sinc",           "SincBackward0",      r"\operatorname{sinc}",     Even,     [0 => 1],  smooth, Domain::WHOLE.gap(0.3),    |x| sinc(x) }
        /// The spherical Bessel function jₙ(x) of the first kind (SciPy's
        /// `spherical_jn(n, x)`; j₀ = sinc): entire, so the derivatives of
        /// sinc written with it (sinc′ = −j₁, jₙ′ = (n·jₙ₋₁ − (n+1)·jₙ₊₁)/(2n+1))
        /// have their limits at 0. The grammar writes it `spherical_jn(n, x)`.
        fn   SphJ(n: i32 = [1, 2, 3, 4])
                           { spherical_jn, "spherical_jn", "SphericalJnBackward0", "j",
                             if n % 2 == 0 { Even } else { Odd },     [0 => 0],  smooth, Domain::WHOLE,             |x| spherical_jn(n, x) }
        }
    };
}

/// The table of binary operations, read as [`for_each_unary_op!`] is. A row
/// is `kind Variant { method, names, function, backward, latex, smooth,
/// (x domain, y domain), |x, y| kernel }`, where `function` is PyTorch's
/// name of the function (`maximum`), which error messages use.
macro_rules! for_each_binary_op {
    ($($callback:ident)::+ $(, $($args:tt)*)?) => {
        $($callback)::+! { [$($($args)*)?]
        // kind name     method  names     function   backward            latex                     smooth  domains (x, y)                                       kernel
        /// x + y
        op   Add       { _,      "+",      "add",     "AddBackward0",     "+",                      smooth, (Domain::WHOLE, Domain::WHOLE),                      |x, y| x + y }
        /// x − y
        op   Sub       { _,      "-",      "sub",     "SubBackward0",     "-",                      smooth, (Domain::WHOLE, Domain::WHOLE),                      |x, y| x - y }
        /// x · y
        op   Mul       { _,      "*",      "mul",     "MulBackward0",     r"\cdot",                 smooth, (Domain::WHOLE, Domain::WHOLE),                      |x, y| x * y }
        /// x / y
        op   Div       { _,      "/",      "div",     "DivBackward0",     "/",                      smooth, (Domain::WHOLE, Domain::WHOLE.gap(0.3)),             |x, y| x / y }
        /// xʸ
        fn   Pow       { pow,    "pow",    "pow",     "PowBackward1",     "pow",                    smooth, (Domain::new(0.3, 2.0), Domain::WHOLE),              |x, y| x.powf(y) }
        /// atan2(y, x): the angle of the point (x, y); the first argument is y.
        fn   Atan2     { atan2,  "atan2",  "atan2",   "Atan2Backward0",   r"\operatorname{atan2}",  smooth, (Domain::WHOLE.gap(0.3), Domain::WHOLE.gap(0.3)),    |x, y| x.atan2(y) }
        /// The larger argument; on a tie the whole gradient goes to the first.
        fn   Max       { max,    "max",    "maximum", "MaximumBackward0", r"\max",                  kink,   (Domain::WHOLE, Domain::WHOLE),                      |x, y| maximum(x, y) }
        /// The smaller argument; on a tie the whole gradient goes to the first.
        fn   Min       { min,    "min",    "minimum", "MinimumBackward0", r"\min",                  kink,   (Domain::WHOLE, Domain::WHOLE),                      |x, y| minimum(x, y) }
        /// √(x² + y²), without overflow or underflow in the squares.
        fn   Hypot     { hypot,  "hypot",  "hypot",   "HypotBackward0",   r"\operatorname{hypot}",  smooth, (Domain::WHOLE.gap(0.3), Domain::WHOLE.gap(0.3)),    |x, y| x.hypot(y) }
        /// ln(eˣ + eʸ), without overflow (logaddexp(1000, 1000) = 1000 + ln 2).
        fn   Logaddexp { logaddexp, "logaddexp", "logaddexp", "LogaddexpBackward0", r"\operatorname{logaddexp}", smooth, (Domain::WHOLE, Domain::WHOLE),  |x, y| logaddexp(x, y) }
        /// |x| with the sign of y; its derivative is sign(x)·copysign(1, y) in x, 0 in y.
        fn   Copysign  { copysign, "copysign", "copysign", "CopysignBackward0", r"\operatorname{copysign}", kink, (Domain::WHOLE.gap(0.3), Domain::WHOLE.gap(0.3)), |x, y| x.copysign(y) }
        }
    };
}

pub(crate) use {for_each_binary_op, for_each_unary_op};

/// `[T::A, T::B(-1), T::B(2), …]`: every variant, a parameterised one once
/// per listed value (so that no length is written by hand).
macro_rules! op_list {
    ($T:ident; [$($done:tt)*]) => { [$($done)*] };
    ($T:ident; [$($done:tt)*] $V:ident [$($s:literal),*] $($rest:tt)*) => {
        op_list!($T; [$($done)* $($T::$V($s),)*] $($rest)*)
    };
    ($T:ident; [$($done:tt)*] $V:ident $($rest:tt)*) => {
        op_list!($T; [$($done)* $T::$V,] $($rest)*)
    };
}

/// `true` for a function of the grammar (`fn`), `false` for an operator.
macro_rules! is_function {
    (fn) => {
        true
    };
    (op) => {
        false
    };
}

/// The `smooth`/`kink` column as a bool.
macro_rules! is_smooth {
    (smooth) => {
        true
    };
    (kink) => {
        false
    };
}

/// The `exact` column as `Option<(x, (p, q))>`.
macro_rules! exact_point {
    () => {
        None
    };
    ($x:literal => $p:literal) => {
        Some(($x, ($p, 1)))
    };
    ($x:literal => $p:literal / $q:literal) => {
        Some(($x, ($p, $q)))
    };
}

macro_rules! define_unary_op {
    ([] $(
        $(#[$doc:meta])*
        $kind:ident $V:ident $(($p:ident: $pt:ident = [$($s:literal),*]))? {
            $method:tt, $name:literal $(| $alias:literal)*, $backward:literal, $latex:literal,
            $parity:expr, [$($exact:tt)*], $smooth:ident, $domain:expr, |$x:ident| $kernel:expr
        }
    )*) => {
        /// A primitive function of one argument (one row of the op table
        /// each, in `ops.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum UnaryOp {
            $( $(#[$doc])* $V $(($pt))?, )*
        }

        #[allow(unused_variables)] // a parameter that a column does not read
        impl UnaryOp {
            /// Every unary operation, in table order; `Powi` once for each of
            /// the exponents −3, −2, −1, 0, 1, 2, 3 and 5. Tests walk it.
            pub const ALL: [UnaryOp; op_list!(UnaryOp; [] $($V $([$($s),*])?)*).len()] =
                op_list!(UnaryOp; [] $($V $([$($s),*])?)*);

            /// The function's name in the expression grammar (`"log"` for the
            /// natural logarithm); `"neg"` and `"powi"` for the two operators
            /// without one.
            pub fn name(self) -> &'static str {
                match self {
                    $( UnaryOp::$V $(($p))? => $name, )*
                }
            }

            /// The name the expression grammar knows this function by, `None`
            /// for an operator (`Neg`, `Powi`).
            pub fn grammar_name(self) -> Option<&'static str> {
                match self {
                    $( UnaryOp::$V $(($p))? => if is_function!($kind) { Some($name) } else { None }, )*
                }
            }

            /// Other names the grammar accepts for it (`ln` for `log`).
            pub fn aliases(self) -> &'static [&'static str] {
                match self {
                    $( UnaryOp::$V $(($p))? => &[$($alias),*], )*
                }
            }

            /// The named function called `name` (or one of its aliases) in the
            /// expression grammar.
            pub fn from_name(name: &str) -> Option<UnaryOp> {
                UnaryOp::ALL.into_iter().find(|op| {
                    op.grammar_name() == Some(name) || op.aliases().contains(&name)
                })
            }

            /// The name PyTorch gives the backward node of this operation.
            pub fn backward_name(self) -> &'static str {
                match self {
                    $( UnaryOp::$V $(($p))? => $backward, )*
                }
            }

            /// The function's name in LaTeX (`\sin`, `\operatorname{asin}`).
            pub fn latex_name(self) -> &'static str {
                match self {
                    $( UnaryOp::$V $(($p))? => $latex, )*
                }
            }

            /// Whether op(−x) is −op(x), op(x), or neither.
            pub fn parity(self) -> Parity {
                use Parity::{Even, Neither, Odd};
                match self {
                    $( UnaryOp::$V $(($p))? => $parity, )*
                }
            }

            /// An integer point where the value is an exact rational:
            /// `Some((x, (p, q)))` when op(x) = p/q (sin(0) = 0, sigmoid(0) =
            /// 1/2, log(1) = 0). Symbolic simplification folds it.
            pub fn exact_point(self) -> Option<(i64, (i64, i64))> {
                match self {
                    $( UnaryOp::$V $(($p))? => exact_point!($($exact)*), )*
                }
            }

            /// Whether the derivative is defined and smooth on the whole
            /// [`domain`](UnaryOp::domain) (`false` for the kinks of relu,
            /// abs, sign and step; property tests gradgradcheck the smooth
            /// ones).
            pub fn is_smooth(self) -> bool {
                match self {
                    $( UnaryOp::$V $(($p))? => is_smooth!($smooth), )*
                }
            }

            /// Where the property tests sample this op: inside its domain,
            /// away from kinks and poles.
            pub fn domain(self) -> Domain {
                match self {
                    $( UnaryOp::$V $(($p))? => $domain, )*
                }
            }

            /// The f64 kernel: the value of the function at `x`, IEEE inf or
            /// NaN where it does not exist.
            // Always inlined: elementwise loops call it with a constant op
            // (tensor/kernels.rs) and the match must fold away.
            #[inline(always)]
            pub fn eval(self, x: f64) -> f64 {
                match self {
                    $( UnaryOp::$V $(($p))? => {
                        let $x: f64 = x;
                        $kernel
                    } )*
                }
            }
        }
    };
}

macro_rules! define_binary_op {
    ([] $(
        $(#[$doc:meta])*
        $kind:ident $V:ident {
            $method:tt, $name:literal $(| $alias:literal)*, $function:literal, $backward:literal,
            $latex:literal, $smooth:ident, $domain:expr, |$x:ident, $y:ident| $kernel:expr
        }
    )*) => {
        /// A primitive function of two arguments (one row of the op table
        /// each, in `ops.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum BinaryOp {
            $( $(#[$doc])* $V, )*
        }

        impl BinaryOp {
            /// Every binary operation, in table order (tests walk it).
            pub const ALL: [BinaryOp; op_list!(BinaryOp; [] $($V)*).len()] =
                op_list!(BinaryOp; [] $($V)*);

            /// The operator's symbol (`"+"`) or the function's name (`"pow"`).
            pub fn name(self) -> &'static str {
                match self {
                    $( BinaryOp::$V => $name, )*
                }
            }

            /// The name the expression grammar knows this function of two
            /// arguments by (`pow`, `atan2`, `max`, `min`), `None` for an
            /// operator (`+ - * /`).
            pub fn grammar_name(self) -> Option<&'static str> {
                match self {
                    $( BinaryOp::$V => if is_function!($kind) { Some($name) } else { None }, )*
                }
            }

            /// Other names the grammar accepts for it.
            pub fn aliases(self) -> &'static [&'static str] {
                match self {
                    $( BinaryOp::$V => &[$($alias),*], )*
                }
            }

            /// The function of two arguments called `name` in the grammar
            /// (`pow`, `atan2`, `max`, `min`; `log(x, base)` is not a
            /// primitive).
            pub fn from_name(name: &str) -> Option<BinaryOp> {
                BinaryOp::ALL.into_iter().find(|op| {
                    op.grammar_name() == Some(name) || op.aliases().contains(&name)
                })
            }

            /// PyTorch's name of the function (`add`, `maximum`), as error
            /// messages name it.
            pub fn function_name(self) -> &'static str {
                match self {
                    $( BinaryOp::$V => $function, )*
                }
            }

            /// The name PyTorch gives the backward node of this operation.
            pub fn backward_name(self) -> &'static str {
                match self {
                    $( BinaryOp::$V => $backward, )*
                }
            }

            /// The function's name in LaTeX (`\max`).
            pub fn latex_name(self) -> &'static str {
                match self {
                    $( BinaryOp::$V => $latex, )*
                }
            }

            /// Whether both partial derivatives are smooth on the domain
            /// (`false` for max and min, whose partials jump at ties).
            pub fn is_smooth(self) -> bool {
                match self {
                    $( BinaryOp::$V => is_smooth!($smooth), )*
                }
            }

            /// Where the property tests sample the first and the second
            /// argument: inside the domain, away from poles, branch cuts and
            /// ties.
            pub fn domain(self) -> (Domain, Domain) {
                match self {
                    $( BinaryOp::$V => $domain, )*
                }
            }

            /// The f64 kernel. `Max`/`Min` return the first argument on a tie
            /// and propagate NaN from either side, as PyTorch's `maximum`
            /// does.
            #[inline(always)]
            pub fn eval(self, x: f64, y: f64) -> f64 {
                match self {
                    $( BinaryOp::$V => {
                        let ($x, $y): (f64, f64) = (x, y);
                        $kernel
                    } )*
                }
            }
        }
    };
}

for_each_unary_op!(define_unary_op);

impl UnaryOp {
    /// The call of a named function on the argument text `a`, as the
    /// grammar reads it back: `sin(a)`, and `spherical_jn(2, a)` for the one
    /// function whose order is a parameter. (`Neg` and `Powi`, which are
    /// printed as operators, come out as `neg(a)` and `powi(a)`.)
    ///
    /// ```
    /// use chainrule::UnaryOp;
    /// assert_eq!(UnaryOp::Sin.call("x"), "sin(x)");
    /// assert_eq!(UnaryOp::SphJ(2).call("x"), "spherical_jn(2, x)");
    /// ```
    pub fn call(self, a: &str) -> String {
        match self {
            UnaryOp::SphJ(n) => format!("{}({n}, {a})", self.name()),
            _ => format!("{}({a})", self.name()),
        }
    }

    /// The function's name with its parameter for a LaTeX call (`\sin`,
    /// `j_{2}` for `SphJ(2)`).
    pub fn latex_call_name(self) -> std::borrow::Cow<'static, str> {
        match self {
            UnaryOp::SphJ(n) => format!("j_{{{n}}}").into(),
            _ => self.latex_name().into(),
        }
    }
}
for_each_binary_op!(define_binary_op);

/// Whether f(−x) = −f(x), f(−x) = f(x), or neither (simplification pulls a
/// sign out of odd and even functions, as SymPy does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parity {
    /// f(−x) = −f(x)
    Odd,
    /// f(−x) = f(x)
    Even,
    /// Neither.
    Neither,
}

/// An interval of f64 where the property tests sample an op: `lo..=hi`
/// without the points closer to 0 than `gap` (a kink or a pole at 0).
///
/// ```
/// use chainrule::{ops::Domain, UnaryOp};
/// let d = UnaryOp::Acosh.domain();
/// assert!(d.contains(d.at(0.0)) && d.contains(d.at(1.0)) && !d.contains(1.0));
/// // Relu is sampled in [−2, −0.3] ∪ [0.3, 2].
/// let r = UnaryOp::Relu.domain();
/// assert_eq!((r.at(0.0), r.at(1.0)), (-2.0, 2.0));
/// assert!(r.at(0.5).abs() >= 0.3 && !r.contains(0.1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Domain {
    /// The least value sampled.
    pub lo: f64,
    /// The greatest value sampled.
    pub hi: f64,
    /// Values closer to 0 than this are left out (0 for none).
    pub gap: f64,
}

impl Domain {
    /// [−2, 2]: the op is defined and smooth on the whole line.
    pub const WHOLE: Domain = Domain::new(-2.0, 2.0);

    /// `lo..=hi`, no gap.
    pub const fn new(lo: f64, hi: f64) -> Domain {
        Domain { lo, hi, gap: 0.0 }
    }

    /// The same interval without (−gap, gap).
    pub const fn gap(self, gap: f64) -> Domain {
        Domain { gap, ..self }
    }

    /// Whether `x` is in the domain.
    pub fn contains(self, x: f64) -> bool {
        self.lo <= x && x <= self.hi && x.abs() >= self.gap
    }

    /// The length of the gap inside `lo..=hi`.
    fn cut(self) -> (f64, f64) {
        let start = self.lo.max(-self.gap);
        (start, (self.hi.min(self.gap) - start).max(0.0))
    }

    /// The point a fraction `t` ∈ [0, 1] of the way through the domain
    /// (measured without the gap): `at(0) = lo`, `at(1) = hi`. A uniform `t`
    /// gives a uniform sample.
    pub fn at(self, t: f64) -> f64 {
        let (start, cut) = self.cut();
        let s = self.lo + t * (self.hi - self.lo - cut);
        if cut > 0.0 && s >= start {
            s + cut
        } else {
            s
        }
    }
}

/// The logistic function, without overflow for large |x|.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Above this, asinh and acosh are ln 2 + ln|x| to the last bit (the
/// dropped term is 1/(4x²) < 2⁻¹⁰⁰), where std's forms overflow (x² or
/// 2x past 1.8e308).
const LOG_FORM: f64 = 1e150;

/// arsinh x, finite for every finite x (std's is inf from 9e307).
#[inline]
pub fn asinh(x: f64) -> f64 {
    if x.abs() > LOG_FORM {
        (x.abs().ln() + std::f64::consts::LN_2).copysign(x)
    } else {
        x.asinh()
    }
}

/// arcosh x, finite for every finite x ≥ 1 (std's is inf from 9e307).
#[inline]
pub fn acosh(x: f64) -> f64 {
    if x > LOG_FORM {
        x.ln() + std::f64::consts::LN_2
    } else {
        x.acosh()
    }
}

/// ln(1 + eˣ) as max(x, 0) + ln(1 + e^−|x|): exact for large |x|, no overflow.
#[inline]
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// sin(x)/x, by its Taylor series where |x| < 1e-4 (1 at 0), 0 at ±∞.
#[inline]
pub fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-4 {
        let x2 = x * x;
        1.0 - x2 / 6.0 * (1.0 - x2 / 20.0)
    } else if x.is_infinite() {
        0.0
    } else {
        x.sin() / x
    }
}

/// The spherical Bessel function jₙ(x) = xⁿ Σₖ (−x²/2)ᵏ / (k! (2n+2k+1)!!)
/// (DLMF 10.53.1), by that series where |x| < max(2, n) (no cancellation
/// there, and exact near 0: jₙ(x) ≈ xⁿ/(2n+1)!!), else by the upward
/// recurrence jₖ₊₁ = (2k+1)/x·jₖ − jₖ₋₁ from j₀ = sin x/x (stable for
/// x > n). 0 at ±∞, NaN for n < 0 (j₀ is sinc).
pub fn spherical_jn(n: i32, x: f64) -> f64 {
    if n < 0 || x.is_nan() {
        return f64::NAN;
    }
    if x.is_infinite() {
        return 0.0;
    }
    if n == 0 {
        return sinc(x);
    }
    if x.abs() < f64::from(n).max(2.0) {
        // First term xⁿ/(2n+1)!! as a product, so that neither factor
        // overflows first.
        let mut term = 1.0;
        for i in 1..=n {
            term *= x / f64::from(2 * i + 1);
        }
        let (mut sum, h) = (term, -x * x / 2.0);
        for k in 1..200 {
            term *= h / (f64::from(k) * f64::from(2 * n + 2 * k + 1));
            sum += term;
            if term.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        sum
    } else {
        let (s, c) = x.sin_cos();
        let (mut prev, mut cur) = (s / x, s / (x * x) - c / x);
        for k in 1..n {
            let next = f64::from(2 * k + 1) / x * cur - prev;
            prev = cur;
            cur = next;
        }
        cur
    }
}

/// ln(eˣ + eʸ) as max(x, y) + ln(1 + e^−|x−y|): no overflow, exact when one
/// argument dominates; x + ln 2 on a tie (±∞ included), NaN if either is.
#[inline]
pub fn logaddexp(x: f64, y: f64) -> f64 {
    if x == y {
        x + std::f64::consts::LN_2
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.max(y) + (-(x - y).abs()).exp().ln_1p()
    }
}

/// max(x, 0), NaN at NaN.
#[inline(always)]
fn relu(x: f64) -> f64 {
    if x > 0.0 || x.is_nan() {
        x
    } else {
        0.0
    }
}

/// −1, 0 or 1; 0 at ±0 and NaN at NaN.
#[inline(always)]
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        // 0 at ±0 and NaN at NaN.
        x * 0.0
    }
}

/// 1 for x > 0, else 0; NaN at NaN.
#[inline(always)]
fn step(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x.is_nan() {
        x
    } else {
        0.0
    }
}

/// The larger of x and y, x on a tie, NaN if either is.
#[inline(always)]
fn maximum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x >= y {
        x
    } else {
        y
    }
}

/// The smaller of x and y, x on a tie, NaN if either is.
#[inline(always)]
fn minimum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x <= y {
        x
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in UnaryOp::ALL {
            match op.grammar_name() {
                // spherical_jn's order is its first argument (the parser's).
                Some(name) if matches!(op, UnaryOp::SphJ(_)) => {
                    assert_eq!(UnaryOp::from_name(name), Some(UnaryOp::SphJ(1)))
                }
                Some(name) => assert_eq!(UnaryOp::from_name(name), Some(op)),
                None => assert_eq!(UnaryOp::from_name(op.name()), None),
            }
        }
        assert_eq!(UnaryOp::from_name("ln"), Some(UnaryOp::Ln));
        assert_eq!(UnaryOp::from_name("nope"), None);
        assert_eq!(UnaryOp::from_name("neg"), None);
        assert_eq!(UnaryOp::from_name("powi"), None);
        for op in BinaryOp::ALL {
            match op.grammar_name() {
                Some(name) => assert_eq!(BinaryOp::from_name(name), Some(op)),
                None => assert_eq!(BinaryOp::from_name(op.name()), None),
            }
        }
        assert_eq!(BinaryOp::from_name("pow"), Some(BinaryOp::Pow));
        assert_eq!(BinaryOp::from_name("+"), None);
    }

    #[test]
    fn every_row_is_consistent() {
        for op in UnaryOp::ALL {
            let d = op.domain();
            assert!(d.lo < d.hi && d.gap < d.hi, "{op:?}: {d:?}");
            for i in 0..=20 {
                let x = d.at(f64::from(i) / 20.0);
                assert!(d.contains(x), "{op:?}: {x} not in {d:?}");
                let y = op.eval(x);
                assert!(y.is_finite(), "{op:?}({x}) = {y}");
                // The parity column is the function's (to rounding: std's
                // atanh is not exactly odd).
                let (minus, plus) = (op.eval(-x), op.eval(x));
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1.0);
                match op.parity() {
                    Parity::Odd => assert!(close(minus, -plus), "{op:?} odd at {x}"),
                    Parity::Even => assert!(close(minus, plus), "{op:?} even at {x}"),
                    Parity::Neither => {}
                }
            }
            if let Some((x, (p, q))) = op.exact_point() {
                let (v, exact) = (op.eval(x as f64), p as f64 / q as f64);
                assert_eq!(v, exact, "{op:?}({x})");
            }
            assert!(op.backward_name().ends_with("Backward0"), "{op:?}");
            assert!(!op.latex_name().is_empty() && !op.name().is_empty());
        }
        for op in BinaryOp::ALL {
            let (dx, dy) = op.domain();
            for t in [0.0, 0.3, 0.7, 1.0] {
                let (x, y) = (dx.at(t), dy.at(1.0 - t));
                assert!(op.eval(x, y).is_finite(), "{op:?}({x}, {y})");
            }
            assert!(op.backward_name().contains("Backward"), "{op:?}");
        }
    }

    #[test]
    fn new_kernels_are_exact_where_the_naive_formula_is_not() {
        // log1p and expm1 near 0: ln(1 + x) and eˣ − 1 give 0 here.
        assert_eq!(UnaryOp::Log1p.eval(1e-17), 1e-17);
        assert_eq!(UnaryOp::Expm1.eval(1e-17), 1e-17);
        assert_eq!(UnaryOp::Log1p.eval(-0.5), (0.5f64).ln());
        // erfc(10) = 2.088487583762545e-45 (DLMF 7.2.1; mpmath to 16 digits),
        // where 1 − erf(10) = 0.
        let e = UnaryOp::Erfc.eval(10.0);
        assert!(
            (e - 2.088_487_583_762_545e-45).abs() < 1e-15 * 2.1e-45,
            "{e}"
        );
        assert_eq!(UnaryOp::Erfc.eval(0.0), 1.0);
        assert_eq!(UnaryOp::Erfc.eval(-30.0), 2.0);
        // sinc: 1 at 0, sin(x)/x elsewhere, continuous at the switch.
        assert_eq!(UnaryOp::Sinc.eval(0.0), 1.0);
        assert_eq!(UnaryOp::Sinc.eval(f64::INFINITY), 0.0);
        for x in [0.999_999e-4, 1e-4] {
            assert!(
                (UnaryOp::Sinc.eval(x) - x.sin() / x).abs() <= 4.5e-16,
                "{x}"
            );
        }
        // hypot without overflow or underflow.
        // (3e200 and 4e200 are not exact in binary: within an ulp or two.)
        for s in [1e200, 1e-200] {
            let h = BinaryOp::Hypot.eval(3.0 * s, 4.0 * s);
            assert!((h / (5.0 * s) - 1.0).abs() <= 4.5e-16, "{h}");
        }
        // logaddexp without overflow; exact when one side dominates.
        let l = BinaryOp::Logaddexp.eval(1000.0, 1000.0);
        assert_eq!(l, 1000.0 + std::f64::consts::LN_2);
        assert_eq!(BinaryOp::Logaddexp.eval(-1000.0, 0.0), 0.0);
        assert_eq!(BinaryOp::Logaddexp.eval(f64::NEG_INFINITY, 2.0), 2.0);
        assert_eq!(
            BinaryOp::Logaddexp.eval(f64::INFINITY, f64::INFINITY),
            f64::INFINITY
        );
        assert!(BinaryOp::Logaddexp.eval(f64::NAN, 1.0).is_nan());
        assert!((BinaryOp::Logaddexp.eval(0.0, 2f64.ln()) - 3f64.ln()).abs() < 1e-15);
        assert_eq!(BinaryOp::Copysign.eval(-2.0, 3.0), 2.0);
        assert_eq!(BinaryOp::Copysign.eval(2.0, -0.5), -2.0);
        assert_eq!(UnaryOp::from_name("expit"), Some(UnaryOp::Sigmoid));
        assert_eq!(UnaryOp::from_name("logistic"), Some(UnaryOp::Sigmoid));
    }

    #[test]
    fn domains_leave_out_the_gap() {
        let d = Domain::WHOLE.gap(0.3);
        assert_eq!(d.at(0.0), -2.0);
        assert_eq!(d.at(1.0), 2.0);
        assert!((d.at(0.25) + 1.15).abs() < 1e-15);
        assert!((d.at(0.75) - 1.15).abs() < 1e-15);
        assert!(!d.contains(0.1) && d.contains(-0.3) && !d.contains(2.5));
        let d = Domain::new(0.3, 3.0);
        assert_eq!((d.at(0.0), d.at(1.0)), (0.3, 3.0));
        // A gap outside the interval cuts nothing.
        let d = Domain::new(1.0, 2.0).gap(0.5);
        assert_eq!((d.at(0.0), d.at(0.5)), (1.0, 1.5));
    }

    #[test]
    fn kernels_at_edges() {
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(softplus(800.0), 800.0);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-16);
        assert_eq!(UnaryOp::Sign.eval(0.0), 0.0);
        assert_eq!(UnaryOp::Sign.eval(-3.0), -1.0);
        assert!(UnaryOp::Sign.eval(f64::NAN).is_nan());
        assert_eq!(UnaryOp::Relu.eval(-2.0), 0.0);
        assert_eq!(UnaryOp::Step.eval(0.0), 0.0);
        assert_eq!(UnaryOp::Cbrt.eval(-8.0), -2.0);
        assert_eq!(BinaryOp::Max.eval(1.0, 1.0), 1.0);
        assert!(BinaryOp::Max.eval(f64::NAN, 1.0).is_nan());
        assert_eq!(UnaryOp::Ln.eval(0.0), f64::NEG_INFINITY);
        // asinh(1e308) = ln(2e308) = 709.889355822726 (not inf); acosh alike.
        let big = 1e308f64.ln() + 2f64.ln();
        assert_eq!(UnaryOp::Asinh.eval(1e308), big);
        assert_eq!(UnaryOp::Asinh.eval(-1e308), -big);
        assert_eq!(UnaryOp::Acosh.eval(1e308), big);
        assert!((big - 709.889_355_822_726).abs() < 1e-12);
        assert_eq!(UnaryOp::Asinh.eval(1e150), 1e150f64.asinh());
        // erf(1) from Abramowitz & Stegun table 7.1.
        assert!((UnaryOp::Erf.eval(1.0) - 0.842_700_792_949_714_9).abs() < 1e-15);
    }
}
