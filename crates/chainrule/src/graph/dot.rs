//! The graph of a [`Wengert`] list as Graphviz DOT text.

use std::fmt::Write;

use super::number::num_text;
use super::wengert::{Kind, Wengert};

impl Wengert {
    /// The graph as Graphviz DOT text (`dot -Tsvg` draws it), titled with
    /// `expr` and `point`: every node of the list, constants included, and
    /// every argument as an edge labelled with its local derivative.
    pub fn to_dot(&self, expr: &str, point: &str) -> String {
        let out = self.output_name();
        let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut s = String::new();
        let _ = writeln!(s, "digraph chainrule {{");
        let _ = writeln!(s, "  rankdir=LR;");
        let _ = writeln!(
            s,
            "  label=\"{}\"; labelloc=t;",
            q(&format!("{out} = {expr}   at {point}"))
        );
        let _ = writeln!(
            s,
            "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\"];"
        );
        let _ = writeln!(s, "  edge [fontname=\"monospace\", fontcolor=\"#9a3412\"];");
        for (i, n) in self.nodes.iter().enumerate() {
            let (label, fill) = match n.kind {
                Kind::Const => (n.name.clone(), "#f3f4f6"),
                Kind::Input => (
                    format!(
                        "{} (input)\\nvalue = {}\\n∂{out}/∂{} = {}",
                        q(&n.name),
                        num_text(n.value),
                        q(&n.name),
                        num_text(n.adjoint)
                    ),
                    "#ecfdf5",
                ),
                Kind::Op => (
                    format!(
                        "{} = {}\\nvalue = {}\\n∂{out}/∂{} = {}",
                        q(&n.name),
                        q(&n.formula),
                        num_text(n.value),
                        q(&n.name),
                        num_text(n.adjoint)
                    ),
                    if i == self.output {
                        "#fef3c7"
                    } else {
                        "#eff6ff"
                    },
                ),
            };
            let shape = if n.kind == Kind::Const {
                ", shape=ellipse"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "  n{i} [label=\"{label}\", fillcolor=\"{fill}\"{shape}];"
            );
        }
        for (u, n) in self.nodes.iter().enumerate() {
            for (k, &a) in n.args.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  n{a} -> n{u} [label=\"{}\"];",
                    q(&format!(
                        "{} = {}",
                        self.partial(u, a),
                        num_text(n.local[k])
                    ))
                );
            }
        }
        s.push_str("}\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::wengert::tests::sigmoid;

    #[test]
    fn dot_is_a_digraph() {
        let dot = sigmoid().to_dot("1/(1+exp(-x))", "x = 2");
        assert!(dot.starts_with("digraph chainrule {"));
        assert_eq!(dot.matches(" -> ").count(), 6);
        assert!(dot.contains("∂a/∂x = -1"));
    }
}
