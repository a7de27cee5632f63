//! Transforms of Python functions that run in Rust after one call of the
//! function: `hessian` records the function once on the tape and leaves
//! the rest (a recorded gradient and one batched backward pass with the
//! identity, `chainrule::functional::hessian`) to the engine, instead of
//! one Python-driven backward pass per row.

use std::cell::RefCell;

use chainrule::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::err;
use crate::tensor::PyTensor;

/// `f(x)` for a Python function of one tensor: its result as a tensor (a
/// Python number is a constant of `x`'s dtype).
fn call(func: &Bound<'_, PyAny>, x: &Tensor) -> PyResult<Tensor> {
    let y = func.call1((PyTensor::new(x.clone()),))?;
    if let Ok(t) = y.cast::<PyTensor>() {
        return Ok(t.borrow().t.clone());
    }
    match y.extract::<f64>() {
        Ok(v) => Ok(Tensor::scalar(v).to_dtype(x.dtype())),
        Err(_) => Err(PyTypeError::new_err(format!(
            "hessian: the function returned {}, not a tensor",
            y.get_type().name()?
        ))),
    }
}

/// The Hessian of a scalar function of one tensor at `x` (shape
/// `x.shape + x.shape`), calling `func` once; its first error is raised.
#[pyfunction]
fn hessian(func: &Bound<'_, PyAny>, x: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
    let failure: RefCell<Option<PyErr>> = RefCell::new(None);
    let f = |t: &Tensor| match call(func, t) {
        Ok(y) => y,
        Err(e) => {
            failure.borrow_mut().get_or_insert(e);
            Tensor::scalar(0.0).to_dtype(t.dtype())
        }
    };
    let h = chainrule::functional::try_hessian(f)(&x.t.detach());
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    Ok(PyTensor::new(h.map_err(err)?.detach()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hessian, m)?)?;
    Ok(())
}
