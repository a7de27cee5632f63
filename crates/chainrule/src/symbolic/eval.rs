//! Evaluation (once per shared node, iteratively), variables, substitution.

use std::collections::HashMap;

use super::expr::{topo, Expr, FxMap, Node};
use super::simplify;
use crate::error::{Error, Result};
use crate::real::Real;

impl Expr {
    /// The names of the variables, sorted alphabetically.
    pub fn variables(&self) -> Vec<String> {
        let mut names: Vec<String> = topo(&[*self])
            .into_iter()
            .filter_map(|e| match e.node() {
                Node::Sym(s) => Some(s.to_string()),
                _ => None,
            })
            .collect();
        names.sort();
        names
    }

    /// The value at a point; a variable missing from `point` is an error
    /// naming it. Undefined values follow IEEE (log 0 = -inf, 0/0 = NaN).
    pub fn eval(&self, point: &HashMap<String, f64>) -> Result<f64> {
        self.eval_with(|name| point.get(name).copied())
    }

    /// The value with any [`Real`] (f64, dual numbers, Taylor series,
    /// tensors): each shared node is evaluated once, children before parents,
    /// without recursion. `env` gives each variable's value.
    pub fn eval_with<T: Real>(&self, env: impl Fn(&str) -> Option<T>) -> Result<T> {
        self.check_live()?;
        let order = topo(&[*self]);
        let mut values: FxMap<Expr, T> = FxMap::default();
        for &e in &order {
            let v = {
                let get = |c: &Expr| values[c].clone();
                match e.node() {
                    Node::Num(n) => T::from_f64(n.to_f64()),
                    Node::Const(c) => T::from_f64(c.value()),
                    Node::Sym(s) => env(&s).ok_or_else(|| Error::UnboundVariable {
                        name: s.to_string(),
                        span: None,
                    })?,
                    Node::Add(ts) => {
                        let mut acc = get(&ts[0]);
                        for t in &ts[1..] {
                            acc = acc + get(t);
                        }
                        acc
                    }
                    Node::Mul(fs) => product(&fs, &values),
                    Node::Pow([b, x]) => power(&get(&b), x, &values),
                    Node::Unary(op, a) => get(&a).unary(op),
                    Node::Binary(op, [a, b]) => get(&a).binary(op, &get(&b)),
                }
            };
            values.insert(e, v);
        }
        Ok(values.remove(self).expect("the root is evaluated last"))
    }

    /// This formula with every occurrence of the variable `var` replaced by
    /// `value`, re-canonicalised.
    pub fn subs(&self, var: &str, value: &Expr) -> Expr {
        let target = Expr::var(var);
        self.rebuild(|e| (e == target).then_some(*value))
    }

    /// Rebuilds the DAG bottom-up through the canonical constructors,
    /// replacing each node for which `replace` answers (iteratively).
    pub(crate) fn rebuild(&self, replace: impl Fn(Expr) -> Option<Expr>) -> Expr {
        let order = topo(&[*self]);
        let mut new: FxMap<Expr, Expr> = FxMap::default();
        for &e in &order {
            let v = match replace(e) {
                Some(r) => r,
                None => {
                    let m = |c: &Expr| new[c];
                    match e.node() {
                        Node::Num(_) | Node::Const(_) | Node::Sym(_) => e,
                        Node::Add(ts) => simplify::add(ts.iter().map(m)),
                        Node::Mul(fs) => simplify::mul(fs.iter().map(m)),
                        Node::Pow([b, x]) => simplify::pow(m(&b), m(&x)),
                        Node::Unary(op, a) => simplify::unary(op, m(&a)),
                        Node::Binary(op, [a, b]) => simplify::binary(op, m(&a), m(&b)),
                    }
                }
            };
            new.insert(e, v);
        }
        new[self]
    }
}

/// A product, dividing by factors with negative integer powers (one division
/// instead of a reciprocal and a multiplication).
fn product<T: Real>(fs: &[Expr], values: &FxMap<Expr, T>) -> T {
    let mut numer: Option<T> = None;
    let mut denom: Option<T> = None;
    // Strong zeros: an exact zero factor makes the product 0 whatever the
    // others are (the value the simplifier's 0·x = 0 gives when it folds).
    let times = |acc: Option<T>, v: T| {
        Some(match acc {
            Some(a) => a.strong_mul(&v),
            None => v,
        })
    };
    for f in fs {
        match f.node() {
            Node::Pow([b, x]) if x.as_num().and_then(|k| k.as_int()).is_some_and(|k| k < 0) => {
                let k = x.as_num().and_then(|k| k.as_int()).unwrap_or(-1);
                let v = &values[&b];
                let d = if k == -1 {
                    v.clone()
                } else {
                    match i32::try_from(-k) {
                        Ok(n) => v.powi(n),
                        // Beyond i32 (x^-3000000000): pow, which is exact
                        // for integral exponents, never a clamped one.
                        Err(_) => v.powf(-(k as f64)),
                    }
                };
                denom = times(denom, d);
            }
            _ => numer = times(numer, values[f].clone()),
        }
    }
    match (numer, denom) {
        (Some(n), Some(d)) => n.strong_div(&d),
        (Some(n), None) => n,
        (None, Some(d)) => d.recip(),
        (None, None) => T::from_f64(1.0),
    }
}

/// base^x with integer exponents as `powi`, 1/2 as `sqrt`.
fn power<T: Real>(b: &T, x: Expr, values: &FxMap<Expr, T>) -> T {
    match x.as_num() {
        Some(k) => match k.as_int().and_then(|n| i32::try_from(n).ok()) {
            Some(n) => b.powi(n),
            None if k == super::num::Num::rational(1, 2) => b.sqrt(),
            None => b.powf(k.to_f64()),
        },
        None => b.pow(&values[&x]),
    }
}
