//! The 1-d lane's vector–Jacobian products (`tensor::small`): an
//! elementwise node whose gradient is a 1-d f64 array of at most
//! `LANE_MAX` values that only its slot holds, with 0-d or 1-d f64 lane
//! operands (W2's `((w·x − y)²).mean()` at n = 4), multiplied in one loop
//! in the gradient's own buffer, or summed to one f64 for a 0-d input,
//! without the general path's layers (the gradient's tensor and partial
//! enums, the operand table, the layout of operands a partial does not
//! read, each operand's layout read again).
//!
//! The values are the general path's bit for bit: the same partials of
//! [`crate::rules`] with the same stand-in 0 for an operand a partial does
//! not read, the same `strong_mul` per value, the same sum, a partial that
//! reads only 0-d values evaluated once (1 passes `g` unchanged), and the
//! inputs' slots reached in the same order (y's product first). Any other
//! node, or a case the general path handles differently (relu's select, a
//! constant partial summed to a 0-d input, a `[1]` input broadcast to more
//! values, both inputs wanting an array, no values), is handed back
//! untouched.

use super::super::engine::{push, push_scalar, Acc, Frontier};
use super::super::graph::Op;
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::strong_mul;
use crate::rules::{d_binary, d_unary, partial_reads, Reads};
use crate::tensor::kernels::{monomorphic_binary, monomorphic_unary};
use crate::tensor::{lane, lane_values_mut, Data, Tensor};

/// An operand as values and a stride: one value for all (0), or m values (1).
/// Made only by [`operand`] and [`ZERO`]: a stride 0 has at least one
/// value, a stride 1 has m (the output's length), which [`at`] relies on.
type Operand<'a> = (&'a [f64], usize);

/// The stand-in for an operand a partial does not read (the general path's
/// 0-d zero).
const ZERO: Operand<'static> = (&[0.0], 0);

/// `d` as an operand of an output of `m` values: a 0-d value, a `[1]` array
/// or an array of `m` values in the lane.
#[inline(always)]
fn operand(d: &Data, m: usize) -> Option<Operand<'_>> {
    match lane(d)? {
        (v, None) | (v, Some(1)) => Some((v, 0)),
        (v, Some(k)) if k == m => Some((v, 1)),
        _ => None,
    }
}

/// The value of operand `o` at `j` (`j` < m, the output's length: every
/// loop of the lane runs over the m values of g). Unchecked: three bounds
/// tests a value were a fifth of a four-value product.
#[inline(always)]
fn at((v, s): Operand<'_>, j: usize) -> f64 {
    debug_assert!(j * s < v.len());
    // SAFETY: an operand of stride 0 has at least one value and one of
    // stride 1 has m values (see `Operand`), and `j` < m, so `j * s` is
    // in bounds.
    unsafe { *v.get_unchecked(j * s) }
}

/// The lane's product of `op` with the gradient `g` of `out`, pushed into
/// the inputs' slots; `g` back (untouched) when the node is not one the lane
/// takes. Only in a pass without `create_graph` or batch axes.
#[inline]
pub(super) fn lane_vjp(op: &Op, out: &Tensor, g: Acc, acc: &mut Frontier) -> Result<(), Acc> {
    let r = products(op, out, g, acc);
    #[cfg(test)]
    if r.is_ok() {
        RAN.with(|c| c.set(c.get() + 1));
    }
    r
}

#[cfg(test)]
thread_local! {
    /// Nodes the lane took on this thread (tests check that it ran).
    static RAN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// [`lane_vjp`]'s dispatch: one call of the op's own copy of [`unary`] or
/// [`binary`] (inlined into one function, every op's copy made one large
/// frame: ~290 instructions a node).
#[inline(always)]
fn products(op: &Op, out: &Tensor, g: Acc, acc: &mut Frontier) -> Result<(), Acc> {
    let Acc::T(g) = g else {
        return Err(g);
    };
    let r = match op {
        Op::Unary(u, x) if *u != UnaryOp::Relu => {
            if !x.is_requires_grad() {
                return Ok(());
            }
            monomorphic_unary!(*u, k => unary(
                |a, o| d_unary::<f64>(k, &a, &o), x, out.data(), g, acc
            ))
        }
        Op::Binary(b, x, y) => {
            let (xs, ys) = ((x.data(), wanted(x)), (y.data(), wanted(y)));
            monomorphic_binary!(*b, k => binary(
                *b, |a, c, o| d_binary::<f64>(k, &a, &c, &o), [xs, ys], out.data(), g, acc
            ))
        }
        Op::ScalarRhs(b, x, c) => {
            let (xs, cs) = ((x.data(), Some(x)), (&Data::Scalar(*c), None));
            monomorphic_binary!(*b, k => binary(
                *b, |a, c, o| d_binary::<f64>(k, &a, &c, &o), [xs, cs], out.data(), g, acc
            ))
        }
        Op::ScalarLhs(b, c, y) => {
            let (cs, ys) = ((&Data::Scalar(*c), None), (y.data(), Some(y)));
            monomorphic_binary!(*b, k => binary(
                *b, |a, c, o| d_binary::<f64>(k, &a, &c, &o), [cs, ys], out.data(), g, acc
            ))
        }
        _ => Err(g),
    };
    r.map_err(Acc::T)
}

/// `t` if it wants a gradient.
#[inline(always)]
fn wanted(t: &Tensor) -> Option<&Tensor> {
    t.is_requires_grad().then_some(t)
}

/// A unary node's product `g ⊙ d(x, out)` in `g`'s buffer, pushed to x.
#[inline(never)]
fn unary(
    d: impl Fn(f64, f64) -> f64,
    x: &Tensor,
    out: &Data,
    mut g: Tensor,
    acc: &mut Frontier,
) -> Result<(), Tensor> {
    let gs = match lane_values_mut(&mut g) {
        Some(v) if !v.is_empty() => v,
        _ => return Err(g),
    };
    let m = gs.len();
    // x has the output's shape (and g's): m values.
    let (Some(ox), Some(oo)) = (operand(x.data(), m), operand(out, m)) else {
        return Err(g);
    };
    if ox.1 == 0 && m > 1 {
        return Err(g);
    }
    for (j, u) in gs.iter_mut().enumerate() {
        *u = strong_mul(*u, d(at(ox, j), at(oo, j)));
    }
    push(acc, x, g);
    Ok(())
}

/// What one input of a binary node gets.
#[derive(Clone, Copy, PartialEq)]
enum Wants {
    /// Nothing (no gradient wanted, or a constant).
    Nothing,
    /// An array of the output's shape (`g`'s buffer).
    Array,
    /// One f64 (a 0-d input: the sum of its products).
    Sum,
}

/// What an input (`t` when it wants a gradient, of value `d`) of an output
/// of `m` values gets: a 0-d input one sum, an input of m values (the
/// output's shape) an array; `None` for a `[1]` input of a longer output
/// (the general path sums it to its shape).
#[inline(always)]
fn wants(t: Option<&Tensor>, d: &Data, m: usize) -> Option<Wants> {
    match (t, d) {
        (None, _) => Some(Wants::Nothing),
        (Some(_), Data::Scalar(_)) => Some(Wants::Sum),
        (Some(_), d) => match lane(d)? {
            (_, Some(k)) if k == m => Some(Wants::Array),
            _ => None,
        },
    }
}

/// Whether a partial reading `r` of `[x, y, out]` reads only 0-d values
/// (the general path evaluates it once).
#[inline(always)]
fn constant(r: Reads, [x, y, out]: [&Data; 3]) -> bool {
    let scalar = |read: bool, d: &Data| !read || matches!(d, Data::Scalar(_));
    scalar(r.x, x) && scalar(r.y, y) && scalar(r.out, out)
}

/// The operands a partial reading `r` reads, the stand-in 0 for the others
/// (none looked at when `wanted` is false).
#[inline(always)]
fn pick<'a>(
    wanted: bool,
    r: Reads,
    [x, y, out]: [&'a Data; 3],
    m: usize,
) -> Option<[Operand<'a>; 3]> {
    let one = |read: bool, d| {
        if read && wanted {
            operand(d, m)
        } else {
            Some(ZERO)
        }
    };
    Some([one(r.x, x)?, one(r.y, y)?, one(r.out, out)?])
}

/// The partial (x's when `FIRST`, else y's) at `j`.
#[inline(always)]
fn part<const FIRST: bool>(
    d: &impl Fn(f64, f64, f64) -> (f64, f64),
    [a, b, o]: [Operand<'_>; 3],
    j: usize,
) -> f64 {
    let (dx, dy) = d(at(a, j), at(b, j), at(o, j));
    if FIRST {
        dx
    } else {
        dy
    }
}

/// Σ g ⊙ ∂, as the general path sums a product to a 0-d input.
#[inline(always)]
fn sum<const FIRST: bool>(
    gs: &[f64],
    d: &impl Fn(f64, f64, f64) -> (f64, f64),
    p: [Operand<'_>; 3],
) -> f64 {
    // `Sum`'s own fold, written out (the iterator's fold was a call): its
    // start (the sum of nothing) and the additions in order, the same bits.
    let mut s = std::iter::empty::<f64>().sum::<f64>();
    for (j, &u) in gs.iter().enumerate() {
        s += strong_mul(u, part::<FIRST>(d, p, j));
    }
    s
}

/// g ← g ⊙ ∂ in place; a constant partial once (1 passes g unchanged, as
/// the general path's `scaled`).
#[inline(always)]
fn times<const FIRST: bool>(
    gs: &mut [f64],
    d: &impl Fn(f64, f64, f64) -> (f64, f64),
    p: [Operand<'_>; 3],
    constant: bool,
) {
    if constant {
        let c = part::<FIRST>(d, p, 0);
        if c != 1.0 {
            gs.iter_mut().for_each(|u| *u = strong_mul(*u, c));
        }
    } else {
        for (j, u) in gs.iter_mut().enumerate() {
            *u = strong_mul(*u, part::<FIRST>(d, p, j));
        }
    }
}

/// [`binary`] when only `t` (x when `FIRST`, else y; of value `td`)
/// wants a gradient, its partial reading `r` of `data` (`[x, y, out]`):
/// the same products, pushed to `t`.
#[inline(always)]
fn one_input<const FIRST: bool>(
    r: Reads,
    d: &impl Fn(f64, f64, f64) -> (f64, f64),
    t: &Tensor,
    td: &Data,
    data: [&Data; 3],
    mut g: Tensor,
    acc: &mut Frontier,
) -> Result<(), Tensor> {
    let gs = match lane_values_mut(&mut g) {
        Some(v) if !v.is_empty() => v,
        _ => return Err(g),
    };
    let m = gs.len();
    let constant = constant(r, data);
    let Some(w) = wants(Some(t), td, m) else {
        return Err(g);
    };
    // The general path sums a constant partial to a 0-d input otherwise.
    if w == Wants::Sum && constant {
        return Err(g);
    }
    let Some(p) = pick(true, r, data, m) else {
        return Err(g);
    };
    if w == Wants::Sum {
        let s = sum::<FIRST>(gs, d, p);
        push_scalar(acc, t, s);
        // g's last use (the weight of `w·x`): cleared for the pass's node
        // pool, not released on its own.
        acc.retire(g);
    } else {
        times::<FIRST>(gs, d, p, constant);
        push(acc, t, g);
    }
    Ok(())
}

/// A binary node's products: `g ⊙ ∂` for each input that wants one, an
/// input of the output's shape in `g`'s buffer, a 0-d input as one sum;
/// y's pushed first, as the general path does. `inputs` are x and y, each
/// its value and, when it wants a gradient, its tensor. Only the operands
/// a wanted partial reads are looked at.
#[inline(never)]
fn binary(
    op: BinaryOp,
    d: impl Fn(f64, f64, f64) -> (f64, f64),
    inputs: [(&Data, Option<&Tensor>); 2],
    out: &Data,
    mut g: Tensor,
    acc: &mut Frontier,
) -> Result<(), Tensor> {
    let [(xd, xt), (yd, yt)] = inputs;
    let data = [xd, yd, out];
    // One input wanting a gradient (the other a constant or not wanted):
    // W2's `w·x − y` and `w·x`, with fewer values to keep track of.
    match (xt, yt) {
        (Some(x), None) => return one_input::<true>(partial_reads(op).0, &d, x, xd, data, g, acc),
        (None, Some(y)) => return one_input::<false>(partial_reads(op).1, &d, y, yd, data, g, acc),
        _ => {}
    }
    let gs = match lane_values_mut(&mut g) {
        Some(v) if !v.is_empty() => v,
        _ => return Err(g),
    };
    let m = gs.len();
    let (Some(wx), Some(wy)) = (wants(xt, xd, m), wants(yt, yd, m)) else {
        return Err(g);
    };
    if wx == Wants::Array && wy == Wants::Array {
        return Err(g);
    }
    let (rx, ry) = partial_reads(op);
    let (cx, cy) = (
        wx != Wants::Nothing && constant(rx, data),
        wy != Wants::Nothing && constant(ry, data),
    );
    // The general path sums a constant partial to a 0-d input otherwise.
    if (wx == Wants::Sum && cx) || (wy == Wants::Sum && cy) {
        return Err(g);
    }
    let (Some(px), Some(py)) = (
        pick(wx != Wants::Nothing, rx, data, m),
        pick(wy != Wants::Nothing, ry, data, m),
    ) else {
        return Err(g);
    };
    // Sums read g before an array product overwrites it.
    let sx = (wx == Wants::Sum).then(|| sum::<true>(gs, &d, px));
    let sy = (wy == Wants::Sum).then(|| sum::<false>(gs, &d, py));
    if wx == Wants::Array {
        times::<true>(gs, &d, px, cx);
    } else if wy == Wants::Array {
        times::<false>(gs, &d, py, cy);
    }
    // y's first, as the general path.
    if let Some(y) = yt {
        match sy {
            Some(s) => push_scalar(acc, y, s),
            None => {
                push(acc, y, g);
                if let (Some(x), Some(s)) = (xt, sx) {
                    push_scalar(acc, x, s);
                }
                return Ok(());
            }
        }
    }
    if let Some(x) = xt {
        match sx {
            Some(s) => push_scalar(acc, x, s),
            None => push(acc, x, g),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::RAN;
    use crate::ops::{BinaryOp, UnaryOp};
    use crate::real::Real;
    use crate::tensor::without_lane;
    use crate::{autograd, Tensor};

    /// Special values (signed zeros, a subnormal, infinities, NaN) and
    /// ordinary ones, `n` of them from `salt`.
    fn special(n: usize, salt: usize) -> Vec<f64> {
        let v = [
            0.5,
            -0.0,
            2.0,
            f64::NAN,
            -1.25,
            0.0,
            f64::INFINITY,
            f64::MIN_POSITIVE / 8.0,
            -3.0,
            f64::NEG_INFINITY,
            1.0,
        ];
        (0..n).map(|i| v[(3 * i + salt) % v.len()]).collect()
    }

    /// Ordinary values inside every op's domain.
    fn tame(n: usize, salt: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 0.3 + 0.11 * ((5 * i + salt) % 7) as f64)
            .collect()
    }

    /// A gradient's bits (NaN = NaN), or nothing when there is none.
    fn bits(g: Option<Tensor>) -> Vec<u64> {
        g.map_or_else(Vec::new, |g| {
            g.to_vec()
                .iter()
                .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() })
                .collect()
        })
    }

    /// Every elementwise op's products on arrays of `n` values, seeded
    /// with special values (Σ t ⊙ s reaches t with g = s), with 0-d, `[1]`
    /// and constant operands on either side: the gradients of every leaf.
    fn corpus(n: usize, xs: Vec<f64>) -> Vec<Vec<u64>> {
        let leaf =
            |v: Vec<f64>, shape: &[usize]| Tensor::from_vec(v, shape).unwrap().requires_grad();
        let x = leaf(xs, &[n]);
        let y = leaf(tame(n, 4), &[n]);
        let w = Tensor::scalar(-0.7).requires_grad();
        let one = leaf(vec![1.3], &[1]);
        let c = Tensor::from_vec(tame(n, 2), &[n]).unwrap();
        let s = Tensor::from_vec(special(n, 1), &[n]).unwrap();
        let leaves = [&x, &y, &w, &one];
        let mut out = Vec::new();
        let mut run = |t: Tensor| {
            (&t * &s).sum().backward().unwrap();
            for l in leaves {
                out.push(bits(l.grad()));
                l.zero_grad();
            }
        };
        for op in UnaryOp::ALL {
            run(x.unary_op(op));
        }
        for op in BinaryOp::ALL {
            run(x.binary_op(op, &y));
            run(x.binary_op(op, &c));
            run(c.binary_op(op, &x));
            run(w.binary_op(op, &x));
            run(x.binary_op(op, &w));
            run(x.binary_op(op, &one));
            run(one.binary_op(op, &x));
            run(x.binary_op(op, &x));
            run(x.binary_scalar(op, 1.5));
            run(Tensor::scalar_binary(-2.5, op, &x));
        }
        out
    }

    #[test]
    fn lane_products_give_the_general_paths_bits() {
        for n in (1..=5).chain([16, 17]) {
            for xs in [tame(n, 0), special(n, 0), special(n, 5)] {
                let ran = RAN.with(|c| c.get());
                let lane = corpus(n, xs.clone());
                let ran = RAN.with(|c| c.get()) - ran;
                // Beyond 16 values the lane takes nothing.
                assert!((n > 16) == (ran == 0), "n = {n}: {ran} nodes");
                let general = without_lane(|| corpus(n, xs.clone()));
                assert_eq!(lane.len(), general.len());
                for (i, (a, b)) in lane.iter().zip(&general).enumerate() {
                    assert_eq!(a, b, "gradient {i}, n = {n}, x = {xs:?}");
                }
            }
        }
    }

    #[test]
    fn lane_products_match_hand_written_gradients() {
        // d/dw mean((w x − y)²) = mean(2x(wx − y)); d/dx = 2w(wx − y)/n.
        let (xs, ys) = ([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 9.0]);
        let x = Tensor::from_vec(xs.to_vec(), &[4]).unwrap().requires_grad();
        let y = Tensor::from_vec(ys.to_vec(), &[4]).unwrap();
        let w = Tensor::scalar(0.5).requires_grad();
        let ran = RAN.with(|c| c.get());
        (&w * &x - &y).powi(2).mean().backward().unwrap();
        assert!(RAN.with(|c| c.get()) - ran >= 3);
        let r: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| 0.5 * x - y).collect();
        let dw: f64 = xs.iter().zip(&r).map(|(x, r)| 2.0 * x * r).sum::<f64>() / 4.0;
        assert!((w.grad().unwrap().item() - dw).abs() < 1e-12);
        for (g, r) in x.grad().unwrap().to_vec().iter().zip(&r) {
            assert!((g - 2.0 * 0.5 * r / 4.0).abs() < 1e-12);
        }
    }

    #[test]
    fn w2_at_n_4_keeps_its_check_value() {
        // W2's eager descent (chainrule-bench w2.rs): the bench's check,
        // bit for bit, and the closed form 2 − 2·0.85²⁰ to rounding.
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
        let y = Tensor::from_vec(vec![2.0, 4.0, 6.0, 8.0], &[4]).unwrap();
        let mut w = Tensor::scalar(0.0).requires_grad();
        for _ in 0..20 {
            let loss = (&w * &x - &y).powi(2).mean();
            loss.backward().unwrap();
            let g = w.grad().unwrap();
            w = autograd::no_grad_scope(|| &w - 0.01 * g).requires_grad();
        }
        assert_eq!(w.item(), 1.9224809378309713);
        assert!((w.item() - (2.0 - 2.0 * 0.85f64.powi(20))).abs() < 1e-12);
    }

    /// W2's loss at `n` values and weight `w0`: (w, x, y, loss).
    fn w2_loss(n: usize, w0: f64) -> (Tensor, Tensor, Tensor, Tensor) {
        let xs: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x + 0.25).collect();
        let x = Tensor::from_vec(xs, &[n]).unwrap();
        let y = Tensor::from_vec(ys, &[n]).unwrap();
        let w = Tensor::scalar(w0).requires_grad();
        let loss = (&w * &x - &y).powi(2).mean();
        (w, x, y, loss)
    }

    /// d/dw mean((w x − y)²) = mean(2x(wx − y)) at W2's points, by hand.
    fn w2_dw(n: usize, w0: f64) -> f64 {
        (0..n)
            .map(|i| {
                let x = 1.0 + i as f64;
                2.0 * x * (w0 * x - (2.0 * x + 0.25))
            })
            .sum::<f64>()
            / n as f64
    }

    #[test]
    fn the_weights_gradient_accumulates_across_passes() {
        // The weight's sum (its spent gradient array retired to the pass's
        // pool) and its 0-d `.grad` made in place: a second pass without
        // `zero_grad` adds to it, as PyTorch's `.grad` does.
        for n in [1, 2, 4, 16, 17] {
            let (w, x, y, loss) = w2_loss(n, 0.5);
            loss.backward().unwrap();
            let once = w.grad().unwrap().item();
            assert!(
                (once - w2_dw(n, 0.5)).abs() < 1e-9 * (1.0 + once.abs()),
                "n = {n}"
            );
            let again = (&w * &x - &y).powi(2).mean();
            again.backward().unwrap();
            assert_eq!(w.grad().unwrap().item(), once + once, "n = {n}");
            w.zero_grad();
            assert!(w.grad().is_none());
            let third = (&w * &x - &y).powi(2).mean();
            third.backward().unwrap();
            assert_eq!(w.grad().unwrap().item(), once, "n = {n}");
        }
    }

    #[test]
    fn a_retained_gradient_is_not_overwritten_by_the_lane() {
        // r.retain_grad(): r's gradient is shared with its `.grad`, so the
        // products below it must not write into it in place.
        let (n, w0) = (4, 0.5);
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[n]).unwrap();
        let y = Tensor::from_vec(vec![2.25, 4.25, 6.25, 8.25], &[n]).unwrap();
        let w = Tensor::scalar(w0).requires_grad();
        let r = &w * &x - &y;
        r.retain_grad();
        r.powi(2).mean().backward().unwrap();
        // d/dr mean(r²) = 2r/n.
        let want: Vec<f64> = [1.0, 2.0, 3.0, 4.0]
            .iter()
            .zip([2.25, 4.25, 6.25, 8.25])
            .map(|(x, y)| 2.0 * (w0 * x - y) / 4.0)
            .collect();
        assert_eq!(r.grad().unwrap().to_vec(), want);
        assert!((w.grad().unwrap().item() - w2_dw(n, w0)).abs() < 1e-12);
    }

    #[test]
    fn grad_of_grad_through_w2s_loss_after_a_plain_pass() {
        // A plain pass (the lane), then a recorded one: d²/dw² mean((wx −
        // y)²) = mean(2x²) = 15 at x = 1..4, whatever w is.
        for w0 in [0.5, -0.0, 3.0] {
            let (w, _, _, loss) = w2_loss(4, w0);
            loss.backward().unwrap();
            assert!((w.grad().unwrap().item() - w2_dw(4, w0)).abs() < 1e-12);
            let (w2, _, _, loss2) = w2_loss(4, w0);
            let create = autograd::GradOptions::CREATE_GRAPH;
            let g = autograd::grad(&[loss2], std::slice::from_ref(&w2), None, create).unwrap();
            assert!((g[0].item() - w2_dw(4, w0)).abs() < 1e-12);
            let h = autograd::grad(&g, &[w2], None, autograd::GradOptions::default()).unwrap();
            assert!((h[0].item() - 15.0).abs() < 1e-12);
        }
    }
}
