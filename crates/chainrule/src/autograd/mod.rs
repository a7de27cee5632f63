//! Reverse-mode differentiation with PyTorch semantics.
//!
//! Every [`Tensor`] operation made while gradients are enabled and an input
//! requires them records a node. [`Tensor::backward`] walks the graph once in
//! reverse creation order (every node is numbered when it is made, after its
//! inputs; the pass takes the pending node with the largest number next, so
//! there is no search, no hash set and no recursion, and a chain of 10⁶ ops
//! is fine) and accumulates vector–Jacobian products in one slot per node. Elementwise
//! products come from [`crate::rules`]; structural operations carry their own.
//!
//! - Leaves accumulate into [`Tensor::grad`] across calls; non-leaves only
//!   after [`Tensor::retain_grad`].
//! - After a backward pass the saved inputs of the visited nodes are released
//!   unless `retain_graph`; a second pass through them is an `Err`.
//! - With `create_graph` the backward pass is itself recorded, so gradients
//!   can be differentiated again, to any order.
//! - [`grad_batched`] backpropagates a batch of output gradients in one pass
//!   (PyTorch's `is_grads_batched`): with the identity, a whole Jacobian, or
//!   over the graph of a gradient a whole Hessian.
//! - [`grad`] returns gradients without touching `.grad`. An input the
//!   outputs do not depend on gets a zero gradient of its shape, as in JAX
//!   (PyTorch would need `allow_unused=True` and return `None`).
//!
//! ```
//! use chainrule::autograd::{self, GradOptions};
//! use chainrule::{Real, Tensor};
//! let x = Tensor::scalar(0.5).requires_grad();
//! let y = x.tanh();
//! let create = GradOptions::CREATE_GRAPH;
//! let dy = autograd::grad(&[y], &[x.clone()], None, create).unwrap();
//! let d2y = autograd::grad(&dy, &[x], None, GradOptions::default()).unwrap();
//! let s = 1.0 / 0.5f64.cosh().powi(2);
//! assert!((d2y[0].item() - (-2.0 * 0.5f64.tanh() * s)).abs() < 1e-15);
//! ```

mod engine;
pub(crate) mod graph;
mod vjp;

use engine::{run, GradOutputs, Pass};
use graph::Batch;

pub use graph::{
    enable_grad, is_grad_enabled, no_grad, no_grad_scope, set_grad_enabled, GradModeGuard,
};

use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

/// The flags of [`grad`], [`grad_batched`] and [`Tensor::backward_opts`]:
/// PyTorch's keyword arguments of the same names, named here too, so that
/// a call reads `GradOptions::CREATE_GRAPH`
/// (or [`GradOptions::CREATE_GRAPH`]) rather than two positional booleans. The default is PyTorch's: the graph
/// is freed after the pass and the pass is not recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GradOptions {
    /// Keep the graph's saved inputs so that it can be walked again
    /// (implied by `create_graph`, as in PyTorch).
    pub retain_graph: bool,
    /// Record the backward pass itself, for higher derivatives.
    pub create_graph: bool,
}

impl GradOptions {
    /// `create_graph` (which keeps the graph too): the pass is recorded, so
    /// its results can be differentiated again.
    pub const CREATE_GRAPH: GradOptions = GradOptions {
        retain_graph: true,
        create_graph: true,
    };
    /// `retain_graph` alone: the graph is kept for another pass.
    pub const RETAIN_GRAPH: GradOptions = GradOptions {
        retain_graph: true,
        create_graph: false,
    };
}

impl Tensor {
    /// Backpropagates from a one-element output, accumulating into the
    /// `.grad` of the leaves. A larger output is an `Err` ("grad can be
    /// implicitly created only for scalar outputs"): use
    /// [`Tensor::backward_with`].
    pub fn backward(&self) -> Result<()> {
        self.backward_opts(None, GradOptions::default())
    }

    /// Backpropagates the output gradient `grad` (same shape as `self`).
    pub fn backward_with(&self, grad: &Tensor) -> Result<()> {
        self.backward_opts(Some(grad), GradOptions::default())
    }

    /// Backpropagates with explicit options.
    pub fn backward_opts(&self, grad: Option<&Tensor>, opts: GradOptions) -> Result<()> {
        // The implicit 1 of a 0-d f64 output (every training step's loss) is
        // seeded as a plain f64; anything else as a tensor.
        let grad_outputs = if grad.is_none() && self.dtype() == DType::F64 && self.ndim() == 0 {
            GradOutputs::Unit
        } else {
            GradOutputs::One(output_grad(self, grad)?)
        };
        run(Pass {
            roots: std::slice::from_ref(self),
            grad_outputs,
            inputs: None,
            retain_graph: opts.retain_graph || opts.create_graph,
            create_graph: opts.create_graph,
            batch: Batch(0),
        })
        .map(|_| ())
    }
}

/// The output gradient: given (shape checked) or ones for a one-element output.
fn output_grad(out: &Tensor, grad: Option<&Tensor>) -> Result<Tensor> {
    match grad {
        Some(g) => {
            if g.shape() != out.shape() {
                return Err(Error::ShapeMismatch {
                    op: "backward: grad_output and output",
                    left: g.shape().to_vec(),
                    right: out.shape().to_vec(),
                });
            }
            // A gradient has its tensor's dtype (as PyTorch casts it).
            Ok(g.to_dtype(out.dtype()))
        }
        None => {
            if out.numel() != 1 {
                return Err(Error::ImplicitGradOfNonScalar {
                    shape: out.shape().to_vec(),
                });
            }
            Ok(Tensor::ones(out.shape()).to_dtype(out.dtype()))
        }
    }
}

/// The gradients of `outputs` (weighted by `grad_outputs`, ones by default
/// for one-element outputs) with respect to `inputs`, without touching any
/// `.grad`: PyTorch's `torch.autograd.grad`. An input the outputs do not
/// depend on gets zeros of its shape (as JAX does; PyTorch would need
/// `allow_unused=True` and give `None`). Every input must require gradients
/// and every output must have been computed from one (else an `Err`, as in
/// PyTorch). With `opts.create_graph` the results are themselves
/// differentiable; `opts.retain_graph` keeps the graph for another pass
/// (implied by `create_graph`).
///
/// (`grad` here is PyTorch's; the JAX-style transform `grad(f)`, which
/// returns the function ∇f, is [`functional::grad`](crate::functional::grad).)
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: Option<&[Tensor]>,
    opts: GradOptions,
) -> Result<Vec<Tensor>> {
    check_arguments("grad", outputs, inputs, grad_outputs.map(<[Tensor]>::len))?;
    let gs = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| output_grad(o, grad_outputs.map(|g| &g[i])))
        .collect::<Result<Vec<_>>>()?;
    gradients(outputs, inputs, gs, opts, None)
}

/// [`grad`] for a batch of output gradients at once, as PyTorch's
/// `autograd.grad(..., is_grads_batched=True)`: each `grad_outputs[i]` has
/// the shape of `outputs[i]` with one leading batch axis of a common length
/// B, and each result has the shape of its input with that axis in front.
/// Row k of the results is what [`grad`] gives for row k of the output
/// gradients, but the graph is walked once, every vector–Jacobian product
/// working on the whole batch (a matrix product where one pass would do a
/// matrix–vector product).
///
/// With the identity as the batch this is a whole Jacobian in one pass, and
/// over the graph of a gradient (made with `create_graph`) a whole Hessian:
///
/// ```
/// use chainrule::autograd::{self, GradOptions};
/// use chainrule::{tensor, Real, Tensor};
/// let x = tensor![1.0, 2.0].requires_grad();
/// // f = x0² x1 + sin x1; ∇f = (2 x0 x1, x0² + cos x1).
/// let f = (x.get(&[0]).powi(2) * x.get(&[1]) + x.get(&[1]).sin()).sum();
/// let create = GradOptions::CREATE_GRAPH;
/// let g = autograd::grad(&[f], &[x.clone()], None, create).unwrap();
/// let h = autograd::grad_batched(&g, &[x], &[Tensor::eye(2)], GradOptions::default()).unwrap();
/// let expected = [2.0 * 2.0, 2.0 * 1.0, 2.0 * 1.0, -(2f64.sin())];
/// for (a, b) in h[0].to_vec().iter().zip(expected) {
///     assert!((a - b).abs() < 1e-15);
/// }
/// ```
///
/// Errors as [`grad`], and when an output gradient's shape is not its
/// output's with the batch axis in front.
pub fn grad_batched(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: &[Tensor],
    opts: GradOptions,
) -> Result<Vec<Tensor>> {
    check_arguments("grad_batched", outputs, inputs, Some(grad_outputs.len()))?;
    let batch = grad_outputs
        .first()
        .and_then(|g| g.shape().first().copied());
    for (o, g) in outputs.iter().zip(grad_outputs) {
        let ok = g.shape().first().copied() == batch && &g.shape()[1..] == o.shape();
        if !ok {
            return Err(Error::ShapeMismatch {
                op: "grad_batched: grad_output (batch axis first) and output",
                left: g.shape().to_vec(),
                right: o.shape().to_vec(),
            });
        }
    }
    let gs = grad_outputs
        .iter()
        .zip(outputs)
        .map(|(g, o)| g.to_dtype(o.dtype()))
        .collect();
    gradients(outputs, inputs, gs, opts, Some(batch.unwrap_or(0)))
}

/// The checks [`grad`] and [`grad_batched`] share (`op` names the caller in
/// the message): as many output gradients as outputs, when given, and
/// every input tracked.
fn check_arguments(
    op: &'static str,
    outputs: &[Tensor],
    inputs: &[Tensor],
    n_grad_outputs: Option<usize>,
) -> Result<()> {
    if let Some(n) = n_grad_outputs {
        if n != outputs.len() {
            return Err(Error::LengthMismatch {
                op,
                what: "grad_outputs (one per output)",
                expected: outputs.len(),
                got: n,
            });
        }
    }
    if let Some(i) = inputs.iter().position(|t| !t.is_requires_grad()) {
        return Err(Error::InputDoesNotRequireGrad { op, index: i });
    }
    Ok(())
}

/// The one backward pass behind [`grad`] and [`grad_batched`]: from
/// `outputs` with the (checked) output gradients to `inputs`, with a
/// leading batch axis of length `batch` on every gradient when `Some`. An
/// input the pass does not reach gets zeros of its (batched) shape.
fn gradients(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: Vec<Tensor>,
    opts: GradOptions,
    batch: Option<usize>,
) -> Result<Vec<Tensor>> {
    let res = run(Pass {
        roots: outputs,
        grad_outputs: GradOutputs::Many(grad_outputs),
        inputs: Some(inputs),
        retain_graph: opts.retain_graph || opts.create_graph,
        create_graph: opts.create_graph,
        batch: Batch(usize::from(batch.is_some())),
    })?;
    Ok(res
        .into_iter()
        .zip(inputs)
        .map(|(g, x)| {
            g.unwrap_or_else(|| {
                let mut shape: Vec<usize> = batch.into_iter().collect();
                shape.extend_from_slice(x.shape());
                Tensor::zeros(&shape).to_dtype(x.dtype())
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real::Real;

    #[test]
    fn chain_rule_scalar() {
        let x = Tensor::scalar(0.7).requires_grad();
        let y = (x.sin() * &x).exp();
        y.backward().unwrap();
        let xv: f64 = 0.7;
        let expected = (xv.sin() * xv).exp() * (xv.cos() * xv + xv.sin());
        assert!((x.grad().unwrap().item() - expected).abs() < 1e-14);
    }

    #[test]
    fn freed_graph_is_an_error_and_retain_graph_allows_twice() {
        let x = Tensor::scalar(2.0).requires_grad();
        let y = &x * &x;
        y.backward_opts(None, GradOptions::RETAIN_GRAPH).unwrap();
        y.backward().unwrap();
        assert_eq!(x.grad().unwrap().item(), 8.0);
        let e = y.backward().unwrap_err().to_string();
        assert!(
            e.contains("backward through the graph a second time"),
            "{e}"
        );
    }

    #[test]
    fn saved_tensors_are_released_after_backward_unless_retained() {
        let x = Tensor::scalar(0.5).requires_grad();
        let u = x.exp();
        let y = u.sin() * 2.0;
        drop(u);
        // Only the graph of y holds u now, and only u holds x besides x.
        assert_eq!(crate::tensor::strong_count(&x), 2);
        y.backward_opts(None, GradOptions::RETAIN_GRAPH).unwrap();
        assert_eq!(crate::tensor::strong_count(&x), 2);
        y.backward().unwrap();
        // u is released (and with it its hold on x).
        assert_eq!(crate::tensor::strong_count(&x), 1);
        let e = 0.5f64.exp();
        assert!((x.grad().unwrap().item() - 2.0 * 2.0 * e.cos() * e).abs() < 1e-14);
    }

    #[test]
    fn a_wide_frontier_is_walked_in_creation_order() {
        // 100 products of x pending at once (more than the sorted list
        // holds), reached newest first and oldest first; then a grad with
        // respect to some of them. Integers: every sum is exact.
        let x = Tensor::scalar(3.0).requires_grad();
        let ys: Vec<Tensor> = (1..=100).map(|c| &x * c as f64).collect();
        for order in [false, true] {
            let mut s = Tensor::scalar(0.0);
            let terms: Vec<&Tensor> = if order {
                ys.iter().rev().collect()
            } else {
                ys.iter().collect()
            };
            for y in terms {
                s = s + y * y;
            }
            // d/dx Σ (c x)² = 2x Σ c² = 6 · 338350.
            let g = grad(
                &[s],
                &[x.clone(), ys[9].clone()],
                None,
                GradOptions::RETAIN_GRAPH,
            )
            .unwrap();
            assert_eq!(g[0].item(), 6.0 * 338_350.0);
            assert_eq!(g[1].item(), 2.0 * 30.0);
        }
    }

    #[test]
    fn an_error_mid_walk_leaves_nothing_pending() {
        let x = Tensor::scalar(2.0).requires_grad();
        let ys: Vec<Tensor> = (1..=40).map(|c| &x * c as f64).collect();
        let freed = &ys[0] * 1.0;
        freed.backward().unwrap();
        let mut s = freed.clone();
        for y in &ys[1..] {
            s = s + y;
        }
        assert!(matches!(s.backward(), Err(Error::FreedGraph)));
        // The nodes the failed pass reached are usable by the next one.
        let t = ys[1..].iter().fold(Tensor::scalar(0.0), |a, y| a + y);
        x.zero_grad();
        t.backward().unwrap();
        assert_eq!(x.grad().unwrap().item(), (2..=40).sum::<i32>() as f64);
    }

    #[test]
    fn no_grad_restores_mode() {
        assert!(is_grad_enabled());
        no_grad_scope(|| assert!(!is_grad_enabled()));
        assert!(is_grad_enabled());
    }
}
