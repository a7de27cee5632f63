//! Forward mode: dual numbers ([`Dual`]) for first derivatives, directional
//! derivatives and Jacobians, nested duals for Hessians, and truncated
//! Taylor series ([`Taylor`]) for the k-th derivative in O(k²).
//!
//! **Names.** Every function here evaluates at a point and returns numbers,
//! and its name ends in `_at`: [`derivative_at`] is f′(x), [`hessian_at`]
//! the matrix ∇²f(x), [`derivatives_at`] the list f(x), f′(x), …, f⁽ᵏ⁾(x).
//! The unsuffixed names (`grad`, `jacobian`, `hessian`, `jvp`,
//! `derivative`, …) belong to [`crate::functional`], the JAX-style
//! transforms that take a function and return a function
//! (`functional::derivative(f, k)` is x ↦ f⁽ᵏ⁾(x)); the formulas of a
//! gradient, Jacobian or Hessian are [`crate::symbolic`]'s
//! `gradient_formula`, `jacobian_formula` and `hessian_formula`.
//!
//! Functions to differentiate are plain closures over the engine's number
//! type. A function written once, generic over [`Real`], serves every
//! level: pass the generic function item and the compiler picks the type
//! (`gradient_at(f, &x)` runs `f::<Dual<f64>>`, `hessian_at(f, &x)` runs
//! `f::<Dual<Dual<f64>>>`).
//!
//! ```
//! use chainrule::forward::{derivative_at, derivatives_at, hessian_at};
//! use chainrule::Real;
//!
//! fn rosenbrock<T: Real>(x: &[T]) -> T {
//!     let a = T::from_f64(1.0) - x[0].clone();
//!     let b = x[1].clone() - x[0].square();
//!     a.square() + b.square() * 100.0
//! }
//! let h = hessian_at(rosenbrock, &[1.0, 1.0]);
//! assert_eq!(h, vec![vec![802.0, -400.0], vec![-400.0, 200.0]]);
//!
//! assert_eq!(derivative_at(|x| x * x * x, 2.0), 12.0);
//! let d = derivatives_at(|x| x.exp(), 0.0, 3);
//! assert_eq!(d, vec![1.0; 4]);
//! ```
//!
//! **Nested derivatives and perturbation confusion.** [`derivative_at`] is
//! generic over the number type, so derivatives nest; each level is its
//! own Rust type, and a variable of an outer level enters an inner
//! function only through [`Dual::constant`]:
//!
//! ```
//! use chainrule::forward::{derivative_at, Dual};
//! // d/dx [x · d/dy (x + y)] at y = 1 is 1 (not 2).
//! let d = derivative_at(
//!     |x: Dual<f64>| x * derivative_at(|y| Dual::constant(x) + y, Dual::constant(1.0)),
//!     3.0,
//! );
//! assert_eq!(d, 1.0);
//! ```

mod dual;
pub(crate) mod kept;
mod sech2;
pub(crate) mod tangents;
mod tanh;
pub(crate) mod taylor;

pub use dual::Dual;
pub(crate) use tanh::{lane_primal, tanh_lanes, tanh_sech2_lanes, LanePrimal};
pub use taylor::Taylor;

use crate::error::{Error, Result};
use crate::real::Real;

/// f'(x), the number, for a function of one variable, by one forward pass
/// (the transform x ↦ f⁽ᵏ⁾(x) is [`functional::derivative`](crate::functional::derivative)).
///
/// Generic over the number type `T`, so derivatives nest
/// (`derivative_at(|x| derivative_at(f, x), x)` with `f` generic); see the
/// module docs for how an outer variable is lifted into an inner level.
///
/// ```
/// use chainrule::forward::derivative_at;
/// use chainrule::Real;
/// let d = derivative_at(|x| x.sin() * x, 1.0);
/// assert!((d - (1f64.cos() + 1f64.sin())).abs() < 1e-15);
/// ```
pub fn derivative_at<T: Real, F: Fn(Dual<T>) -> Dual<T>>(f: F, x: T) -> T {
    f(Dual::variable(x)).tangent()
}

/// (f(x), f'(x)), the numbers, for a function of one variable, by one forward pass.
///
/// ```
/// use chainrule::forward::value_and_derivative_at;
/// use chainrule::Real;
/// assert_eq!(value_and_derivative_at(|x| x.exp(), 0.0), (1.0, 1.0));
/// ```
pub fn value_and_derivative_at<T: Real, F: Fn(Dual<T>) -> Dual<T>>(f: F, x: T) -> (T, T) {
    f(Dual::variable(x)).into_parts()
}

/// The Jacobian–vector product (f(x), J_f(x)·v) of a function of `f64`s
/// written over [`Dual`], by one forward pass (on tensors:
/// [`functional::jvp`](crate::functional::jvp)).
///
/// Inputs whose tangent `vᵢ` is exactly 0 enter as constants.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `x` and `v` differ in length.
///
/// ```
/// use chainrule::forward::jvp_at;
/// use chainrule::Real;
/// // f(x, y) = (x·y, sin x); J·(1, 2) = (y + 2x, cos x)
/// let f = |z: &[chainrule::forward::Dual]| vec![z[0] * z[1], z[0].sin()];
/// let (y, t) = jvp_at(f, &[0.5, 3.0], &[1.0, 2.0]).unwrap();
/// assert_eq!(y, vec![1.5, 0.5f64.sin()]);
/// assert_eq!(t, vec![4.0, 0.5f64.cos()]);
/// ```
pub fn jvp_at<F>(f: F, x: &[f64], v: &[f64]) -> Result<(Vec<f64>, Vec<f64>)>
where
    F: Fn(&[Dual<f64>]) -> Vec<Dual<f64>>,
{
    if x.len() != v.len() {
        return Err(Error::ShapeMismatch {
            op: "jvp",
            left: vec![x.len()],
            right: vec![v.len()],
        });
    }
    let inputs: Vec<Dual<f64>> = x
        .iter()
        .zip(v)
        .map(|(&xi, &vi)| {
            if vi == 0.0 {
                Dual::constant(xi)
            } else {
                Dual::new(xi, vi)
            }
        })
        .collect();
    Ok(f(&inputs).into_iter().map(Dual::into_parts).unzip())
}

/// The Jacobian matrix `J[i][j] = ∂fᵢ/∂xⱼ` at `x` (row-major: one row per
/// output), by one forward pass per input (the transform on tensors is
/// [`functional::jacobian`](crate::functional::jacobian)).
///
/// # Errors
/// [`Error::ShapeMismatch`] when `f` returns outputs of different lengths on
/// different passes.
///
/// ```
/// use chainrule::forward::{jacobian_at, Dual};
/// use chainrule::Real;
/// // f(x, y) = (x·y, x + y, exp y)
/// let f = |z: &[Dual]| vec![z[0] * z[1], z[0] + z[1], z[1].exp()];
/// let j = jacobian_at(f, &[2.0, 0.0]).unwrap();
/// assert_eq!(j, vec![vec![0.0, 2.0], vec![1.0, 1.0], vec![0.0, 1.0]]);
/// ```
pub fn jacobian_at<F>(f: F, x: &[f64]) -> Result<Vec<Vec<f64>>>
where
    F: Fn(&[Dual<f64>]) -> Vec<Dual<f64>>,
{
    let mut inputs: Vec<Dual<f64>> = x.iter().map(|&xi| Dual::constant(xi)).collect();
    let mut rows: Option<Vec<Vec<f64>>> = None;
    for j in 0..x.len() {
        inputs[j] = Dual::variable(x[j]);
        let out = f(&inputs);
        inputs[j] = Dual::constant(x[j]);
        let rows = rows.get_or_insert_with(|| vec![vec![0.0; x.len()]; out.len()]);
        if rows.len() != out.len() {
            return Err(Error::ShapeMismatch {
                op: "jacobian",
                left: vec![rows.len()],
                right: vec![out.len()],
            });
        }
        for (row, o) in rows.iter_mut().zip(&out) {
            row[j] = o.tangent();
        }
    }
    match rows {
        Some(rows) => Ok(rows),
        // No inputs: the number of outputs comes from one evaluation.
        None => Ok(vec![Vec::new(); f(&inputs).len()]),
    }
}

/// The gradient ∇f(x), the numbers, of a scalar function, by one forward
/// pass per input (the transform on tensors is
/// [`functional::grad`](crate::functional::grad)).
///
/// ```
/// use chainrule::forward::{gradient_at, Dual};
/// use chainrule::Real;
/// // f(x, y) = x²·y: ∇f = (2xy, x²)
/// let g = gradient_at(|z: &[Dual]| z[0].square() * z[1], &[3.0, 2.0]);
/// assert_eq!(g, vec![12.0, 9.0]);
/// ```
pub fn gradient_at<F>(f: F, x: &[f64]) -> Vec<f64>
where
    F: Fn(&[Dual<f64>]) -> Dual<f64>,
{
    let mut inputs: Vec<Dual<f64>> = x.iter().map(|&xi| Dual::constant(xi)).collect();
    (0..x.len())
        .map(|j| {
            inputs[j] = Dual::variable(x[j]);
            let d = f(&inputs).tangent();
            inputs[j] = Dual::constant(x[j]);
            d
        })
        .collect()
}

/// The Hessian matrix `H[i][j] = ∂²f/∂xᵢ∂xⱼ` at `x`, the numbers (the
/// transform on tensors is [`functional::hessian`](crate::functional::hessian)),
/// of a scalar function by nested duals
/// (`Dual<Dual<f64>>`, forward over forward): one pass per pair `i ≤ j`,
/// the lower triangle mirrored.
///
/// Write `f` once, generic over [`Real`], and pass the function item: the
/// compiler instantiates it at `Dual<Dual<f64>>`.
///
/// ```
/// use chainrule::forward::hessian_at;
/// use chainrule::Real;
/// // f(x, y) = x²y + sin y
/// fn f<T: Real>(z: &[T]) -> T {
///     z[0].square() * z[1].clone() + z[1].sin()
/// }
/// let h = hessian_at(f, &[1.0, 0.5]);
/// assert_eq!(h[0], vec![1.0, 2.0]);
/// assert_eq!(h[1], vec![2.0, -0.5f64.sin()]);
/// ```
pub fn hessian_at<F>(f: F, x: &[f64]) -> Vec<Vec<f64>>
where
    F: Fn(&[Dual<Dual<f64>>]) -> Dual<Dual<f64>>,
{
    let n = x.len();
    let lift = |xi: f64| Dual::constant(Dual::constant(xi));
    let mut inputs: Vec<Dual<Dual<f64>>> = x.iter().map(|&xi| lift(xi)).collect();
    let mut h = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i..n {
            // The inner level (the value's tangent) carries eⱼ, the outer
            // level (the outer tangent) carries eᵢ.
            if i == j {
                inputs[i] = Dual::new(Dual::variable(x[i]), Dual::constant(1.0));
            } else {
                inputs[i] = Dual::new(Dual::constant(x[i]), Dual::constant(1.0));
                inputs[j] = Dual::constant(Dual::variable(x[j]));
            }
            let hij = f(&inputs).tangent().tangent();
            h[i][j] = hij;
            h[j][i] = hij;
            inputs[i] = lift(x[i]);
            inputs[j] = lift(x[j]);
        }
    }
    h
}

/// The Taylor coefficients `c₀ … c_k` (`cᵢ = f⁽ⁱ⁾(x)/i!`) of `f` at `x`, the numbers,
/// by one pass of truncated Taylor series.
///
/// ```
/// use chainrule::forward::taylor_coefficients_at;
/// use chainrule::Real;
/// // 1/(1 − x) at 0: 1, 1, 1, …
/// let c = taylor_coefficients_at(|x| 1.0 / (1.0 - x), 0.0, 4);
/// assert_eq!(c, vec![1.0; 5]);
/// ```
pub fn taylor_coefficients_at<T: Real, F: Fn(Taylor<T>) -> Taylor<T>>(
    f: F,
    x: T,
    k: usize,
) -> Vec<T> {
    let mut c = f(Taylor::variable(x, k)).into_coeffs();
    c.resize_with(k + 1, || T::from_f64(0.0));
    c
}

/// The derivatives `f(x), f'(x), …, f⁽ᵏ⁾(x)`, the numbers, by one pass of truncated
/// Taylor series: O(k²) work per operation.
///
/// ```
/// use chainrule::forward::derivatives_at;
/// use chainrule::Real;
/// // tanh'''' at 0.5 = 24t⁵ − 40t³ + 16t with t = tanh 0.5
/// let d = derivatives_at(|x| x.tanh(), 0.5, 4);
/// let t = 0.5f64.tanh();
/// let exact = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
/// assert!((d[4] - exact).abs() < 1e-14);
/// ```
pub fn derivatives_at<T: Real, F: Fn(Taylor<T>) -> Taylor<T>>(f: F, x: T, k: usize) -> Vec<T> {
    let mut c = taylor_coefficients_at(f, x, k);
    let mut factorial = 1.0;
    for (i, ci) in c.iter_mut().enumerate().skip(1) {
        factorial *= i as f64;
        *ci = ci.clone() * factorial;
    }
    c
}

/// The derivatives `f(x), f'(x), …, f⁽ᵏ⁾(x)` as f64, finite wherever they
/// are, at any order: [`derivatives_at`] multiplies `f⁽ⁱ⁾/i!` by `i!`,
/// which overflows from i = 171 while the coefficient underflows (exp at 1,
/// order 200, gave inf from 171 and NaN from 198). Here `i!` is applied
/// with a separate binary exponent, and where the coefficient itself
/// under- or overflowed the series is run a second time along `x + h·t`
/// with `h = k/e`, whose coefficients `f⁽ⁱ⁾hⁱ/i!` stay in range for
/// functions like exp, and scaled back by `i!/hⁱ` the same way.
///
/// ```
/// use chainrule::forward::derivatives_at_f64;
/// use chainrule::Real;
/// let d = derivatives_at_f64(|x| x.exp(), 1.0, 200);
/// let e = std::f64::consts::E;
/// assert!(d.iter().all(|&v| (v - e).abs() < 1e-12));
/// ```
pub fn derivatives_at_f64<F: Fn(Taylor<f64>) -> Taylor<f64>>(f: F, x: f64, k: usize) -> Vec<f64> {
    let mut c = f(Taylor::variable(x, k)).into_coeffs();
    c.resize(k + 1, 0.0);
    let mut d = scale_by_factorials(&c, 1.0);
    // A coefficient below the normal range lost digits or vanished, one
    // that overflowed lost everything: the scaled run may have it.
    let lost = |ci: f64| !ci.is_finite() || (ci != 0.0 && ci.abs() < f64::MIN_POSITIVE);
    let h = k as f64 / std::f64::consts::E;
    if h > 2.0
        && c.iter()
            .enumerate()
            .any(|(i, &ci)| i > 0 && (lost(ci) || ci == 0.0))
    {
        let mut s = f(Taylor::line(x, h, k)).into_coeffs();
        s.resize(k + 1, 0.0);
        let scaled = scale_by_factorials(&s, h);
        for i in 1..=k {
            let better = scaled[i].is_finite() && scaled[i] != 0.0 && !lost(s[i]);
            if (lost(c[i]) || c[i] == 0.0) && better {
                d[i] = scaled[i];
            }
        }
    }
    d
}

/// `cᵢ · i!/hⁱ` for every i, the product `i!/hⁱ` kept as a mantissa and a
/// binary exponent so that neither it nor its partial products overflow.
fn scale_by_factorials(c: &[f64], h: f64) -> Vec<f64> {
    scaled_by_factorials(c, h).collect()
}

/// [`scale_by_factorials`]'s entries one by one, with no vector.
pub(crate) fn scaled_by_factorials(c: &[f64], h: f64) -> impl Iterator<Item = f64> + '_ {
    let mut mantissa = 1.0f64;
    let mut exponent = 0i32;
    c.iter().enumerate().map(move |(i, &ci)| {
        if i > 0 {
            mantissa *= i as f64 / h;
            // Renormalise into [2⁻⁵⁰⁰, 2⁵⁰⁰].
            while mantissa > 2f64.powi(500) {
                mantissa *= 2f64.powi(-500);
                exponent += 500;
            }
            while mantissa != 0.0 && mantissa < 2f64.powi(-500) {
                mantissa *= 2f64.powi(500);
                exponent -= 500;
            }
        }
        let mut v = ci * mantissa;
        let mut e = exponent;
        // Apply 2^e in steps that cannot overflow or underflow on their own.
        while e != 0 && v != 0.0 && v.is_finite() {
            let step = e.clamp(-500, 500);
            v *= 2f64.powi(step);
            e -= step;
        }
        v
    })
}

/// The k-th derivative `f⁽ᵏ⁾(x)` alone, the number, by one pass of truncated
/// Taylor series (as [`derivatives_at`], keeping only the last entry; the
/// transform x ↦ f⁽ᵏ⁾(x) is [`functional::derivative`](crate::functional::derivative)).
///
/// ```
/// use chainrule::forward::nth_derivative_at;
/// use chainrule::Real;
/// // d⁵/dx⁵ sin at 0 = cos 0 = 1
/// assert_eq!(nth_derivative_at(|x| x.sin(), 0.0, 5), 1.0);
/// ```
pub fn nth_derivative_at<T: Real, F: Fn(Taylor<T>) -> Taylor<T>>(f: F, x: T, k: usize) -> T {
    f(Taylor::variable(x, k)).derivative(k)
}
