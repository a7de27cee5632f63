//! The explanation of a [`Wengert`] list as a student would write it out:
//! the forward pass (one elementary operation per line, with its value), the
//! reverse pass (each adjoint as the sum over the node's users of
//! ∂f/∂u · ∂u/∂v, with the local derivatives), and the gradient; as aligned
//! text ([`Wengert::explain_text`]) or as HTML tables for Jupyter
//! ([`Wengert::explain_html`]).

use super::number::{num_text, short};
use super::wengert::{Kind, Wengert};

/// One line of the reverse pass.
struct ReverseRow {
    /// `∂f/∂v`.
    lhs: String,
    /// `None` for the output (its adjoint is 1 by definition).
    terms: Option<Terms>,
}

/// The chain rule for one adjoint: the symbolic sum, the numbers, the
/// result, and the local derivatives it uses.
struct Terms {
    chain: String,
    numbers: String,
    adjoint: f64,
    locals: String,
}

/// Everything the explanation shows, before it is laid out.
struct Parts {
    out: String,
    /// Name, formula (`(input)` for inputs), value.
    forward: Vec<(String, String, f64)>,
    reverse: Vec<ReverseRow>,
    /// ∂f/∂input and its value.
    gradient: Vec<(String, f64)>,
}

impl Wengert {
    fn parts(&self) -> Parts {
        let out = self.output_name().to_string();
        let mut forward = Vec::new();
        for i in self.inputs() {
            let n = &self.nodes[i];
            forward.push((n.name.clone(), "(input)".to_string(), n.value));
        }
        for n in self.nodes.iter().filter(|n| n.kind == Kind::Op) {
            forward.push((n.name.clone(), n.formula.clone(), n.value));
        }
        let users = self.users();
        let mut reverse = Vec::new();
        let order = (0..self.nodes.len())
            .rev()
            .filter(|&i| self.nodes[i].kind != Kind::Const);
        for i in order {
            let n = &self.nodes[i];
            let lhs = format!("∂{out}/∂{}", n.name);
            if i == self.output {
                reverse.push(ReverseRow { lhs, terms: None });
                continue;
            }
            reverse.push(ReverseRow {
                lhs,
                terms: Some(self.terms(i, &users[i], &out)),
            });
        }
        let gradient = self
            .inputs()
            .into_iter()
            .map(|i| {
                (
                    format!("∂{out}/∂{}", self.nodes[i].name),
                    self.nodes[i].adjoint,
                )
            })
            .collect();
        Parts {
            out,
            forward,
            reverse,
            gradient,
        }
    }

    /// The chain rule for node `i`'s adjoint from its `users`.
    fn terms(&self, i: usize, users: &[(usize, usize)], out: &str) -> Terms {
        // A variable used thousands of times: show the first terms only.
        // A user that takes this node in several slots (x*x) is one term,
        // its local derivative the sum over the slots.
        const SHOWN: usize = 4;
        let mut all: Vec<(usize, Vec<usize>)> = Vec::new();
        for &(u, k) in users {
            match all.last_mut() {
                Some((last, slots)) if *last == u => slots.push(k),
                _ => all.push((u, vec![k])),
            }
        }
        let shown = if all.len() > SHOWN + 1 {
            SHOWN
        } else {
            all.len()
        };
        let mut chain = Vec::new();
        let mut locals: Vec<String> = Vec::new();
        let mut numbers = Vec::new();
        for (u, slots) in &all[..shown] {
            let un = &self.nodes[*u];
            let partial = self.partial(*u, i);
            chain.push(format!("∂{out}/∂{} · {partial}", un.name));
            let local: f64 = slots.iter().map(|&k| un.local[k]).sum();
            let local_text = match &slots[..] {
                [k] => match &un.local_formula[*k] {
                    Some(f) if f != &num_text(un.local[*k]) => {
                        format!("{partial} = {f} = {}", short(un.local[*k]))
                    }
                    _ => format!("{partial} = {}", short(un.local[*k])),
                },
                _ => {
                    let parts: Vec<String> = slots
                        .iter()
                        .map(|&k| paren_neg(short(un.local[k])))
                        .collect();
                    format!(
                        "{partial} = {} = {} ({} uses {} {} times)",
                        parts.join(" + "),
                        short(local),
                        un.name,
                        self.nodes[i].name,
                        slots.len()
                    )
                }
            };
            if !locals.contains(&local_text) {
                locals.push(local_text);
            }
            numbers.push(format!(
                "{} · {}",
                short(un.adjoint),
                paren_neg(short(local))
            ));
        }
        if all.len() > shown {
            let more = format!("... ({} more)", all.len() - shown);
            chain.push(more.clone());
            numbers.push(more.clone());
            locals.push(more);
        }
        if chain.is_empty() {
            // A node the output does not use (cannot happen for a well-formed list).
            chain.push("0".into());
        }
        Terms {
            chain: chain.join(" + "),
            numbers: numbers.join(" + "),
            adjoint: self.nodes[i].adjoint,
            locals: locals.join(", "),
        }
    }

    /// The explanation as aligned text: the list, the forward values, the
    /// reverse sweep, the gradient. `expr` is the expression as the user
    /// wrote it and `point` the point as text (`x = 2`), both for the title.
    pub fn explain_text(&self, expr: &str, point: &str) -> String {
        use Align::{Left as L, Right as R};
        let p = self.parts();
        let out = &p.out;
        let mut s = format!("{out} = {expr}");
        if !point.is_empty() {
            s.push_str(&format!("   at {point}"));
        }
        s.push_str("\n\nForward pass: the Wengert list, one elementary operation per line\n");
        let mut t = Table::new(&[L, L, L, L, R]);
        for (name, formula, value) in &p.forward {
            t.row([name, "=", formula, "=", &num_text(*value)]);
        }
        s.push_str(&t.render());
        s.push_str(&format!(
            "\nReverse pass: adjoints ∂{out}/∂v from the output back to the inputs,\n\
             each the sum over v's users u of ∂{out}/∂u · ∂u/∂v (local derivatives from the rules table)\n"
        ));
        let mut t = Table::new(&[L, L, L, L, R, L]);
        for row in &p.reverse {
            match &row.terms {
                None => t.row([&row.lhs, "= 1", "", "", "", "(the output)"]),
                Some(x) => t.row([
                    &row.lhs,
                    &format!("= {}", x.chain),
                    &format!("= {}", x.numbers),
                    "=",
                    &num_text(x.adjoint),
                    &format!("where {}", x.locals),
                ]),
            }
        }
        s.push_str(&t.render());
        s.push_str(&format!("\nGradient of {out}\n"));
        let mut t = Table::new(&[L, L, R]);
        for (lhs, v) in &p.gradient {
            t.row([lhs, "=", &num_text(*v)]);
        }
        if p.gradient.is_empty() {
            t.row(["(the expression has no variables)", "", ""]);
        }
        s.push_str(&t.render());
        s
    }

    /// The explanation as HTML (for Jupyter's `_repr_html_`): a title and
    /// three tables, the forward pass, the reverse pass and the gradient,
    /// the same rows as [`Wengert::explain_text`]. Self-contained: no
    /// script, styles inline.
    pub fn explain_html(&self, expr: &str, point: &str) -> String {
        let p = self.parts();
        let out = &p.out;
        let mut s = String::from("<div class=\"chainrule-explain\">\n");
        let mut title = format!("{out} = {expr}");
        if !point.is_empty() {
            title.push_str(&format!(" at {point}"));
        }
        s.push_str(&format!("<p><b><code>{}</code></b></p>\n", esc(&title)));
        let th = |cells: &[&str]| -> String {
            let mut r = String::from("<tr>");
            for c in cells {
                r.push_str(&format!("<th style=\"text-align:left\">{}</th>", esc(c)));
            }
            r.push_str("</tr>\n");
            r
        };
        let td = |cells: &[(&str, bool)]| -> String {
            let mut r = String::from("<tr>");
            for (c, right) in cells {
                let align = if *right { "right" } else { "left" };
                r.push_str(&format!(
                    "<td style=\"text-align:{align}\"><code>{}</code></td>",
                    esc(c)
                ));
            }
            r.push_str("</tr>\n");
            r
        };
        s.push_str(
            "<p>Forward pass: the Wengert list, one elementary operation per line</p>\n<table>\n",
        );
        s.push_str(&th(&["node", "operation", "value"]));
        for (name, formula, value) in &p.forward {
            s.push_str(&td(&[
                (name, false),
                (formula, false),
                (&num_text(*value), true),
            ]));
        }
        s.push_str("</table>\n");
        s.push_str(&format!(
            "<p>Reverse pass: adjoints ∂{out}/∂v from the output back to the inputs, each the sum \
             over v's users u of ∂{out}/∂u · ∂u/∂v (local derivatives from the rules table)</p>\n<table>\n"
        ));
        s.push_str(&th(&[
            "adjoint",
            "chain rule",
            "numbers",
            "value",
            "local derivatives",
        ]));
        for row in &p.reverse {
            match &row.terms {
                None => s.push_str(&td(&[
                    (&row.lhs, false),
                    ("1", false),
                    ("", false),
                    ("1", true),
                    ("(the output)", false),
                ])),
                Some(x) => s.push_str(&td(&[
                    (&row.lhs, false),
                    (&x.chain, false),
                    (&x.numbers, false),
                    (&num_text(x.adjoint), true),
                    (&x.locals, false),
                ])),
            }
        }
        s.push_str("</table>\n");
        s.push_str(&format!("<p>Gradient of {}</p>\n<table>\n", esc(out)));
        for (lhs, v) in &p.gradient {
            s.push_str(&td(&[(lhs, false), (&num_text(*v), true)]));
        }
        if p.gradient.is_empty() {
            s.push_str(&td(&[("(the expression has no variables)", false)]));
        }
        s.push_str("</table>\n</div>\n");
        s
    }
}

/// Text escaped for HTML and SVG (`&`, `<`, `>`, `"`).
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn paren_neg(s: String) -> String {
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
}

/// How a column's cells are aligned.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Rows of cells printed with columns padded to their widest cell (widths
/// counted in characters), two spaces between columns, indented by two.
struct Table {
    rows: Vec<Vec<String>>,
    align: Vec<Align>,
}

impl Table {
    fn new(align: &[Align]) -> Self {
        Table {
            rows: Vec::new(),
            align: align.to_vec(),
        }
    }

    fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows
            .push(cells.into_iter().map(|c| c.as_ref().to_string()).collect());
    }

    fn render(&self) -> String {
        let ncols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; ncols];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let mut text = "  ".to_string();
            for (i, cell) in row.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                let last = i + 1 == row.len();
                match self.align.get(i).copied().unwrap_or(Align::Left) {
                    Align::Right => {
                        text.push_str(&" ".repeat(pad));
                        text.push_str(cell);
                    }
                    Align::Left => {
                        text.push_str(cell);
                        if !last {
                            text.push_str(&" ".repeat(pad));
                        }
                    }
                }
                if !last {
                    text.push_str("  ");
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::wengert::tests::sigmoid;

    #[test]
    fn a_user_of_two_slots_is_one_term() {
        // x*x + x at 3: the gradient is 2x + 1 = 7.
        let w = Wengert::parse("x*x + x", &[("x", 3.0)]).unwrap();
        let text = w.explain_text("x*x + x", "x = 3");
        assert!(
            text.contains("= ∂f/∂a · ∂a/∂x + ∂f/∂f · ∂f/∂x  = 1 · 6 + 1 · 1  =  7"),
            "{text}"
        );
        assert!(
            text.contains("∂a/∂x = 3 + 3 = 6 (a uses x 2 times)"),
            "{text}"
        );
    }

    #[test]
    fn html_has_both_sweeps() {
        let w = sigmoid();
        let html = w.explain_html("1/(1+exp(-x))", "x = 2");
        assert!(html.contains("<table>") && html.ends_with("</div>\n"));
        assert!(html.contains("<code>exp(a)</code>"), "{html}");
        // The gradient at 2, seed 002's manual backward pass.
        assert!(
            html.contains("<code>0.10499358540350652</code>")
                || html.contains("<code>0.1049935854035065</code>"),
            "{html}"
        );
        assert!(html.contains("Reverse pass"));
        assert_eq!(html.matches("<table>").count(), 3);
        // Escaped: a comparison in a formula cannot open a tag.
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn text_lists_every_node_once() {
        let w = sigmoid();
        let text = w.explain_text("1/(1+exp(-x))", "x = 2");
        for line in ["a  =  -x", "b  =  exp(a)", "c  =  1 + b", "f  =  1/c"] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(text.contains("∂f/∂f  = 1"), "{text}");
        assert!(text.starts_with("f = 1/(1+exp(-x))   at x = 2\n"));
    }
}
