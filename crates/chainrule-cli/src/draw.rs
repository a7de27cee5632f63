//! Pictures of a [`Wengert`] list for `chainrule graph`: the library's
//! [`chainrule::graph`] lays them out and draws them (SVG with a layered
//! layout, or DOT for Graphviz), so that the Python package's
//! `chainrule.graph` draws the same.

use crate::wengert::Wengert;

/// The graph as a standalone SVG document.
pub fn to_svg(w: &Wengert, expr: &str, point: &str) -> String {
    w.to_svg(expr, point)
}

/// The graph as Graphviz DOT text.
pub fn to_dot(w: &Wengert, expr: &str, point: &str) -> String {
    w.to_dot(expr, point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainrule::symbolic::parse_syntax;

    #[test]
    fn svg_and_dot_of_the_sigmoid() {
        let w = Wengert::build(&parse_syntax("1/(1+exp(-x))").unwrap(), |_| 2.0);
        let svg = to_svg(&w, "1/(1+exp(-x))", "x = 2");
        assert!(svg.starts_with("<svg") && svg.contains("∂a/∂x = -1"));
        let dot = to_dot(&w, "1/(1+exp(-x))", "x = 2");
        assert_eq!(dot.matches(" -> ").count(), 6);
    }
}
