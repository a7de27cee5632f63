//! `chainrule taylor EXPR --wrt x --at POINT --order K [--json]`: f, f', ...,
//! f^(K) at the point by Taylor mode, and the Taylor coefficients.

use crate::args::{require_expr, TaylorArgs};
use crate::cmd::{point_json, point_text};
use crate::engine::{self, MAX_TAYLOR_ORDER};
use crate::error::{CliError, CliResult};
use crate::json::{num_text, Json};
use crate::point::Point;
use crate::table::{Align, Table};
use crate::Outcome;

/// Largest nodes × (K+1)² that `taylor` takes on (about a second).
const WORK_LIMIT: f64 = 2e9;

/// Runs `taylor`.
pub fn run(a: &TaylorArgs) -> CliResult<Outcome> {
    let src = require_expr(&a.expr)?;
    let parsed = engine::parse(src, "the expression")?;
    let wrt = engine::pick_wrt(&parsed, &a.wrt)?;
    if a.order > MAX_TAYLOR_ORDER {
        return Err(CliError::new(format!(
            "--order {} is too large (at most {MAX_TAYLOR_ORDER})",
            a.order
        )));
    }
    let point = Point::parse_all(&a.at)?;
    parsed.check_point(&point, Some(&wrt))?;
    // Taylor mode costs O(K²) per operation: refuse what would take minutes.
    let ops = parsed.syntax.nodes.len() as f64;
    let work = ops * (f64::from(a.order) + 1.0).powi(2);
    if work > WORK_LIMIT {
        return Err(CliError::new(format!(
            "--order {} on an expression of {} nodes is too much work (nodes × (K+1)² must stay under {WORK_LIMIT:e})",
            a.order, ops
        )));
    }
    let k = a.order as usize;
    let coefficients = parsed.taylor(&wrt, &point, k)?;
    // Not coefficient × k!, which overflows from k = 171.
    let derivatives = parsed.taylor_derivatives(&wrt, &point, k)?;
    if a.json {
        let out = Json::object()
            .with("expr", src)
            .with("wrt", wrt.as_str())
            .with("point", point_json(&point))
            .with("order", k)
            .with("derivatives", derivatives)
            .with("coefficients", coefficients);
        return Ok(Outcome::ok(out.to_text() + "\n"));
    }
    let mut s = String::new();
    s.push_str(&format!(
        "f = {src}\nTaylor mode in {wrt} at {}\n\n",
        point_text(&point)
    ));
    let mut t = Table::new(&[Align::Right, Align::Right, Align::Right]).header([
        "k",
        "f^(k)",
        "coefficient f^(k)/k!",
    ]);
    for i in 0..=k {
        t.row([
            i.to_string(),
            num_text(derivatives[i]),
            num_text(coefficients[i]),
        ]);
    }
    s.push_str(&t.render());
    Ok(Outcome::ok(s))
}
