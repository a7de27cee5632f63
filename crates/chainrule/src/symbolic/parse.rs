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
//! Errors are [`Error::Parse`] with a [`ParseErrorKind`] and the
//! [`Span`] of the offending token.

use super::expr::{Constant, Expr};
use super::num::Num;
use super::simplify;
use crate::error::{Error, ParseErrorKind, Result, Token};
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;

/// The deepest nesting the parser accepts.
pub const MAX_NESTING: usize = 1000;

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
        if c.is_alphabetic() || c == '_' {
            while chars
                .get(i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
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

/// An entry of the operator stack.
enum Pending {
    Bin(BinaryOp),
    Neg(usize),
    Paren(usize),
    /// A function call: name, the name's span, commas seen + 1.
    Call(String, Span, usize),
}

fn prec(p: &Pending) -> u8 {
    match p {
        Pending::Bin(BinaryOp::Add | BinaryOp::Sub) => 1,
        Pending::Bin(BinaryOp::Mul | BinaryOp::Div) => 2,
        Pending::Neg(_) => 3,
        Pending::Bin(_) => 4,
        Pending::Paren(_) | Pending::Call(..) => 0,
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
            Pending::Paren(_) | Pending::Call(..) => {}
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

enum FnKind {
    Unary(UnaryOp),
    Binary(BinaryOp),
    Log,
}

fn function(name: &str) -> Option<FnKind> {
    if name == "log" {
        return Some(FnKind::Log);
    }
    UnaryOp::from_name(name)
        .map(FnKind::Unary)
        .or_else(|| BinaryOp::from_name(name).map(FnKind::Binary))
}

/// Parses `src` into its [`Syntax`] list.
pub fn parse_syntax(src: &str) -> Result<Syntax> {
    let toks = tokenize(src)?;
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
        let is_operand_start = matches!(tok, Tok::Num(..) | Tok::Name(_) | Tok::LParen);
        if is_operand_start && !expect_operand {
            return Err(err(
                ParseErrorKind::MissingOperator {
                    before: describe(&tok),
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
                        return Err(err(ParseErrorKind::UnknownFunction { name }, col, end));
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
                    return Err(err(ParseErrorKind::MissingArguments { name }, col, end));
                }
                let kind = match name.as_str() {
                    "pi" => SyntaxKind::Constant(Constant::Pi),
                    "e" => SyntaxKind::Constant(Constant::E),
                    _ => SyntaxKind::Variable(name),
                };
                let n = b.push(kind, Span { start: col, end });
                b.operands.push(n);
                expect_operand = false;
            }
            Tok::LParen => stack.push(Pending::Paren(col)),
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
        Some(FnKind::Log) => (1, 2),
        Some(FnKind::Binary(_)) => (2, 2),
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
