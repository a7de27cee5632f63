//! Truncated Taylor series: every derivative up to order K in O(K²) per op.
//!
//! # Recurrences
//!
//! A series `u = Σ uₖ tᵏ` holds `uₖ = u⁽ᵏ⁾/k!`. Each primitive maps the
//! input coefficients to the output's (Griewank & Walther, *Evaluating
//! Derivatives*, ch. 13):
//!
//! - **From the rules table** (every op without a recurrence below, so a new
//!   row of the op table needs nothing here): y = op(u) solves the
//!   derivative ODE `y' = g·u'` with `g = op'(u)`, which is
//!   [`rules::d_unary`] evaluated on the truncated series itself; integrated
//!   term by term, `yₖ = (1/k) Σ_{j=1..k} j·uⱼ·g_{k−j}` (JAX's jet does the
//!   same for ops defined by `def_deriv`). O(K²), or O(K³) for a rule that
//!   reads its output. `erf` and `softplus` are computed this way.
//! - `+ −`: term by term; `·`: the Cauchy product; `/`: `c = a/b` solved
//!   from `c·b = a`.
//! - Hand-written where measurably faster or more accurate (each arm of
//!   `unary_series` says which): the same ODE with `g` formed from the
//!   result: `exp` (g = y), `sin`/`cos` and `sinh`/`cosh` as pairs, `tan`
//!   (g = 1 + y²), `tanh` (g = 1 − y²), `sigmoid` (g = y(1 − y)). The
//!   constant term `g₀` is taken from [`rules::d_unary`] (so tanh'(20) =
//!   sech²20 = 1.7e-17 exactly, not `1 − y₀² = 0`) and the higher terms of
//!   `1 ∓ y²` are formed without the constant 1, so they do not cancel
//!   either.
//! - Ops with `y'·w = u'`: `ln` (w = u), `atan` (w = 1 + u²),
//!   `atanh` (w = 1 − u²), `asin`/`acos` (w = ±√(1 − u²)), `asinh`
//!   (w = √(u² + 1)), `acosh` (w = √(u² − 1)); `1 − u₀²` is formed as
//!   `(1 − u₀)(1 + u₀)`. `log2`/`log10` scale `ln`.
//! - `sqrt` from `y² = u`; `cbrt` and `pow` with a constant exponent `r`
//!   by the power recurrence `u·y' = r·y·u'` (which divides by `u₀`, so
//!   `x.powf(2.0)` at `x = 0` gives NaN beyond the value: use `powi`);
//!   `powi(n)` by repeated squaring (exact at 0), and its reciprocal for
//!   `n < 0`; `pow` with a non-constant exponent as `exp(y·ln x)` with the
//!   value taken from the kernel; `atan2(a, b)` from
//!   `y'·(a² + b²) = b·a' − a·b'`.
//! - Piecewise ops (`relu abs sign step max min`): the branch of the
//!   point's value, with the (constant) slope of the selected piece from
//!   the rules table; so relu'(0) = 0 and all higher coefficients of
//!   `sign`/`step` are 0.
//!
//! # Lengths
//!
//! A series has a truncation order K and stores a prefix of its
//! coefficients; those past the end are zero. A constant stores one
//! coefficient and costs nothing, the variable ([`Taylor::variable`])
//! stores `[x, 1]`, results of a binary op take the larger order, and the
//! recurrences skip the known zeros: `tanh` of the variable costs about
//! K²/4 multiply-adds, not K².

use std::f64::consts::{LN_10, LN_2};
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::ops::{BinaryOp, UnaryOp};
use crate::real::{strong_mul, Real};
use crate::rules;

/// A truncated Taylor series `c₀ + c₁t + … + c_K t^K` with `cₖ = f⁽ᵏ⁾/k!`.
///
/// The truncation order K ([`Taylor::order`]) and the stored coefficients
/// are separate: coefficients past the stored ones are zero, so a constant
/// stores one and the variable `[x, 1]` stores two, whatever K is, and
/// recurrences skip the known zeros.
///
/// ```
/// use chainrule::forward::Taylor;
/// use chainrule::Real;
/// // exp at 0: coefficients 1/k!
/// let y = Taylor::variable(0.0, 4).exp();
/// assert_eq!(y.coeffs(), &[1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0]);
/// // the 3rd derivative of x·sin x at 1: −x cos x − 3 sin x
/// let x = Taylor::variable(1.0, 3);
/// let d3 = (x.clone() * x.sin()).derivative(3);
/// let exact = -1f64.cos() - 3.0 * 1f64.sin();
/// assert!((d3 - exact).abs() < 1e-14);
/// ```
#[derive(Clone, Debug)]
pub struct Taylor<T: Real = f64> {
    /// Never empty, at most `order + 1` long; missing coefficients are zero.
    coeffs: Vec<T>,
    /// The truncation order K.
    order: usize,
}

fn zero<T: Real>() -> T {
    T::from_f64(0.0)
}

/// Coefficient `k` of `s`, zero past the end.
fn get<T: Real>(s: &[T], k: usize) -> T {
    s.get(k).cloned().unwrap_or_else(zero)
}

impl<T: Real> Taylor<T> {
    /// A series from its coefficients `c₀, c₁, …`, of order
    /// `coeffs.len() − 1` (an empty vector is the constant 0).
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// let s = Taylor::new(vec![1.0, 2.0, 3.0]);
    /// assert_eq!((s.coeff(1), s.order()), (2.0, 2));
    /// assert_eq!(s.coeff(7), 0.0);
    /// ```
    pub fn new(coeffs: Vec<T>) -> Self {
        if coeffs.is_empty() {
            Taylor::constant(zero())
        } else {
            let order = coeffs.len() - 1;
            Taylor { coeffs, order }
        }
    }

    /// A constant: one coefficient, order 0.
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// assert_eq!(Taylor::constant(2.5).coeffs(), &[2.5]);
    /// ```
    pub fn constant(value: T) -> Self {
        Taylor {
            coeffs: vec![value],
            order: 0,
        }
    }

    /// The independent variable at `x`, truncated at order `order`: the
    /// series `x + t` (coefficients `[x, 1, 0, …]`).
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// let x = Taylor::variable(3.0, 5);
    /// assert_eq!((x.coeff(0), x.coeff(1), x.coeff(2), x.order()), (3.0, 1.0, 0.0, 5));
    /// ```
    pub fn variable(x: T, order: usize) -> Self {
        let coeffs = if order == 0 {
            vec![x]
        } else {
            vec![x, T::from_f64(1.0)]
        };
        Taylor { coeffs, order }
    }

    /// The line `x + h·t` truncated at order `order`: running `f` on it
    /// gives the coefficients `f⁽ᵏ⁾(x)·hᵏ/k!`, which a step `h` can keep
    /// within range where `f⁽ᵏ⁾/k!` under- or overflows (see
    /// [`derivatives_at_f64`](crate::forward::derivatives_at_f64)).
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// use chainrule::Real;
    /// let y = Taylor::line(0.0, 2.0, 3).exp();
    /// assert_eq!(y.coeffs(), &[1.0, 2.0, 2.0, 8.0 / 6.0]);
    /// ```
    pub fn line(x: T, h: T, order: usize) -> Self {
        let coeffs = if order == 0 { vec![x] } else { vec![x, h] };
        Taylor { coeffs, order }
    }

    /// The stored coefficients: a prefix of `c₀ … c_K`, the rest zero.
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// use chainrule::Real;
    /// let y = Taylor::variable(0.0, 2).sin();
    /// assert_eq!(y.coeffs(), &[0.0, 1.0, 0.0]);
    /// assert_eq!(Taylor::variable(0.0, 9).coeffs(), &[0.0, 1.0]);
    /// ```
    pub fn coeffs(&self) -> &[T] {
        &self.coeffs
    }

    /// All `K + 1` coefficients `c₀ … c_K`, zero-padded, by value.
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// assert_eq!(Taylor::variable(1.0, 3).into_coeffs(), vec![1.0, 1.0, 0.0, 0.0]);
    /// ```
    pub fn into_coeffs(self) -> Vec<T> {
        let mut c = self.coeffs;
        c.resize_with(self.order + 1, zero);
        c
    }

    /// Coefficient `k`, `f⁽ᵏ⁾/k!` (zero past the stored ones).
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// use chainrule::Real;
    /// let y = Taylor::variable(0.0, 3).exp();
    /// assert_eq!(y.coeff(2), 0.5);
    /// ```
    pub fn coeff(&self, k: usize) -> T {
        get(&self.coeffs, k)
    }

    /// The value `c₀`.
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// assert_eq!(Taylor::variable(2.0, 5).value(), 2.0);
    /// ```
    pub fn value(&self) -> T {
        self.coeffs[0].clone()
    }

    /// The k-th derivative, `k!·cₖ`.
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// use chainrule::Real;
    /// let y = Taylor::variable(2.0, 3).powi(3);
    /// assert_eq!(y.derivative(3), 6.0);
    /// assert_eq!(y.derivative(2), 12.0);
    /// ```
    pub fn derivative(&self, k: usize) -> T {
        let factorial: f64 = (1..=k).map(|i| i as f64).product();
        self.coeff(k) * factorial
    }

    /// The truncation order K (0 for a constant); a binary op's result has
    /// the larger order of its operands.
    ///
    /// ```
    /// use chainrule::forward::Taylor;
    /// assert_eq!(Taylor::variable(1.0, 6).order(), 6);
    /// assert_eq!(Taylor::constant(1.0).order(), 0);
    /// ```
    pub fn order(&self) -> usize {
        self.order
    }
}

// ---------------------------------------------------------------------------
// Kernels on coefficient slices. Every input slice is non-empty and at most
// `n` long, where `n` = order + 1 of the result; entries past an input's end
// are zero, and the loops skip them.

/// Coefficient k of a·b.
#[inline]
fn cauchy<T: Real>(a: &[T], b: &[T], k: usize) -> T {
    let lo = k.saturating_sub(b.len() - 1);
    let hi = k.min(a.len() - 1);
    let mut s = zero::<T>();
    for j in lo..=hi {
        s = s + a[j].clone() * b[k - j].clone();
    }
    s
}

/// Σ_{i=1..m−1} yᵢ y_{m−i}, each pair once.
#[inline]
fn inner_square<T: Real>(y: &[T], m: usize) -> T {
    let mut s = zero::<T>();
    for i in 1..m.div_ceil(2) {
        s = s + y[i].clone() * y[m - i].clone();
    }
    s = s * 2.0;
    if m >= 2 && m.is_multiple_of(2) {
        s = s + y[m / 2].clone() * y[m / 2].clone();
    }
    s
}

// Each kernel that a series op uses often writes its result into a vector
// it is given (`*_into`: cleared, then filled), so that a replay of a
// recorded function ([`crate::functional::SeriesPlan`]) reuses its buffers
// and allocates nothing per call; the `Vec`-returning form used by
// [`Taylor`] calls it with a new vector, the same arithmetic in the same
// order, so both give the same coefficients bit for bit.

/// a·b to at most `n` coefficients (the exact product has la + lb − 1).
fn mul<T: Real>(a: &[T], b: &[T], n: usize) -> Vec<T> {
    let mut c = Vec::new();
    mul_into(a, b, n, &mut c);
    c
}

/// [`mul`] into `c`.
fn mul_into<T: Real>(a: &[T], b: &[T], n: usize, c: &mut Vec<T>) {
    c.clear();
    if b.len() == 1 {
        c.extend(a.iter().map(|x| x.clone() * b[0].clone()));
    } else if a.len() == 1 {
        c.extend(b.iter().map(|x| a[0].clone() * x.clone()));
    } else {
        let m = (a.len() + b.len() - 1).min(n);
        c.extend((0..m).map(|k| cauchy(a, b, k)));
    }
}

/// a/b: c·b = a, so cₖ = (aₖ − Σ_{j<k} cⱼ b_{k−j}) / b₀.
fn div<T: Real>(a: &[T], b: &[T], n: usize) -> Vec<T> {
    let mut c = Vec::new();
    div_into(a, b, n, &mut c);
    c
}

/// [`div`] into `c`.
fn div_into<T: Real>(a: &[T], b: &[T], n: usize, c: &mut Vec<T>) {
    c.clear();
    let b0 = b[0].clone();
    if b.len() == 1 {
        c.extend(a.iter().map(|x| x.clone() / b0.clone()));
        return;
    }
    c.reserve_exact(n);
    c.push(a[0].clone() / b0.clone());
    for k in 1..n {
        let mut s = get(a, k);
        for j in k.saturating_sub(b.len() - 1)..k {
            s = s - c[j].clone() * b[k - j].clone();
        }
        c.push(s / b0.clone());
    }
}

/// √(u² ± 1) to `m` coefficients when u₀ is a number beyond 1e150: there
/// ±1 is below the last bit of u² in every coefficient, so the root is |u|
/// (u times the sign of u₀), and u² itself would overflow (asinh' and
/// acosh' at 1e308 came out 0 instead of 1e-308). `None` otherwise.
fn huge_root<T: Real>(u: &[T], m: usize) -> Option<Vec<T>> {
    let v = u[0].as_f64()?;
    (v.abs() > 1e150).then(|| (0..m).map(|k| get(u, k) * v.signum()).collect())
}

/// Integrates `y'·w = sign·u'`:
/// yₖ = (sign·k·uₖ − Σ_{i=1..k−1} i·yᵢ·w_{k−i}) / (k·w₀).
fn integrate_quotient<T: Real>(u: &[T], w: &[T], y0: T, sign: f64, n: usize) -> Vec<T> {
    let mut y = Vec::new();
    integrate_quotient_into(u, w, y0, sign, n, &mut y);
    y
}

/// [`integrate_quotient`] into `y`.
fn integrate_quotient_into<T: Real>(u: &[T], w: &[T], y0: T, sign: f64, n: usize, y: &mut Vec<T>) {
    y.clear();
    y.reserve_exact(n);
    y.push(y0);
    for k in 1..n {
        let mut s = get(u, k) * (sign * k as f64);
        for i in (k + 1).saturating_sub(w.len()).max(1)..k {
            s = s - y[i].clone() * (i as f64) * w[k - i].clone();
        }
        y.push(s / (w[0].clone() * k as f64));
    }
}

/// exp(u) with a given value y₀ (the kernel's, or `pow`'s):
/// yₖ = (1/k) Σ_{j=1..k} j·uⱼ·y_{k−j}.
fn exp_with<T: Real>(u: &[T], y0: T, n: usize) -> Vec<T> {
    let mut y = Vec::new();
    exp_with_into(u, y0, n, &mut y);
    y
}

/// [`exp_with`] into `y`.
fn exp_with_into<T: Real>(u: &[T], y0: T, n: usize, y: &mut Vec<T>) {
    y.clear();
    y.reserve_exact(n);
    y.push(y0);
    for k in 1..n {
        let mut s = zero::<T>();
        for j in 1..=k.min(u.len() - 1) {
            s = s + u[j].clone() * (j as f64) * y[k - j].clone();
        }
        y.push(s / k as f64);
    }
}

/// ln(u): u·y' = u'.
fn ln<T: Real>(u: &[T], n: usize) -> Vec<T> {
    integrate_quotient(u, u, u[0].ln(), 1.0, n)
}

/// √u from y² = u: yₖ = (uₖ − Σ_{j=1..k−1} yⱼ y_{k−j}) / (2y₀).
fn sqrt_with<T: Real>(u: &[T], y0: T, n: usize) -> Vec<T> {
    let mut y = Vec::new();
    sqrt_with_into(u, y0, n, &mut y);
    y
}

/// [`sqrt_with`] into `y`.
fn sqrt_with_into<T: Real>(u: &[T], y0: T, n: usize, y: &mut Vec<T>) {
    y.clear();
    y.reserve_exact(n);
    y.push(y0);
    let two_y0 = y[0].clone() * 2.0;
    for k in 1..n {
        let s = get(u, k) - inner_square(y, k);
        y.push(s / two_y0.clone());
    }
}

/// u^r for a constant r with value y₀: u·y' = r·y·u', so
/// yₖ = Σ_{j=1..k} (r·j − (k − j))·uⱼ·y_{k−j} / (k·u₀).
fn power<T: Real>(u: &[T], r: &T, y0: T, n: usize) -> Vec<T> {
    let mut y: Vec<T> = Vec::with_capacity(n);
    y.push(y0);
    for k in 1..n {
        let mut s = zero::<T>();
        for j in 1..=k.min(u.len() - 1) {
            let w = r.clone() * (j as f64) - (k - j) as f64;
            s = s + w * u[j].clone() * y[k - j].clone();
        }
        y.push(s / (u[0].clone() * k as f64));
    }
    y
}

/// u^r at u₀ = 0 for a constant r that is not an integer, where the power
/// recurrence would divide by u₀. With u = uₘtᵐ + … (uₘ the first nonzero
/// coefficient), u^r starts at t^(m·r): every coefficient below is 0; for
/// u = u₁t exactly, coefficient k is C(r, k)·u₁ᵏ·0^(r−k) (so x^1.5 at 0
/// gives 0, 0, then ±inf: the derivatives from the second on are
/// infinite); past m·r of any other u the series does not exist (NaN).
fn power_at_zero<T: Real>(u: &[T], r: f64, n: usize) -> Vec<T> {
    let values: Option<Vec<f64>> = u.iter().map(Real::as_f64).collect();
    let Some(v) = values else {
        return vec![T::from_f64(f64::NAN); n];
    };
    let Some(m) = v.iter().position(|&c| c != 0.0) else {
        return vec![T::from_f64(0f64.powf(r))];
    };
    let linear = m == 1 && v.len() == 2;
    let mut y = Vec::with_capacity(n);
    let mut binom = 1.0;
    for k in 0..n {
        if k > 0 {
            binom *= (r - (k - 1) as f64) / k as f64;
        }
        let c = if linear {
            strong_mul(binom * v[1].powi(k as i32), 0f64.powf(r - k as f64))
        } else if (k as f64) < m as f64 * r {
            0.0
        } else {
            f64::NAN
        };
        y.push(T::from_f64(c));
    }
    y
}

/// uᵉ for e ≥ 1 by repeated squaring, to at most n coefficients.
fn powi_positive<T: Real>(u: &[T], e: u32, n: usize) -> Vec<T> {
    if e == 2 {
        // The square, which rules use most (x², 1 − x²), without copies.
        return mul(u, u, n);
    }
    let mut result: Option<Vec<T>> = None;
    let mut base: Vec<T> = u.to_vec();
    let mut e = e;
    loop {
        if e & 1 == 1 {
            result = Some(match result {
                None => base.clone(),
                Some(r) => mul(&r, &base, n),
            });
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        base = mul(&base, &base, n);
    }
    result.unwrap_or_else(|| vec![T::from_f64(1.0)])
}

/// s' = c·u', c' = sign·s·u': (sin, cos) for sign −1, (sinh, cosh) for +1.
#[cfg(test)]
fn trig_pair<T: Real>(u: &[T], s0: T, c0: T, sign: f64, n: usize) -> (Vec<T>, Vec<T>) {
    let (mut s, mut c) = (Vec::new(), Vec::new());
    trig_pair_into(u, s0, c0, sign, n, &mut s, &mut c);
    (s, c)
}

/// [`trig_pair`] into `s` and `c`.
fn trig_pair_into<T: Real>(
    u: &[T],
    s0: T,
    c0: T,
    sign: f64,
    n: usize,
    s: &mut Vec<T>,
    c: &mut Vec<T>,
) {
    s.clear();
    c.clear();
    s.reserve_exact(n);
    c.reserve_exact(n);
    s.push(s0);
    c.push(c0);
    for k in 1..n {
        let mut ss = zero::<T>();
        let mut cc = zero::<T>();
        for j in 1..=k.min(u.len() - 1) {
            let ju = u[j].clone() * (j as f64);
            ss = ss + ju.clone() * c[k - j].clone();
            cc = cc + ju * s[k - j].clone();
        }
        s.push(ss / k as f64);
        c.push(cc * (sign / k as f64));
    }
}

/// y' = g·u' with g = g₀ + a·(y² − y₀²) + b·(y − y₀) and g₀ from the rules
/// table: tan (a = 1), tanh (a = −1), sigmoid (a = −1, b = 1). For m ≥ 1,
/// gₘ = (2a·y₀ + b)·yₘ + a·Σ_{i=1..m−1} yᵢ y_{m−i}: no constant 1 to
/// cancel against. The result goes into `y`, `g` is scratch.
fn quadratic_ode_into<T: Real>(
    u: &[T],
    op: UnaryOp,
    (a, b): (f64, f64),
    n: usize,
    y: &mut Vec<T>,
    g: &mut Vec<T>,
) {
    let y0 = u[0].unary(op);
    let g0 = rules::d_unary(op, &u[0], &y0);
    y.clear();
    g.clear();
    y.reserve_exact(n);
    g.reserve_exact(n);
    y.push(y0);
    g.push(g0);
    let lin = y[0].clone() * (2.0 * a) + b;
    for k in 1..n {
        if k >= 2 {
            let m = k - 1;
            g.push(lin.clone() * y[m].clone() + inner_square(y, m) * a);
        }
        let mut s = zero::<T>();
        for j in 1..=k.min(u.len() - 1) {
            s = s + u[j].clone() * (j as f64) * g[k - j].clone();
        }
        y.push(s / k as f64);
    }
}

#[derive(Clone, Copy)]
enum OneSquare {
    /// 1 − u²
    OneMinus,
    /// u² − 1
    MinusOne,
    /// u² + 1
    Plus,
}

/// 1 − u², u² − 1 or u² + 1 to at most `n` terms, with the constant term
/// of the differences formed as (1 − u₀)(1 + u₀) so it does not cancel.
fn one_and_square<T: Real>(u: &[T], n: usize, kind: OneSquare) -> Vec<T> {
    let u = &u[..u.len().min(n)];
    let mut w = mul(u, u, n);
    let u0 = u[0].clone();
    let one = || T::from_f64(1.0);
    match kind {
        OneSquare::OneMinus => {
            for x in w.iter_mut().skip(1) {
                *x = -x.clone();
            }
            w[0] = (one() - u0.clone()) * (one() + u0);
        }
        OneSquare::MinusOne => w[0] = (u0.clone() - 1.0) * (u0 + 1.0),
        OneSquare::Plus => w[0] = w[0].clone() + 1.0,
    }
    w
}

/// The piecewise-linear ops and max/min: yₖ = slope·uₖ for k ≥ 1.
/// The result goes into `y`.
fn scale_tail_into<T: Real>(u: &[T], y0: T, slope: T, y: &mut Vec<T>) {
    y.clear();
    if slope.as_f64() == Some(0.0) {
        // A strong zero: the result is a constant (sign, step, a dead
        // relu), so an op applied to it sees no tangent at all (acos of
        // sign(x) is a constant, not 0/0 from acos'(1) = ∞ times 0).
        y.push(y0);
        return;
    }
    y.reserve_exact(u.len());
    y.push(y0);
    y.extend(u[1..].iter().map(|x| slope.clone() * x.clone()));
}

/// `op(u)` to `n` coefficients from the rules table alone, as JAX's jet
/// does for an op with `def_deriv`: y = op(u) solves y' = g·u' with
/// g = op'(u) = [`rules::d_unary`] evaluated on the truncated series.
fn from_rule<T: Real>(u: &[T], n: usize, op: UnaryOp) -> Vec<T> {
    let reads_y = rules::d_unary(op, &DependsOnY(false), &DependsOnY(true)).0;
    integrate_rule([u], u[0].unary(op), n, reads_y, |m, y| {
        [rules::d_unary(op, &truncated(u, m), y)]
    })
}

/// jₙ(u) (j₀ = sinc) to `n` coefficients. By DLMF 10.51.2 each
/// yₘ = jₘ(u) has yₘ′ = u′·gₘ with gₘ = (m·yₘ₋₁ − (m+1)·yₘ₊₁)/(2m+1) (the
/// rules table's), so coefficient k of yₘ reads coefficients < k of yₘ±₁:
/// yₙ to order K needs the orders n − K..n + K to order K − |m − n|,
/// integrated together one coefficient at a time (each value y_m[0] from
/// the op's own kernel).
fn spherical_series<T: Real>(u: &[T], order: u32, n: usize) -> Vec<T> {
    let top = (n - 1) as u32;
    let lo = order.saturating_sub(top);
    let value = |m: u32| match m {
        0 => u[0].unary(UnaryOp::Sinc),
        _ => u[0].unary(UnaryOp::SphJ(m as i32)),
    };
    let mut ys: Vec<Vec<T>> = (lo..=order + top)
        .map(|m| {
            let mut y = Vec::with_capacity(n);
            y.push(value(m));
            y
        })
        .collect();
    for k in 1..n {
        let reach = top - k as u32;
        for m in order.saturating_sub(reach)..=order + reach {
            let at = |m: u32, i: usize| ys[(m - lo) as usize][i].clone();
            let weight = 1.0 / f64::from(2 * m + 1);
            let mut sum = zero::<T>();
            for (j, uj) in u.iter().enumerate().take(k + 1).skip(1) {
                let i = k - j;
                let mut g = at(m + 1, i) * (-f64::from(m + 1) * weight);
                if m > 0 {
                    g = g + at(m - 1, i) * (f64::from(m) * weight);
                }
                sum = sum + uj.clone() * (j as f64) * g;
            }
            let yk = sum / (k as f64);
            ys[(m - lo) as usize].push(yk);
        }
    }
    ys.swap_remove((order - lo) as usize)
}

/// `op(a, b)` to `n` coefficients from the rules table alone: y' = gₐ·a' +
/// g_b·b' with (gₐ, g_b) = [`rules::d_binary`] on the truncated series.
fn from_binary_rule<T: Real>(a: &[T], b: &[T], n: usize, op: BinaryOp) -> Vec<T> {
    let (f, t) = (DependsOnY(false), DependsOnY(true));
    let (ra, rb) = rules::d_binary(op, &f, &f, &t);
    integrate_rule([a, b], a[0].binary(op, &b[0]), n, ra.0 || rb.0, |m, y| {
        let (ga, gb) = rules::d_binary(op, &truncated(a, m), &truncated(b, m), y);
        [ga, gb]
    })
}

/// The series of `u` to order `m` (its first m + 1 coefficients).
fn truncated<T: Real>(u: &[T], m: usize) -> Taylor<T> {
    Taylor {
        coeffs: u[..u.len().min(m + 1)].to_vec(),
        order: m,
    }
}

/// Integrates y' = Σᵢ gᵢ·uᵢ' term by term from y₀:
/// yₖ = (1/k) Σᵢ Σ_{j=1..k} j·uᵢⱼ·gᵢ,ₖ₋ⱼ, where `partials(m, y)` gives the
/// gᵢ to order m from the series y. Coefficient m of gᵢ reads the inputs and
/// y up to order m, so a rule that reads y (`reads_y`, as exp' = y does) is
/// evaluated once per order on the coefficients known so far (O(K³)); one
/// that does not, once (O(K²)).
fn integrate_rule<T: Real, const N: usize>(
    inputs: [&[T]; N],
    y0: T,
    n: usize,
    reads_y: bool,
    partials: impl Fn(usize, &Taylor<T>) -> [Taylor<T>; N],
) -> Vec<T> {
    let mut y: Vec<T> = Vec::with_capacity(n);
    let mut g = (!reads_y).then(|| partials(n - 2, &Taylor::constant(y0.clone())));
    y.push(y0);
    for k in 1..n {
        if reads_y {
            // y₀ … y_{k−1} are known, so g is right to order k − 1.
            let known = Taylor {
                coeffs: y.clone(),
                order: k - 1,
            };
            g = Some(partials(k - 1, &known));
        }
        let mut s = zero::<T>();
        for (u, gi) in inputs.iter().zip(g.iter().flatten()) {
            for (j, uj) in u.iter().enumerate().take(k + 1).skip(1) {
                s = s + uj.clone() * (j as f64) * get(&gi.coeffs, k - j);
            }
        }
        y.push(s / k as f64);
    }
    y
}

/// A stand-in number that records only whether it was computed from the
/// output `y`. Rules are written with [`Real`] operations alone (no
/// comparisons, no branches on values), so a rule evaluated on these tells
/// exactly whether it reads `y` (exp' = y, √' = 1/(2y)), for a few boolean
/// ors.
#[derive(Clone, Copy, Debug)]
struct DependsOnY(bool);

impl Real for DependsOnY {
    fn from_f64(_: f64) -> Self {
        DependsOnY(false)
    }
    fn unary(&self, _: UnaryOp) -> Self {
        *self
    }
    fn binary(&self, _: BinaryOp, rhs: &Self) -> Self {
        DependsOnY(self.0 || rhs.0)
    }
}

/// `DependsOnY ∘ DependsOnY` and `DependsOnY ∘ f64` for one operator.
macro_rules! depends_on_y_operator {
    ($trait:ident, $method:ident) => {
        impl $trait for DependsOnY {
            type Output = DependsOnY;
            fn $method(self, rhs: DependsOnY) -> DependsOnY {
                DependsOnY(self.0 || rhs.0)
            }
        }
        impl $trait<f64> for DependsOnY {
            type Output = DependsOnY;
            fn $method(self, _: f64) -> DependsOnY {
                self
            }
        }
    };
}

depends_on_y_operator!(Add, add);
depends_on_y_operator!(Sub, sub);
depends_on_y_operator!(Mul, mul);
depends_on_y_operator!(Div, div);

impl Neg for DependsOnY {
    type Output = DependsOnY;
    fn neg(self) -> DependsOnY {
        self
    }
}

/// `op(u)` to `n` coefficients: a hand-written recurrence where one is
/// faster or more accurate than [`from_rule`], which every other op (any new
/// row of the op table included) goes through.
///
/// Each arm says why it is kept. "N× faster" is from_rule's time over the
/// recurrence's for `sin(p + t + 0.1t²)`-like inputs at orders 2, 4, 10 and
/// 30 (f64, release, minimum of 7 runs); both give the same coefficients to
/// a few ulps. `erf` and `softplus` had recurrences that were from_rule
/// specialised by hand (the same coefficients, bit for bit, and within
/// 1.1–1.4× of its time), so they use from_rule now.
fn unary_series<T: Real>(u: &[T], n: usize, op: UnaryOp) -> Vec<T> {
    let mut y = Vec::new();
    unary_series_into(u, n, op, &mut y, &mut Vec::new());
    y
}

/// [`unary_series`] into `y`, with `tmp` as scratch. The ops used most
/// (`neg exp ln log2 log10 sqrt sin cos sinh cosh tan tanh sigmoid relu abs
/// sign step powi(0) powi(2)`) write into `y` and `tmp` alone, so with
/// buffers of capacity `n` they allocate nothing; the others build their
/// result and move it into `y`.
pub(crate) fn unary_series_into<T: Real>(
    u: &[T],
    n: usize,
    op: UnaryOp,
    y: &mut Vec<T>,
    tmp: &mut Vec<T>,
) {
    use UnaryOp::*;
    let u = &u[..u.len().min(n)];
    if n == 1 || u.len() == 1 {
        y.clear();
        y.push(u[0].unary(op));
        return;
    }
    match op {
        // Faster: no series arithmetic at all.
        Neg => {
            y.clear();
            y.extend(u.iter().map(|x| -x.clone()));
        }
        // Faster: exp' = y reads the output, so from_rule evaluates the
        // rule once per order (4–19×).
        Exp => exp_with_into(u, u[0].exp(), n, y),
        // Faster: one pass instead of a reciprocal and an integration
        // (1.4–4.5×); pow's recurrence uses it too.
        Ln => integrate_quotient_into(u, u, u[0].ln(), 1.0, n, y),
        // Faster, as ln (1.3–4.4×).
        Log2 | Log10 => {
            let scale = if op == Log2 { LN_2 } else { LN_10 };
            integrate_quotient_into(u, u, u[0].ln(), 1.0, n, y);
            y[0] = u[0].unary(op);
            for x in y.iter_mut().skip(1) {
                *x = x.clone() / scale;
            }
        }
        // Faster: the rules read y (√' = 1/(2y), ∛' = 1/(3y²)), 19–125×.
        Sqrt => sqrt_with_into(u, u[0].sqrt(), n, y),
        Cbrt => *y = power(u, &T::from_f64(1.0 / 3.0), u[0].cbrt(), n),
        // Faster: the pair shares one pass (1.3–2.1×).
        Sin => trig_pair_into(u, u[0].sin(), u[0].cos(), -1.0, n, y, tmp),
        Cos => trig_pair_into(u, u[0].sin(), u[0].cos(), -1.0, n, tmp, y),
        Sinh => trig_pair_into(u, u[0].sinh(), u[0].cosh(), 1.0, n, y, tmp),
        Cosh => trig_pair_into(u, u[0].sinh(), u[0].cosh(), 1.0, n, tmp, y),
        // Faster (2.2–4×); tanh's is also finite where cosh overflows (at
        // 800 its third coefficient is 0, from_rule's NaN), g being formed
        // from y.
        Tan => quadratic_ode_into(u, Tan, (1.0, 0.0), n, y, tmp),
        Tanh => quadratic_ode_into(u, Tanh, (-1.0, 0.0), n, y, tmp),
        Sigmoid => quadratic_ode_into(u, Sigmoid, (-1.0, 1.0), n, y, tmp),
        // sinc = j₀ and the spherical Bessel functions: their rule names two
        // neighbours (jₘ′ from jₘ₋₁ and jₘ₊₁), so from_rule's Taylor numbers
        // call the rule of each neighbour again: 2ᵏ calls at order k
        // (order 40 never finished). All the orders needed are carried
        // together instead: O(k³).
        Sinc => *y = spherical_series(u, 0, n),
        SphJ(m) => *y = spherical_series(u, m.unsigned_abs(), n),
        // Faster (1.3–4.7×): one product and one quotient pass.
        Atan => {
            let w = one_and_square(u, n - 1, OneSquare::Plus);
            *y = integrate_quotient(u, &w, u[0].atan(), 1.0, n);
        }
        // More accurate near ±1 and 1: 1 − u₀² is formed as (1 − u₀)(1 + u₀)
        // (1 ∓ 1e-8: from_rule's first coefficient, from the rule's
        // 1 − x², is off by 5.5e-10 relative for atanh, 2.8e-10 for asin,
        // 2.5e-9 for acosh; these are exact), and faster
        // (1.2–3.8×).
        Atanh => {
            let w = one_and_square(u, n - 1, OneSquare::OneMinus);
            *y = integrate_quotient(u, &w, u[0].atanh(), 1.0, n);
        }
        Asin | Acos => {
            let v = one_and_square(u, n - 1, OneSquare::OneMinus);
            let w = sqrt_with(&v, v[0].sqrt(), n - 1);
            let sign = if op == Asin { 1.0 } else { -1.0 };
            *y = integrate_quotient(u, &w, u[0].unary(op), sign, n);
        }
        Acosh => {
            let w = huge_root(u, n - 1).unwrap_or_else(|| {
                let v = one_and_square(u, n - 1, OneSquare::MinusOne);
                sqrt_with(&v, v[0].sqrt(), n - 1)
            });
            *y = integrate_quotient(u, &w, u[0].acosh(), 1.0, n);
        }
        // Faster (1.2–2.5×), as acosh.
        Asinh => {
            let w = huge_root(u, n - 1).unwrap_or_else(|| {
                let v = one_and_square(u, n - 1, OneSquare::Plus);
                sqrt_with(&v, v[0].sqrt(), n - 1)
            });
            *y = integrate_quotient(u, &w, u[0].asinh(), 1.0, n);
        }
        // Faster (3–9×), and the result keeps u's length (known zeros are
        // not stored): yₖ = slope·uₖ.
        Relu | Abs | Sign | Step => {
            let y0 = u[0].unary(op);
            let slope = rules::d_unary(op, &u[0], &y0);
            scale_tail_into(u, y0, slope, y);
        }
        // Faster (1.3–9.5×) and exact at u₀ = 0 (repeated squaring).
        Powi(0) => {
            y.clear();
            y.push(u[0].powi(0));
        }
        // The square (x², 1 − x² in rules) as powi_positive forms it.
        Powi(2) => {
            mul_into(u, u, n, y);
            y[0] = u[0].powi(2);
        }
        Powi(k) => {
            *y = powi_positive(u, k.unsigned_abs(), n);
            if k < 0 {
                *y = div(&[T::from_f64(1.0)], y, n);
            }
            y[0] = u[0].powi(k);
        }
        _ => *y = from_rule(u, n, op),
    }
}

/// `op(a, b)` to `n` coefficients. Every binary op has a recurrence here,
/// each faster than [`from_binary_rule`] (`+ − · max min`: 4–17×, `/` and
/// `pow`, whose rules read the output: 14–100×, `atan2`: 1.7–7× to order
/// 10); a new one goes through from_binary_rule until it has one.
fn binary_series<T: Real>(a: &[T], b: &[T], n: usize, op: BinaryOp) -> Vec<T> {
    let mut y = Vec::new();
    binary_series_into(a, b, n, op, &mut y);
    y
}

/// [`binary_series`] into `y`: `+ − · /` write into it alone (no
/// allocation once it has capacity `n`), the others move their result in.
pub(crate) fn binary_series_into<T: Real>(
    a: &[T],
    b: &[T],
    n: usize,
    op: BinaryOp,
    y: &mut Vec<T>,
) {
    use BinaryOp::*;
    let a = &a[..a.len().min(n)];
    let b = &b[..b.len().min(n)];
    let m = a.len().max(b.len());
    y.clear();
    if n == 1 || m == 1 {
        y.push(a[0].binary(op, &b[0]));
        return;
    }
    match op {
        Add => y.extend((0..m).map(|k| get(a, k) + get(b, k))),
        Sub => y.extend((0..m).map(|k| get(a, k) - get(b, k))),
        Mul => mul_into(a, b, n, y),
        Div => div_into(a, b, n, y),
        _ => *y = binary_series_other(a, b, n, op),
    }
}

/// [`binary_series`] of the ops other than `+ − · /`, on inputs already
/// cut to `n` coefficients, of which one has two or more.
fn binary_series_other<T: Real>(a: &[T], b: &[T], n: usize, op: BinaryOp) -> Vec<T> {
    use BinaryOp::*;
    let m = a.len().max(b.len());
    match op {
        Pow => {
            let y0 = a[0].pow(&b[0]);
            if b.len() == 1 {
                let r = b[0].as_f64();
                match r.filter(|r| r.fract() == 0.0 && r.abs() <= f64::from(i32::MAX)) {
                    // An integral exponent: powi's recurrence, exact at 0
                    // (pow(x, 0.0) at 0 is [1, 0, 0], not 0/0).
                    Some(k) => unary_series(a, n, UnaryOp::Powi(k as i32)),
                    None => match (r, a[0].as_f64()) {
                        (Some(r), Some(0.0)) => power_at_zero(a, r, n),
                        _ => power(a, &b[0], y0, n),
                    },
                }
            } else {
                let ln_a = if a.len() == 1 {
                    vec![a[0].ln()]
                } else {
                    ln(a, n)
                };
                let z = mul(&ln_a, b, n);
                exp_with(&z, y0, n)
            }
        }
        Atan2 => {
            // y = atan2(a, b), y'·(a² + b²) = b·a' − a·b'.
            let y0 = a[0].atan2(&b[0]);
            let mut y: Vec<T> = Vec::with_capacity(n);
            y.push(y0);
            let w: Vec<T> = (0..n - 1)
                .map(|m| cauchy(a, a, m) + cauchy(b, b, m))
                .collect();
            for k in 1..n {
                // N_{k−1} = Σ_{i=0..k−1} (k − i)(bᵢ a_{k−i} − aᵢ b_{k−i})
                let mut s = zero::<T>();
                for i in 0..k {
                    let f = (k - i) as f64;
                    s = s + (get(b, i) * get(a, k - i) - get(a, i) * get(b, k - i)) * f;
                }
                for i in 1..k {
                    s = s - y[i].clone() * (i as f64) * w[k - i].clone();
                }
                y.push(s / (w[0].clone() * k as f64));
            }
            y
        }
        Max | Min => {
            let y0 = a[0].binary(op, &b[0]);
            let (da, db) = rules::d_binary(op, &a[0], &b[0], &y0);
            let mut y = Vec::with_capacity(m);
            y.push(y0);
            for k in 1..m {
                // Strong zeros: the branch not taken contributes 0 even
                // where its series is infinite.
                y.push(da.strong_mul(&get(a, k)) + db.strong_mul(&get(b, k)));
            }
            y
        }
        #[allow(unreachable_patterns)] // until a row has no arm above
        _ => from_binary_rule(a, b, n, op),
    }
}

impl<T: Real> Real for Taylor<T> {
    fn from_f64(x: f64) -> Self {
        Taylor::constant(T::from_f64(x))
    }

    fn unary(&self, op: UnaryOp) -> Self {
        Taylor {
            coeffs: unary_series(&self.coeffs, self.order + 1, op),
            order: self.order,
        }
    }

    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        let order = self.order.max(rhs.order);
        Taylor {
            coeffs: binary_series(&self.coeffs, &rhs.coeffs, order + 1, op),
            order,
        }
    }
}

impl<T: Real> Add for Taylor<T> {
    type Output = Taylor<T>;
    fn add(self, rhs: Taylor<T>) -> Taylor<T> {
        let order = self.order.max(rhs.order);
        let (mut long, short) = if self.coeffs.len() >= rhs.coeffs.len() {
            (self, rhs)
        } else {
            (rhs, self)
        };
        for (x, y) in long.coeffs.iter_mut().zip(short.coeffs) {
            *x = x.clone() + y;
        }
        long.order = order;
        long
    }
}

impl<T: Real> Sub for Taylor<T> {
    type Output = Taylor<T>;
    fn sub(self, rhs: Taylor<T>) -> Taylor<T> {
        let order = self.order.max(rhs.order);
        let mut out = if self.coeffs.len() >= rhs.coeffs.len() {
            let mut out = self;
            for (x, y) in out.coeffs.iter_mut().zip(rhs.coeffs) {
                *x = x.clone() - y;
            }
            out
        } else {
            let mut out = rhs;
            for (k, x) in out.coeffs.iter_mut().enumerate() {
                *x = get(&self.coeffs, k) - x.clone();
            }
            out
        };
        out.order = order;
        out
    }
}

impl<T: Real> Mul for Taylor<T> {
    type Output = Taylor<T>;
    fn mul(self, rhs: Taylor<T>) -> Taylor<T> {
        self.binary(BinaryOp::Mul, &rhs)
    }
}

impl<T: Real> Div for Taylor<T> {
    type Output = Taylor<T>;
    fn div(self, rhs: Taylor<T>) -> Taylor<T> {
        self.binary(BinaryOp::Div, &rhs)
    }
}

impl<T: Real> Neg for Taylor<T> {
    type Output = Taylor<T>;
    fn neg(mut self) -> Taylor<T> {
        for x in self.coeffs.iter_mut() {
            *x = -x.clone();
        }
        self
    }
}

/// `&Taylor ∘ &Taylor` for one operator.
macro_rules! taylor_ref_operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl<T: Real> $trait<&Taylor<T>> for &Taylor<T> {
            type Output = Taylor<T>;
            fn $method(self, rhs: &Taylor<T>) -> Taylor<T> {
                self.binary($op, rhs)
            }
        }
    };
}

taylor_ref_operator!(Add, add, BinaryOp::Add);
taylor_ref_operator!(Sub, sub, BinaryOp::Sub);
taylor_ref_operator!(Mul, mul, BinaryOp::Mul);
taylor_ref_operator!(Div, div, BinaryOp::Div);

impl<T: Real> Add<f64> for Taylor<T> {
    type Output = Taylor<T>;
    fn add(mut self, rhs: f64) -> Taylor<T> {
        self.coeffs[0] = self.coeffs[0].clone() + rhs;
        self
    }
}

impl<T: Real> Sub<f64> for Taylor<T> {
    type Output = Taylor<T>;
    fn sub(mut self, rhs: f64) -> Taylor<T> {
        self.coeffs[0] = self.coeffs[0].clone() - rhs;
        self
    }
}

impl<T: Real> Mul<f64> for Taylor<T> {
    type Output = Taylor<T>;
    fn mul(mut self, rhs: f64) -> Taylor<T> {
        for x in self.coeffs.iter_mut() {
            *x = x.clone() * rhs;
        }
        self
    }
}

impl<T: Real> Div<f64> for Taylor<T> {
    type Output = Taylor<T>;
    fn div(mut self, rhs: f64) -> Taylor<T> {
        for x in self.coeffs.iter_mut() {
            *x = x.clone() / rhs;
        }
        self
    }
}

impl<T: Real> Add<Taylor<T>> for f64 {
    type Output = Taylor<T>;
    fn add(self, rhs: Taylor<T>) -> Taylor<T> {
        rhs + self
    }
}

impl<T: Real> Sub<Taylor<T>> for f64 {
    type Output = Taylor<T>;
    fn sub(self, rhs: Taylor<T>) -> Taylor<T> {
        -rhs + self
    }
}

impl<T: Real> Mul<Taylor<T>> for f64 {
    type Output = Taylor<T>;
    fn mul(self, rhs: Taylor<T>) -> Taylor<T> {
        rhs * self
    }
}

impl<T: Real> Div<Taylor<T>> for f64 {
    type Output = Taylor<T>;
    fn div(self, rhs: Taylor<T>) -> Taylor<T> {
        Taylor::<T>::from_f64(self) / rhs
    }
}

impl<T: Real> From<T> for Taylor<T> {
    /// A constant.
    fn from(value: T) -> Self {
        Taylor::constant(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    /// sinc x = 1 − x²/6 + x⁴/120 − x⁶/5040 + …: its derivatives at 0 are
    /// 1, 0, −1/3, 0, 1/5, 0, −1/7 (the (2j)-th is (−1)ʲ/(2j + 1)), from the
    /// rule −j₁ through the generic recurrence (the old rule, (cos x −
    /// sinc x)/x, was 0/0 here); sinc(2x) scales the k-th by 2ᵏ.
    #[test]
    fn sinc_at_zero_takes_its_series() {
        let d = crate::forward::derivatives_at_f64(|x| x.sinc(), 0.0, 6);
        let want = [1.0, 0.0, -1.0 / 3.0, 0.0, 1.0 / 5.0, 0.0, -1.0 / 7.0];
        for (k, (got, want)) in d.iter().zip(want).enumerate() {
            assert!(close(*got, want, 1e-14), "k = {k}: {got} vs {want}");
        }
        let d2 = crate::forward::derivatives_at_f64(|x| (x * 2.0).sinc(), 0.0, 4);
        assert!(
            close(d2[2], -4.0 / 3.0, 1e-14) && close(d2[4], 16.0 / 5.0, 1e-14),
            "{d2:?}"
        );
    }

    #[test]
    fn sinc_to_high_orders_is_quick_and_right() {
        // At 0: sinc^(2j)(0) = (−1)^j/(2j + 1), the odd orders 0. The rule
        // alone took 2^k calls here (order 40 never finished).
        let d = crate::forward::derivatives_at_f64(|x| x.sinc(), 0.0, 60);
        for (k, got) in d.iter().enumerate() {
            let j = k / 2;
            let want = if k % 2 == 1 {
                0.0
            } else {
                (-1f64).powi(j as i32) / (2 * j + 1) as f64
            };
            assert!(close(*got, want, 1e-12), "k = {k}: {got} vs {want}");
        }
        // Away from 0, y = sinc solves x·y″ + 2y′ + x·y = 0; differentiated k
        // times: x·y⁽ᵏ⁺²⁾ + (k + 2)·y⁽ᵏ⁺¹⁾ + x·y⁽ᵏ⁾ + k·y⁽ᵏ⁻¹⁾ = 0.
        let x = 1.3;
        let d = crate::forward::derivatives_at_f64(|t| t.sinc(), x, 40);
        for k in 1..=38 {
            let terms = [
                x * d[k + 2],
                (k + 2) as f64 * d[k + 1],
                x * d[k],
                k as f64 * d[k - 1],
            ];
            let scale: f64 = terms.iter().map(|t| t.abs()).sum();
            let residual: f64 = terms.iter().sum();
            assert!(
                residual.abs() <= 1e-12 * scale,
                "k = {k}: {residual} of {scale}"
            );
        }
    }

    #[test]
    fn lengths_follow_the_variable() {
        let c = Taylor::constant(2.0);
        let x = Taylor::variable(1.0, 5);
        assert_eq!((c.clone() * c.clone()).order(), 0);
        assert_eq!((c.clone() + x.clone()).order(), 5);
        assert_eq!((x.clone() / c.clone()).order(), 5);
        assert_eq!((c / x).order(), 5);
    }

    #[test]
    fn known_zeros_are_not_stored() {
        let x = Taylor::variable(0.5, 16);
        assert_eq!(x.coeffs().len(), 2);
        assert_eq!((x.clone() * x.clone()).coeffs().len(), 3);
        assert_eq!(x.clone().powi(4).coeffs().len(), 5);
        assert_eq!(x.relu().coeffs().len(), 2);
        assert_eq!(x.tanh().coeffs().len(), 17);
        // x⁴ at 0.5 to order 16: 1/16, 4/8, 6/4, 4/2, 1, then zeros.
        assert_eq!(
            x.powi(4).into_coeffs()[..6],
            [0.0625, 0.5, 1.5, 2.0, 1.0, 0.0]
        );
    }

    #[test]
    fn division_is_the_geometric_series() {
        // 1/(1 − t) = 1 + t + t² + …
        let t = Taylor::variable(0.0, 6);
        let y = 1.0 / (1.0 - t);
        assert_eq!(y.coeffs(), &[1.0; 7]);
    }

    #[test]
    fn powi_at_zero_is_exact() {
        // (x)^3 at 0: 0, 0, 0, 1
        let y = Taylor::variable(0.0, 4).powi(3);
        assert_eq!(y.into_coeffs(), vec![0.0, 0.0, 0.0, 1.0, 0.0]);
        // (1 + x)^-2 at 0: (−1)^k (k + 1)
        let y = (Taylor::variable(0.0, 4) + 1.0).powi(-2);
        assert_eq!(y.coeffs().len(), 5);
        for (k, c) in y.coeffs().iter().enumerate() {
            let exact = if k % 2 == 0 { 1.0 } else { -1.0 } * (k + 1) as f64;
            assert!(close(*c, exact, 1e-15), "{k}: {c}");
        }
    }

    #[test]
    fn sin_cos_pair() {
        let x = 0.7;
        let (s, c) = trig_pair(&[x, 1.0], x.sin(), x.cos(), -1.0, 5);
        // sin⁽ᵏ⁾ cycles sin, cos, −sin, −cos
        let d = [x.sin(), x.cos(), -x.sin(), -x.cos(), x.sin()];
        let f = [1.0, 1.0, 2.0, 6.0, 24.0];
        for k in 0..5 {
            assert!(close(s[k] * f[k], d[k], 1e-15));
            assert!(close(c[k] * f[k], d[(k + 1) % 4], 1e-15));
        }
    }

    /// max |a − b| over the coefficients, relative to the largest of a.
    fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len().max(b.len());
        let scale = a.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
        (0..n)
            .map(|k| (get(a, k) - get(b, k)).abs())
            .fold(0.0, f64::max)
            / scale
    }

    #[test]
    fn the_rule_fallback_matches_every_recurrence_to_order_12() {
        // Every unary op, hand-written or not, also through from_rule (so a
        // recurrence that disagrees with the rules table fails here).
        for op in UnaryOp::ALL {
            for t in [0.15, 0.5, 0.85] {
                let p = op.domain().at(t);
                for u in [vec![p, 1.0], vec![p, 1.0, 0.1, -0.05]] {
                    let (a, b) = (unary_series(&u, 13, op), from_rule(&u, 13, op));
                    let d = rel_diff(&a, &b);
                    assert!(d < 1e-12, "{op:?} at {p} ({u:?}): {d:e}\n{a:?}\n{b:?}");
                }
            }
        }
        for op in BinaryOp::ALL {
            let (da, db) = op.domain();
            for t in [0.15, 0.5, 0.85] {
                let a = [da.at(t), 1.0, 0.1];
                let b = [db.at(1.0 - t), 0.5, -0.2];
                for (a, b) in [(&a[..], &b[..]), (&a[..1], &b[..]), (&a[..], &b[..1])] {
                    let x = binary_series(a, b, 13, op);
                    let y = from_binary_rule(a, b, 13, op);
                    let d = rel_diff(&x, &y);
                    assert!(d < 1e-12, "{op:?}({a:?}, {b:?}): {d:e}\n{x:?}\n{y:?}");
                }
            }
        }
    }

    #[test]
    fn the_output_probe_is_exact() {
        // Evaluating the rule once (for a rule that does not read y) gives
        // what evaluating it order by order gives.
        for op in UnaryOp::ALL {
            let u = [op.domain().at(0.6), 1.0, 0.2];
            let once = from_rule(&u, 9, op);
            let by_order = integrate_rule([&u[..]], u[0].unary(op), 9, true, |m, y| {
                [rules::d_unary(op, &truncated(&u, m), y)]
            });
            assert_eq!(once, by_order, "{op:?}");
        }
        assert!(rules::d_unary(UnaryOp::Exp, &DependsOnY(false), &DependsOnY(true)).0);
        assert!(!rules::d_unary(UnaryOp::Sin, &DependsOnY(false), &DependsOnY(true)).0);
    }

    #[test]
    fn the_rule_fallback_gives_known_series_to_order_12() {
        let at0 = |op: UnaryOp, x: f64| from_rule(&[x, 1.0], 13, op);
        let check = |what: &str, got: Vec<f64>, exact: &dyn Fn(usize) -> f64| {
            for (k, c) in got.iter().enumerate() {
                let e = exact(k);
                assert!(
                    (c - e).abs() <= 1e-15 * e.abs().max(1.0),
                    "{what} c{k}: {c} vs {e}"
                );
            }
        };
        let fact = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
        let odd = |k: usize, c: f64| if k % 2 == 1 { c } else { 0.0 };
        let sign = |m: usize| if m.is_multiple_of(2) { 1.0 } else { -1.0 };
        // erf x = 2/√π Σ (−1)ᵐ x^(2m+1) / (m! (2m + 1))
        let c = 2.0 / std::f64::consts::PI.sqrt();
        check("erf", at0(UnaryOp::Erf, 0.0), &|k| {
            let m = k / 2;
            odd(k, c * sign(m) / (fact(m) * k as f64))
        });
        // atan x = Σ (−1)ᵐ x^(2m+1) / (2m + 1)
        check("atan", at0(UnaryOp::Atan, 0.0), &|k| {
            odd(k, sign(k / 2) / k as f64)
        });
        // asin x = Σ (2m)! / (4ᵐ (m!)² (2m + 1)) x^(2m+1)
        check("asin", at0(UnaryOp::Asin, 0.0), &|k| {
            let m = k / 2;
            odd(
                k,
                fact(2 * m) / (4f64.powi(m as i32) * fact(m).powi(2) * k as f64),
            )
        });
        // log(1 + t) = Σ (−1)^(k+1) tᵏ / k; exp (a rule that reads y) 1/k!
        check("log", at0(UnaryOp::Ln, 1.0), &|k| {
            if k == 0 {
                0.0
            } else {
                sign(k + 1) / k as f64
            }
        });
        check("exp", at0(UnaryOp::Exp, 0.0), &|k| 1.0 / fact(k));
        // √(1 + t) = Σ C(1/2, k) tᵏ
        check("sqrt", at0(UnaryOp::Sqrt, 1.0), &|k| {
            (0..k).map(|i| (0.5 - i as f64) / (i + 1) as f64).product()
        });
        // sinh, cosh at 0: 1/k! on odd, even k
        check("sinh", at0(UnaryOp::Sinh, 0.0), &|k| odd(k, 1.0 / fact(k)));
        check("cosh", at0(UnaryOp::Cosh, 0.0), &|k| {
            if k % 2 == 0 {
                1.0 / fact(k)
            } else {
                0.0
            }
        });
        // softplus' = sigmoid: coefficient k is sigmoid's k − 1 over k.
        let s = unary_series(&[0.7, 1.0], 12, UnaryOp::Sigmoid);
        let sp = at0(UnaryOp::Softplus, 0.7);
        check("softplus", sp, &|k| {
            if k == 0 {
                crate::ops::softplus(0.7)
            } else {
                s[k - 1] / k as f64
            }
        });
    }

    #[test]
    fn tanh_tail_does_not_cancel() {
        // tanh'(20) = sech² 20 ≈ 1.7e-17 (1 − tanh² 20 rounds to 0).
        let y = Taylor::variable(20.0, 2).tanh();
        let exact = 4.0 * (-40f64).exp() / (1.0 + (-40f64).exp()).powi(2);
        assert!((y.coeff(1) - exact).abs() < 1e-14 * exact);
        // tanh'' = −2 tanh · sech², coefficient 2 is half of it.
        let exact2 = -20f64.tanh() * exact;
        assert!((y.coeff(2) - exact2).abs() < 1e-13 * exact2.abs());
    }
}
