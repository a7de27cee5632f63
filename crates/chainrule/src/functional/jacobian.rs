//! Jacobians and forward mode on tensors: `jacrev`, `jacfwd`, `jacobian`,
//! `hessian`, `jvp`.
//!
//! There is no forward-mode tensor engine, so products with tangents use
//! the double-vjp trick: `u ↦ J_f(x)ᵀu` (a pullback) is linear in `u`,
//! so its own vector–Jacobian product at any `u`, with cotangent `v`, is
//! `(Jᵀ)ᵀv = J·v`. Two backward passes (the first recorded, with a fresh
//! leaf `u` of the output's shape) replace one forward pass.

use super::pullback::{basis, vjp_one, vjp_rows};
use super::reverse::labelled_grad;
use super::scope::Call;
use crate::error::{Error, Result};
use crate::Tensor;

/// `a ++ b`.
fn concat(a: &[usize], b: &[usize]) -> Vec<usize> {
    [a, b].concat()
}

/// The Jacobian of `f` at `x` row by row: one vector–Jacobian product per
/// output element, all through [`vjp_rows`].
fn jacrev_at(f: &dyn Fn(&Tensor) -> Result<Tensor>, x: &Tensor) -> Result<Tensor> {
    let call = Call::enter(&[x]);
    let xi = call.input(x);
    let y = f(&xi)?;
    let rows = vjp_rows(&y, &xi, &basis(y.shape()), call.create_graph())?;
    Ok(call.output(rows.try_reshape(&concat(y.shape(), x.shape()))?))
}

/// The pullback `Jᵀu` recorded at a fresh leaf `u` of `output`'s shape,
/// and `u`: the linear map whose vector–Jacobian products (with respect to
/// `u`) are Jacobian–vector products of `output`. Its value at `u = 0` is
/// irrelevant; only its (constant) derivative in `u` is used.
fn transposed_pullback(output: &Tensor, input: &Tensor) -> Result<(Tensor, Tensor)> {
    let u = Tensor::zeros(output.shape()).requires_grad();
    let pullback = vjp_one(output, input, &u, true)?;
    Ok((pullback, u))
}

/// `J·v` for each row `v` of `tangents` (shape `[n] ++ input.shape`), by
/// the double-vjp trick; shape `[n] ++ output.shape`.
fn jvp_rows(
    output: &Tensor,
    input: &Tensor,
    tangents: &Tensor,
    create_graph: bool,
) -> Result<Tensor> {
    let (pullback, u) = transposed_pullback(output, input)?;
    vjp_rows(&pullback, &u, tangents, create_graph)
}

/// The Jacobian of `f` at `x` column by column: one Jacobian–vector
/// product per input element.
fn jacfwd_at(f: &dyn Fn(&Tensor) -> Result<Tensor>, x: &Tensor) -> Result<Tensor> {
    let call = Call::enter(&[x]);
    let xi = call.input(x);
    let y = f(&xi)?;
    let (n, m) = (x.numel(), y.numel());
    let cols = jvp_rows(&y, &xi, &basis(x.shape()), call.create_graph())?;
    let jac = cols.try_reshape(&[n, m])?.t();
    Ok(call.output(jac.try_reshape(&concat(y.shape(), x.shape()))?))
}

/// The Jacobian by reverse mode: `jacrev(f)` is `x ↦ ∂f/∂x`, of shape
/// `f(x).shape ++ x.shape` (as JAX), from one vector–Jacobian product per
/// output element. The better choice when outputs are fewer than inputs.
///
/// # Panics
/// Only on misuse of the graph inside `f` (e.g. `f` uses a captured tensor
/// whose graph a previous backward pass freed); the message names it.
///
/// ```
/// use chainrule::functional::jacrev;
/// use chainrule::{tensor, Real, Tensor};
/// // f(x) = A·x: the Jacobian is A
/// let a = tensor![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// let j = jacrev(|x: &Tensor| a.matmul(x))(&tensor![1.0, 1.0, 1.0]);
/// assert_eq!(j.shape(), &[2, 3]);
/// assert_eq!(j.to_vec(), a.to_vec());
/// // Elementwise: a diagonal Jacobian.
/// let j = jacrev(|x: &Tensor| x.exp())(&tensor![0.0, 1.0]);
/// assert_eq!(j.to_vec(), vec![1.0, 0.0, 0.0, 1f64.exp()]);
/// ```
pub fn jacrev<F>(f: F) -> impl Fn(&Tensor) -> Tensor
where
    F: Fn(&Tensor) -> Tensor,
{
    move |x| jacrev_at(&|x| Ok(f(x)), x).unwrap_or_else(|e| panic!("jacrev: {e}"))
}

/// The Jacobian by forward mode: `jacfwd(f)` is `x ↦ ∂f/∂x`, of shape
/// `f(x).shape ++ x.shape`, from one Jacobian–vector product per input
/// element; equal to [`jacrev`] to rounding. The better choice when
/// inputs are fewer than outputs, and the outer half of [`hessian`].
///
/// The Jacobian–vector products use the double-vjp trick (see
/// [`jvp`]), since the tensors have no forward-mode engine.
///
/// # Panics
/// As [`jacrev`].
///
/// ```
/// use chainrule::functional::jacfwd;
/// use chainrule::{tensor, Real, Tensor};
/// // f(r, θ) = (r cos θ, r sin θ)
/// let f = |p: &Tensor| {
///     let (r, t) = (p.get(&[0]), p.get(&[1]));
///     Tensor::stack(&[&r * t.cos(), &r * t.sin()], 0)
/// };
/// let j = jacfwd(f)(&tensor![2.0, 0.0]);
/// assert_eq!(j.to_vec(), vec![1.0, 0.0, 0.0, 2.0]);
/// ```
pub fn jacfwd<F>(f: F) -> impl Fn(&Tensor) -> Tensor
where
    F: Fn(&Tensor) -> Tensor,
{
    move |x| jacfwd_at(&|x| Ok(f(x)), x).unwrap_or_else(|e| panic!("jacfwd: {e}"))
}

/// The Jacobian, `jax.jacobian`: the same as [`jacrev`].
///
/// # Panics
/// As [`jacrev`].
///
/// ```
/// use chainrule::functional::jacobian;
/// use chainrule::{Real, Tensor};
/// // A scalar function of a scalar: the Jacobian is the derivative, 0-d.
/// let j = jacobian(|x: &Tensor| x.powi(3))(&Tensor::scalar(2.0));
/// assert_eq!((j.shape(), j.item()), (&[] as &[usize], 12.0));
/// ```
pub fn jacobian<F>(f: F) -> impl Fn(&Tensor) -> Tensor
where
    F: Fn(&Tensor) -> Tensor,
{
    jacrev(f)
}

/// The Hessian of a scalar function, `jax.hessian`: of shape
/// `x.shape ++ x.shape`, symmetric to rounding.
///
/// JAX computes it forward over reverse, `jacfwd(grad(f))`, because its
/// forward mode is cheap. Here forward mode on tensors is the double-vjp
/// trick (one more backward pass), so `hessian` is reverse over reverse,
/// `jacrev(grad(f))`: the same matrix (a Hessian is symmetric, so the
/// Jacobian of the gradient is the same by rows or by columns) in one
/// recorded gradient plus one batched backward pass with the identity, 2×
/// to 4× faster than `jacfwd(grad(f))` at n = 100 and 1000. Both are
/// tested equal.
///
/// # Panics
/// If `f` does not return a 0-d tensor (see [`try_hessian`]).
///
/// ```
/// use chainrule::functional::hessian;
/// use chainrule::{tensor, Real, Tensor};
/// // f(x) = x₀²x₁ + sin x₁
/// let f = |x: &Tensor| x.get(&[0]).square() * x.get(&[1]) + x.get(&[1]).sin();
/// let h = hessian(f)(&tensor![1.0, 0.5]);
/// assert_eq!(h.shape(), &[2, 2]);
/// assert_eq!(h.to_vec(), vec![1.0, 2.0, 2.0, -0.5f64.sin()]);
/// ```
pub fn hessian<F>(f: F) -> impl Fn(&Tensor) -> Tensor
where
    F: Fn(&Tensor) -> Tensor,
{
    let h = try_hessian(f);
    move |x| h(x).unwrap_or_else(|e| panic!("{e}"))
}

/// [`hessian`] returning an `Err` when `f` does not return a scalar.
///
/// ```
/// use chainrule::functional::try_hessian;
/// use chainrule::Tensor;
/// let h = try_hessian(|x: &Tensor| x * x);
/// assert!(h(&Tensor::scalar(1.0)).is_ok());
/// assert!(h(&Tensor::ones(&[2])).is_err());
/// ```
pub fn try_hessian<F>(f: F) -> impl Fn(&Tensor) -> Result<Tensor>
where
    F: Fn(&Tensor) -> Tensor,
{
    let g = labelled_grad("hessian", f);
    move |x| jacrev_at(&g, x)
}

/// The Jacobian–vector product `(f(x), J_f(x)·v)`, as `jax.jvp`; `v` has
/// `x`'s shape and the tangent the output's.
///
/// With no forward-mode tensor engine, this is the double-vjp trick: the
/// pullback `u ↦ Jᵀu` is recorded at a fresh `u` and differentiated again
/// with cotangent `v` (two backward passes). Both results can be
/// differentiated further.
///
/// # Panics
/// If `v`'s shape is not `x`'s (see [`try_jvp`]).
///
/// ```
/// use chainrule::functional::jvp;
/// use chainrule::{tensor, Real, Tensor};
/// // f(x) = (x₀x₁, sin x₀): J·(1, 2) = (x₁ + 2x₀, cos x₀)
/// let f = |x: &Tensor| Tensor::stack(&[x.get(&[0]) * x.get(&[1]), x.get(&[0]).sin()], 0);
/// let (y, t) = jvp(f, &tensor![0.5, 3.0], &tensor![1.0, 2.0]);
/// assert_eq!(y.to_vec(), vec![1.5, 0.5f64.sin()]);
/// assert_eq!(t.to_vec(), vec![4.0, 0.5f64.cos()]);
/// ```
pub fn jvp<F>(f: F, x: &Tensor, v: &Tensor) -> (Tensor, Tensor)
where
    F: Fn(&Tensor) -> Tensor,
{
    try_jvp(f, x, v).unwrap_or_else(|e| panic!("{e}"))
}

/// [`jvp`] returning an `Err` when `v`'s shape is not `x`'s.
///
/// ```
/// use chainrule::functional::try_jvp;
/// use chainrule::Tensor;
/// let (_, t) = try_jvp(|x: &Tensor| x * 2.0, &Tensor::ones(&[2]), &Tensor::ones(&[2])).unwrap();
/// assert_eq!(t.to_vec(), vec![2.0, 2.0]);
/// assert!(try_jvp(|x: &Tensor| x * 2.0, &Tensor::ones(&[2]), &Tensor::ones(&[3])).is_err());
/// ```
pub fn try_jvp<F>(f: F, x: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)>
where
    F: Fn(&Tensor) -> Tensor,
{
    if v.shape() != x.shape() {
        return Err(Error::ShapeMismatch {
            op: "jvp: tangent and point",
            left: v.shape().to_vec(),
            right: x.shape().to_vec(),
        });
    }
    let call = Call::enter(&[x, v]);
    let xi = call.input(x);
    let y = f(&xi);
    let (pullback, u) = transposed_pullback(&y, &xi)?;
    let t = vjp_one(&pullback, &u, v, call.create_graph())?;
    Ok((call.output(y), call.output(t)))
}
