//! Reverse-mode differentiation with PyTorch semantics.
//!
//! Every [`Tensor`] operation made while gradients are enabled and an input
//! requires them records a node. [`Tensor::backward`] walks the graph once in
//! reverse topological order (an iterative depth-first search with an explicit
//! stack; a per-pass epoch number in each node marks it visited, so there is
//! no hash set and no recursion, and a chain of 10⁶ ops is fine) and
//! accumulates vector–Jacobian products in one slot per node. Elementwise
//! products come from [`crate::rules`]; structural operations carry their own.
//!
//! - Leaves accumulate into [`Tensor::grad`] across calls; non-leaves only
//!   after [`Tensor::retain_grad`].
//! - After a backward pass the saved inputs of the visited nodes are released
//!   unless `retain_graph`; a second pass through them is an `Err`.
//! - With `create_graph` the backward pass is itself recorded, so gradients
//!   can be differentiated again, to any order.
//! - [`grad`] returns gradients without touching `.grad`. An input the
//!   outputs do not depend on gets a zero gradient of its shape, as in JAX
//!   (PyTorch would need `allow_unused=True` and return `None`).
//!
//! ```
//! use chainrule::{autograd, Real, Tensor};
//! let x = Tensor::scalar(0.5).requires_grad();
//! let y = x.tanh();
//! let dy = autograd::grad(&[y], &[x.clone()], None, true, false).unwrap();
//! let d2y = autograd::grad(&dy, &[x], None, false, false).unwrap();
//! let s = 1.0 / 0.5f64.cosh().powi(2);
//! assert!((d2y[0].item() - (-2.0 * 0.5f64.tanh() * s)).abs() < 1e-15);
//! ```

use std::cell::Cell;

use ndarray::{IxDyn, Zip};

use crate::error::{Error, Result};
use crate::rules::{d_binary, d_unary};
use crate::tensor::{Data, Op, Tensor};

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static EPOCH: Cell<u64> = const { Cell::new(0) };
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

/// Options of [`Tensor::backward_opts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Keep the graph's saved inputs so that it can be walked again
    /// (implied by `create_graph`, as in PyTorch).
    pub retain_graph: bool,
    /// Record the backward pass itself, for higher derivatives.
    pub create_graph: bool,
}

impl Tensor {
    /// Backpropagates from a one-element output, accumulating into the
    /// `.grad` of the leaves. A larger output is an `Err` ("grad can be
    /// implicitly created only for scalar outputs"): use
    /// [`Tensor::backward_with`].
    pub fn backward(&self) -> Result<()> {
        self.backward_opts(None, BackwardOptions::default())
    }

    /// Backpropagates the output gradient `grad` (same shape as `self`).
    pub fn backward_with(&self, grad: &Tensor) -> Result<()> {
        self.backward_opts(Some(grad), BackwardOptions::default())
    }

    /// Backpropagates with explicit options.
    pub fn backward_opts(&self, grad: Option<&Tensor>, opts: BackwardOptions) -> Result<()> {
        let g = output_grad(self, grad)?;
        run(
            std::slice::from_ref(self),
            vec![g],
            None,
            opts.retain_graph || opts.create_graph,
            opts.create_graph,
        )
        .map(|_| ())
    }
}

/// The output gradient: given (shape checked) or ones for a one-element output.
fn output_grad(out: &Tensor, grad: Option<&Tensor>) -> Result<Tensor> {
    match grad {
        Some(g) => {
            if g.shape() != out.shape() {
                return Err(Error::Shape {
                    op: "backward: grad_output and output",
                    lhs: g.shape().to_vec(),
                    rhs: out.shape().to_vec(),
                });
            }
            Ok(g.clone())
        }
        None => {
            if out.numel() != 1 {
                return Err(Error::Autograd(
                    "grad can be implicitly created only for scalar outputs".into(),
                ));
            }
            Ok(Tensor::ones(out.shape()))
        }
    }
}

/// The gradients of `outputs` (weighted by `grad_outputs`, ones by default
/// for one-element outputs) with respect to `inputs`, without touching any
/// `.grad`. An input the outputs do not depend on gets zeros of its shape
/// (as JAX does; PyTorch would need `allow_unused=True` and give `None`).
/// Every input must require gradients and every output must have been
/// computed from one (else an `Err`, as in PyTorch).
/// With `create_graph` the results are themselves differentiable;
/// `retain_graph` keeps the graph for another pass (implied by
/// `create_graph`).
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: Option<&[Tensor]>,
    create_graph: bool,
    retain_graph: bool,
) -> Result<Vec<Tensor>> {
    if let Some(go) = grad_outputs {
        if go.len() != outputs.len() {
            return Err(Error::Autograd(format!(
                "grad: {} grad_outputs for {} outputs",
                go.len(),
                outputs.len()
            )));
        }
    }
    if let Some(i) = inputs.iter().position(|t| !t.is_requires_grad()) {
        return Err(Error::Autograd(format!(
            "grad: input {i} does not require grad"
        )));
    }
    let gs = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| output_grad(o, grad_outputs.map(|g| &g[i])))
        .collect::<Result<Vec<_>>>()?;
    let res = run(
        outputs,
        gs,
        Some(inputs),
        retain_graph || create_graph,
        create_graph,
    )?;
    Ok(res
        .into_iter()
        .zip(inputs)
        .map(|(g, x)| g.unwrap_or_else(|| Tensor::zeros(x.shape())))
        .collect())
}

/// A gradient slot: empty, a plain f64 (0-d fast path) or a tensor.
enum Acc {
    Empty,
    Scalar(f64),
    T(Tensor),
}

impl Acc {
    fn add_scalar(&mut self, v: f64) {
        *self = match std::mem::replace(self, Acc::Empty) {
            Acc::Empty => Acc::Scalar(v),
            Acc::Scalar(s) => Acc::Scalar(s + v),
            Acc::T(t) => Acc::T(t + v),
        };
    }

    fn add(&mut self, g: Tensor) {
        *self = match std::mem::replace(self, Acc::Empty) {
            Acc::Empty => Acc::T(g),
            Acc::Scalar(s) => Acc::T(g + s),
            Acc::T(t) => Acc::T(t + g),
        };
    }

    fn into_tensor(self) -> Option<Tensor> {
        match self {
            Acc::Empty => None,
            Acc::Scalar(s) => Some(Tensor::scalar(s)),
            Acc::T(t) => Some(t),
        }
    }
}

fn next_epoch() -> u64 {
    EPOCH.with(|e| {
        let v = e.get() + 1;
        e.set(v);
        v
    })
}

/// Calls `f` on each input of `op`.
fn for_each_input(op: &Op, mut f: impl FnMut(&Tensor)) {
    match op {
        Op::Leaf | Op::Freed => {}
        Op::Unary(_, a) | Op::ScalarRhs(_, a, _) | Op::ScalarLhs(_, _, a) => f(a),
        Op::Binary(_, a, b) => {
            f(a);
            f(b);
        }
        Op::Custom(c) => c.inputs.iter().for_each(f),
    }
}

const FREED: &str = "Trying to backward through the graph a second time (or directly \
access saved tensors after they have already been freed). Saved intermediate values of \
the graph are freed when you call backward() or autograd::grad(). Specify \
retain_graph=true if you need to backward through the graph a second time or if you \
need to access saved tensors after calling backward.";

/// The backward pass. Accumulates into `.grad` when `inputs` is `None`,
/// else returns the gradients reaching `inputs` (`None` where none does).
fn run(
    roots: &[Tensor],
    grad_outputs: Vec<Tensor>,
    inputs: Option<&[Tensor]>,
    retain_graph: bool,
    create_graph: bool,
) -> Result<Vec<Option<Tensor>>> {
    for (i, r) in roots.iter().enumerate() {
        if !r.is_requires_grad() {
            return Err(Error::Autograd(format!(
                "element {i} of tensors does not require grad and does not have a grad_fn"
            )));
        }
    }
    let epoch = next_epoch();
    // Post-order by an iterative depth-first search.
    let mut order: Vec<Tensor> = Vec::new();
    let mut stack: Vec<(Tensor, bool)> = roots.iter().rev().map(|r| (r.clone(), false)).collect();
    while let Some((t, done)) = stack.pop() {
        if done {
            t.0.slot.set(order.len());
            order.push(t);
            continue;
        }
        if t.0.epoch.get() == epoch {
            continue;
        }
        t.0.epoch.set(epoch);
        let op = t.0.op.borrow();
        if matches!(*op, Op::Freed) {
            return Err(Error::Autograd(FREED.into()));
        }
        stack.push((t.clone(), true));
        for_each_input(&op, |i| {
            if i.is_requires_grad() && i.0.epoch.get() != epoch {
                stack.push((i.clone(), false));
            }
        });
    }

    let mut acc: Vec<Acc> = (0..order.len()).map(|_| Acc::Empty).collect();
    for (r, g) in roots.iter().zip(grad_outputs) {
        acc[r.0.slot.get()].add(g);
    }
    let accumulate = inputs.is_none();
    let inputs = inputs.unwrap_or(&[]);
    let mut is_input = vec![false; order.len()];
    for x in inputs {
        if x.0.epoch.get() == epoch {
            is_input[x.0.slot.get()] = true;
        }
    }
    let mut results: Vec<Option<Tensor>> = vec![None; inputs.len()];

    let _mode = set_grad_enabled(create_graph);
    for i in (0..order.len()).rev() {
        let node = &order[i];
        let g = std::mem::replace(&mut acc[i], Acc::Empty);
        if !matches!(g, Acc::Empty) {
            if is_input[i] {
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
                vjp(&op, node, g, create_graph, &mut acc);
            }
        }
        if !retain_graph && !node.is_leaf() {
            let old = std::mem::replace(&mut *node.0.op.borrow_mut(), Op::Freed);
            drop(old);
        }
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
    let prev = node.0.grad.borrow_mut().take();
    let new = match prev {
        None => g,
        Some(p) => &p + &g,
    };
    *node.0.grad.borrow_mut() = Some(new);
}

/// The scalar value of a 0-d tensor's data, if it is one.
fn scalar_of(t: &Tensor) -> Option<f64> {
    match t.data() {
        Data::Scalar(x) => Some(*x),
        Data::Array(_) => None,
    }
}

/// Adds `g` to the slot of `t` if it needs a gradient.
fn push(acc: &mut [Acc], t: &Tensor, g: Tensor) {
    if t.is_requires_grad() {
        acc[t.0.slot.get()].add(g);
    }
}

fn push_scalar(acc: &mut [Acc], t: &Tensor, g: f64) {
    if t.is_requires_grad() {
        acc[t.0.slot.get()].add_scalar(g);
    }
}

/// Elementwise `d(x, y, out) * g` over the output's shape, then summed
/// down to `target`'s shape.
fn elementwise_grad(
    g: &Tensor,
    out: &Tensor,
    x: &Tensor,
    y: &Tensor,
    target: &Tensor,
    d: impl Fn(f64, f64, f64) -> f64,
) -> Tensor {
    let shape = IxDyn(out.shape());
    let (xd, yd, gd) = (x.data().view(), y.data().view(), g.data().view());
    let bc = "an input broadcasts to its output";
    let xa = xd.broadcast(shape.clone()).expect(bc);
    let ya = yd.broadcast(shape.clone()).expect(bc);
    let ga = gd.broadcast(shape).expect(bc);
    let oa = out.data().view();
    let r = Zip::from(&ga)
        .and(&xa)
        .and(&ya)
        .and(&oa)
        .map_collect(|&g, &x, &y, &o| g * d(x, y, o));
    Tensor::from_ndarray(r).sum_to_shape(target.shape())
}

/// Vector–Jacobian product of one node, added into its inputs' slots.
fn vjp(op: &Op, out: &Tensor, g: Acc, create_graph: bool, acc: &mut [Acc]) {
    // 0-d fast path: plain f64 arithmetic, no allocation.
    if !create_graph {
        let gs = match &g {
            Acc::Scalar(s) => Some(*s),
            Acc::T(t) => scalar_of(t),
            Acc::Empty => None,
        };
        if let (Some(gs), Some(o)) = (gs, scalar_of(out)) {
            let done = match op {
                Op::Unary(u, x) => scalar_of(x).map(|xv| {
                    push_scalar(acc, x, gs * d_unary::<f64>(*u, &xv, &o));
                }),
                Op::Binary(b, x, y) => match (scalar_of(x), scalar_of(y)) {
                    (Some(xv), Some(yv)) => {
                        let (dx, dy) = d_binary::<f64>(*b, &xv, &yv, &o);
                        push_scalar(acc, x, gs * dx);
                        push_scalar(acc, y, gs * dy);
                        Some(())
                    }
                    _ => None,
                },
                Op::ScalarRhs(b, x, c) => scalar_of(x).map(|xv| {
                    push_scalar(acc, x, gs * d_binary::<f64>(*b, &xv, c, &o).0);
                }),
                Op::ScalarLhs(b, c, y) => scalar_of(y).map(|yv| {
                    push_scalar(acc, y, gs * d_binary::<f64>(*b, c, &yv, &o).1);
                }),
                _ => None,
            };
            if done.is_some() {
                return;
            }
        }
    }
    let Some(g) = g.into_tensor() else { return };
    match op {
        Op::Leaf | Op::Freed => {}
        Op::Unary(u, x) => {
            if create_graph {
                let d = d_unary::<Tensor>(*u, x, out);
                push(acc, x, (&g * &d).sum_to_shape(x.shape()));
            } else {
                let u = *u;
                let gx = elementwise_grad(&g, out, x, x, x, |xv, _, o| d_unary::<f64>(u, &xv, &o));
                push(acc, x, gx);
            }
        }
        Op::Binary(b, x, y) => {
            if create_graph {
                let (dx, dy) = d_binary::<Tensor>(*b, x, y, out);
                if x.is_requires_grad() {
                    push(acc, x, (&g * &dx).sum_to_shape(x.shape()));
                }
                if y.is_requires_grad() {
                    push(acc, y, (&g * &dy).sum_to_shape(y.shape()));
                }
            } else {
                let b = *b;
                if x.is_requires_grad() {
                    let gx = elementwise_grad(&g, out, x, y, x, |xv, yv, o| {
                        d_binary::<f64>(b, &xv, &yv, &o).0
                    });
                    push(acc, x, gx);
                }
                if y.is_requires_grad() {
                    let gy = elementwise_grad(&g, out, x, y, y, |xv, yv, o| {
                        d_binary::<f64>(b, &xv, &yv, &o).1
                    });
                    push(acc, y, gy);
                }
            }
        }
        Op::ScalarRhs(b, x, c) => {
            if create_graph {
                let (dx, _) = d_binary::<Tensor>(*b, x, &Tensor::scalar(*c), out);
                push(acc, x, (&g * &dx).sum_to_shape(x.shape()));
            } else {
                let (b, c) = (*b, *c);
                let gx = elementwise_grad(&g, out, x, x, x, |xv, _, o| {
                    d_binary::<f64>(b, &xv, &c, &o).0
                });
                push(acc, x, gx);
            }
        }
        Op::ScalarLhs(b, c, y) => {
            if create_graph {
                let (_, dy) = d_binary::<Tensor>(*b, &Tensor::scalar(*c), y, out);
                push(acc, y, (&g * &dy).sum_to_shape(y.shape()));
            } else {
                let (b, c) = (*b, *c);
                let gy = elementwise_grad(&g, out, y, y, y, |yv, _, o| {
                    d_binary::<f64>(b, &c, &yv, &o).1
                });
                push(acc, y, gy);
            }
        }
        Op::Custom(c) => {
            let grads = (c.vjp)(&g, out, &c.inputs);
            for (x, gx) in c.inputs.iter().zip(grads) {
                if let Some(gx) = gx {
                    push(acc, x, gx);
                }
            }
        }
    }
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
        y.backward_opts(
            None,
            BackwardOptions {
                retain_graph: true,
                create_graph: false,
            },
        )
        .unwrap();
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
        let weak = std::rc::Rc::downgrade(&u.0);
        let y = u.sin() * 2.0;
        drop(u);
        // Only the graph of y holds u now.
        assert!(weak.upgrade().is_some());
        y.backward_opts(
            None,
            BackwardOptions {
                retain_graph: true,
                create_graph: false,
            },
        )
        .unwrap();
        assert!(weak.upgrade().is_some());
        y.backward().unwrap();
        assert!(weak.upgrade().is_none());
        assert_eq!(std::rc::Rc::strong_count(&x.0), 1);
        let e = 0.5f64.exp();
        assert!((x.grad().unwrap().item() - 2.0 * 2.0 * e.cos() * e).abs() < 1e-14);
    }

    #[test]
    fn no_grad_restores_mode() {
        assert!(is_grad_enabled());
        no_grad_scope(|| assert!(!is_grad_enabled()));
        assert!(is_grad_enabled());
    }
}
