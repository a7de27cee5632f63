//! The k-th derivative by Taylor mode.

use crate::forward::{nth_derivative_at, Taylor};
use crate::real::Real;

/// The k-th derivative as a transform: `derivative(f, k)` is the function
/// `x ↦ f⁽ᵏ⁾(x)`, for a function written generically over [`Real`] (the
/// number f′(x) is [`forward::derivative_at`](crate::forward::derivative_at)).
///
/// One pass of truncated Taylor series ([`Taylor`]) of order `k`: every
/// primitive maps coefficients by a recurrence, so the k-th derivative
/// costs O(k²) operations per primitive, where nesting `grad` k times
/// costs a factor that grows exponentially in k (each level differentiates
/// the recorded graph of the level below, several times its size).
///
/// `T` is any [`Real`]: `f64`; [`Dual`](crate::Dual) (to differentiate the
/// k-th derivative again); or [`Tensor`](crate::Tensor), where the series
/// is elementwise, recorded on the tape, and so nests inside `grad`.
///
/// ```
/// use chainrule::functional::derivative;
/// use chainrule::{Real, Tensor};
/// fn tanh<T: Real>(x: T) -> T {
///     x.tanh()
/// }
/// let t = 0.5f64.tanh();
/// let closed = 24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t;
/// assert!((derivative(tanh, 4)(0.5) - closed).abs() < 1e-14);
/// // The 16th derivative: one pass of order 16, O(16²) work.
/// assert!(derivative(tanh, 16)(0.5).is_finite());
/// // On tensors: elementwise, d³/dx³ sin = −cos.
/// let d3 = derivative(|x| x.sin(), 3)(Tensor::from_vec(vec![0.0, 1.0], &[2]).unwrap());
/// assert_eq!(d3.to_vec(), vec![-1.0, -1f64.cos()]);
/// ```
pub fn derivative<T, F>(f: F, k: usize) -> impl Fn(T) -> T
where
    T: Real,
    F: Fn(Taylor<T>) -> Taylor<T>,
{
    move |x| nth_derivative_at(&f, x, k)
}
