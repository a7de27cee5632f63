//! Taylor-mode derivatives from Python, traced once and replayed.
//!
//! A formula (`chainrule.sympy`'s `taylor_derivatives`) or a Python
//! function traced on a symbol (`chainrule.autograd.nth_derivative`) is
//! recorded once into a [`SeriesPlan`]; every later call replays the plan on
//! f64 series in buffers the plan keeps: no walk of the formula, no
//! allocation and no Python per call, the same recurrences as
//! `forward::nth_derivative_at` in Rust (and the same numbers, bit for bit,
//! as `forward::derivatives_at_f64` of the formula).
//!
//! [`NthDerivative`] is the object `nth_derivative(fun, n)` returns, as
//! `jax.jit` returns a compiled function: called with a Python float it is
//! one crossing into Rust and a float back.

use std::cell::RefCell;
use std::hint::black_box;
use std::time::Instant;

use chainrule::functional::SeriesPlan;
use chainrule::symbolic::{Expr, Node};
use chainrule::Real;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyFloat;

use crate::sym::PyExpr;

/// The plan of the formula `f` as a function of its variable `name` (any
/// other variable is an error, as in `eval_with`).
pub(crate) fn plan_of(f: Expr, name: &str) -> chainrule::Result<SeriesPlan> {
    SeriesPlan::try_trace(|x| f.eval_with(|n| (n == name).then(|| x.clone())))
}

/// The name of a symbol, or a `TypeError`.
pub(crate) fn symbol_name(var: &PyExpr) -> PyResult<String> {
    match var.e().node() {
        Node::Sym(name) => Ok(String::from(&*name)),
        _ => Err(PyTypeError::new_err(format!("{} is not a symbol", var.e()))),
    }
}

/// Where an [`NthDerivative`] stands: not called with a number yet, traced
/// into a plan, or running as nested `grad`s (not traceable).
enum State {
    Untraced,
    Traced(SeriesPlan),
    Nested,
}

/// `chainrule.autograd.nth_derivative(fun, n)`: x ↦ fun⁽ⁿ⁾(x).
///
/// The first call with a number runs `trace(fun)` (Python: `fun` on a
/// symbol, its formula or `None`); a formula becomes a [`SeriesPlan`] and
/// every call with a Python float is then one replay in Rust. Any other
/// argument goes through `scalar(x)` (a float, or `None` for a tensor or
/// an array), and what is not a number, or a function that is not
/// traceable, through `nested(x)`: the n nested `grad`s.
#[pyclass(unsendable, module = "chainrule._native", name = "NthDerivative")]
pub(crate) struct NthDerivative {
    fun: Py<PyAny>,
    n: usize,
    nested: Py<PyAny>,
    trace: Py<PyAny>,
    scalar: Py<PyAny>,
    /// The name of the symbol `trace` calls `fun` on.
    var: String,
    name: String,
    state: RefCell<State>,
}

#[pymethods]
impl NthDerivative {
    #[new]
    #[allow(clippy::too_many_arguments)] // the Python constructor's parameters
    fn new(
        fun: Py<PyAny>,
        n: usize,
        nested: Py<PyAny>,
        trace: Py<PyAny>,
        scalar: Py<PyAny>,
        var: PyRef<'_, PyExpr>,
        name: String,
    ) -> PyResult<NthDerivative> {
        Ok(NthDerivative {
            fun,
            n,
            nested,
            trace,
            scalar,
            var: symbol_name(&var)?,
            name,
            state: RefCell::new(State::Untraced),
        })
    }

    fn __call__(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let value = match x.cast::<PyFloat>() {
            Ok(f) => f.value(),
            Err(_) => {
                let v = self.scalar.call1(py, (x,))?;
                if v.is_none(py) {
                    return self.nested.call1(py, (x,));
                }
                v.extract::<f64>(py)?
            }
        };
        if let State::Traced(plan) = &mut *self.state.borrow_mut() {
            return Ok(PyFloat::new(py, plan.derivative(value, self.n))
                .into_any()
                .unbind());
        }
        if matches!(*self.state.borrow(), State::Untraced) {
            // No borrow is held while Python runs `fun`.
            let traced = self.trace.call1(py, (self.fun.bind(py),))?;
            let plan = match traced.bind(py).cast::<PyExpr>() {
                Ok(e) => plan_of(e.borrow().e(), &self.var).ok(),
                Err(_) => None,
            };
            *self.state.borrow_mut() = match plan {
                Some(p) => State::Traced(p),
                None => State::Nested,
            };
            return self.__call__(py, x);
        }
        self.nested.call1(py, (x,))
    }

    /// `nth_derivative(name, n)`, as a function's `__name__`.
    #[getter(__name__)]
    fn name(&self) -> &str {
        &self.name
    }

    /// Whether the function was traced into a plan (`None` before the first
    /// call with a number): for tests and for the curious.
    #[getter]
    fn traced(&self) -> Option<bool> {
        match *self.state.borrow() {
            State::Untraced => None,
            State::Traced(_) => Some(true),
            State::Nested => Some(false),
        }
    }

    fn __repr__(&self) -> String {
        format!("<{}>", self.name)
    }
}

/// Bench only (scripts/bench-python.py): the Rust call that W5's
/// `chainrule-taylor` line times, `forward::nth_derivative_at` of tanh at
/// `x` to order `k`, run `calls` times in Rust; seconds per call.
#[pyfunction]
fn _bench_rust_tanh(k: usize, x: f64, calls: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        black_box(chainrule::forward::nth_derivative_at(
            |t| t.tanh(),
            black_box(x),
            black_box(k),
        ));
    }
    start.elapsed().as_secs_f64() / calls.max(1) as f64
}

/// Bench only: an [`NthDerivative`]'s replay (after tracing it with a first
/// call), run `calls` times in Rust with no crossing; seconds per call.
#[pyfunction]
fn _bench_replay(
    py: Python<'_>,
    d: PyRef<'_, NthDerivative>,
    x: f64,
    calls: usize,
) -> PyResult<f64> {
    d.__call__(py, PyFloat::new(py, x).as_any())?;
    let n = d.n;
    let mut state = d.state.borrow_mut();
    let State::Traced(plan) = &mut *state else {
        return Err(PyValueError::new_err("the function was not traced"));
    };
    let start = Instant::now();
    for _ in 0..calls {
        black_box(plan.derivative(black_box(x), n));
    }
    Ok(start.elapsed().as_secs_f64() / calls.max(1) as f64)
}

/// Bench only: one crossing with a float in and a float out, nothing else.
#[pyfunction]
fn _bench_echo(x: f64) -> f64 {
    x
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NthDerivative>()?;
    m.add_function(wrap_pyfunction!(_bench_rust_tanh, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_replay, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_echo, m)?)?;
    Ok(())
}
