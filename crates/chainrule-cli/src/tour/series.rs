//! Seed 004, exercises 1 and 3: the derivative of cos(x)'s Taylor series,
//! and the 4th derivative of tanh.

use chainrule::symbolic::Expr;
use chainrule::{autograd, forward, Real, Tensor};

use super::{Check, Section};
use crate::error::CliResult;
use crate::json::{num_text, Json};
use crate::table::{Align, Table};

/// Terms of the cosine series (the seed leaves the count to the student).
const COS_TERMS: usize = 20;

/// cos(x) as its Taylor series Σ (−1)ⁿ x²ⁿ/(2n)!, written once for any
/// engine, the way the seed's `taylor_cosine` is written with numpy.
pub fn taylor_cosine<T: Real>(x: &T) -> T {
    let x2 = x.square();
    let mut term = T::from_f64(1.0);
    let mut sum = term.clone();
    for n in 1..COS_TERMS {
        let k = (2 * n) as f64;
        term = -(term * x2.clone()) / (k * (k - 1.0));
        sum = sum + term.clone();
    }
    sum
}

/// Exercise 1: grad(taylor_cosine) by autograd against −sin x.
pub fn cosine_section() -> Section {
    let points = [0.0, 0.5, 1.0, 2.0, std::f64::consts::PI, -2.5];
    // The same generic function traced into a formula, then differentiated.
    let formula = taylor_cosine(&Expr::var("x")).diff("x");
    let mut t = Table::new(&[
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
    ])
    .header([
        "x",
        "autodiff",
        "formula",
        "analytic −sin x",
        "finite difference",
        "",
    ]);
    let mut checks = Vec::new();
    let mut rows = Vec::new();
    for &x in &points {
        let xt = Tensor::scalar(x).requires_grad();
        let y = taylor_cosine(&xt);
        let auto = match y.backward() {
            Ok(()) => xt.grad().map_or(f64::NAN, |g| g.item()),
            Err(_) => f64::NAN,
        };
        let analytic = -x.sin();
        let fd = crate::fd::derivative(|p| taylor_cosine(&p), x);
        let symbolic = formula
            .eval_with::<f64>(|n| (n == "x").then_some(x))
            .unwrap_or(f64::NAN);
        let c1 = Check::numbers(
            format!("x = {}: autodiff vs −sin x", num_text(x)),
            auto,
            analytic,
            1e-12,
            1e-15,
        );
        let c2 = Check::numbers(
            format!("x = {}: autodiff vs finite differences", num_text(x)),
            auto,
            fd,
            1e-8,
            1e-11,
        );
        let c3 = Check::numbers(
            format!("x = {}: formula vs autodiff", num_text(x)),
            symbolic,
            auto,
            1e-12,
            1e-15,
        );
        let ok = c1.ok && c2.ok && c3.ok;
        t.row([
            num_text(x),
            num_text(auto),
            num_text(symbolic),
            num_text(analytic),
            num_text(fd),
            if ok {
                "✓".to_string()
            } else {
                "✗".to_string()
            },
        ]);
        rows.push(
            Json::object()
                .with("x", x)
                .with("autodiff", auto)
                .with("analytic", analytic)
                .with("formula_value", symbolic)
                .with("finite_difference", fd),
        );
        checks.extend([c1, c2, c3]);
    }
    let mut text = format!(
        "   taylor_cosine(x) = Σ_{{n<{COS_TERMS}}} (−1)ⁿ x²ⁿ/(2n)!, one generic Rust function run on a Tensor\n   that requires grad; backward() gives its derivative, which should be −sin x\n"
    );
    text.push_str(&format!(
        "   the same function traced on a symbol (Expr) and differentiated gives a polynomial formula\n   of {} operations; its values are the formula column\n",
        formula.op_count()
    ));
    text.push_str(&t.render());
    Section {
        seed: "004",
        id: "Exercise 1".into(),
        title: "gradient of the Taylor series of cos(x) by autograd".into(),
        text,
        checks,
        json: Json::Arr(rows),
    }
}

/// d⁴/dx⁴ tanh by four nested reverse passes (`create_graph`).
fn tanh_fourth_reverse(x: f64) -> f64 {
    let xt = Tensor::scalar(x).requires_grad();
    let mut y = xt.tanh();
    for _ in 0..4 {
        let g = autograd::grad(
            &[y],
            std::slice::from_ref(&xt),
            None,
            autograd::GradOptions::CREATE_GRAPH,
        );
        y = match g {
            Ok(mut g) => g.remove(0),
            Err(_) => return f64::NAN,
        };
    }
    y.item()
}

/// Exercise 3: the 4th derivative of tanh, by Taylor mode, by nested
/// reverse mode and by the symbolic formula, against 24t⁵ − 40t³ + 16t.
pub fn tanh_fourth() -> CliResult<Section> {
    let points = [0.5, -1.3, 2.0, 0.0];
    let formula = crate::engine::diff_text("tanh(x)", "x", 4)?;
    let mut t = Table::new(&[
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
    ])
    .header(["x", "closed form", "Taylor mode", "reverse⁴", "formula", ""]);
    let mut checks = Vec::new();
    let mut rows = Vec::new();
    for &x in &points {
        let tt = x.tanh();
        let closed = 24.0 * tt.powi(5) - 40.0 * tt.powi(3) + 16.0 * tt;
        let taylor = forward::derivatives_at(|v| v.tanh(), x, 4)[4];
        let reverse = tanh_fourth_reverse(x);
        let symbolic = crate::engine::eval_text(&formula, &[("x", x)])?;
        let name = num_text(x);
        let cs = [
            Check::numbers(
                format!("x = {name}: Taylor mode vs closed form"),
                taylor,
                closed,
                1e-12,
                1e-14,
            ),
            Check::numbers(
                format!("x = {name}: nested reverse vs closed form"),
                reverse,
                closed,
                1e-12,
                1e-14,
            ),
            Check::numbers(
                format!("x = {name}: formula vs closed form"),
                symbolic,
                closed,
                1e-12,
                1e-14,
            ),
        ];
        let ok = cs.iter().all(|c| c.ok);
        t.row([
            name,
            num_text(closed),
            num_text(taylor),
            num_text(reverse),
            num_text(symbolic),
            if ok {
                "✓".to_string()
            } else {
                "✗".to_string()
            },
        ]);
        rows.push(
            Json::object()
                .with("x", x)
                .with("closed_form", closed)
                .with("taylor", taylor)
                .with("reverse", reverse)
                .with("formula_value", symbolic),
        );
        checks.extend(cs);
    }
    let mut text = String::from(
        "   d⁴/dx⁴ tanh x = 24t⁵ − 40t³ + 16t with t = tanh x (closed form), against Taylor mode\n   (forward::derivatives, one pass), four nested autograd::grad calls with create_graph,\n   and the symbolic 4th derivative:\n",
    );
    text.push_str(&format!("   formula: {formula}\n"));
    text.push_str(&t.render());
    Ok(Section {
        seed: "004",
        id: "Exercise 3".into(),
        title: "the 4th derivative of tanh".into(),
        text,
        checks,
        json: Json::object()
            .with("formula", formula)
            .with("points", Json::Arr(rows)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_series_is_cosine() {
        for x in [0.0, 1.0, -2.0, 3.0] {
            assert!((taylor_cosine(&x) - f64::cos(x)).abs() < 1e-14);
        }
    }

    #[test]
    fn nested_reverse_fourth_derivative_of_tanh() {
        // Seed 004 / JAX reference value at 0.5.
        assert!((tanh_fourth_reverse(0.5) - 3.9522195637245825).abs() < 1e-13);
    }
}
