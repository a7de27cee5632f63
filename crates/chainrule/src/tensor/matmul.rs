//! The matrix-product kernel behind [`Tensor::matmul`](super::Tensor::matmul)
//! and its vector–Jacobian products.
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
//! - The gemm is matrixmultiply's (ndarray's), threaded across the cores.

use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut2, Axis, Ix2, IxDyn,
};

use super::elementwise::broadcast_shapes;

/// The last two axes of `a` as a matrix view, transposed if `t`.
fn matrix(a: ArrayViewD<'_, f64>, t: bool) -> ArrayView2<'_, f64> {
    let m = a.into_dimensionality::<Ix2>().expect("2-d");
    if t {
        m.reversed_axes()
    } else {
        m
    }
}

/// The diagonal of a square matrix whose off-diagonal entries are all 0.
fn diagonal(a: &ArrayView2<'_, f64>) -> Option<Vec<f64>> {
    let n = a.nrows();
    if n != a.ncols() || n < 2 {
        return None;
    }
    // Diagonality does not change under transposition: scan whichever of
    // a and aᵀ is contiguous, row by row, on slices.
    let t = a.t();
    if let Some(s) = a.as_slice().or_else(|| t.as_slice()) {
        // Row by row without early exit inside a row (it vectorises); a
        // dense matrix fails on its first row.
        let nonzero = |r: &[f64]| r.iter().fold(false, |any, &v| any | (v != 0.0));
        for (i, row) in s.chunks_exact(n).enumerate() {
            if nonzero(&row[..i]) || nonzero(&row[i + 1..]) {
                return None;
            }
        }
        return Some((0..n).map(|i| s[i * (n + 1)]).collect());
    }
    for (i, row) in a.rows().into_iter().enumerate() {
        if row.iter().enumerate().any(|(j, &v)| j != i && v != 0.0) {
            return None;
        }
    }
    Some((0..n).map(|i| a[[i, i]]).collect())
}

/// Whether every value is finite (a loop without early exit, which vectorises).
fn all_finite(a: &ArrayView2<'_, f64>) -> bool {
    match a.as_slice_memory_order() {
        Some(s) => s.iter().fold(true, |ok, v| ok & v.is_finite()),
        None => a.iter().all(|v| v.is_finite()),
    }
}

/// Appends `s · row` to `v` (on the slice when the row is contiguous, so
/// that the loop vectorises).
fn extend_scaled(v: &mut Vec<f64>, row: ArrayView1<'_, f64>, s: f64) {
    match row.as_slice() {
        Some(r) => v.extend(r.iter().map(|&y| s * y)),
        None => v.extend(row.iter().map(|&y| s * y)),
    }
}

/// `o += s · row`.
fn add_scaled(o: &mut [f64], row: ArrayView1<'_, f64>, s: f64) {
    match row.as_slice() {
        Some(r) => o.iter_mut().zip(r).for_each(|(o, &y)| *o += s * y),
        None => o.iter_mut().zip(row.iter()).for_each(|(o, &y)| *o += s * y),
    }
}

/// `a @ b` (a: m×k, b: k×n) into `out`.
fn gemm(a: &ArrayView2<'_, f64>, b: &ArrayView2<'_, f64>, out: &mut ArrayViewMut2<'_, f64>) {
    out.assign(&gemm_new(a, b));
}

/// Products of at most this many multiply-adds skip the gemm's packing.
const SMALL: usize = 4096;

/// `a @ b` of two matrices, a new matrix. Values are written once, in row
/// order, except for the gemm itself (which needs an initialised output).
fn gemm_new(a: &ArrayView2<'_, f64>, b: &ArrayView2<'_, f64>) -> Array2<f64> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let mut v = super::buffers::take(m * n);
    // Scaling instead of a product is exact only if the other operand is
    // finite (0 · inf is NaN in the product).
    if let Some(d) = diagonal(a).filter(|_| all_finite(b)) {
        for (r, &s) in b.rows().into_iter().zip(&d) {
            extend_scaled(&mut v, r, s);
        }
    } else if let Some(d) = diagonal(b).filter(|_| all_finite(a)) {
        for r in a.rows() {
            v.extend(r.iter().zip(&d).map(|(&x, &s)| x * s));
        }
    } else if n == 1 {
        // Matrix times vector: memory-bound, one dot product per row.
        let col = b.column(0);
        v.extend(a.rows().into_iter().map(|r| r.dot(&col)));
    } else if k > 0 && (m * k * n <= SMALL || m == 1 || k == 1) {
        // Small, a row times a matrix, or an outer product: a plain loop
        // beats packing and the thread pool.
        for ar in a.rows() {
            let start = v.len();
            extend_scaled(&mut v, b.row(0), ar[0]);
            for (&x, br) in ar.iter().zip(b.rows()).skip(1) {
                add_scaled(&mut v[start..], br, x);
            }
        }
    } else {
        v.resize(m * n, 0.0);
        let mut out = Array2::from_shape_vec((m, n), v).expect("m * n values");
        general_mat_mul(1.0, a, b, 0.0, &mut out.view_mut());
        return out;
    }
    Array2::from_shape_vec((m, n), v).expect("m * n values")
}

/// `op(a) @ op(b)` for tensors of at least 2 axes with broadcast batch axes,
/// where `op` transposes the last two axes when its flag is set; `None` if
/// the shapes do not fit.
pub(crate) fn bmm(
    a: ArrayViewD<'_, f64>,
    ta: bool,
    b: ArrayViewD<'_, f64>,
    tb: bool,
) -> Option<ArrayD<f64>> {
    let (na, nb) = (a.ndim(), b.ndim());
    if na < 2 || nb < 2 {
        return None;
    }
    let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
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
    let batch = broadcast_shapes(&sa[..na - 2], &sb[..nb - 2])?;
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
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
    let mut out = ArrayD::from_shape_vec(
        IxDyn(&out_shape),
        super::buffers::filled(out_shape.iter().product(), 0.0),
    )
    .ok()?;
    fn at<'v>(v: &ArrayViewD<'v, f64>, batch: &[usize], mut q: usize) -> ArrayViewD<'v, f64> {
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
            gemm(
                &matrix(at(&av, &batch, q), ta),
                &matrix(at(&bv, &batch, q), tb),
                &mut o,
            );
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
