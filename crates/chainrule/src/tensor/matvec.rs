//! The f64 matrix–vector product four rows at a time, with AVX2: the
//! kernel behind `matmul.rs`'s `matvec` for f64 (W8's `W x`, a tall matrix
//! of 16 columns).
//!
//! Each row's sum is computed in ndarray's `unrolled_dot` order, as
//! `matvec_body` does, so the values are the same bits: eight running sums
//! `p₀ … p₇` over blocks of eight (`pⱼ = 0 + r₀ⱼxⱼ + r₈₊ⱼx₈₊ⱼ + …`), then
//! `0 + (p₀ + p₄) + (p₁ + p₅) + (p₂ + p₆) + (p₃ + p₇)` added in turn, then
//! the last `k mod 8` products one by one. The eight sums of one row are two
//! vector registers; what a row at a time did one value after another (the
//! final four additions, about half of a row of 16's instructions) is here
//! one vector addition per step for four rows at once, after a 4 × 4
//! transpose of their pair sums. No fused multiply-add anywhere.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_permute2f128_pd,
    _mm256_setzero_pd, _mm256_storeu_pd, _mm256_unpackhi_pd, _mm256_unpacklo_pd,
};

/// Four contiguous values as a vector.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn load(v: &[f64]) -> __m256d {
    let v: &[f64; 4] = v[..4].try_into().expect("four values");
    // SAFETY: `v` is four readable f64 values; the load is unaligned.
    unsafe { _mm256_loadu_pd(v.as_ptr()) }
}

/// `out[i] = rows[i] · x` for the first `4 · ⌊out.len() / 4⌋` rows of the
/// row-major matrix `rows` (`x.len() > 0` columns), in `unrolled_dot`'s
/// order (see the module); returns how many rows it did. The caller does
/// the rest, fewer than four, with the one-row loop.
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn rows_by_four_avx2(rows: &[f64], x: &[f64], out: &mut [f64]) -> usize {
    // W8's 16 columns with the width a constant (its loops unrolled).
    match x.len() {
        16 => rows_by_four::<16>(rows, x, out),
        _ => rows_by_four::<0>(rows, x, out),
    }
}

/// [`rows_by_four_avx2`]'s loops for rows of `K` values (`K = 0`: of
/// `x.len()` values, read at run time).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn rows_by_four<const K: usize>(rows: &[f64], x: &[f64], out: &mut [f64]) -> usize {
    let k = if K == 0 { x.len() } else { K };
    let x = &x[..k];
    let full = k - k % 8;
    let done = out.len() - out.len() % 4;
    let zero = _mm256_setzero_pd();
    for (o, quad) in out[..done]
        .chunks_exact_mut(4)
        .zip(rows.chunks_exact(4 * k))
    {
        let mut lo = [zero; 4];
        let mut hi = [zero; 4];
        // Blocks of eight of x and of the four rows side by side (exact
        // chunks, so no bounds checks in the loop).
        let r = [0, 1, 2, 3].map(|r| quad[r * k..][..full].chunks_exact(8));
        let [r0, r1, r2, r3] = r;
        let blocks = x[..full].chunks_exact(8).zip(r0).zip(r1).zip(r2).zip(r3);
        for ((((xb, a0), a1), a2), a3) in blocks {
            let (xl, xh) = (load(&xb[..4]), load(&xb[4..]));
            for (r, a) in [a0, a1, a2, a3].into_iter().enumerate() {
                lo[r] = _mm256_add_pd(lo[r], _mm256_mul_pd(load(&a[..4]), xl));
                hi[r] = _mm256_add_pd(hi[r], _mm256_mul_pd(load(&a[4..]), xh));
            }
        }
        // q_r = (p₀ + p₄, p₁ + p₅, p₂ + p₆, p₃ + p₇) of row r.
        let q = [0, 1, 2, 3].map(|r| _mm256_add_pd(lo[r], hi[r]));
        // Transposed: c_j = (q₀ⱼ, q₁ⱼ, q₂ⱼ, q₃ⱼ).
        let (t0, t1) = (
            _mm256_unpacklo_pd(q[0], q[1]),
            _mm256_unpackhi_pd(q[0], q[1]),
        );
        let (t2, t3) = (
            _mm256_unpacklo_pd(q[2], q[3]),
            _mm256_unpackhi_pd(q[2], q[3]),
        );
        let c0 = _mm256_permute2f128_pd::<0x20>(t0, t2);
        let c1 = _mm256_permute2f128_pd::<0x20>(t1, t3);
        let c2 = _mm256_permute2f128_pd::<0x31>(t0, t2);
        let c3 = _mm256_permute2f128_pd::<0x31>(t1, t3);
        let s = _mm256_add_pd(
            _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(zero, c0), c1), c2),
            c3,
        );
        let o: &mut [f64; 4] = o.try_into().expect("four rows");
        // SAFETY: `o` is four writable f64 values; the store is unaligned.
        unsafe { _mm256_storeu_pd(o.as_mut_ptr(), s) };
        if full < k {
            for (r, sum) in o.iter_mut().enumerate() {
                let row = &quad[r * k..][..k];
                for (&u, &v) in row[full..].iter().zip(&x[full..]) {
                    *sum += u * v;
                }
            }
        }
    }
    done
}
