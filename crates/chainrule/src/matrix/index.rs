//! The index form of the generalized-product method (Laue, Mitterreiter,
//! Giesen, NeurIPS 2018): a derivative is a sum of monomials, each a number
//! times a product of index-labelled factors (matrices with two indices,
//! vectors with one, scalars with none, and deltas, `I` with two), in
//! Einstein convention: an index that is not free is summed. A product
//! `A*B` is the contraction `A ×(ik,kj,ij) B`, `A.*B` is `A ×(ij,ij,ij) B`,
//! `u*v'` is `u ×(i,j,ij) v`, `tr(A)` is `A_kk`.
//!
//! [`Differ::d`] gives the derivative of a factor `e[idx]` with respect to a
//! variable whose indices are `v`: the product rule over contractions, sums
//! and elementwise functions (whose derivatives come from
//! [`crate::rules`]). The derivative of the variable itself is a product of
//! deltas, which [`eliminate_deltas`] removes by renaming indices.

use super::ew::Ew;
use super::expr::{self, Dim, Expr, Node, Shape};
use crate::rules::{d_binary, d_unary};

/// An index.
pub(crate) type Ix = usize;

/// `e[idx]`: a matrix (2 indices), a column vector (1) or a scalar (0).
#[derive(Clone, Debug)]
pub(crate) struct Factor {
    pub e: Expr,
    pub idx: Vec<Ix>,
}

/// A number times a product of factors.
#[derive(Clone, Debug)]
pub(crate) struct Mono {
    pub coef: f64,
    pub factors: Vec<Factor>,
}

impl Mono {
    pub fn one() -> Mono {
        Mono {
            coef: 1.0,
            factors: Vec::new(),
        }
    }

    /// The factor `e[idx]`, its numeric coefficient pulled out, a vector
    /// always a column.
    pub fn factor(e: &Expr, idx: Vec<Ix>) -> Mono {
        let mut coef = 1.0;
        let mut e = e.clone();
        loop {
            match e.node() {
                Node::Num(c) => {
                    return Mono {
                        coef: coef * c,
                        factors: Vec::new(),
                    }
                }
                Node::Neg(x) => {
                    coef = -coef;
                    e = x.clone();
                }
                Node::Mul(c, x) if c.as_num().is_some() => {
                    coef *= c.as_num().unwrap_or(1.0);
                    e = x.clone();
                }
                _ => break,
            }
        }
        if e.shape().rows == Dim::One && e.shape().cols != Dim::One {
            e = expr::t(&e);
        }
        Mono {
            coef,
            factors: vec![Factor { e, idx }],
        }
    }

    pub fn times(&self, other: &Mono) -> Mono {
        let mut factors = self.factors.clone();
        factors.extend(other.factors.iter().cloned());
        Mono {
            coef: self.coef * other.coef,
            factors,
        }
    }
}

/// Each monomial of `terms` times `m`.
fn times_all(terms: Vec<Mono>, m: &Mono) -> Vec<Mono> {
    terms.into_iter().map(|t| t.times(m)).collect()
}

/// The differentiator: the variable, its indices, and the size of every index.
pub(crate) struct Differ {
    pub wrt: String,
    pub v: Vec<Ix>,
    pub dims: Vec<Dim>,
}

impl Differ {
    pub fn new(wrt: &str) -> Differ {
        Differ {
            wrt: wrt.into(),
            v: Vec::new(),
            dims: Vec::new(),
        }
    }

    pub fn fresh(&mut self, d: Dim) -> Ix {
        self.dims.push(d);
        self.dims.len() - 1
    }

    /// Fresh indices for the axes of a shape.
    pub fn indices(&mut self, s: &Shape) -> Vec<Ix> {
        s.axes().into_iter().map(|d| self.fresh(d)).collect()
    }

    /// Splits the indices of a value of shape `s` into its row and column
    /// index (None for an axis of length 1).
    fn split(s: &Shape, idx: &[Ix]) -> (Option<Ix>, Option<Ix>) {
        let r = (s.rows != Dim::One).then(|| idx[0]);
        let c = (s.cols != Dim::One).then(|| idx[usize::from(r.is_some())]);
        (r, c)
    }

    /// d e[idx] / d wrt[v], as a sum of monomials.
    pub fn d(&mut self, e: &Expr, idx: &[Ix]) -> Vec<Mono> {
        use Node::*;
        if !e.depends_on(&self.wrt) {
            return Vec::new();
        }
        let idx = idx.to_vec();
        match e.node() {
            Var { .. } => {
                let mut m = Mono::one();
                for (a, b) in idx.iter().zip(self.v.clone()) {
                    let n = self.dims[b].clone();
                    m = m.times(&Mono::factor(&Expr::identity(n), vec![*a, b]));
                }
                vec![m]
            }
            Num(_) | Identity | Zeros | Ones => Vec::new(),
            Transpose(a) => {
                let r: Vec<Ix> = idx.iter().rev().copied().collect();
                self.d(a, &r)
            }
            Neg(a) => {
                let mut t = self.d(a, &idx);
                for m in &mut t {
                    m.coef = -m.coef;
                }
                t
            }
            Add(a, b) | Sub(a, b) => {
                let mut t = self.d_broadcast(a, &idx);
                let mut u = self.d_broadcast(b, &idx);
                if matches!(e.node(), Sub(..)) {
                    for m in &mut u {
                        m.coef = -m.coef;
                    }
                }
                t.append(&mut u);
                t
            }
            Mul(a, b) => {
                if a.is_scalar() && !b.is_scalar() {
                    let mut t = times_all(self.d(a, &[]), &Mono::factor(b, idx.clone()));
                    t.extend(times_all(self.d(b, &idx), &Mono::factor(a, vec![])));
                    return t;
                }
                let (p, r) = Self::split(e.shape(), &idx);
                let k = (a.shape().cols != Dim::One).then(|| self.fresh(a.shape().cols.clone()));
                let ia: Vec<Ix> = p.into_iter().chain(k).collect();
                let ib: Vec<Ix> = k.into_iter().chain(r).collect();
                let mut t = times_all(self.d(a, &ia), &Mono::factor(b, ib.clone()));
                t.extend(times_all(self.d(b, &ib), &Mono::factor(a, ia)));
                t
            }
            Elem(op, a, b) => {
                let (pa, pb) = d_binary(*op, &Ew(a.clone()), &Ew(b.clone()), &Ew(e.clone()));
                let mut t = self.chain(&pa.0, a, &idx);
                t.extend(self.chain(&pb.0, b, &idx));
                t
            }
            Unary(op, a) => {
                let p = d_unary(*op, &Ew(a.clone()), &Ew(e.clone()));
                self.chain(&p.0, a, &idx)
            }
            Tr(a) => {
                let k = self.fresh(a.shape().rows.clone());
                self.d(a, &[k, k])
            }
            Det(a) | Logdet(a) => {
                let n = a.shape().rows.clone();
                let (i, j) = (self.fresh(n.clone()), self.fresh(n));
                let mut m = Mono::factor(&expr::inv(a), vec![j, i]);
                if matches!(e.node(), Det(_)) {
                    m = m.times(&Mono::factor(e, vec![]));
                }
                times_all(self.d(a, &[i, j]), &m)
            }
            Inv(a) => {
                let n = a.shape().rows.clone();
                let (k, l) = (self.fresh(n.clone()), self.fresh(n));
                let m = Mono::factor(e, vec![idx[0], k]).times(&Mono::factor(e, vec![l, idx[1]]));
                let mut t = times_all(self.d(a, &[k, l]), &m);
                for m in &mut t {
                    m.coef = -m.coef;
                }
                t
            }
            Diag(v) => {
                let n = e.shape().rows.clone();
                let m = Mono::factor(&Expr::identity(n), vec![idx[0], idx[1]]);
                times_all(self.d(v, &[idx[0]]), &m)
            }
            DiagOf(a) => self.d(a, &[idx[0], idx[0]]),
            Sum(a) => {
                let ia = self.indices(a.shape());
                self.d(a, &ia)
            }
            Norm2(v) => {
                let k = self.fresh(v.shape().axes()[0].clone());
                let m = Mono::factor(v, vec![k]).times(&Mono::factor(
                    &expr::unary(crate::UnaryOp::Powi(-1), e),
                    vec![],
                ));
                times_all(self.d(v, &[k]), &m)
            }
            Norm1(v) => {
                let k = self.fresh(v.shape().axes()[0].clone());
                let m = Mono::factor(&expr::unary(crate::UnaryOp::Sign, v), vec![k]);
                times_all(self.d(v, &[k]), &m)
            }
        }
    }

    /// `p[idx] × d a[idx]` for an elementwise partial `p` of an argument `a`
    /// (either may be a scalar that broadcasts).
    fn chain(&mut self, p: &Expr, a: &Expr, idx: &[Ix]) -> Vec<Mono> {
        if p.is_zero() {
            return Vec::new();
        }
        let ip = if p.is_scalar() { vec![] } else { idx.to_vec() };
        let ia = if a.is_scalar() { vec![] } else { idx.to_vec() };
        times_all(self.d(a, &ia), &Mono::factor(p, ip))
    }

    /// The derivative of an operand of `+`/`-` that may be a broadcast scalar.
    fn d_broadcast(&mut self, a: &Expr, idx: &[Ix]) -> Vec<Mono> {
        if a.is_scalar() && !idx.is_empty() {
            let mut m = Mono::one();
            for &i in idx {
                m = m.times(&Mono::factor(&Expr::ones(self.dims[i].clone()), vec![i]));
            }
            times_all(self.d(a, &[]), &m)
        } else {
            self.d(a, idx)
        }
    }

    /// The derivative of a sum of monomials (free indices untouched): the
    /// product rule over each monomial's factors.
    pub fn d_sum(&mut self, terms: &[Mono]) -> Vec<Mono> {
        let mut out = Vec::new();
        for m in terms {
            for (i, f) in m.factors.iter().enumerate() {
                let mut rest = Mono {
                    coef: m.coef,
                    factors: m.factors.clone(),
                };
                rest.factors.remove(i);
                out.extend(times_all(self.d(&f.e, &f.idx), &rest));
            }
        }
        out
    }
}

/// True for a delta factor (`I` with two indices).
fn is_delta(f: &Factor) -> bool {
    matches!(f.e.node(), Node::Identity) && f.idx.len() == 2
}

/// Removes deltas by renaming: δ(a, b) with `a` summed renames `a` to `b`
/// everywhere (and the other way round); a delta of two free indices stays
/// (it is `I`); δ(k, k) summed is the size of k, `ones(n)'*ones(n)`.
pub(crate) fn eliminate_deltas(m: &mut Mono, free: &[Ix], dims: &[Dim]) {
    loop {
        let mut changed = false;
        for p in 0..m.factors.len() {
            if !is_delta(&m.factors[p]) {
                continue;
            }
            let (a, b) = (m.factors[p].idx[0], m.factors[p].idx[1]);
            if a == b {
                if free.contains(&a) {
                    continue;
                }
                let occurs = m
                    .factors
                    .iter()
                    .enumerate()
                    .any(|(q, f)| q != p && f.idx.contains(&a));
                if occurs {
                    m.factors.remove(p);
                } else {
                    let ones = Expr::ones(dims[a].clone());
                    m.factors[p] = Factor {
                        e: expr::mul(&expr::t(&ones), &ones),
                        idx: vec![],
                    };
                }
                changed = true;
                break;
            }
            let (from, to) = if !free.contains(&a) {
                (a, b)
            } else if !free.contains(&b) {
                (b, a)
            } else {
                continue;
            };
            let elsewhere = |i: Ix| {
                m.factors
                    .iter()
                    .enumerate()
                    .any(|(q, f)| q != p && f.idx.contains(&i))
            };
            if !elsewhere(from) {
                // Σ_from δ(from, to) = 1 for every `to`.
                if elsewhere(to) {
                    m.factors.remove(p);
                } else {
                    m.factors[p] = Factor {
                        e: Expr::ones(dims[to].clone()),
                        idx: vec![to],
                    };
                }
                changed = true;
                break;
            }
            m.factors.remove(p);
            for f in &mut m.factors {
                for i in &mut f.idx {
                    if *i == from {
                        *i = to;
                    }
                }
            }
            changed = true;
            break;
        }
        if !changed {
            return;
        }
    }
}
