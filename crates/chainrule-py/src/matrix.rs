//! `chainrule._native.MatrixProblem` and `MatrixFormula`: matrix calculus
//! ([`chainrule::matrix`]) for the Python module `chainrule.matrix`.
//!
//! Errors go through [`crate::errors::err`], which makes every error of the
//! matrix module a `ValueError` with the library's message: they all come
//! from the user's expression, declarations or values.

use std::rc::Rc;

use chainrule::matrix::{self, Expr, Problem, Shape, Values};
use chainrule::Tensor;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::err;
use pyo3::types::PyDict;

/// The values of a `{name: float64 ndarray}` dict, in natural shapes.
fn read_values(values: &Bound<'_, PyDict>) -> PyResult<Vec<(String, Tensor)>> {
    let mut out = Vec::new();
    for (k, v) in values.iter() {
        let name: String = k.extract()?;
        let a: PyReadonlyArrayDyn<'_, f64> = v.extract().map_err(|_| {
            PyTypeError::new_err(format!("{name}: expected a float64 numpy.ndarray"))
        })?;
        let shape = a.shape().to_vec();
        let data: Vec<f64> = a.as_array().iter().copied().collect();
        let t = if shape.is_empty() {
            Tensor::scalar(data[0])
        } else {
            Tensor::from_vec(data, &shape).map_err(err)?
        };
        out.push((name, t));
    }
    Ok(out)
}

/// A tensor as a float64 NumPy array of the same shape.
fn to_numpy<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    Ok(ArrayD::from_shape_vec(IxDyn(t.shape()), t.to_vec())
        .map_err(|e| PyValueError::new_err(e.to_string()))?
        .into_pyarray(py)
        .into_any())
}

/// The sizes of a shape as text (`["n", "m"]`, `[]` for a scalar).
fn axes_text(s: &Shape) -> Vec<String> {
    s.axes().iter().map(|d| d.to_string()).collect()
}

/// A parsed, typed matrix expression (`chainrule.matrix.parse`).
#[pyclass(unsendable, name = "MatrixProblem", module = "chainrule._native")]
struct PyMatrixProblem {
    p: Rc<Problem>,
}

#[pymethods]
impl PyMatrixProblem {
    /// Parses `expr` with the declarations `decls` (`"A: n x n symmetric, c: scalar"`).
    #[new]
    fn new(expr: &str, decls: &str) -> PyResult<Self> {
        Ok(PyMatrixProblem {
            p: Rc::new(matrix::parse(expr, decls).map_err(err)?),
        })
    }

    /// The names, in order of first appearance: `(name, sizes, symmetric)`.
    fn names(&self) -> Vec<(String, Vec<String>, bool)> {
        self.p
            .names
            .iter()
            .map(|n| (n.name.clone(), axes_text(&n.shape), n.symmetric))
            .collect()
    }

    /// The expression itself as a formula (text, LaTeX, evaluation).
    fn value(&self) -> PyMatrixFormula {
        PyMatrixFormula {
            p: self.p.clone(),
            e: self.p.expr.clone(),
            shape: self.p.expr.shape().clone(),
        }
    }

    /// The derivative with respect to `wrt` (gradient, Jacobian, or the
    /// derivative by a scalar), simplified.
    fn derivative(&self, wrt: &str) -> PyResult<PyMatrixFormula> {
        let shape = self.p.derivative_shape(wrt).map_err(err)?;
        let e = self.p.derivative(wrt).map_err(err)?;
        Ok(PyMatrixFormula {
            p: self.p.clone(),
            e,
            shape,
        })
    }

    /// The Hessian with respect to a scalar or vector `wrt` of a scalar
    /// expression (`n x n`, or a scalar).
    fn hessian(&self, wrt: &str) -> PyResult<PyMatrixFormula> {
        let e = self.p.hessian(wrt).map_err(err)?;
        let info = self.p.name(wrt).ok_or_else(|| {
            err(chainrule::Error::MatrixUnknownName {
                name: wrt.to_string(),
            })
        })?;
        let shape = info
            .shape
            .axes()
            .first()
            .map_or(Shape::scalar(), |n| Shape::new(n.clone(), n.clone()));
        Ok(PyMatrixFormula {
            p: self.p.clone(),
            e,
            shape,
        })
    }

    /// Reverse-mode autodiff of the expression by `wrt` at `values` (every
    /// name given): the gradient or Jacobian, or with `hessian` the Hessian
    /// by reverse over reverse mode.
    fn autodiff<'py>(
        &self,
        py: Python<'py>,
        wrt: &str,
        values: &Bound<'py, PyDict>,
        hessian: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = Values::bind(&self.p.names, &read_values(values)?).map_err(err)?;
        let t = if hessian {
            self.p.autodiff_hessian(wrt, &v)
        } else {
            self.p.autodiff(wrt, &v)
        }
        .map_err(err)?;
        to_numpy(py, &t)
    }
}

/// A formula over the names of a problem: a derivative, a Hessian or the
/// expression itself.
#[pyclass(unsendable, name = "MatrixFormula", module = "chainrule._native")]
struct PyMatrixFormula {
    p: Rc<Problem>,
    e: Expr,
    shape: Shape,
}

#[pymethods]
impl PyMatrixFormula {
    /// The formula in the matrix grammar (it parses back).
    fn text(&self) -> String {
        self.e.to_string()
    }

    /// The formula in LaTeX.
    fn latex(&self) -> String {
        matrix::latex(&self.e)
    }

    /// Its shape's sizes (`[]` a scalar, `["n"]` a vector, `["m", "n"]` a matrix).
    fn shape(&self) -> Vec<String> {
        axes_text(&self.shape)
    }

    /// The declarations of the problem's names, as `parse` reads them, so
    /// that the text parses back over the same names and sizes.
    fn decls(&self) -> String {
        self.p
            .names
            .iter()
            .map(|n| {
                let axes = axes_text(&n.shape);
                let dims = if axes.is_empty() {
                    "scalar".to_string()
                } else {
                    axes.join(" x ")
                };
                let sym = if n.symmetric { " symmetric" } else { "" };
                format!("{}: {dims}{sym}", n.name)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The formula's value at `values` (natural shapes: a number, a
    /// vector, a matrix), as a float64 array of its natural shape. Only
    /// the names the formula uses are needed, and those that give its sizes.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        values: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let given = read_values(values)?;
        let needed: Vec<_> = self
            .p
            .names
            .iter()
            .filter(|n| self.e.depends_on(&n.name) || given.iter().any(|(g, _)| *g == n.name))
            .cloned()
            .collect();
        let v = Values::bind(&needed, &given).map_err(err)?;
        let t = matrix::eval(&self.e, &v).map_err(err)?;
        to_numpy(py, &matrix::natural(&t, &self.shape))
    }
}

/// Registers the matrix-calculus classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMatrixProblem>()?;
    m.add_class::<PyMatrixFormula>()?;
    Ok(())
}
