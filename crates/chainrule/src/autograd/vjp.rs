//! Vector–Jacobian products of one node, added into its inputs' slots.
//!
//! Elementwise operations take their partials from [`crate::rules`]:
//! - with `create_graph`, as recorded tensor operations (`g * ∂`), so that
//!   the gradient can be differentiated again;
//! - otherwise in one fused loop per input, `g ⊙ ∂(x, y, out)`, written into
//!   `g`'s own buffer when the slot held the only handle to it, and reduced
//!   in the same loop when the input was broadcast to a single value (the
//!   weight of `w * x`); a partial that reads only single values (`x + y`,
//!   `x * 3`) is evaluated once, and a partial of 1 passes `g` on unchanged;
//! - 0-d nodes use plain f64 arithmetic and allocate nothing.
//!
//! Structural operations carry their own products ([`crate::tensor`]).

use ndarray::{ArrayD, IxDyn, Zip};

use super::engine::{push, push_scalar, Acc, Frontier};
use super::graph::{Batch, Custom, Op};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::{strong_mul, Real};
use crate::rules::d_unary_plain;
use crate::rules::{d_binary, d_unary, d_unary_as, partial_reads, Reads};
use crate::tensor::dtype::Elem;
use crate::tensor::kernels::{from_vec, in_place, monomorphic_binary, monomorphic_unary, Operand};
use crate::tensor::{lane, total_grad, total_grad_of, DType, Data, Tensor};

mod lane_products;

/// The scalar value of a 0-d tensor's data, if it is one.
#[inline]
fn scalar_of(t: &Tensor) -> Option<f64> {
    t.scalar_value()
}

/// `a + b` for two gradients of one slot, in `a`'s buffer when possible.
pub(super) fn add_gradients(a: Tensor, b: Tensor) -> Tensor {
    if a.shape().len() == b.shape().len()
        && a.shape().iter().zip(b.shape()).all(|(x, y)| x == y)
        && !a.is_requires_grad()
        && !b.is_requires_grad()
    {
        match (a.dtype(), b.dtype()) {
            (DType::F64, DType::F64) => {
                if let Some(bs) = b.data().as_slice() {
                    return in_place(a, |v: &mut [f64]| {
                        v.iter_mut().zip(bs).for_each(|(u, w)| *u += w)
                    });
                }
            }
            (DType::F32, DType::F32) => {
                if let Some(bs) = f32::slice_of(b.data()) {
                    return in_place(a, |v: &mut [f32]| {
                        v.iter_mut().zip(bs).for_each(|(u, w)| *u += w)
                    });
                }
            }
            _ => {}
        }
    }
    a + b
}

/// `g · c`, in `g`'s buffer when possible; `g` itself when c = 1.
fn scaled(g: Tensor, c: f64) -> Tensor {
    if c == 1.0 {
        return g;
    }
    match g.dtype() {
        DType::F64 => in_place(g, |v: &mut [f64]| {
            v.iter_mut().for_each(|u| *u = strong_mul(*u, c))
        }),
        DType::F32 => in_place(g, |v: &mut [f32]| {
            v.iter_mut()
                .for_each(|u| *u = strong_mul(f64::from(*u), c) as f32)
        }),
    }
}

/// An input's gradient from one partial: a tensor, or a plain f64 for an
/// f64 gradient summed to a 0-d input (the weight of `w * x`: no tensor is
/// made for it).
enum Partial {
    T(Tensor),
    S(f64),
}

impl Partial {
    fn into_tensor(self) -> Tensor {
        match self {
            Partial::T(t) => t,
            Partial::S(s) => Tensor::scalar(s),
        }
    }
}

/// Adds a partial's gradient to the slot of `t` (see [`push`]).
fn push_partial(acc: &mut Frontier, t: &Tensor, p: Partial) {
    match p {
        Partial::S(s) if t.dtype() == DType::F64 => push_scalar(acc, t, s),
        p => push(acc, t, p.into_tensor()),
    }
}

/// `g ⊙ d(x, y, out)` summed down to `target` (the input's shape; the batch
/// axes of `g` are kept), in one loop where the operands allow; in `g`'s
/// dtype.
fn fused(g: Tensor, operands: Operands<'_>, d: impl Fn(f64, f64, f64) -> f64) -> Partial {
    match g.dtype() {
        DType::F64 => match fused_lane(g, operands, &d) {
            Ok(p) => p,
            Err(g) => fused_in::<f64>(g, operands, d),
        },
        DType::F32 => fused_in::<f32>(g, operands, d),
    }
}

/// What [`fused`] multiplies a gradient with: the partial's operands
/// `[x, y, out]` (an operand the partial does not read may be a 0-d zero
/// standing in for it), the output's shape, the input's shape and the
/// batch axes.
#[derive(Clone, Copy)]
struct Operands<'a> {
    data: [&'a Data; 3],
    shape: &'a [usize],
    target: &'a [usize],
    batch: Batch,
}

/// [`fused`] for a gradient of element type `T` (operands of `T` are read
/// in place, others through an f64 copy).
fn fused_in<T: Elem>(
    g: Tensor,
    operands: Operands<'_>,
    d: impl Fn(f64, f64, f64) -> f64,
) -> Partial {
    let Operands {
        data: [x, y, out],
        shape: oshape,
        target,
        batch,
    } = operands;
    let m: usize = oshape.iter().product();
    let ox = Operand::<T>::of(x, oshape);
    // A unary partial's x is its y too: one look at it.
    let oy = if std::ptr::eq(x, y) {
        ox
    } else {
        Operand::<T>::of(y, oshape)
    };
    let simple = (ox, oy, Operand::<T>::of(out, oshape));
    if let (Some(ox), Some(oy), Some(oo)) = simple {
        if T::slice_of(g.data()).is_some() && m > 0 {
            if target == oshape && T::DTYPE == DType::F32 {
                return Partial::T(in_place(g, |v: &mut [T]| {
                    widened_blocks(v, m, ox, oy, oo, &d)
                }));
            }
            if target == oshape {
                return Partial::T(in_place(g, |v: &mut [T]| {
                    for chunk in v.chunks_mut(m) {
                        for (j, u) in chunk.iter_mut().enumerate() {
                            *u = T::of_f64(strong_mul(u.to_f64(), d(ox.at(j), oy.at(j), oo.at(j))));
                        }
                    }
                }));
            }
            if target.iter().product::<usize>() == 1 {
                let gs = T::slice_of(g.data()).expect("checked contiguous");
                if batch.0 == 0 && target.is_empty() {
                    // One sum to a 0-d gradient (the weight of `w * x`):
                    // no buffer for it.
                    let s: f64 = gs
                        .iter()
                        .enumerate()
                        .map(|(j, &u)| strong_mul(u.to_f64(), d(ox.at(j), oy.at(j), oo.at(j))))
                        .sum();
                    return match T::DTYPE {
                        DType::F64 => Partial::S(s),
                        DType::F32 => Partial::T(Tensor::from_data(T::scalar(s))),
                    };
                }
                let sums: Vec<T> = gs
                    .chunks(m)
                    .map(|chunk| {
                        let s: f64 = chunk
                            .iter()
                            .enumerate()
                            .map(|(j, &u)| strong_mul(u.to_f64(), d(ox.at(j), oy.at(j), oo.at(j))))
                            .sum();
                        T::of_f64(s)
                    })
                    .collect();
                return Partial::T(from_vec(sums, &batch.shape(&g, target)));
            }
        }
    }
    // Broadcast inputs: the product over g's shape, then summed down.
    let shape = IxDyn(g.shape());
    let bc = "an input broadcasts to its output";
    let (xv, yv, ov) = (x.view(), y.view(), out.view());
    let gd = g.data().cast_ref(T::DTYPE);
    let gv = T::view_of(&gd).expect("cast to T");
    let r: ArrayD<T> = Zip::from(&gv)
        .and(&xv.broadcast(shape.clone()).expect(bc))
        .and(&yv.broadcast(shape.clone()).expect(bc))
        .and(&ov.broadcast(shape).expect(bc))
        .map_collect(|&g, &x, &y, &o| T::of_f64(strong_mul(g.to_f64(), d(x, y, o))));
    Partial::T(batch.sum_to(&Tensor::from_data(T::wrap(r)), target))
}

/// [`fused_in`] for f64 values in the 1-d lane (`tensor::small`): no batch
/// axes, an output of one axis of at most `LANE_MAX` values, every operand
/// 0-d or a contiguous 1-d f64 array; the same loops and values, with each
/// operand's layout read once. `Err(g)` back otherwise.
fn fused_lane(
    g: Tensor,
    operands: Operands<'_>,
    d: &impl Fn(f64, f64, f64) -> f64,
) -> Result<Partial, Tensor> {
    let Operands {
        data: [x, y, out],
        shape,
        target,
        batch,
    } = operands;
    let (0, &[m]) = (batch.0, shape) else {
        return Err(g);
    };
    // An operand as values and a stride: one value for all, or m values.
    #[inline(always)]
    fn operand(v: &Data, m: usize) -> Option<(&[f64], usize)> {
        match lane(v)? {
            (v, None) | (v, Some(1)) => Some((v, 0)),
            (v, Some(k)) if k == m => Some((v, 1)),
            _ => None,
        }
    }
    // A unary partial's x is its y too: one look at it.
    let oy = |ox| {
        if std::ptr::eq(x, y) {
            ox
        } else {
            operand(y, m)
        }
    };
    let (Some(ox), Some(oo)) = (operand(x, m), operand(out, m)) else {
        return Err(g);
    };
    let Some(oy) = oy(Some(ox)) else {
        return Err(g);
    };
    // g has the output's shape (no batch axes): m values, read once.
    #[inline(always)]
    fn fits(gl: Option<(&[f64], Option<usize>)>, m: usize) -> Option<&[f64]> {
        match gl {
            Some((gs, Some(k))) if k == m && m > 0 => Some(gs),
            _ => None,
        }
    }
    let at = |(v, s): (&[f64], usize), j: usize| v[j * s];
    let dj = |j: usize| d(at(ox, j), at(oy, j), at(oo, j));
    if target == shape {
        if fits(lane(g.data()), m).is_none() {
            return Err(g);
        }
        return Ok(Partial::T(in_place(g, |v: &mut [f64]| {
            for (j, u) in v.iter_mut().enumerate() {
                *u = strong_mul(*u, dj(j));
            }
        })));
    }
    if target.is_empty() {
        // One sum to a 0-d gradient (the weight of `w * x`), as `fused_in`.
        let sum = fits(lane(g.data()), m).map(|gs| {
            gs.iter()
                .enumerate()
                .map(|(j, &u)| strong_mul(u, dj(j)))
                .sum::<f64>()
        });
        return sum.map(Partial::S).ok_or(g);
    }
    Err(g)
}

/// `g ⊙ d(x, y, out)` over f32 values, `m` per batch entry, in blocks
/// widened into f64 buffers: the loop over the buffers is the one f64 values
/// get (compiled without branches; a loop converting each value as it reads
/// it kept a branch per element in relu's step, three times slower).
fn widened_blocks<T: Elem>(
    v: &mut [T],
    m: usize,
    ox: Operand<'_, T>,
    oy: Operand<'_, T>,
    oo: Operand<'_, T>,
    d: &impl Fn(f64, f64, f64) -> f64,
) {
    const BLOCK: usize = 256;
    let (mut gb, mut xb, mut yb, mut ob) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    for chunk in v.chunks_mut(m) {
        for (k, block) in chunk.chunks_mut(BLOCK).enumerate() {
            let (start, n) = (k * BLOCK, block.len());
            ox.widen(start, &mut xb[..n]);
            oy.widen(start, &mut yb[..n]);
            oo.widen(start, &mut ob[..n]);
            for (w, &u) in gb.iter_mut().zip(block.iter()) {
                *w = u.to_f64();
            }
            for (((w, &x), &y), &o) in gb[..n].iter_mut().zip(&xb[..n]).zip(&yb[..n]).zip(&ob[..n])
            {
                *w = strong_mul(*w, d(x, y, o));
            }
            for (u, &w) in block.iter_mut().zip(gb.iter()) {
                *u = T::of_f64(w);
            }
        }
    }
}

/// A partial that reads only 0-d values (or nothing) as one number.
fn constant_partial(reads: Reads, x: &Data, y: &Data, out: &Data) -> Option<(f64, f64, f64)> {
    // Inlined (a closure here was a call per operand, three a partial).
    #[inline(always)]
    fn value(read: bool, d: &Data) -> Option<f64> {
        match (read, d) {
            (false, _) => Some(0.0),
            (true, Data::Scalar(v)) => Some(*v),
            (true, Data::F32(a)) if a.ndim() == 0 => a.iter().next().map(|&v| f64::from(v)),
            (true, _) => None,
        }
    }
    Some((
        value(reads.x, x)?,
        value(reads.y, y)?,
        value(reads.out, out)?,
    ))
}

/// The gradient of one argument of an elementwise binary operation,
/// without recording: `g ⊙ ∂` summed to `target`.
#[allow(clippy::too_many_arguments)]
fn binary_partial(
    op: BinaryOp,
    first: bool,
    g: Tensor,
    out: &Data,
    x: &Data,
    y: &Data,
    target: &[usize],
    batch: Batch,
) -> Partial {
    let (rx, ry) = partial_reads(op);
    let reads = if first { rx } else { ry };
    if let Some((xv, yv, ov)) = constant_partial(reads, x, y, out) {
        let (dx, dy) = d_binary::<f64>(op, &xv, &yv, &ov);
        let c = if first { dx } else { dy };
        let g = scaled(g, c);
        // An input of the output's shape (`r = w·x − y`'s first input): g as
        // it is, no call to sum it to its own shape.
        if batch.0 == 0 && crate::tensor::same_shape(g.shape(), target) {
            return Partial::T(g);
        }
        return Partial::T(batch.sum_to(&g, target));
    }
    // An operand the partial does not read is a 0-d zero for the loop (no
    // look at its layout; the partial's value is the same).
    let zero = Data::Scalar(0.0);
    let shape = out.shape();
    let unread = |read: bool, d| if read { d } else { &zero };
    let (x, y, out) = (
        unread(reads.x, x),
        unread(reads.y, y),
        unread(reads.out, out),
    );
    // An f64 constant beside f32 values is read as f32, as PyTorch does,
    // so that the loop reads every operand in place.
    let as_f32 = |d: &Data| match d {
        Data::Scalar(c) if g.dtype() == DType::F32 => {
            Some(Data::cast_ref(&Data::Scalar(*c), DType::F32))
        }
        _ => None,
    };
    let (cx, cy) = (as_f32(x), as_f32(y));
    let (x, y) = (cx.as_ref().unwrap_or(x), cy.as_ref().unwrap_or(y));
    let operands = Operands {
        data: [x, y, out],
        shape,
        target,
        batch,
    };
    monomorphic_binary!(op, k => if first {
        fused(g, operands, |a, b, o| d_binary::<f64>(k, &a, &b, &o).0)
    } else {
        fused(g, operands, |a, b, o| d_binary::<f64>(k, &a, &b, &o).1)
    })
}

/// The gradient of a unary elementwise operation, without recording.
fn unary_partial(op: UnaryOp, g: Tensor, out: &Data, x: &Data, batch: Batch) -> Tensor {
    if op == UnaryOp::Neg {
        return scaled(g, d_unary::<f64>(op, &0.0, &0.0));
    }
    // relu: a select per value in g's own type (the widening loop below
    // cost ~25 instructions a value at W3's 128 × 256).
    let g = match crate::tensor::kernels::relu_backward_if(op == UnaryOp::Relu, g, x) {
        Ok(gx) => return gx,
        Err(g) => g,
    };
    let operands = Operands {
        data: [x, x, out],
        shape: out.shape(),
        target: x.shape(),
        batch,
    };
    let dtype = g.dtype();
    monomorphic_unary!(op, k => fused(g, operands, |a, _, o| d_unary_as(k, dtype, a, o)))
        .into_tensor()
}

/// 0-d nodes: plain f64 arithmetic, nothing allocated. `None` if `op` is
/// not an elementwise operation of 0-d tensors. `out` is read only for an
/// elementwise operation (a structural one's may be a deferred value that
/// its product does not need).
#[inline]
pub(super) fn scalar_vjp(op: &Op, out: &Tensor, gs: f64, acc: &mut Frontier) -> Option<()> {
    match op {
        Op::Unary(u, x) => {
            let (xv, o) = (scalar_of(x)?, scalar_of(out)?);
            push_scalar(acc, x, strong_mul(gs, d_unary_plain(*u, xv, o)));
        }
        Op::Binary(b, x, y) => {
            let (xv, yv, o) = (scalar_of(x)?, scalar_of(y)?, scalar_of(out)?);
            let (dx, dy) = d_binary::<f64>(*b, &xv, &yv, &o);
            push_scalar(acc, x, strong_mul(gs, dx));
            push_scalar(acc, y, strong_mul(gs, dy));
        }
        Op::ScalarRhs(b, x, c) => {
            let (xv, o) = (scalar_of(x)?, scalar_of(out)?);
            push_scalar(acc, x, strong_mul(gs, d_binary::<f64>(*b, &xv, c, &o).0));
        }
        Op::ScalarLhs(b, c, y) => {
            let (yv, o) = (scalar_of(y)?, scalar_of(out)?);
            push_scalar(acc, y, strong_mul(gs, d_binary::<f64>(*b, c, &yv, &o).1));
        }
        _ => return None,
    }
    Some(())
}

/// Vector–Jacobian product of one node, added into its inputs' slots
/// (`acc` holds the slots of the nodes before it in the order). Not
/// inlined into the walk (as before the 1-d lane took its own path here:
/// W1's walk stays the same code).
#[inline(never)]
pub(super) fn vjp(
    op: &Op,
    out: &Tensor,
    g: Acc,
    create_graph: bool,
    batch: Batch,
    acc: &mut Frontier,
) {
    if !create_graph && batch.0 == 0 {
        // Small 1-d f64 arrays (W2's four values) first: one loop, no
        // layers. A gradient the lane takes is a 1-d array, which the 0-d
        // paths of `vjp_plain` never take; any other comes back untouched.
        let g = match g {
            g @ Acc::T(_) => match lane_products::lane_vjp(op, out, g, acc) {
                Ok(()) => return,
                Err(g) => g,
            },
            g => g,
        };
        return vjp_plain(op, out, g, batch, acc);
    }
    vjp_general(op, out, g, create_graph, batch, acc);
}

/// [`vjp`] without recording or batch axes, outside the 1-d lane: the 0-d
/// products in plain f64, else the general path (its own function, so
/// that the lane's nodes do not pay for this path's stack frame).
#[inline(never)]
fn vjp_plain(op: &Op, out: &Tensor, g: Acc, batch: Batch, acc: &mut Frontier) {
    {
        let gs = match &g {
            Acc::Scalar(s) => Some(*s),
            Acc::T(t) => scalar_of(t),
            Acc::Empty => None,
        };
        if let Some(gs) = gs {
            if let Op::Total(mean, x) = op {
                // A training step's loss: the scaled value written straight
                // into an array of x's shape, no 0-d tensor made for g.
                push(acc, x, total_grad_of(*mean, gs, x.shape()));
                return;
            }
            if scalar_vjp(op, out, gs, acc).is_some() {
                return;
            }
        }
    }
    vjp_general(op, out, g, false, batch, acc);
}

/// [`vjp`] outside the 0-d values and the 1-d lane (its own function, so
/// that those do not pay for this path's stack frame).
#[inline(never)]
fn vjp_general(
    op: &Op,
    out: &Tensor,
    g: Acc,
    create_graph: bool,
    batch: Batch,
    acc: &mut Frontier,
) {
    let Some(g) = g.into_tensor() else { return };
    if create_graph {
        return recorded_vjp(op, out, g, batch, acc);
    }
    match op {
        Op::Leaf | Op::Freed(_) => {}
        Op::Unary(u, x) => {
            if x.is_requires_grad() {
                let gx = unary_partial(*u, g, out.data(), x.data(), batch);
                push(acc, x, gx);
            }
        }
        Op::Binary(b, x, y) => {
            let (nx, ny) = (x.is_requires_grad(), y.is_requires_grad());
            let (od, xd, yd) = (out.data(), x.data(), y.data());
            // When both need it, y's product works on a copy and x's reuses g.
            let mut g = Some(g);
            if ny {
                let gy = if nx { g.clone() } else { g.take() }.expect("present");
                let gy = binary_partial(*b, false, gy, od, xd, yd, y.shape(), batch);
                push_partial(acc, y, gy);
            }
            if let (true, Some(g)) = (nx, g) {
                let gx = binary_partial(*b, true, g, od, xd, yd, x.shape(), batch);
                push_partial(acc, x, gx);
            }
        }
        Op::ScalarRhs(b, x, c) => {
            let c = Data::Scalar(*c);
            let gx = binary_partial(*b, true, g, out.data(), x.data(), &c, x.shape(), batch);
            push_partial(acc, x, gx);
        }
        Op::ScalarLhs(b, c, y) => {
            let c = Data::Scalar(*c);
            let gy = binary_partial(*b, false, g, out.data(), &c, y.data(), y.shape(), batch);
            push_partial(acc, y, gy);
        }
        Op::Total(mean, x) => push(acc, x, total_grad(*mean, &g, x, batch)),
        Op::Custom(c) => custom_vjp(c, out, &g, batch, acc),
    }
}

fn custom_vjp(c: &Custom, out: &Tensor, g: &Tensor, batch: Batch, acc: &mut Frontier) {
    let grads = (c.vjp)(g, out, &c.inputs, batch);
    for (x, gx) in c.inputs.iter().zip(grads) {
        if let Some(gx) = gx {
            push(acc, x, gx);
        }
    }
}

/// With `create_graph`: the products as recorded tensor operations.
fn recorded_vjp(op: &Op, out: &Tensor, g: Tensor, batch: Batch, acc: &mut Frontier) {
    let times = |d: &Tensor, target: &Tensor| batch.sum_to(&g.strong_mul(d), target.shape());
    match op {
        Op::Leaf | Op::Freed(_) => {}
        Op::Unary(u, x) => {
            let d = d_unary::<Tensor>(*u, x, out);
            push(acc, x, times(&d, x));
        }
        Op::Binary(b, x, y) => {
            let (dx, dy) = d_binary::<Tensor>(*b, x, y, out);
            if x.is_requires_grad() {
                push(acc, x, times(&dx, x));
            }
            if y.is_requires_grad() {
                push(acc, y, times(&dy, y));
            }
        }
        Op::ScalarRhs(b, x, c) => {
            let (dx, _) = d_binary::<Tensor>(*b, x, &Tensor::scalar(*c), out);
            push(acc, x, times(&dx, x));
        }
        Op::ScalarLhs(b, c, y) => {
            let (_, dy) = d_binary::<Tensor>(*b, &Tensor::scalar(*c), y, out);
            push(acc, y, times(&dy, y));
        }
        Op::Total(mean, x) => push(acc, x, total_grad(*mean, &g, x, batch)),
        Op::Custom(c) => custom_vjp(c, out, &g, batch, acc),
    }
}
