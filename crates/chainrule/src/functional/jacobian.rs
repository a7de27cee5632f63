//! Jacobians and forward mode on tensors: `jacrev`, `jacfwd`, `jacobian`,
//! `hessian`, `hessian_fwdrev`, `jvp`.
//!
//! Products with tangents are forward mode ([`crate::forward::tangents`]):
//! `f` runs once on the tape and a batch of tangents (batch axis last) is
//! pushed through its graph in the order it ran, each node's tangent from
//! the rules table or the structural operation's own Jacobian–vector
//! product. A whole Jacobian by columns is one such walk with the standard
//! basis as the batch, and comes out in the Jacobian's own layout.

use super::pullback::{basis, vjp_rows};
use super::reverse::labelled_grad;
use super::scope::Call;
use crate::autograd;
use crate::error::{Error, Result};
use crate::forward::tangents::{self, with_batch};
use crate::forward::LanePrimal;
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

/// `J·v` for each `v = tangents[…, j]` (shape `input.shape ++ [k]`), by
/// forward mode: shape `output.shape ++ [k]`. Recorded only when
/// `create_graph` (someone may differentiate the result).
fn jvp_columns(
    output: &Tensor,
    input: &Tensor,
    tangents: &Tensor,
    create_graph: bool,
) -> Result<Tensor> {
    let k = tangents.shape().last().copied().unwrap_or(1);
    let pushed = if create_graph {
        tangents::push(output, input, tangents)?
    } else {
        let _plain = autograd::no_grad();
        tangents::push(output, input, tangents)?
    };
    Ok(pushed.unwrap_or_else(|| Tensor::zeros(&with_batch(output.shape(), k))))
}

/// The standard basis of the tensors of `shape` with the batch axis last:
/// the identity of size `numel` reshaped to `shape ++ [numel]`.
fn basis_last(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::eye(n).reshape(&with_batch(shape, n))
}

/// The Jacobian of `f` at `x` column by column: one forward walk with the
/// standard basis as its batch of tangents, whose result is the Jacobian
/// `y.shape ++ x.shape` as it stands.
fn jacfwd_at(f: &dyn Fn(&Tensor) -> Result<Tensor>, x: &Tensor) -> Result<Tensor> {
    let call = Call::enter(&[x]);
    let xi = call.input(x);
    // No one sees this call's primal when its result carries no graph: its
    // large tanh runs in lanes (`forward::tanh`), a few ulp from libm's,
    // with its partial kept for the tangent pass (until `lanes` is dropped).
    let mut lanes = (!call.create_graph()).then(|| LanePrimal::at(super::depth()));
    let y = f(&xi)?;
    if let Some(lanes) = lanes.as_mut() {
        lanes.primal_done();
    }
    let cols = jvp_columns(&y, &xi, &basis_last(x.shape()), call.create_graph())?;
    Ok(call.output(cols.try_reshape(&concat(y.shape(), x.shape()))?))
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
/// inputs are fewer than outputs, and the outer half of
/// [`hessian_fwdrev`].
///
/// `f` runs once; then the `n` tangents of the standard basis are pushed
/// through its graph together (one forward walk with a batch of `n`, see
/// [`crate::forward`]'s tensor engine), so a tall Jacobian costs about `n`
/// times the function's elementwise work, never `m` backward passes.
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
/// Reverse over reverse, `jacrev(grad(f))`: one recorded gradient plus
/// one batched backward pass with the identity. JAX's default is forward
/// over reverse, `jacfwd(grad(f))`, which is [`hessian_fwdrev`] here; both
/// give the same matrix (a Hessian is symmetric, so the Jacobian of the
/// gradient is the same by rows or by columns) and are tested equal. See
/// [`hessian_fwdrev`] for why reverse over reverse stays the default.
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

/// The Hessian of a scalar function forward over reverse,
/// `jacfwd(grad(f))` (JAX's `hessian`): the gradient is recorded once and
/// the `n` tangents of the standard basis are pushed through the graph of
/// `f` and of its backward pass in one forward walk. The same matrix as
/// [`hessian`] (tested equal).
///
/// Not the default: the reverse-over-reverse pass of [`hessian`] walks
/// the same graph once with the identity as its batch of cotangents (the
/// same number of batched products, the identity recognised by the matrix
/// products in both directions), and W4's figures were measured with it;
/// the two have not yet been measured against each other on W4, so the
/// default stays where it was (see docs/DESIGN-notes.md).
///
/// # Panics
/// If `f` does not return a 0-d tensor (see [`try_hessian_fwdrev`]).
///
/// ```
/// use chainrule::functional::{hessian, hessian_fwdrev};
/// use chainrule::{tensor, Real, Tensor};
/// let f = |x: &Tensor| x.get(&[0]).square() * x.get(&[1]) + x.get(&[1]).sin();
/// let x = tensor![1.0, 0.5];
/// assert_eq!(hessian_fwdrev(f)(&x).to_vec(), vec![1.0, 2.0, 2.0, -0.5f64.sin()]);
/// assert_eq!(hessian_fwdrev(f)(&x).to_vec(), hessian(f)(&x).to_vec());
/// ```
pub fn hessian_fwdrev<F>(f: F) -> impl Fn(&Tensor) -> Tensor
where
    F: Fn(&Tensor) -> Tensor,
{
    let h = try_hessian_fwdrev(f);
    move |x| h(x).unwrap_or_else(|e| panic!("{e}"))
}

/// [`hessian_fwdrev`] returning an `Err` when `f` does not return a scalar.
///
/// ```
/// use chainrule::functional::try_hessian_fwdrev;
/// use chainrule::Tensor;
/// let h = try_hessian_fwdrev(|x: &Tensor| x * x);
/// assert_eq!(h(&Tensor::scalar(3.0)).unwrap().item(), 2.0);
/// assert!(h(&Tensor::ones(&[2])).is_err());
/// ```
pub fn try_hessian_fwdrev<F>(f: F) -> impl Fn(&Tensor) -> Result<Tensor>
where
    F: Fn(&Tensor) -> Tensor,
{
    let g = labelled_grad("hessian", f);
    move |x| jacfwd_at(&g, x)
}

/// The Jacobian–vector product `(f(x), J_f(x)·v)`, as `jax.jvp`; `v` has
/// `x`'s shape and the tangent the output's.
///
/// Forward mode: `f` runs once and the tangent `v` is pushed through its
/// graph (a batch of one). Both results can be differentiated further.
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
    let seed = v.try_reshape(&with_batch(x.shape(), 1))?;
    let t = jvp_columns(&y, &xi, &seed, call.create_graph())?;
    let t = t.try_reshape(y.shape())?;
    Ok((call.output(y), call.output(t)))
}
