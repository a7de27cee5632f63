//! The benchmark of bench/WORKLOADS.md: every workload as a list of
//! implementations, each timed as `peers.py` times the peers and printed as
//! one JSON line, so that `compare.py` can pair chainrule's lines with theirs.
//!
//! - [`registry`]: what one implementation of one workload is ([`Entry`]).
//! - [`w1`] … [`w8`]: the workloads, each a function `entries(&Mode)`.
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
pub mod w8;
pub mod w9;

pub use registry::{entries, Entry, Mode, Prepared};

/// Threads of the gemm: chainrule's (`CHAINRULE_NUM_THREADS`, default the
/// machine's cores), which the hand-written code uses too.
pub fn gemm_threads() -> usize {
    chainrule::tensor::matmul_threads()
}

/// `c = a @ b`, or `c += a @ b` if `accumulate`: chainrule's own gemm
/// ([`chainrule::tensor::gemm`]), so the hand-written baselines multiply
/// matrices exactly as the tape does.
pub use chainrule::tensor::gemm;

/// `a @ b`, a new matrix, by [`gemm`].
pub fn matmul<T: ndarray::LinalgScalar + Send + Sync>(
    a: &ndarray::ArrayView2<'_, T>,
    b: &ndarray::ArrayView2<'_, T>,
) -> ndarray::Array2<T> {
    let mut c = ndarray::Array2::zeros((a.nrows(), b.ncols()));
    gemm(a, b, &mut c.view_mut(), false);
    c
}
