//! From the index form back to matrix notation, by pattern:
//! `A_ik B_kj → A*B`, `A_ki B_kj → A'*B`, `u_k v_k → u'*v`,
//! `A_ij B_ij → A.*B`, `u_i v_j → u*v'`, `A_kk → tr(A)`, `A_ii → diag(A)`,
//! `u_i A_ij → diag(u)*A`, a lone summed index → `sum` or a product with
//! `ones(n)`. A monomial that keeps three or more axes has no matrix form.

use super::expr::{self, Dim, Expr};
use super::index::{Factor, Ix, Mono};

/// Why a monomial could not be translated.
#[derive(Debug)]
pub(crate) struct NoMatrixForm;

fn count(fs: &[Factor], k: Ix) -> usize {
    fs.iter().filter(|f| f.idx.contains(&k)).count()
}

/// `f` as a matrix whose last axis is `k`: (expression, other index).
fn k_last(f: &Factor, k: Ix) -> (Expr, Option<Ix>) {
    match f.idx.as_slice() {
        [_] => (expr::t(&f.e), None),
        [i, kk] if *kk == k => (f.e.clone(), Some(*i)),
        [kk, i] if *kk == k => (expr::t(&f.e), Some(*i)),
        _ => (f.e.clone(), None),
    }
}

/// `f` as a matrix whose first axis is `k`.
fn k_first(f: &Factor, k: Ix) -> (Expr, Option<Ix>) {
    match f.idx.as_slice() {
        [_] => (f.e.clone(), None),
        [kk, j] if *kk == k => (f.e.clone(), Some(*j)),
        [j, kk] if *kk == k => (expr::t(&f.e), Some(*j)),
        _ => (f.e.clone(), None),
    }
}

/// A factor from an expression and its indices, a vector as a column.
fn column(e: Expr, idx: Vec<Ix>) -> Factor {
    let e = if idx.len() == 1 && e.shape().rows == Dim::One {
        expr::t(&e)
    } else {
        e
    };
    Factor { e, idx }
}

/// Contracts `f` and `g` over their shared summed index `k`.
fn contract(f: &Factor, g: &Factor, k: Ix) -> Factor {
    let (l, i) = k_last(f, k);
    let (r, j) = k_first(g, k);
    let e = expr::mul(&l, &r);
    column(e, i.into_iter().chain(j).collect())
}

/// The elementwise product of two factors whose index sets nest.
fn hadamard(f: &Factor, g: &Factor) -> Option<Factor> {
    let (a, b) = (&f.idx, &g.idx);
    if a.len() == b.len() {
        if a == b {
            return Some(Factor {
                e: expr::elem(crate::BinaryOp::Mul, &f.e, &g.e),
                idx: a.clone(),
            });
        }
        if a.len() == 2 && a[0] == b[1] && a[1] == b[0] {
            return Some(Factor {
                e: expr::elem(crate::BinaryOp::Mul, &f.e, &expr::t(&g.e)),
                idx: a.clone(),
            });
        }
        return None;
    }
    let (v, m) = if a.len() == 1 { (f, g) } else { (g, f) };
    if v.idx.len() != 1 || m.idx.len() != 2 {
        return None;
    }
    let i = v.idx[0];
    if m.idx[0] == i {
        Some(Factor {
            e: expr::mul(&expr::diag(&v.e), &m.e),
            idx: m.idx.clone(),
        })
    } else if m.idx[1] == i {
        Some(Factor {
            e: expr::mul(&m.e, &expr::diag(&v.e)),
            idx: m.idx.clone(),
        })
    } else {
        None
    }
}

/// The matrix expression of one monomial whose free indices are `out`.
pub(crate) fn translate(m: &Mono, out: &[Ix], dims: &[Dim]) -> Result<Expr, NoMatrixForm> {
    if out.len() > 2 {
        return Err(NoMatrixForm);
    }
    let mut scalars: Vec<Expr> = Vec::new();
    let mut fs: Vec<Factor> = m.factors.clone();
    loop {
        fs.retain(|f| {
            if f.idx.is_empty() {
                scalars.push(f.e.clone());
                false
            } else {
                true
            }
        });
        // A_kk: a trace, or a diagonal when k is used elsewhere.
        if let Some(p) = fs
            .iter()
            .position(|f| f.idx.len() == 2 && f.idx[0] == f.idx[1])
        {
            let k = fs[p].idx[0];
            let elsewhere = out.contains(&k) || count(&fs, k) > 1;
            if elsewhere {
                fs[p] = Factor {
                    e: expr::diag_of(&fs[p].e),
                    idx: vec![k],
                };
            } else {
                scalars.push(expr::tr(&fs[p].e));
                fs.remove(p);
            }
            continue;
        }
        // A summed index in exactly two factors: a product.
        let mut done = false;
        'outer: for p in 0..fs.len() {
            for &k in &fs[p].idx.clone() {
                if out.contains(&k) || count(&fs, k) != 2 {
                    continue;
                }
                let q = (0..fs.len())
                    .find(|&q| q != p && fs[q].idx.contains(&k))
                    .expect("second factor");
                let c = contract(&fs[p], &fs[q], k);
                let (hi, lo) = if p > q { (p, q) } else { (q, p) };
                fs.remove(hi);
                fs.remove(lo);
                fs.push(c);
                done = true;
                break 'outer;
            }
        }
        if done {
            continue;
        }
        // An index shared by factors whose index sets nest: elementwise.
        'had: for p in 0..fs.len() {
            for q in p + 1..fs.len() {
                if !fs[p].idx.iter().any(|i| fs[q].idx.contains(i)) {
                    continue;
                }
                if let Some(h) = hadamard(&fs[p], &fs[q]) {
                    fs.remove(q);
                    fs.remove(p);
                    fs.push(h);
                    done = true;
                    break 'had;
                }
            }
        }
        if done {
            continue;
        }
        // A summed index in one factor only: a sum.
        if let Some((p, k)) = fs.iter().enumerate().find_map(|(p, f)| {
            f.idx
                .iter()
                .find(|k| !out.contains(k) && count(&fs, **k) == 1)
                .map(|k| (p, *k))
        }) {
            let f = fs.remove(p);
            let ones = Expr::ones(dims[k].clone());
            if f.idx.len() == 1 {
                scalars.push(expr::sum(&f.e));
            } else {
                let (e, i) = k_last(&f, k);
                fs.push(column(expr::mul(&e, &ones), i.into_iter().collect()));
            }
            continue;
        }
        break;
    }
    // What is left has only free indices, each once.
    if fs.iter().any(|f| f.idx.iter().any(|i| !out.contains(i))) {
        return Err(NoMatrixForm);
    }
    let (e, idx) = match fs.len() {
        0 => (Expr::num(1.0), vec![]),
        1 => (fs[0].e.clone(), fs[0].idx.clone()),
        2 if fs[0].idx.len() == 1 && fs[1].idx.len() == 1 => (
            expr::mul(&fs[0].e, &expr::t(&fs[1].e)),
            vec![fs[0].idx[0], fs[1].idx[0]],
        ),
        _ => return Err(NoMatrixForm),
    };
    let e = if idx.as_slice() == out {
        e
    } else if idx.len() == 2 && idx[0] == out[1] && idx[1] == out[0] {
        expr::t(&e)
    } else {
        return Err(NoMatrixForm);
    };
    let mut r = e;
    for s in scalars.iter().rev() {
        r = expr::mul(s, &r);
    }
    Ok(expr::mul(&Expr::num(m.coef), &r))
}
