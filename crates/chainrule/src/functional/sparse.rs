//! `sparse_jacobian` and `sparse_hessian`: the [`crate::sparse`] plans as
//! transforms.

use std::cell::RefCell;

use crate::compiled::Traced;
use crate::error::Result;
use crate::sparse::{CsrMatrix, SparseHessian, SparseJacobian};

/// The sparse Hessian of a scalar function, as a transform:
/// `sparse_hessian(f)` is `x ↦ ∇²f(x)`, a [`CsrMatrix`].
///
/// `f` is written generically over [`Real`](crate::Real) and passed as
/// `|x| f(x)` at [`Traced`] (as for [`compiled::grad_program`](crate::compiled::grad_program)).
/// On the first call (and again when the length of `x` changes) `f` is
/// traced once, the Hessian's pattern detected and star-coloured and the
/// Hessian–vector products compiled ([`SparseHessian`]); each call after
/// that runs the compiled products only. For a Hessian with a few nonzeros
/// per row the cost is a few gradients, not n.
///
/// # Panics
/// Where [`try_sparse_hessian`] returns an `Err`.
///
/// ```
/// use chainrule::functional::sparse_hessian;
/// use chainrule::Real;
/// // Extended Rosenbrock: Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²
/// fn rosenbrock<T: Real>(x: &[T]) -> T {
///     x.windows(2)
///         .map(|w| (w[1].clone() - w[0].square()).square() * 100.0
///             + (T::from_f64(1.0) - w[0].clone()).square())
///         .fold(T::from_f64(0.0), |s, t| s + t)
/// }
/// let h = sparse_hessian(|x| rosenbrock(x));
/// let x = [0.5, 1.0, -0.5, 2.0];
/// let m = h(&x);
/// assert_eq!(m.nnz(), 4 + 2 * 3); // tridiagonal
/// // H_00 = 1200 x₀² − 400 x₁ + 2, H_01 = −400 x₀
/// assert!((m.get(0, 0) - (1200.0 * 0.25 - 400.0 + 2.0)).abs() < 1e-12);
/// assert_eq!(m.get(0, 1), -200.0);
/// assert_eq!(m.get(0, 2), 0.0);
/// ```
pub fn sparse_hessian<F>(f: F) -> impl Fn(&[f64]) -> CsrMatrix
where
    F: Fn(&[Traced]) -> Traced,
{
    let h = try_sparse_hessian(f);
    move |x| h(x).unwrap_or_else(|e| panic!("sparse_hessian: {e}"))
}

/// [`sparse_hessian`] returning an `Err` when the function cannot be
/// traced: called inside another trace ([`Error::NestedTrace`](crate::Error::NestedTrace)),
/// or returning a value of another trace ([`Error::ForeignTraceValue`](crate::Error::ForeignTraceValue)).
///
/// ```
/// use chainrule::functional::try_sparse_hessian;
/// use chainrule::Real;
/// let h = try_sparse_hessian(|x| x[0].sin() * x[1]);
/// let m = h(&[0.0, 2.0]).unwrap();
/// assert_eq!((m.get(0, 1), m.get(1, 1)), (1.0, 0.0));
/// assert!(!m.pattern().contains(1, 1));
/// ```
pub fn try_sparse_hessian<F>(f: F) -> impl Fn(&[f64]) -> Result<CsrMatrix>
where
    F: Fn(&[Traced]) -> Traced,
{
    let plan: RefCell<Option<SparseHessian>> = RefCell::new(None);
    move |x| {
        let mut plan = plan.borrow_mut();
        let stale = plan.as_ref().is_none_or(|p| p.n_inputs() != x.len());
        if stale {
            *plan = Some(SparseHessian::new(x.len(), &f)?);
        }
        plan.as_mut().expect("planned above").eval(x)
    }
}

/// The sparse Jacobian as a transform: `sparse_jacobian(f)` is
/// `x ↦ ∂f/∂x`, a [`CsrMatrix`] with a row per output of `f` and a
/// column per input, for `f` written generically over
/// [`Real`](crate::Real) and passed at [`Traced`]. Traced, detected,
/// column-coloured and compiled on the first call (and when the length of
/// `x` changes, [`SparseJacobian`]); one Jacobian–vector product per colour
/// after that, all in one compiled program.
///
/// # Panics
/// Where [`try_sparse_jacobian`] returns an `Err`.
///
/// ```
/// use chainrule::functional::sparse_jacobian;
/// use chainrule::Real;
/// // A finite-difference Laplacian applied to x³: tridiagonal.
/// let f = |x: &[chainrule::compiled::Traced]| {
///     let c: Vec<_> = x.iter().map(|v| v.powi(3)).collect();
///     (1..x.len() - 1).map(|i| c[i - 1] - c[i] * 2.0 + c[i + 1]).collect()
/// };
/// let j = sparse_jacobian(f)(&[1.0, 2.0, 3.0, 4.0]);
/// assert_eq!((j.n_rows(), j.n_cols(), j.nnz()), (2, 4, 6));
/// assert_eq!(j.get(0, 1), -2.0 * 3.0 * 4.0); // −2 · 3x₁²
/// ```
pub fn sparse_jacobian<F>(f: F) -> impl Fn(&[f64]) -> CsrMatrix
where
    F: Fn(&[Traced]) -> Vec<Traced>,
{
    let j = try_sparse_jacobian(f);
    move |x| j(x).unwrap_or_else(|e| panic!("sparse_jacobian: {e}"))
}

/// [`sparse_jacobian`] returning an `Err` when the function cannot be
/// traced (as [`try_sparse_hessian`]).
///
/// ```
/// use chainrule::functional::try_sparse_jacobian;
/// use chainrule::Real;
/// let j = try_sparse_jacobian(|x| vec![x[0] * x[1], x[2].exp()]);
/// let m = j(&[2.0, 3.0, 0.0]).unwrap();
/// assert_eq!(m.to_dense(), vec![vec![3.0, 2.0, 0.0], vec![0.0, 0.0, 1.0]]);
/// ```
pub fn try_sparse_jacobian<F>(f: F) -> impl Fn(&[f64]) -> Result<CsrMatrix>
where
    F: Fn(&[Traced]) -> Vec<Traced>,
{
    let plan: RefCell<Option<SparseJacobian>> = RefCell::new(None);
    move |x| {
        let mut plan = plan.borrow_mut();
        let stale = plan.as_ref().is_none_or(|p| p.n_inputs() != x.len());
        if stale {
            *plan = Some(SparseJacobian::new(x.len(), &f)?);
        }
        plan.as_mut().expect("planned above").eval(x)
    }
}
