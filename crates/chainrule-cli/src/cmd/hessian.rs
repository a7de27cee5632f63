//! `chainrule hessian EXPR --at POINT [--json] [--sparse]`: value, gradient
//! and the full Hessian by reverse over reverse, or with `--sparse` its
//! nonzeros by sparsity detection, a star colouring and one
//! Hessian-vector product per colour.

use crate::args::{require_expr, HessianArgs};
use crate::cmd::{named_numbers, names_json, point_json, point_text};
use crate::engine;
use crate::error::CliResult;
use crate::json::{num_text, Json};
use crate::point::Point;
use crate::table::{Align, Table};
use crate::Outcome;

/// Runs `hessian`.
pub fn run(args: &HessianArgs) -> CliResult<Outcome> {
    let a = &args.point;
    let src = require_expr(&a.expr)?;
    let parsed = engine::parse(src, "the expression")?;
    let point = Point::parse_all(&a.at)?;
    let vars = parsed.check_point(&point, None)?;
    if args.sparse {
        return sparse(args, src, &parsed, &point, &vars);
    }
    crate::budget::check_hessian_vars(vars.len(), args.max_vars)?;
    crate::budget::check_work(
        "hessian",
        parsed.syntax.nodes.len(),
        vars.len(),
        args.budget,
    )?;
    let (value, gradient, hess) = parsed.reverse_hessian(&vars, &point)?;
    if a.json {
        let out = Json::object()
            .with("expr", src)
            .with("variables", names_json(&vars))
            .with("point", point_json(&point))
            .with("value", value)
            .with("gradient", named_numbers(&vars, &gradient))
            .with(
                "hessian",
                Json::Arr(hess.iter().map(|r| Json::from(r.clone())).collect()),
            );
        return Ok(Outcome::ok(out.to_text() + "\n"));
    }
    let mut s = text_head(src, &vars, &point, value, &gradient);
    if vars.is_empty() {
        return Ok(Outcome::ok(s));
    }
    s.push_str(
        "\nHessian (reverse over reverse), rows and columns in the order of the variables\n",
    );
    let mut align = vec![Align::Left];
    align.extend(vec![Align::Right; vars.len()]);
    let mut t = Table::new(&align)
        .header(std::iter::once(String::new()).chain(vars.iter().map(|v| format!("∂/∂{v}"))));
    for (v, row) in vars.iter().zip(&hess) {
        t.row(std::iter::once(format!("∂f/∂{v}")).chain(row.iter().map(|x| num_text(*x))));
    }
    s.push_str(&t.render());
    Ok(Outcome::ok(s))
}

/// `hessian --sparse`: the value and gradient as without it, then the
/// Hessian's nonzeros. JSON: the same fields, with `hessian_sparse` (the
/// count of nonzeros, of colours, and every nonzero as `[row, column,
/// value]` with variable names, in row order) instead of the dense `hessian`.
fn sparse(
    args: &HessianArgs,
    src: &str,
    parsed: &engine::Parsed,
    point: &Point,
    vars: &[String],
) -> CliResult<Outcome> {
    let mut plan = parsed.sparse_hessian(vars, args.max_vars)?;
    let nnz = plan.pattern().nnz();
    let colors = plan.coloring().n_colors();
    crate::budget::check_sparse_hessian(nnz, args.max_vars)?;
    crate::budget::check_work(
        "hessian --sparse",
        parsed.syntax.nodes.len(),
        colors,
        args.budget,
    )?;
    let (value, gradient) = parsed.reverse_gradient(vars, point)?;
    let x: Vec<f64> = vars
        .iter()
        .map(|v| point.get(v).unwrap_or(f64::NAN))
        .collect();
    let h = plan.eval(&x)?;
    if args.point.json {
        let entries = h
            .iter()
            .map(|(i, j, v)| {
                Json::Arr(vec![
                    Json::from(vars[i].as_str()),
                    Json::from(vars[j].as_str()),
                    Json::from(v),
                ])
            })
            .collect();
        let out = Json::object()
            .with("expr", src)
            .with("variables", names_json(vars))
            .with("point", point_json(point))
            .with("value", value)
            .with("gradient", named_numbers(vars, &gradient))
            .with(
                "hessian_sparse",
                Json::object()
                    .with("nnz", nnz)
                    .with("colors", colors)
                    .with("entries", Json::Arr(entries)),
            );
        return Ok(Outcome::ok(out.to_text() + "\n"));
    }
    let mut s = text_head(src, vars, point, value, &gradient);
    if vars.is_empty() {
        return Ok(Outcome::ok(s));
    }
    let n = vars.len();
    s.push_str(&format!(
        "\nHessian (sparse): {nnz} of {n} × {n} entries may be nonzero, from {colors} \
         Hessian-vector product{} (star colouring); those with row ≤ column (it is symmetric)\n",
        if colors == 1 { "" } else { "s" }
    ));
    let mut t = Table::new(&[Align::Left, Align::Right]);
    for (i, j, v) in h.iter().filter(|&(i, j, _)| i <= j) {
        let label = if i == j {
            format!("∂²f/∂{}²", vars[i])
        } else {
            format!("∂²f/∂{}∂{}", vars[i], vars[j])
        };
        t.row([label, num_text(v)]);
    }
    s.push_str(&t.render());
    Ok(Outcome::ok(s))
}

/// The text both forms begin with: the function, the point, the value and
/// the gradient's table (or a line saying there are no variables).
fn text_head(src: &str, vars: &[String], point: &Point, value: f64, gradient: &[f64]) -> String {
    let mut s = String::new();
    s.push_str(&format!("f({}) = {src}\n", vars.join(", ")));
    if vars.is_empty() {
        s.push_str(&format!("f = {}\n\n", num_text(value)));
        s.push_str("(no variables: the gradient and Hessian are empty)\n");
        return s;
    }
    s.push_str(&format!("at {}\n", point_text(point)));
    s.push_str(&format!("f = {}\n\n", num_text(value)));
    s.push_str("gradient (reverse mode)\n");
    let mut t = Table::new(&[Align::Left, Align::Right]);
    for (v, g) in vars.iter().zip(gradient) {
        t.row([format!("∂f/∂{v}"), num_text(*g)]);
    }
    s.push_str(&t.render());
    s
}
