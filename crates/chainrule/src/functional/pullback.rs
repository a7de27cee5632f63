//! Vector–Jacobian products on the tape: one, and a batch of them.
//!
//! [`vjp_rows`] is the one function through which every many-row reverse
//! product goes (`jacrev` and so `hessian`): one batched backward pass
//! ([`autograd::grad_batched`], PyTorch's `is_grads_batched`), every
//! vector–Jacobian product of the graph working on the whole batch of rows
//! at once (matrix products where one row would be matrix–vector ones).

use std::slice::from_ref;

use crate::autograd::{self, GradOptions};
use crate::error::{Error, Result};
use crate::Tensor;

/// `cotangentᵀ · ∂output/∂input`, of `input`'s shape; zeros when `output`
/// does not depend on anything tracked. `cotangent` has `output`'s shape.
pub(crate) fn vjp_one(
    output: &Tensor,
    input: &Tensor,
    cotangent: &Tensor,
    create_graph: bool,
) -> Result<Tensor> {
    if cotangent.shape() != output.shape() {
        return Err(Error::ShapeMismatch {
            op: "vjp: cotangent and output",
            left: cotangent.shape().to_vec(),
            right: output.shape().to_vec(),
        });
    }
    if !output.is_requires_grad() {
        return Ok(Tensor::zeros(input.shape()));
    }
    // retain_graph always: the walk may reach an outer level's graph (or a
    // tensor `f` closed over), which must survive for the caller.
    let g = autograd::grad(
        from_ref(output),
        from_ref(input),
        Some(from_ref(cotangent)),
        GradOptions {
            retain_graph: true,
            create_graph,
        },
    )?;
    Ok(g.into_iter().next().expect("one input, one gradient"))
}

/// One vector–Jacobian product per row of `cotangents` (shape
/// `[n] ++ output.shape`), stacked: shape `[n] ++ input.shape`.
///
/// One backward pass for the whole batch (see the module docs).
pub(crate) fn vjp_rows(
    output: &Tensor,
    input: &Tensor,
    cotangents: &Tensor,
    create_graph: bool,
) -> Result<Tensor> {
    let n = cotangents.shape().first().copied().unwrap_or(0);
    if cotangents.ndim() == 0 || cotangents.shape()[1..] != *output.shape() {
        return Err(Error::ShapeMismatch {
            op: "vjp_rows: cotangents and [n] ++ output",
            left: cotangents.shape().to_vec(),
            right: output.shape().to_vec(),
        });
    }
    if n == 0 || !output.is_requires_grad() {
        return Ok(Tensor::zeros(&batch_shape(n, input.shape())));
    }
    // retain_graph for the same reason as in `vjp_one`.
    let g = autograd::grad_batched(
        from_ref(output),
        from_ref(input),
        from_ref(cotangents),
        GradOptions {
            retain_graph: true,
            create_graph,
        },
    )?;
    Ok(g.into_iter().next().expect("one input, one gradient"))
}

/// The standard basis of the tensors of `shape`, as a batch: the identity
/// of size `numel` reshaped to `[numel] ++ shape`.
pub(crate) fn basis(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::eye(n).reshape(&batch_shape(n, shape))
}

/// `[n] ++ shape`.
pub(crate) fn batch_shape(n: usize, shape: &[usize]) -> Vec<usize> {
    let mut s = Vec::with_capacity(shape.len() + 1);
    s.push(n);
    s.extend_from_slice(shape);
    s
}
