//! Matrix expressions as [`Real`] numbers, elementwise: `*` is `.*`, `/` is
//! `./`, and a function is applied to every entry. This is how a derivative
//! of an elementwise function is read from the one table of rules
//! ([`crate::rules::d_unary`]): `sigmoid' = sigmoid(x).*sigmoid(-x)`.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::expr::{self, Expr};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;

/// A matrix expression under elementwise arithmetic.
#[derive(Clone, Debug)]
pub(crate) struct Ew(pub Expr);

impl Add for Ew {
    type Output = Ew;
    fn add(self, r: Ew) -> Ew {
        Ew(expr::add(&self.0, &r.0))
    }
}
impl Sub for Ew {
    type Output = Ew;
    fn sub(self, r: Ew) -> Ew {
        Ew(expr::sub(&self.0, &r.0))
    }
}
impl Mul for Ew {
    type Output = Ew;
    fn mul(self, r: Ew) -> Ew {
        Ew(expr::elem(BinaryOp::Mul, &self.0, &r.0))
    }
}
impl Div for Ew {
    type Output = Ew;
    fn div(self, r: Ew) -> Ew {
        Ew(expr::elem(BinaryOp::Div, &self.0, &r.0))
    }
}
impl Neg for Ew {
    type Output = Ew;
    fn neg(self) -> Ew {
        Ew(expr::neg(&self.0))
    }
}
impl Add<f64> for Ew {
    type Output = Ew;
    fn add(self, r: f64) -> Ew {
        Ew(expr::add(&self.0, &Expr::num(r)))
    }
}
impl Sub<f64> for Ew {
    type Output = Ew;
    fn sub(self, r: f64) -> Ew {
        Ew(expr::sub(&self.0, &Expr::num(r)))
    }
}
impl Mul<f64> for Ew {
    type Output = Ew;
    fn mul(self, r: f64) -> Ew {
        Ew(expr::mul(&Expr::num(r), &self.0))
    }
}
impl Div<f64> for Ew {
    type Output = Ew;
    fn div(self, r: f64) -> Ew {
        Ew(expr::mul(&Expr::num(1.0 / r), &self.0))
    }
}

impl Real for Ew {
    fn from_f64(x: f64) -> Self {
        Ew(Expr::num(x))
    }
    fn unary(&self, op: UnaryOp) -> Self {
        Ew(expr::unary(op, &self.0))
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        Ew(expr::elem(op, &self.0, &rhs.0))
    }
}
