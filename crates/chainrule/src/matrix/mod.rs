//! Matrix calculus: the derivative of an expression of scalars, vectors and
//! matrices as a formula in matrix notation (`∇ tr(A*X*B) = A'*B'`).
//!
//! Expressions are typed by shape as they are parsed ([`parse`], the grammar
//! of the `chainrule matrix` section of CLI.md): sizes are symbols unified
//! by the expression, or declared (`A: n x n symmetric, x: n`). The
//! derivative is taken by the generalized-product method (Laue,
//! Mitterreiter, Giesen, NeurIPS 2018): every node is read as a sum, an
//! elementwise function or a contraction `A ×(s1,s2,s3) B` of index-labelled
//! tensors, differentiated by the product rule on that form (elementwise
//! derivatives from the one table, [`crate::rules`]), its deltas removed by
//! renaming indices, and translated back to matrix notation by pattern; a
//! Hessian is the derivative of the derivative. A result of three or more
//! axes is refused ([`Error::MatrixTooManyAxes`]).
//!
//! ```
//! use chainrule::matrix;
//! let p = matrix::parse("tr(A*X*B)", "").unwrap();
//! assert_eq!(p.derivative("X").unwrap().to_string(), "A'*B'");
//! let p = matrix::parse("1/2*x'*A*x + b'*x + c", "c: scalar").unwrap();
//! assert_eq!(p.hessian("x").unwrap().to_string(), "1/2*(A + A')");
//! let p = matrix::parse("log(1 + exp(a'*x))", "").unwrap();
//! assert_eq!(p.derivative("x").unwrap().to_string(), "sigmoid(a'*x)*a");
//! let p = matrix::parse("1/2*norm2(A*x - b)^2", "").unwrap();
//! assert_eq!(p.derivative("x").unwrap().to_string(), "A'*(A*x - b)");
//! ```

mod compile;
mod eval;
mod ew;
mod expr;
mod index;
mod parse;
mod print;
mod simplify;
mod sizes;
mod to_matrix;

pub use compile::{compile, Program};
pub use eval::{eval, natural, Values};
pub use expr::{Dim, Expr, Kind, Node, Shape};
pub use parse::{NameInfo, MAX_DEPTH};
pub use print::{latex, text};
pub use simplify::simplify;
pub use sizes::{parse_decls, Decl, DimSpec};

use crate::error::{Error, Result};
use index::{eliminate_deltas, Differ, Mono};

/// A parsed, typed expression with the names it uses.
#[derive(Clone, Debug)]
pub struct Problem {
    /// The expression.
    pub expr: Expr,
    /// Its names, in order of first appearance, with their shapes.
    pub names: Vec<NameInfo>,
}

/// Parses `src` with the declarations `decls` (`"A: n x n symmetric, c: scalar"`,
/// or empty).
pub fn parse(src: &str, decls: &str) -> Result<Problem> {
    let decls = parse_decls(decls)?;
    let mut p = parse::Parser::new(&decls)?;
    let (expr, names) = p.parse(src, None)?;
    Ok(Problem { expr, names })
}

fn decl_of(info: &NameInfo) -> Decl {
    let spec = |d: &Dim| match d {
        Dim::One => DimSpec::Num(1),
        Dim::Size(s) => s
            .parse::<usize>()
            .map(DimSpec::Num)
            .unwrap_or_else(|_| DimSpec::Name(s.to_string())),
    };
    Decl {
        name: info.name.clone(),
        dims: info.shape.axes().iter().map(spec).collect(),
        symmetric: info.symmetric,
    }
}

impl Problem {
    /// The name `name`.
    pub fn name(&self, name: &str) -> Option<&NameInfo> {
        self.names.iter().find(|n| n.name == name)
    }

    fn wrt(&self, name: &str) -> Result<&NameInfo> {
        self.name(name)
            .ok_or_else(|| Error::MatrixUnknownName { name: name.into() })
    }

    /// Parses another formula over the same names and sizes (a derivative
    /// printed by [`Problem::derivative`] parses back with it); `expected`
    /// is its shape, from which a lone `I` takes its size.
    pub fn parse_formula(&self, src: &str, expected: Option<&Shape>) -> Result<Expr> {
        let decls: Vec<Decl> = self.names.iter().map(decl_of).collect();
        let mut p = parse::Parser::new(&decls)?;
        Ok(p.parse(src, expected)?.0)
    }

    /// The shape of the derivative with respect to `wrt`: the gradient has
    /// the variable's shape, a Jacobian of a vector is `m x n`, the
    /// derivative with respect to a scalar has the expression's shape.
    pub fn derivative_shape(&self, wrt: &str) -> Result<Shape> {
        let v = self.wrt(wrt)?;
        let f = self.expr.shape();
        let (fa, va) = (f.axes(), v.shape.axes());
        if fa.len() + va.len() > 2 {
            return Err(Error::MatrixTooManyAxes {
                of: f.kind().name(),
                wrt: v.shape.kind().name(),
                axes: fa.len() + va.len(),
            });
        }
        Ok(if fa.is_empty() {
            v.shape.clone()
        } else if va.is_empty() {
            f.clone()
        } else {
            Shape::new(fa[0].clone(), va[0].clone())
        })
    }

    /// The index form of the derivative: its monomials, free indices and
    /// the differentiator (index sizes).
    fn gradient_terms(&self, wrt: &str) -> Result<(Vec<Mono>, Vec<usize>, Differ)> {
        let v = self.wrt(wrt)?;
        self.derivative_shape(wrt)?;
        let mut d = Differ::new(wrt);
        let fi = d.indices(self.expr.shape());
        d.v = d.indices(&v.shape);
        let mut terms = d.d(&self.expr, &fi);
        let free: Vec<usize> = fi.iter().chain(&d.v).copied().collect();
        for m in &mut terms {
            eliminate_deltas(m, &free, &d.dims);
        }
        Ok((terms, free, d))
    }

    fn to_matrix(
        &self,
        terms: &[Mono],
        free: &[usize],
        d: &Differ,
        shape: &Shape,
        wrt: &str,
    ) -> Result<Expr> {
        let (of, wrt) = (
            self.expr.shape().kind().name(),
            self.name(wrt)
                .map(|n| n.shape.kind().name())
                .unwrap_or("scalar"),
        );
        let too_many = || {
            if free.len() > 2 {
                Error::MatrixTooManyAxes {
                    of,
                    wrt,
                    axes: free.len(),
                }
            } else {
                Error::MatrixNoForm { of, wrt }
            }
        };
        let mut sum = Expr::zeros(shape.clone());
        for m in terms {
            let e = to_matrix::translate(m, free, &d.dims).map_err(|_| too_many())?;
            // A vector result stands as a column; a row expression's
            // derivative by a scalar is a row.
            let e = if e.shape() != shape && e.shape().t() == *shape {
                expr::t(&e)
            } else {
                e
            };
            sum = expr::add(&sum, &e);
        }
        Ok(simplify(&sum))
    }

    /// The derivative with respect to `wrt`, simplified, in matrix notation.
    pub fn derivative(&self, wrt: &str) -> Result<Expr> {
        let shape = self.derivative_shape(wrt)?;
        let (terms, free, d) = self.gradient_terms(wrt)?;
        self.to_matrix(&terms, &free, &d, &shape, wrt)
    }

    /// The Hessian with respect to a scalar or vector `wrt` of a scalar
    /// expression: the derivative of the derivative (`n x n`, or a scalar).
    pub fn hessian(&self, wrt: &str) -> Result<Expr> {
        let v = self.wrt(wrt)?.clone();
        let fkind = self.expr.shape().kind();
        if fkind != Kind::Scalar || v.shape.kind() == Kind::Matrix {
            return Err(Error::MatrixHessian {
                of: fkind.name(),
                wrt: v.shape.kind().name(),
            });
        }
        let (terms, mut free, mut d) = self.gradient_terms(wrt)?;
        let v1 = d.v.clone();
        d.v = d.indices(&v.shape);
        let mut second = d.d_sum(&terms);
        free.extend(d.v.iter().copied());
        let _ = v1;
        for m in &mut second {
            eliminate_deltas(m, &free, &d.dims);
        }
        let shape = match v.shape.axes().first() {
            Some(n) => Shape::new(n.clone(), n.clone()),
            None => Shape::scalar(),
        };
        self.to_matrix(&second, &free, &d, &shape, wrt)
    }
}

impl Problem {
    /// The expression as a function of `wrt`'s value (natural shape) on the
    /// tape, the other names held at `values`.
    fn function<'a>(
        &'a self,
        wrt: &'a NameInfo,
        values: &'a Values,
    ) -> impl Fn(&crate::Tensor) -> crate::Tensor + 'a {
        move |t: &crate::Tensor| {
            let rows = if wrt.shape.rows == Dim::One {
                1
            } else {
                t.shape()[0]
            };
            let cols = t.numel() / rows.max(1);
            let v = values.with(&wrt.name, t.reshape(&[rows, cols]));
            let out = eval(&self.expr, &v).expect("a typed expression with bound values evaluates");
            natural(&out, self.expr.shape())
        }
    }

    /// Reverse-mode autodiff of the expression at `values`, by `wrt`: the
    /// gradient or Jacobian (natural shapes, `output ++ input`), to compare
    /// with the formula of [`Problem::derivative`].
    pub fn autodiff(&self, wrt: &str, values: &Values) -> Result<crate::Tensor> {
        let (info, x0) = self.point(wrt, values)?;
        Ok(crate::functional::jacrev(self.function(info, values))(&x0))
    }

    /// The Hessian by reverse over reverse mode at `values`, by `wrt`.
    pub fn autodiff_hessian(&self, wrt: &str, values: &Values) -> Result<crate::Tensor> {
        let (info, x0) = self.point(wrt, values)?;
        crate::functional::try_hessian(self.function(info, values))(&x0)
    }

    /// The variable `wrt` and its value, once `values` are checked against
    /// the expression (by evaluating it).
    fn point(&self, wrt: &str, values: &Values) -> Result<(&NameInfo, crate::Tensor)> {
        let info = self.wrt(wrt)?;
        eval(&self.expr, values)?;
        let x0 = values.natural(info).ok_or_else(|| Error::MatrixValue {
            name: wrt.into(),
            problem: Box::new(crate::error::ValueProblem::Missing),
        })?;
        Ok((info, x0))
    }
}
