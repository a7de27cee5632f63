//! Pictures of a [`Wengert`] list: SVG laid out by layers (pure Rust, no
//! Graphviz needed) and DOT text for those who have Graphviz.
//!
//! Layout: columns from left to right by depth (inputs first, the output
//! last, each constant just left of its user), nodes in a column ordered by
//! the barycenter of their neighbours to keep edges from crossing, edges as
//! cubic curves labelled with their local derivative ∂user/∂arg.

use std::fmt::Write;

use crate::json::num_text;
use crate::wengert::{short, Kind, Wengert};

/// Character width and line height of the SVG's monospace text, in pixels.
const CHAR_W: f64 = 7.8;
const LINE_H: f64 = 17.0;
/// Graphs up to this many nodes get lanes for long edges and labels placed
/// clear of each other; larger ones are drawn plainly.
const MAX_LANED_NODES: usize = 400;
const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";

struct Placed {
    col: usize,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    lines: Vec<String>,
}

/// The layer of every node: an operation one right of its deepest operation
/// argument (1 if it has none), an input or a constant one left of its
/// leftmost user, so that a variable used late enters late.
fn layers(w: &Wengert) -> Vec<usize> {
    let n = w.nodes.len();
    let mut layer = vec![0usize; n];
    for i in 0..n {
        let node = &w.nodes[i];
        if node.kind == Kind::Op {
            let deepest = node
                .args
                .iter()
                .filter(|&&a| w.nodes[a].kind == Kind::Op)
                .map(|&a| layer[a])
                .max();
            layer[i] = deepest.map_or(1, |d| d + 1);
        }
    }
    let users = w.users();
    for i in 0..n {
        if w.nodes[i].kind != Kind::Op {
            let leftmost = users[i].iter().map(|&(u, _)| layer[u]).min().unwrap_or(1);
            layer[i] = leftmost.saturating_sub(1);
        }
    }
    layer
}

/// One edge of the list drawn as a chain of vertices: its argument, the
/// dummy vertices that carry it through the columns it skips, its user.
struct Chain {
    user: usize,
    arg: usize,
    slot: usize,
    verts: Vec<usize>,
}

/// Where everything goes: real nodes first (indices as in the list), then
/// dummy vertices of long edges.
struct Layout {
    placed: Vec<Placed>,
    chains: Vec<Chain>,
    width: f64,
    height: f64,
}

/// Node positions, columns and text lines (a Sugiyama-style layered
/// layout: long edges get a dummy vertex in every column they cross, so
/// they run in lanes of their own instead of behind other nodes).
fn layout(w: &Wengert) -> Layout {
    let layer = layers(w);
    let n = w.nodes.len();
    let mut vlayer = layer.clone();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut chains = Vec::new();
    // Lanes for long edges keep small graphs readable; a huge graph is drawn
    // with direct edges (lanes would cost quadratic space).
    let lanes = n <= MAX_LANED_NODES;
    for (u, node) in w.nodes.iter().enumerate() {
        for (k, &a) in node.args.iter().enumerate() {
            let mut verts = vec![a];
            let skipped = if lanes { layer[a] + 1..layer[u] } else { 0..0 };
            for l in skipped {
                let d = vlayer.len();
                vlayer.push(l);
                preds.push(Vec::new());
                succs.push(Vec::new());
                verts.push(d);
            }
            verts.push(u);
            for pair in verts.windows(2) {
                succs[pair[0]].push(pair[1]);
                preds[pair[1]].push(pair[0]);
            }
            chains.push(Chain {
                user: u,
                arg: a,
                slot: k,
                verts,
            });
        }
    }
    let nv = vlayer.len();
    let ncols = vlayer.iter().copied().max().map_or(0, |m| m + 1);
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); ncols];
    for (v, &l) in vlayer.iter().enumerate() {
        cols[l].push(v);
    }
    // Barycenter ordering, a few sweeps each way.
    let mut pos = vec![0.0f64; nv];
    let refresh = |col: &[usize], pos: &mut Vec<f64>| {
        for (k, &v) in col.iter().enumerate() {
            pos[v] = k as f64;
        }
    };
    for col in &cols {
        refresh(col, &mut pos);
    }
    let sweep = |col: &mut Vec<usize>, pos: &[f64], nbrs: &[Vec<usize>]| {
        let mut keyed: Vec<(f64, usize)> = col
            .iter()
            .map(|&v| {
                let ns = &nbrs[v];
                let key = if ns.is_empty() {
                    pos[v]
                } else {
                    ns.iter().map(|&m| pos[m]).sum::<f64>() / ns.len() as f64
                };
                (key, v)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        *col = keyed.into_iter().map(|(_, v)| v).collect();
    };
    for _ in 0..6 {
        for col in cols.iter_mut().skip(1) {
            sweep(col, &pos, &preds);
            refresh(col, &mut pos);
        }
        for c in (0..ncols.saturating_sub(1)).rev() {
            sweep(&mut cols[c], &pos, &succs);
            refresh(&cols[c], &mut pos);
        }
    }

    let out = w.output_name().to_string();
    let mut placed: Vec<Placed> = (0..nv)
        .map(|v| {
            if v >= n {
                return Placed {
                    col: vlayer[v],
                    x: 0.0,
                    y: 0.0,
                    w: 0.0,
                    h: 18.0,
                    lines: Vec::new(),
                };
            }
            let node = &w.nodes[v];
            let lines = match node.kind {
                Kind::Const => vec![node.name.clone()],
                Kind::Input => vec![
                    format!("{} (input)", node.name),
                    format!("value    {}", short(node.value)),
                    format!("∂{out}/∂{}  {}", node.name, short(node.adjoint)),
                ],
                Kind::Op => vec![
                    format!("{} = {}", node.name, node.formula),
                    format!("value    {}", short(node.value)),
                    format!("∂{out}/∂{}  {}", node.name, short(node.adjoint)),
                ],
            };
            let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1);
            let (bw, bh) = if node.kind == Kind::Const {
                ((chars as f64 * CHAR_W + 18.0).max(30.0), 26.0)
            } else {
                (
                    chars as f64 * CHAR_W + 24.0,
                    lines.len() as f64 * LINE_H + 14.0,
                )
            };
            Placed {
                col: layer[v],
                x: 0.0,
                y: 0.0,
                w: bw,
                h: bh,
                lines,
            }
        })
        .collect();

    // Column widths, and gaps wide enough for the labels that start there.
    let mut col_w = vec![20.0f64; ncols];
    for p in placed.iter().take(n) {
        col_w[p.col] = col_w[p.col].max(p.w);
    }
    let mut gap = vec![60.0f64; ncols];
    for ch in &chains {
        if w.nodes[ch.arg].kind == Kind::Const {
            continue;
        }
        let label = edge_label(w, ch.user, ch.arg, ch.slot);
        let c = placed[ch.arg].col;
        gap[c] = gap[c].max(label.chars().count() as f64 * CHAR_W * 0.92 + 36.0);
    }
    let margin = 24.0;
    let top = 70.0;
    let mut x = margin;
    let mut col_x = vec![0.0f64; ncols];
    for c in 0..ncols {
        col_x[c] = x;
        x += col_w[c] + gap[c];
    }
    let width = x - gap.last().copied().unwrap_or(0.0) + margin;
    let vgap = 26.0;
    let col_h: Vec<f64> = cols
        .iter()
        .map(|col| {
            col.iter().map(|&v| placed[v].h).sum::<f64>()
                + vgap * col.len().saturating_sub(1) as f64
        })
        .collect();
    let body_h = col_h.iter().copied().fold(0.0, f64::max);
    for (c, col) in cols.iter().enumerate() {
        let mut y = top + (body_h - col_h[c]) / 2.0;
        for &v in col {
            let p = &mut placed[v];
            if v >= n {
                // A lane straight through the column.
                p.x = col_x[c];
                p.w = col_w[c];
            } else if w.nodes[v].kind == Kind::Const {
                // Constants sit at the right edge of their column, next to their user.
                p.x = col_x[c] + col_w[c] - p.w;
            } else {
                p.x = col_x[c] + (col_w[c] - p.w) / 2.0;
            }
            p.y = y;
            y += p.h + vgap;
        }
    }
    let height = top + body_h + 64.0;
    Layout {
        placed,
        chains,
        width: width.max(420.0),
        height,
    }
}

fn edge_label(w: &Wengert, user: usize, arg: usize, slot: usize) -> String {
    let n = &w.nodes[user];
    format!("{} = {}", w.partial(user, arg), short(n.local[slot]))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The graph as a standalone SVG document.
pub fn to_svg(w: &Wengert, expr: &str, point: &str) -> String {
    let Layout {
        placed,
        chains,
        width,
        height,
    } = layout(w);
    let out = w.output_name();
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="{FONT}" font-size="13">"##
    );
    s.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>
"##,
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let title = if point.is_empty() {
        format!("{out} = {expr}")
    } else {
        format!("{out} = {expr}   at {point}")
    };
    let _ = writeln!(
        s,
        r##"<text x="24" y="30" font-size="16" font-weight="bold" fill="#111827">{}</text>"##,
        esc(&title)
    );
    let grads: Vec<String> = w
        .inputs()
        .iter()
        .map(|&i| {
            format!(
                "∂{out}/∂{} = {}",
                w.nodes[i].name,
                num_text(w.nodes[i].adjoint)
            )
        })
        .collect();
    let _ = writeln!(
        s,
        r##"<text x="24" y="52" fill="#4b5563">{} = {}<tspan dx="28">{}{}</tspan></text>"##,
        esc(out),
        esc(&num_text(w.value())),
        if grads.is_empty() { "" } else { "gradient: " },
        esc(&grads.join(", "))
    );

    // Edges first, so that nodes and labels sit on top. Labels are placed
    // at the first point along their curve where they overlap nothing.
    let mut taken: Vec<(f64, f64, f64, f64)> = placed
        .iter()
        .take(w.nodes.len())
        .map(|p| (p.x, p.y, p.x + p.w, p.y + p.h))
        .collect();
    // Incoming edges of a node enter top to bottom in the order of where
    // they come from, so that they do not cross at the arrowheads.
    let mut rank = vec![0usize; chains.len()];
    let mut by_user: Vec<Vec<usize>> = vec![Vec::new(); w.nodes.len()];
    for (i, ch) in chains.iter().enumerate() {
        by_user[ch.user].push(i);
    }
    for list in &by_user {
        let mut incoming: Vec<(f64, usize)> = list
            .iter()
            .map(|&i| {
                let ch = &chains[i];
                let before = ch.verts[ch.verts.len() - 2];
                (
                    placed[before].y + placed[before].h / 2.0 + 0.01 * ch.slot as f64,
                    i,
                )
            })
            .collect();
        incoming.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (r, (_, i)) in incoming.into_iter().enumerate() {
            rank[i] = r;
        }
    }
    let mut labels = String::new();
    for (ci, ch) in chains.iter().enumerate() {
        let (u, a, k) = (ch.user, ch.arg, ch.slot);
        let nargs = w.nodes[u].args.len() as f64;
        let entry = rank[ci] as f64;
        // Points where the path leaves one vertex and enters the next.
        let pa = &placed[a];
        let mut out_pt = (pa.x + pa.w, pa.y + pa.h / 2.0);
        let mut d = format!("M {:.1} {:.1}", out_pt.0, out_pt.1);
        let mut first_segment = None;
        for &v in &ch.verts[1..] {
            let pv = &placed[v];
            let in_pt = if v == u {
                (
                    pv.x - 2.0,
                    pv.y + pv.h / 2.0 + (entry - (nargs - 1.0) / 2.0) * 16.0,
                )
            } else {
                (pv.x, pv.y + pv.h / 2.0)
            };
            let dx = ((in_pt.0 - out_pt.0) * 0.5).max(30.0);
            let (c1x, c2x) = (out_pt.0 + dx, in_pt.0 - dx);
            let _ = write!(
                d,
                " C {c1x:.1} {:.1}, {c2x:.1} {:.1}, {:.1} {:.1}",
                out_pt.1, in_pt.1, in_pt.0, in_pt.1
            );
            if first_segment.is_none() {
                first_segment = Some((out_pt, (c1x, c2x), in_pt));
            }
            if v != u {
                // Straight through the dummy's lane.
                out_pt = (pv.x + pv.w, in_pt.1);
                let _ = write!(d, " L {:.1} {:.1}", out_pt.0, out_pt.1);
            }
        }
        let from_const = w.nodes[a].kind == Kind::Const;
        let dash = if from_const {
            r##" stroke-dasharray="4 3""##
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r##"<path d="{d}" fill="none" stroke="#6b7280" stroke-width="1.4"{dash} marker-end="url(#arrow)"/>"##
        );
        if from_const {
            // A constant has no adjoint worth drawing: its edge carries no label.
            continue;
        }
        let Some(((x0, y0), (c1x, c2x), (x1, y1))) = first_segment else {
            continue;
        };
        let label = edge_label(w, u, a, k);
        let lw = label.chars().count() as f64 * CHAR_W * 0.92 + 10.0;
        let at = |t: f64| {
            let m = 1.0 - t;
            let bx =
                m * m * m * x0 + 3.0 * m * m * t * c1x + 3.0 * m * t * t * c2x + t * t * t * x1;
            let by = m * m * m * y0 + 3.0 * m * m * t * y0 + 3.0 * m * t * t * y1 + t * t * t * y1;
            (bx, by)
        };
        let rect = |(mx, my): (f64, f64)| (mx - lw / 2.0, my - 9.0, mx + lw / 2.0, my + 8.0);
        let overlaps = |r: (f64, f64, f64, f64), taken: &[(f64, f64, f64, f64)]| {
            taken
                .iter()
                .any(|t| r.0 < t.2 + 2.0 && t.0 < r.2 + 2.0 && r.1 < t.3 + 2.0 && t.1 < r.3 + 2.0)
        };
        let candidates: &[f64] = if w.nodes.len() <= MAX_LANED_NODES {
            &[0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8]
        } else {
            &[0.5]
        };
        let (mx, my) = candidates
            .iter()
            .map(|&t| at(t))
            .find(|&m| candidates.len() == 1 || !overlaps(rect(m), &taken))
            .unwrap_or_else(|| at(0.5));
        if candidates.len() > 1 {
            taken.push(rect((mx, my)));
        }
        let _ = writeln!(
            labels,
            r##"<rect x="{:.1}" y="{:.1}" width="{lw:.1}" height="17" rx="4" fill="#fff7ed" stroke="#fdba74" stroke-width="0.8"/><text x="{mx:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="#9a3412">{}</text>"##,
            mx - lw / 2.0,
            my - 9.0,
            my + 4.0,
            esc(&label)
        );
    }
    for (i, node) in w.nodes.iter().enumerate() {
        let p = &placed[i];
        let (fill, stroke) = match node.kind {
            Kind::Input => ("#ecfdf5", "#059669"),
            Kind::Const => ("#f3f4f6", "#9ca3af"),
            Kind::Op if i == w.output => ("#fef3c7", "#d97706"),
            Kind::Op => ("#eff6ff", "#2563eb"),
        };
        let rx = if node.kind == Kind::Const { 13.0 } else { 8.0 };
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="1.6"/>"##,
            p.x, p.y, p.w, p.h
        );
        if node.kind == Kind::Const {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#374151">{}</text>"##,
                p.x + p.w / 2.0,
                p.y + 17.5,
                esc(&p.lines[0])
            );
            continue;
        }
        for (k, line) in p.lines.iter().enumerate() {
            let (weight, color) = match k {
                0 => ("bold", "#111827"),
                1 => ("normal", "#1f2937"),
                _ => ("normal", "#6d28d9"),
            };
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-weight="{weight}" fill="{color}">{}</text>"##,
                p.x + 12.0,
                p.y + 20.0 + k as f64 * LINE_H,
                esc(line)
            );
        }
    }
    s.push_str(&labels);
    let _ = writeln!(
        s,
        r##"<text x="24" y="{:.0}" font-size="12" fill="#6b7280">value: forward pass<tspan dx="28" fill="#6d28d9">∂{out}/∂v: adjoint, from the reverse pass</tspan><tspan dx="28" fill="#9a3412">edge label ∂u/∂v: local derivative (rules table)</tspan></text>"##,
        height - 22.0
    );
    s.push_str("</svg>\n");
    s
}

/// The graph as Graphviz DOT text.
pub fn to_dot(w: &Wengert, expr: &str, point: &str) -> String {
    let out = w.output_name();
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
    for (i, n) in w.nodes.iter().enumerate() {
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
                if i == w.output { "#fef3c7" } else { "#eff6ff" },
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
    for (u, n) in w.nodes.iter().enumerate() {
        for (k, &a) in n.args.iter().enumerate() {
            let _ = writeln!(
                s,
                "  n{a} -> n{u} [label=\"{}\"];",
                q(&format!("{} = {}", w.partial(u, a), num_text(n.local[k])))
            );
        }
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wengert::tests::sigmoid_syntax;
    use chainrule::symbolic::parse_syntax;

    #[test]
    fn svg_has_every_node_and_edge_label() {
        let w = Wengert::build(&sigmoid_syntax(), |_| 2.0);
        let svg = to_svg(&w, "1/(1+exp(-x))", "x = 2");
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
        // One path per edge: x→a, a→b, 1→c, b→c, 1→f, c→f.
        assert_eq!(svg.matches("marker-end=").count(), 6);
    }

    #[test]
    fn layers_run_left_to_right() {
        let w = Wengert::build(&sigmoid_syntax(), |_| 2.0);
        let l = layers(&w);
        let by_name = |name: &str| w.nodes.iter().position(|n| n.name == name).unwrap();
        assert!(l[by_name("x")] < l[by_name("a")]);
        assert!(l[by_name("a")] < l[by_name("b")]);
        assert!(l[by_name("c")] < l[by_name("f")]);
    }

    #[test]
    fn long_edges_get_lanes() {
        // x + exp(sin(x)): the edge x → + skips the columns of sin and exp.
        let w = Wengert::build(&parse_syntax("x + exp(sin(x))").unwrap(), |_| 0.5);
        let l = layout(&w);
        let long = l
            .chains
            .iter()
            .find(|c| c.verts.len() > 2)
            .expect("a long edge");
        assert_eq!(long.verts.len(), 4, "x, two lanes, +");
        assert_eq!(l.placed.len(), w.nodes.len() + 2);
        // Lanes sit in the columns between their ends.
        let cols: Vec<usize> = long.verts.iter().map(|&v| l.placed[v].col).collect();
        assert!(cols.windows(2).all(|p| p[1] == p[0] + 1), "{cols:?}");
        let svg = to_svg(&w, "x + exp(sin(x))", "x = 0.5");
        assert_eq!(svg.matches("marker-end=").count(), 4);
    }

    #[test]
    fn dot_is_a_digraph() {
        let w = Wengert::build(&sigmoid_syntax(), |_| 2.0);
        let dot = to_dot(&w, "1/(1+exp(-x))", "x = 2");
        assert!(dot.starts_with("digraph chainrule {"));
        assert_eq!(dot.matches(" -> ").count(), 6);
        assert!(dot.contains("∂a/∂x = -1"));
    }
}
