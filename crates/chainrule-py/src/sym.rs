//! `chainrule._native.Expr`: symbolic formulas with SymPy's Python surface.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use chainrule::symbolic::{self, Expr, Formula, Node, Program};
use chainrule::Real;
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyTuple};

use crate::errors::err;
use crate::taylor::{plan_of, symbol_name};
use chainrule::functional::SeriesPlan;

/// A formula (`sympy.Expr`; a variable is a `Symbol`).
#[pyclass(unsendable, name = "Expr", module = "chainrule._native")]
#[derive(Clone)]
pub(crate) struct PyExpr {
    /// Owned, so that the formula survives collections of the arena.
    f: Formula,
    /// Its Taylor-mode plan in the variable named, traced by the first
    /// `taylor_derivatives` call (a plan holds no formula, so collections
    /// leave it valid).
    plan: RefCell<Option<(String, Rc<RefCell<SeriesPlan>>)>>,
}

impl PyExpr {
    /// Wraps a formula (kept alive across collections).
    pub(crate) fn of(e: Expr) -> PyExpr {
        PyExpr {
            f: Formula::new(e),
            plan: RefCell::new(None),
        }
    }

    /// The formula, valid until the next collection.
    pub(crate) fn e(&self) -> Expr {
        self.f.expr()
    }
}

/// Frees the formulas no Python object holds any more, once the arena has
/// doubled (issue 16: a Python session gets its memory back). Called first
/// thing in the methods that build formulas, where every formula in use is
/// held by a Python object (so by a `Formula`), none by a plain `Expr`.
fn collect() {
    symbolic::collect_if_grown();
}

/// A number or a formula as a formula (`None` for anything else).
fn to_expr(obj: &Bound<'_, PyAny>) -> Option<Expr> {
    if let Ok(e) = obj.cast::<PyExpr>() {
        return Some(e.borrow().e());
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().ok().map(Expr::integer);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Some(Expr::constant(f.value()));
    }
    if obj.hasattr("__float__").unwrap_or(false) && !obj.hasattr("__len__").unwrap_or(true) {
        return obj.extract::<f64>().ok().map(Expr::constant);
    }
    None
}

fn expr_arg(obj: &Bound<'_, PyAny>) -> PyResult<Expr> {
    to_expr(obj).ok_or_else(|| PyTypeError::new_err("expected a formula or a number"))
}

fn ret(py: Python<'_>, e: Option<Expr>) -> PyResult<Py<PyAny>> {
    match e {
        Some(e) => Ok(Bound::new(py, PyExpr::of(e))?.into_any().unbind()),
        None => Ok(py.NotImplemented()),
    }
}

/// The variable's name, or a `TypeError`.
fn var_name(e: Expr) -> PyResult<String> {
    match e.node() {
        Node::Sym(name) => Ok(name.to_string()),
        _ => Err(PyTypeError::new_err(format!("{e} is not a symbol"))),
    }
}

/// SymPy's spelling of chainrule's text (`**` for `^`).
fn sympy_text(e: Expr) -> String {
    e.to_string().replace('^', "**")
}

#[pymethods]
impl PyExpr {
    /// `exp` elementwise.
    fn _exp(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::exp(&self.e()))
    }
    /// `log` elementwise.
    fn _log(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::ln(&self.e()))
    }
    /// `sqrt` elementwise.
    fn _sqrt(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::sqrt(&self.e()))
    }
    /// `sin` elementwise.
    fn _sin(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::sin(&self.e()))
    }
    /// `cos` elementwise.
    fn _cos(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::cos(&self.e()))
    }
    /// `tan` elementwise.
    fn _tan(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::tan(&self.e()))
    }
    /// `asin` elementwise.
    fn _asin(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::asin(&self.e()))
    }
    /// `acos` elementwise.
    fn _acos(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::acos(&self.e()))
    }
    /// `atan` elementwise.
    fn _atan(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::atan(&self.e()))
    }
    /// `sinh` elementwise.
    fn _sinh(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::sinh(&self.e()))
    }
    /// `cosh` elementwise.
    fn _cosh(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::cosh(&self.e()))
    }
    /// `tanh` elementwise.
    fn _tanh(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::tanh(&self.e()))
    }
    /// `asinh` elementwise.
    fn _asinh(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::asinh(&self.e()))
    }
    /// `acosh` elementwise.
    fn _acosh(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::acosh(&self.e()))
    }
    /// `atanh` elementwise.
    fn _atanh(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::atanh(&self.e()))
    }
    /// `erf` elementwise.
    fn _erf(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::erf(&self.e()))
    }
    /// `abs` elementwise.
    fn _abs(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::abs(&self.e()))
    }
    /// `sigmoid` elementwise.
    fn _sigmoid(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::sigmoid(&self.e()))
    }
    /// `relu` elementwise.
    fn _relu(&self) -> PyExpr {
        collect();
        PyExpr::of(Real::relu(&self.e()))
    }
    fn __repr__(&self) -> String {
        collect();
        sympy_text(self.e())
    }
    fn __str__(&self) -> String {
        collect();
        sympy_text(self.e())
    }
    /// LaTeX (`sympy.latex`).
    fn latex(&self) -> String {
        collect();
        self.e().to_latex()
    }
    fn _repr_latex_(&self) -> String {
        collect();
        format!("$\\displaystyle {}$", self.e().to_latex())
    }
    fn __hash__(&self) -> u64 {
        collect();
        // The text, not the node id: ids move when the arena is collected.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.e().to_string().hash(&mut h);
        h.finish()
    }
    fn __richcmp__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Some(b) = to_expr(o) else {
            return Ok(py.NotImplemented());
        };
        let r = match op {
            CompareOp::Eq => self.e() == b,
            CompareOp::Ne => self.e() != b,
            _ => {
                return Err(PyTypeError::new_err(
                    "formulas are compared with == and != only",
                ))
            }
        };
        Ok(pyo3::types::PyBool::new(py, r)
            .to_owned()
            .into_any()
            .unbind())
    }
    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        ret(py, to_expr(o).map(|b| self.e() + b))
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        ret(py, to_expr(o).map(|b| b + self.e()))
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        ret(py, to_expr(o).map(|b| self.e() - b))
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        ret(py, to_expr(o).map(|b| b - self.e()))
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        ret(py, to_expr(o).map(|b| self.e() * b))
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        ret(py, to_expr(o).map(|b| b * self.e()))
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        // An integer over an integer stays an exact rational, as in SymPy.
        ret(
            py,
            to_expr(o).map(|b| self.e() * b.pow_expr(&Expr::integer(-1))),
        )
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        collect();
        ret(
            py,
            to_expr(o).map(|b| b * self.e().pow_expr(&Expr::integer(-1))),
        )
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        ret(py, to_expr(o).map(|b| self.e().pow_expr(&b)))
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        ret(py, to_expr(o).map(|b| b.pow_expr(&self.e())))
    }
    fn __neg__(&self) -> PyExpr {
        collect();
        PyExpr::of(-self.e())
    }
    fn __pos__(&self) -> PyExpr {
        collect();
        self.clone()
    }
    fn __float__(&self) -> PyResult<f64> {
        collect();
        self.e()
            .eval(&HashMap::new())
            .map_err(|_| PyTypeError::new_err("Cannot convert expression to float"))
    }

    /// The derivative with respect to the symbol `var`, `n` times.
    #[pyo3(signature = (var, n=1))]
    fn _diff(&self, var: PyRef<'_, PyExpr>, n: usize) -> PyResult<PyExpr> {
        collect();
        let name = var_name(var.e())?;
        Ok(PyExpr::of(self.e().diff_n(&name, n)))
    }

    /// The formula with the symbol `var` replaced by `value`.
    fn _subs(&self, var: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<PyExpr> {
        collect();
        let name = var_name(expr_arg(var)?)?;
        Ok(PyExpr::of(self.e().subs(&name, &expr_arg(value)?)))
    }

    /// The value at a point given as `{symbol: number}`; unbound symbols are a `ValueError`.
    fn _eval(&self, point: Vec<(PyRef<'_, PyExpr>, f64)>) -> PyResult<f64> {
        collect();
        let mut env = HashMap::new();
        for (s, v) in point {
            env.insert(var_name(s.e())?, v);
        }
        self.e().eval(&env).map_err(err)
    }

    /// The derivative: `diff(x)`, `diff(x, 2)`, `diff(x, y)`; no argument
    /// for a formula of one symbol.
    #[pyo3(signature = (*args))]
    fn diff(&self, args: &Bound<'_, PyTuple>) -> PyResult<PyExpr> {
        collect();
        let mut e = self.e();
        if args.is_empty() {
            let vars = e.variables();
            if vars.len() != 1 {
                return Err(PyValueError::new_err(
                    "Since there is more than one variable in the expression, the variable(s) of differentiation must be supplied",
                ));
            }
            return Ok(PyExpr::of(e.diff(&vars[0])));
        }
        let mut last: Option<String> = None;
        for a in args.iter() {
            if a.is_instance_of::<PyInt>() {
                let n: usize = a.extract()?;
                let v = last.as_ref().ok_or_else(|| {
                    PyValueError::new_err("a derivative order must follow a symbol")
                })?;
                if n == 0 {
                    return Err(PyValueError::new_err("a derivative order must be positive"));
                }
                e = e.diff_n(v, n - 1);
            } else {
                let name = var_name(expr_arg(&a)?)?;
                e = e.diff(&name);
                last = Some(name);
            }
        }
        Ok(PyExpr::of(e))
    }

    /// The formula with symbols replaced: `subs(x, 2)`, `subs({x: 2, y: 3})`
    /// or `subs([(x, 2), (y, 3)])`.
    #[pyo3(signature = (*args))]
    fn subs(&self, args: &Bound<'_, PyTuple>) -> PyResult<PyExpr> {
        collect();
        let pairs = subs_pairs(args)?;
        let mut e = self.e();
        for (name, v) in pairs {
            e = e.subs(&name, &v);
        }
        Ok(PyExpr::of(e))
    }

    /// The value as a SymPy-style `Float` (15 significant digits printed),
    /// after the substitutions `subs={x: 2}`; a formula with free symbols
    /// left is returned with the numbers substituted.
    #[pyo3(signature = (n=15, subs=None))]
    fn evalf(
        &self,
        py: Python<'_>,
        n: usize,
        subs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = n;
        let mut e = self.e();
        if let Some(s) = subs {
            let args = PyTuple::new(py, [s])?;
            for (name, v) in subs_pairs(&args)? {
                e = e.subs(&name, &v);
            }
        }
        if !e.variables().is_empty() {
            return Ok(Bound::new(py, PyExpr::of(e))?.into_any().unbind());
        }
        let v = e.eval(&HashMap::new()).map_err(err)?;
        Ok(py
            .import("chainrule.sympy")?
            .getattr("Float")?
            .call1((v,))?
            .unbind())
    }

    /// `evalf()`.
    #[pyo3(signature = (n=15, subs=None))]
    fn n(&self, py: Python<'_>, n: usize, subs: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        collect();
        self.evalf(py, n, subs)
    }

    /// The free symbols (a set).
    #[getter]
    fn free_symbols(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        collect();
        let set = pyo3::types::PySet::empty(py)?;
        for v in self.e().variables() {
            set.add(Bound::new(py, PyExpr::of(Expr::var(&v)))?)?;
        }
        Ok(set.into_any().unbind())
    }

    /// The canonical form is already simplified: `self`.
    fn simplify(&self) -> PyExpr {
        collect();
        self.clone()
    }

    /// `self` (sums and products are kept expanded by the canonical form where it applies).
    fn expand(&self) -> PyExpr {
        collect();
        self.clone()
    }

    /// The names of the free symbols, sorted.
    fn _variables(&self) -> Vec<String> {
        collect();
        self.e().variables()
    }

    /// Whether this is a number (no symbols).
    #[getter]
    fn is_number(&self) -> bool {
        collect();
        self.e().variables().is_empty()
    }

    /// Whether this is a symbol.
    #[getter(is_Symbol)]
    fn is_symbol(&self) -> bool {
        collect();
        matches!(self.e().node(), Node::Sym(_))
    }

    /// The symbol's name.
    #[getter]
    fn name(&self) -> PyResult<String> {
        collect();
        var_name(self.e())
    }

    /// The number of operations (SymPy's `count_ops`).
    fn count_ops(&self) -> usize {
        collect();
        self.e().op_count()
    }
}

/// The `(name, value)` pairs of `subs`' arguments.
fn subs_pairs(args: &Bound<'_, PyTuple>) -> PyResult<Vec<(String, Expr)>> {
    let mut out = Vec::new();
    if args.len() == 2 {
        out.push((
            var_name(expr_arg(&args.get_item(0)?)?)?,
            expr_arg(&args.get_item(1)?)?,
        ));
        return Ok(out);
    }
    if args.len() != 1 {
        return Err(PyTypeError::new_err(
            "subs takes (old, new), a dict or a list of pairs",
        ));
    }
    let a = args.get_item(0)?;
    let items: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = if let Ok(d) = a.cast::<PyDict>() {
        d.iter().collect()
    } else {
        a.try_iter()?
            .map(|p| p?.extract())
            .collect::<PyResult<_>>()?
    };
    for (k, v) in items {
        out.push((var_name(expr_arg(&k)?)?, expr_arg(&v)?));
    }
    Ok(out)
}

/// `sympy.Symbol(name)`.
#[pyfunction]
fn symbol(name: &str) -> PyResult<PyExpr> {
    collect();
    if !symbolic::is_name(name) {
        return Err(PyValueError::new_err(format!(
            "{name:?} is not a valid symbol name"
        )));
    }
    Ok(PyExpr::of(Expr::var(name)))
}

/// `sympy.sympify(text)`: the formula in chainrule's grammar (`**` accepted).
#[pyfunction]
fn parse(text: &str) -> PyResult<PyExpr> {
    collect();
    Ok(PyExpr::of(
        symbolic::parse(&text.replace("**", "^")).map_err(err)?,
    ))
}

/// An exact rational p/q.
#[pyfunction]
fn rational(p: i64, q: i64) -> PyExpr {
    collect();
    PyExpr::of(Expr::rational(p, q))
}

/// A float constant (an integral value becomes an integer).
#[pyfunction]
fn number(x: f64) -> PyExpr {
    collect();
    PyExpr::of(Expr::constant(x))
}

/// π (`pi`) or e (`E`).
#[pyfunction]
fn constant(name: &str) -> PyResult<PyExpr> {
    collect();
    match name {
        "pi" => Ok(PyExpr::of(Expr::named_constant(symbolic::Constant::Pi))),
        "E" => Ok(PyExpr::of(Expr::named_constant(symbolic::Constant::E))),
        _ => Err(PyValueError::new_err(format!("no constant {name}"))),
    }
}

/// A compiled formula list (`sympy.lambdify`): called with one number per symbol.
#[pyclass(unsendable, name = "Program", module = "chainrule._native")]
struct PyProgram {
    program: Program,
    out: Vec<f64>,
}

#[pymethods]
impl PyProgram {
    /// The values of the formulas at `inputs` (one number per symbol).
    fn eval(&mut self, inputs: Vec<f64>) -> PyResult<Vec<f64>> {
        if inputs.len() != self.program.n_inputs() {
            return Err(PyTypeError::new_err(format!(
                "expected {} arguments, got {}",
                self.program.n_inputs(),
                inputs.len()
            )));
        }
        self.program.try_eval(&inputs, &mut self.out).map_err(err)?;
        Ok(self.out.clone())
    }
}

/// Compiles `exprs` over the symbols `vars` into one program.
#[pyfunction]
fn compile(exprs: Vec<PyRef<'_, PyExpr>>, vars: Vec<PyRef<'_, PyExpr>>) -> PyResult<PyProgram> {
    collect();
    let names = vars
        .iter()
        .map(|v| var_name(v.e()))
        .collect::<PyResult<Vec<_>>>()?;
    let es: Vec<Expr> = exprs.iter().map(|e| e.e()).collect();
    let program = symbolic::compile(&es, &names).map_err(err)?;
    let n = program.n_outputs();
    Ok(PyProgram {
        program,
        out: vec![0.0; n],
    })
}

/// The derivatives 0..=k of a formula of one symbol at `x`, by Taylor
/// mode: the formula is traced once into a plan (kept with it), and each
/// call replays the plan on series in its own buffers, with no walk of the
/// formula.
#[pyfunction]
fn taylor_derivatives<'py>(
    py: Python<'py>,
    e: PyRef<'_, PyExpr>,
    var: PyRef<'_, PyExpr>,
    x: f64,
    k: usize,
) -> PyResult<Bound<'py, PyList>> {
    let name = symbol_name(&var)?;
    let cached = match &*e.plan.borrow() {
        Some((n, p)) if *n == name => Some(p.clone()),
        _ => None,
    };
    let plan = match cached {
        Some(p) => p,
        None => {
            let p = Rc::new(RefCell::new(plan_of(e.e(), &name).map_err(err)?));
            *e.plan.borrow_mut() = Some((name, p.clone()));
            p
        }
    };
    let mut plan = plan.borrow_mut();
    PyList::new(py, plan.derivatives(x, k))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyExpr>()?;
    m.add_class::<PyProgram>()?;
    m.add_function(wrap_pyfunction!(symbol, m)?)?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(rational, m)?)?;
    m.add_function(wrap_pyfunction!(number, m)?)?;
    m.add_function(wrap_pyfunction!(constant, m)?)?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(taylor_derivatives, m)?)?;
    Ok(())
}
