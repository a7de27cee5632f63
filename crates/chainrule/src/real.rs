//! `Real`: the vocabulary of scalar math shared by every engine.
//!
//! A function written once as `fn f<T: Real>(x: T) -> T` runs as plain f64,
//! as dual numbers (forward mode), as truncated Taylor series, as a symbolic
//! formula, or elementwise on tensors with a tape. An engine implements only
//! [`Real::from_f64`], [`Real::unary`] and [`Real::binary`] (and the
//! operators); every named function is a provided method that dispatches
//! through the [`UnaryOp`]/[`BinaryOp`] enums, one per row of the op table
//! (see [`ops`](crate::ops)) that names a method.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::ops::{for_each_binary_op, for_each_unary_op, BinaryOp, UnaryOp};

/// `fn sin(&self) -> Self { self.unary(UnaryOp::Sin) }` for each row of the
/// unary op table with a method (`fn powi(&self, n: i32)` for `Powi`),
/// documented by the row.
macro_rules! unary_methods {
    ([] $(
        $(#[$doc:meta])*
        $kind:ident $V:ident $(($p:ident: $pt:ident = [$($s:literal),*]))? { $method:tt, $($row:tt)* }
    )*) => {
        $( unary_method! { $(#[$doc])* $method $V $(($p: $pt))? } )*
    };
}

macro_rules! unary_method {
    ($(#[$doc:meta])* _ $($rest:tt)*) => {};
    ($(#[$doc:meta])* $method:ident $V:ident $(($p:ident: $pt:ident))?) => {
        $(#[$doc])*
        fn $method(&self $(, $p: $pt)?) -> Self {
            self.unary(UnaryOp::$V $(($p))?)
        }
    };
}

/// `fn atan2(&self, rhs: &Self) -> Self { self.binary(BinaryOp::Atan2, rhs) }`
/// for each row of the binary op table with a method.
macro_rules! binary_methods {
    ([] $(
        $(#[$doc:meta])*
        $kind:ident $V:ident { $method:tt, $($row:tt)* }
    )*) => {
        $( binary_method! { $(#[$doc])* $method $V } )*
    };
}

macro_rules! binary_method {
    ($(#[$doc:meta])* _ $V:ident) => {};
    ($(#[$doc:meta])* $method:ident $V:ident) => {
        $(#[$doc])*
        fn $method(&self, rhs: &Self) -> Self {
            self.binary(BinaryOp::$V, rhs)
        }
    };
}

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

    // One method per row of the op table that names one (`sin`, `powi`,
    // `atan2`, …), each `self.unary(UnaryOp::Sin)` and the like.
    for_each_unary_op!(unary_methods);
    for_each_binary_op!(binary_methods);

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

    /// The chain rule's product with *strong zeros*: an exact zero factor
    /// gives exactly 0 whatever the other factor (∞ and NaN included), as
    /// ChainRules.jl's `ZeroTangent` does. Engines multiply a cotangent or
    /// a tangent by a partial derivative with it, and rules use it where a
    /// partial is a product with a structurally zero factor (`0·ln 0` in
    /// `∂/∂y 0ʸ`). A deliberate difference from PyTorch, which gives NaN
    /// there (see docs/DESIGN-notes.md, "Strong zeros").
    ///
    /// The default is the plain product (a symbolic formula folds `0·x`
    /// itself); `f64` and the engines' number types override it.
    ///
    /// ```
    /// use chainrule::Real;
    /// assert_eq!(0.0.strong_mul(&f64::INFINITY), 0.0);
    /// assert_eq!(f64::NAN.strong_mul(&0.0), 0.0);
    /// assert_eq!(2.0.strong_mul(&3.0), 6.0);
    /// ```
    fn strong_mul(&self, rhs: &Self) -> Self {
        self.clone() * rhs.clone()
    }

    /// `self / d` read as `self · d⁻¹` with strong zeros: an infinite `d`
    /// makes the factor `d⁻¹` exactly 0, so the quotient is 0 whatever
    /// `self` is (`sinh x / cosh³x` at 1000 is 0, not ∞/∞). Formula
    /// evaluation divides with it. The default is the plain quotient.
    ///
    /// ```
    /// use chainrule::Real;
    /// assert_eq!(f64::INFINITY.strong_div(&f64::INFINITY), 0.0);
    /// assert_eq!(1.0.strong_div(&4.0), 0.25);
    /// ```
    fn strong_div(&self, d: &Self) -> Self {
        self.clone() / d.clone()
    }

    /// The plain number this is, if it is one (`f64` answers; dual
    /// numbers, series and formulas do not). Engines read it to take an
    /// exact path for a known constant (a Taylor series of `pow(x, 2.0)`
    /// by repeated squaring, exact at 0).
    ///
    /// ```
    /// use chainrule::Real;
    /// assert_eq!(2.5.as_f64(), Some(2.5));
    /// ```
    fn as_f64(&self) -> Option<f64> {
        None
    }
}

/// `a·b` with strong zeros (see [`Real::strong_mul`]): 0 when either is an
/// exact zero. The factors are tested only when the product is 0 or NaN
/// (an exact zero factor makes it one of those), so the common case is a
/// multiply and one compare; the result is bit for bit that of testing the
/// factors first (a product that underflows to ±0 keeps its sign, as does
/// a NaN from a NaN factor).
#[inline(always)]
pub fn strong_mul(a: f64, b: f64) -> f64 {
    let p = a * b;
    if p == 0.0 || p.is_nan() {
        if a == 0.0 || b == 0.0 {
            0.0
        } else {
            p
        }
    } else {
        p
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
    #[inline(always)]
    fn strong_mul(&self, rhs: &Self) -> Self {
        strong_mul(*self, *rhs)
    }
    #[inline]
    fn as_f64(&self) -> Option<f64> {
        Some(*self)
    }
    #[inline]
    fn strong_div(&self, d: &Self) -> Self {
        if d.is_infinite() {
            0.0
        } else {
            self / d
        }
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

    /// The definition: 0 when a factor is an exact zero, else the product.
    fn strong_mul_by_definition(a: f64, b: f64) -> f64 {
        if a == 0.0 || b == 0.0 {
            0.0
        } else {
            a * b
        }
    }

    #[test]
    fn strong_mul_is_the_definition_bit_for_bit() {
        let (inf, nan, tiny) = (f64::INFINITY, f64::NAN, f64::MIN_POSITIVE);
        let values = [
            0.0, -0.0, 1.0, -2.5, 3e300, -3e300, tiny, -tiny, 5e-324, inf, -inf, nan, 1e-200,
        ];
        for &a in &values {
            for &b in &values {
                let (got, want) = (strong_mul(a, b), strong_mul_by_definition(a, b));
                // Equal bits, or both NaN (a NaN's payload is the hardware's).
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{a:e} * {b:e}: {got:e} vs {want:e}"
                );
            }
        }
        // The cases the rare branch exists for.
        assert_eq!(strong_mul(0.0, inf).to_bits(), 0.0f64.to_bits());
        assert_eq!(strong_mul(nan, -0.0).to_bits(), 0.0f64.to_bits());
        assert!(strong_mul(inf, nan).is_nan());
        assert!(strong_mul(2.0, nan).is_nan());
        // An underflow to -0 is a product, not a strong zero: its sign stays.
        assert_eq!(strong_mul(-tiny, tiny).to_bits(), (-0.0f64).to_bits());
        assert_eq!(strong_mul(-3e300, 3e300), -inf);
    }
}
