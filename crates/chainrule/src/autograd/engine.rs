//! The backward pass: order the graph, then walk it once in reverse,
//! accumulating vector–Jacobian products in one slot per node.
//!
//! What keeps it cheap (W1 of the benchmark, 10⁵ scalar nodes):
//! - the order is a post-order from an iterative depth-first search; each
//!   node's epoch marks it visited in this pass (no hash set) and its slot is
//!   its index in the order, so the gradient slot of an input is found in O(1);
//! - the order and the search stack are kept between passes (a thread-local
//!   scratch), so a pass allocates nothing per node and touches no fresh pages;
//! - a slot holds a plain f64 for 0-d gradients; the first gradient reaching
//!   a slot is stored, not added to zeros;
//! - inputs always come before their consumer in a post-order, so the slots a
//!   node pushes to are in the part of the order already split off
//!   (`split_at_mut`), and no slot is borrowed twice.

use std::cell::Cell;

use super::graph::{set_grad_enabled, Batch, Op};
use super::vjp::vjp;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A gradient slot: empty, a plain f64 (0-d fast path) or a tensor.
#[derive(Default)]
pub(super) enum Acc {
    #[default]
    Empty,
    Scalar(f64),
    T(Tensor),
}

impl Acc {
    #[inline]
    pub(super) fn add_scalar(&mut self, v: f64) {
        match self {
            Acc::Empty => *self = Acc::Scalar(v),
            Acc::Scalar(s) => *s += v,
            Acc::T(t) => *t = &*t + v,
        }
    }

    pub(super) fn add(&mut self, g: Tensor) {
        *self = match std::mem::take(self) {
            Acc::Empty => Acc::T(g),
            Acc::Scalar(s) => Acc::T(g + s),
            Acc::T(t) => Acc::T(super::vjp::add_gradients(t, g)),
        };
    }

    pub(super) fn into_tensor(self) -> Option<Tensor> {
        match self {
            Acc::Empty => None,
            Acc::Scalar(s) => Some(Tensor::scalar(s)),
            Acc::T(t) => Some(t),
        }
    }
}

/// One node of the order with its gradient slot.
pub(super) struct Visit {
    /// `None` once the loop has recycled it.
    pub(super) node: Option<Tensor>,
    pub(super) acc: Acc,
    /// One of the `inputs` of [`crate::autograd::grad`].
    input: bool,
}

/// The buffers of a pass, kept for the next one.
#[derive(Default)]
struct Scratch {
    order: Vec<Visit>,
    stack: Vec<(Tensor, bool)>,
}

/// Above this many nodes the buffers are not kept (about 32 MB).
const KEEP_AT_MOST: usize = 1 << 20;

thread_local! {
    static SCRATCH: Cell<Option<Scratch>> = const { Cell::new(None) };
    /// The number of the last backward pass (a node's `epoch` says which
    /// pass last visited it).
    static EPOCH: Cell<u64> = const { Cell::new(0) };
}

fn next_epoch() -> u64 {
    EPOCH.with(|e| {
        let v = e.get() + 1;
        e.set(v);
        v
    })
}

/// What a backward pass is asked to do.
pub(super) struct Pass<'a> {
    pub(super) roots: &'a [Tensor],
    /// One per root, of the root's shape with `batch` leading axes in front.
    pub(super) grad_outputs: Vec<Tensor>,
    /// `None`: accumulate into `.grad`; else return the gradients of these.
    pub(super) inputs: Option<&'a [Tensor]>,
    pub(super) retain_graph: bool,
    pub(super) create_graph: bool,
    pub(super) batch: Batch,
}

/// Post-order of the nodes that require gradients below `roots`, each
/// node's slot set to its index; an `Err` on a freed node.
fn order_graph(
    roots: &[Tensor],
    epoch: u64,
    accumulate: bool,
    scratch: &mut Scratch,
) -> Result<()> {
    let Scratch { order, stack } = scratch;
    stack.extend(roots.iter().rev().map(|r| (r.clone(), false)));
    while let Some((t, done)) = stack.pop() {
        if done {
            // A graph of 2³² nodes would need half a terabyte of nodes.
            t.0.slot.set(order.len() as u32);
            order.push(Visit {
                node: Some(t),
                acc: Acc::Empty,
                input: false,
            });
            continue;
        }
        if t.0.epoch.get() == epoch {
            continue;
        }
        t.0.epoch.set(epoch);
        let op = t.0.op.borrow();
        if matches!(*op, Op::Freed(_)) {
            drop(op);
            stack.clear();
            return Err(Error::FreedGraph);
        }
        if accumulate && t.0.replaced.get() {
            drop(op);
            stack.clear();
            return Err(Error::ModifiedParameter {
                shape: t.shape().to_vec(),
            });
        }
        stack.push((t.clone(), true));
        op.for_each_input(|i| {
            if i.is_requires_grad() && i.0.epoch.get() != epoch {
                stack.push((i.clone(), false));
            }
        });
    }
    Ok(())
}

/// The backward pass. Accumulates into `.grad` when `pass.inputs` is
/// `None`, else returns the gradients reaching the inputs (`None` where none
/// does).
pub(super) fn run(pass: Pass<'_>) -> Result<Vec<Option<Tensor>>> {
    for (i, r) in pass.roots.iter().enumerate() {
        if !r.is_requires_grad() {
            return Err(Error::NoGradFn { index: i });
        }
    }
    let epoch = next_epoch();
    let mut scratch = SCRATCH.with(Cell::take).unwrap_or_default();
    order_graph(pass.roots, epoch, pass.inputs.is_none(), &mut scratch)?;
    let order = &mut scratch.order;

    for (r, g) in pass.roots.iter().zip(pass.grad_outputs) {
        order[r.0.slot.get() as usize].acc.add(g);
    }
    let accumulate = pass.inputs.is_none();
    let inputs = pass.inputs.unwrap_or(&[]);
    for x in inputs {
        if x.0.epoch.get() == epoch {
            order[x.0.slot.get() as usize].input = true;
        }
    }
    let mut results: Vec<Option<Tensor>> = vec![None; inputs.len()];
    let (create_graph, batch) = (pass.create_graph, pass.batch);

    let mode = set_grad_enabled(create_graph);
    for i in (0..order.len()).rev() {
        let (before, rest) = order.split_at_mut(i);
        let visit = &mut rest[0];
        let node = visit.node.as_ref().expect("not yet recycled");
        let g = std::mem::take(&mut visit.acc);
        if !matches!(g, Acc::Empty) {
            if visit.input {
                let gt = match &g {
                    Acc::Scalar(s) => Tensor::scalar(*s),
                    Acc::T(t) => t.clone(),
                    Acc::Empty => unreachable!("checked non-empty"),
                };
                for (j, x) in inputs.iter().enumerate() {
                    if x.same(node) {
                        results[j] = Some(gt.clone());
                    }
                }
            }
            let op = node.0.op.borrow();
            if matches!(*op, Op::Leaf) {
                if accumulate && node.is_requires_grad() {
                    store_grad(node, g, create_graph);
                }
            } else {
                let g = if accumulate && node.0.retains_grad.get() {
                    let gt = g.into_tensor().expect("non-empty");
                    store_grad(node, Acc::T(gt.clone()), create_graph);
                    Acc::T(gt)
                } else {
                    g
                };
                vjp(&op, node, g, create_graph, batch, before);
            }
        }
        if !pass.retain_graph && !node.0.leaf {
            if std::rc::Rc::strong_count(&node.0) == 1 {
                // No one else holds it: recycled now, while it is in cache
                // (its saved inputs are still held by their own visits).
                if let Some(n) = visit.node.take() {
                    n.recycle();
                }
            } else {
                // Held: it keeps its name and refuses a second pass.
                let mut op = node.0.op.borrow_mut();
                let freed = Op::Freed(op.name().unwrap_or(""));
                let old = std::mem::replace(&mut *op, freed);
                drop(op);
                drop(old);
            }
        }
    }
    drop(mode);
    order
        .drain(..)
        .flat_map(|v| v.node)
        .for_each(Tensor::recycle);
    if order.capacity() <= KEEP_AT_MOST && scratch.stack.capacity() <= KEEP_AT_MOST {
        SCRATCH.with(|s| s.set(Some(scratch)));
    }
    Ok(results)
}

/// Adds `g` to `node.grad`.
fn store_grad(node: &Tensor, g: Acc, create_graph: bool) {
    let Some(g) = g.into_tensor() else { return };
    let g = if create_graph || !g.is_requires_grad() {
        g
    } else {
        g.detach()
    };
    let prev = node.0.grad.take();
    let new = match prev {
        None => g,
        Some(p) => &p + &g,
    };
    node.0.grad.set(Some(new));
}

/// Adds `g` to the slot of `t` if it needs a gradient, cast to `t`'s
/// dtype (PyTorch's engine does the same: a gradient has its tensor's dtype).
pub(super) fn push(acc: &mut [Visit], t: &Tensor, g: Tensor) {
    if t.is_requires_grad() {
        let g = if g.dtype() == t.dtype() {
            g
        } else {
            g.to_dtype(t.dtype())
        };
        acc[t.0.slot.get() as usize].acc.add(g);
    }
}

/// Adds a 0-d gradient to the slot of `t` if it needs one.
#[inline]
pub(super) fn push_scalar(acc: &mut [Visit], t: &Tensor, g: f64) {
    if t.is_requires_grad() {
        acc[t.0.slot.get() as usize].acc.add_scalar(g);
    }
}
