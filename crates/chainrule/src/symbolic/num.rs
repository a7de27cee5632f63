//! Numbers inside formulas: exact rationals (i64/i64 in lowest terms, the
//! denominator positive) where they arise, f64 otherwise. Arithmetic on two
//! rationals stays exact until an i64 would overflow, then falls back to f64.

use std::cmp::Ordering;
use std::fmt;

/// A number in a formula.
#[derive(Clone, Copy, Debug)]
pub enum Num {
    /// p/q in lowest terms with q > 0 (an integer when q = 1).
    Rat(i64, i64),
    /// A floating-point constant that is not an integer (integers are `Rat`).
    Float(f64),
}

impl PartialEq for Num {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Num::Rat(a, b), Num::Rat(c, d)) => a == c && b == d,
            (Num::Float(a), Num::Float(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}
impl Eq for Num {}

impl std::hash::Hash for Num {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Num::Rat(p, q) => {
                0u8.hash(state);
                p.hash(state);
                q.hash(state);
            }
            Num::Float(x) => {
                1u8.hash(state);
                x.to_bits().hash(state);
            }
        }
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Num {
    /// Zero.
    pub const ZERO: Num = Num::Rat(0, 1);
    /// One.
    pub const ONE: Num = Num::Rat(1, 1);
    /// Minus one.
    pub const MINUS_ONE: Num = Num::Rat(-1, 1);

    /// An integer.
    pub fn int(n: i64) -> Num {
        Num::Rat(n, 1)
    }

    /// p/q reduced; a zero denominator gives IEEE ±inf or NaN as a float.
    pub fn rational(p: i64, q: i64) -> Num {
        Num::from_i128(i128::from(p), i128::from(q))
    }

    fn from_i128(p: i128, q: i128) -> Num {
        if q == 0 {
            return Num::float(p as f64 / 0.0);
        }
        let g = gcd(p, q);
        let (mut p, mut q) = (p / g, q / g);
        if q < 0 {
            p = -p;
            q = -q;
        }
        match (i64::try_from(p), i64::try_from(q)) {
            (Ok(p), Ok(q)) => Num::Rat(p, q),
            _ => Num::float(p as f64 / q as f64),
        }
    }

    /// A float; integral values that an i64 holds exactly (|x| ≤ 2⁵³) become
    /// exact integers, so `2.0` and `2` are one number.
    pub fn float(x: f64) -> Num {
        if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 {
            // -0.0 becomes the integer 0 as well.
            Num::Rat(x as i64, 1)
        } else {
            Num::Float(x)
        }
    }

    /// The value as f64.
    pub fn to_f64(self) -> f64 {
        match self {
            Num::Rat(p, q) => {
                if q == 1 {
                    p as f64
                } else {
                    p as f64 / q as f64
                }
            }
            Num::Float(x) => x,
        }
    }

    /// Whether this is exactly zero.
    pub fn is_zero(self) -> bool {
        self == Num::ZERO
    }
    /// Whether this is exactly one.
    pub fn is_one(self) -> bool {
        self == Num::ONE
    }
    /// The integer, if this is one.
    pub fn as_int(self) -> Option<i64> {
        match self {
            Num::Rat(p, 1) => Some(p),
            _ => None,
        }
    }
    /// Whether the value is below zero.
    pub fn is_negative(self) -> bool {
        match self {
            Num::Rat(p, _) => p < 0,
            Num::Float(x) => x < 0.0,
        }
    }
    /// Whether the value is finite.
    pub fn is_finite(self) -> bool {
        match self {
            Num::Rat(..) => true,
            Num::Float(x) => x.is_finite(),
        }
    }

    /// −self.
    pub fn negated(self) -> Num {
        match self {
            Num::Rat(p, q) => Num::from_i128(-i128::from(p), i128::from(q)),
            Num::Float(x) => Num::float(-x),
        }
    }

    /// self + other.
    pub fn plus(self, other: Num) -> Num {
        match (self, other) {
            (Num::Rat(a, b), Num::Rat(c, d)) => {
                let (a, b, c, d) = (i128::from(a), i128::from(b), i128::from(c), i128::from(d));
                Num::from_i128(a * d + c * b, b * d)
            }
            _ => Num::float(self.to_f64() + other.to_f64()),
        }
    }

    /// self · other.
    pub fn times(self, other: Num) -> Num {
        match (self, other) {
            (Num::Rat(a, b), Num::Rat(c, d)) => {
                Num::from_i128(i128::from(a) * i128::from(c), i128::from(b) * i128::from(d))
            }
            _ => Num::float(self.to_f64() * other.to_f64()),
        }
    }

    /// 1 / self (`None` for exact zero, whose reciprocal stays unevaluated).
    pub fn recip(self) -> Option<Num> {
        match self {
            Num::Rat(0, _) => None,
            Num::Rat(p, q) => Some(Num::from_i128(i128::from(q), i128::from(p))),
            Num::Float(x) => Some(Num::float(1.0 / x)),
        }
    }

    /// self raised to an integer power, exact for rationals while it fits;
    /// `None` where a float result would not be a normal number (0 to a
    /// negative power, overflow, underflow); those stay unevaluated.
    pub fn powi(self, n: i64) -> Option<Num> {
        match self {
            Num::Float(x) => float_pow(x, n as f64),
            Num::Rat(..) if n < 0 => self.recip()?.powi(n.checked_neg()?),
            Num::Rat(p, q) => {
                let exact = u32::try_from(n)
                    .ok()
                    .and_then(|e| Some(Num::Rat(p.checked_pow(e)?, q.checked_pow(e)?)));
                exact.or_else(|| float_pow(self.to_f64(), n as f64))
            }
        }
    }

    /// The exact value of `self^(1/k)` when it is rational (4^(1/2) = 2).
    pub fn exact_root(self, k: i64) -> Option<Num> {
        let Num::Rat(p, q) = self else { return None };
        if k <= 0 || (p < 0 && k % 2 == 0) {
            return None;
        }
        let root = |v: i64| -> Option<i64> {
            let r = (v.unsigned_abs() as f64).powf(1.0 / k as f64).round() as i64;
            let e = u32::try_from(k).ok()?;
            for c in [r - 1, r, r + 1] {
                if c >= 0 && c.checked_pow(e) == Some(v.abs()) {
                    return Some(if v < 0 { -c } else { c });
                }
            }
            None
        };
        Some(Num::Rat(root(p)?, root(q)?))
    }

    /// A total order by value (NaN last), used to sort and compare numbers.
    pub fn cmp_value(self, other: Num) -> Ordering {
        match (self, other) {
            (Num::Rat(a, b), Num::Rat(c, d)) => {
                (i128::from(a) * i128::from(d)).cmp(&(i128::from(c) * i128::from(b)))
            }
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

/// x^e folded to a number only when the result is a normal f64; a negative
/// power is computed as 1/x^|e| and needs both to be normal. So `x^-n` and
/// `1/x^n` fold alike (printing writes one as the other), and overflow or
/// underflow stays unevaluated instead of becoming inf or 0.
pub(crate) fn float_pow(x: f64, e: f64) -> Option<Num> {
    let v = x.powf(e.abs());
    if !v.is_normal() {
        return None;
    }
    if e >= 0.0 {
        return Some(Num::float(v));
    }
    let r = 1.0 / v;
    r.is_normal().then(|| Num::float(r))
}

impl fmt::Display for Num {
    /// `3`, `-1/2`, `0.25`, `1e-20` (floats in Rust's shortest round-trip form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Rat(p, 1) => write!(f, "{p}"),
            Num::Rat(p, q) => write!(f, "{p}/{q}"),
            Num::Float(x) => {
                if x.is_nan() {
                    write!(f, "nan")
                } else if x.is_infinite() {
                    write!(f, "{}", if *x > 0.0 { "inf" } else { "-inf" })
                } else {
                    write!(f, "{x:?}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_arithmetic() {
        assert_eq!(Num::rational(2, 4), Num::Rat(1, 2));
        assert_eq!(Num::rational(1, -3), Num::Rat(-1, 3));
        assert_eq!(
            Num::rational(1, 2).plus(Num::rational(1, 3)),
            Num::Rat(5, 6)
        );
        assert_eq!(Num::rational(2, 3).times(Num::rational(3, 2)), Num::ONE);
        assert_eq!(Num::int(2).powi(-2), Some(Num::Rat(1, 4)));
        assert_eq!(Num::ZERO.powi(-1), None);
        assert_eq!(Num::float(2.0), Num::int(2));
        assert_eq!(Num::float(0.5), Num::Float(0.5));
        assert_eq!(Num::rational(4, 9).exact_root(2), Some(Num::Rat(2, 3)));
        assert_eq!(Num::int(-8).exact_root(3), Some(Num::int(-2)));
        assert_eq!(Num::int(2).exact_root(2), None);
        // Overflow falls back to f64.
        let big = Num::int(i64::MAX).times(Num::int(4));
        assert_eq!(big, Num::Float(i64::MAX as f64 * 4.0));
        assert_eq!(Num::rational(-3, 2).to_string(), "-3/2");
        assert_eq!(Num::float(1e-20).to_string(), "1e-20");
    }
}
