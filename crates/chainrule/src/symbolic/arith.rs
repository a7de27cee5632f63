//! `Expr` as a [`Real`]: constructors, operators, and tracing of generic code.

use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::expr::{Constant, Expr, Node};
use super::num::Num;
use super::simplify::{self, num};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;

impl Expr {
    /// The variable `name`.
    pub fn var(name: &str) -> Expr {
        Expr::intern(Node::Sym(name.into()))
    }

    /// An f64 constant; integral values (|x| ≤ 2⁵³) become exact integers.
    pub fn constant(x: f64) -> Expr {
        num(Num::float(x))
    }

    /// An exact integer.
    pub fn integer(n: i64) -> Expr {
        num(Num::int(n))
    }

    /// The exact rational p/q in lowest terms (`q = 0` gives ±inf or NaN).
    pub fn rational(p: i64, q: i64) -> Expr {
        num(Num::rational(p, q))
    }

    /// π or e.
    pub fn named_constant(c: Constant) -> Expr {
        Expr::intern(Node::Const(c))
    }

    /// self ^ exponent.
    pub fn pow_expr(&self, exponent: &Expr) -> Expr {
        simplify::pow(*self, *exponent)
    }

    /// The canonical sum of `terms` (0 for none).
    pub fn sum(terms: impl IntoIterator<Item = Expr>) -> Expr {
        simplify::add(terms)
    }

    /// The canonical product of `factors` (1 for none).
    pub fn product(factors: impl IntoIterator<Item = Expr>) -> Expr {
        simplify::mul(factors)
    }

    /// `op(self)`, or [`Error::StaleFormula`](crate::Error::StaleFormula)
    /// if this handle's arena is gone. The operators (`+ − · /`, `-x`) and
    /// [`Real`]'s methods are the convenience form of this and of
    /// [`Expr::try_binary`]: they panic on a stale handle (see
    /// [`Expr::is_live`]), as PyTorch's operators raise on misuse.
    ///
    /// ```
    /// use chainrule::symbolic::Expr;
    /// use chainrule::UnaryOp;
    /// let x = Expr::var("x");
    /// assert_eq!(x.try_unary(UnaryOp::Sin).unwrap().to_string(), "sin(x)");
    /// ```
    pub fn try_unary(&self, op: UnaryOp) -> crate::Result<Expr> {
        self.check_live()?;
        Ok(simplify::unary(op, *self))
    }

    /// `op(self, rhs)` (`self + rhs` for [`BinaryOp::Add`] …), or
    /// [`Error::StaleFormula`](crate::Error::StaleFormula) if either
    /// handle's arena is gone (see [`Expr::try_unary`]).
    ///
    /// ```
    /// use chainrule::symbolic::{collect, Expr};
    /// use chainrule::{BinaryOp, Error};
    /// let (x, y) = (Expr::var("x"), Expr::var("y"));
    /// assert_eq!(x.try_binary(BinaryOp::Mul, &y).unwrap().to_string(), "x*y");
    /// collect(); // no Formula keeps x or y: both handles are now stale
    /// assert!(matches!(x.try_binary(BinaryOp::Add, &y), Err(Error::StaleFormula)));
    /// ```
    pub fn try_binary(&self, op: BinaryOp, rhs: &Expr) -> crate::Result<Expr> {
        self.check_live()?;
        rhs.check_live()?;
        Ok(simplify::binary(op, *self, *rhs))
    }
}

/// f64 constants that the rules table writes as numbers, recognised when
/// generic code is traced so that formulas read `log(2)` and `sqrt(pi)`
/// instead of 0.6931471805599453 (only exact bit patterns match).
fn traced_constant(x: f64) -> Expr {
    use std::f64::consts::{E, FRAC_2_SQRT_PI, LN_10, LN_2, PI};
    let bits = x.to_bits();
    let pi = || Expr::named_constant(Constant::Pi);
    if bits == PI.to_bits() {
        pi()
    } else if bits == E.to_bits() {
        Expr::named_constant(Constant::E)
    } else if bits == LN_2.to_bits() {
        Expr::integer(2).ln()
    } else if bits == LN_10.to_bits() {
        Expr::integer(10).ln()
    } else if bits == FRAC_2_SQRT_PI.to_bits() || bits == (2.0 / PI.sqrt()).to_bits() {
        Expr::integer(2) * simplify::pow(pi(), Expr::rational(-1, 2))
    } else {
        Expr::constant(x)
    }
}

impl Real for Expr {
    /// A constant; the exact f64 values of π, e, ln 2, ln 10 and 2/√π become
    /// those symbols, everything else as [`Expr::constant`].
    fn from_f64(x: f64) -> Self {
        traced_constant(x)
    }
    fn unary(&self, op: UnaryOp) -> Self {
        simplify::unary(op, *self)
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        simplify::binary(op, *self, *rhs)
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({self})")
    }
}

macro_rules! binop {
    ($tr:ident, $m:ident, $op:expr) => {
        impl $tr for Expr {
            type Output = Expr;
            fn $m(self, rhs: Expr) -> Expr {
                simplify::binary($op, self, rhs)
            }
        }
        impl $tr<&Expr> for &Expr {
            type Output = Expr;
            fn $m(self, rhs: &Expr) -> Expr {
                simplify::binary($op, *self, *rhs)
            }
        }
        impl $tr<f64> for Expr {
            type Output = Expr;
            fn $m(self, rhs: f64) -> Expr {
                simplify::binary($op, self, traced_constant(rhs))
            }
        }
        impl $tr<Expr> for f64 {
            type Output = Expr;
            fn $m(self, rhs: Expr) -> Expr {
                simplify::binary($op, traced_constant(self), rhs)
            }
        }
    };
}

binop!(Add, add, BinaryOp::Add);
binop!(Sub, sub, BinaryOp::Sub);
binop!(Mul, mul, BinaryOp::Mul);
binop!(Div, div, BinaryOp::Div);

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        simplify::unary(UnaryOp::Neg, self)
    }
}

impl Neg for &Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        simplify::unary(UnaryOp::Neg, *self)
    }
}
