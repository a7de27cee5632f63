//! The one table of derivative rules.
//!
//! Reverse mode, forward mode and symbolic differentiation all call these two
//! functions, so a rule fixed here is fixed everywhere. The rules are written
//! with [`Real`] operations only (never raw f64 inside a closure), which is
//! what makes a derivative of a derivative, and the formula of a derivative,
//! come for free.
//!
//! Rules are chosen for relative accuracy over the whole range, not only near
//! zero: `tanh' = 1/cosh²x` and `sigmoid' = σ(x)·σ(−x)` stay exact where
//! `1 − y²` and `y(1 − y)` cancel to 0 (tanh'(20) = 1.7e-17, σ'(40) = 4.2e-18).

use std::f64::consts::{LN_10, LN_2, PI};

use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;
use crate::tensor::DType;

/// dy/dx for `y = op(x)`; `y` is the already computed output.
///
/// ```
/// use chainrule::{rules::d_unary, UnaryOp};
/// let x = 0.5_f64;
/// assert_eq!(d_unary(UnaryOp::Sin, &x, &x.sin()), x.cos());
/// ```
// Always inlined: an engine's elementwise loop calls it with a constant op
// (see tensor/kernels.rs) and the match must fold away.
#[inline(always)]
pub fn d_unary<T: Real>(op: UnaryOp, x: &T, y: &T) -> T {
    use UnaryOp::*;
    let one = || T::from_f64(1.0);
    match op {
        Neg => T::from_f64(-1.0),
        Exp => y.clone(),
        Ln => x.recip(),
        Log2 => (x.clone() * LN_2).recip(),
        Log10 => (x.clone() * LN_10).recip(),
        Sqrt => (y.clone() * 2.0).recip(),
        Cbrt => (y.square() * 3.0).recip(),
        Sin => x.cos(),
        Cos => -x.sin(),
        Tan => x.cos().powi(-2),
        Asin => (one() - x.square()).sqrt().recip(),
        Acos => -(one() - x.square()).sqrt().recip(),
        Atan => (one() + x.square()).recip(),
        Sinh => x.cosh(),
        Cosh => x.sinh(),
        Tanh => x.cosh().powi(-2),
        // Beyond 1e150, x² + 1 = x² and x² − 1 = x² in f64, so both are
        // 1/|x| there; a number takes that path (x² overflows from 1.3e154,
        // which made 1e308's derivative 0 instead of 1e-308).
        Asinh => match x.as_f64() {
            Some(v) if v.abs() > 1e150 => T::from_f64(1.0 / v.abs()),
            _ => (x.square() + 1.0).sqrt().recip(),
        },
        Acosh => match x.as_f64() {
            Some(v) if v.abs() > 1e150 => T::from_f64(1.0 / v.abs()),
            _ => (x.square() - 1.0).sqrt().recip(),
        },
        Atanh => (one() - x.square()).recip(),
        Sigmoid => x.sigmoid() * (-x.clone()).sigmoid(),
        Softplus => x.sigmoid(),
        Relu => x.step(),
        Abs => x.sign(),
        Erf => (-x.square()).exp() * (2.0 / PI.sqrt()),
        Sign | Step => T::from_f64(0.0),
        Powi(0) => T::from_f64(0.0),
        Powi(1) => one(),
        Powi(n) => match n.checked_sub(1) {
            Some(m) => x.powi(m) * f64::from(n),
            // n = i32::MIN: xⁿ⁻¹ as xⁿ/x, without overflowing n − 1.
            None => x.powi(n) * x.recip() * f64::from(n),
        },
        Log1p => (x.clone() + 1.0).recip(),
        Expm1 => x.exp(),
        Erfc => (-x.square()).exp() * (-2.0 / PI.sqrt()),
        // −j₁(x), not (cos x − sinc x)/x: the spherical Bessel functions are
        // entire, so this rule and the rules of its derivatives are finite
        // at 0 in every engine and in a printed formula (as JAX's sinc, whose
        // custom_jvp takes its derivatives at 0 from the Maclaurin series).
        Sinc => -x.spherical_jn(1),
        // DLMF 10.51.2: (2n+1)·jₙ′ = n·jₙ₋₁ − (n+1)·jₙ₊₁, with j₀ = sinc.
        SphJ(n) => {
            let below = match n {
                1 => x.sinc(),
                _ => x.spherical_jn(n - 1),
            };
            (below * f64::from(n) - x.spherical_jn(n + 1) * f64::from(n + 1)) / f64::from(2 * n + 1)
        }
    }
}

/// [`d_unary`] on the f64 values of an engine whose values are `dtype`,
/// as that engine computes it: the table's one dtype-aware form. In f32,
/// sigmoid's partial is PyTorch's (1 − y)·y from the rounded output y (seed
/// 000 Q3 prints that number); f64 keeps σ(x)σ(−x), which stays exact in
/// the tail where 1 − y cancels.
///
/// ```
/// use chainrule::{rules::d_unary_as, DType, UnaryOp};
/// let y = 0.75_f64;
/// assert_eq!(d_unary_as(UnaryOp::Sigmoid, DType::F32, 0.0, y), (1.0 - y) * y);
/// assert_eq!(d_unary_as(UnaryOp::Sin, DType::F32, 0.5, 0.5f64.sin()), 0.5f64.cos());
/// ```
#[inline(always)]
pub fn d_unary_as(op: UnaryOp, dtype: DType, x: f64, y: f64) -> f64 {
    match (op, dtype) {
        (UnaryOp::Sigmoid, DType::F32) => (1.0 - y) * y,
        _ => d_unary(op, &x, &y),
    }
}

// The plain-f64 partials every f64 engine shares (the compiled programs,
// the tape's 0-d lane, forward mode's lanes): the same derivative as the
// generic rule above, computed from one exponential instead of `cosh`.

/// `cosh(u)^-2` from one exponential: 4e/(1 + e)² with e = e^(−2|u|).
#[inline]
pub(crate) fn sech2(u: f64) -> f64 {
    let e = (-2.0 * u.abs()).exp();
    let s = 1.0 + e;
    4.0 * e / (s * s)
}

/// `cosh(u)^-2` given t = tanh(u): (1 − t)(1 + t) where that is accurate
/// (|t| ≤ 1/2: relative error a few ulp), else [`sech2`].
#[inline]
pub(crate) fn sech2_given_tanh(u: f64, t: f64) -> f64 {
    if t.abs() <= 0.5 {
        (1.0 - t) * (1.0 + t)
    } else {
        sech2(u)
    }
}

/// tanh's rule `cosh(x)⁻²` (kept for recorded passes: its own derivative
/// is the rule's) costs libm's `cosh` (an exponential and more), then a
/// square and a division, on every tanh node of a backward pass. Here it is
/// [`sech2_given_tanh`]: `(1 − y)(1 + y)` from the
/// output where that does not cancel (|y| ≤ ½: no call at all), else
/// `4e/(1 + e)²` with the one exponential `e = exp(−2|x|)`: within 4 ulp
/// of sech²x on a dense sweep of [−30, 30] (against mpmath; the rule's
/// `cosh(x)⁻²` is within 5 there) and within 2 at the points
/// tests/tape_scalar_lane.rs checks, exactly 1 at ±0, 0 at ±∞, NaN at NaN,
/// and not 0 where `cosh²` overflows but sech² is still a subnormal. An
/// eager pass and a compiled program so take the same partial (W1's
/// gradients are the compiled program's bit for bit).
#[inline(always)]
pub(crate) fn d_unary_plain(u: UnaryOp, x: f64, y: f64) -> f64 {
    if u == UnaryOp::Tanh {
        sech2_given_tanh(x, y)
    } else {
        d_unary::<f64>(u, &x, &y)
    }
}

/// (∂out/∂x, ∂out/∂y) for `out = op(x, y)`; `out` is the computed output.
///
/// ```
/// use chainrule::{rules::d_binary, BinaryOp};
/// let (dx, dy) = d_binary(BinaryOp::Mul, &3.0, &4.0, &12.0);
/// assert_eq!((dx, dy), (4.0, 3.0));
/// ```
#[inline(always)]
pub fn d_binary<T: Real>(op: BinaryOp, x: &T, y: &T, out: &T) -> (T, T) {
    use BinaryOp::*;
    let one = || T::from_f64(1.0);
    match op {
        Add => (one(), one()),
        Sub => (one(), T::from_f64(-1.0)),
        Mul => (y.clone(), x.clone()),
        Div => {
            // Both partials share 1/y, so that their derivatives cancel
            // exactly where they must (the Hessian of x/x is 0, not an ulp
            // of 1/x²).
            let r = y.recip();
            (r.clone(), -(out.clone() * r))
        }
        // Strong zeros: ∂/∂x x⁰ = 0·x⁻¹ and ∂/∂y 0ʸ = 0·ln 0 are 0.
        Pow => (
            y.strong_mul(&x.pow(&(y.clone() - 1.0))),
            out.strong_mul(&x.ln()),
        ),
        Atan2 => {
            // out = atan2(x, y): the angle of the point (y, x).
            let r2 = x.square() + y.square();
            (y.clone() / r2.clone(), -(x.clone() / r2))
        }
        Max => {
            let second = (y.clone() - x.clone()).step();
            (one() - second.clone(), second)
        }
        Min => {
            let second = (x.clone() - y.clone()).step();
            (one() - second.clone(), second)
        }
        Hypot => (x.clone() / out.clone(), y.clone() / out.clone()),
        Logaddexp => (
            (x.clone() - y.clone()).sigmoid(),
            (y.clone() - x.clone()).sigmoid(),
        ),
        Copysign => (x.sign() * one().copysign(y), T::from_f64(0.0)),
    }
}

/// Which of `x`, `y` and `out` a partial derivative of [`d_binary`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reads {
    /// It depends on the first argument.
    pub x: bool,
    /// It depends on the second argument.
    pub y: bool,
    /// It depends on the output.
    pub out: bool,
}

/// What (∂out/∂x, ∂out/∂y) of [`d_binary`] read, so that an engine can
/// evaluate a partial once when everything it reads is one number (a
/// gradient through `+` passes unchanged, through `x * 3` it is scaled by 3)
/// instead of once per element. Kept next to the rules it describes; a test
/// checks it against them.
///
/// ```
/// use chainrule::{rules::partial_reads, BinaryOp};
/// let (dx, dy) = partial_reads(BinaryOp::Mul);
/// assert!(!dx.x && dx.y && dy.x && !dy.y);
/// ```
pub fn partial_reads(op: BinaryOp) -> (Reads, Reads) {
    use BinaryOp::*;
    let r = |x, y, out| Reads { x, y, out };
    match op {
        Add | Sub => (r(false, false, false), r(false, false, false)),
        Mul => (r(false, true, false), r(true, false, false)),
        Div => (r(false, true, false), r(false, true, true)),
        Pow => (r(true, true, false), r(true, false, true)),
        Atan2 | Max | Min | Logaddexp => (r(true, true, false), r(true, true, false)),
        Hypot => (r(true, false, true), r(false, true, true)),
        Copysign => (r(true, true, false), r(false, false, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central difference with Richardson extrapolation, independent of the rules.
    fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        crate::check::numerical_derivative(f, x, Default::default())
    }

    #[test]
    fn every_unary_rule_matches_finite_differences() {
        for op in UnaryOp::ALL {
            for t in [0.1, 0.4, 0.7, 0.9] {
                let x = op.domain().at(t);
                let analytic = d_unary(op, &x, &op.eval(x));
                let numeric = fd(|t| op.eval(t), x);
                assert!(
                    (analytic - numeric).abs() <= 1e-8 * numeric.abs().max(1.0),
                    "{op:?} at {x}: rule {analytic} vs finite difference {numeric}"
                );
            }
        }
    }

    #[test]
    fn every_binary_rule_matches_finite_differences() {
        for op in BinaryOp::ALL {
            let (dx, dy) = op.domain();
            for t in [0.1, 0.4, 0.7, 0.9] {
                let (x, y) = (dx.at(t), dy.at(1.0 - t));
                let (px, py) = d_binary(op, &x, &y, &op.eval(x, y));
                let nx = fd(|t| op.eval(t, y), x);
                let ny = fd(|t| op.eval(x, t), y);
                assert!(
                    (px - nx).abs() < 1e-8,
                    "{op:?} d/dx at ({x}, {y}): {px} vs {nx}"
                );
                assert!(
                    (py - ny).abs() < 1e-8,
                    "{op:?} d/dy at ({x}, {y}): {py} vs {ny}"
                );
            }
        }
    }

    #[test]
    fn partial_reads_describes_the_rules() {
        // Changing an argument a partial does not read leaves it unchanged.
        for op in BinaryOp::ALL {
            let (rx, ry) = partial_reads(op);
            let base = d_binary(op, &0.7, &1.3, &op.eval(0.7, 1.3));
            for (which, reads) in [(0, rx), (1, ry)] {
                let pick = |p: (f64, f64)| if which == 0 { p.0 } else { p.1 };
                let b = pick(base);
                if !reads.x {
                    assert_eq!(
                        pick(d_binary(op, &5.1, &1.3, &op.eval(0.7, 1.3))),
                        b,
                        "{op:?}"
                    );
                }
                if !reads.y {
                    assert_eq!(
                        pick(d_binary(op, &0.7, &4.2, &op.eval(0.7, 1.3))),
                        b,
                        "{op:?}"
                    );
                }
                if !reads.out {
                    assert_eq!(pick(d_binary(op, &0.7, &1.3, &9.9)), b, "{op:?}");
                }
            }
        }
    }

    #[test]
    fn stable_in_the_tails() {
        // tanh'(20) = sech²(20) = 4e⁻⁴⁰/(1+e⁻⁴⁰)² ≈ 1.7e-17; 1 − tanh² gives 0.
        let t = d_unary(UnaryOp::Tanh, &20.0, &20f64.tanh());
        let exact = 4.0 * (-40f64).exp() / (1.0 + (-40f64).exp()).powi(2);
        assert!((t - exact).abs() < 1e-14 * exact);
        // σ'(40) = e⁻⁴⁰/(1+e⁻⁴⁰)² ≈ 4.2e-18.
        let s = d_unary(UnaryOp::Sigmoid, &40.0, &crate::ops::sigmoid(40.0));
        let exact = (-40f64).exp() / (1.0 + (-40f64).exp()).powi(2);
        assert!((s - exact).abs() < 1e-14 * exact);
    }

    #[test]
    fn strong_zeros_and_extreme_arguments() {
        // ∂/∂y x^y at (0, 2) is 0 (0·ln 0), ∂/∂x x^0 at 0 is 0 (0·0⁻¹).
        assert_eq!(d_binary(BinaryOp::Pow, &0.0, &2.0, &0.0), (0.0, 0.0));
        assert_eq!(d_binary(BinaryOp::Pow, &0.0, &0.0, &1.0).0, 0.0);
        // n = i32::MIN: n·x^(n−1) underflows to 0 at 2 (no overflow of n − 1),
        // and is exact at 1.
        let n = i32::MIN;
        assert_eq!(d_unary(UnaryOp::Powi(n), &2.0, &0.0), 0.0);
        assert_eq!(d_unary(UnaryOp::Powi(n), &1.0, &1.0), f64::from(n));
        assert_eq!(d_unary(UnaryOp::Powi(n), &-1.0, &1.0), -f64::from(n));
        // tanh' stays finite (0) where cosh overflows; its derivative too:
        // −2·cosh⁻³·sinh with cosh⁻³ = 0 is 0 by strong zeros.
        assert_eq!(d_unary(UnaryOp::Tanh, &1000.0, &1.0), 0.0);
        let d2 = crate::forward::derivative_at(|x| d_unary(UnaryOp::Tanh, &x, &x.tanh()), 1000.0);
        assert_eq!(d2, 0.0);
        // tanh'(0.5) = 1 − tanh²(0.5).
        let t = 0.5f64.tanh();
        assert!((d_unary(UnaryOp::Tanh, &0.5, &t) - (1.0 - t * t)).abs() < 1e-15);
    }

    #[test]
    fn kinks_follow_pytorch() {
        assert_eq!(d_unary(UnaryOp::Relu, &0.0, &0.0), 0.0);
        assert_eq!(d_unary(UnaryOp::Abs, &0.0, &0.0), 0.0);
        assert_eq!(d_binary(BinaryOp::Max, &1.0, &1.0, &1.0), (1.0, 0.0));
        assert_eq!(d_binary(BinaryOp::Min, &1.0, &1.0, &1.0), (1.0, 0.0));
        assert_eq!(
            d_unary(UnaryOp::Ln, &0.0, &f64::NEG_INFINITY),
            f64::INFINITY
        );
    }
}
