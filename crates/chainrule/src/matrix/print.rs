//! Printing in the input grammar (it parses back) and as LaTeX.

use std::fmt;

use super::expr::{Dim, Expr, Node};
use crate::ops::{BinaryOp, UnaryOp};

/// A number as the grammar reads it: integers without a point, `1/k` for
/// small unit fractions, else the shortest round-trip form.
fn number(c: f64) -> (String, u8) {
    if c.fract() == 0.0 && c.abs() < 1e15 {
        return (format!("{}", c as i64), 9);
    }
    let k = 1.0 / c.abs();
    if k.fract() == 0.0 && (2.0..=1000.0).contains(&k) {
        let sign = if c < 0.0 { "-" } else { "" };
        return (format!("{sign}1/{}", k as i64), 2);
    }
    let s = format!("{c}");
    (s, 9)
}

fn prec(e: &Expr) -> u8 {
    match e.node() {
        Node::Add(..) | Node::Sub(..) => 1,
        Node::Mul(..) => 2,
        Node::Elem(BinaryOp::Pow, ..) | Node::Unary(UnaryOp::Powi(_), _) => 4,
        Node::Elem(..) => 2,
        Node::Neg(_) => 3,
        Node::Num(c) => {
            if *c < 0.0 {
                3
            } else {
                number(*c).1
            }
        }
        Node::Transpose(_) => 5,
        _ => 9,
    }
}

fn paren(e: &Expr, min: u8) -> String {
    let s = text(e);
    if prec(e) < min {
        format!("({s})")
    } else {
        s
    }
}

/// Whether `b`, the right operand of a product, prints without parentheses:
/// a product whose leftmost factor is no elementwise operation (in
/// `a*(p.*q)*r` the parentheses stay, `a*p.*q*r` reads `((a*p).*q)*r`).
fn chains_right(b: &Expr) -> bool {
    match b.node() {
        Node::Mul(p, _) => match p.node() {
            Node::Mul(..) => chains_right(p),
            Node::Elem(..) => false,
            _ => true,
        },
        _ => false,
    }
}

fn size(d: &Dim) -> String {
    d.to_string()
}

/// The text of an expression in the input grammar.
pub fn text(e: &Expr) -> String {
    use Node::*;
    match e.node() {
        Var { name, .. } => name.to_string(),
        Num(c) => number(*c).0,
        Identity => "I".into(),
        Ones => format!("ones({})", size(&e.shape().rows)),
        Zeros => {
            let s = e.shape();
            if s.cols == Dim::One {
                format!("zeros({})", size(&s.rows))
            } else {
                format!("zeros({}, {})", size(&s.rows), size(&s.cols))
            }
        }
        Transpose(a) => format!("{}'", paren(a, 9)),
        // Products associate; an elementwise product on the right does not.
        Mul(a, b) if chains_right(b) => format!("{}*{}", paren(a, 2), paren(b, 2)),
        Mul(a, b) => format!("{}*{}", paren(a, 2), paren(b, 3)),
        Add(a, b) => format!("{} + {}", paren(a, 1), paren(b, 2)),
        Sub(a, b) => format!("{} - {}", paren(a, 1), paren(b, 2)),
        Neg(a) => format!("-{}", paren(a, 3)),
        Elem(op, a, b) => {
            let sym = match op {
                BinaryOp::Mul => ".*",
                BinaryOp::Div if b.is_scalar() => "/",
                BinaryOp::Div => "./",
                BinaryOp::Pow if a.is_scalar() => "^",
                _ => ".^",
            };
            if *op == BinaryOp::Pow {
                format!("{}{sym}{}", paren(a, 5), paren(b, 4))
            } else {
                format!("{}{sym}{}", paren(a, 2), paren(b, 3))
            }
        }
        Unary(UnaryOp::Powi(n), a) => {
            let sym = if a.is_scalar() { "^" } else { ".^" };
            if *n < 0 {
                format!("{}{sym}({n})", paren(a, 5))
            } else {
                format!("{}{sym}{n}", paren(a, 5))
            }
        }
        Unary(op, a) => op.call(&text(a)),
        Tr(a) => format!("tr({})", text(a)),
        Det(a) => format!("det({})", text(a)),
        Logdet(a) => format!("logdet({})", text(a)),
        Inv(a) => format!("inv({})", text(a)),
        Diag(a) | DiagOf(a) => format!("diag({})", text(a)),
        Sum(a) => format!("sum({})", text(a)),
        Norm2(a) => format!("norm2({})", text(a)),
        Norm1(a) => format!("norm1({})", text(a)),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text(self))
    }
}

fn lparen(e: &Expr, min: u8) -> String {
    let s = latex(e);
    if prec(e) < min {
        format!("\\left({s}\\right)")
    } else {
        s
    }
}

fn latex_number(c: f64) -> String {
    let (s, p) = number(c);
    if p == 2 {
        let neg = s.starts_with('-');
        let k = s.trim_start_matches('-').trim_start_matches("1/");
        format!("{}\\frac{{1}}{{{k}}}", if neg { "-" } else { "" })
    } else {
        s
    }
}

/// The expression as LaTeX (`A^{T} B^{T}`).
pub fn latex(e: &Expr) -> String {
    use Node::*;
    match e.node() {
        Var { name, .. } => {
            if name.len() > 1 {
                let (head, tail) = name.split_at(1);
                if tail.chars().all(|c| c.is_ascii_digit()) {
                    return format!("{head}_{{{tail}}}");
                }
                return format!("\\mathit{{{name}}}");
            }
            name.to_string()
        }
        Num(c) => latex_number(*c),
        Identity => "I".into(),
        Ones => format!("\\mathbf{{1}}_{{{}}}", e.shape().rows),
        Zeros => "0".into(),
        Transpose(a) => format!("{}^{{T}}", lparen(a, 9)),
        Mul(a, b) if chains_right(b) => format!("{} {}", lparen(a, 2), lparen(b, 2)),
        Mul(a, b) => format!("{} {}", lparen(a, 2), lparen(b, 3)),
        Add(a, b) => format!("{} + {}", lparen(a, 1), lparen(b, 2)),
        Sub(a, b) => format!("{} - {}", lparen(a, 1), lparen(b, 2)),
        Neg(a) => format!("-{}", lparen(a, 3)),
        Elem(op, a, b) => match op {
            BinaryOp::Mul => format!("{} \\odot {}", lparen(a, 2), lparen(b, 3)),
            BinaryOp::Div if b.is_scalar() => format!("\\frac{{{}}}{{{}}}", latex(a), latex(b)),
            BinaryOp::Div => format!("{} \\oslash {}", lparen(a, 2), lparen(b, 3)),
            _ => format!("{}^{{{}}}", lparen(a, 5), latex(b)),
        },
        Unary(UnaryOp::Powi(n), a) => format!("{}^{{{n}}}", lparen(a, 5)),
        Unary(UnaryOp::Exp, a) => format!("e^{{{}}}", latex(a)),
        Unary(UnaryOp::Sqrt, a) => format!("\\sqrt{{{}}}", latex(a)),
        Unary(UnaryOp::Sigmoid, a) => format!("\\sigma\\left({}\\right)", latex(a)),
        Unary(UnaryOp::SphJ(n), a) => format!("j_{{{n}}}\\left({}\\right)", latex(a)),
        Unary(op, a) => {
            let name = match op {
                UnaryOp::Ln => "\\log",
                UnaryOp::Sin => "\\sin",
                UnaryOp::Cos => "\\cos",
                UnaryOp::Tan => "\\tan",
                UnaryOp::Sinh => "\\sinh",
                UnaryOp::Cosh => "\\cosh",
                UnaryOp::Tanh => "\\tanh",
                _ => "",
            };
            if name.is_empty() {
                format!("\\operatorname{{{}}}\\left({}\\right)", op.name(), latex(a))
            } else {
                format!("{name}\\left({}\\right)", latex(a))
            }
        }
        Tr(a) => format!("\\operatorname{{tr}}\\left({}\\right)", latex(a)),
        Det(a) => format!("\\det\\left({}\\right)", latex(a)),
        Logdet(a) => format!("\\log\\left|\\det\\left({}\\right)\\right|", latex(a)),
        Inv(a) => format!("{}^{{-1}}", lparen(a, 9)),
        Diag(a) | DiagOf(a) => format!("\\operatorname{{diag}}\\left({}\\right)", latex(a)),
        Sum(a) => format!("\\operatorname{{sum}}\\left({}\\right)", latex(a)),
        Norm2(a) => format!("\\left\\|{}\\right\\|_2", latex(a)),
        Norm1(a) => format!("\\left\\|{}\\right\\|_1", latex(a)),
    }
}
