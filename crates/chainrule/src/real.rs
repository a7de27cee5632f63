//! `Real`: the vocabulary of scalar math shared by every engine.
//!
//! A function written once as `fn f<T: Real>(x: T) -> T` runs as plain f64,
//! as dual numbers (forward mode), as truncated Taylor series, as a symbolic
//! formula, or elementwise on tensors with a tape. An engine implements only
//! [`Real::from_f64`], [`Real::unary`] and [`Real::binary`] (and the
//! operators); every named function is a provided method that dispatches
//! through the [`UnaryOp`]/[`BinaryOp`] enums.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::ops::{BinaryOp, UnaryOp};

/// Scalar math that every engine understands.
///
/// ```
/// use chainrule::Real;
/// fn softsign_ish<T: Real>(x: T) -> T {
///     x.clone() / (T::from_f64(1.0) + x.abs())
/// }
/// assert_eq!(softsign_ish(3.0), 0.75);
/// ```
pub trait Real:
    Clone
    + Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// A constant.
    fn from_f64(x: f64) -> Self;

    /// Applies a primitive of one argument.
    fn unary(&self, op: UnaryOp) -> Self;

    /// Applies a primitive of two arguments, `self` first.
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self;

    /// eˣ
    fn exp(&self) -> Self {
        self.unary(UnaryOp::Exp)
    }
    /// Natural logarithm.
    fn ln(&self) -> Self {
        self.unary(UnaryOp::Ln)
    }
    /// Base-2 logarithm.
    fn log2(&self) -> Self {
        self.unary(UnaryOp::Log2)
    }
    /// Base-10 logarithm.
    fn log10(&self) -> Self {
        self.unary(UnaryOp::Log10)
    }
    /// √x
    fn sqrt(&self) -> Self {
        self.unary(UnaryOp::Sqrt)
    }
    /// ∛x
    fn cbrt(&self) -> Self {
        self.unary(UnaryOp::Cbrt)
    }
    /// sin x
    fn sin(&self) -> Self {
        self.unary(UnaryOp::Sin)
    }
    /// cos x
    fn cos(&self) -> Self {
        self.unary(UnaryOp::Cos)
    }
    /// tan x
    fn tan(&self) -> Self {
        self.unary(UnaryOp::Tan)
    }
    /// arcsin x
    fn asin(&self) -> Self {
        self.unary(UnaryOp::Asin)
    }
    /// arccos x
    fn acos(&self) -> Self {
        self.unary(UnaryOp::Acos)
    }
    /// arctan x
    fn atan(&self) -> Self {
        self.unary(UnaryOp::Atan)
    }
    /// sinh x
    fn sinh(&self) -> Self {
        self.unary(UnaryOp::Sinh)
    }
    /// cosh x
    fn cosh(&self) -> Self {
        self.unary(UnaryOp::Cosh)
    }
    /// tanh x
    fn tanh(&self) -> Self {
        self.unary(UnaryOp::Tanh)
    }
    /// arsinh x
    fn asinh(&self) -> Self {
        self.unary(UnaryOp::Asinh)
    }
    /// arcosh x
    fn acosh(&self) -> Self {
        self.unary(UnaryOp::Acosh)
    }
    /// artanh x
    fn atanh(&self) -> Self {
        self.unary(UnaryOp::Atanh)
    }
    /// 1 / (1 + e⁻ˣ)
    fn sigmoid(&self) -> Self {
        self.unary(UnaryOp::Sigmoid)
    }
    /// ln(1 + eˣ), stable.
    fn softplus(&self) -> Self {
        self.unary(UnaryOp::Softplus)
    }
    /// max(x, 0)
    fn relu(&self) -> Self {
        self.unary(UnaryOp::Relu)
    }
    /// |x|
    fn abs(&self) -> Self {
        self.unary(UnaryOp::Abs)
    }
    /// The error function.
    fn erf(&self) -> Self {
        self.unary(UnaryOp::Erf)
    }
    /// −1, 0 or 1.
    fn sign(&self) -> Self {
        self.unary(UnaryOp::Sign)
    }
    /// 1 for x > 0, else 0.
    fn step(&self) -> Self {
        self.unary(UnaryOp::Step)
    }
    /// xⁿ for an integer n.
    fn powi(&self, n: i32) -> Self {
        self.unary(UnaryOp::Powi(n))
    }
    /// x² (as `powi(2)`).
    fn square(&self) -> Self {
        self.powi(2)
    }
    /// 1 / x (as `powi(-1)`).
    fn recip(&self) -> Self {
        self.powi(-1)
    }
    /// xᵖ for a constant p.
    fn powf(&self, p: f64) -> Self {
        self.binary(BinaryOp::Pow, &Self::from_f64(p))
    }
    /// xʸ
    fn pow(&self, y: &Self) -> Self {
        self.binary(BinaryOp::Pow, y)
    }
    /// atan2(self, x): the angle of the point (x, self).
    fn atan2(&self, x: &Self) -> Self {
        self.binary(BinaryOp::Atan2, x)
    }
    /// The larger of the two; ties go to `self`.
    fn max(&self, other: &Self) -> Self {
        self.binary(BinaryOp::Max, other)
    }
    /// The smaller of the two; ties go to `self`.
    fn min(&self, other: &Self) -> Self {
        self.binary(BinaryOp::Min, other)
    }
}

impl Real for f64 {
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn unary(&self, op: UnaryOp) -> Self {
        op.eval(*self)
    }
    #[inline]
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        op.eval(*self, *rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic<T: Real>(x: T) -> T {
        x.sin() * x.exp() + x.square() / 2.0
    }

    #[test]
    fn f64_runs_generic_code() {
        let x = 0.3_f64;
        let expected = x.sin() * x.exp() + x * x / 2.0;
        assert!((generic(x) - expected).abs() < 1e-15);
        assert_eq!(Real::max(&2.0, &3.0), 3.0);
        assert_eq!(Real::recip(&4.0), 0.25);
    }
}
