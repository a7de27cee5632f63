//! The matrix product: [`Tensor::matmul`] (`torch.matmul`'s rules),
//! [`Tensor::dot`] and [`Tensor::trace`], and the kernel behind them and
//! their vector–Jacobian products.
//!
//! - Transposed operands are strided views (`ta`, `tb`), never copies: the
//!   backward of `a @ b` is `g @ bᵀ` and `aᵀ @ g` on the saved values.
//! - Batches are folded into one gemm where the layout allows: `[P, m, k] @
//!   [k, n]` is one `[P·m, k] @ [k, n]` product, and a batch of vectors
//!   times a matrix (a batch of cotangents in
//!   [`grad_batched`](crate::autograd::grad_batched)) is one matrix product.
//! - A diagonal square operand (the identity that seeds a Jacobian or a
//!   Hessian, `g · I` from a trace) makes the product a scaling of rows or
//!   columns: found by a scan that stops at the first non-zero off the
//!   diagonal, so a dense operand costs one comparison.
//! - The gemm is the `gemm` crate's (AVX-512 kernels where the machine has
//!   them), on [`threads`] threads.

use ndarray::{
    ArcArray, Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut2, Axis, Ix2, IxDyn,
};

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use super::axes::shape_err;
use super::broadcast::broadcast_shapes;
use super::dtype::Elem;
use super::{DType, Data, Tensor, Value};
use crate::error::{Error, Result};
use crate::forward::tangents::{batch_len, only, with_batch};
use crate::macros::panicking;

/// The last two axes of `a` as a matrix view, transposed if `t`.
fn matrix<T: Elem>(a: ArrayViewD<'_, T>, t: bool) -> ArrayView2<'_, T> {
    let m = a.into_dimensionality::<Ix2>().expect("2-d");
    if t {
        m.reversed_axes()
    } else {
        m
    }
}

/// The diagonal of a square matrix whose off-diagonal entries are all 0.
fn diagonal<T: Elem>(a: &ArrayView2<'_, T>) -> Option<Vec<T>> {
    let n = a.nrows();
    if n != a.ncols() || n < 2 {
        return None;
    }
    if super::identity::is_kept_identity(a) {
        return Some(vec![T::one(); n]);
    }
    // Diagonality does not change under transposition: scan whichever of
    // a and aᵀ is contiguous, row by row, on slices.
    let t = a.t();
    if let Some(s) = a.as_slice().or_else(|| t.as_slice()) {
        // Row by row without early exit inside a row (it vectorises); a
        // dense matrix fails on its first row.
        let nonzero = |r: &[T]| r.iter().fold(false, |any, &v| any | (v != T::zero()));
        for (i, row) in s.chunks_exact(n).enumerate() {
            if nonzero(&row[..i]) || nonzero(&row[i + 1..]) {
                return None;
            }
        }
        return Some((0..n).map(|i| s[i * (n + 1)]).collect());
    }
    for (i, row) in a.rows().into_iter().enumerate() {
        if row
            .iter()
            .enumerate()
            .any(|(j, &v)| j != i && v != T::zero())
        {
            return None;
        }
    }
    Some((0..n).map(|i| a[[i, i]]).collect())
}

/// Whether every value is finite (a loop without early exit, which vectorises).
fn all_finite<T: Elem>(a: &ArrayView2<'_, T>) -> bool {
    match a.as_slice_memory_order() {
        Some(s) => s.iter().fold(true, |ok, v| ok & v.to_f64().is_finite()),
        None => a.iter().all(|v| v.to_f64().is_finite()),
    }
}

/// Appends `s · row` to `v` (on the slice when the row is contiguous, so
/// that the loop vectorises).
fn extend_scaled<T: Elem>(v: &mut Vec<T>, row: ArrayView1<'_, T>, s: T) {
    match row.as_slice() {
        Some(r) => v.extend(r.iter().map(|&y| s * y)),
        None => v.extend(row.iter().map(|&y| s * y)),
    }
}

/// `o += s · row`.
fn add_scaled<T: Elem>(o: &mut [T], row: ArrayView1<'_, T>, s: T) {
    match row.as_slice() {
        Some(r) => o.iter_mut().zip(r).for_each(|(o, &y)| *o = *o + s * y),
        None => o
            .iter_mut()
            .zip(row.iter())
            .for_each(|(o, &y)| *o = *o + s * y),
    }
}

/// Rows of this many values are transposed together (a tile of
/// `TILE × TILE` values stays in L1 while it is read by columns).
const TILE: usize = 32;

/// Appends the m×n matrix `x[i][j] · s(i, j)` in row order, where `x` is
/// given by its transpose `xt` (n×m, row-major): in tiles, so that both the
/// strided reads and the writes stay in cache (a transposed operand read by
/// rows touches a new cache line and often a new page per value).
fn transpose_scaled<T: Elem>(
    v: &mut Vec<T>,
    xt: &[T],
    m: usize,
    n: usize,
    s: impl Fn(usize, usize) -> T,
) {
    for i0 in (0..m).step_by(TILE) {
        let rows = TILE.min(m - i0);
        let start = v.len();
        // The block of rows is written by columns: zero it first (it is
        // small and stays in cache until it is filled).
        v.resize(start + rows * n, T::zero());
        let block = &mut v[start..];
        for j in 0..n {
            let column = &xt[j * m + i0..j * m + i0 + rows];
            for (r, &x) in column.iter().enumerate() {
                block[r * n + j] = x * s(i0 + r, j);
            }
        }
    }
}

/// `a @ b` (a: m×k, b: k×n) into `out`, through [`gemm_new`]'s paths.
fn product_into<T: Elem>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    out: &mut ArrayViewMut2<'_, T>,
) {
    out.assign(&gemm_new(a, b));
}

/// Threads for a large matrix product: `CHAINRULE_NUM_THREADS` if set,
/// else the machine's cores (read once).
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("CHAINRULE_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    })
}

/// Products of at least this many multiply-adds (256³) run on [`threads`].
const PARALLEL_WORK: usize = 1 << 24;

/// A band of a split product is at least this long, and the other side of
/// the output too: the gemm crate then blocks every band's depth as it
/// blocks the whole product's (its path for outputs of at most 64×64 cuts
/// the depth at other places), so the split changes no rounding.
const MIN_BAND: usize = 64;

/// `c = a @ b`, or `c += a @ b` if `accumulate`, for f32 or f64 matrix
/// views of any strides: the gemm behind [`Tensor::matmul`](super::Tensor::matmul)
/// (the `gemm` crate), for code that multiplies its own arrays the same way.
/// A product of at least 256³ multiply-adds runs on [`threads`] threads:
/// the output is cut into that many bands along its longer side, and each
/// band is one single-threaded gemm, the calling thread's own band among
/// them (see `gemm_bands`).
/// Public as `chainrule::tensor::gemm` only with the `internals` feature
/// (the storage type is not part of the API).
///
/// # Panics
/// If the shapes do not fit (`a` m×k, `b` k×n, `c` m×n) or the element type
/// is neither f32 nor f64.
pub fn gemm<T: ndarray::LinalgScalar + Send + Sync>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    accumulate: bool,
) {
    let start = if accumulate { Start::Keep } else { Start::Over };
    gemm_from(a, b, c, start);
}

/// What a gemm adds its product to.
#[derive(Clone, Copy)]
enum Start<'r, T> {
    /// Nothing: the output is written without being read.
    Over,
    /// The output's own values.
    Keep,
    /// A row of `n` values (a bias) in every row of the output, written by
    /// the thread that multiplies that part of the output, just before
    /// its gemm (`torch.addmm` with β = 1 on an expanded bias).
    Rows(&'r [T]),
}

/// [`gemm`] starting from `start`.
fn gemm_from<T: ndarray::LinalgScalar + Send + Sync>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    start: Start<'_, T>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "gemm: shapes do not fit"
    );
    if let Start::Rows(r) = start {
        assert!(r.len() == n, "gemm: the bias row does not fit");
    }
    let is = |t: std::any::TypeId| t == std::any::TypeId::of::<T>();
    assert!(
        is(std::any::TypeId::of::<f64>()) || is(std::any::TypeId::of::<f32>()),
        "gemm: f32 or f64 only"
    );
    // Threads pay off only for large products: at 100×100×100 two rayon
    // threads took 4x as long as one here.
    match threads() {
        t if t > 1 && m * n * k >= PARALLEL_WORK => {
            if !gemm_bands(a, b, c, start, t) {
                gemm_on(a, b, c, start, ::gemm::Parallelism::Rayon(t));
            }
        }
        _ => gemm_on(a, b, c, start, ::gemm::Parallelism::None),
    }
}

/// [`gemm`] as `parts` single-threaded gemms, one per band of the output's
/// longer side (rows of `c` and `a`, or columns of `c` and `b`); `false`
/// (and nothing done) if the bands would be shorter than [`MIN_BAND`].
///
/// The calling thread multiplies the first band while rayon's pool takes
/// the others ([`super::bands::run`]), so a product costs one wake-up of a
/// pool thread, which overlaps the caller's own work. The gemm crate's own
/// threading instead hands the whole product to the pool, the caller
/// waiting, and starts its threads again for each packing step and each
/// block of the depth (four times per W3 step), and every thread packs the
/// blocks of the left operand it reads, often the same ones. Every output value is computed as in a
/// single-threaded call, so the result does not depend on the threads.
fn gemm_bands<T: ndarray::LinalgScalar + Send + Sync>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    start: Start<'_, T>,
    parts: usize,
) -> bool {
    let (m, n) = c.dim();
    let by_rows = m > n;
    let (long, short) = if by_rows { (m, n) } else { (n, m) };
    if short <= MIN_BAND {
        return false;
    }
    let even = balance::even_ends(long, parts);
    let key = balance::Key {
        m,
        n,
        k: a.ncols(),
        size: std::mem::size_of::<T>(),
    };
    let Some(ends) = balance::ends(key, long, parts).or(even) else {
        return false;
    };
    let clocks = gemm_bands_at(a, b, c, start, by_rows, &ends);
    balance::learn(key, long, &ends, &clocks);
    true
}

/// [`gemm_bands`] on the bands ending at `ends` (the last is the longer
/// side's length); returns when each band started and ended (ns after the
/// first band was handed out).
fn gemm_bands_at<T: ndarray::LinalgScalar + Send + Sync>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    start: Start<'_, T>,
    by_rows: bool,
    ends: &[usize],
) -> Vec<[u64; 2]> {
    let mut bands = Vec::with_capacity(ends.len());
    let (mut a, mut b, mut c, mut start) = (a.view(), b.view(), c.view_mut(), start);
    let mut from = 0;
    for (i, &to) in ends[..ends.len() - 1].iter().enumerate() {
        let at = to - from;
        from = to;
        if by_rows {
            let (a0, a1) = a.split_at(Axis(0), at);
            let (c0, c1) = c.split_at(Axis(0), at);
            bands.push((i, a0, b, c0, start));
            (a, c) = (a1, c1);
        } else {
            let (b0, b1) = b.split_at(Axis(1), at);
            let (c0, c1) = c.split_at(Axis(1), at);
            // A band of columns starts from its part of the bias row.
            let (s0, s1) = match start {
                Start::Rows(r) => (Start::Rows(&r[..at]), Start::Rows(&r[at..])),
                other => (other, other),
            };
            bands.push((i, a, b0, c0, s0));
            (b, c, start) = (b1, c1, s1);
        }
    }
    bands.push((ends.len() - 1, a, b, c, start));
    let clocks: Vec<[AtomicU64; 2]> = ends.iter().map(|_| Default::default()).collect();
    let t0 = Instant::now();
    let ns = || u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
    super::bands::run(bands, |(i, a, b, mut c, start)| {
        clocks[i][0].store(ns(), Relaxed);
        gemm_on(&a, &b, &mut c, start, ::gemm::Parallelism::None);
        clocks[i][1].store(ns(), Relaxed);
    });
    clocks
        .iter()
        .map(|[s, e]| [s.load(Relaxed), e.load(Relaxed)])
        .collect()
}

/// How long the caller's band of a product split in two is: learnt per
/// product shape from the last calls' clocks.
///
/// The caller multiplies its band at once; the pool thread first has to
/// wake (tens of µs when its CPU was idle, through the host in a virtual
/// machine), and the two CPUs need not run at the same speed (another
/// process on one of them). With even bands the caller then waits, asleep,
/// for the pool's band and has to be woken in turn. So the caller's share
/// follows the measured wake-up delay and both bands' speeds, aimed at
/// the caller finishing just after the pool thread (later by 1% of the
/// product's one-thread time): the caller never sleeps. Band boundaries do not change a value (see
/// [`MIN_BAND`]), so the split is free to move.
mod balance {
    use super::MIN_BAND;
    use std::cell::RefCell;

    /// A product's shape and element size.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub(super) struct Key {
        pub(super) m: usize,
        pub(super) n: usize,
        pub(super) k: usize,
        pub(super) size: usize,
    }

    /// Shapes remembered per thread (the oldest is forgotten first).
    const KEPT: usize = 16;

    thread_local! {
        /// The caller's share of the longer side, per shape.
        static SHARES: RefCell<Vec<(Key, f64)>> = const { RefCell::new(Vec::new()) };
    }

    /// A band end rounded up to a multiple of `unit` values.
    fn round(x: f64, long: usize, unit: usize) -> usize {
        ((x.max(0.0) as usize).div_ceil(unit) * unit).min(long)
    }

    /// Whether every band is longer than [`MIN_BAND`].
    fn valid(ends: &[usize]) -> bool {
        let mut from = 0;
        ends.iter().all(|&to| {
            let ok = to > from && to - from > MIN_BAND;
            from = to;
            ok
        })
    }

    /// `parts` bands of (nearly) equal length, or `None` if one would be
    /// [`MIN_BAND`] or shorter.
    pub(super) fn even_ends(long: usize, parts: usize) -> Option<Vec<usize>> {
        let ends: Vec<usize> = (1..=parts)
            .map(|i| ((long * i / parts).div_ceil(8) * 8).min(long))
            .collect();
        valid(&ends).then_some(ends)
    }

    /// Two bands with the caller's first band about `share` of `long`,
    /// ending on a multiple of `unit` values (a whole 64-byte vector
    /// register: a band of columns that is not makes the gemm crate pack
    /// its left operand once more, into a new buffer), moved as little as
    /// it takes for both bands to be longer than [`MIN_BAND`]; `None` if
    /// `long` is too short for that.
    pub(super) fn two_ends(long: usize, share: f64, unit: usize) -> Option<Vec<usize>> {
        let lo = (MIN_BAND + 1).div_ceil(unit) * unit;
        let hi = long.checked_sub(MIN_BAND + 1)? / unit * unit;
        let first = round(share * long as f64, long, unit).clamp(lo, hi.max(lo));
        let ends = vec![first, long];
        valid(&ends).then_some(ends)
    }

    /// The learnt bands for a product in two; `None` for more parts or a
    /// shape not seen yet (even bands then).
    pub(super) fn ends(key: Key, long: usize, parts: usize) -> Option<Vec<usize>> {
        if parts != 2 {
            return None;
        }
        let share = SHARES.with(|s| {
            s.borrow()
                .iter()
                .find(|(k, _)| *k == key)
                .map(|&(_, share)| share)
        })?;
        two_ends(long, share, 64 / key.size.clamp(1, 64))
    }

    /// The caller's share that would have made it finish after the pool
    /// thread by 1% of the product's one-thread time, from one call's clocks (`[start, end]` in ns
    /// of the caller's band and the pool's) and band ends.
    pub(super) fn target(long: usize, ends: &[usize], clocks: &[[u64; 2]]) -> Option<f64> {
        let ([s0, e0], [s1, e1]) = (*clocks.first()?, *clocks.get(1)?);
        let (n0, n1) = (ends[0] as f64, (long - ends[0]) as f64);
        // Time per value of each thread, and the pool thread's delay.
        let p0 = e0.checked_sub(s0)? as f64 / n0;
        let p1 = e1.checked_sub(s1)? as f64 / n1;
        if !(p0 > 0.0 && p1 > 0.0) {
            return None;
        }
        let delay = s1 as f64 - s0 as f64;
        let margin = 0.01 * long as f64 * (p0 + p1) / 2.0;
        // n·p0 = delay + (long − n)·p1 + margin.
        let n = (delay + long as f64 * p1 + margin) / (p0 + p1);
        Some((n / long as f64).clamp(0.25, 0.75))
    }

    /// Moves the shape's share a quarter of the way to this call's
    /// [`target`] (one slow call, preempted, moves it only so far).
    pub(super) fn learn(key: Key, long: usize, ends: &[usize], clocks: &[[u64; 2]]) {
        if ends.len() != 2 {
            return;
        }
        let Some(t) = target(long, ends, clocks) else {
            return;
        };
        let _ = SHARES.try_with(|s| {
            let mut s = s.borrow_mut();
            match s.iter_mut().find(|(k, _)| *k == key) {
                Some((_, share)) => *share += 0.25 * (t - *share),
                None => {
                    if s.len() == KEPT {
                        s.remove(0);
                    }
                    s.push((key, 0.5 + 0.25 * (t - 0.5)));
                }
            }
        });
    }
}

/// One call of the gemm crate on the views' own pointers and strides
/// (shapes and element type checked by [`gemm`]).
fn gemm_on<T: ndarray::LinalgScalar + Send + Sync>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    start: Start<'_, T>,
    parallelism: ::gemm::Parallelism,
) {
    let accumulate = match start {
        Start::Over => false,
        Start::Keep => true,
        Start::Rows(r) => {
            for mut row in c.rows_mut() {
                match row.as_slice_mut() {
                    Some(s) => s.copy_from_slice(r),
                    None => row.assign(&ArrayView1::from(r)),
                }
            }
            true
        }
    };
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (sa, sb) = (a.strides(), b.strides());
    let (cr, cc) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and element strides are the views' own, the
    // shapes fit and the element type is one the gemm crate implements
    // (both checked by `gemm`), `c` is borrowed mutably (and read only
    // when accumulating).
    unsafe {
        ::gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            cc,
            cr,
            accumulate,
            a.as_ptr(),
            sa[1],
            sa[0],
            b.as_ptr(),
            sb[1],
            sb[0],
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `out = a @ b` into a row-major m×n buffer (see [`gemm`]).
fn gemm_into<T: Elem>(out: &mut [T], a: &ArrayView2<'_, T>, b: &ArrayView2<'_, T>) {
    let mut c = ArrayViewMut2::from_shape((a.nrows(), b.ncols()), out).expect("m * n values");
    gemm(a, b, &mut c, false);
}

/// Products of at most this many multiply-adds skip the gemm's packing.
const SMALL: usize = 4096;

/// `a @ b` of two matrices, a new matrix. Values are written once, in row
/// order, or by the gemm into a reused buffer whose old values it never
/// reads.
fn gemm_new<T: Elem>(a: &ArrayView2<'_, T>, b: &ArrayView2<'_, T>) -> Array2<T> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let mut v = Vec::new();
    // Scaling instead of a product is exact only if the other operand is
    // finite (0 · inf is NaN in the product).
    if let Some(d) = diagonal(a).filter(|_| all_finite(b)) {
        v = T::buffer(m * n);
        match (b.as_slice(), b.t().as_slice()) {
            (None, Some(bt)) => transpose_scaled(&mut v, bt, m, n, |i, _| d[i]),
            _ => {
                for (r, &s) in b.rows().into_iter().zip(&d) {
                    extend_scaled(&mut v, r, s);
                }
            }
        }
    } else if let Some(d) = diagonal(b).filter(|_| all_finite(a)) {
        v = T::buffer(m * n);
        match (a.as_slice(), a.t().as_slice()) {
            (None, Some(at)) => transpose_scaled(&mut v, at, m, n, |_, j| d[j]),
            _ => {
                for r in a.rows() {
                    v.extend(r.iter().zip(&d).map(|(&x, &s)| x * s));
                }
            }
        }
    } else if n == 1 {
        // Matrix times vector: memory-bound, one dot product per row.
        let col = b.column(0);
        match (a.as_slice(), col.as_slice()) {
            (Some(rows), Some(x)) if k > 0 => {
                v = T::dirty_buffer(m);
                matvec(rows, x, &mut v);
            }
            _ => {
                v = T::buffer(m * n);
                v.extend(a.rows().into_iter().map(|r| r.dot(&col)));
            }
        }
    } else if k > 0 && (m * k * n <= SMALL || m == 1 || k == 1) {
        // Small, a row times a matrix, or an outer product: a plain loop
        // beats packing and the thread pool.
        v = T::buffer(m * n);
        for ar in a.rows() {
            let start = v.len();
            extend_scaled(&mut v, b.row(0), ar[0]);
            for (&x, br) in ar.iter().zip(b.rows()).skip(1) {
                add_scaled(&mut v[start..], br, x);
            }
        }
    } else if m * n > 0 {
        // The gemm writes every value without reading any (no zeroing pass).
        v = T::dirty_buffer(m * n);
        gemm_into(&mut v, a, b);
    }
    Array2::from_shape_vec((m, n), v).expect("m * n values")
}

/// `out[i] = rows[i] · x` for the row-major matrix `rows` (`x.len() > 0`
/// columns): each sum in the order of ndarray's `unrolled_dot` (what
/// `row.dot(x)` runs), so the same bits. Its eight running sums are
/// independent lanes, so the loop vectorises (AVX2 where the processor has
/// it, without fused multiply-adds); ndarray's copy ran them one by one,
/// about 96 instructions for a row of 16 (W8). Rows are split over the
/// cores above 2¹⁸ values; a row's sum does not depend on the split.
fn matvec<T: Elem>(rows: &[T], x: &[T], out: &mut [T]) {
    let k = x.len();
    // The size test comes first, and the core count is the cached
    // `threads()`: `available_parallelism` asked on every product (it reads
    // the cgroup's quota) made W4's small Hessians 2-3x slower.
    let fits = rows.len() / (1 << 18);
    if fits < 2 {
        return matvec_here(rows, x, out);
    }
    let threads = threads().min(fits).max(1);
    if threads == 1 {
        return matvec_here(rows, x, out);
    }
    let share = out.len().div_ceil(threads);
    let parts: Vec<_> = out.chunks_mut(share).zip(rows.chunks(share * k)).collect();
    super::bands::run(parts, |(part, r)| matvec_here(r, x, part));
}

/// [`matvec`] on this thread: compiled for AVX2 where the processor has it,
/// f64 rows of at least 8 values four rows at a time ([`super::matvec`],
/// the same bits).
fn matvec_here<T: Elem>(rows: &[T], x: &[T], out: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // Four rows at a time pays from one block of eight columns on
        // (narrower rows are all tail, summed one value at a time either way).
        if T::DTYPE == DType::F64 && x.len() >= 8 {
            let n = out.len();
            // SAFETY: `T` is f64 (its dtype says so), so these are the same
            // slices as f64 slices; `out` is not used while `o` lives.
            let done = unsafe {
                let r = std::slice::from_raw_parts(rows.as_ptr().cast::<f64>(), rows.len());
                let v = std::slice::from_raw_parts(x.as_ptr().cast::<f64>(), x.len());
                let o = std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<f64>(), n);
                // The processor has AVX2 (checked above).
                super::matvec::rows_by_four_avx2(r, v, o)
            };
            let rest = &rows[done * x.len()..];
            // SAFETY: the processor has AVX2 (checked above).
            return unsafe { matvec_avx2(rest, x, &mut out[done..]) };
        }
        // SAFETY: the processor has AVX2 (checked on the line above).
        return unsafe { matvec_avx2(rows, x, out) };
    }
    matvec_body(rows, x, out);
}

/// [`matvec_body`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn matvec_avx2<T: Elem>(rows: &[T], x: &[T], out: &mut [T]) {
    matvec_body(rows, x, out);
}

/// The loop of [`matvec`]: `unrolled_dot`'s order per row (eight sums over
/// blocks of eight; `(p0 + p4)`, `(p1 + p5)`, `(p2 + p6)`, `(p3 + p7)`
/// added to zero in turn; the last `k mod 8` products one by one).
#[inline(always)]
fn matvec_body<T: Elem>(rows: &[T], x: &[T], out: &mut [T]) {
    let k = x.len();
    let full = k - k % 8;
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(k)) {
        let mut p = [T::zero(); 8];
        for (r, xb) in row[..full].chunks_exact(8).zip(x[..full].chunks_exact(8)) {
            for j in 0..8 {
                p[j] = p[j] + r[j] * xb[j];
            }
        }
        let mut sum = T::zero();
        for j in 0..4 {
            sum = sum + (p[j] + p[j + 4]);
        }
        for (&u, &v) in row[full..].iter().zip(&x[full..]) {
            sum = sum + u * v;
        }
        *o = sum;
    }
}

/// Whether a square matrix is the identity (a scan that stops at the first
/// row that is not the identity's, so a dense matrix costs one row).
fn is_identity<T: Elem>(a: &ArrayView2<'_, T>) -> bool {
    let n = a.nrows();
    if n != a.ncols() || n < 2 {
        return false;
    }
    if super::identity::is_kept_identity(a) {
        return true;
    }
    // The identity is symmetric: scan whichever of a and aᵀ is contiguous.
    let t = a.t();
    match a.as_slice().or_else(|| t.as_slice()) {
        Some(s) => s.chunks_exact(n).enumerate().all(|(i, row)| {
            let zero = |r: &[T]| r.iter().fold(true, |ok, &v| ok & (v == T::zero()));
            row[i] == T::one() && zero(&row[..i]) && zero(&row[i + 1..])
        }),
        None => a
            .indexed_iter()
            .all(|((i, j), &v)| v == if i == j { T::one() } else { T::zero() }),
    }
}

/// Whether `t` is a 2-d view of the whole kept identity (decided without
/// reading a value, see [`super::identity::is_kept_identity`]).
fn is_kept_identity_tensor(t: &Tensor) -> bool {
    match t.data() {
        Data::Array(a) if a.ndim() == 2 => a
            .view()
            .into_dimensionality::<Ix2>()
            .is_ok_and(|v| super::identity::is_kept_identity(&v)),
        _ => false,
    }
}

/// `op(a)` as a new header over `a`'s buffer (no copy).
fn shared<T: Elem>(a: &ArcArray<T, IxDyn>, t: bool) -> Data {
    let a = a.clone();
    T::wrap_shared(if t { a.reversed_axes() } else { a })
}

/// `op(a) @ op(b)` of two values, as [`bmm`]. A product of two matrices one
/// of which is the identity (the seed of a Jacobian, `1 · I` from a trace)
/// is the other operand itself, a new header over its buffer, when that is
/// exact: when the other is finite (0 · inf is NaN in the product).
/// Two f32 operands give an f32 product (sgemm); a mix is computed in f64.
pub(crate) fn product(a: &Data, ta: bool, b: &Data, tb: bool) -> Option<Data> {
    match (a.dtype(), b.dtype()) {
        (DType::F64, DType::F64) => product_in::<f64>(a, ta, b, tb),
        (DType::F32, DType::F32) => product_in::<f32>(a, ta, b, tb),
        _ => product_in::<f64>(&a.cast_ref(DType::F64), ta, &b.cast_ref(DType::F64), tb),
    }
}

/// [`product`] of two values of element type `T`.
fn product_in<T: Elem>(a: &Data, ta: bool, b: &Data, tb: bool) -> Option<Data> {
    if let (Some(x), Some(y)) = (T::array_of(a), T::array_of(b)) {
        if x.ndim() == 2 && y.ndim() == 2 {
            let (xv, yv) = (matrix(x.view(), ta), matrix(y.view(), tb));
            if xv.ncols() != yv.nrows() {
                return None;
            }
            if is_identity(&xv) && all_finite(&yv) {
                return Some(shared(y, tb));
            }
            if is_identity(&yv) && all_finite(&xv) {
                return Some(shared(x, ta));
            }
        }
    }
    let (av, bv) = (T::view_of(a)?, T::view_of(b)?);
    bmm(av, ta, bv, tb).map(T::wrap)
}

/// The shape of `op(a) @ op(b)` (see [`bmm`]), `None` if the shapes do not fit.
pub(crate) fn bmm_shape(sa: &[usize], ta: bool, sb: &[usize], tb: bool) -> Option<Vec<usize>> {
    let (na, nb) = (sa.len(), sb.len());
    if na < 2 || nb < 2 {
        return None;
    }
    let (m, k) = if ta {
        (sa[na - 1], sa[na - 2])
    } else {
        (sa[na - 2], sa[na - 1])
    };
    let (k2, n) = if tb {
        (sb[nb - 1], sb[nb - 2])
    } else {
        (sb[nb - 2], sb[nb - 1])
    };
    if k != k2 {
        return None;
    }
    let mut out = broadcast_shapes(&sa[..na - 2], &sb[..nb - 2])?;
    out.extend([m, n]);
    Some(out)
}

/// `op(a) @ op(b)` for tensors of at least 2 axes with broadcast batch axes,
/// where `op` transposes the last two axes when its flag is set; `None` if
/// the shapes do not fit.
pub(crate) fn bmm<T: Elem>(
    a: ArrayViewD<'_, T>,
    ta: bool,
    b: ArrayViewD<'_, T>,
    tb: bool,
) -> Option<ArrayD<T>> {
    let (na, nb) = (a.ndim(), b.ndim());
    let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
    let out_shape = bmm_shape(&sa, ta, &sb, tb)?;
    let batch = out_shape[..out_shape.len() - 2].to_vec();
    let (m, n) = (
        out_shape[out_shape.len() - 2],
        out_shape[out_shape.len() - 1],
    );
    let k = if ta { sa[na - 2] } else { sa[na - 1] };
    let p: usize = batch.iter().product();
    if na == 2 && nb == 2 {
        return Some(gemm_new(&matrix(a, ta), &matrix(b, tb)).into_dyn());
    }
    if nb == 2 && !ta && a.is_standard_layout() {
        // [P, m, k] @ [k, n] as one [P·m, k] @ [k, n].
        let a2 = a.into_shape_with_order((p * m, k)).ok()?;
        let out = gemm_new(&a2, &matrix(b, tb));
        return out.into_shape_with_order(IxDyn(&out_shape)).ok();
    }
    if na == 2 && n == 1 && b.is_standard_layout() {
        // A batch of column vectors: Cᵀ = Bᵀ op(a)ᵀ, one [P, k] @ [k, m].
        let b2 = b.into_shape_with_order((p, k)).ok()?;
        let out = gemm_new(&b2, &matrix(a, ta).reversed_axes());
        return out.into_shape_with_order(IxDyn(&out_shape)).ok();
    }
    if na == 2 && !tb && b.is_standard_layout() {
        // A matrix times a batch: C_p = op(a) B_p for all p as one product
        // op(a) [k, P·n] after moving the batch axis inside (one copy each way).
        let bk = b
            .into_shape_with_order((p, k, n))
            .ok()?
            .permuted_axes([1, 0, 2])
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((k, p * n))
            .ok()?;
        let c = gemm_new(&matrix(a, ta), &bk.view());
        let c = c
            .into_shape_with_order((m, p, n))
            .ok()?
            .permuted_axes([1, 0, 2])
            .as_standard_layout()
            .into_owned();
        return c.into_shape_with_order(IxDyn(&out_shape)).ok();
    }
    // One product per batch entry, on views (broadcast axes repeat, not copy).
    let mut fa = batch.clone();
    fa.extend(&sa[na - 2..]);
    let mut fb = batch.clone();
    fb.extend(&sb[nb - 2..]);
    let av = a.broadcast(IxDyn(&fa))?;
    let bv = b.broadcast(IxDyn(&fb))?;
    let len = out_shape.iter().product();
    let mut zeros = T::buffer(len);
    zeros.resize(len, T::zero());
    let mut out = ArrayD::from_shape_vec(IxDyn(&out_shape), zeros).ok()?;
    fn at<'v, T>(v: &ArrayViewD<'v, T>, batch: &[usize], mut q: usize) -> ArrayViewD<'v, T> {
        let mut coords = vec![0; batch.len()];
        for (c, &d) in coords.iter_mut().zip(batch).rev() {
            *c = q % d;
            q /= d;
        }
        let mut w = v.clone();
        for c in coords {
            w = w.index_axis_move(Axis(0), c);
        }
        w
    }
    {
        let mut out3 = out.view_mut().into_shape_with_order((p, m, n)).ok()?;
        for (q, mut o) in out3.outer_iter_mut().enumerate() {
            product_into(
                &matrix(at(&av, &batch, q), ta),
                &matrix(at(&bv, &batch, q), tb),
                &mut o,
            );
        }
    }
    Some(out)
}

/// The tangent of `a @ b` (both at least 2-d, batch axes broadcast; the
/// tangents `[ȧ, ḃ]` carry their batch of `k` last): `ȧ b + a ḃ`, each one
/// product. `a ḃ` reads `ḃ` (`[…, p, q, k]`) as `[…, p, q·k]`, a reshape;
/// `ȧ b` moves `ȧ`'s batch in front of its contracted axis (`[…, m·k, p]`,
/// one copy) and back (a reshape when `q = 1`, as for a matrix times a
/// vector).
fn bmm_tangent(a: &Tensor, b: &Tensor, ts: &[Option<Tensor>], out: &Tensor) -> Tensor {
    let k = batch_len(ts);
    let target = with_batch(out.shape(), k);
    let from_b = ts[1].as_ref().map(|tb| {
        let s = tb.shape();
        let n = s.len();
        let mut cols = s[..n - 2].to_vec();
        cols.push(s[n - 2] * s[n - 1]);
        let tb = tb.reshape(&cols);
        if a.ndim() == 2 && is_kept_identity_tensor(&tb) {
            // `a ḃ` with ḃ the standard basis (jacfwd's seed) is `a`, a
            // header over its buffer, without the finiteness scan of
            // `product`: tangents multiply with strong zeros (0·∞ = 0).
            return a.reshape(&target);
        }
        let p = a.bmm(&tb).expect("shapes as the product's");
        // Computed first, so that the reshape is a header over a buffer it
        // alone holds once `p` is dropped (the next rule can write into it).
        p.data();
        p.reshape(&target)
    });
    let from_a = ts[0].as_ref().map(|ta| {
        let s = ta.shape().to_vec();
        let n = s.len();
        // [..., m, p, k] -> [..., m, k, p] -> [..., m·k, p]
        let mut swap: Vec<usize> = (0..n).collect();
        swap.swap(n - 2, n - 1);
        let mut rows = s[..n - 3].to_vec();
        rows.extend([s[n - 3] * k, s[n - 2]]);
        let p = ta
            .permute(&swap)
            .reshape(&rows)
            .bmm(b)
            .expect("shapes as the product's");
        // [..., m·k, q] -> [..., m, k, q] -> [..., m, q, k]
        let q = b.shape()[b.ndim() - 1];
        let mut mkq = p.shape()[..p.ndim() - 2].to_vec();
        mkq.extend([s[n - 3], k, q]);
        if q == 1 {
            p.reshape(&target)
        } else {
            let nn = mkq.len();
            let mut back: Vec<usize> = (0..nn).collect();
            back.swap(nn - 2, nn - 1);
            p.reshape(&mkq).permute(&back)
        }
    });
    match (from_a, from_b) {
        (Some(x), Some(y)) => x + y,
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => Tensor::zeros(&target),
    }
}

/// `bias + a @ b` for a bias row of `n` values: the rows of the output
/// preloaded with the bias and the gemm accumulating into them (PyTorch's
/// `addmm` with β = 1), so the product is never written on its own; the
/// unfused values (`product` then the sum) where a diagonal operand takes
/// `product`'s scaling path or the bias is not contiguous.
fn bias_product<T: Elem>(a: &Data, b: &Data, bias: &Data) -> Option<Data> {
    let (x, y) = (T::view_of(a)?, T::view_of(b)?);
    let (x, y) = (matrix(x, false), matrix(y, false));
    let (m, n) = (x.nrows(), y.ncols());
    let row = T::slice_of(bias).filter(|r| r.len() == n);
    let (Some(row), None, None) = (row, diagonal(&x), diagonal(&y)) else {
        let p = product(a, false, b, false)?;
        return super::elementwise::zip_data("add", &p, bias, |u, v| u + v).ok();
    };
    // A large output is a reused buffer whose rows each band (or the one
    // gemm) sets to the bias just before it adds its product; a small one
    // (a new allocation, which `dirty_buffer` would zero first) is filled
    // with the bias rows here.
    let (mut v, start) = if m * n >= super::buffers::MIN_LEN {
        (T::dirty_buffer(m * n), Start::Rows(row))
    } else {
        let mut v = T::buffer(m * n);
        for _ in 0..m {
            v.extend_from_slice(row);
        }
        (v, Start::Keep)
    };
    {
        let mut c = ArrayViewMut2::from_shape((m, n), &mut v[..]).ok()?;
        gemm_from(&x, &y, &mut c, start);
    }
    Some(T::wrap(ArrayD::from_shape_vec(IxDyn(&[m, n]), v).ok()?))
}

impl Tensor {
    /// `self + bias` folded into the matrix product `self` when `self` is
    /// a product of two matrices not computed yet (`x @ W`) and `bias` a
    /// row (`[n]` or `[1, n]`) of the same dtype: one deferred value, the
    /// gemm accumulating into rows preloaded with the bias
    /// ([`bias_product`]), and the product's own value never computed
    /// (its vector–Jacobian product reads only its inputs). Recorded as
    /// `AddBackward0` with the addition's gradients. `None` (the caller
    /// adds as usual) for anything else, and for products small enough
    /// for the plain loops of [`gemm_new`].
    pub(crate) fn fused_bias_add(&self, bias: &Tensor) -> Option<Tensor> {
        if self.is_computed() {
            return None;
        }
        let [a, b] = self.0.deferred.as_ref()?.product_operands()?;
        let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
        let dtype = a.dtype();
        let fits = (bias.shape() == [n] || bias.shape() == [1, n])
            && b.dtype() == dtype
            && bias.dtype() == dtype
            && m > 1
            && k > 1
            && n > 1
            && m * k * n > SMALL;
        if !fits {
            return None;
        }
        let value = Value::later(vec![m, n], &[a, b, bias.clone()], move |inp| {
            let (a, b, bias) = (inp[0].data(), inp[1].data(), inp[2].data());
            match dtype {
                DType::F64 => bias_product::<f64>(a, b, bias),
                DType::F32 => bias_product::<f32>(a, b, bias),
            }
            .expect("shapes checked")
        });
        let bias_shape = bias.shape().to_vec();
        Some(Tensor::custom(
            value,
            "AddBackward0",
            vec![self.clone(), bias.clone()],
            move |g, _, inp, batch| {
                let gb = inp[1]
                    .is_requires_grad()
                    .then(|| batch.sum_to(g, &bias_shape));
                vec![inp[0].is_requires_grad().then(|| g.clone()), gb]
            },
            move |ts, _, _| match (&ts[0], &ts[1]) {
                (Some(x), Some(y)) => x + y,
                (Some(x), None) => x.clone(),
                (None, Some(y)) => {
                    let k = y.shape().last().copied().unwrap_or(1);
                    y.expand(&[m, n, k])
                }
                (None, None) => Tensor::zeros(&[m, n, 1]),
            },
        ))
    }
}

// ----- the front end: Tensor::matmul, dot and trace -----------------------

impl Tensor {
    /// Matrix product of tensors with at least 2 axes, batch axes broadcast.
    /// The value is deferred: computed when it is first read, never if no
    /// one reads it (a vector–Jacobian product reads only the inputs).
    fn bmm(&self, rhs: &Tensor) -> Result<Tensor> {
        let shape = bmm_shape(self.shape(), false, rhs.shape(), false)
            .ok_or_else(|| shape_err("matmul", self.shape(), rhs.shape()))?;
        let inputs = [self.clone(), rhs.clone()];
        let mut value = Value::later(shape, &inputs, |inp| {
            product(inp[0].data(), false, inp[1].data(), false).expect("shapes checked")
        });
        if let (Value::Later(d), 2, 2) = (&mut value, self.ndim(), rhs.ndim()) {
            d.mark_product();
        }
        let name = if self.ndim() == 2 && rhs.ndim() == 2 {
            "MmBackward0"
        } else {
            "BmmBackward0"
        };
        Ok(Tensor::custom(
            value,
            name,
            inputs.to_vec(),
            |g, _, inp, batch| {
                let (a, b) = (&inp[0], &inp[1]);
                // Recorded (create_graph) products are tensor operations;
                // otherwise the kernel reads the transposes as strided views.
                let record = crate::autograd::is_grad_enabled()
                    && (g.is_requires_grad() || a.is_requires_grad() || b.is_requires_grad());
                let product = |x: &Tensor, tx: bool, y: &Tensor, ty: bool| {
                    if record {
                        let x = if tx { x.t() } else { x.clone() };
                        let y = if ty { y.t() } else { y.clone() };
                        x.bmm(&y).expect("matmul backward")
                    } else {
                        let out = product(x.data(), tx, y.data(), ty).expect("matmul backward");
                        Tensor::from_data(out)
                    }
                };
                let ga = a
                    .is_requires_grad()
                    .then(|| batch.sum_to(&product(g, false, b, true), a.shape()));
                let gb = b
                    .is_requires_grad()
                    .then(|| batch.sum_to(&product(a, true, g, false), b.shape()));
                vec![ga, gb]
            },
            |ts, out, inp| bmm_tangent(&inp[0], &inp[1], ts, out),
        ))
    }

    /// The matrix product with `torch.matmul`'s rules: 1-d·1-d is a dot
    /// product, a 1-d operand is promoted to a row (left) or a column
    /// (right) and the axis removed again, batch axes broadcast.
    pub fn try_matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let (na, nb) = (self.ndim(), rhs.ndim());
        if na == 0 || nb == 0 {
            return Err(shape_err("matmul", self.shape(), rhs.shape()));
        }
        let a = if na == 1 {
            self.try_unsqueeze(0)?
        } else {
            self.clone()
        };
        let b = if nb == 1 {
            rhs.try_unsqueeze(-1)?
        } else {
            rhs.clone()
        };
        let out = a
            .bmm(&b)
            .map_err(|_| shape_err("matmul", self.shape(), rhs.shape()))?;
        let mut shape = out.shape().to_vec();
        let nd = shape.len();
        if nb == 1 {
            shape.remove(nd - 1);
        }
        if na == 1 {
            shape.remove(shape.len() - 1 - usize::from(nb != 1));
        }
        if shape.as_slice() == out.shape() {
            Ok(out)
        } else {
            out.try_reshape(&shape)
        }
    }

    panicking! {
        /// The matrix product (see [`Tensor::try_matmul`]).
        ///
        /// # Panics
        /// If the shapes do not fit; the message names both shapes.
        pub fn matmul(&self, rhs: &Tensor) -> Tensor = try_matmul;
    }

    /// The dot product of two 1-d tensors of equal length.
    pub fn try_dot(&self, rhs: &Tensor) -> Result<Tensor> {
        if self.ndim() != 1 || rhs.ndim() != 1 || self.shape() != rhs.shape() {
            return Err(shape_err("dot", self.shape(), rhs.shape()));
        }
        self.try_matmul(rhs)
    }

    panicking! {
        /// The dot product of two 1-d tensors.
        ///
        /// # Panics
        /// If they are not 1-d of equal length.
        pub fn dot(&self, rhs: &Tensor) -> Tensor = try_dot;
    }

    /// The sum of the main diagonal of a matrix (0-d), as `torch.trace`
    /// (a non-square matrix sums its `min(m, n)` diagonal entries); an
    /// `Err` if the tensor is not 2-d.
    ///
    /// ```
    /// use chainrule::tensor;
    /// assert_eq!(tensor![[1.0, 2.0], [3.0, 4.0]].try_trace().unwrap().item(), 5.0);
    /// ```
    pub fn try_trace(&self) -> Result<Tensor> {
        if self.ndim() != 2 {
            return Err(Error::WrongRank {
                op: "trace",
                expected: "a matrix (2-d tensor)",
                shape: self.shape().to_vec(),
            });
        }
        let (m, n) = (self.shape()[0], self.shape()[1]);
        let value = Value::after(Vec::new, std::slice::from_ref(self), move |inp| {
            Data::Scalar(
                inp[0]
                    .data()
                    .with_view(|v| (0..m.min(n)).map(|i| v[[i, i]]).sum()),
            )
        });
        Ok(Tensor::custom(
            value,
            "TraceBackward0",
            vec![self.clone()],
            // ∂ tr(M)/∂M is the m×n matrix with ones on the main diagonal.
            move |g, _, _, b| {
                if !(crate::autograd::is_grad_enabled() && g.is_requires_grad()) {
                    // Not recorded: g·mask written at once (zeros and the
                    // diagonal), one pass instead of a mask and a product.
                    let gs = g.to_vec();
                    let mut v = super::buffers::filled(gs.len() * m * n, 0.0);
                    for (block, &s) in v.chunks_exact_mut((m * n).max(1)).zip(&gs) {
                        block
                            .iter_mut()
                            .step_by(n + 1)
                            .take(m.min(n))
                            .for_each(|d| *d = s);
                    }
                    return vec![Some(super::kernels::from_vec(v, &b.shape(g, &[m, n])))];
                }
                let mask = if m == n {
                    Tensor::eye(n)
                } else {
                    Tensor::from_array(ndarray::ArrayD::from_shape_fn(
                        ndarray::IxDyn(&[m, n]),
                        |i| if i[0] == i[1] { 1.0 } else { 0.0 },
                    ))
                };
                vec![Some(b.reshape(g, &[1, 1]) * mask)]
            },
            // The sum of the tangent's diagonal entries.
            move |ts, _, _| {
                let mask = Tensor::from_array(ndarray::ArrayD::from_shape_fn(
                    ndarray::IxDyn(&[m, n, 1]),
                    |i| if i[0] == i[1] { 1.0 } else { 0.0 },
                ));
                (only(ts) * mask).sum_dim(&[0, 1], false)
            },
        ))
    }

    panicking! {
        /// The trace of a matrix (see [`Tensor::try_trace`]).
        ///
        /// # Panics
        /// If the tensor is not 2-d; the message names its shape.
        pub fn trace(&self) -> Tensor = try_trace;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor;
    use ndarray::array;

    /// The product by the definition, Σ_k a_ik b_kj, for reference.
    fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|k| a[[i, k]] * b[[k, j]]).sum()
        })
    }

    fn filled(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut g = crate::random::SplitMix64::new(seed);
        Array2::from_shape_fn((rows, cols), |_| g.next_f64() - 0.5)
    }

    #[test]
    fn matvec_is_ndarrays_row_dot_bit_for_bit() {
        // Widths around the blocks of eight, special values in the rows and
        // in x, and (last) enough rows to be split over threads.
        let special = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e308,
            -1e-310,
        ];
        for (rows, k, seed) in [
            (5, 1, 1),
            (7, 7, 2),
            (9, 8, 3),
            (33, 16, 4),
            (17, 23, 5),
            (40_000, 17, 6),
        ] {
            let mut a = filled(rows, k, seed);
            let mut x = filled(k, 1, seed + 100).column(0).to_owned();
            for (j, v) in a.iter_mut().enumerate().filter(|(j, _)| j % 13 == 0) {
                *v = special[j % special.len()];
            }
            if k > 3 {
                x[k - 2] = -0.0;
            }
            let mut got = vec![f64::NAN; rows];
            matvec(a.as_slice().unwrap(), x.as_slice().unwrap(), &mut got);
            let mut baseline = vec![f64::NAN; rows];
            matvec_body(a.as_slice().unwrap(), x.as_slice().unwrap(), &mut baseline);
            for (i, r) in a.rows().into_iter().enumerate() {
                let want = r.dot(&x);
                for g in [got[i], baseline[i]] {
                    assert!(
                        g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
                        "{rows}x{k} row {i}: {g} vs {want}"
                    );
                }
            }
        }
        // f32 takes the same loop.
        let a32: Vec<f32> = (0..60).map(|i| i as f32 * 0.37 - 9.0).collect();
        let x32: Vec<f32> = (0..12).map(|i| 1.5 - i as f32 * 0.21).collect();
        let mut got = vec![0f32; 5];
        matvec(&a32, &x32, &mut got);
        let x_arr = ndarray::ArrayView1::from(&x32[..]);
        for (i, r) in a32.chunks(12).enumerate() {
            assert_eq!(
                got[i].to_bits(),
                ndarray::ArrayView1::from(r).dot(&x_arr).to_bits()
            );
        }
    }

    #[test]
    fn gemm_writes_or_accumulates() {
        let (a, b) = (array![[1.0, 2.0], [3.0, 4.0]], array![[1.0], [1.0]]);
        let mut c = array![[10.0], [20.0]];
        gemm(&a.view(), &b.view(), &mut c.view_mut(), true);
        assert_eq!(c, array![[13.0], [27.0]]);
        gemm(&a.view(), &b.view(), &mut c.view_mut(), false);
        assert_eq!(c, array![[3.0], [7.0]]);
    }

    #[test]
    fn a_product_large_enough_for_threads_agrees_with_the_definition() {
        // 256 × 260 × 258 ≥ PARALLEL_WORK multiply-adds, transposed operands.
        let (m, k, n) = (256, 260, 258);
        assert!(m * k * n >= PARALLEL_WORK);
        let at = filled(k, m, 21);
        let bt = filled(n, k, 22);
        let c = gemm_new(&at.t(), &bt.t());
        let want = naive(&at.t().to_owned(), &bt.t().to_owned());
        let worst = (&c - &want).iter().fold(0.0f64, |w, d| w.max(d.abs()));
        assert!(worst < 1e-12, "largest difference {worst}");
    }

    /// [`Start`] for `accumulate`, as [`gemm`] maps it.
    fn start<T>(accumulate: bool) -> Start<'static, T> {
        if accumulate {
            Start::Keep
        } else {
            Start::Over
        }
    }

    #[test]
    fn a_bias_row_written_by_each_band_is_the_preloaded_accumulation() {
        // x@W1 + b1's layout (columns cut, each band writing its part of
        // the bias row) and a rows cut (every band the whole row), 2 and 3
        // bands, and one thread: bit for bit the rows preloaded by hand
        // and accumulated into by one single-threaded call.
        for (m, k, n) in [(128, 784, 256), (784, 128, 256)] {
            let (a, b) = (filled(m, k, 5), filled(k, n, 6));
            let bias: Vec<f64> = (0..n).map(|j| (j as f64 - 100.0) / 7.0).collect();
            let mut want = Array2::from_shape_fn((m, n), |(_, j)| bias[j]);
            gemm_on(
                &a.view(),
                &b.view(),
                &mut want.view_mut(),
                Start::Keep,
                ::gemm::Parallelism::None,
            );
            for parts in [2, 3] {
                let mut c = Array2::from_elem((m, n), f64::NAN);
                assert!(gemm_bands(
                    &a.view(),
                    &b.view(),
                    &mut c.view_mut(),
                    Start::Rows(&bias),
                    parts
                ));
                assert!(c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()));
            }
            let mut one = Array2::from_elem((m, n), f64::NAN);
            gemm_on(
                &a.view(),
                &b.view(),
                &mut one.view_mut(),
                Start::Rows(&bias),
                ::gemm::Parallelism::None,
            );
            assert!(one
                .iter()
                .zip(&want)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    #[test]
    fn uneven_bands_give_the_one_thread_values() {
        // The caller's band a quarter or three quarters of the longer
        // side (the learnt split's limits), columns cut with a bias row
        // and rows cut from a transposed operand: bit for bit one call.
        let cases = [(128, 784, 256, false), (784, 128, 256, true)];
        for (m, k, n, transposed) in cases {
            let a = if transposed {
                filled(k, m, 7).reversed_axes()
            } else {
                filled(m, k, 7)
            };
            let b = filled(k, n, 8);
            let bias: Vec<f64> = (0..n).map(|j| j as f64 / 3.0).collect();
            let long = m.max(n);
            for start in [Start::Over, Start::Rows(&bias)] {
                let mut one = Array2::zeros((m, n));
                gemm_on(
                    &a.view(),
                    &b.view(),
                    &mut one.view_mut(),
                    start,
                    ::gemm::Parallelism::None,
                );
                for share in [0.25, 0.75] {
                    let ends = balance::two_ends(long, share, 8).unwrap();
                    assert_ne!(ends[0], long / 2);
                    let mut c = Array2::from_elem((m, n), f64::NAN);
                    let clocks =
                        gemm_bands_at(&a.view(), &b.view(), &mut c.view_mut(), start, m > n, &ends);
                    assert!(clocks.iter().all(|[s, e]| s <= e));
                    assert!(c.iter().zip(&one).all(|(x, y)| x.to_bits() == y.to_bits()));
                }
            }
        }
    }

    #[test]
    fn the_callers_share_follows_the_wake_up_delay_and_the_speeds() {
        // 1 ns a value on both threads, the pool thread 100 ns late: the
        // caller takes (100 + 1000 + 10)/2 = 555 of 1000 values.
        let t = balance::target(1000, &[500, 1000], &[[0, 500], [100, 600]]).unwrap();
        assert!((t - 0.555).abs() < 1e-12, "{t}");
        // The caller twice as slow, no delay: (1000 + 15)/3 of 1000.
        let t = balance::target(1000, &[500, 1000], &[[0, 1000], [0, 500]]).unwrap();
        assert!((t - 1015.0 / 3000.0).abs() < 1e-12, "{t}");
        // A pool thread that never came in time: at most three quarters.
        let t = balance::target(1000, &[500, 1000], &[[0, 500], [90_000, 90_500]]).unwrap();
        assert_eq!(t, 0.75);
        // A band of zero length in time: nothing learnt.
        assert!(balance::target(1000, &[500, 1000], &[[5, 5], [0, 500]]).is_none());
        // Learning moves the share a quarter of the way each call; the
        // bands stay whole vector registers and longer than MIN_BAND.
        let key = balance::Key {
            m: 1000,
            n: 3,
            k: 1,
            size: 8,
        };
        assert_eq!(balance::ends(key, 1000, 2), None);
        for _ in 0..40 {
            let ends = balance::ends(key, 1000, 2).unwrap_or(vec![504, 1000]);
            let n0 = ends[0] as u64;
            balance::learn(key, 1000, &ends, &[[0, n0], [100, 100 + 1000 - n0]]);
        }
        let ends = balance::ends(key, 1000, 2).unwrap();
        assert_eq!(ends[0] % 8, 0);
        assert!((ends[0] as f64 - 555.0).abs() <= 8.0, "{ends:?}");
        assert_eq!(balance::ends(key, 1000, 3), None);
        assert_eq!(balance::even_ends(1000, 2), Some(vec![504, 1000]));
        assert_eq!(balance::even_ends(128, 2), None);
    }

    /// Small integers: every product and partial sum is exact in f32 and
    /// f64, so any order of summation gives the definition's value.
    fn integers(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 7 + j * 3 + seed) % 9) as f64 - 4.0
        })
    }

    #[test]
    fn bands_on_threads_give_the_definition_and_the_one_thread_values() {
        // Columns cut (x@W1's layout, accumulating into a preloaded bias)
        // and rows cut (dW1's: a transposed left operand), 2 and 3 bands.
        let cases = [(128, 784, 256, false, true), (784, 128, 256, true, false)];
        for (m, k, n, transposed, accumulate) in cases {
            for parts in [2, 3] {
                let a = if transposed {
                    integers(k, m, 1).reversed_axes()
                } else {
                    integers(m, k, 1)
                };
                let b = integers(k, n, 2);
                let bias = integers(m, n, 3);
                let mut c = bias.clone();
                assert!(gemm_bands(
                    &a.view(),
                    &b.view(),
                    &mut c.view_mut(),
                    start(accumulate),
                    parts
                ));
                let want = if accumulate {
                    naive(&a, &b) + &bias
                } else {
                    naive(&a, &b)
                };
                assert_eq!(c, want, "{m}x{k}x{n} in {parts} bands");
                // f32, the same exact values.
                let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
                let mut c32 = bias.mapv(|v| v as f32);
                assert!(gemm_bands(
                    &a32.view(),
                    &b32.view(),
                    &mut c32.view_mut(),
                    start(accumulate),
                    parts
                ));
                assert_eq!(c32, want.mapv(|v| v as f32));
                // Rounded values: bit-for-bit one single-threaded call's.
                let (a, b) = (a.mapv(|v| v / 3.0), b.mapv(|v| v / 7.0));
                let mut one = bias.clone();
                gemm_on(
                    &a.view(),
                    &b.view(),
                    &mut one.view_mut(),
                    start(accumulate),
                    ::gemm::Parallelism::None,
                );
                let mut banded = bias.clone();
                assert!(gemm_bands(
                    &a.view(),
                    &b.view(),
                    &mut banded.view_mut(),
                    start(accumulate),
                    parts
                ));
                assert!(one
                    .iter()
                    .zip(&banded)
                    .all(|(x, y)| x.to_bits() == y.to_bits()));
            }
        }
    }

    #[test]
    fn short_bands_are_left_to_the_gemm_crate() {
        // 128 rows in 2 bands of 64 (the longer side), a shorter side of
        // 64, or 300 rows in 5 bands (one of 64): not cut, nothing written.
        for (m, n, parts) in [(128, 100, 2), (64, 1000, 2), (300, 200, 5)] {
            let (a, b) = (integers(m, 5, 1), integers(5, n, 2));
            let mut c = Array2::from_elem((m, n), 1.5);
            assert!(!gemm_bands(
                &a.view(),
                &b.view(),
                &mut c.view_mut(),
                Start::Over,
                parts
            ));
            assert!(c.iter().all(|&v| v == 1.5));
        }
    }

    #[test]
    fn every_path_agrees_with_the_definition() {
        // Loop (small, row, outer, matrix-vector) and gemm paths, plain and
        // transposed operands, diagonal operands on either side.
        let shapes = [
            (3, 4, 5),
            (1, 30, 40),
            (30, 1, 40),
            (40, 30, 1),
            (20, 30, 40),
        ];
        for (m, k, n) in shapes {
            let (a, b) = (filled(m, k, 1), filled(k, n, 2));
            let expected = naive(&a, &b);
            let got = gemm_new(&a.view(), &b.view());
            let at = a.t().to_owned();
            let via_t = gemm_new(&at.t(), &b.view());
            for (x, y) in got.iter().zip(&expected).chain(via_t.iter().zip(&expected)) {
                assert!((x - y).abs() < 1e-12, "{m}x{k}x{n}: {x} vs {y}");
            }
        }
        let d = Array2::from_diag(&array![2.0, -1.0, 0.5]);
        let b = filled(3, 4, 3);
        assert_eq!(gemm_new(&d.view(), &b.view()), naive(&d, &b));
        let a = filled(4, 3, 4);
        assert_eq!(gemm_new(&a.view(), &d.view()), naive(&a, &d));
    }

    #[test]
    fn a_reused_buffer_of_nans_does_not_reach_the_product() {
        // The gemm's output comes from the buffer cache with its old values
        // (no zeroing pass); they must never be read.
        let (m, k, n) = (256, 64, 200);
        let (a, b) = (filled(m, k, 5), filled(k, n, 6));
        let expected = naive(&a, &b);
        for _ in 0..2 {
            super::super::buffers::give(vec![f64::NAN; m * n]);
            let got = gemm_new(&a.view(), &b.view());
            for (x, y) in got.iter().zip(&expected) {
                assert!((x - y).abs() < 1e-12, "{x} vs {y}");
            }
            drop(got);
        }
        // k = 0: the product is zeros, whatever the buffer held.
        super::super::buffers::give(vec![f64::NAN; m * n]);
        let empty_k = gemm_new(
            &Array2::<f64>::zeros((m, 0)).view(),
            &Array2::zeros((0, n)).view(),
        );
        assert!(empty_k.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn diagonal_operands_with_transposed_partners_agree_with_the_definition() {
        // The tiled scaling of a transposed operand, on both sides, with
        // sizes that are not multiples of the tile.
        for n in [3, TILE + 5, 2 * TILE + 1] {
            let d = Array2::from_diag(&ndarray::Array1::from_shape_fn(n, |i| i as f64 - 1.5));
            let b = filled(n + 2, n, 7);
            let bt = b.t();
            assert_eq!(gemm_new(&d.view(), &bt), naive(&d, &bt.to_owned()));
            assert_eq!(gemm_new(&b.view(), &d.view()), naive(&b, &d));
            let a = filled(n, n + 3, 8);
            assert_eq!(gemm_new(&a.t(), &d.view()), naive(&a.t().to_owned(), &d));
        }
    }

    #[test]
    fn a_product_with_the_identity_is_the_other_operand_itself() {
        let eye = Data::from_array(Array2::from_diag(&array![1.0, 1.0, 1.0]).into_dyn());
        let b = Data::from_array(filled(3, 4, 9).into_dyn());
        let c = product(&eye, false, &b, false).unwrap();
        assert_eq!(c.view(), b.view());
        assert_eq!(
            c.as_slice().unwrap().as_ptr(),
            b.as_slice().unwrap().as_ptr()
        );
        // On the right, and transposed: a view of the same values.
        let a = Data::from_array(filled(3, 3, 10).into_dyn());
        let at = product(&a, true, &eye, false).unwrap();
        assert_eq!(at.view(), a.view().t());
        // Not exact with a non-finite operand: the product's NaNs are kept.
        let inf = Data::from_array(
            array![[f64::INFINITY, 1.0, 0.0], [2.0, 3.0, 4.0], [5.0, 6.0, 7.0]].into_dyn(),
        );
        let p = product(&eye, false, &inf, false).unwrap();
        assert!(p.view()[[1, 0]].is_nan());
        assert_eq!(p.view()[[0, 0]], f64::INFINITY);
        // Shapes that do not fit are refused.
        assert!(product(
            &eye,
            false,
            &Data::from_array(filled(4, 2, 1).into_dyn()),
            false
        )
        .is_none());
    }

    #[test]
    fn a_diagonal_operand_keeps_ieee_products_with_non_finite_values() {
        // 0 · inf is NaN in a product: the scaling shortcut must not hide it.
        let eye = Array2::from_diag(&array![1.0, 1.0]);
        let b = array![[f64::INFINITY, 1.0], [2.0, 3.0]];
        let c = gemm_new(&eye.view(), &b.view());
        assert_eq!(c[[0, 0]], f64::INFINITY);
        assert_eq!(c[[0, 1]], 1.0);
        assert!(c[[1, 0]].is_nan());
        assert_eq!(c[[1, 1]], 3.0);
    }

    #[test]
    fn batched_products_fold_and_broadcast() {
        // [P, m, k] @ [k, n], [m, k] @ [P, k, n], and broadcast batches
        // against one product per entry.
        let a3 = ArrayD::from_shape_fn(IxDyn(&[3, 4, 5]), |i| (i[0] + 2 * i[1] + 3 * i[2]) as f64);
        let b2 = filled(5, 2, 5).into_dyn();
        let a2 = filled(4, 5, 6).into_dyn();
        let b3 = ArrayD::from_shape_fn(IxDyn(&[3, 5, 2]), |i| (i[0] * i[1]) as f64 - i[2] as f64);
        let b13 = b3.slice_axis(Axis(0), (0..1).into()).to_owned();
        for (a, b) in [(&a3, &b2), (&a2, &b3), (&a3, &b3), (&a3, &b13)] {
            let c = bmm(a.view(), false, b.view(), false).unwrap();
            for p in 0..3 {
                let pick = |x: &ArrayD<f64>, p: usize| {
                    let x = if x.ndim() == 3 {
                        x.index_axis(Axis(0), p.min(x.shape()[0] - 1)).to_owned()
                    } else {
                        x.clone()
                    };
                    x.into_dimensionality::<Ix2>().unwrap()
                };
                let expected = naive(&pick(a, p), &pick(b, p));
                let got = c.index_axis(Axis(0), p);
                for (x, y) in got.iter().zip(&expected) {
                    assert!((x - y).abs() < 1e-9, "{x} vs {y}");
                }
            }
        }
        assert!(bmm(a3.view(), false, a3.view(), false).is_none());
    }

    /// An m × n tensor of `filled` values.
    fn tensor_of(rows: usize, cols: usize, seed: u64) -> Tensor {
        Tensor::from_array(filled(rows, cols, seed).into_dyn())
    }

    #[test]
    fn a_bias_row_folds_into_the_product_with_the_addition_s_gradients() {
        // y = x W + b (5 × 30 × 40, above the plain loops' size), loss Σ y ⊙ C:
        // ∂/∂x = C Wᵀ, ∂/∂W = xᵀ C, ∂/∂b = column sums of C.
        let (m, k, n) = (5, 30, 40);
        let (xa, wa, ca) = (filled(m, k, 11), filled(k, n, 12), filled(m, n, 13));
        let ba = filled(1, n, 14);
        let x = Tensor::from_array(xa.clone().into_dyn()).requires_grad();
        let w = Tensor::from_array(wa.clone().into_dyn()).requires_grad();
        let b = Tensor::from_array(ba.row(0).to_owned().into_dyn()).requires_grad();
        let xw = x.matmul(&w);
        let y = &xw + &b;
        assert_eq!(y.grad_fn(), Some("AddBackward0"));
        let want = naive(&xa, &wa) + &ba;
        for (u, v) in y.to_vec().iter().zip(want.iter()) {
            assert!((u - v).abs() < 1e-13, "{u} vs {v}");
        }
        (&y * &Tensor::from_array(ca.clone().into_dyn()))
            .sum()
            .backward()
            .unwrap();
        // The product's own value was never computed.
        assert!(!xw.is_computed());
        let checks = [
            (x.grad().unwrap(), naive(&ca, &wa.t().to_owned())),
            (w.grad().unwrap(), naive(&xa.t().to_owned(), &ca)),
            (b.grad().unwrap(), ca.sum_axis(Axis(0)).insert_axis(Axis(0))),
        ];
        for (got, want) in checks {
            for (u, v) in got.to_vec().iter().zip(want.iter()) {
                assert!((u - v).abs() < 1e-13, "{u} vs {v}");
            }
        }
        // f32 operands and a [1, n] bias: an f32 sum, equal to the f64 one
        // to f32 rounding. Forward mode: the tangent is ẋ W (ẋ along x) and
        // ḃ on every row (along b).
        let (x32, w32) = (x.detach().float(), w.detach().float());
        let y32 = &x32.matmul(&w32) + &b.detach().float().reshape(&[1, n]);
        assert_eq!(y32.dtype(), DType::F32);
        for (u, v) in y32.to_vec().iter().zip(want.iter()) {
            assert!((u - v).abs() < 1e-5, "{u} vs {v}");
        }
        let (wd, bd) = (w.detach(), b.detach());
        let f = move |x: &Tensor| &x.matmul(&wd) + &bd;
        let dx = tensor_of(m, k, 15);
        let (_, t) = crate::functional::jvp(f, &x.detach(), &dx);
        let want_t = naive(&filled(m, k, 15), &wa);
        for (u, v) in t.to_vec().iter().zip(want_t.iter()) {
            assert!((u - v).abs() < 1e-13, "{u} vs {v}");
        }
        let (xd, wd) = (x.detach(), w.detach());
        let g = move |b: &Tensor| &xd.matmul(&wd) + b;
        let db = Tensor::arange(0.0, n as f64, 1.0).unwrap();
        let (_, tb) = crate::functional::jvp(g, &b.detach(), &db);
        assert_eq!(tb.shape(), &[m, n]);
        let rows: Vec<f64> = (0..m).flat_map(|_| (0..n).map(|j| j as f64)).collect();
        assert_eq!(tb.to_vec(), rows);
    }

    #[test]
    fn matmul_shapes() {
        let a = tensor![[1.0, 2.0], [3.0, 4.0]];
        let v = tensor![1.0, 1.0];
        assert_eq!(a.matmul(&a).to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
        assert_eq!(a.matmul(&v).to_vec(), vec![3.0, 7.0]);
        assert_eq!(v.matmul(&a).to_vec(), vec![4.0, 6.0]);
        assert_eq!(v.dot(&v).item(), 2.0);
        let b = Tensor::stack(&[a.clone(), a.clone(), a.clone()], 0);
        assert_eq!(b.shape(), &[3, 2, 2]);
        let c = b.matmul(&a);
        assert_eq!(c.shape(), &[3, 2, 2]);
        assert_eq!(c.get(&[2]).to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
        let e = a
            .try_matmul(&tensor![1.0, 2.0, 3.0])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("matmul") && e.contains("[2, 2]") && e.contains("[3]"),
            "{e}"
        );
    }
}
