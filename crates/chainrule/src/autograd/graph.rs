//! The graph that reverse mode records, and whether it is recording.
//!
//! - [`Op`]: what made a node (an elementwise op of one or two tensors, a
//!   structural operation carrying its own product as [`Custom`], or
//!   nothing: a leaf);
//! - [`VjpFn`] and [`Batch`]: the vector–Jacobian product of a structural
//!   operation and the batch axes of the cotangent it is given;
//! - the grad mode: [`is_grad_enabled`], [`no_grad`] and their kin
//!   (`torch.no_grad`), one flag per thread.
//!
//! [`crate::tensor`] builds nodes from these; the backward pass
//! (`engine.rs`, `vjp.rs`) walks them. Nothing here reads a tensor's
//! internals: only its public API.

use std::cell::Cell;

use crate::ops::{BinaryOp, UnaryOp};
use crate::tensor::Tensor;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations are being recorded on this thread.
#[inline]
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Restores the previous gradient mode when dropped.
#[must_use = "the mode is restored when the guard is dropped"]
pub struct GradModeGuard {
    prev: bool,
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.prev));
    }
}

/// Sets whether operations are recorded until the guard is dropped.
pub fn set_grad_enabled(enabled: bool) -> GradModeGuard {
    let prev = GRAD_ENABLED.with(|g| g.replace(enabled));
    GradModeGuard { prev }
}

/// Stops recording until the guard is dropped (`with torch.no_grad():`).
///
/// ```
/// use chainrule::{autograd, Tensor};
/// let x = Tensor::scalar(2.0).requires_grad();
/// let y = {
///     let _g = autograd::no_grad();
///     &x * 2.0
/// };
/// assert!(!y.is_requires_grad());
/// ```
pub fn no_grad() -> GradModeGuard {
    set_grad_enabled(false)
}

/// Runs `f` without recording.
pub fn no_grad_scope<R>(f: impl FnOnce() -> R) -> R {
    let _guard = no_grad();
    f()
}

/// Turns recording back on until the guard is dropped.
pub fn enable_grad() -> GradModeGuard {
    set_grad_enabled(true)
}

/// A node's record of how it was computed.
pub(crate) enum Op {
    /// A leaf: made by a constructor, by `detach`, or without gradients.
    Leaf,
    /// A non-leaf whose saved inputs were released by a backward pass; it
    /// keeps the name of its backward function.
    Freed(&'static str),
    /// An elementwise function of one tensor.
    Unary(UnaryOp, Tensor),
    /// An elementwise function of two tensors (broadcast).
    Binary(BinaryOp, Tensor, Tensor),
    /// `tensor op constant`.
    ScalarRhs(BinaryOp, Tensor, f64),
    /// `constant op tensor`.
    ScalarLhs(BinaryOp, f64, Tensor),
    /// `sum()` of every element, or `mean()` when `true` (kept apart from
    /// `Custom`: a training step's loss records no box and no input list).
    Total(bool, Tensor),
    /// A structural operation with its own vector–Jacobian product.
    Custom(Box<Custom>),
}

/// The vector–Jacobian product of a structural operation: given the output
/// gradient, the output, the inputs and the batch axes of the gradient, the
/// gradient of each input (`None` when it needs none).
///
/// With [`Batch`] of `k` axes the output gradient has `k` extra leading axes
/// (a batch of cotangents, see [`super::grad_batched`]) and so must
/// every returned gradient; rules written with broadcasting and negative axes
/// need no change, the others use [`Batch`]'s helpers.
pub(crate) type VjpFn = dyn Fn(&Tensor, &Tensor, &[Tensor], Batch) -> Vec<Option<Tensor>>;

/// The Jacobian–vector product of a structural operation, for forward mode
/// ([`crate::forward::tangents`]): given the tangents of the inputs (`None`
/// where an input's tangent is zero; at least one is `Some`), the output and
/// the inputs, the output's tangent. A tangent is a batch of `k` tangents
/// with the batch axis *last*: shape `input.shape ++ [k]`, and the result
/// `output.shape ++ [k]`. With the batch last, an axis of the unbatched
/// tensor is the same axis of the batched one and NumPy broadcasting of two
/// tangents is that of their primals, so most rules are the operation itself
/// applied to the tangent.
pub(crate) type JvpFn = dyn Fn(&[Option<Tensor>], &Tensor, &[Tensor]) -> Tensor;

/// A structural operation: its inputs, its vector–Jacobian product, its
/// Jacobian–vector product and its PyTorch name.
pub(crate) struct Custom {
    pub(crate) inputs: Vec<Tensor>,
    pub(crate) vjp: Box<VjpFn>,
    pub(crate) jvp: Box<JvpFn>,
    pub(crate) name: &'static str,
}

/// The number of leading batch axes of a cotangent in a backward pass (0 in
/// an ordinary pass), with the shape helpers a vector–Jacobian product needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Batch(pub(crate) usize);

impl Batch {
    /// `shape` with the batch axes of `g` in front.
    pub(crate) fn shape(self, g: &Tensor, shape: &[usize]) -> Vec<usize> {
        let mut s = g.shape()[..self.0].to_vec();
        s.extend_from_slice(shape);
        s
    }

    /// An axis of the unbatched tensor as an axis of the batched one.
    pub(crate) fn axis(self, axis: usize) -> usize {
        axis + self.0
    }

    /// `g.reshape(shape)` keeping the batch axes.
    pub(crate) fn reshape(self, g: &Tensor, shape: &[usize]) -> Tensor {
        g.reshape(&self.shape(g, shape))
    }

    /// `g.sum_to_shape(shape)` keeping the batch axes: the gradient of an
    /// input of shape `shape` broadcast to `g`'s (unbatched) shape.
    pub(crate) fn sum_to(self, g: &Tensor, shape: &[usize]) -> Tensor {
        if self.0 == 0 {
            return g.sum_to_shape(shape);
        }
        let inner = g.ndim() - self.0;
        if inner == shape.len() {
            return g.sum_to_shape(&self.shape(g, shape));
        }
        // Pad `shape` with ones to the unbatched rank so that the batch axes
        // line up, sum, then drop the padding.
        let mut padded = vec![1; inner - shape.len()];
        padded.extend_from_slice(shape);
        self.reshape(&g.sum_to_shape(&self.shape(g, &padded)), shape)
    }

    /// `g.expand(shape)` keeping the batch axes (the adjoint of [`Batch::sum_to`]).
    pub(crate) fn expand(self, g: &Tensor, shape: &[usize]) -> Tensor {
        if self.0 == 0 {
            return g.expand(shape);
        }
        let inner = g.ndim() - self.0;
        let g = if inner < shape.len() {
            let mut padded = vec![1; shape.len() - inner];
            padded.extend_from_slice(&g.shape()[self.0..]);
            self.reshape(g, &padded)
        } else {
            g.clone()
        };
        g.expand(&self.shape(&g, shape))
    }
}

impl Op {
    /// PyTorch's name of this node's backward function; `None` for a leaf.
    pub(crate) fn name(&self) -> Option<&'static str> {
        Some(match self {
            Op::Leaf => return None,
            Op::Freed(name) => name,
            Op::Unary(u, _) => u.backward_name(),
            Op::Binary(b, _, _) => b.backward_name(),
            Op::ScalarRhs(BinaryOp::Pow, _, _) => "PowBackward0",
            Op::ScalarRhs(b, _, _) => b.backward_name(),
            Op::ScalarLhs(BinaryOp::Sub, _, _) => "RsubBackward1",
            Op::ScalarLhs(b, _, _) => b.backward_name(),
            Op::Total(true, _) => "MeanBackward0",
            Op::Total(false, _) => "SumBackward0",
            Op::Custom(c) => c.name,
        })
    }

    /// Calls `f` on each input (forward mode walks the recorded graph with it).
    pub(crate) fn for_each_input(&self, mut f: impl FnMut(&Tensor)) {
        match self {
            Op::Leaf | Op::Freed(_) => {}
            Op::Unary(_, a) | Op::ScalarRhs(_, a, _) | Op::ScalarLhs(_, _, a) | Op::Total(_, a) => {
                f(a)
            }
            Op::Binary(_, a, b) => {
                f(a);
                f(b);
            }
            Op::Custom(c) => c.inputs.iter().for_each(f),
        }
    }

    /// Moves the input tensors out (used by a node's `Drop`).
    pub(crate) fn take_inputs(self, out: &mut Vec<Tensor>) {
        match self {
            Op::Leaf | Op::Freed(_) => {}
            Op::Unary(_, a) | Op::ScalarRhs(_, a, _) | Op::ScalarLhs(_, _, a) | Op::Total(_, a) => {
                out.push(a)
            }
            Op::Binary(_, a, b) => {
                out.push(a);
                out.push(b);
            }
            Op::Custom(c) => out.extend(c.inputs),
        }
    }
}
