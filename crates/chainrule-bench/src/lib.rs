//! The benchmark of bench/WORKLOADS.md: every workload as a list of
//! implementations, each timed as `peers.py` times the peers and printed as
//! one JSON line, so that `compare.py` can pair chainrule's lines with theirs.
//!
//! - [`registry`]: what one implementation of one workload is ([`Entry`]).
//! - [`w1`] … [`w7`]: the workloads, each a function `entries(&Mode)`.
//! - [`timing`]: warm-up, repetitions, median, as `peers.py` does.
//! - [`data`]: the deterministic inputs of bench/README.md.
//! - [`mod@line`]: the JSON line.
//!
//! Adding an implementation (say `chainrule-eager` for W2) is adding one
//! [`Entry`] to that workload's `entries`.
#![deny(missing_docs)]

pub mod data;
pub mod line;
pub mod registry;
pub mod timing;
pub mod w1;
pub mod w2;
pub mod w3;
pub mod w4;
pub mod w5;
pub mod w6;
pub mod w7;

pub use registry::{entries, Entry, Mode, Prepared};

/// Threads of the gemm: chainrule's (`CHAINRULE_NUM_THREADS`, default the
/// machine's cores), which the hand-written code uses too.
pub fn gemm_threads() -> usize {
    chainrule::tensor::matmul_threads()
}

/// `c = a @ b`, or `c += a @ b` if `accumulate`, by the `gemm` crate on
/// [`gemm_threads`] threads: the hand-written baselines' matrix product, the
/// same kernel as chainrule's matmul.
pub fn gemm<T: 'static + Copy + num_traits::Zero + num_traits::One>(
    a: &ndarray::ArrayView2<'_, T>,
    b: &ndarray::ArrayView2<'_, T>,
    c: &mut ndarray::ArrayViewMut2<'_, T>,
    accumulate: bool,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    assert!(b.nrows() == k && c.dim() == (m, n), "gemm: shapes");
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides().to_vec());
    // As chainrule's matmul: threads only for products of 256³ or more.
    let parallelism = match gemm_threads() {
        t if t > 1 && m * n * k >= 1 << 24 => ::gemm::Parallelism::Rayon(t),
        _ => ::gemm::Parallelism::None,
    };
    // SAFETY: pointers and element strides are the views' own; c is
    // borrowed mutably and read only when accumulating.
    unsafe {
        ::gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            sc[1],
            sc[0],
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

/// `a @ b`, a new matrix, by [`gemm`].
pub fn matmul<T: 'static + Copy + num_traits::Zero + num_traits::One>(
    a: &ndarray::ArrayView2<'_, T>,
    b: &ndarray::ArrayView2<'_, T>,
) -> ndarray::Array2<T> {
    let mut c = ndarray::Array2::zeros((a.nrows(), b.ncols()));
    gemm(a, b, &mut c.view_mut(), false);
    c
}
