//! `chainrule check EXPR --wrt x --analytic FORMULA --at POINT`: is my
//! hand-derived derivative right? The formula is compared with reverse-mode
//! autodiff at the point and at random points nearby (a fixed seed, so the
//! same points every time). Exit 0 when they agree, 1 when they do not.

use chainrule::random::SplitMix64;

use crate::args::{require_expr, CheckArgs};
use crate::cmd::{point_json, point_text};
use crate::engine;
use crate::error::{CliError, CliResult};
use crate::json::{num_text, Json};
use crate::point::Point;
use crate::table::{Align, Table};
use crate::wengert::short;
use crate::Outcome;

/// Random points lie within this fraction of max(1, |value|) of the given one.
const RADIUS: f64 = 0.5;

struct Comparison {
    point: Point,
    analytic: f64,
    autodiff: f64,
    rel_err: f64,
    ok: bool,
}

/// Relative difference, with differences below 1e-12·max(1, |f|) counted as none.
fn compare(analytic: f64, autodiff: f64, f: f64, tol: f64) -> (f64, bool) {
    let err = crate::cmd::grad::fd_err(analytic, autodiff, f);
    (err, err <= tol)
}

/// Runs `check`.
pub fn run(a: &CheckArgs) -> CliResult<Outcome> {
    let src = require_expr(&a.expr)?;
    let parsed = engine::parse(src, "the expression")?;
    let formula_src = a.analytic.as_deref().ok_or_else(|| {
        CliError::new("missing --analytic FORMULA: the derivative you worked out by hand")
    })?;
    let formula = engine::parse(formula_src, "--analytic")?;
    let wrt = engine::pick_wrt(&parsed, &a.wrt)?;
    if let Some(extra) = formula
        .variables
        .iter()
        .find(|v| !parsed.variables.contains(v) && **v != wrt)
    {
        return Err(CliError::new(format!(
            "--analytic uses '{extra}' at column {}, which is not a variable of the expression",
            formula.column_of(extra).unwrap_or(1)
        )));
    }
    if a.tol.is_nan() || a.tol <= 0.0 {
        return Err(CliError::new("--tol must be a positive number"));
    }
    let point = Point::parse_all(&a.at)?;
    let vars = parsed.check_point(&point, Some(&wrt))?;
    let k = vars.iter().position(|v| *v == wrt).unwrap_or(0);

    // The given point, then random points nearby.
    let mut points = vec![point.clone()];
    let mut rng = SplitMix64::new(a.seed);
    if a.samples > 10_000 || a.samples.saturating_mul(parsed.syntax.nodes.len()) > 20_000_000 {
        return Err(CliError::new(format!(
            "--samples {} is too many for an expression of {} nodes (at most 10,000, and samples × nodes under 2e7)",
            a.samples,
            parsed.syntax.nodes.len()
        )));
    }
    for _ in 0..a.samples {
        let mut p = point.clone();
        for v in &vars {
            let x = point.get(v).unwrap_or(0.0);
            p.set(v, x + RADIUS * x.abs().max(1.0) * rng.uniform(-1.0, 1.0));
        }
        points.push(p);
    }
    let mut comparisons = Vec::new();
    let mut skipped = 0usize;
    for (i, p) in points.into_iter().enumerate() {
        let (f, grad) = parsed.reverse_gradient(&vars, &p)?;
        let autodiff = grad.get(k).copied().unwrap_or(0.0);
        let analytic = formula.value(&p);
        // Away from the given point, skip points outside the function's domain.
        if i > 0 && (!f.is_finite() || !autodiff.is_finite()) {
            skipped += 1;
            continue;
        }
        let (rel_err, ok) = compare(analytic, autodiff, f, a.tol);
        comparisons.push(Comparison {
            point: p,
            analytic,
            autodiff,
            rel_err,
            ok,
        });
    }
    let agree = comparisons.iter().all(|c| c.ok);
    let first_bad = comparisons.iter().find(|c| !c.ok);
    let max_err = comparisons.iter().map(|c| c.rel_err).fold(0.0, f64::max);
    let correct = parsed.expr().diff(&wrt).to_string();
    let code = if agree { 0 } else { 1 };

    if a.json {
        let cmp_json = |c: &Comparison| {
            Json::object()
                .with("point", point_json(&c.point))
                .with("analytic", c.analytic)
                .with("autodiff", c.autodiff)
                .with("rel_err", c.rel_err)
                .with("ok", c.ok)
        };
        let out = Json::object()
            .with("expr", src)
            .with("wrt", wrt.as_str())
            .with("analytic", formula_src)
            .with("point", point_json(&point))
            .with("agree", agree)
            .with("analytic_value", comparisons[0].analytic)
            .with("autodiff", comparisons[0].autodiff)
            .with("autodiff_formula", correct.as_str())
            .with("checked", comparisons.len())
            .with("skipped", skipped)
            .with("max_rel_err", max_err)
            .with("tol", a.tol)
            .with("first_disagreement", first_bad.map_or(Json::Null, cmp_json))
            .with(
                "points",
                Json::Arr(comparisons.iter().map(cmp_json).collect()),
            );
        return Ok(Outcome {
            stdout: out.to_text() + "\n",
            code,
        });
    }
    let mut s = String::new();
    s.push_str(&format!("f = {src}\n"));
    s.push_str(&format!("your ∂f/∂{wrt}      = {formula_src}\n"));
    s.push_str(&format!("chainrule's ∂f/∂{wrt} = {correct}\n\n"));
    let mut t = Table::new(&[
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
    ])
    .header(["point", "your formula", "autodiff", "rel. error", ""]);
    for c in &comparisons {
        t.row([
            point_text(&c.point),
            num_text(c.analytic),
            num_text(c.autodiff),
            short(c.rel_err),
            if c.ok {
                "✓".to_string()
            } else {
                "✗".to_string()
            },
        ]);
    }
    s.push_str(&t.render());
    s.push('\n');
    match first_bad {
        None => s.push_str(&format!(
            "AGREE at all {} points (the given one and {} random points nearby, seed {}; largest relative difference {}{})\n",
            comparisons.len(),
            comparisons.len() - 1,
            a.seed,
            short(max_err),
            if skipped > 0 { format!("; {skipped} points outside the domain skipped") } else { String::new() }
        )),
        Some(c) => s.push_str(&format!(
            "DISAGREE: first at {}: your formula gives {}, autodiff gives {} (relative difference {})\n",
            point_text(&c.point),
            num_text(c.analytic),
            num_text(c.autodiff),
            short(c.rel_err)
        )),
    }
    Ok(Outcome { stdout: s, code })
}
