//! The parser of the matrix grammar (CLI.md, `chainrule matrix`), which types
//! the expression as it reads it: sizes are symbols unified by the
//! expression, and a disagreement is an error with its column.

use std::collections::HashMap;

use super::expr::{self, Dim, Expr, Kind, Shape};
use super::sizes::{Decl, DimSpec, Fixed, Sizes, D};
use crate::error::{Error, ParseErrorKind, Result, Token};
use crate::ops::{BinaryOp, UnaryOp};
use crate::symbolic::Span;

/// The deepest nesting of parentheses, calls, unary minus and powers.
pub const MAX_DEPTH: usize = 200;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64, String),
    Name(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn perr(kind: ParseErrorKind, start: usize, end: usize) -> Error {
    Error::Parse {
        kind,
        span: Span { start, end },
    }
}

fn token_of(t: &Tok) -> Token {
    match t {
        Tok::Num(_, s) => Token::Number { text: s.clone() },
        Tok::Name(s) => Token::Name { text: s.clone() },
        Tok::Op(o) => Token::Operator {
            op: o.chars().last().unwrap_or('?'),
        },
        Tok::LParen => Token::LeftParen,
        Tok::RParen => Token::RightParen,
        Tok::Comma => Token::Comma,
    }
}

/// What to write for two operands side by side (`2 A` → `2*A`): the
/// previous token, `*`, and the next one.
fn implicit_product_fix(prev: Option<&(Tok, usize, usize)>, next: &Tok) -> String {
    let text = |t: &Tok| match t {
        Tok::Num(_, s) | Tok::Name(s) => s.clone(),
        Tok::Op(o) => (*o).to_string(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::Comma => ",".into(),
    };
    match prev {
        Some((p, ..)) => format!("{}*{}", text(p), text(next)),
        None => format!("*{}", text(next)),
    }
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize, usize)>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let digit = |k: usize| chars.get(k).is_some_and(|c| c.is_ascii_digit());
    while i < chars.len() {
        let c = chars[i];
        let s = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && digit(i + 1)) {
            while digit(i) {
                i += 1;
            }
            if chars.get(i) == Some(&'.') {
                i += 1;
                while digit(i) {
                    i += 1;
                }
            }
            if matches!(chars.get(i), Some('e' | 'E')) {
                let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
                if digit(i + 1 + sign) {
                    i += 1 + sign;
                    while digit(i) {
                        i += 1;
                    }
                }
            }
            let text: String = chars[s..i].iter().collect();
            let v: f64 = text.parse().map_err(|_| {
                perr(
                    ParseErrorKind::MalformedNumber { text: text.clone() },
                    s + 1,
                    i + 1,
                )
            })?;
            out.push((Tok::Num(v, text), s + 1, i + 1));
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            out.push((Tok::Name(chars[s..i].iter().collect()), s + 1, i + 1));
            continue;
        }
        let two = |a: char| chars.get(i + 1) == Some(&a);
        let (tok, len) = match c {
            '.' if two('*') => (Tok::Op(".*"), 2),
            '.' if two('/') => (Tok::Op("./"), 2),
            '.' if two('^') => (Tok::Op(".^"), 2),
            '*' if two('*') => (Tok::Op("^"), 2),
            '+' => (Tok::Op("+"), 1),
            '-' => (Tok::Op("-"), 1),
            '*' => (Tok::Op("*"), 1),
            '/' => (Tok::Op("/"), 1),
            '^' => (Tok::Op("^"), 1),
            '\'' => (Tok::Op("'"), 1),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            _ => {
                return Err(perr(
                    ParseErrorKind::UnexpectedChar { found: c },
                    s + 1,
                    s + 2,
                ));
            }
        };
        i += len;
        out.push((tok, s + 1, i + 1));
    }
    Ok(out)
}

/// A typed syntax tree, before its sizes are resolved.
#[derive(Debug)]
struct Ast {
    kind: AstKind,
    shape: (D, D),
}

#[derive(Debug)]
enum AstKind {
    Var(String, bool),
    Num(f64),
    Identity,
    Zeros,
    Ones,
    T(Box<Ast>),
    Bin(&'static str, Box<Ast>, Box<Ast>),
    Neg(Box<Ast>),
    Unary(UnaryOp, Box<Ast>),
    Call(&'static str, Box<Ast>),
}

/// What a name is, as declared or inferred.
#[derive(Clone, Debug, PartialEq)]
pub struct NameInfo {
    /// The name.
    pub name: String,
    /// Its shape (sizes as the `names` field shows them).
    pub shape: Shape,
    /// Declared symmetric.
    pub symmetric: bool,
}

/// The parser's state: tokens, sizes, names.
pub(crate) struct Parser {
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
    pub sizes: Sizes,
    size_names: HashMap<String, D>,
    decls: HashMap<String, Decl>,
    names: Vec<(String, (D, D), bool)>,
    /// Resolved names of size roots.
    resolved: HashMap<usize, Dim>,
    used: Vec<String>,
}

fn kind_name(s: (D, D)) -> Kind {
    match s {
        (D::One, D::One) => Kind::Scalar,
        (_, D::One) => Kind::Vector,
        (D::One, _) => Kind::RowVector,
        _ => Kind::Matrix,
    }
}

impl Parser {
    pub fn new(decls: &[Decl]) -> Result<Parser> {
        let mut p = Parser {
            toks: Vec::new(),
            pos: 0,
            end: 1,
            depth: 0,
            sizes: Sizes::default(),
            size_names: HashMap::new(),
            decls: HashMap::new(),
            names: Vec::new(),
            resolved: HashMap::new(),
            used: Vec::new(),
        };
        for d in decls {
            p.decls.insert(d.name.clone(), d.clone());
            for dim in &d.dims {
                if let DimSpec::Name(n) = dim {
                    p.size(n);
                }
            }
        }
        Ok(p)
    }

    /// The size variable of a size name or number.
    fn size(&mut self, name: &str) -> D {
        if let Ok(k) = name.parse::<usize>() {
            if k == 1 {
                return D::One;
            }
            if let Some(d) = self.size_names.get(name) {
                return *d;
            }
            let d = self.sizes.fresh(Some(Fixed::Num(k)), name.into());
            self.size_names.insert(name.into(), d);
            return d;
        }
        if let Some(d) = self.size_names.get(name) {
            return *d;
        }
        let d = self
            .sizes
            .fresh(Some(Fixed::Name(name.into())), name.into());
        self.size_names.insert(name.into(), d);
        self.used.push(name.into());
        d
    }

    fn spec(&mut self, s: &DimSpec) -> D {
        match s {
            DimSpec::Name(n) => self.size(n),
            DimSpec::Num(k) => self.size(&k.to_string()),
        }
    }

    /// The shape of a name, declared or by the rule of its first letter.
    fn name_shape(&mut self, name: &str, span: Span) -> Result<((D, D), bool)> {
        if let Some((_, s, sym)) = self.names.iter().find(|(n, ..)| n == name) {
            return Ok((*s, *sym));
        }
        let (shape, sym) = if let Some(d) = self.decls.get(name).cloned() {
            let s = match d.dims.as_slice() {
                [] => (D::One, D::One),
                [a] => (self.spec(a), D::One),
                [a, b, ..] => (self.spec(a), self.spec(b)),
            };
            if d.symmetric {
                if s.1 == D::One {
                    return Err(Error::MatrixOperand {
                        op: "symmetric",
                        expected: "a square matrix",
                        found: kind_name(s),
                        span,
                    });
                }
                self.sizes.unify(s.0, s.1, "symmetric", span)?;
            }
            (s, d.symmetric)
        } else if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            let r = self.sizes.fresh(None, format!("rows of {name}"));
            let c = self.sizes.fresh(None, format!("columns of {name}"));
            ((r, c), false)
        } else {
            let n = self.sizes.fresh(None, format!("length of {name}"));
            ((n, D::One), false)
        };
        self.names.push((name.into(), shape, sym));
        Ok((shape, sym))
    }

    fn peek(&self) -> Option<&(Tok, usize, usize)> {
        self.toks.get(self.pos)
    }

    fn at_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some((Tok::Op(o), ..)) if *o == op)
    }

    fn unexpected(&self) -> Error {
        match self.peek() {
            Some((t, s, e)) => perr(
                ParseErrorKind::UnexpectedToken { found: token_of(t) },
                *s,
                *e,
            ),
            None => perr(ParseErrorKind::UnexpectedEnd, self.end, self.end + 1),
        }
    }

    fn enter(&mut self, col: usize) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(perr(
                ParseErrorKind::NestingTooDeep { limit: MAX_DEPTH },
                col,
                col + 1,
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<(Ast, Span)> {
        let (mut a, mut sa) = self.term()?;
        while let Some((Tok::Op(op @ ("+" | "-")), s, e)) = self.peek().cloned() {
            self.pos += 1;
            let (b, sb) = self.term()?;
            a = self.binary(op, a, b, Span { start: s, end: e })?;
            sa = Span {
                start: sa.start,
                end: sb.end,
            };
        }
        Ok((a, sa))
    }

    fn term(&mut self) -> Result<(Ast, Span)> {
        let (mut a, mut sa) = self.unary()?;
        while let Some((Tok::Op(op @ ("*" | "/" | ".*" | "./")), s, e)) = self.peek().cloned() {
            self.pos += 1;
            let (b, sb) = self.unary()?;
            a = self.binary(op, a, b, Span { start: s, end: e })?;
            sa = Span {
                start: sa.start,
                end: sb.end,
            };
        }
        Ok((a, sa))
    }

    fn unary(&mut self) -> Result<(Ast, Span)> {
        if let Some((Tok::Op("-"), s, _)) = self.peek().cloned() {
            self.pos += 1;
            self.enter(s)?;
            let (a, sa) = self.unary()?;
            self.depth -= 1;
            let shape = a.shape;
            return Ok((
                Ast {
                    kind: AstKind::Neg(Box::new(a)),
                    shape,
                },
                Span {
                    start: s,
                    end: sa.end,
                },
            ));
        }
        if let Some((Tok::Op("+"), ..)) = self.peek() {
            self.pos += 1;
            return self.unary();
        }
        self.power()
    }

    fn power(&mut self) -> Result<(Ast, Span)> {
        let (a, sa) = self.postfix()?;
        if let Some((Tok::Op(op @ ("^" | ".^")), s, e)) = self.peek().cloned() {
            self.pos += 1;
            self.enter(s)?;
            // The exponent may carry signs (`x.^-1`); powers are right-associative.
            let mut negs = 0;
            while self.at_op("-") {
                negs += 1;
                self.pos += 1;
            }
            let (mut b, sb) = self.power()?;
            self.depth -= 1;
            for _ in 0..negs {
                let shape = b.shape;
                b = Ast {
                    kind: AstKind::Neg(Box::new(b)),
                    shape,
                };
            }
            let r = self.binary(op, a, b, Span { start: s, end: e })?;
            return Ok((
                r,
                Span {
                    start: sa.start,
                    end: sb.end,
                },
            ));
        }
        Ok((a, sa))
    }

    fn postfix(&mut self) -> Result<(Ast, Span)> {
        let (mut a, mut sa) = self.atom()?;
        while let Some((Tok::Op("'"), _, e)) = self.peek().cloned() {
            self.pos += 1;
            let shape = (a.shape.1, a.shape.0);
            a = Ast {
                kind: AstKind::T(Box::new(a)),
                shape,
            };
            sa.end = e;
        }
        Ok((a, sa))
    }

    fn expect_rparen(&mut self, open: usize) -> Result<usize> {
        match self.peek().cloned() {
            Some((Tok::RParen, _, e)) => {
                self.pos += 1;
                Ok(e)
            }
            Some(_) => Err(self.unexpected()),
            None => Err(perr(ParseErrorKind::Unclosed, open, open + 1)),
        }
    }

    fn atom(&mut self) -> Result<(Ast, Span)> {
        let Some((tok, s, e)) = self.peek().cloned() else {
            return Err(self.unexpected());
        };
        let span = Span { start: s, end: e };
        match tok {
            Tok::Num(v, _) => {
                self.pos += 1;
                Ok((self.leaf(AstKind::Num(v), (D::One, D::One)), span))
            }
            Tok::LParen => {
                self.pos += 1;
                self.enter(s)?;
                let (a, _) = self.expr()?;
                let end = self.expect_rparen(s)?;
                self.depth -= 1;
                Ok((a, Span { start: s, end }))
            }
            Tok::Name(name) => {
                self.pos += 1;
                if matches!(self.peek(), Some((Tok::LParen, ..))) {
                    return self.call(&name, span);
                }
                if UnaryOp::from_name(&name).is_some() || FUNCS.contains(&name.as_str()) {
                    return Err(perr(
                        ParseErrorKind::MissingArguments {
                            name: name.as_str().into(),
                            argument: None,
                        },
                        s,
                        e,
                    ));
                }
                match name.as_str() {
                    "pi" => {
                        return Ok((
                            self.leaf(AstKind::Num(std::f64::consts::PI), (D::One, D::One)),
                            span,
                        ))
                    }
                    "e" => {
                        return Ok((
                            self.leaf(AstKind::Num(std::f64::consts::E), (D::One, D::One)),
                            span,
                        ))
                    }
                    "I" => {
                        let n = self.sizes.fresh(None, "size of I".into());
                        return Ok((self.leaf(AstKind::Identity, (n, n)), span));
                    }
                    _ => {}
                }
                let (shape, sym) = self.name_shape(&name, span)?;
                Ok((self.leaf(AstKind::Var(name, sym), shape), span))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn leaf(&self, kind: AstKind, shape: (D, D)) -> Ast {
        Ast { kind, shape }
    }

    /// Size arguments of `ones(d)` and `zeros(d1, d2)`.
    fn size_args(&mut self, open: usize) -> Result<(Vec<D>, usize)> {
        let mut out = Vec::new();
        loop {
            match self.peek().cloned() {
                Some((Tok::Name(n), ..)) => {
                    self.pos += 1;
                    out.push(self.size(&n));
                }
                Some((Tok::Num(_, text), s, e)) => {
                    self.pos += 1;
                    match text.parse::<usize>() {
                        Ok(k) if k > 0 => out.push(self.size(&k.to_string())),
                        _ => return Err(perr(ParseErrorKind::MalformedNumber { text }, s, e)),
                    }
                }
                _ => return Err(self.unexpected()),
            }
            match self.peek() {
                Some((Tok::Comma, ..)) => self.pos += 1,
                _ => break,
            }
        }
        let end = self.expect_rparen(open)?;
        Ok((out, end))
    }

    fn call(&mut self, name: &str, nspan: Span) -> Result<(Ast, Span)> {
        let open = self.peek().map(|t| t.1).unwrap_or(nspan.end);
        self.pos += 1;
        self.enter(open)?;
        if name == "ones" || name == "zeros" {
            let (dims, end) = self.size_args(open)?;
            self.depth -= 1;
            let max: u8 = if name == "ones" { 1 } else { 2 };
            if dims.len() > usize::from(max) {
                return Err(perr(
                    ParseErrorKind::Arity {
                        name: name.into(),
                        min: 1,
                        max,
                        got: dims.len(),
                    },
                    nspan.start,
                    nspan.end,
                ));
            }
            let shape = (dims[0], dims.get(1).copied().unwrap_or(D::One));
            let kind = if name == "ones" {
                AstKind::Ones
            } else {
                AstKind::Zeros
            };
            return Ok((
                Ast { kind, shape },
                Span {
                    start: nspan.start,
                    end,
                },
            ));
        }
        let op = UnaryOp::from_name(name);
        let func = FUNCS.iter().copied().find(|f| *f == name);
        if op.is_none() && func.is_none() {
            return Err(perr(
                ParseErrorKind::UnknownFunction {
                    name: name.into(),
                    hint: None,
                },
                nspan.start,
                nspan.end,
            ));
        }
        let mut args = vec![self.expr()?];
        while let Some((Tok::Comma, ..)) = self.peek() {
            self.pos += 1;
            args.push(self.expr()?);
        }
        let end = self.expect_rparen(open)?;
        self.depth -= 1;
        if args.len() != 1 {
            return Err(perr(
                ParseErrorKind::Arity {
                    name: name.into(),
                    min: 1,
                    max: 1,
                    got: args.len(),
                },
                nspan.start,
                nspan.end,
            ));
        }
        let (a, _) = args.pop().expect("one argument");
        let span = Span {
            start: nspan.start,
            end,
        };
        if let Some(op) = op {
            let shape = a.shape;
            return Ok((
                Ast {
                    kind: AstKind::Unary(op, Box::new(a)),
                    shape,
                },
                span,
            ));
        }
        let f = func.expect("a known function");
        let s = a.shape;
        let kind_err = |expected| Error::MatrixOperand {
            op: f,
            expected,
            found: kind_name(s),
            span: nspan,
        };
        let shape = match f {
            "tr" | "det" | "logdet" | "inv" => {
                if s.0 == D::One || s.1 == D::One {
                    return Err(kind_err("a square matrix"));
                }
                self.sizes.unify(s.0, s.1, f, nspan)?;
                if f == "inv" {
                    s
                } else {
                    (D::One, D::One)
                }
            }
            "diag" => match s {
                (D::One, D::One) => return Err(kind_err("a vector or a square matrix")),
                (n, D::One) | (D::One, n) => (n, n),
                (r, c) => {
                    self.sizes.unify(r, c, f, nspan)?;
                    (r, D::One)
                }
            },
            "sum" => (D::One, D::One),
            _ => {
                // norm2, norm1
                if !matches!(kind_name(s), Kind::Vector | Kind::RowVector) {
                    return Err(kind_err("a vector"));
                }
                (D::One, D::One)
            }
        };
        Ok((
            Ast {
                kind: AstKind::Call(f, Box::new(a)),
                shape,
            },
            span,
        ))
    }

    fn binary(&mut self, op: &'static str, a: Ast, b: Ast, span: Span) -> Result<Ast> {
        let (sa, sb) = (a.shape, b.shape);
        let scalar = |s: (D, D)| s == (D::One, D::One);
        let shape = match op {
            "*" => {
                if scalar(sa) {
                    sb
                } else if scalar(sb) {
                    sa
                } else {
                    self.sizes.unify(sa.1, sb.0, "*", span)?;
                    (sa.0, sb.1)
                }
            }
            "/" | "^" => {
                let bad = if op == "/" {
                    sb
                } else if !scalar(sa) {
                    sa
                } else {
                    sb
                };
                if !scalar(bad) {
                    return Err(Error::MatrixOperand {
                        op: if op == "/" { "/" } else { "^" },
                        expected: if op == "/" {
                            "a scalar divisor (./ divides elementwise)"
                        } else {
                            "scalar operands (.^ is the elementwise power)"
                        },
                        found: kind_name(bad),
                        span,
                    });
                }
                sa
            }
            _ => {
                // + - .* ./ .^ : a scalar broadcasts, else the shapes agree.
                if scalar(sa) {
                    sb
                } else if scalar(sb) {
                    sa
                } else {
                    self.sizes.unify(sa.0, sb.0, op, span)?;
                    self.sizes.unify(sa.1, sb.1, op, span)?;
                    sa
                }
            }
        };
        Ok(Ast {
            kind: AstKind::Bin(op, Box::new(a), Box::new(b)),
            shape,
        })
    }

    /// The resolved size of a size variable (free sizes get names n, m, p, ...).
    fn dim(&mut self, d: D) -> Dim {
        let D::V(v) = d else { return Dim::One };
        let r = self.sizes.find(v);
        if let Some(x) = self.resolved.get(&r) {
            return x.clone();
        }
        let dim = match self.sizes.fixed_of(r) {
            Some(Fixed::Name(n)) => Dim::size(&n),
            Some(Fixed::Num(k)) => Dim::size(&k.to_string()),
            None => {
                let mut k = 0usize;
                let name = loop {
                    let cand = match FREE_NAMES.get(k) {
                        Some(c) => c.to_string(),
                        None => format!("n{}", k - FREE_NAMES.len() + 1),
                    };
                    if !self.used.contains(&cand) {
                        break cand;
                    }
                    k += 1;
                };
                self.used.push(name.clone());
                Dim::size(&name)
            }
        };
        self.resolved.insert(r, dim.clone());
        dim
    }

    fn shape(&mut self, s: (D, D)) -> Shape {
        Shape::new(self.dim(s.0), self.dim(s.1))
    }

    fn build(&mut self, a: &Ast) -> Expr {
        let shape = self.shape(a.shape);
        match &a.kind {
            AstKind::Var(n, sym) => Expr::var(n, shape, *sym),
            AstKind::Num(v) => Expr::num(*v),
            AstKind::Identity => Expr::identity(shape.rows),
            AstKind::Zeros => Expr::zeros(shape),
            AstKind::Ones => Expr::ones(shape.rows),
            AstKind::T(x) => expr::t(&self.build(x)),
            AstKind::Neg(x) => expr::neg(&self.build(x)),
            AstKind::Unary(op, x) => expr::unary(*op, &self.build(x)),
            AstKind::Call(f, x) => {
                let x = self.build(x);
                match *f {
                    "tr" => expr::tr(&x),
                    "det" => expr::det(&x),
                    "logdet" => expr::logdet(&x),
                    "inv" => expr::inv(&x),
                    "diag" => {
                        if x.shape().kind() == super::Kind::Matrix {
                            expr::diag_of(&x)
                        } else {
                            expr::diag(&x)
                        }
                    }
                    "sum" => expr::sum(&x),
                    "norm2" => expr::norm2(&x),
                    _ => expr::norm1(&x),
                }
            }
            AstKind::Bin(op, x, y) => {
                let (x, y) = (self.build(x), self.build(y));
                match *op {
                    "+" => expr::add(&x, &y),
                    "-" => expr::sub(&x, &y),
                    "*" => expr::mul(&x, &y),
                    ".*" => expr::elem(BinaryOp::Mul, &x, &y),
                    "/" | "./" => expr::elem(BinaryOp::Div, &x, &y),
                    _ => expr::elem(BinaryOp::Pow, &x, &y),
                }
            }
        }
    }

    /// Parses `src`; when `expected` is given, the expression's shape is
    /// unified with it (so that a lone `I` takes the result's size).
    pub fn parse(&mut self, src: &str, expected: Option<&Shape>) -> Result<(Expr, Vec<NameInfo>)> {
        self.toks = tokenize(src)?;
        self.end = src.chars().count() + 1;
        if self.toks.is_empty() {
            return Err(perr(ParseErrorKind::Empty, 1, 2));
        }
        let (ast, span) = self.expr()?;
        if let Some((t, s, e)) = self.peek().cloned() {
            let kind = match t {
                Tok::RParen | Tok::Comma => ParseErrorKind::Unmatched {
                    found: token_of(&t),
                },
                _ => ParseErrorKind::MissingOperator {
                    before: Box::new(token_of(&t)),
                    write: implicit_product_fix(self.toks.get(self.pos.wrapping_sub(1)), &t).into(),
                },
            };
            return Err(perr(kind, s, e));
        }
        if let Some(exp) = expected {
            let want = (self.dim_spec(&exp.rows), self.dim_spec(&exp.cols));
            self.sizes.unify(ast.shape.0, want.0, "the result", span)?;
            self.sizes.unify(ast.shape.1, want.1, "the result", span)?;
        }
        // Free sizes are named n, m, p, ... in the order the names'
        // axes first appear (`A*x`: A is n x m, x has length m).
        let names = self.names.clone();
        let infos = names
            .into_iter()
            .map(|(n, s, sym)| NameInfo {
                name: n,
                shape: self.shape(s),
                symmetric: sym,
            })
            .collect();
        let e = self.build(&ast);
        Ok((e, infos))
    }

    fn dim_spec(&mut self, d: &Dim) -> D {
        match d {
            Dim::One => D::One,
            Dim::Size(n) => self.size(n),
        }
    }
}

const FUNCS: [&str; 8] = [
    "tr", "det", "logdet", "inv", "diag", "sum", "norm2", "norm1",
];
const FREE_NAMES: [&str; 10] = ["n", "m", "p", "q", "r", "s", "t", "k", "l", "d"];
