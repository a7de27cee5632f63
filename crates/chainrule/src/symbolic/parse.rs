//! The parser for the grammar of the CLI contract, producing [`Syntax`]: the
//! expression exactly as written, as a flat post-order list of nodes.
//!
//! It is an operator-precedence (shunting-yard) parser with explicit stacks,
//! so a 100,000-character flat sum never recurses; nesting (parentheses,
//! function calls, unary minus and chains of `^`) deeper than
//! [`MAX_NESTING`] is an error.
//!
//! Conventions: `x^3` with an integer literal exponent (or `x^-3`) becomes
//! `Powi(3)` (`Powi(-3)`), any other exponent `Pow`; `log(x, b)` becomes
//! `ln x / ln b`; `e` and `pi` are constants; division and subtraction stay
//! binary `Div` and `Sub`; `-x` is `Neg`. Names are ASCII letters, digits
//! and `_`, not starting with a digit ([`is_name`]), as the command line's
//! grammar says.
//!
//! The notation people type is read too ([`NOTATION`]): `π`, superscript
//! powers (`x²`, `x⁻¹`), `×` `·` `÷` `−`, `√x`, `∛x`, `|x|`, `sin^2(x)` and
//! `sin²(x)` for `sin(x)^2`, and the arc- names of the inverse functions
//! ([`ALIASES`]). What stays an error says what to write instead (`2x`:
//! write `2*x`; `sinx`: did you mean `sin(x)`?).
//!
//! Errors are [`Error::Parse`] with a [`ParseErrorKind`] and the
//! [`Span`] of the offending token.

use super::expr::{Constant, Expr};
use super::num::Num;
use super::simplify;
use crate::error::{Error, Hint, ParseErrorKind, Result, Token};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;

/// The deepest nesting the parser accepts.
pub const MAX_NESTING: usize = 1000;

/// The highest order `n` that `spherical_jn(n, x)` accepts.
pub const MAX_ORDER: u16 = 1000;

/// Columns of a node in the source: 1-based, `end` one past the last char.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Column of the first character.
    pub start: usize,
    /// Column just after the last character.
    pub end: usize,
}

/// What a [`SyntaxNode`] is.
#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxKind {
    /// A number literal: its value and its text as written.
    Number {
        /// The value.
        value: f64,
        /// The literal as written (`2.50`, `1e-3`).
        text: String,
    },
    /// `pi` or `e`.
    Constant(Constant),
    /// A variable.
    Variable(String),
    /// A function of one argument (or `Neg`, `Powi(n)`), with its argument's index.
    Unary(UnaryOp, usize),
    /// An operator or function of two arguments, with their indices.
    Binary(BinaryOp, usize, usize),
}

/// One node of a [`Syntax`] list.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxNode {
    /// What it is.
    pub kind: SyntaxKind,
    /// Where it was written.
    pub span: Span,
}

/// An expression exactly as written (no simplification, identical subtrees
/// not merged): a Wengert list in post-order, the root last.
#[derive(Clone, Debug, PartialEq)]
pub struct Syntax {
    /// The nodes, each after its arguments.
    pub nodes: Vec<SyntaxNode>,
}

impl Syntax {
    /// The index of the root (the last node).
    pub fn root(&self) -> usize {
        self.nodes.len() - 1
    }

    /// The value of every node, in list order, with any [`Real`]; `env`
    /// gives each variable's value (a missing one is an error naming it).
    pub fn eval_all<T: Real>(&self, env: impl Fn(&str) -> Option<T>) -> Result<Vec<T>> {
        let mut vals: Vec<T> = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let v = match &n.kind {
                SyntaxKind::Number { value, .. } => T::from_f64(*value),
                SyntaxKind::Constant(c) => T::from_f64(c.value()),
                SyntaxKind::Variable(name) => env(name).ok_or_else(|| Error::UnboundVariable {
                    name: name.clone(),
                    span: Some(n.span),
                })?,
                SyntaxKind::Unary(op, a) => vals[*a].unary(*op),
                SyntaxKind::Binary(op, a, b) => vals[*a].binary(*op, &vals[*b]),
            };
            vals.push(v);
        }
        Ok(vals)
    }

    /// The value of the expression with any [`Real`].
    pub fn eval<T: Real>(&self, env: impl Fn(&str) -> Option<T>) -> Result<T> {
        let mut all = self.eval_all(env)?;
        Ok(all.pop().expect("a parsed expression has a root"))
    }

    /// The variables, sorted alphabetically, each once.
    pub fn variables(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                SyntaxKind::Variable(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64, String),
    Name(String),
    Op(char),
    LParen,
    RParen,
    Comma,
    /// `|`: opens an absolute value where an operand starts, closes one after an operand.
    Bar,
    /// `√` or `∛`, before it is rewritten into a call.
    Root(UnaryOp),
}

/// The token as an error names it.
fn describe(t: &Tok) -> Token {
    match t {
        Tok::Num(_, s) => Token::Number { text: s.clone() },
        Tok::Name(s) => Token::Name { text: s.clone() },
        Tok::Op(c) => Token::Operator { op: *c },
        Tok::LParen => Token::LeftParen,
        Tok::RParen => Token::RightParen,
        Tok::Comma => Token::Comma,
        Tok::Bar => Token::Bar,
        Tok::Root(op) => Token::Name {
            text: op.name().to_string(),
        },
    }
}

/// A parse error of `kind` at columns `start..end`.
fn err(kind: ParseErrorKind, start: usize, end: usize) -> Error {
    Error::Parse {
        kind,
        span: Span { start, end },
    }
}

/// Whether `name` is a name of the grammar (a variable, constant or
/// function): an ASCII letter or `_`, then ASCII letters, digits or `_`.
///
/// ```
/// use chainrule::symbolic::is_name;
/// assert!(is_name("x1") && is_name("_w_2") && is_name("theta"));
/// assert!(!is_name("1x") && !is_name("x²") && !is_name("π") && !is_name(""));
/// ```
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The first character of a name token that is not an ASCII letter, digit
/// or `_`, with its column.
fn foreign_char(name: &str, column: usize) -> Option<(char, usize)> {
    name.chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, c)| (c, column + i))
}

/// Splits `src` into tokens with their 1-based columns (start, end).
fn tokenize(src: &str) -> Result<Vec<(Tok, usize, usize)>> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let digit_at = |k: usize| chars.get(k).is_some_and(|c| c.is_ascii_digit());
        if c.is_ascii_digit() || (c == '.' && digit_at(i + 1)) {
            while digit_at(i) {
                i += 1;
            }
            if chars.get(i) == Some(&'.') {
                i += 1;
                while digit_at(i) {
                    i += 1;
                }
            }
            if matches!(chars.get(i), Some('e' | 'E')) {
                let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
                if digit_at(i + 1 + sign) {
                    i += 1 + sign;
                    while digit_at(i) {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let value: f64 = text.parse().map_err(|_| {
                err(
                    ParseErrorKind::MalformedNumber { text: text.clone() },
                    start + 1,
                    i + 1,
                )
            })?;
            toks.push((Tok::Num(value, text), start + 1, i + 1));
            continue;
        }
        if let Some(first) = superscript(c) {
            // x² is x^2, x⁻¹ is x^-1: a run of superscript digits, with an
            // optional leading superscript minus.
            let mut text = String::new();
            let negative = first.is_none();
            text.extend(first);
            i += 1;
            while let Some(Some(d)) = chars.get(i).and_then(|&c| superscript(c)) {
                text.push(d);
                i += 1;
            }
            if text.is_empty() {
                return Err(err(
                    ParseErrorKind::UnexpectedChar { found: c },
                    start + 1,
                    start + 2,
                ));
            }
            let base: String = chars[..start]
                .iter()
                .rev()
                .skip_while(|c| c.is_whitespace())
                .take_while(|c| !c.is_whitespace() && !"+-*/(,".contains(**c))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .chain(chars[start..i].iter())
                .collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            if matches!(toks.last(), Some((Tok::Op('^'), ..))) || next == Some(&'^') {
                return Err(err(
                    ParseErrorKind::AmbiguousPower { base: base.into() },
                    start + 1,
                    i + 1,
                ));
            }
            let (s, e) = (start + 1, i + 1);
            toks.push((Tok::Op('^'), s, e));
            if negative {
                toks.push((Tok::Op('-'), s, e));
            }
            let value = text.parse::<f64>().unwrap_or(f64::INFINITY);
            toks.push((Tok::Num(value, text), s, e));
            continue;
        }
        if is_name_start(c) {
            while chars.get(i).is_some_and(|&c| is_name_char(c)) {
                i += 1;
            }
            toks.push((
                Tok::Name(chars[start..i].iter().collect()),
                start + 1,
                i + 1,
            ));
            continue;
        }
        let tok = match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                Tok::Op('^')
            }
            '+' | '-' | '*' | '/' | '^' => Tok::Op(c),
            // The signs of printed mathematics: × · ⋅ ∗ are *, ÷ ∕ are /, − is -.
            '×' | '·' | '⋅' | '∗' => Tok::Op('*'),
            '÷' | '∕' => Tok::Op('/'),
            '−' => Tok::Op('-'),
            'π' => Tok::Name("pi".to_string()),
            '√' => Tok::Root(UnaryOp::Sqrt),
            '∛' => Tok::Root(UnaryOp::Cbrt),
            '|' => Tok::Bar,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            _ => {
                return Err(err(
                    ParseErrorKind::UnexpectedChar { found: c },
                    start + 1,
                    start + 2,
                ))
            }
        };
        i += 1;
        toks.push((tok, start + 1, i + 1));
    }
    Ok(toks)
}

/// A superscript digit's ASCII digit (`Some(None)` for the superscript minus).
fn superscript(c: char) -> Option<Option<char>> {
    Some(Some(match c {
        '⁰' => '0',
        '¹' => '1',
        '²' => '2',
        '³' => '3',
        '⁴' => '4',
        '⁵' => '5',
        '⁶' => '6',
        '⁷' => '7',
        '⁸' => '8',
        '⁹' => '9',
        '⁻' => return Some(None),
        _ => return None,
    }))
}

/// Characters that are letters or digits to Unicode but signs here.
fn is_sign(c: char) -> bool {
    c == 'π' || superscript(c).is_some()
}

/// Whether `c` starts a name token (non-ASCII letters are read into the
/// token and refused once the rest has parsed).
fn is_name_start(c: char) -> bool {
    (c.is_alphabetic() || c == '_') && !is_sign(c)
}

fn is_name_char(c: char) -> bool {
    (c.is_alphanumeric() || c == '_') && !is_sign(c)
}

/// The index of the `)` that closes the `(` at `open`.
fn matching_paren(toks: &[(Tok, usize, usize)], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, (t, ..)) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::LParen => depth += 1,
            Tok::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Rewrites the notation that is sugar for the plain grammar: `sin^2(x)`
/// (and `sin²(x)`) into `sin(x)^2`, and `√x`, `√(x)`, `√sin(x)` into calls
/// of `sqrt` (`∛` of `cbrt`).
fn desugar(src: &str, toks: &mut Vec<(Tok, usize, usize)>) -> Result<()> {
    // f^n(args) → f(args)^n.
    let mut i = 0;
    while i + 2 < toks.len() {
        let is_call_power = matches!(&toks[i].0, Tok::Name(n) if function(n).is_some())
            && toks[i + 1].0 == Tok::Op('^');
        if !is_call_power {
            i += 1;
            continue;
        }
        let Tok::Name(name) = toks[i].0.clone() else {
            unreachable!()
        };
        let (negative, num_at) = match toks[i + 2].0 {
            Tok::Op('-') => (true, i + 3),
            _ => (false, i + 2),
        };
        let is_int = matches!(toks.get(num_at), Some((Tok::Num(_, t), ..)) if t.bytes().all(|b| b.is_ascii_digit()));
        let paren_next = matches!(toks.get(num_at + 1), Some((Tok::LParen, ..)));
        if !(is_int && paren_next) {
            i += 1;
            continue;
        }
        if negative {
            return Err(err(
                ParseErrorKind::InversePower { name },
                toks[i].1,
                toks[num_at].2,
            ));
        }
        let power: Vec<_> = toks.drain(i + 1..=num_at).collect();
        let Some(close) = matching_paren(toks, i + 1) else {
            return Err(err(ParseErrorKind::Unclosed, toks[i].1, toks[i + 1].2));
        };
        let (cs, ce) = (toks[close].1, toks[close].2);
        for (k, (t, ..)) in power.into_iter().enumerate() {
            toks.insert(close + 1 + k, (t, cs, ce));
        }
        i += 1;
    }
    // Roots, from the right so that √√x nests.
    for i in (0..toks.len()).rev() {
        let Tok::Root(op) = toks[i].0 else { continue };
        let (rs, re) = (toks[i].1, toks[i].2);
        let sign = src.chars().nth(rs - 1).unwrap_or('√');
        let name = Tok::Name(op.name().to_string());
        let last = match toks.get(i + 1) {
            Some((Tok::LParen, ..)) => {
                toks[i].0 = name;
                continue;
            }
            Some((Tok::Num(..), ..)) => i + 1,
            Some((Tok::Name(n), ..)) => match toks.get(i + 2) {
                Some((Tok::LParen, ..)) if function(n).is_some() => {
                    match matching_paren(toks, i + 2) {
                        Some(k) => k,
                        None => {
                            return Err(err(ParseErrorKind::Unclosed, toks[i + 2].1, toks[i + 2].2))
                        }
                    }
                }
                _ => i + 1,
            },
            _ => return Err(err(ParseErrorKind::RootNeedsParentheses { sign }, rs, re)),
        };
        let end = toks[last].2;
        if matches!(toks.get(last + 1), Some((Tok::Op('^'), ..))) {
            let base: String = src.chars().skip(rs - 1).take(end - rs).collect();
            return Err(err(
                ParseErrorKind::AmbiguousPower { base: base.into() },
                rs,
                toks[last + 1].2,
            ));
        }
        toks.insert(last + 1, (Tok::RParen, end, end));
        toks[i].0 = name;
        toks.insert(i + 1, (Tok::LParen, rs, re));
    }
    Ok(())
}

/// An entry of the operator stack.
enum Pending {
    Bin(BinaryOp),
    Neg(usize),
    Paren(usize),
    /// An open absolute-value bar `|`, at this column.
    Bar(usize),
    /// A function call: name, the name's span, commas seen + 1.
    Call(String, Span, usize),
}

fn prec(p: &Pending) -> u8 {
    match p {
        Pending::Bin(BinaryOp::Add | BinaryOp::Sub) => 1,
        Pending::Bin(BinaryOp::Mul | BinaryOp::Div) => 2,
        Pending::Neg(_) => 3,
        Pending::Bin(_) => 4,
        Pending::Paren(_) | Pending::Bar(_) | Pending::Call(..) => 0,
    }
}

struct Builder {
    nodes: Vec<SyntaxNode>,
    operands: Vec<usize>,
}

impl Builder {
    fn push(&mut self, kind: SyntaxKind, span: Span) -> usize {
        self.nodes.push(SyntaxNode { kind, span });
        self.nodes.len() - 1
    }

    /// Appends the nodes of `formula` (a formula of [`REWRITTEN`] or
    /// [`ANGLES`]), its variables `x`, `y`, `z` standing for the nodes
    /// `args`, all at `span`; returns its root.
    fn splice(&mut self, formula: &str, args: &[usize], span: Span) -> usize {
        let template = parse_syntax(formula).expect("the formulas of REWRITTEN parse");
        let mut at: Vec<usize> = Vec::with_capacity(template.nodes.len());
        for node in template.nodes {
            let kind = match node.kind {
                SyntaxKind::Variable(v) => {
                    let k = ["x", "y", "z"].iter().position(|n| *n == v);
                    at.push(args[k.expect("a formula's arguments are x, y, z")]);
                    continue;
                }
                SyntaxKind::Unary(op, a) => SyntaxKind::Unary(op, at[a]),
                SyntaxKind::Binary(op, a, c) => SyntaxKind::Binary(op, at[a], at[c]),
                other => other,
            };
            at.push(self.push(kind, span));
        }
        *at.last().expect("a formula has a root")
    }

    fn span(&self, i: usize) -> Span {
        self.nodes[i].span
    }

    /// Applies a popped operator to the operand stack.
    fn apply(&mut self, p: Pending) {
        match p {
            Pending::Neg(col) => {
                let a = self.operands.pop().expect("operand for '-'");
                let span = Span {
                    start: col,
                    end: self.span(a).end,
                };
                let i = self.push(SyntaxKind::Unary(UnaryOp::Neg, a), span);
                self.operands.push(i);
            }
            Pending::Bin(op) => {
                let b = self.operands.pop().expect("right operand");
                let a = self.operands.pop().expect("left operand");
                let span = Span {
                    start: self.span(a).start,
                    end: self.span(b).end,
                };
                let i = match (op, self.integer_exponent(b)) {
                    (BinaryOp::Pow, Some((n, drop))) => {
                        self.nodes.truncate(self.nodes.len() - drop);
                        self.push(SyntaxKind::Unary(UnaryOp::Powi(n), a), span)
                    }
                    _ => self.push(SyntaxKind::Binary(op, a, b), span),
                };
                self.operands.push(i);
            }
            Pending::Paren(_) | Pending::Bar(_) | Pending::Call(..) => {}
        }
    }

    /// If node `b` (the newest) is an integer literal or its negation: the
    /// integer and how many nodes it occupies at the end of the list.
    fn integer_exponent(&self, b: usize) -> Option<(i32, usize)> {
        let last = self.nodes.len() - 1;
        let int_lit = |i: usize| match &self.nodes[i].kind {
            SyntaxKind::Number { text, .. } if text.bytes().all(|c| c.is_ascii_digit()) => {
                text.parse::<i32>().ok()
            }
            _ => None,
        };
        if b != last {
            return None;
        }
        match self.nodes[b].kind {
            SyntaxKind::Unary(UnaryOp::Neg, a) if a + 1 == b => int_lit(a).map(|n| (-n, 2)),
            _ => int_lit(b).map(|n| (n, 1)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum FnKind {
    Unary(UnaryOp),
    Binary(BinaryOp),
    Log,
    /// A function the parser writes in terms of others: its formula in
    /// `x`, `y`, `z` and how many arguments it takes ([`REWRITTEN`]).
    Rewrite(&'static str, usize),
}

/// Functions read as a formula of the grammar's own, exactly, as
/// `(name, arguments, formula)`; the formula names the arguments `x`, `y`,
/// `z` and uses each once. Functions where a formula would lose accuracy
/// (log1p, expm1, erfc, hypot, logaddexp, sinc) are rows of the op table.
pub const REWRITTEN: [(&str, usize, &str); 17] = [
    ("sec", 1, "1/cos(x)"),
    ("csc", 1, "1/sin(x)"),
    ("cot", 1, "1/tan(x)"),
    ("asec", 1, "acos(1/x)"),
    ("acsc", 1, "asin(1/x)"),
    ("acot", 1, "atan(1/x)"),
    ("sech", 1, "1/cosh(x)"),
    ("csch", 1, "1/sinh(x)"),
    ("coth", 1, "1/tanh(x)"),
    ("asech", 1, "acosh(1/x)"),
    ("acsch", 1, "asinh(1/x)"),
    ("acoth", 1, "atanh(1/x)"),
    ("exp2", 1, "2^x"),
    ("exp10", 1, "10^x"),
    ("square", 1, "x^2"),
    ("rsqrt", 1, "1/sqrt(x)"),
    ("clamp", 3, "min(max(x, y), z)"),
];

/// Other names of the grammar's functions, as `(alias, name)`: the arc-
/// and ar- names of the inverse functions, and `ln` for `log`.
pub const ALIASES: [(&str, &str); 11] = [
    ("ln", "log"),
    ("arcsin", "asin"),
    ("arccos", "acos"),
    ("arctan", "atan"),
    ("arsinh", "asinh"),
    ("arcsinh", "asinh"),
    ("arcosh", "acosh"),
    ("arccosh", "acosh"),
    ("artanh", "atanh"),
    ("arctanh", "atanh"),
    ("arctan2", "atan2"),
];

/// The notation read besides the plain grammar, as `(written, meaning)`:
/// what `chainrule help expressions` lists.
pub const NOTATION: [(&str, &str); 11] = [
    ("π", "pi"),
    ("x² x³ x⁻¹ (superscript digits)", "x^2 x^3 x^-1"),
    ("× · ⋅", "*"),
    ("÷", "/"),
    ("− (U+2212)", "-"),
    ("√x √(x+1)", "sqrt(x) sqrt(x+1)"),
    ("∛x", "cbrt(x)"),
    ("|x|", "abs(x)"),
    ("sin^2(x) sin²(x)", "sin(x)^2"),
    ("x**2", "x^2"),
    ("arcsin arctan arsinh ...", "asin atan asinh ..."),
];

/// The conversions between degrees and radians, read as formulas as
/// [`REWRITTEN`] (listed apart: their formulas print differently).
pub const ANGLES: [(&str, &str); 2] = [("deg2rad", "x*pi/180"), ("rad2deg", "x*180/pi")];

/// Functions people call that the grammar spells another way, with what to write.
const REWRITES: [(&str, &str); 2] = [("heaviside", "step(x)"), ("sgn", "sign(x)")];

/// What `name` calls, if it is a function: looked up in a table built once
/// from [`function_names`] (the parser asks this for every name token,
/// several times, and most names are variables: a scan of every table per
/// question was 15% of parsing W6's formulas).
fn function(name: &str) -> Option<FnKind> {
    type Table = std::collections::HashMap<&'static str, FnKind>;
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            function_names()
                .into_iter()
                .chain(["log"])
                .filter_map(|n| function_by_scan(n).map(|k| (n, k)))
                .collect()
        })
        .get(name)
        .copied()
}

/// [`function`] by scanning the tables (what the lookup table is built from).
fn function_by_scan(name: &str) -> Option<FnKind> {
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, n)| n);
    if name == "log" {
        return Some(FnKind::Log);
    }
    if let Some(&(_, n, formula)) = REWRITTEN.iter().find(|(r, ..)| *r == name) {
        return Some(FnKind::Rewrite(formula, n));
    }
    if let Some(&(_, formula)) = ANGLES.iter().find(|(r, _)| *r == name) {
        return Some(FnKind::Rewrite(formula, 1));
    }
    UnaryOp::from_name(name)
        .map(FnKind::Unary)
        .or_else(|| BinaryOp::from_name(name).map(FnKind::Binary))
}

/// Whether `name` is a function of the grammar (an alias included).
///
/// ```
/// use chainrule::symbolic::is_function;
/// assert!(is_function("sin") && is_function("arcsin") && is_function("ln"));
/// assert!(!is_function("x") && !is_function("pi"));
/// ```
pub fn is_function(name: &str) -> bool {
    function(name).is_some()
}

/// Every name a function can be called by: the op table's names, `log`'s
/// two-argument form, and [`ALIASES`].
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for op in UnaryOp::ALL {
        names.extend(op.grammar_name());
        names.extend(op.aliases());
    }
    for op in BinaryOp::ALL {
        names.extend(op.grammar_name());
        names.extend(op.aliases());
    }
    names.extend(ALIASES.iter().map(|(a, _)| *a));
    names.extend(REWRITTEN.iter().map(|(r, ..)| *r));
    names.extend(ANGLES.iter().map(|(r, _)| *r));
    names.sort_unstable();
    names.dedup();
    names
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// What to suggest for a call of an unknown function `name`.
fn hint_for(name: &str) -> Option<Hint> {
    if let Some((_, w)) = REWRITES.iter().find(|(n, _)| *n == name) {
        return Some(Hint::Write(w));
    }
    let lower = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    function_names()
        .into_iter()
        .map(|f| {
            // On a tie, a name the typo begins with or that begins with the
            // typo (`sinn` → `sin`, not `sign`).
            let prefix = lower.starts_with(f) || f.starts_with(lower.as_str());
            (edit_distance(&lower, f), !prefix, f)
        })
        .filter(|&(d, ..)| d <= limit)
        .min()
        .map(|(.., f)| Hint::Name(f))
}

/// If `name` is a function's name glued to one of the usual variables
/// `x`, `y`, `z` (`sinx`, `expy1`, `logz`): the length of the function's
/// name. Other letters are left alone, so that `cost`, `expo` and `tant`
/// stay variables.
fn glued_call(name: &str) -> Option<usize> {
    // The names of one-argument functions, found once: parsing asks for
    // every name token, and building the list each time was most of the
    // time of parsing a long formula.
    static ONE_ARGUMENT: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    ONE_ARGUMENT
        .get_or_init(|| {
            function_names()
                .into_iter()
                .filter(|f| {
                    matches!(
                        function(f),
                        Some(FnKind::Unary(_) | FnKind::Log | FnKind::Rewrite(_, 1))
                    )
                })
                .collect()
        })
        .iter()
        .filter(|f| name.len() > f.len() && name.starts_with(*f))
        .map(|f| f.len())
        .max()
        .filter(|&n| {
            let mut rest = name[n..].chars();
            rest.next().is_some_and(|c| matches!(c, 'x' | 'y' | 'z'))
                && rest.all(|c| c.is_ascii_digit())
        })
}

/// How an operand token is written in a suggestion.
fn written(src: &str, t: &(Tok, usize, usize)) -> String {
    match t.0 {
        Tok::LParen | Tok::RParen => "(...)".to_string(),
        Tok::Bar => "|...|".to_string(),
        _ => src.chars().skip(t.1 - 1).take(t.2 - t.1).collect(),
    }
}

/// Parses `src` into its [`Syntax`] list.
pub fn parse_syntax(src: &str) -> Result<Syntax> {
    let mut toks = tokenize(src)?;
    desugar(src, &mut toks)?;
    if toks.is_empty() {
        return Err(err(ParseErrorKind::Empty, 1, 1));
    }
    let end_col = src.chars().count() + 1;
    let mut b = Builder {
        nodes: Vec::new(),
        operands: Vec::new(),
    };
    let mut stack: Vec<Pending> = Vec::new();
    let mut expect_operand = true;
    let mut i = 0;
    while i < toks.len() {
        let (tok, col, end) = toks[i].clone();
        if stack.len() > MAX_NESTING {
            return Err(err(
                ParseErrorKind::NestingTooDeep { limit: MAX_NESTING },
                col,
                end,
            ));
        }
        let bar_open = stack.iter().any(|p| matches!(p, Pending::Bar(_)));
        let is_operand_start = matches!(tok, Tok::Num(..) | Tok::Name(_) | Tok::LParen)
            || (tok == Tok::Bar && !bar_open);
        if is_operand_start && !expect_operand {
            let mut write = written(src, &toks[i - 1]);
            write.push('*');
            write.push_str(&written(src, &toks[i]));
            if matches!(&tok, Tok::Name(n) if function(n).is_some()) {
                write.push_str("(...)");
            }
            return Err(err(
                ParseErrorKind::MissingOperator {
                    before: Box::new(describe(&tok)),
                    write: write.into(),
                },
                col,
                end,
            ));
        }
        match tok {
            Tok::Num(value, text) => {
                let n = b.push(SyntaxKind::Number { value, text }, Span { start: col, end });
                b.operands.push(n);
                expect_operand = false;
            }
            Tok::Name(name) => {
                let call = matches!(toks.get(i + 1), Some((Tok::LParen, ..)));
                if call {
                    if function(&name).is_none() {
                        let hint = hint_for(&name).map(Box::new);
                        return Err(err(
                            ParseErrorKind::UnknownFunction {
                                name: name.into(),
                                hint,
                            },
                            col,
                            end,
                        ));
                    }
                    stack.push(Pending::Call(name, Span { start: col, end }, 1));
                    i += 2;
                    if let Some(&(Tok::RParen, _, close)) = toks.get(i) {
                        let Some(Pending::Call(name, span, _)) = stack.pop() else {
                            unreachable!()
                        };
                        return Err(arity_error(name, 0, span.start, close));
                    }
                    continue;
                }
                if function(&name).is_some() {
                    let argument = match toks.get(i + 1) {
                        Some(t @ (Tok::Num(..) | Tok::Name(_), ..)) => Some(written(src, t).into()),
                        _ => None,
                    };
                    return Err(err(
                        ParseErrorKind::MissingArguments {
                            name: name.into(),
                            argument,
                        },
                        col,
                        end,
                    ));
                }
                let kind = match name.as_str() {
                    "pi" => SyntaxKind::Constant(Constant::Pi),
                    "e" => SyntaxKind::Constant(Constant::E),
                    _ => {
                        if let Some(split) = glued_call(&name) {
                            return Err(err(ParseErrorKind::GluedCall { name, split }, col, end));
                        }
                        SyntaxKind::Variable(name)
                    }
                };
                let n = b.push(kind, Span { start: col, end });
                b.operands.push(n);
                expect_operand = false;
            }
            Tok::LParen => stack.push(Pending::Paren(col)),
            Tok::Bar if expect_operand => stack.push(Pending::Bar(col)),
            Tok::Bar => {
                // Closes the innermost open bar: |x| is abs(x).
                loop {
                    match stack.pop() {
                        Some(Pending::Bar(open)) => {
                            let a = b.operands.pop().expect("operand inside |...|");
                            let n = b.push(
                                SyntaxKind::Unary(UnaryOp::Abs, a),
                                Span { start: open, end },
                            );
                            b.operands.push(n);
                            break;
                        }
                        Some(Pending::Paren(c)) => {
                            return Err(err(ParseErrorKind::Unclosed, c, c + 1));
                        }
                        Some(Pending::Call(_, span, _)) => {
                            return Err(err(ParseErrorKind::Unclosed, span.start, span.end + 1));
                        }
                        Some(p) => b.apply(p),
                        None => unreachable!("a bar is open"),
                    }
                }
            }
            Tok::Root(_) => unreachable!("roots are rewritten into calls"),
            Tok::Op(c) => {
                if expect_operand {
                    if c == '-' {
                        stack.push(Pending::Neg(col));
                    } else {
                        return Err(err(
                            ParseErrorKind::UnexpectedToken {
                                found: describe(&Tok::Op(c)),
                            },
                            col,
                            end,
                        ));
                    }
                } else {
                    let op = match c {
                        '+' => BinaryOp::Add,
                        '-' => BinaryOp::Sub,
                        '*' => BinaryOp::Mul,
                        '/' => BinaryOp::Div,
                        _ => BinaryOp::Pow,
                    };
                    let me = Pending::Bin(op);
                    let right_assoc = op == BinaryOp::Pow;
                    while let Some(top) = stack.last() {
                        let pt = prec(top);
                        if pt > prec(&me) || (pt == prec(&me) && !right_assoc) {
                            let p = stack.pop().expect("top exists");
                            b.apply(p);
                        } else {
                            break;
                        }
                    }
                    stack.push(me);
                    expect_operand = true;
                }
            }
            Tok::Comma | Tok::RParen => {
                if expect_operand {
                    return Err(err(
                        ParseErrorKind::UnexpectedToken {
                            found: describe(&tok),
                        },
                        col,
                        end,
                    ));
                }
                loop {
                    match stack.pop() {
                        None => {
                            return Err(err(
                                ParseErrorKind::Unmatched {
                                    found: describe(&tok),
                                },
                                col,
                                end,
                            ));
                        }
                        Some(Pending::Paren(_)) if tok == Tok::RParen => break,
                        Some(Pending::Bar(c)) => {
                            return Err(err(ParseErrorKind::UnclosedBar, c, c + 1));
                        }
                        Some(Pending::Paren(_)) => {
                            return Err(err(ParseErrorKind::CommaOutsideCall, col, end));
                        }
                        Some(Pending::Call(name, fspan, argc)) => {
                            if tok == Tok::Comma {
                                stack.push(Pending::Call(name, fspan, argc + 1));
                                expect_operand = true;
                            } else {
                                finish_call(&mut b, name, fspan.start, argc, end)?;
                            }
                            break;
                        }
                        Some(p) => b.apply(p),
                    }
                }
            }
        }
        i += 1;
    }
    if expect_operand {
        return Err(err(ParseErrorKind::UnexpectedEnd, end_col, end_col));
    }
    while let Some(p) = stack.pop() {
        match p {
            Pending::Paren(col) => return Err(err(ParseErrorKind::Unclosed, col, col + 1)),
            Pending::Bar(col) => return Err(err(ParseErrorKind::UnclosedBar, col, col + 1)),
            Pending::Call(_, span, _) => {
                return Err(err(ParseErrorKind::Unclosed, span.start, span.end + 1))
            }
            p => b.apply(p),
        }
    }
    // Names are ASCII letters, digits and '_' (`x1`, `theta`, `w_2`): a name
    // with any other letter (`x²`, `π`, `é`) is refused here, once the rest
    // has parsed, so that an expression with several faults reports the same
    // first one as the command line always did.
    let foreign = toks.iter().find_map(|(t, col, _)| match t {
        Tok::Name(s) => foreign_char(s, *col),
        _ => None,
    });
    if let Some((found, col)) = foreign {
        return Err(err(ParseErrorKind::UnexpectedChar { found }, col, col + 1));
    }
    Ok(Syntax { nodes: b.nodes })
}

/// A call `name(...)` at columns `start..end` with `got` arguments that the
/// function does not take.
fn arity_error(name: String, got: usize, start: usize, end: usize) -> Error {
    let (min, max) = match function(&name) {
        Some(FnKind::Log | FnKind::Unary(UnaryOp::Atan)) => (1, 2),
        Some(FnKind::Binary(_) | FnKind::Unary(UnaryOp::SphJ(_))) => (2, 2),
        Some(FnKind::Rewrite(_, n)) => (n as u8, n as u8),
        _ => (1, 1),
    };
    err(
        ParseErrorKind::Arity {
            name,
            min,
            max,
            got,
        },
        start,
        end,
    )
}

/// Emits the node(s) of a finished call `name(args)`.
fn finish_call(b: &mut Builder, name: String, col: usize, argc: usize, end: usize) -> Result<()> {
    let span = Span { start: col, end };
    let kind = function(&name).expect("checked when the call was opened");
    match (kind, argc) {
        // atan(y, x) is atan2(y, x), as in Julia and Mathematica.
        (FnKind::Unary(UnaryOp::Atan), 2) => {
            let x = b.operands.pop().expect("second argument");
            let y = b.operands.pop().expect("first argument");
            let n = b.push(SyntaxKind::Binary(BinaryOp::Atan2, y, x), span);
            b.operands.push(n);
        }
        (FnKind::Rewrite(formula, n), got) if got == n => {
            let args = b.operands.split_off(b.operands.len() - n);
            let n = b.splice(formula, &args, span);
            b.operands.push(n);
        }
        // spherical_jn(n, x): the order is a whole-number literal; j₀ is sinc.
        (FnKind::Unary(UnaryOp::SphJ(_)), 2) => {
            let x = b.operands.pop().expect("second argument");
            let first = b.operands.pop().expect("first argument");
            let node = &b.nodes[first];
            let order = match &node.kind {
                SyntaxKind::Number { value, .. }
                    if value.fract() == 0.0 && (0.0..=f64::from(MAX_ORDER)).contains(value) =>
                {
                    *value as i32
                }
                _ => {
                    let Span { start, end } = node.span;
                    let text = match &node.kind {
                        SyntaxKind::Number { text, .. } => Some(text.as_str().into()),
                        SyntaxKind::Variable(v) => Some(v.as_str().into()),
                        _ => None,
                    };
                    return Err(err(ParseErrorKind::NotAnOrder { text }, start, end));
                }
            };
            let op = if order == 0 {
                UnaryOp::Sinc
            } else {
                UnaryOp::SphJ(order)
            };
            let n = b.push(SyntaxKind::Unary(op, x), span);
            b.operands.push(n);
        }
        (FnKind::Unary(UnaryOp::SphJ(_)), _) => return Err(arity_error(name, argc, col, end)),
        (kind @ (FnKind::Unary(_) | FnKind::Log), 1) => {
            let op = match kind {
                FnKind::Unary(op) => op,
                _ => UnaryOp::Ln,
            };
            let a = b.operands.pop().expect("argument");
            let n = b.push(SyntaxKind::Unary(op, a), span);
            b.operands.push(n);
        }
        (FnKind::Binary(op), 2) => {
            let y = b.operands.pop().expect("second argument");
            let x = b.operands.pop().expect("first argument");
            let n = b.push(SyntaxKind::Binary(op, x, y), span);
            b.operands.push(n);
        }
        (FnKind::Log, 2) => {
            let base = b.operands.pop().expect("base");
            let x = b.operands.pop().expect("argument");
            let lx = b.push(SyntaxKind::Unary(UnaryOp::Ln, x), span);
            let lb = b.push(SyntaxKind::Unary(UnaryOp::Ln, base), span);
            let n = b.push(SyntaxKind::Binary(BinaryOp::Div, lx, lb), span);
            b.operands.push(n);
        }
        _ => return Err(arity_error(name, argc, col, end)),
    }
    Ok(())
}

/// A node's formula, or a sum or product still being collected (so a long
/// chain `a + b + c + ...` is one n-ary sum, built once).
enum Partial {
    Done(Expr),
    Sum(Vec<Expr>),
    Product(Vec<Expr>),
}

impl Partial {
    fn finish(self) -> Expr {
        match self {
            Partial::Done(e) => e,
            Partial::Sum(ts) => simplify::add(ts),
            Partial::Product(fs) => simplify::mul(fs),
        }
    }
}

impl Expr {
    /// The canonical formula of a parsed expression. Integer literals are
    /// exact (`1/2` is the rational 1/2), decimal literals are f64.
    pub fn from_syntax(syntax: &Syntax) -> Expr {
        let mut vals: Vec<Option<Partial>> = Vec::with_capacity(syntax.nodes.len());
        let take = |vals: &mut Vec<Option<Partial>>, i: usize| -> Partial {
            vals[i].take().expect("each syntax node has one parent")
        };
        for n in &syntax.nodes {
            let v = match &n.kind {
                SyntaxKind::Number { value, text } => {
                    Partial::Done(if text.bytes().all(|c| c.is_ascii_digit()) {
                        text.parse::<i64>()
                            .map(Expr::integer)
                            .unwrap_or_else(|_| Expr::constant(*value))
                    } else {
                        simplify::num(Num::float(*value))
                    })
                }
                SyntaxKind::Constant(c) => Partial::Done(Expr::named_constant(*c)),
                SyntaxKind::Variable(s) => Partial::Done(Expr::var(s)),
                SyntaxKind::Unary(op, a) => {
                    let a = take(&mut vals, *a).finish();
                    Partial::Done(simplify::unary(*op, a))
                }
                SyntaxKind::Binary(op @ (BinaryOp::Add | BinaryOp::Sub), a, c) => {
                    let mut ts = match take(&mut vals, *a) {
                        Partial::Sum(ts) => ts,
                        other => vec![other.finish()],
                    };
                    let rhs = take(&mut vals, *c).finish();
                    ts.push(if *op == BinaryOp::Sub { -rhs } else { rhs });
                    Partial::Sum(ts)
                }
                SyntaxKind::Binary(op @ (BinaryOp::Mul | BinaryOp::Div), a, c) => {
                    let mut fs = match take(&mut vals, *a) {
                        Partial::Product(fs) => fs,
                        other => vec![other.finish()],
                    };
                    let rhs = take(&mut vals, *c).finish();
                    fs.push(if *op == BinaryOp::Div {
                        simplify::pow(rhs, Expr::integer(-1))
                    } else {
                        rhs
                    });
                    Partial::Product(fs)
                }
                SyntaxKind::Binary(op, a, c) => {
                    let a = take(&mut vals, *a).finish();
                    let c = take(&mut vals, *c).finish();
                    Partial::Done(simplify::binary(*op, a, c))
                }
            };
            vals.push(Some(v));
        }
        vals.pop()
            .flatten()
            .map(Partial::finish)
            .expect("a parsed expression has a root")
    }
}

/// Parses `src` into its canonical formula.
pub fn parse(src: &str) -> Result<Expr> {
    Ok(Expr::from_syntax(&parse_syntax(src)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_table_answers_as_the_scan() {
        let mut names = function_names();
        names.extend([
            "log", "x", "x1", "pi", "e", "sinx", "", "powi", "neg", "arcsin", "ln",
        ]);
        for n in names {
            assert_eq!(function(n), function_by_scan(n), "{n}");
        }
        assert!(function("sec").is_some() && function("deg2rad").is_some());
    }
}
