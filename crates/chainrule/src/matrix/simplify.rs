//! Simplification of a sum of matrix terms: like terms collected, a common
//! coefficient, a common left or right factor pulled out
//! (`A'*(A*x) - A'*b = A'*(A*x - b)`, `1/2*A + 1/2*A' = 1/2*(A + A')`); a
//! symmetric `A` is its own transpose, so `(A + A')/2 = A` for it.

use super::expr::{self, Expr, Node};

/// The terms of a sum, each with its numeric coefficient.
fn terms(e: &Expr, c: f64, out: &mut Vec<(f64, Expr)>) {
    match e.node() {
        Node::Add(a, b) if a.shape() == b.shape() => {
            terms(a, c, out);
            terms(b, c, out);
        }
        Node::Sub(a, b) if a.shape() == b.shape() => {
            terms(a, c, out);
            terms(b, -c, out);
        }
        Node::Neg(a) => terms(a, -c, out),
        Node::Mul(k, a) if k.as_num().is_some() => terms(a, c * k.as_num().unwrap_or(1.0), out),
        _ if e.is_zero() => {}
        _ => out.push((c, e.clone())),
    }
}

/// The factors of a product, in order (scaling and matrix products alike).
fn chain(e: &Expr, out: &mut Vec<Expr>) {
    match e.node() {
        // A scalar made of non-scalars (u'*v) is one factor.
        Node::Mul(a, _) if e.is_scalar() && !a.is_scalar() => out.push(e.clone()),
        Node::Mul(a, b) => {
            chain(a, out);
            chain(b, out);
        }
        _ => out.push(e.clone()),
    }
}

fn product(fs: &[Expr]) -> Expr {
    let mut r = fs[fs.len() - 1].clone();
    for f in fs[..fs.len() - 1].iter().rev() {
        r = expr::mul(f, &r);
    }
    r
}

/// `P*inv(P)` and `inv(P)*P` next to each other in a product are `I`.
fn cancel_inverses(e: &Expr) -> Expr {
    if !matches!(e.node(), Node::Mul(..)) {
        return e.clone();
    }
    let mut fs = Vec::new();
    chain(e, &mut fs);
    let inverse = |p: &Expr, q: &Expr| {
        !p.is_scalar()
            && (matches!(p.node(), Node::Inv(x) if x == q)
                || matches!(q.node(), Node::Inv(x) if x == p))
    };
    let mut changed = false;
    let mut i = 0;
    while i + 1 < fs.len() {
        if inverse(&fs[i], &fs[i + 1]) && fs.len() > 2 {
            fs.drain(i..i + 2);
            changed = true;
            i = i.saturating_sub(1);
        } else {
            i += 1;
        }
    }
    if changed {
        product(&fs)
    } else {
        e.clone()
    }
}

/// Whether the rests left after pulling out a factor all have one shape
/// (`c*C + M*C` does not factor as `(c + M)*C`: `c + M` would broadcast).
fn one_shape(ts: &[(f64, Expr)]) -> bool {
    ts.iter().all(|(_, t)| t.shape() == ts[0].1.shape())
}

/// Simplifies every sum in `e`, bottom up.
pub fn simplify(e: &Expr) -> Expr {
    let kids: Vec<Expr> = e.children().iter().map(simplify).collect();
    let e = if kids.is_empty() {
        e.clone()
    } else {
        e.with_children(&kids)
    };
    let e = cancel_inverses(&e);
    match e.node() {
        Node::Add(..) | Node::Sub(..) | Node::Neg(_) | Node::Mul(..) => {
            let mut ts = Vec::new();
            terms(&e, 1.0, &mut ts);
            if ts.is_empty() {
                return Expr::zeros(e.shape().clone());
            }
            sum_of(ts, &e)
        }
        _ => e,
    }
}

/// Rebuilds a sum from its terms, collecting and factoring.
fn sum_of(ts: Vec<(f64, Expr)>, like: &Expr) -> Expr {
    // Like terms.
    let mut merged: Vec<(f64, Expr)> = Vec::new();
    for (c, t) in ts {
        match merged.iter_mut().find(|(_, u)| *u == t) {
            Some(m) => m.0 += c,
            None => merged.push((c, t)),
        }
    }
    merged.retain(|(c, _)| *c != 0.0);
    build(merged, like)
}

fn build(ts: Vec<(f64, Expr)>, like: &Expr) -> Expr {
    if ts.is_empty() {
        return Expr::zeros(like.shape().clone());
    }
    if ts.len() == 1 {
        return expr::mul(&Expr::num(ts[0].0), &ts[0].1);
    }
    // A common coefficient.
    let c0 = ts[0].0.abs();
    if c0 != 1.0 && ts.iter().all(|(c, _)| c.abs() == c0) {
        let inner = ts.iter().map(|(c, t)| (c / c0, t.clone())).collect();
        return expr::mul(&Expr::num(c0), &build(inner, like));
    }
    // A common left or right factor.
    let chains: Vec<Vec<Expr>> = ts
        .iter()
        .map(|(_, t)| {
            let mut v = Vec::new();
            chain(t, &mut v);
            v
        })
        .collect();
    if chains.iter().all(|c| c.len() >= 2) {
        let first = &chains[0][0];
        if chains.iter().all(|c| c[0] == *first) {
            let inner: Vec<(f64, Expr)> = ts
                .iter()
                .zip(&chains)
                .map(|((c, _), ch)| (*c, product(&ch[1..])))
                .collect();
            if one_shape(&inner) {
                let inner_like = inner[0].1.clone();
                return expr::mul(first, &sum_of(inner, &inner_like));
            }
        }
        let last = &chains[0][chains[0].len() - 1];
        if chains.iter().all(|c| c[c.len() - 1] == *last) {
            let inner: Vec<(f64, Expr)> = ts
                .iter()
                .zip(&chains)
                .map(|((c, _), ch)| (*c, product(&ch[..ch.len() - 1])))
                .collect();
            if one_shape(&inner) {
                let inner_like = inner[0].1.clone();
                return expr::mul(&sum_of(inner, &inner_like), last);
            }
        }
    }
    // Some terms share a left or right factor: group them.
    for right in [true, false] {
        let end = |c: &Vec<Expr>| {
            if right {
                c[c.len() - 1].clone()
            } else {
                c[0].clone()
            }
        };
        for i in 0..ts.len() {
            if chains[i].len() < 2 {
                continue;
            }
            let f = end(&chains[i]);
            let group: Vec<usize> = (0..ts.len())
                .filter(|&j| chains[j].len() >= 2 && end(&chains[j]) == f)
                .collect();
            if group.len() < 2 || group.len() == ts.len() {
                continue;
            }
            let inner: Vec<(f64, Expr)> = group
                .iter()
                .map(|&j| {
                    let ch = &chains[j];
                    let rest = if right { &ch[..ch.len() - 1] } else { &ch[1..] };
                    (ts[j].0, product(rest))
                })
                .collect();
            if !one_shape(&inner) {
                continue;
            }
            let inner_like = inner[0].1.clone();
            let s = sum_of(inner, &inner_like);
            let grouped = if right {
                expr::mul(&s, &f)
            } else {
                expr::mul(&f, &s)
            };
            let mut rest: Vec<(f64, Expr)> = vec![(1.0, grouped)];
            rest.extend(
                (0..ts.len())
                    .filter(|j| !group.contains(j))
                    .map(|j| ts[j].clone()),
            );
            return build(rest, like);
        }
    }
    // A plain sum, positive terms first.
    let mut ordered: Vec<&(f64, Expr)> = ts.iter().filter(|(c, _)| *c > 0.0).collect();
    ordered.extend(ts.iter().filter(|(c, _)| *c < 0.0));
    let (c, t) = ordered[0];
    let mut acc = expr::mul(&Expr::num(*c), t);
    for (c, t) in &ordered[1..] {
        acc = if *c < 0.0 {
            expr::sub(&acc, &expr::mul(&Expr::num(-c), t))
        } else {
            expr::add(&acc, &expr::mul(&Expr::num(*c), t))
        };
    }
    acc
}
