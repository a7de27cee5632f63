//! Differentiation through the one rules table ([`crate::rules`]) with
//! `T = Expr`: each node's derivative is built once (memoised by node),
//! children before parents, without recursion.

use super::expr::{topo, Expr, FxMap, Node};
use super::num::Num;
use super::simplify::{self, num};
use crate::ops::{BinaryOp, UnaryOp};
use crate::rules::{d_binary, d_unary};

/// Derivatives with respect to `var` of every root, sharing one walk.
pub(crate) fn diff_many(roots: &[Expr], var: &str) -> Vec<Expr> {
    let order = topo(roots);
    let target = Expr::var(var);
    let zero = num(Num::ZERO);
    let one = num(Num::ONE);
    let mut d: FxMap<Expr, Expr> = FxMap::default();
    for &e in &order {
        let de = {
            let dc = |c: &Expr| d[c];
            match e.node() {
                Node::Num(_) | Node::Const(_) => zero,
                Node::Sym(_) => {
                    if e == target {
                        one
                    } else {
                        zero
                    }
                }
                Node::Add(ts) => {
                    let parts: Vec<Expr> = ts.iter().map(dc).filter(|t| !t.is_zero()).collect();
                    simplify::add(parts)
                }
                Node::Mul(fs) => {
                    // Product rule through the table: ∂(rest·f)/∂f = rest.
                    let mut terms = Vec::new();
                    for (i, f) in fs.iter().enumerate() {
                        let df = dc(f);
                        if df.is_zero() {
                            continue;
                        }
                        let rest = simplify::mul(
                            fs.iter()
                                .enumerate()
                                .filter(|&(j, _)| j != i)
                                .map(|(_, &g)| g),
                        );
                        let (_, d_f) = d_binary(BinaryOp::Mul, &rest, f, &e);
                        terms.push(simplify::mul([d_f, df]));
                    }
                    simplify::add(terms)
                }
                Node::Pow([b, x]) => {
                    let (db, dx) = (dc(&b), dc(&x));
                    match x
                        .as_num()
                        .and_then(|k| k.as_int())
                        .and_then(|k| i32::try_from(k).ok())
                    {
                        Some(n) => {
                            if db.is_zero() {
                                zero
                            } else {
                                simplify::mul([d_unary(UnaryOp::Powi(n), &b, &e), db])
                            }
                        }
                        None => {
                            if db.is_zero() && dx.is_zero() {
                                zero
                            } else {
                                let (pb, px) = d_binary(BinaryOp::Pow, &b, &x, &e);
                                let mut terms = Vec::new();
                                if !db.is_zero() {
                                    terms.push(simplify::mul([pb, db]));
                                }
                                if !dx.is_zero() {
                                    terms.push(simplify::mul([px, dx]));
                                }
                                simplify::add(terms)
                            }
                        }
                    }
                }
                Node::Unary(op, a) => {
                    let da = dc(&a);
                    if da.is_zero() {
                        zero
                    } else {
                        simplify::mul([d_unary(op, &a, &e), da])
                    }
                }
                Node::Binary(op, [a, b]) => {
                    let (da, db) = (dc(&a), dc(&b));
                    if da.is_zero() && db.is_zero() {
                        zero
                    } else {
                        let (pa, pb) = d_binary(op, &a, &b, &e);
                        simplify::add([simplify::mul([pa, da]), simplify::mul([pb, db])])
                    }
                }
            }
        };
        d.insert(e, de);
    }
    roots.iter().map(|r| d[r]).collect()
}

impl Expr {
    /// ∂self/∂var, simplified.
    pub fn diff(&self, var: &str) -> Expr {
        diff_many(&[*self], var)[0]
    }

    /// The k-th derivative with respect to `var` (`k = 0` is `self`).
    pub fn diff_n(&self, var: &str, k: usize) -> Expr {
        let mut e = *self;
        for _ in 0..k {
            e = e.diff(var);
        }
        e
    }
}

/// ∂expr/∂v for each v in `vars`.
pub fn gradient(expr: &Expr, vars: &[&str]) -> Vec<Expr> {
    vars.iter().map(|v| expr.diff(v)).collect()
}

/// The matrix of second derivatives, rows and columns in `vars` order
/// (symmetric: each mixed partial is computed once).
pub fn hessian(expr: &Expr, vars: &[&str]) -> Vec<Vec<Expr>> {
    let g = gradient(expr, vars);
    let n = vars.len();
    let mut h = vec![vec![num(Num::ZERO); n]; n];
    for i in 0..n {
        for j in i..n {
            let dij = g[i].diff(vars[j]);
            h[i][j] = dij;
            h[j][i] = dij;
        }
    }
    h
}

/// Rows ∂exprs[i]/∂vars[j].
pub fn jacobian(exprs: &[Expr], vars: &[&str]) -> Vec<Vec<Expr>> {
    let cols: Vec<Vec<Expr>> = vars.iter().map(|v| diff_many(exprs, v)).collect();
    (0..exprs.len())
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect()
}
