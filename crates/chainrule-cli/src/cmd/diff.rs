//! `chainrule diff EXPR [--wrt x] [--order K] [--at POINT] [--json] [--latex]`:
//! the K-th derivative as a simplified formula.

use crate::args::{require_expr, DiffArgs};
use crate::cmd::{point_json, point_text};
use crate::engine::{self, MAX_DIFF_ORDER};
use crate::error::{CliError, CliResult};
use crate::json::{num_text, Json};
use crate::point::Point;
use crate::Outcome;

/// "∂²/∂y∂x ", "∂³/∂y∂x² " for a mixed partial by `wrt` in order (x first):
/// the variable applied last stands first, as in ∂²f/∂y∂x.
pub fn partial_text(wrt: &[String]) -> String {
    let mut groups: Vec<(&str, u32)> = Vec::new();
    for v in wrt.iter().rev() {
        match groups.last_mut() {
            Some((w, k)) if *w == v.as_str() => *k += 1,
            _ => groups.push((v, 1)),
        }
    }
    let power = |k: u32| {
        if k == 1 {
            String::new()
        } else {
            superscript(k)
        }
    };
    let below: String = groups
        .iter()
        .map(|(v, k)| format!("∂{v}{}", power(*k)))
        .collect();
    format!("∂{}/{below} ", power(wrt.len() as u32))
}

/// "d/dx", "d²/dx²", ... for the report.
pub fn d_text(var: &str, k: u32) -> String {
    match k {
        0 => String::new(),
        1 => format!("d/d{var} "),
        k => format!("d{}/d{var}{} ", superscript(k), superscript(k)),
    }
}

fn superscript(k: u32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    k.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}

/// Runs `diff`.
pub fn run(a: &DiffArgs) -> CliResult<Outcome> {
    let src = require_expr(&a.expr)?;
    let parsed = engine::parse(src, "the expression")?;
    // --wrt x,y,...: a mixed partial, one derivative per name, in order.
    let list = engine::pick_wrt_list(&parsed, &a.wrt)?;
    if list.len() > 1 && a.order != 1 {
        return Err(CliError::new(format!(
            "--order goes with one --wrt variable; a list is differentiated once per name \
             (write --wrt {} for order {})",
            vec![list[0].as_str(); a.order as usize].join(","),
            a.order
        )));
    }
    let order = if list.len() > 1 {
        list.len() as u32
    } else {
        a.order
    };
    let wrt = list.join(",");
    if order > MAX_DIFF_ORDER {
        return Err(CliError::new(format!(
            "--order {order} is too large (at most {MAX_DIFF_ORDER}; for high orders at a point use 'chainrule taylor')"
        )));
    }
    let point = if a.at.is_empty() {
        None
    } else {
        let p = Point::parse_all(&a.at)?;
        parsed.check_point(&p, None)?;
        Some(p)
    };
    let derivative = match list.as_slice() {
        [one] => parsed.expr().try_diff_n(one, order as usize, a.max_nodes),
        many => many
            .iter()
            .try_fold(parsed.expr(), |d, v| d.try_diff_n(v, 1, a.max_nodes)),
    }
    .map_err(|_| crate::budget::formula_too_large(order, a.max_nodes))?;
    // A derivative whose tree is larger than the budget (its DAG is not:
    // shared subformulas) is printed in `where` form, linear in the DAG;
    // the tree forms (JSON's "derivative", LaTeX) would be too large.
    let tree = crate::budget::tree_size(derivative, a.max_nodes);
    let as_tree = tree <= a.max_nodes;
    if !as_tree && (a.json || a.latex) {
        return Err(CliError::new(format!(
            "diff: derivative {} has more than {} nodes as one tree (the formula-size budget); \
             raise it with --max-nodes N, or print it in shared form with --bindings (without --json/--latex)",
            order, a.max_nodes
        )));
    }
    let text = if as_tree {
        derivative.to_string()
    } else {
        String::new()
    };
    let latex = if as_tree && (a.json || a.latex) {
        derivative.to_latex()
    } else {
        String::new()
    };
    let bound = if a.json || a.bindings || !as_tree {
        derivative.to_text_with_bindings()
    } else {
        String::new()
    };
    let value = match &point {
        Some(p) => Some(derivative.eval_with::<f64>(|n| p.get(n))?),
        None => None,
    };
    if a.json {
        let mut out = Json::object()
            .with("expr", src)
            .with("wrt", wrt.as_str())
            .with("order", order as usize)
            .with("derivative", text.as_str())
            .with("latex", latex.as_str())
            .with("bindings", bound.as_str());
        if let (Some(v), Some(p)) = (value, &point) {
            out.push("point", point_json(p));
            out.push("value", v);
        }
        return Ok(Outcome::ok(out.to_text() + "\n"));
    }
    let mut s = String::new();
    let shown = if a.latex {
        &latex
    } else if a.bindings || !as_tree {
        &bound
    } else {
        &text
    };
    if !as_tree {
        s.push_str(&format!(
            "(more than {} nodes as one tree: shared subformulas are printed once, as `where` bindings)\n",
            a.max_nodes
        ));
    }
    if a.latex {
        s.push_str(&format!("{shown}\n"));
    } else {
        let d = if list.len() > 1 {
            partial_text(&list)
        } else {
            d_text(&wrt, order)
        };
        s.push_str(&format!("{d}({src}) = {shown}\n"));
    }
    if let (Some(v), Some(p)) = (value, &point) {
        s.push_str(&format!("at {}: {}\n", point_text(p), num_text(v)));
    }
    Ok(Outcome::ok(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_notation() {
        assert_eq!(d_text("x", 1), "d/dx ");
        assert_eq!(d_text("x", 4), "d⁴/dx⁴ ");
        assert_eq!(d_text("t", 12), "d¹²/dt¹² ");
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(partial_text(&list(&["x", "y"])), "∂²/∂y∂x ");
        assert_eq!(partial_text(&list(&["x", "x", "y"])), "∂³/∂y∂x² ");
        assert_eq!(partial_text(&list(&["y", "x", "x"])), "∂³/∂x²∂y ");
    }
}
