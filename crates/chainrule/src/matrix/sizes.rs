//! Size symbols and their unification, and the declaration list
//! (`A: n x n symmetric, x: n, c: scalar`).

use crate::error::{Error, ParseErrorKind, Result, Token};
use crate::symbolic::Span;

/// A size while an expression is typed: the axis of length 1, or a
/// variable of the union-find table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum D {
    One,
    V(usize),
}

/// What a size variable is fixed to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Fixed {
    /// A declared size name (rigid).
    Name(String),
    /// A number.
    Num(usize),
}

/// Union-find over size variables; a root may be fixed to a name or number.
#[derive(Default)]
pub(crate) struct Sizes {
    parent: Vec<usize>,
    fixed: Vec<Option<Fixed>>,
    /// How a free size is described in errors (`rows of A`).
    label: Vec<String>,
}

impl Sizes {
    pub fn fresh(&mut self, fixed: Option<Fixed>, label: String) -> D {
        self.parent.push(self.parent.len());
        self.fixed.push(fixed);
        self.label.push(label);
        D::V(self.parent.len() - 1)
    }

    pub fn find(&mut self, mut v: usize) -> usize {
        while self.parent[v] != v {
            self.parent[v] = self.parent[self.parent[v]];
            v = self.parent[v];
        }
        v
    }

    pub fn fixed_of(&mut self, v: usize) -> Option<Fixed> {
        let r = self.find(v);
        self.fixed[r].clone()
    }

    /// The size as an error names it.
    pub fn describe(&mut self, d: D) -> String {
        match d {
            D::One => "1".into(),
            D::V(v) => {
                let r = self.find(v);
                match &self.fixed[r] {
                    Some(Fixed::Name(n)) => n.clone(),
                    Some(Fixed::Num(k)) => k.to_string(),
                    None => self.label[r].clone(),
                }
            }
        }
    }

    /// Makes two sizes one, or says why they cannot be.
    pub fn unify(&mut self, a: D, b: D, op: &'static str, span: Span) -> Result<()> {
        let mismatch = |s: &mut Sizes| Error::MatrixSizeMismatch {
            op,
            sizes: Box::new([s.describe(a), s.describe(b)]),
            span,
        };
        match (a, b) {
            (D::One, D::One) => Ok(()),
            (D::V(x), D::V(y)) => {
                let (rx, ry) = (self.find(x), self.find(y));
                if rx == ry {
                    return Ok(());
                }
                match (&self.fixed[rx], &self.fixed[ry]) {
                    (Some(p), Some(q)) if p != q => Err(mismatch(self)),
                    (None, Some(_)) => {
                        self.parent[rx] = ry;
                        Ok(())
                    }
                    _ => {
                        self.parent[ry] = rx;
                        Ok(())
                    }
                }
            }
            _ => Err(mismatch(self)),
        }
    }
}

/// One axis as declared: a size name or a number.
#[derive(Clone, Debug, PartialEq)]
pub enum DimSpec {
    /// A size name.
    Name(String),
    /// A number (1 is the axis of length 1).
    Num(usize),
}

/// A declaration `name: dims [symmetric]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// The name declared.
    pub name: String,
    /// No axes (a scalar), one (a vector) or two (a matrix).
    pub dims: Vec<DimSpec>,
    /// Declared symmetric.
    pub symmetric: bool,
}

fn perr(kind: ParseErrorKind, start: usize, end: usize) -> Error {
    Error::Parse {
        kind,
        span: Span { start, end },
    }
}

/// Parses a declaration list: `decl (',' decl)*`, each
/// `name ':' ('scalar' | dim | dim ('x' | '×') dim) 'symmetric'?`.
///
/// ```
/// use chainrule::matrix::{parse_decls, DimSpec};
/// let d = parse_decls("A: n x n symmetric, x: n, c: scalar").unwrap();
/// assert_eq!(d.len(), 3);
/// assert!(d[0].symmetric);
/// assert_eq!(d[1].dims, [DimSpec::Name("n".into())]);
/// assert!(d[2].dims.is_empty());
/// ```
pub fn parse_decls(src: &str) -> Result<Vec<Decl>> {
    // Words (names, numbers), ':', ',' and '×', with 1-based columns.
    let chars: Vec<char> = src.chars().collect();
    let mut toks: Vec<(String, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let s = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            toks.push((chars[s..i].iter().collect(), s + 1, i + 1));
        } else if c == ':' || c == ',' || c == '×' {
            toks.push((c.to_string(), i + 1, i + 2));
            i += 1;
        } else {
            return Err(perr(
                ParseErrorKind::UnexpectedChar { found: c },
                i + 1,
                i + 2,
            ));
        }
    }
    let end = chars.len() + 1;
    let tok_of = |t: &str| -> Token {
        match t {
            "," => Token::Comma,
            ":" => Token::Operator { op: ':' },
            _ if t.chars().all(|c| c.is_ascii_digit()) => Token::Number { text: t.into() },
            _ => Token::Name { text: t.into() },
        }
    };
    let mut out: Vec<Decl> = Vec::new();
    let mut p = 0;
    let is_word = |t: &str| t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let dim = |t: &(String, usize, usize)| -> Result<DimSpec> {
        if t.0.chars().all(|c| c.is_ascii_digit()) {
            match t.0.parse::<usize>() {
                Ok(n) if n > 0 => Ok(DimSpec::Num(n)),
                _ => Err(perr(
                    ParseErrorKind::MalformedNumber { text: t.0.clone() },
                    t.1,
                    t.2,
                )),
            }
        } else if is_word(&t.0) && t.0.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
            Ok(DimSpec::Name(t.0.clone()))
        } else {
            Err(perr(
                ParseErrorKind::UnexpectedToken {
                    found: tok_of(&t.0),
                },
                t.1,
                t.2,
            ))
        }
    };
    if toks.is_empty() {
        return Ok(out);
    }
    loop {
        let next = |p: usize| -> Result<&(String, usize, usize)> {
            toks.get(p)
                .ok_or_else(|| perr(ParseErrorKind::UnexpectedEnd, end, end + 1))
        };
        let name_tok = next(p)?;
        if !crate::symbolic::is_name(&name_tok.0) {
            return Err(perr(
                ParseErrorKind::UnexpectedToken {
                    found: tok_of(&name_tok.0),
                },
                name_tok.1,
                name_tok.2,
            ));
        }
        if out.iter().any(|d| d.name == name_tok.0) {
            return Err(Error::MatrixDuplicateDeclaration {
                name: name_tok.0.clone(),
                span: Span {
                    start: name_tok.1,
                    end: name_tok.2,
                },
            });
        }
        let colon = next(p + 1)?;
        if colon.0 != ":" {
            return Err(perr(
                ParseErrorKind::UnexpectedToken {
                    found: tok_of(&colon.0),
                },
                colon.1,
                colon.2,
            ));
        }
        p += 2;
        let first = next(p)?;
        let mut dims = Vec::new();
        if first.0 == "scalar" {
            p += 1;
        } else {
            dims.push(dim(first)?);
            p += 1;
            if let Some(x) = toks.get(p) {
                if x.0 == "x" || x.0 == "×" {
                    dims.push(dim(next(p + 1)?)?);
                    p += 2;
                }
            }
        }
        let mut symmetric = false;
        if let Some(s) = toks.get(p) {
            if s.0 == "symmetric" {
                symmetric = true;
                p += 1;
            }
        }
        // A dimension of 1 is the missing axis: `x: n x 1` is a vector.
        dims.retain(|d| *d != DimSpec::Num(1));
        out.push(Decl {
            name: name_tok.0.clone(),
            dims,
            symmetric,
        });
        match toks.get(p) {
            None => return Ok(out),
            Some(t) if t.0 == "," => p += 1,
            Some(t) => {
                return Err(perr(
                    ParseErrorKind::UnexpectedToken {
                        found: tok_of(&t.0),
                    },
                    t.1,
                    t.2,
                ))
            }
        }
    }
}
