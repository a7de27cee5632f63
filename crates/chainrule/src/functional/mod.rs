//! JAX-style composable transforms over tensor functions.
//!
//! Each transform takes a function `Fn(&Tensor) -> Tensor` and returns a
//! function: [`grad`], [`value_and_grad`], [`jacrev`], [`jacfwd`],
//! [`jacobian`], [`hessian`], [`hessian_fwdrev`], [`hvp`]; [`jvp`] and [`vjp`] evaluate at a
//! point, as in JAX; [`derivative`] is the k-th derivative of a function
//! generic over [`Real`](crate::Real), by Taylor mode. Inputs may be
//! scalars (0-d), vectors or matrices: a gradient has the shape of its
//! input and a Jacobian the shape `output.shape ++ input.shape`.
//!
//! These are the transforms' names, one meaning each, as in JAX: `grad(f)`
//! is the function ∇f, `hessian(f)` the function ∇²f, `derivative(f, k)`
//! the function f⁽ᵏ⁾. [`sparse_jacobian`] and [`sparse_hessian`] take a
//! function generic over [`Real`](crate::Real) (traced, as in
//! [`crate::compiled`]) and return CSR matrices ([`crate::sparse`]). The same quantities as numbers at a point, over
//! [`Dual`](crate::Dual) or [`Taylor`](crate::Taylor) numbers, are
//! [`crate::forward`]'s `*_at` functions ([`forward::derivative_at`](crate::forward::derivative_at)
//! is f′(x), [`forward::hessian_at`](crate::forward::hessian_at) the matrix ∇²f(x)); as
//! formulas, [`crate::symbolic`]'s `*_formula` functions; compiled to a
//! program, [`compiled::grad_program`](crate::compiled::grad_program).
//! [`autograd::grad`](crate::autograd::grad) is PyTorch's
//! `torch.autograd.grad`: gradients of recorded outputs with respect to
//! recorded inputs, not a transform.
//!
//! ```
//! use chainrule::functional::{grad, hessian, jacfwd, jacrev};
//! use chainrule::{tensor, Real, Tensor};
//! // f(x) = ½xᵀAx: ∇f = ½(A + Aᵀ)x, ∇²f = ½(A + Aᵀ)
//! let a = tensor![[1.0, 2.0], [0.0, 3.0]];
//! let f = |x: &Tensor| x.dot(&a.matmul(x)) * 0.5;
//! let x = tensor![1.0, -1.0];
//! assert_eq!(grad(f)(&x).to_vec(), vec![0.0, -2.0]);
//! assert_eq!(hessian(f)(&x).to_vec(), vec![1.0, 1.0, 1.0, 3.0]);
//! assert_eq!(jacfwd(grad(f))(&x).to_vec(), jacrev(grad(f))(&x).to_vec());
//! ```
//!
//! # How nesting works
//!
//! The transforms run `f` on the tape of [`crate::autograd`] and walk it
//! backwards. Every call makes its own node for its argument (`x · 1`,
//! recorded, when `x` is tracked, else a fresh leaf) and differentiates
//! with respect to that node only; and whenever a caller could
//! differentiate the result (the argument was tracked, or the call runs
//! inside another transform) the backward pass is recorded
//! (`create_graph`). So `grad(grad(f))` differentiates the recorded
//! backward pass of `grad(f)`, to any depth, and a variable of an outer
//! level that `f` closes over is a different node from the inner argument,
//! even when the inner function is evaluated at it: there is no
//! perturbation confusion.
//!
//! ```
//! use chainrule::functional::grad;
//! use chainrule::Tensor;
//! // d/dx [x · d/dy (x + y)] at y = 1 is 1; evaluated at y = x, still 1.
//! let f = |x: &Tensor| x * grad(|y: &Tensor| x + y)(&Tensor::scalar(1.0));
//! assert_eq!(grad(f)(&Tensor::scalar(3.0)).item(), 1.0);
//! let f = |x: &Tensor| x * grad(|y: &Tensor| x + y)(x);
//! assert_eq!(grad(f)(&Tensor::scalar(3.0)).item(), 1.0);
//! ```
//!
//! At the outermost level, with an argument that does not require
//! gradients, nothing is recorded and the results are plain values (as in
//! JAX); under [`no_grad`](crate::autograd::no_grad) likewise. A tensor
//! `f` closes over is then treated as a constant of the result.
//!
//! # Forward mode
//!
//! [`jvp`] and [`jacfwd`] are forward mode on tensors: `f` runs once on
//! the tape and a batch of `k` tangents (a tensor `x.shape ++ [k]`, batch
//! axis last) is pushed through the recorded graph in the order it ran;
//! each node's tangent comes from the rules table (elementwise operations)
//! or from the Jacobian–vector product every structural operation carries
//! beside its vector–Jacobian product. A whole Jacobian by columns is one
//! walk with the standard basis as the batch, and comes out as
//! `y.shape ++ x.shape` without a transpose. The walk is recorded when a
//! caller can differentiate the result, so forward and reverse mode nest
//! either way round: [`hessian_fwdrev`] is `jacfwd(grad(f))`, JAX's
//! recipe; [`hessian`] stays reverse over reverse, `jacrev(grad(f))` (the
//! same matrix, tested equal).
//!
//! Every many-row reverse product (the rows of [`jacrev`] and so of
//! [`hessian`]) is one batched backward pass.
//!
//! # Errors and panics
//!
//! Misuse that is a programming error panics with a message, documented
//! under `# Panics` (the `grad` of a non-scalar function, as JAX raises);
//! `try_` forms ([`try_grad`], [`try_value_and_grad`], [`try_hessian`],
//! [`try_hvp`], [`try_jvp`], [`try_vjp`], [`try_hessian_fwdrev`],
//! [`try_sparse_hessian`], [`try_sparse_jacobian`]) return [`Error`](crate::Error)
//! where shapes are known only at run time.

mod jacobian;
mod pullback;
mod reverse;
mod scope;
pub(crate) use scope::depth;
mod series;
mod sparse;

pub use jacobian::{
    hessian, hessian_fwdrev, jacfwd, jacobian, jacrev, jvp, try_hessian, try_hessian_fwdrev,
    try_jvp,
};
pub use reverse::{grad, hvp, try_grad, try_hvp, try_value_and_grad, try_vjp, value_and_grad, vjp};
pub use series::{derivative, PlanNumber, SeriesPlan};
pub use sparse::{sparse_hessian, sparse_jacobian, try_sparse_hessian, try_sparse_jacobian};
