//! `chainrule._native`: the Python extension under the `chainrule` package.
//!
//! The classes here are thin: [`PyTensor`] wraps a [`chainrule::Tensor`]
//! (PyTorch-style, f32 by default as PyTorch), [`PyExpr`] a symbolic
//! [`chainrule::symbolic::Expr`] (SymPy-style). The Python modules
//! `chainrule.torch`, `chainrule.autograd` and `chainrule.sympy` add the
//! namespaces the seed notebooks import; [`graph`]'s `Wengert` is behind
//! `chainrule.graph` and `chainrule.explain` (SVG and HTML for Jupyter).

use std::cell::Cell;

use pyo3::prelude::*;

mod errors;
mod fastcall;
mod graph;
mod matrix;
mod sym;
mod taylor;
mod tensor;
mod transforms;

thread_local! {
    /// The state of `torch.manual_seed` / `torch.rand`.
    static SEED: Cell<u64> = const { Cell::new(0x5EED) };
}

/// The seed of the next random tensor (a SplitMix64 step of the state).
pub(crate) fn next_seed() -> u64 {
    SEED.with(|s| {
        let z = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(z);
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// `torch.manual_seed(seed)`.
#[pyfunction]
fn manual_seed(seed: u64) {
    SEED.with(|s| s.set(seed));
}

/// Turns recording on or off; returns the previous mode.
#[pyfunction]
fn set_grad_enabled(enabled: bool) -> bool {
    let prev = chainrule::autograd::is_grad_enabled();
    std::mem::forget(chainrule::autograd::set_grad_enabled(enabled));
    prev
}

/// Whether operations are recorded.
#[pyfunction]
fn is_grad_enabled() -> bool {
    chainrule::autograd::is_grad_enabled()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    tensor::register(m)?;
    sym::register(m)?;
    matrix::register(m)?;
    graph::register(m)?;
    transforms::register(m)?;
    taylor::register(m)?;
    Ok(())
}
