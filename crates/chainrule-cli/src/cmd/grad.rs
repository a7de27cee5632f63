//! `chainrule grad EXPR --at POINT [--json]`: the gradient by reverse mode,
//! its simplified formulas, and a finite-difference check.

use crate::args::{require_expr, GradArgs};
use crate::cmd::{named_numbers, names_json, point_json, point_text};
use crate::engine;
use crate::error::CliError;
use crate::error::CliResult;
use crate::json::{num_text, Json};
use crate::point::Point;
use crate::table::{Align, Table};
use crate::Outcome;

/// Relative agreement the finite-difference check asks for.
pub const FD_TOL: f64 = 1e-6;

/// The finite-difference check's error for one partial: the relative
/// difference |a − b| / max(|a|, |b|, τ), where the floor τ = 1e-6·max(1, |f|)
/// keeps partials that are 0 (or tiny next to f) from turning rounding noise
/// into a large relative error. NaN against NaN (both undefined) is 0.
pub fn fd_err(auto: f64, fd: f64, value: f64) -> f64 {
    if auto == fd || (auto.is_nan() && fd.is_nan()) {
        return 0.0;
    }
    if !auto.is_finite() || !fd.is_finite() {
        return f64::INFINITY;
    }
    let floor = if value.is_finite() {
        1e-6 * value.abs().max(1.0)
    } else {
        1e-6
    };
    (auto - fd).abs() / auto.abs().max(fd.abs()).max(floor)
}

/// Runs `grad`.
pub fn run(args: &GradArgs) -> CliResult<Outcome> {
    let a = &args.point;
    let src = require_expr(&a.expr)?;
    let parsed = engine::parse(src, "the expression")?;
    let point = Point::parse_all(&a.at)?;
    let all = parsed.check_point(&point, None)?;
    // --wrt a subset: the gradient by those; the others are parameters.
    let vars = match &args.wrt {
        None => all.clone(),
        Some(_) => {
            let mut wrt = engine::pick_wrt_list(&parsed, &args.wrt)?;
            if let Some(w) = wrt.iter().find(|w| !all.contains(w)) {
                return Err(CliError::new(format!(
                    "--wrt '{w}' is not a variable of the expression (its variables are {})",
                    all.join(", ")
                )));
            }
            wrt.sort();
            wrt.dedup();
            wrt
        }
    };
    let parameters: Vec<String> = all.iter().filter(|v| !vars.contains(v)).cloned().collect();
    crate::budget::check_work(
        "grad (the finite-difference check and the formulas)",
        parsed.syntax.nodes.len(),
        vars.len(),
        args.budget,
    )?;
    let (value, gradient) = parsed.reverse_gradient(&vars, &point)?;
    let expr = parsed.expr();
    let derivatives = chainrule::symbolic::gradient_formula(&expr, &vars);
    let formulas: Vec<String> = derivatives.iter().map(|d| d.to_string()).collect();
    let fd = parsed.fd_gradient(&vars, &point);
    let errs: Vec<f64> = gradient
        .iter()
        .zip(&fd)
        .map(|(&g, &f)| fd_err(g, f, value))
        .collect();
    let max_err = errs.iter().copied().fold(0.0, f64::max);
    let ok = max_err <= FD_TOL;
    if a.json {
        let symbolic = Json::Obj(
            vars.iter()
                .zip(&formulas)
                .map(|(v, f)| (v.clone(), Json::from(f.as_str())))
                .collect(),
        );
        let out = Json::object()
            .with("expr", src)
            .with("variables", names_json(&vars))
            .with("point", point_json(&point))
            .with("value", value)
            .with("gradient", named_numbers(&vars, &gradient))
            .with("symbolic", symbolic)
            .with(
                "check",
                Json::object()
                    .with("finite_difference", named_numbers(&vars, &fd))
                    .with("max_rel_err", max_err)
                    .with("ok", ok),
            );
        let mut out = out;
        if args.wrt.is_some() {
            out.push("parameters", names_json(&parameters));
        }
        return Ok(Outcome::ok(out.to_text() + "\n"));
    }
    let mut s = String::new();
    s.push_str(&format!("f({}) = {src}\n", all.join(", ")));
    if !all.is_empty() {
        s.push_str(&format!("at {}\n", point_text(&point)));
    }
    if !parameters.is_empty() {
        s.push_str(&format!(
            "gradient by {}; held fixed: {}\n",
            vars.join(", "),
            parameters.join(", ")
        ));
    }
    s.push_str(&format!("f = {}\n\n", num_text(value)));
    let mut t = Table::new(&[
        Align::Left,
        Align::Right,
        Align::Left,
        Align::Right,
        Align::Right,
    ])
    .header([
        "",
        "reverse mode",
        "formula",
        "finite difference",
        "rel. error",
    ]);
    // Formulas too wide for the table are printed below it.
    let mut below = String::new();
    for (i, v) in vars.iter().enumerate() {
        let shown = if formulas[i].chars().count() > 60 {
            // Shared parts of a long formula as where-bindings.
            below.push_str(&format!(
                "  ∂f/∂{v} = {}\n",
                derivatives[i]
                    .to_text_with_bindings()
                    .replacen(" where ", "\n      where ", 1)
            ));
            "(below)".to_string()
        } else {
            formulas[i].clone()
        };
        t.row([
            format!("∂f/∂{v}"),
            num_text(gradient[i]),
            shown,
            num_text(fd[i]),
            crate::wengert::short(errs[i]),
        ]);
    }
    if vars.is_empty() {
        s.push_str("  (no variables: the gradient is empty)\n");
    } else {
        s.push_str(&t.render());
        if !below.is_empty() {
            s.push_str("\nformulas (simplified)\n");
            s.push_str(&below);
        }
    }
    s.push_str(&format!(
        "\nfinite-difference check: {} (largest relative error {})\n",
        if ok { "ok" } else { "MISMATCH" },
        crate::wengert::short(max_err)
    ));
    Ok(Outcome::ok(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_error_floor() {
        assert!((fd_err(0.0, 1e-14, 1.0) - 1e-8).abs() < 1e-20);
        assert_eq!(fd_err(f64::NAN, f64::NAN, 1.0), 0.0);
        assert_eq!(fd_err(f64::INFINITY, 1e10, 1.0), f64::INFINITY);
        assert!((fd_err(1.0, 1.001, 1.0) - 0.001 / 1.001).abs() < 1e-15);
    }
}
