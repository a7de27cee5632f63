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
//! one crossing into Rust and a float back. `nth_derivative` returns it as a
//! builtin function bound to it ([`crate::fastcall`]), so that the crossing
//! is CPython's vectorcall, not the generic `__call__` slot.

use std::hint::black_box;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use chainrule::functional::SeriesPlan;
use chainrule::symbolic::{Expr, Node};
use chainrule::Real;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyFloat;

use crate::fastcall::{bound_function, HasFastEntry, MethodDef};
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
///
/// `nth_derivative` hands Python [`NthDerivative::function`], a builtin
/// function bound to this object and called by vectorcall
/// ([`crate::fastcall`]): a call with a float is then the cost of any
/// builtin function call plus the replay.
#[pyclass(frozen, module = "chainrule._native", name = "NthDerivative")]
pub(crate) struct NthDerivative {
    fun: Py<PyAny>,
    n: usize,
    nested: Py<PyAny>,
    trace: Py<PyAny>,
    scalar: Py<PyAny>,
    /// The name of the symbol `trace` calls `fun` on.
    var: String,
    name: String,
    /// Never held while Python runs (a call from `fun` back into this
    /// object finds it free).
    state: Mutex<State>,
    /// The definition of [`NthDerivative::function`]'s builtin.
    def: MethodDef,
}

impl HasFastEntry for NthDerivative {
    fn method_def(&self) -> &MethodDef {
        &self.def
    }
}

impl NthDerivative {
    /// The state, whatever a panic elsewhere left in it.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The n-th derivative at `x` by the traced plan, if traced.
    fn replay(&self, x: f64) -> Option<f64> {
        match &mut *self.state() {
            State::Traced(plan) => Some(plan.derivative(x, self.n)),
            _ => None,
        }
    }

    /// A call with any one argument (see the type's doc).
    fn call_any(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
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
        if let Some(y) = self.replay(value) {
            return Ok(PyFloat::new(py, y).into_any().unbind());
        }
        if matches!(*self.state(), State::Untraced) {
            // The lock is not held while Python runs `fun`.
            let traced = self.trace.call1(py, (self.fun.bind(py),))?;
            let plan = match traced.bind(py).cast::<PyExpr>() {
                Ok(e) => plan_of(e.borrow().e(), &self.var).ok(),
                Err(_) => None,
            };
            *self.state() = match plan {
                Some(p) => State::Traced(p),
                None => State::Nested,
            };
            let value = PyFloat::new(py, value);
            return self.call_any(py, value.as_any());
        }
        self.nested.call1(py, (x,))
    }
}

/// The `METH_FASTCALL` entry of [`NthDerivative::function`]: a float is
/// replayed straight away (no argument parsing, no borrow flag, a float
/// back); anything else takes [`NthDerivative::call_any`].
unsafe extern "C" fn nth_derivative_entry(
    slf: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    let run = || {
        // SAFETY: CPython calls a builtin function attached to the
        // interpreter, with `slf` the object it was bound to, which
        // `NthDerivative::function` made sure is an `NthDerivative` (the
        // only class whose MethodDef has this entry), and `args` holding
        // `nargs` borrowed references (keywords are refused by CPython
        // before the call: the flags lack METH_KEYWORDS).
        let py = unsafe { Python::assume_attached() };
        let this = unsafe { Borrowed::from_ptr(py, slf).cast_unchecked::<NthDerivative>() };
        let this = this.get();
        if nargs != 1 {
            PyTypeError::new_err(format!(
                "{}() takes exactly one argument ({nargs} given)",
                this.name
            ))
            .restore(py);
            return std::ptr::null_mut();
        }
        // SAFETY: nargs == 1, so `args[0]` is a borrowed reference.
        let x = unsafe { *args };
        // SAFETY: `x` is a live object; PyFloat_AsDouble cannot fail on a
        // float (or a subclass of it), and PyFloat_FromDouble returns a new
        // reference or NULL with MemoryError set, as CPython expects.
        if unsafe { ffi::PyFloat_Check(x) } != 0 {
            if let Some(y) = this.replay(unsafe { ffi::PyFloat_AsDouble(x) }) {
                return unsafe { ffi::PyFloat_FromDouble(y) };
            }
        }
        // SAFETY: `x` is a borrowed reference, valid for this call.
        let x = unsafe { Borrowed::from_ptr(py, x) };
        match this.call_any(py, &x) {
            Ok(y) => y.into_ptr(),
            Err(e) => {
                e.restore(py);
                std::ptr::null_mut()
            }
        }
    };
    // A panic must not unwind into CPython: it becomes a Python exception.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // SAFETY: still inside CPython's call, attached to the interpreter.
        let py = unsafe { Python::assume_attached() };
        PanicException::new_err(what).restore(py);
        std::ptr::null_mut()
    })
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
        let doc = format!(
            "x ↦ the {n}-th derivative of {} at x: a float in, a float back \
             (chainrule.autograd.nth_derivative; the native object is __self__).",
            fun_name(&name)
        );
        Ok(NthDerivative {
            fun,
            n,
            nested,
            trace,
            scalar,
            var: symbol_name(&var)?,
            def: MethodDef::new(&name, &doc, nth_derivative_entry),
            name,
            state: Mutex::new(State::Untraced),
        })
    }

    fn __call__(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.call_any(py, x)
    }

    /// This object's call as a builtin function bound to it (what
    /// `nth_derivative` returns): called by vectorcall, with no argument
    /// tuple; its `__name__` is this object's name, its `__self__` this
    /// object.
    fn function<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        bound_function(slf, "chainrule.autograd")
    }

    /// `nth_derivative(name, n)`, as a function's `__name__`.
    #[getter(__name__)]
    fn name(&self) -> &str {
        &self.name
    }

    /// The order n.
    #[getter]
    fn n(&self) -> usize {
        self.n
    }

    /// Whether the function was traced into a plan (`None` before the first
    /// call with a number): for tests and for the curious.
    #[getter]
    fn traced(&self) -> Option<bool> {
        match *self.state() {
            State::Untraced => None,
            State::Traced(_) => Some(true),
            State::Nested => Some(false),
        }
    }

    fn __repr__(&self) -> String {
        format!("<{}>", self.name)
    }
}

/// `f` of `nth_derivative(f, n)`.
fn fun_name(name: &str) -> &str {
    name.strip_prefix("nth_derivative(")
        .and_then(|s| s.rsplit_once(", "))
        .map_or(name, |(f, _)| f)
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
    d.call_any(py, PyFloat::new(py, x).as_any())?;
    let n = d.n;
    let mut state = d.state();
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
