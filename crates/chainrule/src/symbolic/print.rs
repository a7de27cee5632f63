//! Printers: plain text in the CLI grammar (printing then parsing gives the
//! same `Expr`), LaTeX, and text with shared subexpressions as `where`
//! bindings. All of them walk the formula with an explicit stack.
//!
//! Conventions (SymPy's): terms with a negative coefficient print as
//! subtraction (`x - 2*y`); negative numeric powers print as division
//! (`x^-1` as `1/x`, `x^-2*y` as `y/x^2`); a rational coefficient is split
//! into numerator and denominator (`x/2`, `3*x/2`); `x^(1/2)` prints as
//! `sqrt(x)`; `-x^2` means `-(x^2)`, as in the grammar. Parentheses appear
//! only where precedence needs them. Non-finite float constants print as
//! `inf`, `-inf`, `nan` (which do not parse back; they only arise from f64
//! constants given by the caller).

use std::fmt::{self, Write};

use super::expr::{Constant, Expr, FxMap, Node};
use super::num::Num;
use crate::ops::UnaryOp;

const SUM: u8 = 1;
const PROD: u8 = 2;
const NEG: u8 = 3;
const POW: u8 = 4;
const ATOM: u8 = 5;

/// Which notation to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Text,
    Latex,
}

/// A piece of pending output.
enum Item {
    Str(&'static str),
    Owned(String),
    /// A node printed with at least this precedence, optionally negated.
    Node(Expr, u8, bool),
    /// `base^k` for a positive number k (the denominator of a product).
    PowNum(Expr, Num, u8),
}

/// Prints a numeric power's exponent.
fn exponent_text(k: Num, style: Style) -> String {
    match (style, k) {
        (Style::Text, Num::Rat(_, 1)) => k.to_string(),
        (Style::Text, Num::Rat(..)) => format!("({k})"),
        (Style::Text, Num::Float(_)) => k.to_string(),
        (Style::Latex, _) => format!("{{{}}}", latex_num(k)),
    }
}

fn latex_num(k: Num) -> String {
    match k {
        Num::Rat(p, 1) => p.to_string(),
        Num::Rat(p, q) if p < 0 => format!("- \\frac{{{}}}{{{q}}}", -p),
        Num::Rat(p, q) => format!("\\frac{{{p}}}{{{q}}}"),
        Num::Float(x) if x.is_nan() => "\\mathrm{NaN}".into(),
        Num::Float(x) if x.is_infinite() => if x > 0.0 { "\\infty" } else { "-\\infty" }.into(),
        Num::Float(_) => k.to_string(),
    }
}

/// Splits a product into (coefficient, numerator factors, denominator
/// (base, positive exponent) pairs).
fn split_product(fs: &[Expr]) -> (Num, Vec<Expr>, Vec<(Expr, Num)>) {
    let mut coeff = Num::ONE;
    let mut numer = Vec::new();
    let mut denom = Vec::new();
    for &f in fs {
        match f.node() {
            Node::Num(c) => coeff = c,
            Node::Pow([b, e]) => match e.as_num() {
                Some(k) if k.is_negative() => denom.push((b, k.negated())),
                _ => numer.push(f),
            },
            _ => numer.push(f),
        }
    }
    (coeff, numer, denom)
}

/// The precedence of `e` as printed (with its sign flipped if `negate`).
fn precedence(e: Expr, negate: bool) -> u8 {
    match e.node() {
        Node::Num(n) => {
            let n = if negate { n.negated() } else { n };
            match n {
                Num::Rat(_, q) if q != 1 => PROD,
                _ if n.is_negative() => NEG,
                _ => ATOM,
            }
        }
        Node::Const(_) | Node::Sym(_) | Node::Unary(..) | Node::Binary(..) => ATOM,
        Node::Add(_) => SUM,
        Node::Pow([_, ex]) => match ex.as_num() {
            Some(k) if k == Num::rational(1, 2) => ATOM,
            Some(k) if k.is_negative() => PROD,
            _ => POW,
        },
        Node::Mul(fs) => {
            let (c, numer, denom) = split_product(&fs);
            let c = if negate { c.negated() } else { c };
            let simple_coeff = c == Num::ONE || c == Num::MINUS_ONE;
            if denom.is_empty() && numer.len() == 1 && simple_coeff && matches!(c, Num::Rat(..)) {
                if c.is_negative() {
                    NEG
                } else {
                    precedence(numer[0], false)
                }
            } else {
                PROD
            }
        }
    }
}

/// Whether a term of a sum prints with a leading minus.
fn is_negative_term(e: Expr) -> bool {
    match e.node() {
        Node::Num(n) => n.is_negative(),
        Node::Mul(fs) => fs[0].as_num().is_some_and(|c| c.is_negative()),
        _ => false,
    }
}

/// Writes `root` in the chosen notation, walking with an explicit stack.
pub(crate) fn write_expr(out: &mut String, root: Expr, style: Style, names: &FxMap<Expr, String>) {
    let mut stack = vec![Item::Node(root, SUM, false)];
    let mut first = true;
    while let Some(item) = stack.pop() {
        match item {
            Item::Str(s) => out.push_str(s),
            Item::Owned(s) => out.push_str(&s),
            Item::PowNum(b, k, lone) => {
                let mut items = Vec::new();
                if k == Num::rational(1, 2) {
                    sqrt_items(&mut items, b, style);
                } else if k.is_one() {
                    items.push(Item::Node(b, lone, false));
                } else {
                    items.push(Item::Node(b, ATOM, false));
                    items.push(Item::Str("^"));
                    items.push(Item::Owned(exponent_text(k, style)));
                }
                stack.extend(items.into_iter().rev());
            }
            Item::Node(e, min_prec, negate) => {
                if !first {
                    if let Some(name) = names.get(&e) {
                        if negate {
                            out.push('-');
                        }
                        out.push_str(name);
                        continue;
                    }
                }
                first = false;
                let mut items = Vec::new();
                let paren = precedence(e, negate) < min_prec;
                if paren {
                    items.push(Item::Str(if style == Style::Latex {
                        "\\left("
                    } else {
                        "("
                    }));
                }
                node_items(&mut items, e, negate, style, names);
                if paren {
                    items.push(Item::Str(if style == Style::Latex {
                        "\\right)"
                    } else {
                        ")"
                    }));
                }
                stack.extend(items.into_iter().rev());
            }
        }
    }
}

fn sqrt_items(items: &mut Vec<Item>, b: Expr, style: Style) {
    match style {
        Style::Text => {
            items.push(Item::Str("sqrt("));
            items.push(Item::Node(b, SUM, false));
            items.push(Item::Str(")"));
        }
        Style::Latex => {
            items.push(Item::Str("\\sqrt{"));
            items.push(Item::Node(b, SUM, false));
            items.push(Item::Str("}"));
        }
    }
}

fn latex_symbol(name: &str) -> String {
    // x1 → x_{1}, w_2 → w_{2}; Greek names get their command.
    const GREEK: [&str; 20] = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "lambda",
        "mu", "nu", "xi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
    ];
    let (head, tail) = match name.find('_') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => {
            let i = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            (&name[..i], &name[i..])
        }
    };
    let head = if GREEK.contains(&head) {
        format!("\\{head}")
    } else {
        head.to_string()
    };
    if tail.is_empty() {
        head
    } else {
        format!("{head}_{{{tail}}}")
    }
}

fn node_items(
    items: &mut Vec<Item>,
    e: Expr,
    negate: bool,
    style: Style,
    names: &FxMap<Expr, String>,
) {
    let latex = style == Style::Latex;
    match e.node() {
        Node::Num(n) => {
            let n = if negate { n.negated() } else { n };
            items.push(Item::Owned(if latex {
                latex_num(n)
            } else {
                n.to_string()
            }));
        }
        Node::Const(c) => items.push(Item::Str(match (c, latex) {
            (Constant::Pi, true) => "\\pi",
            _ => c.name(),
        })),
        Node::Sym(s) => items.push(Item::Owned(if latex {
            latex_symbol(&s)
        } else {
            s.to_string()
        })),
        Node::Add(ts) => {
            // SymPy prints `1 - x^2`, not `-x^2 + 1`: a sum that would start
            // with a minus starts with its first positive term instead.
            let neg = |t: &Expr| is_negative_term(*t) && !names.contains_key(t);
            let mut ts = ts.to_vec();
            if neg(&ts[0]) {
                if let Some(k) = ts.iter().position(|t| !neg(t)) {
                    let t = ts.remove(k);
                    ts.insert(0, t);
                }
            }
            for (i, &t) in ts.iter().enumerate() {
                if i == 0 {
                    items.push(Item::Node(t, PROD, false));
                } else if is_negative_term(t) && !names.contains_key(&t) {
                    items.push(Item::Str(" - "));
                    items.push(Item::Node(t, PROD, true));
                } else {
                    items.push(Item::Str(" + "));
                    items.push(Item::Node(t, PROD, false));
                }
            }
        }
        Node::Mul(fs) => {
            let (c, numer, denom) = split_product(&fs);
            let c = if negate { c.negated() } else { c };
            product_items(items, c, &numer, &denom, style);
        }
        Node::Pow([b, ex]) => match ex.as_num() {
            Some(k) if k == Num::rational(1, 2) => sqrt_items(items, b, style),
            Some(k) if k.is_negative() => {
                product_items(items, Num::ONE, &[], &[(b, k.negated())], style)
            }
            _ => {
                if latex {
                    items.push(Item::Node(b, ATOM, false));
                    items.push(Item::Str("^{"));
                    items.push(Item::Node(ex, SUM, false));
                    items.push(Item::Str("}"));
                } else {
                    items.push(Item::Node(b, ATOM, false));
                    items.push(Item::Str("^"));
                    items.push(Item::Node(ex, NEG, false));
                }
            }
        },
        Node::Unary(op, a) => {
            if latex {
                if op == UnaryOp::Exp {
                    items.push(Item::Str("e^{"));
                    items.push(Item::Node(a, SUM, false));
                    items.push(Item::Str("}"));
                    return;
                }
                if op == UnaryOp::Abs {
                    items.push(Item::Str("\\left|"));
                    items.push(Item::Node(a, SUM, false));
                    items.push(Item::Str("\\right|"));
                    return;
                }
                items.push(Item::Owned(op.latex_call_name().into_owned()));
                items.push(Item::Str("\\left("));
                items.push(Item::Node(a, SUM, false));
                items.push(Item::Str("\\right)"));
            } else {
                items.push(Item::Str(op.name()));
                items.push(Item::Str("("));
                if let UnaryOp::SphJ(n) = op {
                    items.push(Item::Owned(format!("{n}, ")));
                }
                items.push(Item::Node(a, SUM, false));
                items.push(Item::Str(")"));
            }
        }
        Node::Binary(op, [a, b]) => {
            items.push(Item::Str(if latex { op.latex_name() } else { op.name() }));
            items.push(Item::Str(if latex { "\\left(" } else { "(" }));
            items.push(Item::Node(a, SUM, false));
            items.push(Item::Str(", "));
            items.push(Item::Node(b, SUM, false));
            items.push(Item::Str(if latex { "\\right)" } else { ")" }));
        }
    }
}

/// A product: `[-]numerator[/denominator]` in text, `\frac` in LaTeX.
fn product_items(
    items: &mut Vec<Item>,
    c: Num,
    numer: &[Expr],
    denom: &[(Expr, Num)],
    style: Style,
) {
    let latex = style == Style::Latex;
    let (c_num, c_den) = match c {
        Num::Rat(p, q) => (Num::int(p), q),
        Num::Float(_) => (c, 1),
    };
    let negative = c_num.is_negative();
    let c_abs = if negative { c_num.negated() } else { c_num };
    // `-(a + b)/x` would parse as `(-a - b)/x` (a number times a sum is
    // distributed), so a product that starts with a sum is negated whole.
    let wrap = !latex
        && negative
        && c_abs.is_one()
        && numer
            .first()
            .is_some_and(|f| f.with(|n| matches!(n, Node::Add(_))));
    if negative {
        items.push(Item::Str(if wrap { "-(" } else { "-" }));
    }
    let sep = if latex { " " } else { "*" };
    // Inside \frac{..}{..} a lone factor needs no parentheses.
    let lone = |n: usize| if latex && n == 1 { SUM } else { NEG };
    let numer_prec = lone(numer.len() + usize::from(!c_abs.is_one()));
    let mut numer_items: Vec<Item> = Vec::new();
    if !c_abs.is_one() || numer.is_empty() {
        numer_items.push(Item::Owned(if latex {
            latex_num(c_abs)
        } else {
            c_abs.to_string()
        }));
    }
    for &f in numer {
        if !numer_items.is_empty() {
            numer_items.push(Item::Str(if latex && f.as_num().is_some() {
                " \\cdot "
            } else {
                sep
            }));
        }
        numer_items.push(Item::Node(f, numer_prec, false));
    }
    let den_count = denom.len() + usize::from(c_den != 1);
    if den_count == 0 {
        items.extend(numer_items);
        if wrap {
            items.push(Item::Str(")"));
        }
        return;
    }
    let mut den_items: Vec<Item> = Vec::new();
    if c_den != 1 {
        den_items.push(Item::Owned(c_den.to_string()));
    }
    for &(b, k) in denom {
        if !den_items.is_empty() {
            den_items.push(Item::Str(sep));
        }
        den_items.push(Item::PowNum(b, k, lone(den_count)));
    }
    if latex {
        items.push(Item::Str("\\frac{"));
        items.extend(numer_items);
        items.push(Item::Str("}{"));
        items.extend(den_items);
        items.push(Item::Str("}"));
    } else {
        items.extend(numer_items);
        items.push(Item::Str("/"));
        let divides_by_zero = denom.iter().any(|(b, _)| b.is_zero());
        let lone_sum = c_den != 1
            && denom.len() == 1
            && denom[0].1.is_one()
            && denom[0].0.with(|n| matches!(n, Node::Add(_)));
        if divides_by_zero || lone_sum {
            // `x/(0*y)` would parse as x/0 and `1/(2*(x + y))` as
            // 1/(2*x + 2*y): divide by each factor in turn.
            let mut first = true;
            for item in den_items {
                match item {
                    Item::Str("*") => {}
                    Item::PowNum(b, k, _) => {
                        if !first {
                            items.push(Item::Str("/"));
                        }
                        first = false;
                        items.push(Item::PowNum(b, k, NEG));
                    }
                    other => {
                        first = false;
                        items.push(other);
                    }
                }
            }
        } else if den_count > 1 {
            items.push(Item::Str("("));
            items.extend(den_items);
            items.push(Item::Str(")"));
        } else {
            items.extend(den_items);
        }
        if wrap {
            items.push(Item::Str(")"));
        }
    }
}

impl fmt::Display for Expr {
    /// Plain text in the CLI grammar; parsing it gives this `Expr` back.
    /// A stale handle (see [`Expr::is_live`]) prints as
    /// `<formula of a freed arena>`, never as another formula.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_live() {
            return f.write_str("<formula of a freed arena>");
        }
        let mut s = String::new();
        write_expr(&mut s, *self, Style::Text, &FxMap::default());
        f.write_str(&s)
    }
}

impl Expr {
    /// The formula in LaTeX (`\frac{1}{2 \sqrt{x}}`, `e^{x}`, `x_{1}`).
    pub fn to_latex(&self) -> String {
        let mut s = String::new();
        write_expr(&mut s, *self, Style::Latex, &FxMap::default());
        s
    }

    /// Plain text with every non-trivial subexpression used more than once
    /// pulled out as a binding: `t1*x + t1 where t1 = exp(x^2)`. Bindings
    /// are listed in the order they are needed (each uses only earlier ones)
    /// and named `t1, t2, ...` (`_t1, ...` if a variable is called like
    /// that). Without shared subexpressions this is the plain text. Unlike
    /// [`Display`](std::fmt::Display), its length is linear in the DAG.
    pub fn to_text_with_bindings(&self) -> String {
        let order = super::expr::topo(&[*self]);
        let mut uses: FxMap<Expr, usize> = FxMap::default();
        for &e in &order {
            for c in e.children() {
                *uses.entry(c).or_insert(0) += 1;
            }
        }
        // Binding names t1, t2, ... unless a variable already looks like
        // that; then _t1, __t1, ...
        let clashes = |prefix: &str| {
            order.iter().any(|e| {
                e.with(|n| match n {
                    Node::Sym(s) => s.strip_prefix(prefix).is_some_and(|rest| {
                        !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_digit())
                    }),
                    _ => false,
                })
            })
        };
        let mut prefix = String::from("t");
        while clashes(&prefix) {
            prefix.insert(0, '_');
        }
        let mut bound = Vec::new();
        for &e in &order {
            let leaf = matches!(e.node(), Node::Num(_) | Node::Const(_) | Node::Sym(_));
            if !leaf && e != *self && uses.get(&e).copied().unwrap_or(0) > 1 {
                bound.push(e);
            }
        }
        // A subexpression shared in the DAG may not show in the text (the
        // printer writes x^-1 as /x): keep only the bindings the formula
        // uses, directly or through other bindings, and number those.
        loop {
            let names: FxMap<Expr, String> = bound
                .iter()
                .enumerate()
                .map(|(i, &e)| (e, format!("{prefix}{}", i + 1)))
                .collect();
            let mut main = String::new();
            write_expr(&mut main, *self, Style::Text, &names);
            let bodies: Vec<String> = bound
                .iter()
                .map(|&e| {
                    let mut b = String::new();
                    write_expr(&mut b, e, Style::Text, &names);
                    b
                })
                .collect();
            // Which bindings each text names: its words, looked up once
            // (a search per binding and text was quadratic in the bindings).
            let index: FxMap<&str, usize> = bound
                .iter()
                .enumerate()
                .map(|(i, e)| (names[e].as_str(), i))
                .collect();
            let named = |text: &str| -> Vec<usize> {
                words(text).filter_map(|w| index.get(w).copied()).collect()
            };
            let mut used = vec![false; bound.len()];
            let mut todo = named(&main);
            while let Some(i) = todo.pop() {
                if !used[i] {
                    used[i] = true;
                    todo.extend(named(&bodies[i]));
                }
            }
            if used.iter().all(|&u| u) {
                let mut s = main;
                for (i, &e) in bound.iter().enumerate() {
                    s.push_str(if i == 0 { " where " } else { ", " });
                    let _ = write!(s, "{} = {}", names[&e], bodies[i]);
                }
                return s;
            }
            let mut keep = used.into_iter();
            bound.retain(|_| keep.next().unwrap_or(false));
        }
    }
}

/// The words of `text`: maximal runs of ASCII letters, digits and `_`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}
