//! `chainrule explain EXPR --at POINT [--json]`: the Wengert list, the
//! forward values, the reverse sweep with each local derivative and
//! adjoint, and the gradient, as a student would write them out.

use crate::args::{require_expr, PointArgs};
use crate::cmd::{names_json, point_json, point_text};
use crate::engine;
use crate::error::CliResult;
use crate::json::Json;
use crate::point::Point;
use crate::Outcome;

/// Runs `explain`.
pub fn run(a: &PointArgs) -> CliResult<Outcome> {
    let src = require_expr(&a.expr)?;
    let parsed = engine::parse(src, "the expression")?;
    let point = Point::parse_all(&a.at)?;
    let vars = parsed.check_point(&point, None)?;
    let w = parsed.wengert(&point);
    if a.json {
        let gradient = Json::Obj(
            w.inputs()
                .into_iter()
                .map(|i| (w.nodes[i].name.clone(), Json::Num(w.nodes[i].adjoint)))
                .collect(),
        );
        let out = Json::object()
            .with("expr", src)
            .with("variables", names_json(&vars))
            .with("point", point_json(&point))
            .with("output", w.output_name())
            .with("value", w.value())
            .with("nodes", crate::wengert::nodes_json(&w))
            .with("gradient", gradient);
        return Ok(Outcome::ok(out.to_text() + "\n"));
    }
    Ok(Outcome::ok(w.explain_text(src, &point_text(&point))))
}
