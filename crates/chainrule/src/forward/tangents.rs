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

use crate::macros::avx2_twin;
use std::collections::{HashMap, HashSet};

use super::sech2::sech2_lanes;
use crate::autograd::graph::Op;
use crate::error::{Error, Result};
use crate::ops::UnaryOp;
use crate::real::{strong_mul, Real};
use crate::rules::{d_binary, d_unary};
use crate::tensor::buffers;
use crate::tensor::kernels::{from_vec, monomorphic_unary, unique_values};
use crate::tensor::{DType, Tensor};

/// A node's identity: the address of its shared record.
fn key(t: &Tensor) -> usize {
    t.0.as_ptr() as usize
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
            return rows_scaled(t, 1, |_, out: &mut [f64]| out.fill(c));
        }
        let k = t.shape().last().copied().unwrap_or(1);
        if d.shape() == &t.shape()[..t.ndim() - 1] && k > 0 && t.data().as_slice().is_some() {
            if let Some(ds) = d.data().as_slice() {
                return rows_scaled(t, k, |i, out: &mut [f64]| {
                    out.copy_from_slice(&ds[i..i + out.len()]);
                });
            }
        }
    }
    d.unsqueeze(-1).strong_mul(&t)
}

/// Row factors for a block of rows: `fill(first, out)` writes the factors
/// of rows `first .. first + out.len()` into `out` (every one). Filling a
/// block at once lets a partial be computed in lanes ([`sech2_lanes`])
/// instead of by a call per row.
pub(crate) trait RowFactors: Fn(usize, &mut [f64]) + Sync {}
impl<F: Fn(usize, &mut [f64]) + Sync> RowFactors for F {}

/// A [`RowFactors`] behind a reference: the scaling loops are compiled once,
/// not once per operation (the filler is called once per block of rows).
type Factors<'a> = &'a (dyn Fn(usize, &mut [f64]) + Sync);

/// Row `i` (of `k` values) of the contiguous f64 tensor `t` times its
/// factor from `c` ([`RowFactors`]), with strong zeros: in `t`'s buffer
/// when no one else holds it, else read from `t` and written into a new
/// buffer in the same pass (a copy first, then the product in place,
/// measured 2× the instructions). Large tangents are split by rows over
/// the machine's cores ([`scale_rows`]).
fn rows_scaled(mut t: Tensor, k: usize, c: impl RowFactors) -> Tensor {
    if let Some(v) = unique_values::<f64>(&mut t) {
        scale_rows(v, None, k, &c);
        return t;
    }
    let src = t
        .data()
        .as_slice()
        .expect("the caller checked it is contiguous");
    // Every value is written below, none read first.
    let mut v = buffers::take_dirty::<f64>(src.len());
    scale_rows(&mut v, Some(src), k, &c);
    from_vec(v, t.shape())
}

/// The fewest values worth a thread of their own in [`scale_rows`]: the
/// shares run on rayon's pool (a wake-up of a few microseconds, where
/// starting a thread cost tens), and 2¹⁵ values with tanh's partial take
/// about 40 µs (W8 at m = 4096 has two such shares).
const MIN_PER_THREAD: usize = 1 << 15;

/// Rows whose factors are filled at once ([`RowFactors`]): 512 bytes on
/// the stack.
const BLOCK_ROWS: usize = 64;

/// `out`'s row `i` (of `k` values) = its factor from `c` times row `i` of
/// `src` (or of `out` itself, for `None`), with strong zeros. Rows are
/// split into contiguous shares over up to the machine's cores when there
/// are at least 2¹⁸ values per share; each value is computed alike in any
/// share, so the result does not depend on the split.
fn scale_rows(out: &mut [f64], src: Option<&[f64]>, k: usize, c: Factors<'_>) {
    let rows = out.len() / k;
    let cores = crate::tensor::matmul_threads();
    let threads = cores.min(out.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return scale_rows_here(out, src, k, 0, c);
    }
    let share = rows.div_ceil(threads);
    // The first share on this thread, the others on rayon's global pool,
    // not the band pool of tensor/bands.rs: its one worker woke too late
    // for W8's shares of ~20 µs (m = 4096: 79 -> 96 µs a Jacobian).
    rayon::in_place_scope(|s| {
        let mut parts = out.chunks_mut(share * k).enumerate();
        let (_, mine) = parts.next().expect("at least one share");
        for (j, part) in parts {
            let src = src.map(|v| &v[j * share * k..][..part.len()]);
            s.spawn(move |_| scale_rows_here(part, src, k, j * share, c));
        }
        scale_rows_here(mine, src.map(|v| &v[..mine.len()]), k, 0, c);
    });
}

avx2_twin! {
    /// [`scale_rows`] on this thread, rows numbered from `first`: with AVX2's
    /// four-wide vectors where the processor has them (the same IEEE
    /// operations without fused multiply-adds, so the same bits), else with the
    /// baseline's two-wide ones.
    fn scale_rows_here(out: &mut [f64], src: Option<&[f64]>, k: usize, first: usize, c: Factors<'_>) = scale_rows_body;
}

/// The loops of [`scale_rows`], a block of [`BLOCK_ROWS`] rows at a time
/// (their factors filled first): a finite nonzero row factor takes the
/// masked product ([`finite_times`], which vectorises), any other the
/// general [`strong_mul`]. Rows of 1, 2, 4, 8 or 16 values (a `jvp`, a
/// Jacobian of up to 16 inputs) take a copy with the row's length known,
/// whose loops unroll: a row of 16 in W8 measured 60 instructions with
/// the length read at run time, most of them the loop's set-up.
#[inline(always)]
fn scale_rows_body(out: &mut [f64], src: Option<&[f64]>, k: usize, first: usize, c: Factors<'_>) {
    match k {
        1 => scale_blocks::<1>(out, src, first, c),
        2 => scale_blocks::<2>(out, src, first, c),
        4 => scale_blocks::<4>(out, src, first, c),
        8 => scale_blocks::<8>(out, src, first, c),
        16 => scale_blocks::<16>(out, src, first, c),
        _ => scale_blocks_any(out, src, k, first, c),
    }
}

/// [`scale_rows_body`] for rows of `K` values.
#[inline(always)]
fn scale_blocks<const K: usize>(
    out: &mut [f64],
    src: Option<&[f64]>,
    first: usize,
    c: Factors<'_>,
) {
    let mut factors = [0.0; BLOCK_ROWS];
    for (b, block) in out.chunks_mut(BLOCK_ROWS * K).enumerate() {
        let (len, rows) = (block.len(), block.len() / K);
        let start = b * BLOCK_ROWS;
        c(first + start, &mut factors[..rows]);
        let factors = &factors[..rows];
        let src = src.map(|s| &s[start * K..][..len]);
        // The common block, every factor finite and nonzero: one masked
        // product a value, with no per-row choice (which the compiler had
        // turned into both products and a blend).
        if factors
            .iter()
            .fold(true, |ok, &c| ok & (c != 0.0) & c.is_finite())
        {
            #[cfg(target_arch = "x86_64")]
            if K.is_multiple_of(4) && std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2 (checked on the line above).
                unsafe { finite_rows_avx2::<K>(block, src, factors) };
                continue;
            }
            map_rows::<K>(block, src, factors, |c, r| r.map(|u| finite_times(c, u)));
            continue;
        }
        map_rows::<K>(block, src, factors, |c, r| {
            if c != 0.0 && c.is_finite() {
                r.map(|u| finite_times(c, u))
            } else {
                r.map(|u| strong_mul(c, u))
            }
        });
    }
}

/// Row `i` of `block` (rows of `K` values) = `row(factors[i], r)`, with `r`
/// row `i` of `src` (of `block` itself for `None`): the row's length known,
/// so `row`'s loops unroll.
#[inline(always)]
fn map_rows<const K: usize>(
    block: &mut [f64],
    src: Option<&[f64]>,
    factors: &[f64],
    row: impl Fn(f64, &[f64; K]) -> [f64; K],
) {
    let rows = block.chunks_exact_mut(K).zip(factors);
    match src {
        Some(src) => {
            for ((o, &c), r) in rows.zip(src.chunks_exact(K)) {
                let o: &mut [f64; K] = o.try_into().expect("rows of K");
                *o = row(c, r.try_into().expect("rows of K"));
            }
        }
        None => {
            for (o, &c) in rows {
                let o: &mut [f64; K] = o.try_into().expect("rows of K");
                *o = row(c, o);
            }
        }
    }
}

/// Row `i` of `out` (rows of `K` values, `K` a multiple of 4) = its
/// factor `factors[i]`, finite and nonzero, times row `i` of `src` (or of
/// `out`): [`finite_times`] four values at a time, a row after another.
/// Written with AVX2's operations themselves because the compiler
/// vectorised the plain loop across four rows instead (a gather and a
/// scatter of single values per column, 4 instructions a value).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn finite_rows_avx2<const K: usize>(out: &mut [f64], src: Option<&[f64]>, factors: &[f64]) {
    use std::arch::x86_64::{
        _mm256_and_pd, _mm256_cmp_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd,
        _mm256_setzero_pd, _mm256_storeu_pd, _CMP_NEQ_UQ,
    };
    let zero = _mm256_setzero_pd();
    let n = factors.len();
    assert!(out.len() == n * K && src.is_none_or(|s| s.len() == n * K));
    // Raw pointers: the iterator's bookkeeping was as many instructions as
    // the row's products. In place, `src` is `out` itself.
    let o = out.as_mut_ptr();
    let r = src.map_or(o.cast_const(), <[f64]>::as_ptr);
    for (i, &c) in factors.iter().enumerate() {
        let cv = _mm256_set1_pd(c);
        for j in (0..K).step_by(4) {
            // SAFETY: i < n and j + 4 ≤ K, so i·K + j + 4 ≤ n·K, the length
            // of both buffers (asserted above); loads and stores are
            // unaligned, and no reference to either buffer is alive.
            unsafe {
                let u = _mm256_loadu_pd(r.add(i * K + j));
                // u ≠ 0 (NaN included: unordered) keeps the product's bits.
                let keep = _mm256_cmp_pd::<_CMP_NEQ_UQ>(u, zero);
                _mm256_storeu_pd(o.add(i * K + j), _mm256_and_pd(_mm256_mul_pd(cv, u), keep));
            }
        }
    }
}

/// [`scale_rows_body`] for rows of any length `k`.
#[inline(always)]
fn scale_blocks_any(out: &mut [f64], src: Option<&[f64]>, k: usize, first: usize, c: Factors<'_>) {
    let row = |c: f64, o: &mut [f64], r: Option<&[f64]>| {
        let finite = c != 0.0 && c.is_finite();
        match (r, finite) {
            (Some(r), true) => o
                .iter_mut()
                .zip(r)
                .for_each(|(o, &u)| *o = finite_times(c, u)),
            (Some(r), false) => o
                .iter_mut()
                .zip(r)
                .for_each(|(o, &u)| *o = strong_mul(c, u)),
            (None, true) => o.iter_mut().for_each(|u| *u = finite_times(c, *u)),
            (None, false) => o.iter_mut().for_each(|u| *u = strong_mul(c, *u)),
        }
    };
    let mut factors = [0.0; BLOCK_ROWS];
    for (b, block) in out.chunks_mut(BLOCK_ROWS * k).enumerate() {
        let rows = block.len() / k;
        let start = b * BLOCK_ROWS;
        c(first + start, &mut factors[..rows]);
        let src = src.map(|s| &s[start * k..][..block.len()]);
        for (i, o) in block.chunks_exact_mut(k).enumerate() {
            row(factors[i], o, src.map(|s| &s[i * k..][..k]));
        }
    }
}

/// [`strong_mul`]`(c, u)` for a finite nonzero `c`, bit for bit: the
/// product, except an exact zero `u`, which gives +0 (its sign dropped, as
/// `strong_mul` does). A mask rather than a branch, so a row's loop
/// vectorises.
#[inline(always)]
fn finite_times(c: f64, u: f64) -> f64 {
    let keep = u64::from(u != 0.0).wrapping_neg();
    f64::from_bits((c * u).to_bits() & keep)
}

/// `op′(x) ⊙ t` in one pass over `t`, the partial of each row computed
/// where it is used (no tensor of partials, no graph): for unrecorded,
/// contiguous f64 operands of the primal's shape. `Err(t)` hands the
/// tangent back otherwise.
///
/// The partial is the rules table's ([`d_unary`] on f64), except tanh's,
/// which is `cosh(x)⁻²` as the compiled programs compute it
/// (`sech2_given_tanh`): `(1 − t)(1 + t)` from the output where that does
/// not cancel (|t| ≤ ½), else from one exponential, a few ulp from the
/// table's `cosh(x).powi(-2)` at about a third of its cost; a block of rows
/// at a time in lanes ([`sech2_lanes`]), with no libm call. Inside
/// `jacfwd`, a large tanh's partials were computed with its value by the
/// primal's lanes and kept ([`super::kept`]): they are read, not computed.
fn unary_times(
    op: UnaryOp,
    x: &Tensor,
    y: &Tensor,
    t: Tensor,
) -> std::result::Result<Tensor, Tensor> {
    let plain = !recording(x, &t) && [x, y, &t].iter().all(|v| v.dtype() == DType::F64);
    let k = t.shape().last().copied().unwrap_or(1);
    if !plain || k == 0 || x.shape() != &t.shape()[..t.ndim() - 1] || y.shape() != x.shape() {
        return Err(t);
    }
    let (Some(xs), Some(ys)) = (x.data().as_slice(), y.data().as_slice()) else {
        return Err(t);
    };
    if t.data().as_slice().is_none() {
        return Err(t);
    }
    if op == UnaryOp::Tanh {
        // Kept from the primal's lanes (`jacfwd`, `super::kept`): no
        // exponential here.
        if let Some(s) = super::kept::take(xs, ys) {
            let t = rows_scaled(t, k, |i, out: &mut [f64]| {
                out.copy_from_slice(&s[i..i + out.len()]);
            });
            super::kept::give_back(s);
            return Ok(t);
        }
        return Ok(rows_scaled(t, k, |i, out: &mut [f64]| {
            let n = out.len();
            sech2_lanes(&xs[i..i + n], &ys[i..i + n], out);
        }));
    }
    Ok(
        monomorphic_unary!(op, c => rows_scaled(t, k, |i, out: &mut [f64]| {
            for ((o, x), y) in out.iter_mut().zip(&xs[i..]).zip(&ys[i..]) {
                *o = d_unary::<f64>(c, x, y);
            }
        })),
    )
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
            Some(match unary_times(*u, x, node, tx) {
                Ok(t) => t,
                Err(tx) => times(&d_unary::<Tensor>(*u, x, node), tx),
            })
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
        Op::Total(mean, x) => Some(crate::tensor::total_tangent(*mean, &tangent(x)?, x)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_times_is_strong_mul_bit_for_bit() {
        let us = [
            0.0,
            -0.0,
            1.5,
            -2.0,
            1e-300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for c in [1.0, -3.0, 1e-20, -1e300] {
            for u in us {
                let (a, b) = (finite_times(c, u), strong_mul(c, u));
                assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
            }
        }
        // An exact zero tangent stays +0 whatever the partial's sign.
        assert_eq!(finite_times(-3.0, -0.0).to_bits(), 0.0f64.to_bits());
        // An underflow keeps its sign, as strong_mul's product does.
        assert_eq!(finite_times(-1e-200, 1e-200).to_bits(), (-0.0f64).to_bits());
    }

    /// The tangents of `rows` rows of `k` (`tangent(j)` for entry j) and a
    /// check that a result is, bit for bit (NaN as NaN), every entry times
    /// its row's factor by `strong_mul`.
    fn scaling_case(
        rows: usize,
        k: usize,
        factor: &dyn Fn(usize) -> f64,
        tangent: &dyn Fn(usize) -> f64,
    ) -> (Vec<f64>, impl Fn(&[f64]) -> bool) {
        let src: Vec<f64> = (0..rows * k).map(tangent).collect();
        let want: Vec<f64> = (0..rows * k)
            .map(|j| strong_mul(factor(j / k), src[j]))
            .collect();
        let same = move |a: &[f64]| {
            a.len() == want.len()
                && a.iter()
                    .zip(&want)
                    .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
        };
        (src, same)
    }

    #[test]
    fn scaled_rows_are_strong_products_on_any_number_of_threads() {
        // Every row length with its own copy and some without; the first
        // and the last large enough to be split over threads. Row factors
        // include 0, ±∞ and NaN, tangents 0, −0, ∞ and NaN.
        let cases = [
            ((1 << 19) + 3, 2),
            (200, 1),
            (130, 3),
            (129, 4),
            (65, 5),
            (70, 8),
            (67, 17),
            ((1 << 15) + 5, 16),
        ];
        for (rows, k) in cases {
            let factor = |i: usize| match i % 7 {
                0 => 0.0,
                1 => f64::INFINITY,
                2 => f64::NAN,
                3 => -1e-300,
                _ => 0.5 + i as f64,
            };
            let tangent = |j: usize| match j % 5 {
                0 => 0.0,
                1 => -0.0,
                2 => f64::INFINITY,
                3 => f64::NAN,
                _ => 1.25 - j as f64,
            };
            let (src, same) = scaling_case(rows, k, &factor, &tangent);
            let factors = |first: usize, out: &mut [f64]| {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = factor(first + j);
                }
            };
            let mut copied = vec![f64::NAN; rows * k];
            scale_rows(&mut copied, Some(&src), k, &factors);
            assert!(same(&copied), "rows of {k}, copied");
            let mut in_place = src.clone();
            scale_rows(&mut in_place, None, k, &factors);
            assert!(same(&in_place), "rows of {k}, in place");
            let mut one_thread = src.clone();
            scale_rows_body(&mut one_thread, None, k, 0, &factors);
            assert!(same(&one_thread), "rows of {k}, baseline");
            let mut any_length = vec![f64::NAN; rows * k];
            scale_blocks_any(&mut any_length, Some(&src), k, 0, &factors);
            assert!(same(&any_length), "rows of {k}, any length");
        }
    }

    #[test]
    fn blocks_of_finite_factors_are_strong_products() {
        // Every factor finite and nonzero (the blocks' own loop, AVX2's
        // operations where present), tangents with 0, −0, ±∞, NaN and
        // products that underflow: bit for bit strong_mul, in place or
        // copied, for every row length with its own copy.
        for (rows, k) in [(300, 16), (130, 8), (129, 4), (65, 2), (70, 1), (67, 17)] {
            let factor = |i: usize| match i % 5 {
                0 => -1e-300,
                1 => 3.5,
                _ => -0.25 - i as f64,
            };
            let tangent = |j: usize| match j % 6 {
                0 => 0.0,
                1 => -0.0,
                2 => f64::INFINITY,
                3 => f64::NAN,
                4 => 1e-300,
                _ => 1.25 - j as f64,
            };
            let (src, same) = scaling_case(rows, k, &factor, &tangent);
            let factors = |first: usize, out: &mut [f64]| {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = factor(first + j);
                }
            };
            let mut copied = vec![f64::NAN; rows * k];
            scale_rows_here(&mut copied, Some(&src), k, 0, &factors);
            assert!(same(&copied), "rows of {k}, copied");
            let mut in_place = src.clone();
            scale_rows_here(&mut in_place, None, k, 0, &factors);
            assert!(same(&in_place), "rows of {k}, in place");
            let mut baseline = src.clone();
            scale_rows_body(&mut baseline, None, k, 0, &factors);
            assert!(same(&baseline), "rows of {k}, baseline");
        }
    }

    #[test]
    fn a_kept_partial_gives_the_unfused_tangent() {
        // The same tangent from a partial kept by the primal's lanes
        // (`kept`) and from the tangent pass's own lanes (`sech2_lanes`):
        // a few ulp apart, the same zeros and NaN.
        let _plain = crate::autograd::no_grad();
        let mut u: Vec<f64> = (0..3000).map(|i| (i as f64 - 1500.0) * 1.3e-2).collect();
        u.extend([0.0, -0.0, 400.0, -360.0, f64::INFINITY, f64::NAN, 1e-300]);
        let n = u.len();
        let (mut y, mut s) = (vec![0.0; n], vec![0.0; n]);
        super::super::tanh_sech2_lanes(&u, &mut y, &mut s);
        let x = Tensor::from_vec(u, &[n]).unwrap();
        let y = Tensor::from_vec(y, &[n]).unwrap();
        let t: Vec<f64> = (0..3 * n).map(|j| 1.0 - (j % 11) as f64 * 0.3).collect();
        let t = Tensor::from_vec(t, &[n, 3]).unwrap();
        let unfused = unary_times(UnaryOp::Tanh, &x, &y, t.clone())
            .unwrap()
            .to_vec();
        let xs = x.data().as_slice().unwrap();
        super::super::kept::keep(1, xs, y.data(), s);
        let before = super::super::kept::taken();
        let fused = unary_times(UnaryOp::Tanh, &x, &y, t).unwrap().to_vec();
        assert_eq!(super::super::kept::taken(), before + 1);
        for (a, b) in fused.iter().zip(&unfused) {
            let same = a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            assert!(
                same || a.to_bits().abs_diff(b.to_bits()) <= 8,
                "{a:e} vs {b:e}"
            );
        }
    }

    #[test]
    fn a_tanh_tangent_is_sech_squared_times_the_tangent() {
        let _plain = crate::autograd::no_grad();
        let x = Tensor::from_vec(vec![0.3, -2.0, 25.0], &[3]).unwrap();
        let y = x.tanh();
        let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
        let got = unary_times(UnaryOp::Tanh, &x, &y, t).unwrap().to_vec();
        for (i, u) in [0.3f64, -2.0, 25.0].into_iter().enumerate() {
            let d = u.cosh().powi(-2);
            for j in 0..2 {
                let want = d * (2 * i + j + 1) as f64;
                assert!((got[2 * i + j] - want).abs() <= 8.0 * f64::EPSILON * want.abs());
            }
        }
    }
}
