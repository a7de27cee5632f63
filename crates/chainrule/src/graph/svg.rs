//! The graph of a [`Wengert`] list as SVG: a box per input and operation
//! (its formula, its value from the forward pass, its adjoint from the
//! reverse pass), an arrow per argument labelled with the local derivative
//! ∂user/∂argument, laid out top to bottom by [`super::layout`]. Constants
//! are shown inside their users' formulas (`c = 1 + b`), not as boxes.

use std::fmt::Write;

use super::explain::esc;
use super::layout::{layout, Input, Layout, Role};
use super::number::{num_text, short};
use super::wengert::{Kind, Wengert};

/// Width of a character of the monospace font at 12 px, 11 px and 14 px
/// (DejaVu Sans Mono, Menlo and Consolas advance 0.6 em), with a little slack.
const CHAR_12: f64 = 7.3;
const CHAR_11: f64 = 6.7;
const CHAR_14: f64 = 8.5;
const LINE_H: f64 = 15.0;
const PAD: f64 = 9.0;
const LABEL_H: f64 = 17.0;
const MARGIN: f64 = 16.0;
/// The widest the drawing aims to be: it reads unscaled in a 900 px column.
pub(crate) const TARGET_WIDTH: f64 = 900.0;
/// An input with more users than this is drawn as a chip above each user.
const HUB_USERS: usize = 2;
const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";

/// What is drawn: the boxes (list indices), their text, the edges.
pub(crate) struct Picture {
    /// The list index of each box.
    pub nodes: Vec<usize>,
    /// Whether a box is a chip standing for an input used in many places.
    pub chips: Vec<bool>,
    /// Each box's lines of text.
    pub lines: Vec<Vec<String>>,
    /// Each edge: tail box, head box, label.
    pub edges: Vec<(usize, usize, String)>,
    /// The layout of the boxes and labels.
    pub layout: Layout,
}

impl Wengert {
    /// What [`Wengert::to_svg`] draws, laid out.
    pub(crate) fn picture(&self) -> Picture {
        let out = self.output_name().to_string();
        // Boxes: inputs and operations (and the output, even a constant),
        // in list order. An input used in many places (a hub whose edges
        // would cross the whole picture) gets a chip above each user
        // instead, and its own box at the top with its value and adjoint.
        let users = self.users();
        let distinct_users = |a: usize| {
            let mut u: Vec<usize> = users[a].iter().map(|&(u, _)| u).collect();
            u.dedup();
            u.len()
        };
        let hub = |a: usize| self.nodes[a].kind == Kind::Input && distinct_users(a) > HUB_USERS;
        let mut box_of = vec![usize::MAX; self.nodes.len()];
        let mut nodes = Vec::new();
        let mut lines: Vec<Vec<String>> = Vec::new();
        let mut chips: Vec<bool> = Vec::new();
        // Each edge: tail box, head box, label.
        let mut edges: Vec<(usize, usize, String)> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.kind == Kind::Const && i != self.output {
                continue;
            }
            // One edge per (user, argument) pair; an argument taken in two
            // slots (x*x) is one edge whose local derivative is the sum.
            let mut seen: Vec<usize> = Vec::new();
            let mut incoming = Vec::new();
            for &a in &n.args {
                if self.nodes[a].kind == Kind::Const || seen.contains(&a) {
                    continue;
                }
                seen.push(a);
                let local: f64 = n
                    .args
                    .iter()
                    .zip(&n.local)
                    .filter(|(&b, _)| b == a)
                    .map(|(_, d)| d)
                    .sum();
                let label = format!("{} = {}", self.partial(i, a), short(local));
                let tail = if hub(a) {
                    nodes.push(a);
                    lines.push(vec![self.nodes[a].name.clone()]);
                    chips.push(true);
                    nodes.len() - 1
                } else {
                    box_of[a]
                };
                incoming.push((tail, label));
            }
            box_of[i] = nodes.len();
            nodes.push(i);
            chips.push(false);
            lines.push(match n.kind {
                Kind::Const => vec![n.name.clone()],
                Kind::Input => vec![
                    format!("{} (input)", n.name),
                    format!("value {}", short(n.value)),
                    format!("∂{out}/∂{} {}", n.name, short(n.adjoint)),
                ],
                Kind::Op => vec![
                    format!("{} = {}", n.name, n.formula),
                    format!("value {}", short(n.value)),
                    format!("∂{out}/∂{} {}", n.name, short(n.adjoint)),
                ],
            });
            for (tail, label) in incoming {
                edges.push((tail, box_of[i], label));
            }
        }
        let top: Vec<usize> = nodes
            .iter()
            .enumerate()
            .filter(|&(b, &i)| !chips[b] && hub(i))
            .map(|(b, _)| b)
            .collect();
        let sizes = lines
            .iter()
            .map(|ls| {
                let chars = ls.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
                if ls.len() == 1 {
                    (chars * CHAR_12 + 2.0 * PAD, 24.0)
                } else {
                    (chars * CHAR_12 + 2.0 * PAD, ls.len() as f64 * LINE_H + 10.0)
                }
            })
            .collect();
        let input = Input {
            sizes,
            edges: edges
                .iter()
                .map(|(a, u, label)| {
                    (
                        *a,
                        *u,
                        label.chars().count() as f64 * CHAR_11 + 10.0,
                        LABEL_H,
                    )
                })
                .collect(),
            // Room is left for the lanes of long edges.
            budget: TARGET_WIDTH - 2.0 * MARGIN - 110.0,
            top,
        };
        Picture {
            nodes,
            chips,
            lines,
            edges,
            layout: layout(&input),
        }
    }

    /// The graph as a standalone SVG document, titled with `expr` (as the
    /// user wrote it) and `point` (as text, `x = 2`): one box per input and
    /// operation with its value and adjoint, one arrow per argument labelled
    /// with its local derivative, laid out top to bottom (inputs above
    /// their first user, the output at the bottom) so that graphs up to 50
    /// nodes read at 900 px. No two boxes or labels overlap.
    pub fn to_svg(&self, expr: &str, point: &str) -> String {
        let pic = self.picture();
        let l = &pic.layout;
        let out = self.output_name();
        // Header and footer, wrapped to the drawing's width (at least 560 px).
        let avail = l.width.clamp(560.0, TARGET_WIDTH - 2.0 * MARGIN);
        let title = if point.is_empty() {
            format!("{out} = {expr}")
        } else {
            format!("{out} = {expr}   at {point}")
        };
        let title = wrap(&title, (avail / CHAR_14) as usize);
        let grads: Vec<String> = self
            .inputs()
            .iter()
            .map(|&i| {
                format!(
                    "∂{out}/∂{} = {}",
                    self.nodes[i].name,
                    num_text(self.nodes[i].adjoint)
                )
            })
            .collect();
        let mut summary = format!("{out} = {}", num_text(self.value()));
        if !grads.is_empty() {
            summary.push_str(&format!("   gradient: {}", grads.join(", ")));
        }
        let summary = wrap(&summary, (avail / CHAR_12) as usize);
        let legend = wrap(
            &format!(
                "value: forward pass   ·   ∂{out}/∂v: adjoint, from the reverse pass   ·   \
                 edge label ∂u/∂v: local derivative (rules table)   ·   \
                 constants stand inside their users' formulas{}",
                if pic.chips.contains(&true) {
                    "   ·   a dashed chip stands for the input of that name (edges from an \
                     input used in many places are not drawn from its box)"
                } else {
                    ""
                }
            ),
            (avail / CHAR_11) as usize,
        );
        let text_w = title
            .iter()
            .map(|t| t.chars().count() as f64 * CHAR_14)
            .chain(summary.iter().map(|t| t.chars().count() as f64 * CHAR_12))
            .chain(legend.iter().map(|t| t.chars().count() as f64 * CHAR_11))
            .fold(0.0, f64::max);
        let width = (l.width.max(text_w) + 2.0 * MARGIN).ceil();
        let head_h = 14.0 + title.len() as f64 * 20.0 + summary.len() as f64 * 16.0 + 12.0;
        let foot_h = 10.0 + legend.len() as f64 * 15.0 + 8.0;
        let height = (head_h + l.height + foot_h + 10.0).ceil();
        // The graph, centered.
        let dx = ((width - l.width) / 2.0).max(MARGIN);
        let dy = head_h;

        let mut s = String::new();
        let _ = writeln!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="{FONT}" font-size="12">"##
        );
        s.push_str(
            r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>
"##,
        );
        let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
        let mut y = 14.0;
        for line in &title {
            y += 20.0;
            let _ = writeln!(
                s,
                r##"<text x="{MARGIN}" y="{y:.0}" font-size="14" font-weight="bold" fill="#111827">{}</text>"##,
                esc(line)
            );
        }
        for line in &summary {
            y += 16.0;
            let _ = writeln!(
                s,
                r##"<text x="{MARGIN}" y="{y:.0}" fill="#4b5563">{}</text>"##,
                esc(line)
            );
        }

        // Edges: from the tail's bottom through the lanes and the label to
        // the head's top, curving only between bands.
        for (e, chain) in l.chains.iter().enumerate() {
            let (tail_off, head_off) = l.ports[e];
            let t = &l.vertices[chain[0]];
            let mut at = (t.x + tail_off + dx, t.y + t.h / 2.0 + dy);
            let mut d = format!("M {:.1} {:.1}", at.0, at.1);
            let band_bottom = l.bands[t.layer].1 + dy;
            if band_bottom > at.1 + 0.05 {
                at.1 = band_bottom;
                let _ = write!(d, " L {:.1} {:.1}", at.0, at.1);
            }
            for (k, &v) in chain.iter().enumerate().skip(1) {
                let vx = &l.vertices[v];
                let (top, bottom) = (l.bands[vx.layer].0 + dy, l.bands[vx.layer].1 + dy);
                let last = k + 1 == chain.len();
                let x = vx.x + dx + if last { head_off } else { 0.0 };
                let bend = (top - at.1) / 2.0;
                let _ = write!(
                    d,
                    " C {:.1} {:.1}, {x:.1} {:.1}, {x:.1} {top:.1}",
                    at.0,
                    at.1 + bend,
                    top - bend
                );
                if last {
                    let box_top = vx.y - vx.h / 2.0 + dy;
                    if box_top > top + 0.05 {
                        let _ = write!(d, " L {x:.1} {box_top:.1}");
                    }
                } else {
                    let _ = write!(d, " L {x:.1} {bottom:.1}");
                }
                at = (x, bottom);
            }
            let _ = writeln!(
                s,
                r##"<path d="{d}" fill="none" stroke="#6b7280" stroke-width="1.3" marker-end="url(#arrow)"/>"##
            );
        }
        // Boxes.
        for (b, &i) in pic.nodes.iter().enumerate() {
            let v = &l.vertices[b];
            let (x0, y0) = (v.x - v.w / 2.0 + dx, v.y - v.h / 2.0 + dy);
            let node = &self.nodes[i];
            let (fill, stroke) = match node.kind {
                Kind::Input => ("#ecfdf5", "#059669"),
                Kind::Const => ("#f3f4f6", "#9ca3af"),
                Kind::Op if i == self.output => ("#fef3c7", "#d97706"),
                Kind::Op => ("#eff6ff", "#2563eb"),
            };
            if pic.chips[b] || pic.lines[b].len() == 1 {
                let dash = if pic.chips[b] {
                    r##" stroke-dasharray="3 2""##
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    r##"<rect x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" rx="11" fill="{fill}" stroke="{stroke}" stroke-width="1.3"{dash}/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="bold" fill="#065f46">{}</text>"##,
                    v.w,
                    v.h,
                    v.x + dx,
                    y0 + 16.5,
                    esc(&pic.lines[b][0])
                );
                continue;
            }
            let _ = writeln!(
                s,
                r##"<rect x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" rx="7" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>"##,
                v.w, v.h
            );
            for (k, line) in pic.lines[b].iter().enumerate() {
                let (weight, color) = match k {
                    0 => ("bold", "#111827"),
                    1 => ("normal", "#1f2937"),
                    _ => ("normal", "#6d28d9"),
                };
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-weight="{weight}" fill="{color}">{}</text>"##,
                    x0 + PAD,
                    y0 + 17.0 + k as f64 * LINE_H,
                    esc(line)
                );
            }
        }
        // Labels, on their edges.
        for v in &l.vertices {
            let Role::Label(e) = v.role else { continue };
            let (x0, y0) = (v.x - v.w / 2.0 + dx, v.y - v.h / 2.0 + dy);
            let _ = writeln!(
                s,
                r##"<rect x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" rx="4" fill="#fff7ed" stroke="#fdba74" stroke-width="0.8"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#9a3412">{}</text>"##,
                v.w,
                v.h,
                v.x + dx,
                y0 + 12.5,
                esc(&pic.edges[e].2)
            );
        }
        let mut y = dy + l.height + 10.0;
        for line in &legend {
            y += 15.0;
            let _ = writeln!(
                s,
                r##"<text x="{MARGIN}" y="{y:.0}" font-size="11" fill="#6b7280">{}</text>"##,
                esc(line)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

/// `text` in lines of at most `max` characters, broken after a space, a
/// comma or an operator where possible.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(20);
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while chars.len() - start > max {
        let window = &chars[start..start + max];
        let after = |pat: &[char]| {
            (max / 2..=window.len() - pat.len())
                .rev()
                .find(|&p| window[p..p + pat.len()] == *pat)
                .map(|p| p + pat.len())
        };
        // Between items first, then after a comma, a space, an operator.
        let cut = after(&['·', ' ', ' ', ' '])
            .or_else(|| after(&[' ', ' ', ' ']))
            .or_else(|| after(&[',', ' ']))
            .or_else(|| after(&[' ']))
            .or_else(|| {
                window
                    .iter()
                    .rposition(|c| "+-*/,(·".contains(*c))
                    .map(|p| p + 1)
            })
            .unwrap_or(max)
            .max(1);
        let line: String = chars[start..start + cut].iter().collect();
        lines.push(line.trim_end().to_string());
        start += cut;
        while start < chars.len() && chars[start] == ' ' {
            start += 1;
        }
    }
    let rest: String = chars[start..].iter().collect();
    if !rest.is_empty() || lines.is_empty() {
        lines.push(rest);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::layout::tests::{edge_through_box, overlapping};
    use crate::graph::wengert::tests::sigmoid;

    /// Seed 003's softmax probability of class 0, written out (36 nodes).
    pub(crate) const SOFTMAX: &str =
        "exp(0.2*x1 + 0.4*x2 + 0.1*x3)/(exp(0.2*x1 + 0.4*x2 + 0.1*x3) \
        + exp(-0.5*x1 + 0.1*x2 + 0.3*x3) + exp(0.3*x1 - 0.2*x2 + 0.2*x3))";
    /// The same with a temperature t (each score divided by t): 41 nodes.
    pub(crate) const BIG: &str =
        "exp((0.2*x1 + 0.4*x2 + 0.1*x3)/t)/(exp((0.2*x1 + 0.4*x2 + 0.1*x3)/t) \
        + exp((-0.5*x1 + 0.1*x2 + 0.3*x3)/t) + exp((0.3*x1 - 0.2*x2 + 0.2*x3)/t))";
    pub(crate) const XT: [(&str, f64); 4] = [("t", 2.0), ("x1", 1.0), ("x2", 2.0), ("x3", 3.0)];
    pub(crate) const XS: [(&str, f64); 3] = [("x1", 1.0), ("x2", 2.0), ("x3", 3.0)];

    /// Every box and label of the picture.
    fn rects(w: &Wengert) -> Vec<(f64, f64, f64, f64)> {
        w.picture()
            .layout
            .vertices
            .iter()
            .filter(|v| !matches!(v.role, Role::Lane(_)))
            .map(|v| v.rect())
            .collect()
    }

    fn svg_width(svg: &str) -> f64 {
        let w = svg.split("width=\"").nth(1).unwrap();
        w[..w.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn svg_has_every_node_and_edge_label() {
        let w = sigmoid();
        let svg = w.to_svg("1/(1+exp(-x))", "x = 2");
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        for text in [
            "a = -x",
            "b = exp(a)",
            "c = 1 + b",
            "f = 1/c",
            "x (input)",
            "∂a/∂x = -1",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
        // One arrow per argument that is not a constant: x→a, a→b, b→c, c→f.
        assert_eq!(svg.matches("marker-end=").count(), 4);
    }

    #[test]
    fn no_two_labels_overlap_in_the_seed_graphs() {
        let graphs: Vec<(&str, Vec<(&str, f64)>)> = vec![
            ("1/(1+exp(-x))", vec![("x", 2.0)]),
            (
                "tanh(log(1 + z*(2*x)/sin(y)))",
                vec![("x", 1.0), ("y", 2.0), ("z", 3.0)],
            ),
            ("x*x + x", vec![("x", 3.0)]),
            (
                "(w*x + b - y)^2",
                vec![("w", 0.5), ("x", 2.0), ("b", 0.1), ("y", 1.0)],
            ),
            (SOFTMAX, XS.to_vec()),
            (BIG, XT.to_vec()),
            ("3", vec![]),
            ("x", vec![("x", 1.0)]),
        ];
        for (src, at) in graphs {
            let w = Wengert::parse(src, &at).unwrap();
            assert_eq!(overlapping(&rects(&w)), None, "{src}");
            assert_eq!(edge_through_box(&w.picture().layout), None, "{src}");
        }
    }

    #[test]
    fn the_big_graph_keeps_its_edges_short() {
        // The layering pass (layout::shorten_edges) halved the lanes of the
        // 41-node softmax: 32 lanes on 16 long edges before, 16 on 7 now.
        let l = Wengert::parse(BIG, &XT).unwrap().picture().layout;
        let lanes = |c: &Vec<usize>| {
            c.iter()
                .filter(|&&v| matches!(l.vertices[v].role, Role::Lane(_)))
                .count()
        };
        let total: usize = l.chains.iter().map(lanes).sum();
        let long = l.chains.iter().filter(|c| lanes(c) > 0).count();
        assert!(total <= 16 && long <= 7, "{total} lanes on {long} edges");
    }

    #[test]
    fn the_big_graph_has_over_40_nodes_and_reads_at_900_px() {
        let w = Wengert::parse(BIG, &XT).unwrap();
        assert!(w.nodes.len() > 40, "{}", w.nodes.len());
        let svg = w.to_svg(BIG, "t = 2, x1 = 1, x2 = 2, x3 = 3");
        assert!(svg_width(&svg) <= TARGET_WIDTH, "{}", svg_width(&svg));
        let q6 = "tanh(log(1 + z*(2*x)/sin(y)))";
        let w = Wengert::parse(q6, &[("x", 1.0), ("y", 2.0), ("z", 3.0)]).unwrap();
        assert!(svg_width(&w.to_svg(q6, "x = 1, y = 2, z = 3")) <= TARGET_WIDTH);
    }

    #[test]
    fn random_expressions_up_to_50_nodes_read_at_900_px() {
        // Random expressions over x1..x3: no overlaps, at most 900 px wide.
        let mut s = 12345u64;
        let mut next = |m: usize| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as usize) % m
        };
        for trial in 0..40 {
            let mut terms: Vec<String> = vec!["x1".into(), "x2".into(), "x3".into()];
            let mut src = String::new();
            for _ in 0..(4 + trial % 22) {
                let a = terms[next(terms.len())].clone();
                let b = terms[next(terms.len())].clone();
                let t = match next(6) {
                    0 => format!("sin({a})"),
                    1 => format!("({a} + {b})"),
                    2 => format!("({a}*{b})"),
                    3 => format!("exp(0.1*{a})"),
                    4 => format!("({a} - 2*{b})"),
                    _ => format!("tanh({a})"),
                };
                terms.push(t.clone());
                src = t;
            }
            let Ok(w) = Wengert::parse(&src, &XS) else {
                continue;
            };
            if w.nodes.len() > 50 {
                continue;
            }
            assert_eq!(overlapping(&rects(&w)), None, "{src}");
            assert_eq!(edge_through_box(&w.picture().layout), None, "{src}");
            let svg = w.to_svg(&src, "x1 = 1, x2 = 2, x3 = 3");
            assert!(
                svg_width(&svg) <= TARGET_WIDTH,
                "{} px: {src}",
                svg_width(&svg)
            );
        }
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_operators() {
        assert_eq!(wrap("short", 40), ["short"]);
        let lines = wrap(&"a + ".repeat(30), 25);
        assert!(lines.iter().all(|l| l.chars().count() <= 25), "{lines:?}");
        let lines = wrap(&"x*".repeat(40), 25);
        assert!(lines
            .iter()
            .all(|l| l.chars().count() <= 25 && l.ends_with('*')));
    }
}
