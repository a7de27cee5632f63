//! `chainrule._native.Wengert`: an expression's computational graph at a
//! point (the library's [`chainrule::graph::Wengert`]), drawn as SVG and
//! explained as text or HTML; `chainrule.graph` and `chainrule.explain`
//! wrap it for Jupyter.

use chainrule::graph::{num_text, Wengert};
use pyo3::prelude::*;

use crate::errors::err;

/// The Wengert list of an expression at a point.
#[pyclass(unsendable, name = "Wengert", module = "chainrule._native")]
pub(crate) struct PyWengert {
    w: Wengert,
    expr: String,
    point: String,
}

/// Parses `expr` (chainrule's grammar, which also takes SymPy's `**`) and
/// builds its list at `at`, a value for every variable (`ValueError` for a
/// parse error or a variable without a value; other names are ignored).
#[pyfunction]
fn wengert(expr: &str, at: Vec<(String, f64)>) -> PyResult<PyWengert> {
    let point: Vec<(&str, f64)> = at.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let w = Wengert::parse(expr, &point).map_err(err)?;
    // The point as the title shows it: the expression's variables, alphabetical.
    let shown: Vec<String> = w
        .inputs()
        .into_iter()
        .map(|i| format!("{} = {}", w.nodes[i].name, num_text(w.nodes[i].value)))
        .collect();
    Ok(PyWengert {
        w,
        expr: expr.to_string(),
        point: shown.join(", "),
    })
}

#[pymethods]
impl PyWengert {
    /// The graph as an SVG document (what `chainrule graph -o f.svg` writes).
    fn svg(&self) -> String {
        self.w.to_svg(&self.expr, &self.point)
    }
    /// The graph as Graphviz DOT text.
    fn dot(&self) -> String {
        self.w.to_dot(&self.expr, &self.point)
    }
    /// The forward and reverse sweeps as text (what `chainrule explain` prints).
    fn text(&self) -> String {
        self.w.explain_text(&self.expr, &self.point)
    }
    /// The forward and reverse sweeps as HTML tables.
    fn html(&self) -> String {
        self.w.explain_html(&self.expr, &self.point)
    }
    /// The expression as given.
    #[getter]
    fn expr(&self) -> String {
        self.expr.clone()
    }
    /// The point as text (`x = 1, y = 2`).
    #[getter]
    fn point(&self) -> String {
        self.point.clone()
    }
    /// The output's name (`f`).
    #[getter]
    fn output(&self) -> String {
        self.w.output_name().to_string()
    }
    /// The output's value.
    #[getter]
    fn value(&self) -> f64 {
        self.w.value()
    }
    /// The gradient: (input name, ∂output/∂input), alphabetical.
    #[getter]
    fn gradient(&self) -> Vec<(String, f64)> {
        self.w.gradient()
    }
    /// Every node: (name, kind, formula, value, adjoint), in evaluation order.
    #[getter]
    fn nodes(&self) -> Vec<(String, String, String, f64, f64)> {
        self.w
            .nodes
            .iter()
            .map(|n| {
                let kind = match n.kind {
                    chainrule::graph::Kind::Input => "input",
                    chainrule::graph::Kind::Const => "const",
                    chainrule::graph::Kind::Op => "op",
                };
                (
                    n.name.clone(),
                    kind.to_string(),
                    n.formula.clone(),
                    n.value,
                    n.adjoint,
                )
            })
            .collect()
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWengert>()?;
    m.add_function(wrap_pyfunction!(wengert, m)?)?;
    Ok(())
}
