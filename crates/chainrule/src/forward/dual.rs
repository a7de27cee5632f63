//! Dual numbers: a value and a tangent, for forward-mode derivatives.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;
use crate::rules;

/// A dual number `value + tangent·ε` with `ε² = 0`: running `f` on
/// `Dual::variable(x)` gives `f(x)` and `f'(x)` in one pass.
///
/// Every tangent comes from the one table of rules ([`rules::d_unary`] and
/// [`rules::d_binary`]); this type only applies the chain rule.
///
/// **Nesting.** `Dual<Dual<f64>>` carries two independent perturbations:
/// the inner `Dual<f64>` (the value) is the *outer* level of
/// differentiation and the outer tangent is the *inner* level, so
/// second derivatives come from differentiating a derivative. Because
/// each level is a different Rust type, perturbations cannot be confused:
/// a variable `x: Dual<f64>` of an outer derivative enters a function of
/// the inner level only when lifted explicitly with
/// [`Dual::constant(x)`](Dual::constant), and then it is a constant of the
/// inner level, as it must be.
///
/// **Zero tangents.** A constant stores no tangent at all (a *symbolic*
/// zero, as JAX has), so `x.powf(2.0)` at `x = 0` or `x < 0` does not pick
/// up `0 · ln x = NaN` from the exponent's side of the pow rule.
///
/// ```
/// use chainrule::forward::Dual;
/// use chainrule::Real;
/// let x = Dual::variable(0.5);
/// let y = x.sin() * x + 2.0;
/// assert_eq!(y.value(), 0.5f64.sin() * 0.5 + 2.0);
/// assert!((y.tangent() - (0.5f64.cos() * 0.5 + 0.5f64.sin())).abs() < 1e-15);
/// // second derivative by nesting: (x³)'' = 6x
/// let x = Dual::new(Dual::variable(2.0), Dual::constant(1.0));
/// assert_eq!(x.powi(3).tangent().tangent(), 12.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Dual<T: Real = f64> {
    value: T,
    /// `None` is a tangent known to be zero (a constant).
    tangent: Option<T>,
}

impl<T: Real> Dual<T> {
    /// `value + tangent·ε`.
    ///
    /// ```
    /// use chainrule::forward::Dual;
    /// let d = Dual::new(1.5, 2.0);
    /// assert_eq!((d.value(), d.tangent()), (1.5, 2.0));
    /// ```
    pub fn new(value: T, tangent: T) -> Self {
        Dual {
            value,
            tangent: Some(tangent),
        }
    }

    /// A constant: tangent zero. This is also how a variable of an outer
    /// derivative is lifted into an inner one (see the type's docs).
    ///
    /// ```
    /// use chainrule::forward::Dual;
    /// let c = Dual::constant(3.0);
    /// assert_eq!((c.value(), c.tangent()), (3.0, 0.0));
    /// ```
    pub fn constant(value: T) -> Self {
        Dual {
            value,
            tangent: None,
        }
    }

    /// The variable being differentiated against: tangent one.
    ///
    /// ```
    /// use chainrule::forward::Dual;
    /// let x = Dual::variable(3.0);
    /// assert_eq!((x * x).tangent(), 6.0);
    /// ```
    pub fn variable(value: T) -> Self {
        Dual::new(value, T::from_f64(1.0))
    }

    /// The primal value.
    ///
    /// ```
    /// use chainrule::forward::Dual;
    /// assert_eq!(Dual::variable(4.0).value(), 4.0);
    /// ```
    pub fn value(&self) -> T {
        self.value.clone()
    }

    /// The tangent (the directional derivative); zero for a constant.
    ///
    /// ```
    /// use chainrule::forward::Dual;
    /// use chainrule::Real;
    /// assert_eq!(Dual::variable(0.0).exp().tangent(), 1.0);
    /// ```
    pub fn tangent(&self) -> T {
        match &self.tangent {
            Some(t) => t.clone(),
            None => T::from_f64(0.0),
        }
    }

    /// Whether the tangent is a known (symbolic) zero, as for
    /// [`Dual::constant`] and anything computed from constants only.
    ///
    /// ```
    /// use chainrule::forward::Dual;
    /// use chainrule::Real;
    /// assert!(Dual::constant(2.0).sin().is_constant());
    /// assert!(!Dual::variable(2.0).sin().is_constant());
    /// ```
    pub fn is_constant(&self) -> bool {
        self.tangent.is_none()
    }

    /// The value and the tangent, consuming the dual number.
    ///
    /// ```
    /// use chainrule::forward::Dual;
    /// assert_eq!(Dual::new(1.0, 2.0).into_parts(), (1.0, 2.0));
    /// ```
    pub fn into_parts(self) -> (T, T) {
        let t = self.tangent();
        (self.value, t)
    }
}

impl<T: Real> Real for Dual<T> {
    fn from_f64(x: f64) -> Self {
        Dual::constant(T::from_f64(x))
    }

    fn unary(&self, op: UnaryOp) -> Self {
        let y = self.value.unary(op);
        let tangent = self
            .tangent
            .as_ref()
            .map(|t| rules::d_unary(op, &self.value, &y).strong_mul(t));
        Dual { value: y, tangent }
    }

    /// Strong zeros on both levels: an exact zero dual (value and tangent
    /// zero, or a constant 0) times anything is zero.
    fn strong_mul(&self, rhs: &Self) -> Self {
        let value = self.value.strong_mul(&rhs.value);
        let tangent = match (&self.tangent, &rhs.tangent) {
            (None, None) => None,
            (Some(a), None) => Some(a.strong_mul(&rhs.value)),
            (None, Some(b)) => Some(self.value.strong_mul(b)),
            (Some(a), Some(b)) => Some(a.strong_mul(&rhs.value) + self.value.strong_mul(b)),
        };
        Dual { value, tangent }
    }

    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        let out = self.value.binary(op, &rhs.value);
        let tangent = if self.tangent.is_none() && rhs.tangent.is_none() {
            None
        } else {
            let (dx, dy) = rules::d_binary(op, &self.value, &rhs.value, &out);
            match (&self.tangent, &rhs.tangent) {
                (Some(a), Some(b)) => Some(dx.strong_mul(a) + dy.strong_mul(b)),
                (Some(a), None) => Some(dx.strong_mul(a)),
                (None, Some(b)) => Some(dy.strong_mul(b)),
                (None, None) => None,
            }
        };
        Dual {
            value: out,
            tangent,
        }
    }
}

/// `Dual ∘ Dual`, `Dual ∘ f64` and `f64 ∘ Dual` for one operator; every case
/// goes through [`Real::binary`], so through the rules table.
macro_rules! dual_binary_operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl<T: Real> $trait for Dual<T> {
            type Output = Dual<T>;
            fn $method(self, rhs: Dual<T>) -> Dual<T> {
                self.binary($op, &rhs)
            }
        }
        impl<T: Real> $trait<&Dual<T>> for &Dual<T> {
            type Output = Dual<T>;
            fn $method(self, rhs: &Dual<T>) -> Dual<T> {
                self.binary($op, rhs)
            }
        }
        impl<T: Real> $trait<f64> for Dual<T> {
            type Output = Dual<T>;
            fn $method(self, rhs: f64) -> Dual<T> {
                self.binary($op, &Dual::from_f64(rhs))
            }
        }
        impl<T: Real> $trait<Dual<T>> for f64 {
            type Output = Dual<T>;
            fn $method(self, rhs: Dual<T>) -> Dual<T> {
                Dual::<T>::from_f64(self).binary($op, &rhs)
            }
        }
    };
}

dual_binary_operator!(Add, add, BinaryOp::Add);
dual_binary_operator!(Sub, sub, BinaryOp::Sub);
dual_binary_operator!(Mul, mul, BinaryOp::Mul);
dual_binary_operator!(Div, div, BinaryOp::Div);

impl<T: Real> Neg for Dual<T> {
    type Output = Dual<T>;
    fn neg(self) -> Dual<T> {
        self.unary(UnaryOp::Neg)
    }
}

impl<T: Real> Neg for &Dual<T> {
    type Output = Dual<T>;
    fn neg(self) -> Dual<T> {
        self.unary(UnaryOp::Neg)
    }
}

impl<T: Real> From<T> for Dual<T> {
    /// A constant.
    fn from(value: T) -> Self {
        Dual::constant(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_and_quotient_rules() {
        let x = Dual::variable(3.0);
        let y = Dual::new(2.0, 0.5);
        // d(x·y) = y·dx + x·dy = 2 + 1.5
        assert_eq!((x * y).tangent(), 3.5);
        // d(x/y) = dx/y − x·dy/y² = 0.5 − 3·0.5/4
        assert_eq!((x / y).tangent(), 0.5 - 0.375);
        assert_eq!((2.0 * x).tangent(), 2.0);
        assert_eq!((1.0 - x).tangent(), -1.0);
        assert_eq!((6.0 / x).tangent(), -6.0 / 9.0);
        assert_eq!((-x).tangent(), -1.0);
    }

    #[test]
    fn constant_exponent_has_no_nan_from_ln() {
        // d/dx x^2 at x = 0 and x = −3: 0 and −6, not NaN from 0·ln x.
        assert_eq!(Dual::variable(0.0).powf(2.0).tangent(), 0.0);
        assert_eq!(Dual::variable(-3.0).powf(2.0).tangent(), -6.0);
        // a constant base with a variable exponent: d/dy 2^y = 2^y ln 2
        let y = Dual::variable(3.0);
        let p = Dual::constant(2.0).pow(&y);
        assert!((p.tangent() - 8.0 * 2f64.ln()).abs() < 1e-14);
    }

    #[test]
    fn constants_stay_constant() {
        let c = Dual::constant(0.0);
        let y = c.ln() * c.sqrt();
        assert!(y.is_constant());
        assert_eq!(y.tangent(), 0.0);
    }
}
