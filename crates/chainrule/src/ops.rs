//! The vocabulary of scalar operations: one enum variant per primitive, with
//! its name in the expression grammar, its PyTorch `grad_fn` name and its f64
//! kernel. Every engine (f64, [`Dual`](crate::forward::Dual),
//! [`Taylor`](crate::forward::Taylor), [`Expr`](crate::symbolic::Expr) and
//! [`Tensor`](crate::Tensor)) dispatches on these enums, and
//! [`rules`](crate::rules) holds their derivatives, so adding an operation
//! means one variant here, its kernel, and one derivative line.

/// A primitive function of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnaryOp {
    /// −x
    Neg,
    /// eˣ
    Exp,
    /// Natural logarithm (`log` and `ln` in the grammar).
    Ln,
    /// Base-2 logarithm.
    Log2,
    /// Base-10 logarithm.
    Log10,
    /// √x
    Sqrt,
    /// ∛x (defined for negative x too).
    Cbrt,
    /// sin x
    Sin,
    /// cos x
    Cos,
    /// tan x
    Tan,
    /// arcsin x
    Asin,
    /// arccos x
    Acos,
    /// arctan x
    Atan,
    /// sinh x
    Sinh,
    /// cosh x
    Cosh,
    /// tanh x
    Tanh,
    /// arsinh x
    Asinh,
    /// arcosh x
    Acosh,
    /// artanh x
    Atanh,
    /// The logistic function 1 / (1 + e⁻ˣ).
    Sigmoid,
    /// ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|).
    Softplus,
    /// max(x, 0); its derivative at 0 is 0, as in PyTorch.
    Relu,
    /// |x|; its derivative at 0 is 0, as in PyTorch.
    Abs,
    /// The error function.
    Erf,
    /// −1, 0 or 1 (0 at 0, NaN at NaN); derivative 0.
    Sign,
    /// The Heaviside step: 1 for x > 0, else 0 (NaN at NaN); derivative 0.
    /// It is the derivative of `relu` and of `max`/`min`.
    Step,
    /// xⁿ for a fixed integer n.
    Powi(i32),
}

/// A primitive function of two arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryOp {
    /// x + y
    Add,
    /// x − y
    Sub,
    /// x · y
    Mul,
    /// x / y
    Div,
    /// xʸ
    Pow,
    /// atan2(y, x): the angle of the point (x, y); the first argument is y.
    Atan2,
    /// The larger argument; on a tie the whole gradient goes to the first.
    Max,
    /// The smaller argument; on a tie the whole gradient goes to the first.
    Min,
}

impl UnaryOp {
    /// Every unary operation that has a name of its own (all but `Neg` and `Powi`).
    pub const NAMED: [UnaryOp; 25] = [
        UnaryOp::Exp,
        UnaryOp::Ln,
        UnaryOp::Log2,
        UnaryOp::Log10,
        UnaryOp::Sqrt,
        UnaryOp::Cbrt,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tan,
        UnaryOp::Asin,
        UnaryOp::Acos,
        UnaryOp::Atan,
        UnaryOp::Sinh,
        UnaryOp::Cosh,
        UnaryOp::Tanh,
        UnaryOp::Asinh,
        UnaryOp::Acosh,
        UnaryOp::Atanh,
        UnaryOp::Sigmoid,
        UnaryOp::Softplus,
        UnaryOp::Relu,
        UnaryOp::Abs,
        UnaryOp::Erf,
        UnaryOp::Sign,
        UnaryOp::Step,
    ];

    /// The function's name in the expression grammar (`"log"` for the natural
    /// logarithm); `"neg"` and `"powi"` for the two operators without one.
    pub fn name(self) -> &'static str {
        use UnaryOp::*;
        match self {
            Neg => "neg",
            Exp => "exp",
            Ln => "log",
            Log2 => "log2",
            Log10 => "log10",
            Sqrt => "sqrt",
            Cbrt => "cbrt",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Asin => "asin",
            Acos => "acos",
            Atan => "atan",
            Sinh => "sinh",
            Cosh => "cosh",
            Tanh => "tanh",
            Asinh => "asinh",
            Acosh => "acosh",
            Atanh => "atanh",
            Sigmoid => "sigmoid",
            Softplus => "softplus",
            Relu => "relu",
            Abs => "abs",
            Erf => "erf",
            Sign => "sign",
            Step => "step",
            Powi(_) => "powi",
        }
    }

    /// The named function called `name` in the expression grammar (`ln` is an
    /// alias of `log`).
    pub fn from_name(name: &str) -> Option<UnaryOp> {
        if name == "ln" {
            return Some(UnaryOp::Ln);
        }
        UnaryOp::NAMED.iter().copied().find(|op| op.name() == name)
    }

    /// The name PyTorch gives the backward node of this operation.
    pub fn backward_name(self) -> &'static str {
        use UnaryOp::*;
        match self {
            Neg => "NegBackward0",
            Exp => "ExpBackward0",
            Ln => "LogBackward0",
            Log2 => "Log2Backward0",
            Log10 => "Log10Backward0",
            Sqrt => "SqrtBackward0",
            Cbrt => "CbrtBackward0",
            Sin => "SinBackward0",
            Cos => "CosBackward0",
            Tan => "TanBackward0",
            Asin => "AsinBackward0",
            Acos => "AcosBackward0",
            Atan => "AtanBackward0",
            Sinh => "SinhBackward0",
            Cosh => "CoshBackward0",
            Tanh => "TanhBackward0",
            Asinh => "AsinhBackward0",
            Acosh => "AcoshBackward0",
            Atanh => "AtanhBackward0",
            Sigmoid => "SigmoidBackward0",
            Softplus => "SoftplusBackward0",
            Relu => "ReluBackward0",
            Abs => "AbsBackward0",
            Erf => "ErfBackward0",
            Sign => "SignBackward0",
            Step => "HeavisideBackward0",
            Powi(_) => "PowBackward0",
        }
    }

    /// The f64 kernel: the value of the function at `x`, IEEE inf or NaN
    /// where it does not exist.
    // Always inlined: elementwise loops call it with a constant op
    // (tensor/kernels.rs) and the match must fold away.
    #[inline(always)]
    pub fn eval(self, x: f64) -> f64 {
        use UnaryOp::*;
        match self {
            Neg => -x,
            Exp => x.exp(),
            Ln => x.ln(),
            Log2 => x.log2(),
            Log10 => x.log10(),
            Sqrt => x.sqrt(),
            Cbrt => x.cbrt(),
            Sin => x.sin(),
            Cos => x.cos(),
            Tan => x.tan(),
            Asin => x.asin(),
            Acos => x.acos(),
            Atan => x.atan(),
            Sinh => x.sinh(),
            Cosh => x.cosh(),
            Tanh => x.tanh(),
            Asinh => x.asinh(),
            Acosh => x.acosh(),
            Atanh => x.atanh(),
            Sigmoid => sigmoid(x),
            Softplus => softplus(x),
            Relu => {
                if x > 0.0 || x.is_nan() {
                    x
                } else {
                    0.0
                }
            }
            Abs => x.abs(),
            Erf => libm::erf(x),
            Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    // 0 at ±0 and NaN at NaN.
                    x * 0.0
                }
            }
            Step => {
                if x > 0.0 {
                    1.0
                } else if x.is_nan() {
                    x
                } else {
                    0.0
                }
            }
            Powi(n) => x.powi(n),
        }
    }
}

impl BinaryOp {
    /// Every binary operation (the property tests walk this table).
    pub const ALL: [BinaryOp; 8] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Atan2,
        BinaryOp::Max,
        BinaryOp::Min,
    ];

    /// The operator's symbol (`"+"`) or the function's name (`"pow"`).
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Pow => "pow",
            Atan2 => "atan2",
            Max => "max",
            Min => "min",
        }
    }

    /// The function of two arguments called `name` in the grammar
    /// (`pow`, `atan2`, `max`, `min`; `log(x, base)` is not a primitive).
    pub fn from_name(name: &str) -> Option<BinaryOp> {
        match name {
            "pow" => Some(BinaryOp::Pow),
            "atan2" => Some(BinaryOp::Atan2),
            "max" => Some(BinaryOp::Max),
            "min" => Some(BinaryOp::Min),
            _ => None,
        }
    }

    /// The name PyTorch gives the backward node of this operation.
    pub fn backward_name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "AddBackward0",
            Sub => "SubBackward0",
            Mul => "MulBackward0",
            Div => "DivBackward0",
            Pow => "PowBackward1",
            Atan2 => "Atan2Backward0",
            Max => "MaximumBackward0",
            Min => "MinimumBackward0",
        }
    }

    /// The f64 kernel. `Max`/`Min` return the first argument on a tie and
    /// propagate NaN from either side, as PyTorch's `maximum` does.
    #[inline(always)]
    pub fn eval(self, x: f64, y: f64) -> f64 {
        use BinaryOp::*;
        match self {
            Add => x + y,
            Sub => x - y,
            Mul => x * y,
            Div => x / y,
            Pow => x.powf(y),
            Atan2 => x.atan2(y),
            Max => {
                if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else if x >= y {
                    x
                } else {
                    y
                }
            }
            Min => {
                if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else if x <= y {
                    x
                } else {
                    y
                }
            }
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

/// ln(1 + eˣ) as max(x, 0) + ln(1 + e^−|x|): exact for large |x|, no overflow.
#[inline]
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in UnaryOp::NAMED {
            assert_eq!(UnaryOp::from_name(op.name()), Some(op));
        }
        assert_eq!(UnaryOp::from_name("ln"), Some(UnaryOp::Ln));
        assert_eq!(UnaryOp::from_name("nope"), None);
        for op in [BinaryOp::Pow, BinaryOp::Atan2, BinaryOp::Max, BinaryOp::Min] {
            assert_eq!(BinaryOp::from_name(op.name()), Some(op));
        }
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
        // erf(1) from Abramowitz & Stegun table 7.1.
        assert!((UnaryOp::Erf.eval(1.0) - 0.842_700_792_949_714_9).abs() < 1e-15);
    }
}
