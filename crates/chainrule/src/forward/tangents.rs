//! Forward mode on tensors: a batch of tangents pushed through a recorded
//! graph, one node at a time, in the order the function ran.
//!
//! A *dual tensor* here is a recorded node (the primal) together with its
//! tangent: a tensor of shape `primal.shape ++ [k]`, a batch of `k`
//! tangents with the batch axis **last**. That layout makes the rules the
//! operations themselves: an axis of the primal is the same axis of the
//! tangent, NumPy broadcasting of two tangents is that of their primals
//! (aligned from the right, the batch axes meeting), and the tangent of a
//! function's output *is* its Jacobian `output.shape ++ input.shape` (a
//! reshape, no transpose) when the batch is the standard basis.
//!
//! The tangent rules:
//! - elementwise operations take their partials from the one rules table
//!   ([`rules::d_unary`], [`rules::d_binary`]), as dual numbers do: the
//!   tangent is `∂ ⊙ ẋ` (+ `∂_y ⊙ ẏ`), with the strong zero of
//!   [`Real::strong_mul`], and an input with no tangent contributes nothing
//!   (its partial is never multiplied, so `pow`'s `ln x` at `x < 0` does not
//!   leak a NaN);
//! - a structural operation carries its own Jacobian–vector product next to
//!   its vector–Jacobian product, where it is defined
//!   ([`JvpFn`](crate::autograd::graph::JvpFn)); the compiler refuses a
//!   structural operation without one.
//!
//! The walk records its tensor operations when gradients are enabled, so a
//! tangent can be differentiated again (forward over reverse, reverse over
//! forward); the callers run it under `no_grad` when no one will.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::autograd::graph::Op;
use crate::error::{Error, Result};
use crate::real::{strong_mul, Real};
use crate::rules::{d_binary, d_unary};
use crate::tensor::buffers;
use crate::tensor::kernels::{from_vec, unique_values};
use crate::tensor::{DType, Tensor};

/// A node's identity: the address of its shared record.
fn key(t: &Tensor) -> usize {
    Rc::as_ptr(&t.0) as usize
}

/// `shape ++ [k]`.
pub(crate) fn with_batch(shape: &[usize], k: usize) -> Vec<usize> {
    let mut s = Vec::with_capacity(shape.len() + 1);
    s.extend_from_slice(shape);
    s.push(k);
    s
}

/// The batch length `k` of a list of tangents (the last axis of the first
/// one present; 1 if none is, which the walk never passes).
pub(crate) fn batch_len(tangents: &[Option<Tensor>]) -> usize {
    tangents
        .iter()
        .flatten()
        .next()
        .and_then(|t| t.shape().last().copied())
        .unwrap_or(1)
}

/// The tangent `t`, or zeros of `shape ++ [k]` for a zero tangent.
pub(crate) fn or_zeros(t: &Option<Tensor>, shape: &[usize], k: usize) -> Tensor {
    match t {
        Some(t) => t.clone(),
        None => Tensor::zeros(&with_batch(shape, k)),
    }
}

/// The one tangent of a one-input operation (the walk calls a rule only
/// when some input has a tangent).
pub(crate) fn only(tangents: &[Option<Tensor>]) -> &Tensor {
    tangents[0]
        .as_ref()
        .expect("a one-input rule is called with its tangent")
}

/// A tangent summed over the primal axes `axes` (none: unchanged).
pub(crate) fn sum_axes(t: &Tensor, axes: &[usize], keepdim: bool) -> Tensor {
    if axes.is_empty() {
        return t.clone();
    }
    let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
    t.sum_dim(&ax, keepdim)
}

/// Whether an operation on these operands would be recorded.
fn recording(a: &Tensor, b: &Tensor) -> bool {
    crate::autograd::is_grad_enabled() && (a.is_requires_grad() || b.is_requires_grad())
}

/// `∂ ⊙ t`: a partial `d` (of a shape that broadcasts to the primal's) times
/// a tangent `t` (primal shape ++ `[k]`), with strong zeros. Unrecorded f64
/// operands of the primal's shape take one loop (in `t`'s buffer when no one
/// else holds it); a 0-d partial of 1 passes `t` on.
pub(crate) fn times(d: &Tensor, t: Tensor) -> Tensor {
    if !recording(d, &t) && d.dtype() == DType::F64 && t.dtype() == DType::F64 {
        if let Some(c) = d.scalar_value() {
            if c == 1.0 {
                return t;
            }
            return rows_scaled(t, 1, |_| c);
        }
        let k = t.shape().last().copied().unwrap_or(1);
        if d.shape() == &t.shape()[..t.ndim() - 1] && k > 0 && t.data().as_slice().is_some() {
            if let Some(ds) = d.data().as_slice() {
                return rows_scaled(t, k, |i| ds[i]);
            }
        }
    }
    d.unsqueeze(-1).strong_mul(&t)
}

/// Row `i` (of `k` values) of the contiguous f64 tensor `t` times `c(i)`,
/// with strong zeros: in `t`'s buffer when no one else holds it, else read
/// from `t` and written into a new buffer in the same pass (a copy first,
/// then the product in place, measured 2× the instructions).
fn rows_scaled(mut t: Tensor, k: usize, c: impl Fn(usize) -> f64) -> Tensor {
    if let Some(v) = unique_values::<f64>(&mut t) {
        for (i, row) in v.chunks_exact_mut(k).enumerate() {
            let c = c(i);
            row.iter_mut().for_each(|u| *u = strong_mul(c, *u));
        }
        return t;
    }
    let src = t
        .data()
        .as_slice()
        .expect("the caller checked it is contiguous");
    let mut v = buffers::take::<f64>(src.len());
    for (i, row) in src.chunks_exact(k).enumerate() {
        let c = c(i);
        v.extend(row.iter().map(|&u| strong_mul(c, u)));
    }
    from_vec(v, t.shape())
}

/// The sum of two optional tangents.
fn plus(a: Option<Tensor>, b: Option<Tensor>) -> Option<Tensor> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// The tangent of one recorded node from its inputs' tangents (`None`: zero).
fn node_tangent(
    node: &Tensor,
    op: &Op,
    mut tangent: impl FnMut(&Tensor) -> Option<Tensor>,
) -> Option<Tensor> {
    let t = match op {
        Op::Leaf | Op::Freed(_) => None,
        Op::Unary(u, x) => {
            let tx = tangent(x)?;
            Some(times(&d_unary::<Tensor>(*u, x, node), tx))
        }
        Op::Binary(b, x, y) => {
            let tx = tangent(x);
            let ty = tangent(y);
            if tx.is_none() && ty.is_none() {
                return None;
            }
            let (dx, dy) = d_binary::<Tensor>(*b, x, y, node);
            plus(tx.map(|tx| times(&dx, tx)), ty.map(|ty| times(&dy, ty)))
        }
        Op::ScalarRhs(b, x, c) => {
            let tx = tangent(x)?;
            let (dx, _) = d_binary::<Tensor>(*b, x, &Tensor::scalar(*c), node);
            Some(times(&dx, tx))
        }
        Op::ScalarLhs(b, c, y) => {
            let ty = tangent(y)?;
            let (_, dy) = d_binary::<Tensor>(*b, &Tensor::scalar(*c), y, node);
            Some(times(&dy, ty))
        }
        Op::Custom(c) => {
            let ts: Vec<Option<Tensor>> = c.inputs.iter().map(&mut tangent).collect();
            if ts.iter().all(Option::is_none) {
                return None;
            }
            Some((c.jvp)(&ts, node, &c.inputs))
        }
    }?;
    // A broadcast input's tangent alone has the input's shape: widen it.
    let k = t.shape().last().copied().unwrap_or(1);
    let shape = with_batch(node.shape(), k);
    Some(if t.shape() == shape.as_slice() {
        t
    } else {
        t.expand(&shape)
    })
}

/// The nodes between `input` and `output` that gradients flow through, in
/// post-order (each after its inputs), and how many of them read each node.
fn order(output: &Tensor, input: &Tensor) -> Result<(Vec<Tensor>, HashMap<usize, usize>)> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    let mut readers: HashMap<usize, usize> = HashMap::new();
    let mut stack = vec![(output.clone(), false)];
    let stop = key(input);
    while let Some((t, done)) = stack.pop() {
        if done {
            order.push(t);
            continue;
        }
        if !seen.insert(key(&t)) {
            continue;
        }
        stack.push((t.clone(), true));
        if key(&t) == stop {
            continue;
        }
        let op = t.0.op.borrow();
        if let Op::Freed(_) = *op {
            return Err(Error::FreedGraph);
        }
        op.for_each_input(|x| {
            if x.is_requires_grad() {
                *readers.entry(key(x)).or_insert(0) += 1;
                if !seen.contains(&key(x)) {
                    stack.push((x.clone(), false));
                }
            }
        });
    }
    Ok((order, readers))
}

/// The tangents of `output` for the tangents `seed` of `input` (shape
/// `input.shape ++ [k]`): `output.shape ++ [k]`, the `k` Jacobian–vector
/// products `J·seed[…, j]` in one walk; `None` when `output` does not depend
/// on `input` (every tangent zero).
///
/// `input` must be a node of the graph of `output` (a transform's own input
/// node); the walk stops there. A node whose saved inputs a backward pass
/// freed is [`Error::FreedGraph`].
pub(crate) fn push(output: &Tensor, input: &Tensor, seed: &Tensor) -> Result<Option<Tensor>> {
    if key(output) == key(input) {
        return Ok(Some(seed.clone()));
    }
    if !output.is_requires_grad() {
        return Ok(None);
    }
    let (order, mut readers) = order(output, input)?;
    let mut tangents: HashMap<usize, Tensor> = HashMap::new();
    let stop = key(input);
    for node in &order {
        let id = key(node);
        let t = if id == stop {
            Some(seed.clone())
        } else {
            let op = node.0.op.borrow();
            // The last reader of a tangent takes it (so a rule can write
            // into its buffer); earlier readers get a handle.
            node_tangent(node, &op, |x| {
                let n = readers.get_mut(&key(x))?;
                *n -= 1;
                if *n == 0 {
                    tangents.remove(&key(x))
                } else {
                    tangents.get(&key(x)).cloned()
                }
            })
        };
        if let Some(t) = t {
            tangents.insert(id, t);
        }
    }
    Ok(tangents.remove(&key(output)))
}
