//! `chainrule._native.Tensor`: a chainrule tensor with PyTorch's Python
//! surface (operators, `.grad`, `.grad_fn`, printing as PyTorch prints).

use chainrule::autograd::{self, GradOptions};
use chainrule::{BinaryOp, DType, Real, Tensor};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PySlice, PyTuple};

use crate::errors::err;

/// What the values of a tensor mean to Python: PyTorch's float, int64 and
/// bool tensors (int and bool values are stored as floats).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Float,
    Long,
    Bool,
}

/// A tensor (`torch.Tensor`).
#[pyclass(unsendable, name = "Tensor", module = "chainrule._native", weakref)]
pub(crate) struct PyTensor {
    pub(crate) t: Tensor,
    kind: Kind,
    /// For the tensor returned by `x.grad`: `x`, so that `x.grad.zero_()`
    /// clears `x`'s gradient.
    grad_of: Option<Tensor>,
}

impl PyTensor {
    pub(crate) fn new(t: Tensor) -> PyTensor {
        PyTensor {
            t,
            kind: Kind::Float,
            grad_of: None,
        }
    }
    fn with_kind(t: Tensor, kind: Kind) -> PyTensor {
        PyTensor {
            t,
            kind,
            grad_of: None,
        }
    }
}

/// The node of a tensor's `grad_fn` (`<MulBackward0 object at 0x...>`).
#[pyclass(unsendable, name = "GradFn", module = "chainrule._native")]
struct GradFn {
    name: &'static str,
}

#[pymethods]
impl GradFn {
    /// PyTorch's name (`"MulBackward0"`).
    fn name(&self) -> &'static str {
        self.name
    }
    fn __repr__(slf: &Bound<'_, Self>) -> String {
        format!(
            "<{} object at {:#x}>",
            slf.borrow().name,
            slf.as_ptr() as usize
        )
    }
}

/// An operand of an arithmetic operator: a tensor or a Python number.
enum Operand {
    T(Tensor),
    N(f64),
}

fn operand(obj: &Bound<'_, PyAny>) -> Option<Operand> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.borrow();
        return Some(Operand::T(t.t.clone()));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Some(Operand::N(f.value()));
    }
    if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        let shape = a.shape().to_vec();
        return Tensor::from_vec(a.as_array().iter().copied().collect(), &shape)
            .ok()
            .map(Operand::T);
    }
    if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        let shape = a.shape().to_vec();
        return Tensor::from_vec_f32(a.as_array().iter().copied().collect(), &shape)
            .ok()
            .map(Operand::T);
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<f64>().ok().map(Operand::N);
    }
    // NumPy scalars and other numbers with __float__ (not strings or lists).
    if obj.hasattr("__float__").unwrap_or(false) && !obj.hasattr("__len__").unwrap_or(true) {
        return obj.extract::<f64>().ok().map(Operand::N);
    }
    None
}

pub(crate) fn dtype_of(name: Option<&str>) -> PyResult<Option<DType>> {
    match name {
        None => Ok(None),
        Some("torch.float32" | "float32" | "float") => Ok(Some(DType::F32)),
        Some("torch.float64" | "float64" | "double") => Ok(Some(DType::F64)),
        Some(other) => Err(PyTypeError::new_err(format!(
            "chainrule supports the dtypes torch.float32 and torch.float64, not {other}"
        ))),
    }
}

fn not_implemented(py: Python<'_>) -> Py<PyAny> {
    py.NotImplemented()
}

fn wrap(py: Python<'_>, t: PyResult<Tensor>) -> PyResult<Py<PyAny>> {
    Ok(Bound::new(py, PyTensor::new(t?))?.into_any().unbind())
}

/// `a op b` with PyTorch's handling of Python numbers (never promoting).
fn arith(
    a: &Tensor,
    op: BinaryOp,
    b: &Bound<'_, PyAny>,
    reflected: bool,
) -> Option<PyResult<Tensor>> {
    Some(match operand(b)? {
        Operand::T(b) => {
            if reflected {
                b.try_binary(op, a).map_err(err)
            } else {
                a.try_binary(op, &b).map_err(err)
            }
        }
        Operand::N(c) => Ok(if reflected {
            Tensor::scalar_binary(c, op, a)
        } else {
            a.binary_scalar(op, c)
        }),
    })
}

/// Collects the values and shape of a nested list of numbers.
fn nested(
    obj: &Bound<'_, PyAny>,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<f64>,
    all_int: &mut bool,
    all_bool: &mut bool,
) -> PyResult<()> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.borrow();
        if depth == shape.len() {
            shape.extend_from_slice(t.t.shape());
        }
        out.extend(t.t.to_vec());
        *all_int &= t.kind != Kind::Float;
        *all_bool &= t.kind == Kind::Bool;
        return Ok(());
    }
    let items: Option<Vec<Bound<'_, PyAny>>> = if let Ok(l) = obj.cast::<PyList>() {
        Some(l.iter().collect())
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        Some(t.iter().collect())
    } else {
        None
    };
    match items {
        Some(items) => {
            if depth == shape.len() {
                shape.push(items.len());
            } else if shape.get(depth) != Some(&items.len()) {
                return Err(PyValueError::new_err(format!(
                    "expected sequence of length {} at dim {depth} (got {})",
                    shape.get(depth).copied().unwrap_or(0),
                    items.len()
                )));
            }
            for item in &items {
                nested(item, depth + 1, shape, out, all_int, all_bool)?;
            }
            Ok(())
        }
        None => {
            if depth > shape.len() {
                return Err(PyValueError::new_err("ragged nested sequence"));
            }
            if obj.is_instance_of::<PyBool>() {
                *all_int = false;
            } else {
                *all_bool = false;
                if !obj.is_instance_of::<PyInt>() {
                    *all_int = false;
                }
            }
            let v: f64 = obj.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "tensor(): could not convert an element of type {} to a number",
                    obj.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            out.push(v);
            Ok(())
        }
    }
}

fn make(values: Vec<f64>, shape: &[usize], dtype: DType) -> PyResult<Tensor> {
    match dtype {
        DType::F64 => Tensor::from_vec(values, shape).map_err(err),
        DType::F32 => {
            Tensor::from_vec_f32(values.into_iter().map(|v| v as f32).collect(), shape).map_err(err)
        }
    }
}

/// `torch.tensor(data, dtype=None, requires_grad=False)`.
#[pyfunction]
#[pyo3(signature = (data, dtype=None, requires_grad=false))]
fn tensor(data: &Bound<'_, PyAny>, dtype: Option<&str>, requires_grad: bool) -> PyResult<PyTensor> {
    let dt = dtype_of(dtype)?;
    if let Ok(a) = data.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        return from_array_f64(a, dt.unwrap_or(DType::F64), requires_grad);
    }
    if let Ok(a) = data.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        let shape = a.shape().to_vec();
        let v: Vec<f64> = a.as_array().iter().map(|&x| f64::from(x)).collect();
        return finish(
            make(v, &shape, dt.unwrap_or(DType::F32))?,
            Kind::Float,
            requires_grad,
        );
    }
    let mut shape = Vec::new();
    let mut values = Vec::new();
    let (mut all_int, mut all_bool) = (true, true);
    nested(
        data,
        0,
        &mut shape,
        &mut values,
        &mut all_int,
        &mut all_bool,
    )?;
    let kind = if dt.is_some() || values.is_empty() {
        Kind::Float
    } else if all_bool {
        Kind::Bool
    } else if all_int {
        Kind::Long
    } else {
        Kind::Float
    };
    let dtype = dt.unwrap_or(if kind == Kind::Float {
        DType::F32
    } else {
        DType::F64
    });
    finish(make(values, &shape, dtype)?, kind, requires_grad)
}

fn from_array_f64(
    a: PyReadonlyArrayDyn<'_, f64>,
    dtype: DType,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let shape = a.shape().to_vec();
    let v: Vec<f64> = a.as_array().iter().copied().collect();
    finish(make(v, &shape, dtype)?, Kind::Float, requires_grad)
}

fn finish(t: Tensor, kind: Kind, requires_grad: bool) -> PyResult<PyTensor> {
    if requires_grad {
        if kind != Kind::Float {
            return Err(PyRuntimeError::new_err(
                "Only Tensors of floating point and complex dtype can require gradients",
            ));
        }
        t.requires_grad_(true).map_err(err)?;
    }
    Ok(PyTensor::with_kind(t, kind))
}

/// `torch.from_numpy(array)` (float32 or float64 arrays).
#[pyfunction]
fn from_numpy(a: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    if let Ok(a) = a.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        return from_array_f64(a, DType::F64, false);
    }
    if let Ok(a) = a.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        let shape = a.shape().to_vec();
        let v: Vec<f32> = a.as_array().iter().copied().collect();
        return Ok(PyTensor::new(Tensor::from_vec_f32(v, &shape).map_err(err)?));
    }
    Err(PyTypeError::new_err(
        "from_numpy: expected a float32 or float64 numpy.ndarray",
    ))
}

fn shape_arg(shape: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    if shape.len() == 1 {
        let first = shape.get_item(0)?;
        if let Ok(v) = first.extract::<Vec<usize>>() {
            return Ok(v);
        }
    }
    shape.iter().map(|s| s.extract::<usize>()).collect()
}

fn filled(
    shape: &[usize],
    value: f64,
    dtype: Option<&str>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let t = Tensor::full(shape, value).to_dtype(dtype_of(dtype)?.unwrap_or(DType::F32));
    finish(t, Kind::Float, requires_grad)
}

/// `torch.zeros(*size, dtype=None, requires_grad=False)`.
#[pyfunction]
#[pyo3(signature = (*size, dtype=None, requires_grad=false))]
fn zeros(
    size: &Bound<'_, PyTuple>,
    dtype: Option<&str>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    filled(&shape_arg(size)?, 0.0, dtype, requires_grad)
}

/// `torch.ones(*size, dtype=None, requires_grad=False)`.
#[pyfunction]
#[pyo3(signature = (*size, dtype=None, requires_grad=false))]
fn ones(size: &Bound<'_, PyTuple>, dtype: Option<&str>, requires_grad: bool) -> PyResult<PyTensor> {
    filled(&shape_arg(size)?, 1.0, dtype, requires_grad)
}

/// `torch.full(size, value, dtype=None, requires_grad=False)`.
#[pyfunction]
#[pyo3(signature = (size, fill_value, dtype=None, requires_grad=false))]
fn full(
    size: Vec<usize>,
    fill_value: f64,
    dtype: Option<&str>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    filled(&size, fill_value, dtype, requires_grad)
}

/// `torch.rand(*size, dtype=None, requires_grad=False)` (the stream of `manual_seed`).
#[pyfunction]
#[pyo3(signature = (*size, dtype=None, requires_grad=false))]
fn rand(size: &Bound<'_, PyTuple>, dtype: Option<&str>, requires_grad: bool) -> PyResult<PyTensor> {
    let t = Tensor::rand(&shape_arg(size)?, crate::next_seed())
        .to_dtype(dtype_of(dtype)?.unwrap_or(DType::F32));
    finish(t, Kind::Float, requires_grad)
}

/// `torch.randn(*size, dtype=None, requires_grad=False)`.
#[pyfunction]
#[pyo3(signature = (*size, dtype=None, requires_grad=false))]
fn randn(
    size: &Bound<'_, PyTuple>,
    dtype: Option<&str>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let t = Tensor::randn(&shape_arg(size)?, crate::next_seed())
        .to_dtype(dtype_of(dtype)?.unwrap_or(DType::F32));
    finish(t, Kind::Float, requires_grad)
}

/// `torch.arange(start, end, step)`: int64 for integer arguments, as PyTorch.
#[pyfunction]
#[pyo3(signature = (start, end=None, step=None, dtype=None, requires_grad=false))]
fn arange(
    start: &Bound<'_, PyAny>,
    end: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    dtype: Option<&str>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let ints = [Some(start), end, step]
        .iter()
        .flatten()
        .all(|a| a.is_instance_of::<PyInt>());
    let (s, e) = match end {
        Some(e) => (start.extract::<f64>()?, e.extract::<f64>()?),
        None => (0.0, start.extract::<f64>()?),
    };
    let st = step.map(|s| s.extract::<f64>()).transpose()?.unwrap_or(1.0);
    let t = Tensor::arange(s, e, st).map_err(err)?;
    let dt = dtype_of(dtype)?;
    let kind = if ints && dt.is_none() {
        Kind::Long
    } else {
        Kind::Float
    };
    let t = t.to_dtype(dt.unwrap_or(if kind == Kind::Long {
        DType::F64
    } else {
        DType::F32
    }));
    finish(t, kind, requires_grad)
}

/// `torch.autograd.grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False)`.
#[pyfunction]
#[pyo3(signature = (outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=false))]
fn grad(
    py: Python<'_>,
    outputs: &Bound<'_, PyAny>,
    inputs: &Bound<'_, PyAny>,
    grad_outputs: Option<&Bound<'_, PyAny>>,
    retain_graph: Option<bool>,
    create_graph: bool,
) -> PyResult<Py<PyTuple>> {
    let outs = tensors(outputs)?;
    let ins = tensors(inputs)?;
    let gos = grad_outputs.map(tensors).transpose()?;
    let opts = GradOptions {
        retain_graph: retain_graph.unwrap_or(create_graph),
        create_graph,
    };
    let gs = autograd::grad(&outs, &ins, gos.as_deref(), opts).map_err(err)?;
    let items = gs
        .into_iter()
        .map(|g| Bound::new(py, PyTensor::new(g)))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyTuple::new(py, items)?.unbind())
}

/// `torch.cat(tensors, dim=0)`.
#[pyfunction]
#[pyo3(signature = (tensors, dim=0))]
fn cat(tensors: &Bound<'_, PyAny>, dim: isize) -> PyResult<PyTensor> {
    Ok(PyTensor::new(
        Tensor::try_cat(&self::tensors(tensors)?, dim).map_err(err)?,
    ))
}

/// `torch.stack(tensors, dim=0)`.
#[pyfunction]
#[pyo3(signature = (tensors, dim=0))]
fn stack(tensors: &Bound<'_, PyAny>, dim: isize) -> PyResult<PyTensor> {
    Ok(PyTensor::new(
        Tensor::try_stack(&self::tensors(tensors)?, dim).map_err(err)?,
    ))
}

/// A tensor or a sequence of tensors.
fn tensors(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Tensor>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(vec![t.borrow().t.clone()]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        let t = item
            .cast::<PyTensor>()
            .map_err(|_| PyTypeError::new_err("expected a Tensor or a sequence of Tensors"))?;
        out.push(t.borrow().t.clone());
    }
    Ok(out)
}

/// Python's index (negative from the end) into an axis of length `n`.
fn index(i: isize, n: usize) -> PyResult<usize> {
    let j = if i < 0 { i + n as isize } else { i };
    if j < 0 || j as usize >= n {
        return Err(PyIndexError::new_err(format!(
            "index {i} is out of bounds for dimension with size {n}"
        )));
    }
    Ok(j as usize)
}

/// PyTorch's printing of the values of a tensor, with `kind`'s number style.
fn body(t: &Tensor, kind: Kind) -> String {
    // chainrule prints f32 tensors with a dtype suffix and f64 ones without;
    // the body is the same, so print the detached values and cut the suffix.
    let s = t.detach().to_dtype(DType::F64).to_string();
    let s = s.strip_suffix(')').unwrap_or(&s).to_string();
    match kind {
        Kind::Float => s,
        Kind::Long => {
            let chars: Vec<char> = s.chars().collect();
            let mut out = String::with_capacity(s.len());
            for (i, &c) in chars.iter().enumerate() {
                let prev_digit = i > 0 && chars[i - 1].is_ascii_digit();
                let next_digit = chars.get(i + 1).is_some_and(|c| c.is_ascii_digit());
                if c == '.' && prev_digit && !next_digit {
                    continue;
                }
                out.push(c);
            }
            out
        }
        Kind::Bool => {
            let vals = t.to_vec();
            if t.ndim() == 0 {
                return format!("tensor({}", if vals[0] != 0.0 { "True" } else { "False" });
            }
            let words: Vec<&str> = vals
                .iter()
                .map(|&v| if v != 0.0 { " True" } else { "False" })
                .collect();
            if t.ndim() == 1 {
                format!("tensor([{}]", words.join(", "))
            } else {
                s
            }
        }
    }
}

fn repr(t: &Tensor, kind: Kind) -> String {
    let mut s = body(t, kind);
    let indent = "tensor(".len();
    let mut suffixes = Vec::new();
    if t.dtype() == DType::F64 && kind == Kind::Float {
        suffixes.push("dtype=torch.float64".to_string());
    }
    if let Some(name) = t.grad_fn() {
        suffixes.push(format!("grad_fn=<{name}>"));
    } else if t.is_requires_grad() {
        suffixes.push("requires_grad=True".into());
    }
    let mut last = match s.rfind('\n') {
        Some(p) => s.len() - p + 1,
        None => s.len() + 2,
    };
    for suffix in suffixes {
        if last + suffix.len() + 2 > 80 {
            s.push_str(&format!(",\n{}{suffix}", " ".repeat(indent)));
            last = indent + suffix.len();
        } else {
            s.push_str(&format!(", {suffix}"));
            last += suffix.len() + 2;
        }
    }
    s.push(')');
    s
}

fn axes(dim: Option<&Bound<'_, PyAny>>, ndim: usize) -> PyResult<Option<Vec<isize>>> {
    let _ = ndim;
    match dim {
        None => Ok(None),
        Some(d) if d.is_none() => Ok(None),
        Some(d) => {
            if let Ok(i) = d.extract::<isize>() {
                Ok(Some(vec![i]))
            } else {
                Ok(Some(d.extract::<Vec<isize>>()?))
            }
        }
    }
}

#[pymethods]
impl PyTensor {
    /// `exp` elementwise.
    fn exp(&self) -> PyTensor {
        PyTensor::new(Real::exp(&self.t))
    }
    /// `log` elementwise.
    fn log(&self) -> PyTensor {
        PyTensor::new(Real::ln(&self.t))
    }
    /// `log2` elementwise.
    fn log2(&self) -> PyTensor {
        PyTensor::new(Real::log2(&self.t))
    }
    /// `log10` elementwise.
    fn log10(&self) -> PyTensor {
        PyTensor::new(Real::log10(&self.t))
    }
    /// `sqrt` elementwise.
    fn sqrt(&self) -> PyTensor {
        PyTensor::new(Real::sqrt(&self.t))
    }
    /// `sin` elementwise.
    fn sin(&self) -> PyTensor {
        PyTensor::new(Real::sin(&self.t))
    }
    /// `cos` elementwise.
    fn cos(&self) -> PyTensor {
        PyTensor::new(Real::cos(&self.t))
    }
    /// `tan` elementwise.
    fn tan(&self) -> PyTensor {
        PyTensor::new(Real::tan(&self.t))
    }
    /// `asin` elementwise.
    fn asin(&self) -> PyTensor {
        PyTensor::new(Real::asin(&self.t))
    }
    /// `acos` elementwise.
    fn acos(&self) -> PyTensor {
        PyTensor::new(Real::acos(&self.t))
    }
    /// `atan` elementwise.
    fn atan(&self) -> PyTensor {
        PyTensor::new(Real::atan(&self.t))
    }
    /// `sinh` elementwise.
    fn sinh(&self) -> PyTensor {
        PyTensor::new(Real::sinh(&self.t))
    }
    /// `cosh` elementwise.
    fn cosh(&self) -> PyTensor {
        PyTensor::new(Real::cosh(&self.t))
    }
    /// `tanh` elementwise.
    fn tanh(&self) -> PyTensor {
        PyTensor::new(Real::tanh(&self.t))
    }
    /// `asinh` elementwise.
    fn asinh(&self) -> PyTensor {
        PyTensor::new(Real::asinh(&self.t))
    }
    /// `acosh` elementwise.
    fn acosh(&self) -> PyTensor {
        PyTensor::new(Real::acosh(&self.t))
    }
    /// `atanh` elementwise.
    fn atanh(&self) -> PyTensor {
        PyTensor::new(Real::atanh(&self.t))
    }
    /// `sigmoid` elementwise.
    fn sigmoid(&self) -> PyTensor {
        PyTensor::new(Real::sigmoid(&self.t))
    }
    /// `relu` elementwise.
    fn relu(&self) -> PyTensor {
        PyTensor::new(Real::relu(&self.t))
    }
    /// `abs` elementwise.
    fn abs(&self) -> PyTensor {
        PyTensor::new(Real::abs(&self.t))
    }
    /// `erf` elementwise.
    fn erf(&self) -> PyTensor {
        PyTensor::new(Real::erf(&self.t))
    }
    /// `sign` elementwise.
    fn sign(&self) -> PyTensor {
        PyTensor::new(Real::sign(&self.t))
    }
    /// `reciprocal` elementwise.
    fn reciprocal(&self) -> PyTensor {
        PyTensor::new(Real::recip(&self.t))
    }
    /// `square` elementwise.
    fn square(&self) -> PyTensor {
        PyTensor::new(Real::square(&self.t))
    }
    fn __repr__(&self) -> String {
        repr(&self.t, self.kind)
    }

    /// NumPy defers to the tensor's reflected operators (`array * tensor`).
    #[classattr]
    fn __array_ufunc__(py: Python<'_>) -> Py<PyAny> {
        py.None()
    }

    /// `numpy.asarray(tensor)`.
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        let a = self.detach().numpy(py)?;
        match dtype {
            Some(d) if !d.is_none() => a.call_method1("astype", (d,)),
            _ => Ok(a),
        }
    }

    fn __format__(&self, py: Python<'_>, spec: &str) -> PyResult<String> {
        if self.t.ndim() == 0 {
            let v = self.item(py)?;
            return v.bind(py).call_method1("__format__", (spec,))?.extract();
        }
        Ok(repr(&self.t, self.kind))
    }

    /// The value of a one-element tensor as a Python number.
    fn item(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let v = self.t.try_item().map_err(|_| {
            PyRuntimeError::new_err(format!(
                "a Tensor with {} elements cannot be converted to Scalar",
                self.t.numel()
            ))
        })?;
        Ok(match self.kind {
            Kind::Float => v.into_pyobject(py)?.into_any().unbind(),
            Kind::Long => (v as i64).into_pyobject(py)?.into_any().unbind(),
            Kind::Bool => PyBool::new(py, v != 0.0).to_owned().into_any().unbind(),
        })
    }

    /// The values as nested Python lists.
    fn tolist(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let vals = self.t.to_vec();
        let shape = self.t.shape().to_vec();
        fn build(py: Python<'_>, vals: &[f64], shape: &[usize], kind: Kind) -> PyResult<Py<PyAny>> {
            if shape.is_empty() {
                let v = vals[0];
                return Ok(match kind {
                    Kind::Float => v.into_pyobject(py)?.into_any().unbind(),
                    Kind::Long => (v as i64).into_pyobject(py)?.into_any().unbind(),
                    Kind::Bool => PyBool::new(py, v != 0.0).to_owned().into_any().unbind(),
                });
            }
            let step: usize = shape[1..].iter().product();
            let items = (0..shape[0])
                .map(|i| build(py, &vals[i * step..(i + 1) * step], &shape[1..], kind))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, items)?.into_any().unbind())
        }
        build(py, &vals, &shape, self.kind)
    }

    fn __float__(&self) -> PyResult<f64> {
        self.t.try_item().map_err(err)
    }

    fn __int__(&self) -> PyResult<i64> {
        Ok(self.t.try_item().map_err(err)? as i64)
    }

    fn __index__(&self) -> PyResult<i64> {
        if self.kind == Kind::Float {
            return Err(PyTypeError::new_err(
                "only integer tensors of a single element can be converted to an index",
            ));
        }
        Ok(self.t.try_item().map_err(err)? as i64)
    }

    fn __bool__(&self) -> PyResult<bool> {
        let v = self.t.try_item().map_err(|_| {
            PyRuntimeError::new_err("Boolean value of Tensor with more than one value is ambiguous")
        })?;
        Ok(v != 0.0)
    }

    fn __len__(&self) -> PyResult<usize> {
        self.t
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of a 0-d tensor"))
    }

    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Add, o, false) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Add, o, true) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Sub, o, false) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Sub, o, true) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Mul, o, false) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Mul, o, true) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Div, o, false) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Div, o, true) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        match operand(o) {
            Some(Operand::N(c)) => {
                if c == c.trunc() && c.abs() <= i32::MAX as f64 {
                    wrap(py, Ok(self.t.powi(c as i32)))
                } else {
                    wrap(py, Ok(self.t.powf(c)))
                }
            }
            Some(Operand::T(b)) => wrap(py, self.t.try_binary(BinaryOp::Pow, &b).map_err(err)),
            None => Ok(not_implemented(py)),
        }
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        match arith(&self.t, BinaryOp::Pow, o, true) {
            Some(r) => wrap(py, r),
            None => Ok(not_implemented(py)),
        }
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match operand(o) {
            Some(Operand::T(b)) => wrap(py, self.t.try_matmul(&b).map_err(err)),
            _ => Ok(not_implemented(py)),
        }
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match operand(o) {
            Some(Operand::T(a)) => wrap(py, a.try_matmul(&self.t).map_err(err)),
            _ => Ok(not_implemented(py)),
        }
    }
    fn __neg__(&self) -> PyTensor {
        PyTensor::new(-&self.t)
    }
    fn __pos__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __abs__(&self) -> PyTensor {
        PyTensor::new(self.t.abs())
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Some(b) = operand(o) else {
            return Ok(not_implemented(py));
        };
        let b = match b {
            Operand::T(b) => b,
            Operand::N(c) => Tensor::scalar(c),
        };
        let _g = autograd::no_grad();
        let r = match op {
            CompareOp::Lt => self.t.try_lt(&b),
            CompareOp::Le => self.t.try_le(&b),
            CompareOp::Gt => self.t.try_gt(&b),
            CompareOp::Ge => self.t.try_ge(&b),
            CompareOp::Eq => self.t.try_eq(&b),
            CompareOp::Ne => self.t.try_eq(&b).map(|e| 1.0 - &e),
        }
        .map_err(err)?;
        Ok(Bound::new(py, PyTensor::with_kind(r.detach(), Kind::Bool))?
            .into_any()
            .unbind())
    }

    // ----- in-place updates (what optimizers and `w -= lr * w.grad` do) -----

    fn __iadd__(&mut self, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(BinaryOp::Add, o)
    }
    fn __isub__(&mut self, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(BinaryOp::Sub, o)
    }
    fn __imul__(&mut self, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(BinaryOp::Mul, o)
    }
    fn __itruediv__(&mut self, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(BinaryOp::Div, o)
    }

    /// Sets every value to zero in place (on `x.grad`: clears `x`'s gradient values).
    fn zero_<'py>(mut slf: PyRefMut<'py, Self>) -> PyRefMut<'py, Self> {
        let z = Tensor::zeros(slf.t.shape()).to_dtype(slf.t.dtype());
        slf.assign(z);
        slf
    }

    /// Fills with `value` in place.
    fn fill_<'py>(mut slf: PyRefMut<'py, Self>, value: f64) -> PyRefMut<'py, Self> {
        let z = Tensor::full(slf.t.shape(), value).to_dtype(slf.t.dtype());
        slf.assign(z);
        slf
    }

    /// Copies `src`'s values in place.
    fn copy_<'py>(
        mut slf: PyRefMut<'py, Self>,
        src: PyRef<'py, PyTensor>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        if src.t.shape() != slf.t.shape() {
            return Err(PyRuntimeError::new_err("copy_: shapes differ"));
        }
        let v = src.t.to_dtype(slf.t.dtype());
        slf.check_inplace()?;
        slf.assign(v);
        Ok(slf)
    }

    // ----- autograd -----

    #[getter(requires_grad)]
    fn get_requires_grad(&self) -> bool {
        self.t.is_requires_grad()
    }

    #[setter(requires_grad)]
    fn set_requires_grad(&mut self, flag: bool) -> PyResult<()> {
        self.check_float(flag)?;
        self.t.requires_grad_(flag).map_err(|_| {
            PyRuntimeError::new_err(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
            )
        })?;
        Ok(())
    }

    /// Sets `requires_grad` in place and returns the tensor.
    #[pyo3(signature = (requires_grad=true))]
    fn requires_grad_<'py>(
        mut slf: PyRefMut<'py, Self>,
        requires_grad: bool,
    ) -> PyResult<PyRefMut<'py, Self>> {
        slf.set_requires_grad(requires_grad)?;
        Ok(slf)
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.t.is_leaf()
    }

    #[getter(grad)]
    fn get_grad(&self) -> Option<PyTensor> {
        self.t.grad().map(|g| PyTensor {
            t: g,
            kind: Kind::Float,
            grad_of: Some(self.t.clone()),
        })
    }

    #[setter(grad)]
    fn set_grad(&mut self, g: Option<PyRef<'_, PyTensor>>) {
        self.t.set_grad(g.map(|g| g.t.clone()));
    }

    #[getter]
    fn grad_fn(&self) -> Option<GradFn> {
        self.t.grad_fn().map(|name| GradFn { name })
    }

    /// Keeps this non-leaf's gradient in `.grad` during backward.
    fn retain_grad(&self) {
        self.t.retain_grad();
    }

    /// A new leaf with the same values and no history.
    fn detach(&self) -> PyTensor {
        PyTensor::with_kind(self.t.detach(), self.kind)
    }

    /// A copy that stays in the graph (as PyTorch's `clone`).
    fn clone(&self) -> PyTensor {
        PyTensor::with_kind(self.t.binary_scalar(BinaryOp::Mul, 1.0), self.kind)
    }

    #[getter(data)]
    fn get_data(&self) -> PyTensor {
        self.detach()
    }

    #[setter(data)]
    fn set_data(&mut self, v: PyRef<'_, PyTensor>) {
        let t = v.t.to_dtype(self.t.dtype());
        self.assign(t);
    }

    /// Backpropagates from this tensor into the `.grad` of the leaves.
    #[pyo3(signature = (gradient=None, retain_graph=None, create_graph=false))]
    fn backward(
        &self,
        gradient: Option<PyRef<'_, PyTensor>>,
        retain_graph: Option<bool>,
        create_graph: bool,
    ) -> PyResult<()> {
        if !self.t.is_requires_grad() {
            return Err(PyRuntimeError::new_err(
                "element 0 of tensors does not require grad and does not have a grad_fn",
            ));
        }
        let opts = GradOptions {
            retain_graph: retain_graph.unwrap_or(create_graph),
            create_graph,
        };
        let g = gradient.as_ref().map(|g| g.t.clone());
        self.t.backward_opts(g.as_ref(), opts).map_err(err)
    }

    // ----- shape -----

    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.t.shape())
    }

    #[pyo3(signature = (dim=None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        match dim {
            None => Ok(PyTuple::new(py, self.t.shape())?.into_any().unbind()),
            Some(d) => {
                let i = index(d, self.t.ndim())?;
                Ok(self.t.shape()[i].into_pyobject(py)?.into_any().unbind())
            }
        }
    }

    fn dim(&self) -> usize {
        self.t.ndim()
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.t.ndim()
    }

    fn numel(&self) -> usize {
        self.t.numel()
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        match self.kind {
            Kind::Float => self.t.dtype().torch_name(),
            Kind::Long => "torch.int64",
            Kind::Bool => "torch.bool",
        }
    }

    /// A float32 copy (differentiable).
    fn float(&self) -> PyTensor {
        PyTensor::new(self.t.float())
    }

    /// A float64 copy (differentiable).
    fn double(&self) -> PyTensor {
        PyTensor::new(self.t.double())
    }

    /// `x.to(dtype)`.
    fn to(&self, dtype: &str) -> PyResult<PyTensor> {
        match dtype_of(Some(dtype))? {
            Some(d) => Ok(PyTensor::new(self.t.to_dtype(d))),
            None => Ok(PyTensor::with_kind(self.t.clone(), self.kind)),
        }
    }

    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let dims: Vec<isize> =
            if shape.len() == 1 && shape.get_item(0)?.extract::<Vec<isize>>().is_ok() {
                shape.get_item(0)?.extract()?
            } else {
                shape
                    .iter()
                    .map(|s| s.extract::<isize>())
                    .collect::<PyResult<_>>()?
            };
        let n = self.t.numel();
        let known: usize = dims
            .iter()
            .filter(|&&d| d >= 0)
            .map(|&d| d as usize)
            .product();
        let dims: Vec<usize> = dims
            .iter()
            .map(|&d| if d < 0 { n / known.max(1) } else { d as usize })
            .collect();
        Ok(PyTensor::with_kind(
            self.t.try_reshape(&dims).map_err(err)?,
            self.kind,
        ))
    }

    #[pyo3(signature = (*shape))]
    fn view(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        self.reshape(shape)
    }

    fn flatten(&self) -> PyTensor {
        PyTensor::with_kind(self.t.flatten(), self.kind)
    }

    fn t(&self) -> PyResult<PyTensor> {
        if self.t.ndim() < 2 {
            return Ok(PyTensor::with_kind(self.t.clone(), self.kind));
        }
        Ok(PyTensor::with_kind(
            self.t.try_transpose(0, 1).map_err(err)?,
            self.kind,
        ))
    }

    #[getter(T)]
    fn get_t(&self) -> PyResult<PyTensor> {
        let n = self.t.ndim();
        if n < 2 {
            return Ok(PyTensor::with_kind(self.t.clone(), self.kind));
        }
        let axes: Vec<usize> = (0..n).rev().collect();
        Ok(PyTensor::with_kind(
            self.t.try_permute(&axes).map_err(err)?,
            self.kind,
        ))
    }

    fn transpose(&self, a: isize, b: isize) -> PyResult<PyTensor> {
        Ok(PyTensor::with_kind(
            self.t.try_transpose(a, b).map_err(err)?,
            self.kind,
        ))
    }

    #[pyo3(signature = (dim=None))]
    fn squeeze(&self, dim: Option<isize>) -> PyResult<PyTensor> {
        Ok(PyTensor::with_kind(
            self.t.try_squeeze(dim).map_err(err)?,
            self.kind,
        ))
    }

    fn unsqueeze(&self, dim: isize) -> PyResult<PyTensor> {
        Ok(PyTensor::with_kind(
            self.t.try_unsqueeze(dim).map_err(err)?,
            self.kind,
        ))
    }

    fn __getitem__(&self, idx: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let items: Vec<Bound<'_, PyAny>> = match idx.cast::<PyTuple>() {
            Ok(t) => t.iter().collect(),
            Err(_) => vec![idx.clone()],
        };
        let mut t = self.t.clone();
        let mut axis: isize = 0;
        for item in items {
            if item.is_none() {
                t = t.try_unsqueeze(axis).map_err(err)?;
                axis += 1;
                continue;
            }
            if item.is_instance_of::<PyInt>()
                || item
                    .cast::<PyTensor>()
                    .is_ok_and(|p| p.borrow().kind == Kind::Long)
            {
                let i: isize = if let Ok(p) = item.cast::<PyTensor>() {
                    p.borrow().t.try_item().map_err(err)? as isize
                } else {
                    item.extract()?
                };
                let n = *t
                    .shape()
                    .get(axis as usize)
                    .ok_or_else(|| PyIndexError::new_err("too many indices for tensor"))?;
                t = t.try_select(axis, index(i, n)?).map_err(err)?;
                continue;
            }
            if let Ok(s) = item.cast::<PySlice>() {
                let n = *t
                    .shape()
                    .get(axis as usize)
                    .ok_or_else(|| PyIndexError::new_err("too many indices for tensor"))?;
                let ind = s.indices(n as isize)?;
                if ind.step == 1 {
                    let len = (ind.stop - ind.start).max(0) as usize;
                    t = t.try_narrow(axis, ind.start as usize, len).map_err(err)?;
                } else {
                    let picks: Vec<usize> = (0..ind.slicelength)
                        .map(|k| (ind.start + k as isize * ind.step) as usize)
                        .collect();
                    t = t.try_index_select(axis, &picks).map_err(err)?;
                }
                axis += 1;
                continue;
            }
            if let Ok(list) = item.extract::<Vec<isize>>() {
                let n = *t
                    .shape()
                    .get(axis as usize)
                    .ok_or_else(|| PyIndexError::new_err("too many indices for tensor"))?;
                let picks = list
                    .iter()
                    .map(|&i| index(i, n))
                    .collect::<PyResult<Vec<_>>>()?;
                t = t.try_index_select(axis, &picks).map_err(err)?;
                axis += 1;
                continue;
            }
            return Err(PyTypeError::new_err(
                "only integers, slices, None and integer lists are valid indices",
            ));
        }
        Ok(PyTensor::with_kind(t, self.kind))
    }

    // ----- reductions and products -----

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn sum(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let src = self.as_float();
        Ok(PyTensor::new(match axes(dim, self.t.ndim())? {
            None => src.sum(),
            Some(a) => src.try_sum_dim(&a, keepdim).map_err(err)?,
        }))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn mean(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        Ok(PyTensor::new(match axes(dim, self.t.ndim())? {
            None => self.t.mean(),
            Some(a) => self.t.try_mean_dim(&a, keepdim).map_err(err)?,
        }))
    }

    fn prod(&self) -> PyTensor {
        PyTensor::new(self.t.prod())
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn max(&self, dim: Option<isize>, keepdim: bool) -> PyResult<PyTensor> {
        Ok(PyTensor::with_kind(
            match dim {
                None => self.t.max_all(),
                Some(d) => self.t.try_amax(&[d], keepdim).map_err(err)?,
            },
            self.kind,
        ))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn min(&self, dim: Option<isize>, keepdim: bool) -> PyResult<PyTensor> {
        Ok(PyTensor::with_kind(
            match dim {
                None => self.t.min_all(),
                Some(d) => self.t.try_amin(&[d], keepdim).map_err(err)?,
            },
            self.kind,
        ))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmax(&self, dim: Option<isize>, keepdim: bool) -> PyResult<PyTensor> {
        let t = match dim {
            None => Tensor::scalar(
                self.t
                    .argmax()
                    .ok_or_else(|| PyRuntimeError::new_err("argmax of an empty tensor"))?
                    as f64,
            ),
            Some(d) => self.t.try_argmax_dim(d, keepdim).map_err(err)?.detach(),
        };
        Ok(PyTensor::with_kind(t, Kind::Long))
    }

    fn matmul(&self, other: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        Ok(PyTensor::new(self.t.try_matmul(&other.t).map_err(err)?))
    }

    fn dot(&self, other: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        Ok(PyTensor::new(self.t.try_dot(&other.t).map_err(err)?))
    }

    #[pyo3(signature = (dim=-1))]
    fn softmax(&self, dim: isize) -> PyResult<PyTensor> {
        Ok(PyTensor::new(self.t.try_softmax(dim).map_err(err)?))
    }

    #[pyo3(signature = (dim=-1))]
    fn log_softmax(&self, dim: isize) -> PyResult<PyTensor> {
        Ok(PyTensor::new(self.t.try_log_softmax(dim).map_err(err)?))
    }

    #[pyo3(signature = (dim, keepdim=false))]
    fn logsumexp(&self, dim: isize, keepdim: bool) -> PyResult<PyTensor> {
        Ok(PyTensor::new(
            self.t.try_logsumexp(dim, keepdim).map_err(err)?,
        ))
    }

    fn pow(&self, py: Python<'_>, e: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__pow__(py, e, None)
    }

    /// The values as a NumPy array (float32 or float64, as the tensor).
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.t.is_requires_grad() {
            return Err(PyRuntimeError::new_err(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
            ));
        }
        let shape = IxDyn(self.t.shape());
        Ok(match (self.kind, self.t.dtype()) {
            (Kind::Long, _) => ArrayD::from_shape_vec(
                shape,
                self.t.to_vec().into_iter().map(|v| v as i64).collect(),
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .into_pyarray(py)
            .into_any(),
            (Kind::Bool, _) => ArrayD::from_shape_vec(
                shape,
                self.t.to_vec().into_iter().map(|v| v != 0.0).collect(),
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .into_pyarray(py)
            .into_any(),
            (Kind::Float, DType::F32) => ArrayD::from_shape_vec(shape, self.t.to_vec_f32())
                .map_err(|e| PyValueError::new_err(e.to_string()))?
                .into_pyarray(py)
                .into_any(),
            (Kind::Float, DType::F64) => ArrayD::from_shape_vec(shape, self.t.to_vec())
                .map_err(|e| PyValueError::new_err(e.to_string()))?
                .into_pyarray(py)
                .into_any(),
        })
    }
}

impl PyTensor {
    fn as_float(&self) -> Tensor {
        self.t.clone()
    }

    fn check_float(&self, flag: bool) -> PyResult<()> {
        if flag && self.kind != Kind::Float {
            return Err(PyRuntimeError::new_err(
                "only Tensors of floating point dtype can require gradients",
            ));
        }
        Ok(())
    }

    fn check_inplace(&self) -> PyResult<()> {
        if self.t.is_leaf() && self.t.is_requires_grad() && autograd::is_grad_enabled() {
            return Err(PyRuntimeError::new_err(
                "a leaf Variable that requires grad is being used in an in-place operation.",
            ));
        }
        Ok(())
    }

    /// Replaces the values, keeping `requires_grad` and `.grad` of a leaf
    /// (and, on `x.grad`, writing the new values back as `x`'s gradient).
    fn assign(&mut self, v: Tensor) {
        let v = v.to_dtype(self.t.dtype());
        let new = if self.t.is_leaf() || !autograd::is_grad_enabled() {
            let leaf = v.detach();
            if self.t.is_leaf() && self.t.is_requires_grad() {
                leaf.requires_grad_(true).ok();
                leaf.set_grad(self.t.grad());
            }
            leaf
        } else {
            v
        };
        if let Some(owner) = &self.grad_of {
            owner.set_grad(Some(new.clone()));
        }
        self.t = new;
    }

    fn inplace(&mut self, op: BinaryOp, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_inplace()?;
        let r = arith(&self.t, op, o, false).ok_or_else(|| {
            PyTypeError::new_err("unsupported operand for an in-place operation")
        })??;
        if r.shape() != self.t.shape() {
            return Err(PyRuntimeError::new_err(format!(
                "output with shape {:?} doesn't match the broadcast shape {:?}",
                self.t.shape(),
                r.shape()
            )));
        }
        self.assign(r);
        Ok(())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTensor>()?;
    m.add_class::<GradFn>()?;
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(from_numpy, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(rand, m)?)?;
    m.add_function(wrap_pyfunction!(randn, m)?)?;
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(grad, m)?)?;
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    Ok(())
}
