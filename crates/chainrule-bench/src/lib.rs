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

/// Threads of the gemm (matrixmultiply reads `MATMUL_NUM_THREADS`, default 1);
/// the binary sets it to the machine's cores unless it is set.
pub fn gemm_threads() -> usize {
    std::env::var("MATMUL_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(1, |n| n.max(1))
}
