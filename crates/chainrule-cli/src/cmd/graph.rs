//! `chainrule graph EXPR --at POINT -o FILE.svg|FILE.dot`: the computational
//! graph as a picture. Without `-o` the DOT text goes to stdout.

use crate::args::{require_expr, GraphArgs};
use crate::cmd::{point_json, point_text};
use crate::engine;
use crate::error::{quote, CliError, CliResult};
use crate::json::{num_text, Json};
use crate::point::Point;
use crate::Outcome;

/// Runs `graph`.
pub fn run(a: &GraphArgs) -> CliResult<Outcome> {
    let src = require_expr(&a.expr)?;
    let format = match a.output.as_deref() {
        None => "dot",
        Some(path) => {
            let lower = path.to_ascii_lowercase();
            if lower.ends_with(".svg") {
                "svg"
            } else if lower.ends_with(".dot") || lower.ends_with(".gv") {
                "dot"
            } else {
                return Err(CliError::new(format!(
                    "-o {}: the file name must end in .svg or .dot",
                    quote(path)
                )));
            }
        }
    };
    let parsed = engine::parse(src, "the expression")?;
    let point = Point::parse_all(&a.at)?;
    parsed.check_point(&point, None)?;
    let w = parsed.wengert(&point);
    let shown_point = point_text(&point);
    let text = if format == "svg" {
        crate::draw::to_svg(&w, src, &shown_point)
    } else {
        crate::draw::to_dot(&w, src, &shown_point)
    };
    if let Some(path) = a.output.as_deref() {
        std::fs::write(path, &text)
            .map_err(|e| CliError::new(format!("cannot write {}: {e}", quote(path))))?;
    }
    let edges: usize = w.nodes.iter().map(|n| n.args.len()).sum();
    if a.json {
        let gradient = Json::Obj(
            w.inputs()
                .into_iter()
                .map(|i| (w.nodes[i].name.clone(), Json::Num(w.nodes[i].adjoint)))
                .collect(),
        );
        let mut out = Json::object()
            .with("expr", src)
            .with("point", point_json(&point))
            .with("output", a.output.as_deref().map_or(Json::Null, Json::from))
            .with("format", format)
            .with("nodes", w.nodes.len())
            .with("edges", edges)
            .with("value", w.value())
            .with("gradient", gradient);
        if a.output.is_none() {
            // Nothing was written: the DOT text travels inside the object.
            out.push("text", text);
        }
        return Ok(Outcome::ok(out.to_text() + "\n"));
    }
    let Some(path) = a.output.as_deref() else {
        return Ok(Outcome::ok(text));
    };
    let grads: Vec<String> = w
        .inputs()
        .into_iter()
        .map(|i| format!("∂f/∂{} = {}", w.nodes[i].name, num_text(w.nodes[i].adjoint)))
        .collect();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    Ok(Outcome::ok(format!(
        "wrote {path} ({format}: {}, {}); f = {}{}{}\n",
        plural(w.nodes.len(), "node"),
        plural(edges, "edge"),
        num_text(w.value()),
        if grads.is_empty() { "" } else { ", " },
        grads.join(", ")
    )))
}
