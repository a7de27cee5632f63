//! Seed 004, exercises 4 to 7: gradients and Hessians of matrix functions.
//! The analytic answer is derived by `chainrule::matrix` from the function
//! written in matrix notation (no closed form is typed here): its formula,
//! its LaTeX and its value (the formula compiled and evaluated) stand
//! against autograd of the function written independently with tensor
//! operations (reverse over reverse with `create_graph` for the Hessians)
//! and central finite differences, on random matrices (SplitMix64, fixed
//! seeds).

use chainrule::autograd::{self, GradOptions};
use chainrule::matrix::{self, Problem, Values};
use chainrule::random::SplitMix64;
use chainrule::{Real, Tensor};

use super::{fmt_matrix, matrix_json, Check, Section};
use crate::json::Json;

type Mat = Vec<Vec<f64>>;

/// Tolerances: autograd against the analytic form is exact up to rounding;
/// finite differences are good to about 1e-9 relative.
const RTOL: f64 = 1e-12;
const FD_RTOL: f64 = 1e-7;

fn random_mat(rows: usize, cols: usize, g: &mut SplitMix64) -> Mat {
    (0..rows).map(|_| g.uniform_vec(cols, -1.0, 1.0)).collect()
}

fn tensor_of(m: &Mat) -> Tensor {
    let (r, c) = (m.len(), m.first().map_or(0, Vec::len));
    Tensor::from_vec(m.concat(), &[r, c]).expect("rectangular matrix")
}

/// Largest |a − b| over the largest |a| (the matrices' relative difference).
fn mat_rel_err(a: &Mat, b: &Mat) -> f64 {
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

fn mat_check(what: &str, a: &Mat, b: &Mat, rtol: f64) -> Check {
    let rel_err = mat_rel_err(a, b);
    Check {
        what: what.to_string(),
        ok: rel_err <= rtol && a.len() == b.len(),
        rel_err,
        printed: false,
    }
}

/// Value, gradient and Hessian of `f` at `x` by reverse mode: one backward
/// pass with `create_graph`, then one backward pass per gradient entry.
fn reverse_hessian(f: &dyn Fn(&Tensor) -> Tensor, x: &[f64]) -> (f64, Vec<f64>, Mat) {
    let n = x.len();
    let xt = Tensor::from_vec(x.to_vec(), &[n])
        .expect("vector")
        .requires_grad();
    let y = f(&xt);
    let g = autograd::grad(
        std::slice::from_ref(&y),
        std::slice::from_ref(&xt),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .expect("gradient of a scalar")
    .remove(0);
    let hess = (0..n)
        .map(|i| {
            let gi = g.get(&[i]);
            if !gi.is_requires_grad() {
                // This gradient entry does not depend on x: its row is zero.
                return vec![0.0; n];
            }
            autograd::grad(
                &[gi],
                std::slice::from_ref(&xt),
                None,
                GradOptions::RETAIN_GRAPH,
            )
            .expect("second backward pass")
            .remove(0)
            .to_vec()
        })
        .collect();
    (y.item(), g.to_vec(), hess)
}

/// The gradient of `f` at `x` by finite differences (f evaluated on tensors
/// without recording).
fn fd_gradient(f: &dyn Fn(&Tensor) -> Tensor, x: &[f64], shape: &[usize]) -> Vec<f64> {
    let _guard = autograd::no_grad();
    crate::fd::gradient(
        |p| f(&Tensor::from_vec(p.to_vec(), shape).expect("shape")).item(),
        x,
    )
}

fn reshape(v: &[f64], cols: usize) -> Mat {
    v.chunks(cols).map(<[f64]>::to_vec).collect()
}

/// The analytic side of an exercise, derived by `chainrule::matrix`.
struct Derived {
    problem: Problem,
    values: Values,
}

/// One derived formula: its text (the input grammar), LaTeX and value.
struct Formula {
    text: String,
    latex: String,
    value: Vec<f64>,
}

impl Derived {
    /// Parses `src` (the function in matrix notation) and binds `values`.
    fn new(src: &str, decls: &str, values: &[(&str, Tensor)]) -> Derived {
        let problem = matrix::parse(src, decls).expect("the tour's expressions parse");
        let given: Vec<(String, Tensor)> = values
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect();
        let values = Values::bind(&problem.names, &given).expect("the tour's values fit");
        Derived { problem, values }
    }

    /// The derivative (or Hessian) by `wrt`: derived once, compiled, evaluated.
    fn formula(&self, wrt: &str, hessian: bool) -> Formula {
        let p = &self.problem;
        let e = if hessian {
            p.hessian(wrt)
        } else {
            p.derivative(wrt)
        }
        .expect("the tour's derivatives have a matrix form");
        let value = matrix::compile(&e)
            .eval(&self.values)
            .expect("the values are bound");
        Formula {
            text: e.to_string(),
            latex: matrix::latex(&e),
            value: value.to_vec(),
        }
    }
}

/// The report's lines for a derived formula: `label = text`, its LaTeX.
fn formula_lines(label: &str, f: &Formula) -> String {
    format!("   {label}, derived: {}\n     LaTeX: {}\n", f.text, f.latex)
}

fn vector(v: &[f64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()]).expect("vector")
}

/// Exercise 4: the Hessian of ½xᵀAx + bᵀx + c is ½(A + Aᵀ).
fn quadratic() -> Section {
    let n = 4;
    let mut g = SplitMix64::new(4);
    let a = random_mat(n, n, &mut g);
    let b = g.uniform_vec(n, -1.0, 1.0);
    let c = g.uniform(-1.0, 1.0);
    let x = g.uniform_vec(n, -1.0, 1.0);
    let (at, bt) = (tensor_of(&a), vector(&b));
    let (at2, bt2) = (at.clone(), bt.clone());
    let f = move |x: &Tensor| x.dot(&at2.matmul(x)) * 0.5 + bt2.dot(x) + c;
    let src = "1/2*x'*A*x + b'*x + c";
    let vals = [
        ("A", at),
        ("b", bt),
        ("c", Tensor::scalar(c)),
        ("x", vector(&x)),
    ];
    let d = Derived::new(src, "c: scalar", &vals);
    let r = VectorResults::compute(&f, &x, &d);
    // With A declared symmetric the module uses A' = A.
    let sym = matrix::parse(src, "A: n x n symmetric, c: scalar")
        .and_then(|p| p.hessian("x"))
        .map_or_else(|e| e.to_string(), |h| h.to_string());
    let mut text = String::new();
    text.push_str(
        "   f(x) = ½xᵀAx + bᵀx + c, A 4×4, b, x in R⁴, c scalar (uniform in [-1, 1), seed 4)\n",
    );
    text.push_str(&format!(
        "   chainrule matrix \"{src}\" --wrt x --let \"c: scalar\" --hessian:\n"
    ));
    text.push_str(&formula_lines("gradient", &r.dg));
    text.push_str(&formula_lines("Hessian", &r.dh));
    text.push_str(&format!(
        "   (with --let \"A: n x n symmetric\" the Hessian is {sym})\n"
    ));
    text.push_str("   Hessian, derived (the formula compiled, then evaluated):\n");
    text.push_str(&fmt_matrix(&r.analytic_h, 5));
    text.push_str("   Hessian, autograd (reverse over reverse):\n");
    text.push_str(&fmt_matrix(&r.hess, 5));
    let checks = vec![
        mat_check(
            "Hessian: autograd vs derived ½(A + Aᵀ)",
            &r.hess,
            &r.analytic_h,
            RTOL,
        ),
        mat_check(
            "gradient: autograd vs derived ½(A + Aᵀ)x + b",
            &vec![r.grad.clone()],
            &vec![r.dg.value.clone()],
            RTOL,
        ),
        mat_check(
            "gradient: autograd vs finite differences",
            &vec![r.grad.clone()],
            &vec![r.fd_g.clone()],
            FD_RTOL,
        ),
        Check {
            what: "symmetric A: the derived Hessian is A".into(),
            ok: sym == "A",
            rel_err: 0.0,
            printed: false,
        },
    ];
    Section {
        seed: "004",
        id: "Exercise 4".into(),
        title: "Hessian of ½xᵀAx + bᵀx + c, derived: ½(A + Aᵀ)".into(),
        text,
        checks,
        json: Json::object()
            .with("gradient_formula", r.dg.text.as_str())
            .with("hessian_formula", r.dh.text.as_str())
            .with("hessian_latex", r.dh.latex.as_str())
            .with("hessian_analytic", matrix_json(&r.analytic_h))
            .with("hessian_autograd", matrix_json(&r.hess))
            .with("gradient_autograd", r.grad.clone())
            .with("gradient_finite_difference", r.fd_g.clone()),
    }
}

/// Exercise 5: ∇_X tr(AXB) = AᵀBᵀ.
fn trace() -> Section {
    let (p, n, m) = (2, 3, 4);
    let mut g = SplitMix64::new(5);
    let a = random_mat(p, n, &mut g);
    let b = random_mat(m, p, &mut g);
    let x = random_mat(n, m, &mut g);
    let (at, bt) = (tensor_of(&a), tensor_of(&b));
    let (at2, bt2) = (at.clone(), bt.clone());
    let eye = Tensor::eye(p);
    let f = move |x: &Tensor| (at2.matmul(x).matmul(&bt2) * &eye).sum();
    let xt = tensor_of(&x).requires_grad();
    let y = f(&xt);
    let grad = autograd::grad(
        &[y],
        std::slice::from_ref(&xt),
        None,
        GradOptions::default(),
    )
    .expect("gradient of a scalar")
    .remove(0)
    .to_vec();
    let grad = reshape(&grad, m);
    let src = "tr(A*X*B)";
    let d = Derived::new(src, "", &[("A", at), ("X", tensor_of(&x)), ("B", bt)]);
    let dg = d.formula("X", false);
    let analytic = reshape(&dg.value, m);
    let fd = reshape(&fd_gradient(&f, &x.concat(), &[n, m]), m);
    let mut text = String::new();
    text.push_str(
        "   f(X) = tr(AXB), A 2×3, X 3×4, B 4×2 (uniform in [-1, 1), SplitMix64 seed 5)\n",
    );
    text.push_str(&format!("   chainrule matrix \"{src}\" --wrt X:\n"));
    text.push_str(&formula_lines("gradient", &dg));
    text.push_str("   gradient, derived AᵀBᵀ (the formula compiled, then evaluated):\n");
    text.push_str(&fmt_matrix(&analytic, 5));
    text.push_str("   gradient, autograd:\n");
    text.push_str(&fmt_matrix(&grad, 5));
    let checks = vec![
        mat_check("gradient: autograd vs derived AᵀBᵀ", &grad, &analytic, RTOL),
        mat_check(
            "gradient: autograd vs finite differences",
            &grad,
            &fd,
            FD_RTOL,
        ),
    ];
    Section {
        seed: "004",
        id: "Exercise 5".into(),
        title: "gradient of tr(AXB), derived: AᵀBᵀ".into(),
        text,
        checks,
        json: Json::object()
            .with("gradient_formula", dg.text.as_str())
            .with("gradient_latex", dg.latex.as_str())
            .with("gradient_analytic", matrix_json(&analytic))
            .with("gradient_autograd", matrix_json(&grad)),
    }
}

/// Exercise 6: ½‖Ax − b‖²: gradient Aᵀ(Ax − b), Hessian AᵀA.
fn least_squares() -> Section {
    let (m, n) = (5, 3);
    let mut g = SplitMix64::new(6);
    let a = random_mat(m, n, &mut g);
    let b = g.uniform_vec(m, -1.0, 1.0);
    let x = g.uniform_vec(n, -1.0, 1.0);
    let (at, bt) = (tensor_of(&a), vector(&b));
    let (at2, bt2) = (at.clone(), bt.clone());
    let f = move |x: &Tensor| {
        let r = at2.matmul(x) - &bt2;
        r.dot(&r) * 0.5
    };
    let src = "1/2*norm2(A*x - b)^2";
    let d = Derived::new(src, "", &[("A", at), ("x", vector(&x)), ("b", bt)]);
    let r = VectorResults::compute(&f, &x, &d);
    let mut text = String::new();
    text.push_str(
        "   f(x) = ½‖Ax − b‖², A 5×3, b in R⁵, x in R³ (uniform in [-1, 1), SplitMix64 seed 6)\n",
    );
    text.push_str(&format!(
        "   chainrule matrix \"{src}\" --wrt x --hessian:\n"
    ));
    r.push_report(&mut text, "", "AᵀA (the formula compiled, then evaluated)");
    Section {
        seed: "004",
        id: "Exercise 6".into(),
        title: "gradient and Hessian of ½‖Ax − b‖², derived: Aᵀ(Ax − b) and AᵀA".into(),
        text,
        checks: r.checks("Aᵀ(Ax − b)", "AᵀA", RTOL),
        json: r.json(),
    }
}

/// Exercise 7: ln(1 + exp⟨a, x⟩): gradient σ·a, Hessian σ(1 − σ)aaᵀ.
fn logistic() -> Section {
    let n = 4;
    let mut g = SplitMix64::new(7);
    let a = g.uniform_vec(n, -1.0, 1.0);
    let x = g.uniform_vec(n, -1.0, 1.0);
    let at = vector(&a);
    let at2 = at.clone();
    // Written as the seed writes it, not as the stable softplus.
    let f = move |x: &Tensor| (at2.dot(x).exp() + 1.0).ln();
    let src = "log(1 + exp(a'*x))";
    let d = Derived::new(src, "", &[("a", at), ("x", vector(&x))]);
    let r = VectorResults::compute(&f, &x, &d);
    let mut text = String::new();
    text.push_str(
        "   f(x) = ln(1 + exp⟨a, x⟩), a, x in R⁴ (uniform in [-1, 1), SplitMix64 seed 7)\n",
    );
    text.push_str(&format!(
        "   chainrule matrix \"{src}\" --wrt x --hessian:\n"
    ));
    r.push_report(
        &mut text,
        "   (σ(−t) = 1 − σ(t): the Hessian is σ(1 − σ)aaᵀ)\n",
        "σ(1 − σ)aaᵀ",
    );
    Section {
        seed: "004",
        id: "Exercise 7".into(),
        title: "gradient and Hessian of ln(1 + exp⟨a, x⟩), derived: σ·a and σ(1 − σ)aaᵀ".into(),
        text,
        checks: r.checks("σ·a", "σ(1 − σ)aaᵀ", 1e-11),
        json: r.json(),
    }
}

/// The gradient and Hessian of a function of a vector, derived and by
/// autograd, with the gradient by finite differences: what exercises 6 and
/// 7 report alike.
struct VectorResults {
    dg: Formula,
    dh: Formula,
    grad: Vec<f64>,
    hess: Mat,
    analytic_h: Mat,
    fd_g: Vec<f64>,
}

impl VectorResults {
    /// Derives the gradient and Hessian by `x` from `d`, evaluates them, and
    /// computes both of `f` at `x` by autograd and the gradient by finite
    /// differences.
    fn compute(f: &dyn Fn(&Tensor) -> Tensor, x: &[f64], d: &Derived) -> VectorResults {
        let (_, grad, hess) = reverse_hessian(f, x);
        let (dg, dh) = (d.formula("x", false), d.formula("x", true));
        let analytic_h = reshape(&dh.value, x.len());
        let fd_g = fd_gradient(f, x, &[x.len()]);
        VectorResults {
            dg,
            dh,
            grad,
            hess,
            analytic_h,
            fd_g,
        }
    }

    /// The formulas' lines, `note` (a line or ""), the two gradients, then
    /// the derived Hessian (titled `derived_h`) over autograd's.
    fn push_report(&self, text: &mut String, note: &str, derived_h: &str) {
        text.push_str(&formula_lines("gradient", &self.dg));
        text.push_str(&formula_lines("Hessian", &self.dh));
        text.push_str(note);
        text.push_str(&format!(
            "   gradient, derived: {}\n   gradient, autograd: {}\n",
            row_text(&self.dg.value),
            row_text(&self.grad)
        ));
        text.push_str(&format!("   Hessian, derived {derived_h}:\n"));
        text.push_str(&fmt_matrix(&self.analytic_h, 5));
        text.push_str("   Hessian, autograd (reverse over reverse):\n");
        text.push_str(&fmt_matrix(&self.hess, 5));
    }

    /// Autograd against the derived gradient (`grad_name`) and Hessian
    /// (`hess_name`, to `hess_rtol`), and against finite differences.
    fn checks(&self, grad_name: &str, hess_name: &str, hess_rtol: f64) -> Vec<Check> {
        vec![
            mat_check(
                &format!("gradient: autograd vs derived {grad_name}"),
                &vec![self.grad.clone()],
                &vec![self.dg.value.clone()],
                RTOL,
            ),
            mat_check(
                &format!("Hessian: autograd vs derived {hess_name}"),
                &self.hess,
                &self.analytic_h,
                hess_rtol,
            ),
            mat_check(
                "gradient: autograd vs finite differences",
                &vec![self.grad.clone()],
                &vec![self.fd_g.clone()],
                FD_RTOL,
            ),
        ]
    }

    /// The section's JSON: the formulas, both gradients and both Hessians.
    fn json(&self) -> Json {
        Json::object()
            .with("gradient_formula", self.dg.text.as_str())
            .with("hessian_formula", self.dh.text.as_str())
            .with("gradient_analytic", self.dg.value.clone())
            .with("gradient_autograd", self.grad.clone())
            .with("hessian_analytic", matrix_json(&self.analytic_h))
            .with("hessian_autograd", matrix_json(&self.hess))
    }
}

fn row_text(v: &[f64]) -> String {
    let cells: Vec<String> = v.iter().map(|&x| crate::wengert::short(x)).collect();
    format!("[{}]", cells.join(", "))
}

/// Exercises 4 to 7 of seed 004.
pub fn sections() -> Vec<Section> {
    vec![quadratic(), trace(), least_squares(), logistic()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_matrix_exercise_agrees() {
        for s in sections() {
            for c in &s.checks {
                assert!(c.ok, "{}: {} ({})", s.id, c.what, c.rel_err);
            }
        }
    }

    #[test]
    fn reverse_hessian_of_a_known_function() {
        // f = x0² x1 + x1³: H = [[2x1, 2x0], [2x0, 6x1]].
        let f = |x: &Tensor| x.get(&[0]).square() * x.get(&[1]) + x.get(&[1]).powi(3);
        let (v, g, h) = reverse_hessian(&f, &[2.0, 3.0]);
        assert_eq!(v, 12.0 + 27.0);
        assert_eq!(g, vec![12.0, 4.0 + 27.0]);
        assert_eq!(h, vec![vec![6.0, 4.0], vec![4.0, 18.0]]);
    }
}
